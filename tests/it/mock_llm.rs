//! The built-in mock LLM over real HTTP, in-process on 127.0.0.1:0: each API plain and
//! streamed, read back with the project's own SSE parser and provider functions (so what the
//! proxy records from it is understood), determinism, the `x-mock-*` test headers, and bad
//! input. Pacing is checked by order only, never by timing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::oneshot;
use traceforge::cassette::{Body, Response};
use traceforge::mock::{self, MockConfig};
use traceforge::provider::{self, sse, ToolCall};

/// The mock on a free loopback port; stops when dropped.
struct Mock {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Mock {
    async fn start(config: MockConfig) -> Mock {
        let listener = traceforge::server::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Arc::new(config);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(traceforge::server::serve(
            listener,
            move |request| mock::handle(config.clone(), request),
            async {
                let _ = stopped.await;
            },
        ));
        Mock { addr, _stop: stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn post(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        self.post_raw(path, body.to_string().into_bytes(), headers)
            .await
    }

    async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Reply {
        let client = reqwest::Client::builder().no_gzip().build().unwrap();
        let mut request = client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::read(request.send().await.unwrap()).await
    }
}

/// A whole response as the client saw it.
#[derive(Debug, Clone, PartialEq)]
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap().to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.bytes)))
    }

    fn events(&self) -> Vec<sse::SseEvent> {
        assert!(
            self.header("content-type").starts_with("text/event-stream"),
            "{self:?}"
        );
        sse::parse_all(&self.bytes)
    }

    /// The response as the recorder stores it: a JSON body, or one entry per event.
    fn recorded(&self) -> Response {
        let is_stream = self.header("content-type").starts_with("text/event-stream");
        let stream = is_stream.then(|| {
            self.events()
                .into_iter()
                .map(|e| e.into_stream_event(0))
                .collect::<Vec<_>>()
        });
        Response {
            status: self.status,
            headers: Default::default(),
            body: (!is_stream).then(|| Body::from_bytes(&self.bytes)),
            stream,
            incomplete: false,
        }
    }
}

fn names(events: &[sse::SseEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.event.as_deref().unwrap_or(""))
        .collect()
}

fn chat(prompt: &str, extra: Value) -> Value {
    let mut body =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]});
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        body[key] = value;
    }
    body
}

fn anthropic(prompt: &str, extra: Value) -> Value {
    let mut body = json!({"model": "claude-3-5-haiku-latest", "max_tokens": 256,
        "messages": [{"role": "user", "content": prompt}]});
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        body[key] = value;
    }
    body
}

fn weather_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
}

const ANTHROPIC: (&str, &str) = ("anthropic-version", "2023-06-01");

#[tokio::test]
async fn chat_completions_plain_and_streamed_say_the_same() {
    let mock = Mock::start(MockConfig::default()).await;
    let plain = mock
        .post(
            "/v1/chat/completions",
            &chat("Tell me a joke about tracing", json!({})),
            &[],
        )
        .await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), "application/json");
    assert!(plain.header("x-request-id").starts_with("req_mock_"));
    let body = plain.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let text = provider::assemble(&plain.recorded()).text;
    assert!(
        text.starts_with("Mock answer to: Tell me a joke about tracing."),
        "{text}"
    );
    let usage = provider::usage(&plain.recorded()).unwrap();
    assert_eq!(usage.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(usage.input_tokens, Some(6));
    assert_eq!(
        usage.output_tokens,
        Some(text.split_whitespace().count() as u64)
    );

    let streamed = mock
        .post(
            "/chat/completions",
            &chat(
                "Tell me a joke about tracing",
                json!({"stream": true, "stream_options": {"include_usage": true}}),
            ),
            &[],
        )
        .await;
    assert_eq!(streamed.status, 200);
    let events = streamed.events();
    assert!(events.len() > 10, "one event per word: {}", events.len());
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let recorded = streamed.recorded();
    assert!(provider::is_terminal(
        recorded.stream.as_ref().unwrap().last().unwrap()
    ));
    let first: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    let usage_chunk: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(
        provider::assemble(&recorded).text,
        text,
        "streamed text equals plain text"
    );
    assert_eq!(
        provider::usage(&recorded),
        provider::usage(&plain.recorded())
    );
}

#[tokio::test]
async fn chat_completions_tool_calls_plain_and_streamed() {
    let mock = Mock::start(MockConfig::default()).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": weather_schema()}}]);
    let expected = vec![ToolCall {
        name: "get_weather".into(),
        arguments: r#"{"city":"Paris"}"#.into(),
    }];
    let plain = mock
        .post(
            "/v1/chat/completions",
            &chat("What is the weather in Paris?", json!({"tools": tools})),
            &[],
        )
        .await;
    assert_eq!(plain.json()["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(provider::assemble(&plain.recorded()).tool_calls, expected);

    let streamed = mock
        .post(
            "/v1/chat/completions",
            &chat(
                "What is the weather in Paris?",
                json!({"tools": tools, "stream": true}),
            ),
            &[],
        )
        .await;
    let assembled = provider::assemble(&streamed.recorded());
    assert_eq!(assembled.tool_calls, expected);
    assert_eq!(assembled.text, "");
    let events = streamed.events();
    let finish: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn responses_api_plain_streamed_and_function_calls() {
    let mock = Mock::start(MockConfig::default()).await;
    let plain = mock
        .post(
            "/v1/responses",
            &json!({"model": "gpt-4.1-mini", "input": "Reply with pong"}),
            &[],
        )
        .await;
    let body = plain.json();
    assert_eq!(
        (body["object"].as_str(), body["status"].as_str()),
        (Some("response"), Some("completed"))
    );
    let text = provider::assemble(&plain.recorded()).text;
    assert!(
        text.starts_with("Mock answer to: Reply with pong."),
        "{text}"
    );
    let usage = provider::usage(&plain.recorded()).unwrap();
    assert_eq!(
        (usage.input_tokens, usage.model.as_deref()),
        (Some(3), Some("gpt-4.1-mini"))
    );

    let streamed = mock
        .post(
            "/v1/responses",
            &json!({"model": "gpt-4.1-mini", "input": "Reply with pong", "stream": true}),
            &[],
        )
        .await;
    let events = streamed.events();
    let order = names(&events);
    assert_eq!(
        order[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        order[order.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for (i, event) in events.iter().enumerate() {
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["sequence_number"], i);
        assert_eq!(data["type"].as_str(), event.event.as_deref());
    }
    let recorded = streamed.recorded();
    assert!(provider::is_terminal(
        recorded.stream.as_ref().unwrap().last().unwrap()
    ));
    assert_eq!(provider::assemble(&recorded).text, text);
    assert_eq!(provider::usage(&recorded), Some(usage));

    let tools =
        json!([{"type": "function", "name": "get_weather", "parameters": weather_schema()}]);
    let call = mock
        .post(
            "/v1/responses",
            &json!({"model": "m", "input": "Weather in Oslo?", "tools": tools, "stream": true}),
            &[],
        )
        .await;
    let call_events = call.events();
    let order = names(&call_events);
    assert!(order.contains(&"response.function_call_arguments.delta"));
    assert!(order.contains(&"response.function_call_arguments.done"));
    assert_eq!(
        provider::assemble(&call.recorded()).tool_calls,
        vec![ToolCall {
            name: "get_weather".into(),
            arguments: r#"{"city":"Oslo"}"#.into()
        }]
    );
}

#[tokio::test]
async fn anthropic_messages_plain_streamed_and_tool_use() {
    let mock = Mock::start(MockConfig::default()).await;
    let plain = mock
        .post(
            "/v1/messages",
            &anthropic("Hello Claude", json!({})),
            &[ANTHROPIC],
        )
        .await;
    assert_eq!(plain.status, 200);
    assert!(plain.header("request-id").starts_with("req_mock_"));
    let body = plain.json();
    assert_eq!(
        (body["type"].as_str(), body["stop_reason"].as_str()),
        (Some("message"), Some("end_turn"))
    );
    let text = provider::assemble(&plain.recorded()).text;
    assert!(text.starts_with("Mock answer to: Hello Claude."), "{text}");

    let streamed = mock
        .post(
            "/v1/messages",
            &anthropic("Hello Claude", json!({"stream": true})),
            &[ANTHROPIC],
        )
        .await;
    let events = streamed.events();
    let order = names(&events);
    assert_eq!(order[..3], ["message_start", "content_block_start", "ping"]);
    assert_eq!(
        order[order.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let recorded = streamed.recorded();
    assert_eq!(provider::assemble(&recorded).text, text);
    assert_eq!(
        provider::usage(&recorded),
        provider::usage(&plain.recorded())
    );
    assert!(provider::is_terminal(
        recorded.stream.as_ref().unwrap().last().unwrap()
    ));

    let tools = json!([{"name": "get_weather", "input_schema": weather_schema()}]);
    let expected = vec![ToolCall {
        name: "get_weather".into(),
        arguments: r#"{"city":"Oslo"}"#.into(),
    }];
    let plain = mock
        .post(
            "/v1/messages",
            &anthropic("What is the weather in Oslo?", json!({"tools": tools})),
            &[ANTHROPIC],
        )
        .await;
    assert_eq!(plain.json()["stop_reason"], "tool_use");
    assert_eq!(provider::assemble(&plain.recorded()).tool_calls, expected);
    let streamed = mock
        .post(
            "/v1/messages",
            &anthropic(
                "What is the weather in Oslo?",
                json!({"tools": tools, "stream": true}),
            ),
            &[ANTHROPIC],
        )
        .await;
    let assembled = provider::assemble(&streamed.recorded());
    assert_eq!(assembled.tool_calls, expected);
    assert_eq!(assembled.text, "I will use the get_weather tool.");
}

#[tokio::test]
async fn identical_requests_get_identical_bytes() {
    let mock = Mock::start(MockConfig::default()).await;
    for (path, body) in [
        ("/v1/chat/completions", chat("same", json!({}))),
        (
            "/v1/chat/completions",
            chat("same", json!({"stream": true})),
        ),
        (
            "/v1/responses",
            json!({"model": "m", "input": "same", "stream": true}),
        ),
        ("/v1/messages", anthropic("same", json!({"stream": true}))),
    ] {
        let a = mock.post(path, &body, &[]).await;
        let b = mock.post(path, &body, &[]).await;
        assert_eq!(a.bytes, b.bytes, "{path} {body}");
        assert_eq!(a.header("x-request-id"), b.header("x-request-id"));
    }
    let one = mock
        .post("/v1/chat/completions", &chat("one", json!({})), &[])
        .await
        .json();
    let two = mock
        .post("/v1/chat/completions", &chat("two", json!({})), &[])
        .await
        .json();
    assert_ne!(one["id"], two["id"], "ids follow the body");
}

#[tokio::test]
async fn status_header_gives_provider_shaped_errors() {
    let mock = Mock::start(MockConfig::default()).await;
    let openai = mock
        .post(
            "/v1/chat/completions",
            &chat("x", json!({})),
            &[("x-mock-status", "429")],
        )
        .await;
    assert_eq!(openai.status, 429);
    assert_eq!(openai.json()["error"]["code"], "rate_limit_exceeded");
    assert!(openai.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x-mock-status"));
    let anthropic = mock
        .post(
            "/v1/messages",
            &anthropic("x", json!({"stream": true})),
            &[("x-mock-status", "529")],
        )
        .await;
    assert_eq!(anthropic.status, 529);
    assert_eq!(anthropic.json()["type"], "error");
    assert_eq!(anthropic.json()["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn stall_header_delays_the_answer() {
    let mock = Mock::start(MockConfig::default()).await;
    // The client gives up long before a 30 s stall ends.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = client
        .post(mock.url("/v1/chat/completions"))
        .header("x-mock-stall-ms", "30000")
        .body(chat("slow", json!({})).to_string())
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    let short = mock
        .post(
            "/v1/chat/completions",
            &chat("slow", json!({})),
            &[("x-mock-stall-ms", "10")],
        )
        .await;
    assert_eq!(short.status, 200);
}

#[tokio::test]
async fn truncate_header_drops_the_terminal_event() {
    let mock = Mock::start(MockConfig::default()).await;
    let cases = [
        ("/v1/chat/completions", chat("cut", json!({"stream": true}))),
        (
            "/v1/responses",
            json!({"model": "m", "input": "cut", "stream": true}),
        ),
        ("/v1/messages", anthropic("cut", json!({"stream": true}))),
    ];
    for (path, body) in cases {
        let whole = mock.post(path, &body, &[]).await.events();
        let cut = mock
            .post(path, &body, &[("x-mock-truncate", "3")])
            .await
            .events();
        assert_eq!(cut, whole[..3], "{path}");
        let most = mock
            .post(path, &body, &[("x-mock-truncate", "100000")])
            .await
            .recorded();
        let events = most.stream.unwrap();
        assert_eq!(events.len(), whole.len() - 1, "{path}");
        assert!(!events.iter().any(provider::is_terminal), "{path}");
    }
}

#[tokio::test]
async fn gzip_header_compresses_plain_bodies() {
    let mock = Mock::start(MockConfig::default()).await;
    let body = chat("squeeze", json!({}));
    let plain = mock.post("/v1/chat/completions", &body, &[]).await;
    let zipped = mock
        .post("/v1/chat/completions", &body, &[("x-mock-gzip", "1")])
        .await;
    assert_eq!(zipped.header("content-encoding"), "gzip");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped.bytes[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain.bytes);
    // A client that accepts gzip sees the same JSON.
    let decoded = reqwest::Client::new()
        .post(mock.url("/v1/chat/completions"))
        .header("x-mock-gzip", "1")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(decoded.to_vec(), plain.bytes);
}

#[tokio::test]
async fn bad_input_gets_clear_provider_shaped_errors() {
    let mock = Mock::start(MockConfig::default()).await;
    let not_json = mock
        .post_raw("/v1/chat/completions", b"this is not json".to_vec(), &[])
        .await;
    assert_eq!(not_json.status, 400);
    assert!(not_json.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    let anthropic_bad = mock
        .post_raw("/v1/messages", b"\xff\xfe".to_vec(), &[ANTHROPIC])
        .await;
    assert_eq!(anthropic_bad.status, 400);
    assert_eq!(
        anthropic_bad.json()["error"]["type"],
        "invalid_request_error"
    );
    let array = mock.post("/v1/responses", &json!([1, 2]), &[]).await;
    assert_eq!(array.status, 400);
    let missing = mock
        .post("/v1/messages", &json!({"model": "m", "messages": []}), &[])
        .await;
    assert_eq!(missing.status, 400);
    assert!(missing.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_tokens"));
    let unknown = mock.post("/v1/embeddings", &json!({}), &[]).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/v1/embeddings"));
    let header = mock
        .post(
            "/v1/chat/completions",
            &chat("x", json!({})),
            &[("x-mock-truncate", "many")],
        )
        .await;
    assert_eq!(header.status, 400);
    assert!(header.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x-mock-truncate"));

    let get = reqwest::get(mock.url("/v1/chat/completions"))
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
    let models: Value = serde_json::from_slice(
        &reqwest::get(mock.url("/v1/models"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(models["object"], "list");
    assert!(models["data"].as_array().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn stream_events_arrive_one_by_one() {
    // The second event is a minute away, so whatever the client has read is the first alone.
    let mock = Mock::start(MockConfig {
        first_event_delay: Duration::ZERO,
        event_delay: Duration::from_secs(60),
    })
    .await;
    let mut response = reqwest::Client::new()
        .post(mock.url("/v1/messages"))
        .header(ANTHROPIC.0, ANTHROPIC.1)
        .body(anthropic("pace", json!({"stream": true})).to_string())
        .send()
        .await
        .unwrap();
    let mut received = Vec::new();
    while !received.windows(2).any(|w| w == b"\n\n") {
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .expect("the first event arrives");
        received.extend_from_slice(&chunk);
    }
    let events = sse::parse_all(&received);
    assert_eq!(names(&events), ["message_start"]);
    // Dropping the response closes the connection; the mock's stream task notices and stops.
    drop(response);
}
