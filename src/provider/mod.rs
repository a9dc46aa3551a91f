//! What OpenAI (Chat Completions, Responses) and Anthropic (Messages) bodies and event streams
//! mean: which event ends a stream, which model and how many tokens a response reports, what the
//! assistant said, and how each provider shapes an error. Pure functions over cassette types.

pub mod sse;

use serde_json::{json, Value};

use crate::cassette::{Body, Response, StreamEvent, Usage};

/// The API family a request speaks, which decides error shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

impl Provider {
    /// `openai` or `anthropic`, as the trace database, the metrics and the log name it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }

    /// Anthropic for the `anthropic` upstream or a Messages path, OpenAI-compatible otherwise.
    pub fn detect(upstream: &str, path: &str) -> Provider {
        if upstream == "anthropic" {
            return Provider::Anthropic;
        }
        // A byte loop: `split('?')` set up a char searcher for every request, twice.
        let path = match path.bytes().position(|b| b == b'?') {
            Some(query) => &path[..query],
            None => path,
        };
        if path.ends_with("/v1/messages") || path == "/messages" {
            Provider::Anthropic
        } else {
            Provider::OpenAi
        }
    }

    /// An error body in the provider's own shape, so SDKs surface `message` to the user.
    pub fn error_body(self, status: u16, kind: &str, message: &str) -> Value {
        match self {
            Provider::OpenAi => json!({
                "error": {"message": message, "type": kind, "param": null, "code": kind}
            }),
            Provider::Anthropic => json!({
                "type": "error",
                "error": {"type": anthropic_error_type(status), "message": message}
            }),
        }
    }
}

fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 | 529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Stores a finished stream's events in `response`, marking it incomplete when the provider's
/// terminal event never came: the one rule for the recorder and the importers alike.
pub fn finish_stream(response: &mut crate::cassette::Response, events: Vec<StreamEvent>) {
    response.incomplete = !events.last().is_some_and(is_terminal);
    response.stream = Some(events);
}

/// True when this event is the provider's normal end of stream.
pub fn is_terminal(event: &StreamEvent) -> bool {
    const TERMINAL: &[&str] = &[
        "message_stop",
        "response.completed",
        "response.failed",
        "response.incomplete",
        "error",
    ];
    if event
        .event
        .as_deref()
        .is_some_and(|e| TERMINAL.contains(&e))
    {
        return true;
    }
    match &event.data {
        Body::Text(text) => text.trim() == "[DONE]",
        Body::Json(value) => value
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| TERMINAL.contains(&t)),
        Body::Base64(_) => false,
    }
}

/// `value[key]` when `value` is an object: a scan of its keys, which for the handful a
/// provider's message has costs a tenth of hashing `key` (serde_json's map hashes with
/// SipHash; `otlp encode` spent a third of a span's time there). Large objects are hashed.
pub fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    if object.len() > 16 {
        return object.get(key);
    }
    object.iter().find_map(|(k, v)| (k == key).then_some(v))
}

/// Model and token counts reported anywhere in a response, for every supported API.
/// Later reports win, so a stream's final usage overrides its opening estimate.
pub fn usage(response: &Response) -> Option<Usage> {
    let mut usage = Usage::default();
    let mut visit = |value: &Value| {
        for candidate in [
            Some(value),
            field(value, "response"),
            field(value, "message"),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(model) = field(candidate, "model").and_then(Value::as_str) {
                usage.model = Some(model.to_string());
            }
            if let Some(counts) = field(candidate, "usage").filter(|u| u.is_object()) {
                let pick = |names: &[&str]| names.iter().find_map(|n| field(counts, n)?.as_u64());
                if let Some(n) = pick(&["input_tokens", "prompt_tokens"]) {
                    usage.input_tokens = Some(n);
                }
                if let Some(n) = pick(&["output_tokens", "completion_tokens"]) {
                    usage.output_tokens = Some(n);
                }
            }
        }
    };
    if let Some(Body::Json(value)) = &response.body {
        visit(value);
    }
    for event in response.stream.iter().flatten() {
        if let Body::Json(value) = &event.data {
            visit(value);
        }
    }
    (usage != Usage::default()).then_some(usage)
}

/// True when one streamed event's data carries generated output: text, refusal, reasoning or
/// tool-call content, for OpenAI Chat, OpenAI Responses and Anthropic Messages. Events that only
/// open the message (OpenAI's first `{"role": "assistant", "content": ""}` delta, Anthropic's
/// `message_start` and `content_block_start`), finish reasons, usage and `[DONE]` are not
/// output. This is what the load tester counts as a token event for time to first token.
pub fn is_output_delta(data: &Value) -> bool {
    let non_empty =
        |value: Option<&Value>| value.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    if let Some(choices) = data.get("choices").and_then(Value::as_array) {
        return choices.iter().any(|choice| {
            let Some(delta) = choice.get("delta") else {
                // Legacy completions stream `text` directly in the choice.
                return non_empty(choice.get("text"));
            };
            ["content", "refusal", "reasoning_content", "reasoning"]
                .iter()
                .any(|field| non_empty(delta.get(*field)))
                || delta
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .is_some_and(|calls| {
                        calls.iter().any(|call| {
                            non_empty(at(call, "/function/name"))
                                || non_empty(at(call, "/function/arguments"))
                        })
                    })
        });
    }
    match data.get("type").and_then(Value::as_str).unwrap_or("") {
        "content_block_delta" => {
            let delta = data.get("delta");
            ["text", "partial_json", "thinking"]
                .iter()
                .any(|field| non_empty(delta.and_then(|d| d.get(*field))))
        }
        "response.output_text.delta"
        | "response.refusal.delta"
        | "response.function_call_arguments.delta"
        | "response.reasoning_text.delta"
        | "response.reasoning_summary_text.delta" => non_empty(data.get("delta")),
        _ => false,
    }
}

/// The output token count one streamed event reports, if any (OpenAI's final usage chunk,
/// the Responses API's `response.completed`, Anthropic's `message_delta`). Later reports are
/// cumulative, so the last one seen is the response's total.
pub fn reported_output_tokens(data: &Value) -> Option<u64> {
    [Some(data), data.get("response"), data.get("message")]
        .into_iter()
        .flatten()
        .filter_map(|candidate| candidate.get("usage").filter(|u| u.is_object()))
        .find_map(|usage| {
            ["output_tokens", "completion_tokens"]
                .iter()
                .find_map(|name| usage.get(*name)?.as_u64())
        })
}

/// A tool call the assistant made: its name and its arguments as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: String,
}

/// What the assistant said in one response, assembled from a body or from stream deltas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assembled {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
}

/// Assembles the assistant's text and tool calls for OpenAI Chat, OpenAI Responses and
/// Anthropic Messages, plain or streamed.
pub fn assemble(response: &Response) -> Assembled {
    let mut out = Assembled::default();
    if let Some(Body::Json(value)) = &response.body {
        assemble_body(value, &mut out);
    }
    if let Some(events) = &response.stream {
        assemble_stream(events, &mut out);
    }
    out
}

fn assemble_body(value: &Value, out: &mut Assembled) {
    // OpenAI Chat Completions.
    if let Some(message) = at(value, "/choices/0/message") {
        if let Some(text) = message.get("content").and_then(Value::as_str) {
            out.text.push_str(text);
        }
        for call in message
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.tool_calls.push(ToolCall {
                name: str_at(call, "/function/name").to_string(),
                arguments: str_at(call, "/function/arguments").to_string(),
            });
        }
    }
    // OpenAI Responses.
    for item in value
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                for part in item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(text) = part.get("text").and_then(Value::as_str) {
                        out.text.push_str(text);
                    }
                }
            }
            Some("function_call") => out.tool_calls.push(ToolCall {
                name: str_at(item, "/name").to_string(),
                arguments: str_at(item, "/arguments").to_string(),
            }),
            _ => {}
        }
    }
    // Anthropic Messages.
    if value.get("type").and_then(Value::as_str) == Some("message") {
        for block in value
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => out.text.push_str(str_at(block, "/text")),
                Some("tool_use") => out.tool_calls.push(ToolCall {
                    name: str_at(block, "/name").to_string(),
                    arguments: block.get("input").map(Value::to_string).unwrap_or_default(),
                }),
                _ => {}
            }
        }
    }
}

fn assemble_stream(events: &[StreamEvent], out: &mut Assembled) {
    // Tool calls keyed by their stream index (OpenAI `index`, Anthropic content block index).
    let mut calls: std::collections::BTreeMap<u64, ToolCall> = Default::default();
    for event in events {
        let Body::Json(value) = &event.data else {
            continue;
        };
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(delta) = at(value, "/choices/0/delta") {
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                out.text.push_str(text);
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
                let entry = calls.entry(index).or_insert_with(|| ToolCall {
                    name: String::new(),
                    arguments: String::new(),
                });
                // OpenAI sends the name once; some compatible servers repeat it in every delta.
                let name = str_at(call, "/function/name");
                if entry.name != name {
                    entry.name.push_str(name);
                }
                entry
                    .arguments
                    .push_str(str_at(call, "/function/arguments"));
            }
            continue;
        }
        match kind {
            "response.output_text.delta" => out.text.push_str(str_at(value, "/delta")),
            "response.output_item.done" => {
                if let Some(item) = value.get("item") {
                    if item.get("type").and_then(Value::as_str) == Some("function_call") {
                        out.tool_calls.push(ToolCall {
                            name: str_at(item, "/name").to_string(),
                            arguments: str_at(item, "/arguments").to_string(),
                        });
                    }
                }
            }
            "content_block_start" => {
                let block = value.get("content_block").unwrap_or(&Value::Null);
                if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                    let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                    calls.insert(
                        index,
                        ToolCall {
                            name: str_at(block, "/name").to_string(),
                            arguments: String::new(),
                        },
                    );
                }
            }
            "content_block_delta" => {
                let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                match at(value, "/delta/type").and_then(Value::as_str) {
                    Some("text_delta") => out.text.push_str(str_at(value, "/delta/text")),
                    Some("input_json_delta") => {
                        if let Some(call) = calls.get_mut(&index) {
                            call.arguments
                                .push_str(str_at(value, "/delta/partial_json"));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    out.tool_calls.extend(calls.into_values());
}

/// Why the model stopped, in the provider's own words: OpenAI Chat `finish_reason`, Anthropic
/// `stop_reason`, OpenAI Responses `status` (with the reason when `incomplete`), from a body or
/// from the last stream event that reports one.
pub fn finish_reason(response: &Response) -> Option<String> {
    let of = |value: &Value| -> Option<String> {
        let chat = field(value, "choices")
            .and_then(|c| c.get(0))
            .and_then(|c| field(c, "finish_reason"));
        let anthropic =
            field(value, "stop_reason").or_else(|| field(field(value, "delta")?, "stop_reason"));
        if let Some(reason) = chat.or(anthropic).and_then(Value::as_str) {
            return Some(reason.to_string());
        }
        // Responses: the whole response object, plain or inside a terminal event.
        let object = match field(value, "object").and_then(Value::as_str) {
            Some("response") => value,
            _ => field(value, "response")?,
        };
        let status = field(object, "status").and_then(Value::as_str)?;
        if status == "in_progress" || status == "queued" {
            return None;
        }
        let why = field(object, "incomplete_details")
            .and_then(|d| field(d, "reason"))
            .and_then(Value::as_str);
        Some(match why {
            Some(why) => format!("{status}: {why}"),
            None => status.to_string(),
        })
    };
    // The last report wins, so a stream is read from its end.
    let from_stream = response
        .stream
        .iter()
        .flatten()
        .rev()
        .find_map(|event| event.data.as_json().and_then(of));
    from_stream.or_else(|| response.body.as_ref()?.as_json().and_then(of))
}

/// `value.pointer(path)` for paths without `~` escapes, without the two strings per segment
/// that `Value::pointer` allocates: this runs for every stream event of every trace row.
fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/')
        .skip(1)
        .try_fold(value, |value, segment| match value {
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
            _ => field(value, segment),
        })
}

fn str_at<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: Option<&str>, data: Value) -> StreamEvent {
        StreamEvent {
            at_ms: 0,
            event: name.map(str::to_string),
            id: None,
            retry: None,
            data: Body::Json(data),
        }
    }

    fn stream(events: Vec<StreamEvent>) -> Response {
        Response {
            status: 200,
            headers: Default::default(),
            body: None,
            stream: Some(events),
            incomplete: false,
        }
    }

    #[test]
    fn anthropic_stream_usage_and_tool_use() {
        let response = stream(vec![
            event(
                Some("message_start"),
                json!({"type": "message_start", "message": {"model": "claude-x", "usage": {"input_tokens": 12, "output_tokens": 1}}}),
            ),
            event(
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
            ),
            event(
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "name": "get_weather"}}),
            ),
            event(
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\":"}}),
            ),
            event(
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
            ),
            event(
                Some("message_delta"),
                json!({"type": "message_delta", "usage": {"output_tokens": 30}}),
            ),
            event(Some("message_stop"), json!({"type": "message_stop"})),
        ]);
        let usage = usage(&response).unwrap();
        assert_eq!(usage.model.as_deref(), Some("claude-x"));
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(12), Some(30))
        );
        let assembled = assemble(&response);
        assert_eq!(assembled.text, "Hi");
        assert_eq!(
            assembled.tool_calls,
            vec![ToolCall {
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into()
            }]
        );
        assert!(is_terminal(
            response.stream.as_ref().unwrap().last().unwrap()
        ));
    }

    #[test]
    fn openai_chat_body_and_done_marker() {
        let response = Response {
            status: 200,
            headers: Default::default(),
            body: Some(Body::Json(json!({
                "model": "gpt-4o-mini",
                "choices": [{"message": {"content": "Hello", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2}
            }))),
            stream: None,
            incomplete: false,
        };
        let usage = usage(&response).unwrap();
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(5), Some(2))
        );
        let assembled = assemble(&response);
        assert_eq!(assembled.text, "Hello");
        assert_eq!(assembled.tool_calls[0].name, "f");
        let done = StreamEvent {
            at_ms: 1,
            event: None,
            id: None,
            retry: None,
            data: Body::Text("[DONE]".into()),
        };
        assert!(is_terminal(&done));
    }

    #[test]
    fn output_deltas_skip_role_only_and_bookkeeping_events() {
        let role_only = json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null}}]});
        assert!(!is_output_delta(&role_only));
        assert!(is_output_delta(
            &json!({"choices": [{"delta": {"content": "Hi"}}]})
        ));
        assert!(is_output_delta(
            &json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"a"}}]}}]})
        ));
        assert!(!is_output_delta(
            &json!({"choices": [{"delta": {}, "finish_reason": "stop"}]})
        ));
        assert!(!is_output_delta(
            &json!({"choices": [], "usage": {"completion_tokens": 3}})
        ));
        assert!(!is_output_delta(
            &json!({"type": "message_start", "message": {"usage": {"output_tokens": 1}}})
        ));
        assert!(!is_output_delta(
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        ));
        assert!(is_output_delta(
            &json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}})
        ));
        assert!(is_output_delta(
            &json!({"type": "response.output_text.delta", "delta": "Hi"})
        ));
        assert!(!is_output_delta(&json!({"type": "response.created"})));
        assert_eq!(
            reported_output_tokens(
                &json!({"type": "message_delta", "usage": {"output_tokens": 30}})
            ),
            Some(30)
        );
        assert_eq!(
            reported_output_tokens(
                &json!({"type": "response.completed", "response": {"usage": {"output_tokens": 7}}})
            ),
            Some(7)
        );
        assert_eq!(
            reported_output_tokens(&json!({"choices": [], "usage": {"completion_tokens": 3}})),
            Some(3)
        );
        assert_eq!(reported_output_tokens(&json!({"usage": null})), None);
    }

    #[test]
    fn finish_reason_for_every_api() {
        let chat = stream(vec![
            event(
                None,
                json!({"choices": [{"delta": {"content": "a"}, "finish_reason": null}]}),
            ),
            event(
                None,
                json!({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}),
            ),
            event(
                None,
                json!({"choices": [], "usage": {"completion_tokens": 1}}),
            ),
        ]);
        assert_eq!(finish_reason(&chat).as_deref(), Some("tool_calls"));
        let anthropic = stream(vec![
            event(
                Some("message_start"),
                json!({"type": "message_start", "message": {"stop_reason": null}}),
            ),
            event(
                Some("message_delta"),
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            ),
            event(Some("message_stop"), json!({"type": "message_stop"})),
        ]);
        assert_eq!(finish_reason(&anthropic).as_deref(), Some("end_turn"));
        let responses = stream(vec![
            event(
                None,
                json!({"type": "response.created", "response": {"object": "response", "status": "in_progress"}}),
            ),
            event(
                None,
                json!({"type": "response.incomplete", "response": {"object": "response", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}}),
            ),
        ]);
        assert_eq!(
            finish_reason(&responses).as_deref(),
            Some("incomplete: max_output_tokens")
        );
        let plain = Response {
            status: 200,
            headers: Default::default(),
            body: Some(Body::Json(
                json!({"type": "message", "stop_reason": "max_tokens"}),
            )),
            stream: None,
            incomplete: false,
        };
        assert_eq!(finish_reason(&plain).as_deref(), Some("max_tokens"));
    }

    #[test]
    fn the_provider_comes_from_the_upstream_or_the_path_without_its_query() {
        for (upstream, path, provider) in [
            ("anthropic", "/v1/chat/completions", Provider::Anthropic),
            ("local", "/v1/messages", Provider::Anthropic),
            ("local", "/v1/messages?beta=true", Provider::Anthropic),
            ("local", "/messages", Provider::Anthropic),
            (
                "local",
                "/v1/chat/completions?next=/v1/messages",
                Provider::OpenAi,
            ),
            ("openai", "/v1/chat/completions", Provider::OpenAi),
            ("openai", "?", Provider::OpenAi),
            ("openai", "", Provider::OpenAi),
        ] {
            assert_eq!(
                Provider::detect(upstream, path),
                provider,
                "{upstream} {path}"
            );
        }
    }

    #[test]
    fn errors_take_the_provider_shape() {
        let openai = Provider::detect("openai", "/v1/chat/completions").error_body(404, "x", "m");
        assert_eq!(openai["error"]["message"], "m");
        let anthropic = Provider::detect("local", "/v1/messages").error_body(404, "x", "m");
        assert_eq!(anthropic["type"], "error");
        assert_eq!(anthropic["error"]["type"], "not_found_error");
    }
}
