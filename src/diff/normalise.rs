//! From a recorded interaction to what the model did, with everything volatile taken out: the
//! request as pairing sees it (ids from earlier responses renumbered, ignored paths removed) and
//! the response's behaviour (assembled text, tool calls with parsed arguments, finish reason,
//! model, tokens, latency). Streams are assembled first, so they compare by result, never chunk
//! by chunk. Headers are transport, not behaviour: none is compared, so request ids, rate limits
//! and dates never show up.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::rules::DiffRules;
use crate::cassette::matcher::{JsonPath, MatchKey, MatchRules, RequestView};
use crate::cassette::{Body, Interaction, Request, Response};
use crate::provider;

/// Response fields that differ on every call by nature, removed from every response body and
/// stream event before anything is compared (they only matter for bodies compared as data:
/// embeddings, errors, APIs traceforge does not know).
const VOLATILE_PATHS: &[&str] = &[
    "$.id",
    "$.created",
    "$.created_at",
    "$.system_fingerprint",
    "$.request_id",
    "$.message.id",
    "$.response.id",
    "$.response.created_at",
    "$.item_id",
    "$.item.id",
    "$.output[*].id",
];

fn volatile_paths() -> &'static [JsonPath] {
    static PATHS: OnceLock<Vec<JsonPath>> = OnceLock::new();
    PATHS.get_or_init(|| {
        VOLATILE_PATHS
            .iter()
            .filter_map(|p| JsonPath::parse(p).ok())
            .collect()
    })
}

/// Where each API's responses carry ids that later requests send back (tool-call ids, and for
/// the Responses API the response and output-item ids), as `(path, is a tool call)`; `*` is
/// every array element. Other ids (a chat completion's, a message's) are never sent back.
const CHAT_IDS: &[(&[&str], bool)] = &[
    (&["choices", "*", "message", "tool_calls", "*", "id"], true),
    (&["choices", "*", "delta", "tool_calls", "*", "id"], true),
];
const MESSAGES_IDS: &[(&[&str], bool)] = &[
    (&["content", "*", "id"], true),
    (&["content_block", "id"], true),
];
const RESPONSES_IDS: &[(&[&str], bool)] = &[
    (&["output", "*", "call_id"], true),
    (&["item", "call_id"], true),
    (&["response", "output", "*", "call_id"], true),
    (&["id"], false),
    (&["output", "*", "id"], false),
    (&["item", "id"], false),
    (&["response", "id"], false),
    (&["response", "output", "*", "id"], false),
];

/// Which API a response speaks, which decides whether it is compared as behaviour or as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    OpenAiChat,
    OpenAiResponses,
    AnthropicMessages,
    /// Anything else (embeddings, errors, unknown APIs): the body is compared as data.
    Other,
}

/// One tool call as compared: its name and its parsed arguments (the raw text as a JSON string
/// when it is not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub arguments: Value,
}

/// What the model did in one response.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    pub status: u16,
    pub api: Api,
    pub model: Option<String>,
    pub text: String,
    pub tool_calls: Vec<Call>,
    pub finish_reason: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub latency_ms: Option<u64>,
    /// The stream ended without its terminal event.
    pub incomplete: bool,
    /// For [`Api::Other`]: the body (or the stream's event data) without volatile fields.
    pub body: Option<Value>,
}

/// One interaction, ready to be paired and compared.
#[derive(Debug, Clone)]
pub struct Normalised {
    pub id: u64,
    /// `POST openai /v1/chat/completions`, for people.
    pub label: String,
    /// Pairs interactions whose requests are the same once normalised.
    pub key: MatchKey,
    /// Method, upstream and path without query: pairing by position stays within one endpoint.
    pub endpoint: String,
    /// The request as pairing saw it, to explain how a position-paired request differs.
    pub request: Request,
    pub behaviour: Behaviour,
}

/// Normalises a cassette's interactions in order. Ids that responses hand out (tool calls,
/// response and message ids) are renumbered in order of appearance, in responses and in every
/// later request that sends them back, so two recordings of one conversation pair up.
/// Takes the interactions by value: bodies are stripped in place, never copied.
pub fn cassette(
    interactions: Vec<Interaction>,
    rules: &DiffRules,
    matching: &MatchRules,
) -> Vec<Normalised> {
    let mut ids = Renumbering::default();
    interactions
        .into_iter()
        .map(|interaction| {
            let Interaction {
                id,
                request,
                response,
                timing,
                usage,
                ..
            } = interaction;
            let request = normalise_request(request, &ids, rules);
            let key = matching.key(RequestView::from(&request));
            let api = api(&response);
            // Learn ids before stripping: the volatile paths include where they live.
            ids.learn(&response, api);
            let (path, _) = request.path.split_once('?').unwrap_or((&request.path, ""));
            Normalised {
                id,
                label: format!("{} {} {}", request.method, request.upstream, request.path),
                endpoint: format!(
                    "{} {} {path}",
                    request.method.to_ascii_uppercase(),
                    request.upstream
                ),
                key,
                behaviour: behaviour(response, api, timing.map(|t| t.total_ms), usage, rules),
                request,
            }
        })
        .collect()
}

fn normalise_request(mut request: Request, ids: &Renumbering, rules: &DiffRules) -> Request {
    if let Some(Body::Json(value)) = &mut request.body {
        if !ids.aliases.is_empty() {
            ids.rewrite(value);
        }
        for path in &rules.ignore {
            path.remove_from(value);
        }
    }
    request.headers.clear();
    request
}

/// Response ids seen so far in a cassette, and the stable names they get.
#[derive(Default)]
struct Renumbering {
    aliases: HashMap<String, String>,
    /// The shortest and longest id seen: most strings in a request (prompts, schemas) are
    /// ruled out by their length without hashing them.
    lengths: Option<(usize, usize)>,
    calls: usize,
    others: usize,
}

impl Renumbering {
    fn learn(&mut self, response: &Response, api: Api) {
        let locations = match api {
            Api::OpenAiChat => CHAT_IDS,
            Api::AnthropicMessages => MESSAGES_IDS,
            Api::OpenAiResponses => RESPONSES_IDS,
            Api::Other => return,
        };
        let mut visit = |value: &Value| {
            for (pattern, is_call) in locations {
                self.collect(value, pattern, *is_call);
            }
        };
        if let Some(Body::Json(value)) = &response.body {
            visit(value);
        }
        for event in response.stream.iter().flatten() {
            if let Body::Json(value) = &event.data {
                // Only the events that can carry such ids: the text deltas are skipped cheaply.
                let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
                let relevant = match api {
                    Api::OpenAiChat => true,
                    Api::AnthropicMessages => kind == "content_block_start",
                    _ => !kind.ends_with(".delta"),
                };
                if relevant {
                    visit(value);
                }
            }
        }
    }

    fn collect(&mut self, value: &Value, pattern: &[&str], is_call: bool) {
        let Some((step, rest)) = pattern.split_first() else {
            if let Value::String(id) = value {
                if !id.is_empty() && !self.aliases.contains_key(id) {
                    let alias = if is_call {
                        self.calls += 1;
                        format!("tool-call-{}", self.calls)
                    } else {
                        self.others += 1;
                        format!("id-{}", self.others)
                    };
                    self.aliases.insert(id.clone(), alias);
                    let (short, long) = self.lengths.unwrap_or((id.len(), id.len()));
                    self.lengths = Some((short.min(id.len()), long.max(id.len())));
                }
            }
            return;
        };
        match (*step, value) {
            ("*", Value::Array(items)) => {
                for item in items {
                    self.collect(item, rest, is_call);
                }
            }
            (key, Value::Object(map)) => {
                if let Some(child) = map.get(key) {
                    self.collect(child, rest, is_call);
                }
            }
            _ => {}
        }
    }

    /// Replaces every string equal to a known id with its alias.
    fn rewrite(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                let Some((short, long)) = self.lengths else {
                    return;
                };
                if (short..=long).contains(&text.len()) {
                    if let Some(alias) = self.aliases.get(text.as_str()) {
                        *text = alias.clone();
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.rewrite(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.rewrite(v)),
            _ => {}
        }
    }
}

/// Removes ignored fields (and, for bodies compared as data, volatile ones) from the body and
/// every event. The facets of a recognised API never look at volatile fields, so removing them
/// there would only cost time.
fn strip_response(response: &mut Response, api: Api, rules: &DiffRules) {
    let volatile = api == Api::Other;
    if !volatile && rules.ignore.is_empty() {
        return;
    }
    let strip = |value: &mut Value| {
        let paths = match volatile {
            true => volatile_paths(),
            false => &[],
        };
        for path in paths.iter().chain(&rules.ignore) {
            path.remove_from(value);
        }
    };
    if let Some(Body::Json(value)) = &mut response.body {
        strip(value);
    }
    for event in response.stream.iter_mut().flatten() {
        if let Body::Json(value) = &mut event.data {
            strip(value);
        }
    }
}

/// Which API the response speaks, from its shape.
fn api(response: &Response) -> Api {
    let of = |value: &Value| -> Option<Api> {
        if value.get("choices").is_some_and(Value::is_array)
            && value.get("object").and_then(Value::as_str) != Some("text_completion")
        {
            return Some(Api::OpenAiChat);
        }
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        if value.get("object").and_then(Value::as_str) == Some("response")
            || kind.starts_with("response.")
        {
            return Some(Api::OpenAiResponses);
        }
        if kind == "message" || kind.starts_with("message_") || kind.starts_with("content_block") {
            return Some(Api::AnthropicMessages);
        }
        None
    };
    let found = match (&response.body, &response.stream) {
        (Some(Body::Json(value)), _) => of(value),
        (_, Some(events)) => events.iter().find_map(|e| e.data.as_json().and_then(of)),
        _ => None,
    };
    found.unwrap_or(Api::Other)
}

fn behaviour(
    mut response: Response,
    api: Api,
    latency_ms: Option<u64>,
    recorded_usage: Option<crate::cassette::Usage>,
    rules: &DiffRules,
) -> Behaviour {
    strip_response(&mut response, api, rules);
    let assembled = provider::assemble(&response);
    let usage = provider::usage(&response)
        .or(recorded_usage)
        .unwrap_or_default();
    let finish_reason = provider::finish_reason(&response);
    let body = (api == Api::Other).then(|| match (response.body, response.stream) {
        (Some(body), _) => body_value(body),
        (None, Some(events)) => {
            Value::Array(events.into_iter().map(|e| body_value(e.data)).collect())
        }
        (None, None) => Value::Null,
    });
    Behaviour {
        status: response.status,
        api,
        model: usage.model,
        text: assembled.text,
        tool_calls: assembled
            .tool_calls
            .into_iter()
            .map(|call| Call {
                name: call.name,
                arguments: parse_arguments(&call.arguments),
            })
            .collect(),
        finish_reason,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        latency_ms,
        incomplete: response.incomplete,
        body,
    }
}

fn body_value(body: Body) -> Value {
    match body {
        Body::Json(value) => value,
        Body::Text(text) => Value::String(text),
        Body::Base64(data) => Value::String(format!("base64:{data}")),
    }
}

/// Tool-call arguments as data: parsed JSON, `{}` for an empty string (a call without
/// arguments), or the raw text when it does not parse.
fn parse_arguments(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::{StreamEvent, Timing};
    use serde_json::json;

    fn interaction(id: u64, request: Value, response: Response) -> Interaction {
        Interaction {
            id,
            recorded_at: "2026-01-01T00:00:00Z".into(),
            request: Request {
                method: "POST".into(),
                upstream: "openai".into(),
                path: "/v1/chat/completions".into(),
                headers: Default::default(),
                body: Some(Body::Json(request)),
            },
            response,
            timing: Some(Timing {
                ttfb_ms: 5,
                total_ms: 10,
            }),
            scope: Default::default(),
            usage: None,
            redactions: Vec::new(),
            decisions: Vec::new(),
        }
    }

    fn plain(body: Value) -> Response {
        Response {
            status: 200,
            headers: Default::default(),
            body: Some(Body::Json(body)),
            stream: None,
            incomplete: false,
        }
    }

    fn tool_turns(call_id: &str, created: u64) -> Vec<Interaction> {
        let first = interaction(
            1,
            json!({"messages": [{"role": "user", "content": "weather?"}]}),
            plain(json!({
                "id": format!("chatcmpl-{call_id}"), "created": created, "model": "m",
                "choices": [{"message": {"tool_calls": [{"id": call_id, "function": {"name": "w", "arguments": "{\"city\": \"Oslo\"}"}}]}, "finish_reason": "tool_calls"}]
            })),
        );
        let second = interaction(
            2,
            json!({"messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "tool_calls": [{"id": call_id, "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": call_id, "content": "sunny"}
            ]}),
            plain(
                json!({"id": "x", "choices": [{"message": {"content": "Sunny."}, "finish_reason": "stop"}]}),
            ),
        );
        vec![first, second]
    }

    #[test]
    fn tool_call_ids_are_renumbered_in_later_requests() {
        let rules = DiffRules::default();
        let matching = MatchRules::default();
        let a = cassette(tool_turns("call_abc", 1), &rules, &matching);
        let b = cassette(tool_turns("call_xyz", 2), &rules, &matching);
        assert_eq!(a[0].key, b[0].key);
        assert_eq!(a[1].key, b[1].key, "the second turn pairs despite new ids");
        assert_eq!(a[0].behaviour, b[0].behaviour);
        let body = a[1].request.body.as_ref().and_then(Body::as_json).unwrap();
        assert_eq!(body["messages"][2]["tool_call_id"], "tool-call-1");
        assert_eq!(
            a[0].behaviour.tool_calls,
            vec![Call {
                name: "w".into(),
                arguments: json!({"city": "Oslo"})
            }]
        );
        assert_eq!(a[0].behaviour.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn other_bodies_are_data_without_volatile_fields() {
        let rules = DiffRules {
            ignore: vec![JsonPath::parse("$.data[*].embedding").unwrap()],
            ..DiffRules::default()
        };
        let one = interaction(
            1,
            json!({"input": "x"}),
            plain(
                json!({"id": "e1", "created": 1, "object": "list", "data": [{"embedding": [0.1], "index": 0}]}),
            ),
        );
        let behaviour = cassette(vec![one], &rules, &MatchRules::default())
            .remove(0)
            .behaviour;
        assert_eq!(behaviour.api, Api::Other);
        assert_eq!(
            behaviour.body,
            Some(json!({"object": "list", "data": [{"index": 0}]}))
        );
    }

    #[test]
    fn streams_are_assembled() {
        let events = ["Hel", "lo"]
            .iter()
            .map(|piece| StreamEvent {
                at_ms: 1,
                event: None,
                id: None,
                retry: None,
                data: Body::Json(
                    json!({"id": "c", "choices": [{"delta": {"content": piece}, "finish_reason": null}]}),
                ),
            })
            .collect();
        let response = Response {
            status: 200,
            headers: Default::default(),
            body: None,
            stream: Some(events),
            incomplete: true,
        };
        let one = interaction(1, json!({"stream": true}), response);
        let behaviour = cassette(vec![one], &DiffRules::default(), &MatchRules::default())
            .remove(0)
            .behaviour;
        assert_eq!(behaviour.api, Api::OpenAiChat);
        assert_eq!(behaviour.text, "Hello");
        assert!(behaviour.incomplete);
        assert_eq!(behaviour.latency_ms, Some(10));
    }
}
