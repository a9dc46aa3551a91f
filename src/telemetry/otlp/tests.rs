use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prost::Message as _;

use super::proto::{any_value, ExportTraceServiceRequest, Span, SpanKind, StatusCode};
use super::*;
use crate::cassette::{Body, Request, Response, Scope, StreamEvent, Timing};

fn interaction(scope: Scope, status: u16) -> Interaction {
    Interaction {
        id: 3,
        recorded_at: "2026-01-02T03:04:05Z".into(),
        request: Request {
            method: "POST".into(),
            upstream: "openai".into(),
            path: "/v1/chat/completions".into(),
            headers: Default::default(),
            body: Some(Body::Json(serde_json::json!({
                "model": "gpt-4o-mini", "max_tokens": 50, "temperature": 0.5,
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hello [EMAIL]"}
                ]
            }))),
        },
        response: Response {
            status,
            headers: Default::default(),
            body: Some(Body::Json(serde_json::json!({
                "id": "chatcmpl-1", "model": "gpt-4o-mini-2024",
                "choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 2}
            }))),
            stream: None,
            incomplete: false,
        },
        timing: Some(Timing {
            ttfb_ms: 10,
            total_ms: 250,
        }),
        scope,
        usage: None,
        redactions: Vec::new(),
        decisions: Vec::new(),
    }
}

fn scope(session: &str, step: &str, parent: Option<&str>) -> Scope {
    Scope {
        organization: Some("acme".into()),
        service: Some("checkout".into()),
        session: Some(session.into()),
        step: Some(step.into()),
        parent_step: parent.map(str::to_string),
    }
}

fn build(interaction: &Interaction, content: bool) -> Span {
    encoded(
        span::Source {
            cassette: "c",
            interaction,
            end_unix_nano: 5_000_000_000,
            replay: None,
        },
        content,
    )
}

/// The span of `source` as an endpoint reads it: encoded in a batch's request, decoded with
/// the prost types; the span's own bytes are also what prost writes for what it decoded
/// (fields in order, the same presence).
fn encoded(source: span::Source<'_>, content: bool) -> Span {
    let mut own = Vec::new();
    span::encode(source, content, &mut own);
    let span = Span::decode(own.as_slice()).expect("the span decodes");
    assert_eq!(span.encode_to_vec(), own, "prost writes the same bytes");

    let mut batch = Batch::default();
    batch.push(source, content);
    let request =
        ExportTraceServiceRequest::decode(batch.request("svc")).expect("the request decodes");
    let [resource] = &request.resource_spans[..] else {
        panic!("one resource: {request:?}");
    };
    let [scope] = &resource.scope_spans[..] else {
        panic!("one scope: {resource:?}");
    };
    assert_eq!(scope.spans, std::slice::from_ref(&span));
    span
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a any_value::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn string(span: &Span, key: &str) -> Option<String> {
    match attribute(span, key) {
        Some(any_value::Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

#[test]
fn a_span_carries_the_genai_attributes_and_round_trips_through_protobuf() {
    let span = build(&interaction(scope("s1", "root", None), 200), false);
    assert_eq!(span.name, "chat gpt-4o-mini");
    assert_eq!(span.kind, SpanKind::Client as i32);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        250_000_000
    );
    assert_eq!(
        string(&span, attributes::OPERATION_NAME).as_deref(),
        Some("chat")
    );
    assert_eq!(
        string(&span, attributes::PROVIDER_NAME).as_deref(),
        Some("openai")
    );
    assert_eq!(
        string(&span, attributes::RESPONSE_MODEL).as_deref(),
        Some("gpt-4o-mini-2024")
    );
    assert_eq!(
        string(&span, attributes::RESPONSE_ID).as_deref(),
        Some("chatcmpl-1")
    );
    assert_eq!(
        string(&span, attributes::CONVERSATION_ID).as_deref(),
        Some("s1")
    );
    assert_eq!(
        string(&span, attributes::TF_ORGANIZATION).as_deref(),
        Some("acme")
    );
    assert_eq!(
        attribute(&span, attributes::USAGE_INPUT_TOKENS),
        Some(&any_value::Value::IntValue(7))
    );
    assert_eq!(
        attribute(&span, attributes::REQUEST_MAX_TOKENS),
        Some(&any_value::Value::IntValue(50))
    );
    match attribute(&span, attributes::RESPONSE_FINISH_REASONS) {
        Some(any_value::Value::ArrayValue(array)) => assert_eq!(
            array.values[0].value,
            Some(any_value::Value::StringValue("stop".into()))
        ),
        other => panic!("finish reasons: {other:?}"),
    }
    assert!(attribute(&span, attributes::INPUT_MESSAGES).is_none());
    assert!(attribute(&span, attributes::ERROR_TYPE).is_none());
}

/// Pushes the spans of `count` recordings (ids 0, 1, …) into `batch`.
fn push_recordings(batch: &mut Batch, count: u64) {
    for id in 0..count {
        let mut i = interaction(Scope::default(), 200);
        i.id = id;
        batch.push(
            span::Source {
                cassette: "c",
                interaction: &i,
                end_unix_nano: 1,
                replay: None,
            },
            false,
        );
    }
}

#[test]
fn a_request_names_the_service_and_the_scope() {
    let mut batch = Batch::default();
    push_recordings(&mut batch, 3);
    assert_eq!(batch.len(), 3);
    let request = ExportTraceServiceRequest::decode(batch.request("svc")).unwrap();
    let resource = &request.resource_spans[0];
    let service = &resource.resource.as_ref().unwrap().attributes[0];
    assert_eq!(service.key, "service.name");
    assert_eq!(
        service.value.as_ref().unwrap().value,
        Some(any_value::Value::StringValue("svc".into()))
    );
    let scope = &resource.scope_spans[0];
    let name = scope.scope.as_ref().unwrap();
    assert_eq!(
        (name.name.as_str(), name.version.as_str()),
        ("traceforge", env!("CARGO_PKG_VERSION"))
    );
    let ids: Vec<_> = scope.spans.iter().map(|s| s.span_id.clone()).collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2],
        "one span per interaction"
    );
}

#[test]
fn one_batch_makes_request_after_request_in_the_same_buffer() {
    let shape = |request: &bytes::Bytes| {
        let request = ExportTraceServiceRequest::decode(request.clone()).expect("decodes");
        let resource = &request.resource_spans[0];
        let service = &resource.resource.as_ref().unwrap().attributes[0];
        let Some(any_value::Value::StringValue(service)) = &service.value.as_ref().unwrap().value
        else {
            panic!("a string: {service:?}");
        };
        let spans = resource.scope_spans[0].spans.len();
        (service.clone(), spans)
    };
    let mut batch = Batch::default();
    push_recordings(&mut batch, 3);
    let first = batch.request("svc");
    assert!(batch.is_empty());
    assert_eq!(shape(&first), ("svc".into(), 3));
    let at = first.as_ptr();
    batch.reuse(first);

    // The same spans again: written where the first request's were, nothing left of it.
    push_recordings(&mut batch, 3);
    let again = batch.request("svc");
    assert_eq!(shape(&again), ("svc".into(), 3));
    assert_eq!(again.as_ptr(), at, "the buffer is reused");

    // Held elsewhere (a client that still has the body): the next batch has a buffer of its
    // own, and the held request is untouched.
    let held = again.clone();
    batch.reuse(again);
    push_recordings(&mut batch, 1);
    let other = batch.request("svc");
    assert_ne!(other.as_ptr(), at);
    assert_eq!(shape(&held), ("svc".into(), 3));
    assert_eq!(shape(&other), ("svc".into(), 1));
    batch.reuse(other);

    // A service name longer than the room kept for the framing, then a short one again.
    let long = "s".repeat(1000);
    push_recordings(&mut batch, 2);
    let request = batch.request(&long);
    assert_eq!(shape(&request), (long.clone(), 2));
    batch.reuse(request);
    push_recordings(&mut batch, 129);
    let request = batch.request("svc");
    assert_eq!(shape(&request), ("svc".into(), 129));
    batch.reuse(request);
    assert_eq!(shape(&batch.request("svc")), ("svc".into(), 0));

    // A request never handed back: the batch goes on in a buffer of its own.
    push_recordings(&mut batch, 2);
    let dropped = batch.request("svc");
    push_recordings(&mut batch, 1);
    assert_eq!(shape(&batch.request("svc")), ("svc".into(), 1));
    assert_eq!(shape(&dropped), ("svc".into(), 2));

    // Handed back late, after new spans: they stay, and go out whole.
    let late = batch.request("svc");
    push_recordings(&mut batch, 2);
    batch.reuse(late);
    assert_eq!(batch.len(), 2);
    assert_eq!(shape(&batch.request("svc")), ("svc".into(), 2));
}

#[test]
fn field_numbers_match_the_official_definitions() {
    // Bytes written by hand from trace.proto: trace_id = 1 (bytes), name = 5 (string),
    // kind = 6 (varint), start = 7 (fixed64).
    let span = Span {
        trace_id: vec![0xAB],
        name: "x".into(),
        kind: SpanKind::Client as i32,
        start_time_unix_nano: 1,
        ..Span::default()
    };
    assert_eq!(
        span.encode_to_vec(),
        [
            0x0A, 1, 0xAB, // 1: trace_id
            0x2A, 1, b'x', // 5: name
            0x30, 3, // 6: kind CLIENT
            0x39, 1, 0, 0, 0, 0, 0, 0, 0, // 7: start_time_unix_nano
        ]
    );
}

/// The ids are SHA-256 of `traceforge-otlp-id\0`, the salt, and each part as a big-endian u64
/// length and its bytes; the figures below come from Python's hashlib, so a change to how ids
/// are derived (which would split live spans from backfilled ones) fails here.
#[test]
fn ids_are_the_documented_digests() {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let ids = |scope: Scope, replay| {
        let i = interaction(scope, 200);
        span::Ids::of(span::Source {
            cassette: "c",
            interaction: &i,
            end_unix_nano: 1,
            replay,
        })
    };
    let alone = ids(Scope::default(), None);
    assert_eq!(hex(&alone.trace), "7a52205ac23468562314f264dd382ef9");
    assert_eq!(hex(&alone.span), "7a52205ac2346856");
    assert_eq!(alone.parent, None);
    let no_step = ids(
        Scope {
            session: Some("s1".into()),
            ..Scope::default()
        },
        None,
    );
    assert_eq!(hex(&no_step.trace), "7e7bd8993db7c45af93a7ca4141b1c4b");
    assert_eq!(hex(&no_step.span), "7a52205ac2346856");
    let salted = ids(
        scope("s1", "search", Some("plan")),
        Some(span::Replay { run: 42, served: 7 }),
    );
    assert_eq!(hex(&salted.trace), "afffa47734a92ca42b559757585b6ba2");
    assert_eq!(hex(&salted.span), "c97ca17669797fab");
    assert_eq!(
        salted.parent.map(|p| hex(&p)).as_deref(),
        Some("0268afec12118591")
    );
}

#[test]
fn steps_link_to_their_parents_without_state() {
    let parent = build(&interaction(scope("s1", "plan", None), 200), false);
    let child = build(
        &interaction(scope("s1", "search", Some("plan")), 200),
        false,
    );
    let other = build(&interaction(scope("s2", "plan", None), 200), false);
    assert_eq!(parent.trace_id, child.trace_id);
    assert_eq!(child.parent_span_id, parent.span_id);
    assert!(parent.parent_span_id.is_empty());
    assert_ne!(parent.span_id, child.span_id);
    assert_ne!(other.trace_id, parent.trace_id);
    assert_eq!(parent.trace_id.len(), 16);
    assert_eq!(parent.span_id.len(), 8);
    // Without a session, each interaction is its own trace.
    let alone = build(&interaction(Scope::default(), 200), false);
    assert_eq!(alone.trace_id.len(), 16);
    assert_ne!(alone.trace_id, parent.trace_id);
    // A replay run is a trace of its own, linked the same way inside it.
    let replayed = |step, parent_step| {
        let i = interaction(scope("s1", step, parent_step), 200);
        encoded(
            span::Source {
                cassette: "c",
                interaction: &i,
                end_unix_nano: 1,
                replay: Some(span::Replay { run: 42, served: 0 }),
            },
            false,
        )
    };
    let (rp, rc) = (replayed("plan", None), replayed("search", Some("plan")));
    assert_ne!(rp.trace_id, parent.trace_id);
    assert_eq!(rc.parent_span_id, rp.span_id);
}

#[test]
fn failures_set_error_type_and_status() {
    let span = build(&interaction(Scope::default(), 429), false);
    assert_eq!(
        string(&span, attributes::ERROR_TYPE).as_deref(),
        Some("429")
    );
    assert_eq!(span.status.unwrap().code, StatusCode::Error as i32);
    let mut cut = interaction(Scope::default(), 200);
    cut.response.incomplete = true;
    let span = build(&cut, false);
    assert_eq!(
        string(&span, attributes::ERROR_TYPE).as_deref(),
        Some("incomplete_stream")
    );
}

#[test]
fn content_only_when_asked_and_as_stored() {
    let span = build(&interaction(scope("s", "a", None), 200), true);
    let debug = format!("{:?}", attribute(&span, attributes::INPUT_MESSAGES));
    assert!(debug.contains("hello [EMAIL]"), "{debug}");
    let system = format!("{:?}", attribute(&span, attributes::SYSTEM_INSTRUCTIONS));
    assert!(system.contains("be brief"), "{system}");
    let output = format!("{:?}", attribute(&span, attributes::OUTPUT_MESSAGES));
    assert!(
        output.contains("\"hi\"") && output.contains("finish_reason"),
        "{output}"
    );
}

#[test]
fn streamed_answers_name_their_id_and_first_chunk() {
    let mut i = interaction(Scope::default(), 200);
    i.response.body = None;
    i.response.stream = Some(vec![StreamEvent {
        at_ms: 10,
        event: Some("message_start".into()),
        id: None,
        retry: None,
        data: Body::Json(
            serde_json::json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude"}}),
        ),
    }]);
    let span = build(&i, false);
    assert_eq!(
        string(&span, attributes::RESPONSE_ID).as_deref(),
        Some("msg_1")
    );
    assert_eq!(
        attribute(&span, attributes::RESPONSE_TIME_TO_FIRST_CHUNK),
        Some(&any_value::Value::DoubleValue(0.01))
    );
}

#[test]
fn operations_come_from_the_path() {
    for (path, operation) in [
        ("/v1/chat/completions", "chat"),
        ("/v1/messages", "chat"),
        ("/v1/responses?x=1", "chat"),
        ("/v1/completions", "text_completion"),
        ("/v1/embeddings", "embeddings"),
        ("/v1/models", "models"),
        ("/", "request"),
    ] {
        assert_eq!(span::operation(path), operation, "{path}");
    }
}

#[test]
fn the_debug_form_of_a_config_hides_header_values() {
    let config = ExportConfig {
        url: "http://user:pw@h:4318/v1/traces".parse().unwrap(),
        headers: vec![(
            http::HeaderName::from_static("authorization"),
            http::HeaderValue::from_static("Basic c2VjcmV0"),
        )],
        service_name: "traceforge".into(),
        content: false,
    };
    let debug = format!("{config:?}");
    assert!(debug.contains("authorization"));
    assert!(
        !debug.contains("c2VjcmV0") && !debug.contains("pw"),
        "{debug}"
    );
}

#[test]
fn recorded_end_adds_the_total_time_to_the_recording_second() {
    let i = interaction(Scope::default(), 200);
    assert_eq!(recorded_end(&i), 1_767_323_045_000_000_000 + 250_000_000);
}

/// An endpoint that answers the statuses in `script` in turn (then 200), counting requests.
async fn scripted(
    script: Vec<(u16, Option<&'static str>)>,
) -> (crate::server::Running, String, Arc<AtomicU64>) {
    let listener = crate::server::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicU64::new(0));
    let script = Arc::new(script);
    let counter = seen.clone();
    let running = crate::server::Running::spawn(listener, move |request| {
        let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
        let script = script.clone();
        async move {
            assert_eq!(
                request.headers()["content-type"],
                "application/x-protobuf",
                "the OTLP/HTTP content type"
            );
            let (status, retry_after) = script.get(n).copied().unwrap_or((200, None));
            let mut response =
                http::Response::new(crate::server::ResponseBody::full("busy or refused"));
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", http::HeaderValue::from_static(after));
            }
            response
        }
    })
    .unwrap();
    (running, url, seen)
}

fn config(url: &str) -> ExportConfig {
    ExportConfig {
        url: url.parse().unwrap(),
        headers: Vec::new(),
        service_name: "t".into(),
        content: false,
    }
}

#[test]
fn the_sender_retries_what_may_pass_later_and_stops_at_a_refusal() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let spans = || {
            let mut batch = Batch::default();
            batch.push(
                span::Source {
                    cassette: "c",
                    interaction: &interaction(Scope::default(), 200),
                    end_unix_nano: 1,
                    replay: None,
                },
                false,
            );
            batch
        };
        // 503 with Retry-After: 0, then 429, then 200: delivered on the third attempt.
        let (server, url, seen) = scripted(vec![(503, Some("0")), (429, None)]).await;
        let sender = Sender::new(&config(&url)).unwrap();
        assert_eq!(sender.send(&mut spans(), None, None).await.unwrap(), 0);
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        server.stop().await;

        // 400 is final: one attempt.
        let (server, url, seen) = scripted(vec![(400, None)]).await;
        let sender = Sender::new(&config(&url)).unwrap();
        let error = sender.send(&mut spans(), None, None).await.unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("refused the spans: HTTP 400: busy or refused"),
            "{error}"
        );
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        server.stop().await;

        // Always busy: gives up after the bounded attempts.
        let script = vec![(502, Some("0")); send::ATTEMPTS as usize];
        let (server, url, seen) = scripted(script).await;
        let sender = Sender::new(&config(&url)).unwrap();
        let error = sender.send(&mut spans(), None, None).await.unwrap_err();
        assert!(
            error.to_string().contains("still answered HTTP 502"),
            "{error}"
        );
        assert_eq!(seen.load(Ordering::SeqCst), u64::from(send::ATTEMPTS));
        server.stop().await;

        // A deadline shorter than the wait the endpoint asks for: given up, not waited out.
        let (server, url, _) = scripted(vec![(503, Some("30"))]).await;
        let sender = Sender::new(&config(&url)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let error = sender
            .send(&mut spans(), Some(deadline), None)
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Stopped { .. }), "{error}");
        assert!(std::time::Instant::now() < deadline);
        server.stop().await;
    });
}

#[test]
fn the_exporter_counts_what_it_delivers_and_flushes_at_the_end() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (server, url, seen) = scripted(Vec::new()).await;
        let exporter = Exporter::spawn(config(&url)).unwrap();
        let item = Arc::new(interaction(scope("s", "a", None), 200));
        let cassette = Arc::from("c");
        for _ in 0..5 {
            exporter.offer(&cassette, &item, None);
        }
        // Fewer than a batch and before the batch delay: only the end of the run sends them.
        let report = exporter.finish().await;
        assert_eq!(report.counts.exported, 5, "{report:?}");
        assert_eq!(report.counts.dropped + report.counts.failed, 0);
        assert!(seen.load(Ordering::SeqCst) >= 1);
        server.stop().await;
    });
}

#[test]
fn each_replay_outside_a_session_step_is_a_trace_of_its_own() {
    let ids = |scope: Scope, served| {
        span::Ids::of(span::Source {
            cassette: "c",
            interaction: &interaction(scope, 200),
            end_unix_nano: 1,
            replay: Some(span::Replay { run: 42, served }),
        })
    };
    let (first, second) = (ids(Scope::default(), 0), ids(Scope::default(), 1));
    assert_ne!(first.trace, second.trace);
    assert_ne!(first.span, second.span);
    assert_eq!(ids(Scope::default(), 1), second);
    // Every replay of a run its own trace and span, however many (the ids mix which replay
    // it is into one digest of the interaction), and none all zero.
    let mut traces = std::collections::HashSet::new();
    let mut spans = std::collections::HashSet::new();
    for served in (0..20_000).chain([u64::MAX - 1, u64::MAX]) {
        let replay = ids(Scope::default(), served);
        assert!(
            traces.insert(replay.trace),
            "trace of replay {served} repeats"
        );
        assert!(spans.insert(replay.span), "span of replay {served} repeats");
        assert!(replay.span.iter().any(|b| *b != 0));
    }
    // Another interaction's replays are other traces.
    let other = span::Ids::of(span::Source {
        cassette: "d",
        interaction: &interaction(Scope::default(), 200),
        end_unix_nano: 1,
        replay: Some(span::Replay { run: 42, served: 0 }),
    });
    assert!(!traces.contains(&other.trace));
    // In a session without steps: one trace, a span per answer.
    let session = Scope {
        session: Some("s1".into()),
        ..Scope::default()
    };
    let (a, b) = (ids(session.clone(), 0), ids(session.clone(), 1));
    assert_eq!(a.trace, b.trace);
    assert_ne!(a.span, b.span);
    let spans: std::collections::HashSet<_> = (0..20_000)
        .map(|served| ids(session.clone(), served).span)
        .collect();
    assert_eq!(spans.len(), 20_000);
    // A step's ids come from the step alone, so its children still find it.
    assert_eq!(
        ids(scope("s1", "plan", None), 0),
        ids(scope("s1", "plan", None), 5)
    );
}

/// A replay's span made from the remembered fixed part is the span encoded afresh, for every
/// replay of it, and after the memory has started over; a recording's is not remembered.
#[test]
fn remembered_fixed_parts_give_the_spans_a_fresh_encoding_gives() {
    let cassette: Arc<str> = Arc::from("c");
    let recordings: Vec<Arc<Interaction>> = (0..ENCODER_MEMORY + 3)
        .map(|i| {
            let mut interaction = interaction(Scope::default(), [200, 500][i % 2]);
            interaction.id = i as u64;
            Arc::new(interaction)
        })
        .collect();
    for content in [false, true] {
        let mut encoder = Encoder::new(content, 77);
        for served in 0..2 {
            for (i, recorded) in recordings.iter().enumerate() {
                let source = Source {
                    cassette: cassette.clone(),
                    interaction: recorded.clone(),
                };
                let end_unix_nano = 1_000_000_000 + i as u64;
                let mut remembered = Batch::default();
                encoder.push(&mut remembered, &source, end_unix_nano, Some(served));
                let mut fresh = Batch::default();
                fresh.push(
                    span::Source {
                        cassette: "c",
                        interaction: recorded,
                        end_unix_nano,
                        replay: Some(span::Replay { run: 77, served }),
                    },
                    content,
                );
                assert_eq!(remembered.request("s"), fresh.request("s"), "{i} {served}");
            }
        }
        assert!(encoder.fixed.len() <= ENCODER_MEMORY);
        assert!(encoder.fixed_bytes <= ENCODER_MEMORY_BYTES);
        let held: usize = encoder.fixed.values().map(|r| r.fixed.size()).sum();
        assert_eq!(held, encoder.fixed_bytes);
        let recording = Source {
            cassette: cassette.clone(),
            interaction: Arc::new(interaction(Scope::default(), 200)),
        };
        let mut encoder = Encoder::new(content, 77);
        encoder.push(&mut Batch::default(), &recording, 1, None);
        assert!(encoder.fixed.is_empty());
    }
}

/// The queue hands items over oldest first, at most as many as asked, and beyond its
/// capacity refuses what is offered.
#[test]
fn the_queue_keeps_order_and_drops_beyond_its_capacity() {
    let queue = Queue::default();
    let (cassette, recorded) = (Arc::from("c"), Arc::new(interaction(Scope::default(), 200)));
    let offer = |n: u64| queue.offer(&cassette, &recorded, n, None);
    let taken_in: Vec<bool> = (0..QUEUE_CAPACITY as u64 + 5).map(offer).collect();
    assert!(taken_in[..QUEUE_CAPACITY].iter().all(|t| *t));
    assert!(taken_in[QUEUE_CAPACITY..].iter().all(|t| !*t));
    let mut taken = Vec::new();
    queue.take(&mut taken, 3);
    queue.take(&mut taken, BATCH_SPANS);
    let order: Vec<u64> = taken.iter().map(|i| i.end_unix_nano).collect();
    assert_eq!(order, (0..3 + BATCH_SPANS as u64).collect::<Vec<_>>());
    taken.clear();
    queue.take(&mut taken, usize::MAX);
    assert_eq!(taken.len(), QUEUE_CAPACITY - 3 - BATCH_SPANS);
    assert_eq!(taken[0].end_unix_nano, 3 + BATCH_SPANS as u64);
    assert!(offer(1), "room again once taken");
    taken.clear();
    queue.take(&mut taken, usize::MAX);
    assert_eq!(taken.len(), 1, "room again once taken");
}

/// An item repeating the source of the one before it in its thread's buffer does not hold
/// it again; whatever is taken, in whatever pieces, starts with an item that has its source,
/// and every item resolves to the source it was offered with.
#[test]
fn repeated_sources_are_held_once_and_every_taken_piece_starts_with_one() {
    let queue = Queue::default();
    let cassettes: [Arc<str>; 2] = [Arc::from("a"), Arc::from("b")];
    let interactions: Vec<Arc<Interaction>> = (0..2)
        .map(|_| Arc::new(interaction(Scope::default(), 200)))
        .collect();
    // Runs of one source, then another, then the first again, one of each pair of cassette
    // and interaction changing.
    let pattern = [
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 1),
        (0, 1),
        (1, 1),
        (0, 0),
        (0, 0),
        (1, 0),
    ];
    for (n, (c, i)) in pattern.iter().enumerate() {
        assert!(queue.offer(&cassettes[*c], &interactions[*i], n as u64, None));
    }
    let held = |items: &[Item]| items.iter().filter(|i| i.source.is_some()).count();
    let check = |pieces: &[Vec<Item>]| {
        let mut resolved = Vec::new();
        for piece in pieces {
            assert!(piece[0].source.is_some(), "a piece starts with its source");
            let mut source = None;
            for item in piece {
                if let Some(own) = &item.source {
                    source = Some(own.clone());
                }
                let source = source.as_ref().unwrap();
                let c = cassettes
                    .iter()
                    .position(|c| Arc::ptr_eq(c, &source.cassette));
                let i = interactions
                    .iter()
                    .position(|i| Arc::ptr_eq(i, &source.interaction));
                resolved.push((item.end_unix_nano, (c.unwrap(), i.unwrap())));
            }
        }
        let offered: Vec<(u64, (usize, usize))> = pattern
            .iter()
            .enumerate()
            .map(|(n, p)| (n as u64, *p))
            .collect();
        assert_eq!(resolved, offered);
    };
    assert_eq!(queue.buffers.with(|b| b.items.len()), Some(pattern.len()));
    // Taken in pieces that cut runs in the middle.
    let mut pieces = Vec::new();
    for most in [2, 3, 1, usize::MAX] {
        let mut piece = Vec::new();
        queue.take(&mut piece, most);
        pieces.push(piece);
    }
    check(&pieces);
    // Taken whole: five runs, five sources held.
    for (n, (c, i)) in pattern.iter().enumerate() {
        assert!(queue.offer(&cassettes[*c], &interactions[*i], n as u64, None));
    }
    let mut whole = Vec::new();
    queue.take(&mut whole, usize::MAX);
    assert_eq!(held(&whole), 5);
    check(&[whole]);
    // After a piece cut a run, the rest of the run still knows its source: more of it is
    // not held again, another source is.
    let buffered = || {
        queue
            .buffers
            .with(|buffer| (buffer.items.len(), held(&buffer.items)))
            .unwrap()
    };
    for n in 0..4 {
        queue.offer(&cassettes[0], &interactions[0], n, None);
    }
    queue.take(&mut Vec::new(), 2);
    assert_eq!(buffered(), (2, 1));
    queue.offer(&cassettes[0], &interactions[0], 4, None);
    assert_eq!(buffered(), (3, 1));
    queue.offer(&cassettes[1], &interactions[0], 5, None);
    queue.offer(&cassettes[1], &interactions[0], 6, None);
    assert_eq!(buffered(), (5, 2));
    queue.take(&mut Vec::new(), 3);
    queue.offer(&cassettes[1], &interactions[0], 7, None);
    assert_eq!(buffered(), (3, 1));
}

/// Each thread that offers has a buffer of its own, with its own capacity; the export thread
/// takes from all of them, each one's oldest first, at most as many as asked; a new queue
/// holds only its own items.
#[test]
fn each_offering_thread_has_its_own_buffer_and_the_taker_empties_them_all() {
    let (cassette, recorded) = (Arc::from("c"), Arc::new(interaction(Scope::default(), 200)));
    let offer = |queue: &Queue, n: u64| queue.offer(&cassette, &recorded, n, None);
    let queue = Arc::new(Queue::default());
    std::thread::scope(|scope| {
        for thread in 0..3u64 {
            let (queue, offer) = (&queue, &offer);
            scope.spawn(move || {
                // A full buffer on one thread does not refuse the others' items.
                for n in 0..QUEUE_CAPACITY as u64 + 1 {
                    assert_eq!(offer(queue, thread << 32 | n), n < QUEUE_CAPACITY as u64);
                }
            });
        }
    });
    assert_eq!(queue.buffers.len(), 3);
    let mut taken = Vec::new();
    queue.take(&mut taken, QUEUE_CAPACITY + 10);
    assert_eq!(taken.len(), QUEUE_CAPACITY + 10);
    queue.take(&mut taken, 5);
    assert_eq!(
        taken.len(),
        QUEUE_CAPACITY + 15,
        "at most as many as asked, added"
    );
    queue.take(&mut taken, usize::MAX);
    assert_eq!(taken.len(), 3 * QUEUE_CAPACITY);
    for thread in 0..3u64 {
        let own: Vec<u64> = taken
            .iter()
            .map(|i| i.end_unix_nano)
            .filter(|n| n >> 32 == thread)
            .map(|n| n & 0xffff_ffff)
            .collect();
        assert_eq!(own, (0..QUEUE_CAPACITY as u64).collect::<Vec<_>>());
    }
    // A new queue holds only its own items.
    let again = Queue::default();
    assert!(offer(&again, 3));
    let mut from_again = Vec::new();
    again.take(&mut from_again, usize::MAX);
    let ends: Vec<u64> = from_again.iter().map(|i| i.end_unix_nano).collect();
    assert_eq!(ends, [3]);
}
