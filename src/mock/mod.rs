//! The built-in deterministic LLM upstream (`traceforge mock-llm`): an HTTP handler that speaks
//! OpenAI Chat Completions (`/v1/chat/completions`), OpenAI Responses (`/v1/responses`) and
//! Anthropic Messages (`/v1/messages`), plain and streamed, with the real wire shapes, so the
//! demo and the test suite record through the official SDKs without an API key.
//!
//! It owns the routing, the test-control headers (`x-mock-*`) and the pacing of streams; what
//! the model says lives in `answer`, each dialect's shapes in `chat`, `responses` and
//! `messages`. Answers are pure functions of the request body (ids from its hash, no clock, no
//! randomness), so identical requests get byte-identical responses. It must never panic on
//! input, and it knows nothing of cassettes or the proxy: the proxy records it like any
//! upstream.
//!
//! Token counts follow one rule for every dialect: one token per whitespace-separated word.
//! Input tokens count the words of every system prompt, message and tool result (at least 1);
//! output tokens count the words of everything the model wrote (text, tool name and the tool
//! arguments' JSON text).
//!
//! Test-control request headers: `x-mock-status: N` answers N (400–599) with an error body in
//! the provider's shape; `x-mock-stall-ms: N` waits N ms before answering; `x-mock-truncate: N`
//! ends a stream after N events, always before its terminal event; `x-mock-gzip: 1` gzips a
//! non-streamed body. A malformed value gets a 400 naming the header.

mod answer;
mod chat;
mod messages;
mod responses;
mod schema;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::provider::Provider;
use crate::server::{json_response, HttpResponse, ResponseBody};

use answer::Ids;

/// Answer with this status (400–599) and an error body in the provider's shape.
pub const STATUS_HEADER: &str = "x-mock-status";
/// Wait this many milliseconds before answering (at most 600000).
pub const STALL_HEADER: &str = "x-mock-stall-ms";
/// End a stream after this many events, before its terminal event.
pub const TRUNCATE_HEADER: &str = "x-mock-truncate";
/// `1` or `true`: gzip a non-streamed body and say so in `content-encoding`.
pub const GZIP_HEADER: &str = "x-mock-gzip";

/// Largest request body read; larger ones get 413.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
const MAX_STALL_MS: u64 = 600_000;

/// How the mock paces its streams.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Delay before the first streamed event.
    pub first_event_delay: Duration,
    /// Delay between streamed events.
    pub event_delay: Duration,
}

/// Answers one request.
pub async fn handle(config: Arc<MockConfig>, request: http::Request<Incoming>) -> HttpResponse {
    let endpoint = Endpoint::of(request.uri().path());
    let fields = crate::telemetry::request::reported().then(|| {
        crate::telemetry::request::RequestFields {
            mode: Some("mock"),
            provider: Some(provider_for(endpoint, request.headers()).name()),
            // Only the endpoint's own path: any other path is the client's text.
            path: endpoint.map(|e| std::sync::Arc::from(e.path())),
            ..Default::default()
        }
    });
    let response = answer(config, request).await;
    if let Some(fields) = fields {
        crate::telemetry::request::note(fields);
    }
    response
}

async fn answer(config: Arc<MockConfig>, request: http::Request<Incoming>) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let endpoint = Endpoint::of(path);
    let provider = provider_for(endpoint, &parts.headers);
    let controls = match Controls::from_headers(&parts.headers) {
        Ok(controls) => controls,
        Err(message) => {
            return render(
                &config,
                Reply::error(provider, 400, &message),
                &Controls::default(),
            )
        }
    };
    if let Some(stall) = controls.stall {
        tokio::time::sleep(stall).await;
    }
    let reply = match (endpoint, controls.status) {
        (None, _) => Reply::error(
            provider,
            404,
            &format!(
                "traceforge mock: no endpoint at {path}; it serves POST /v1/chat/completions, \
                 POST /v1/responses, POST /v1/messages and GET /v1/models"
            ),
        ),
        (Some(_), Some(status)) => Reply::error(
            provider,
            status,
            &format!("traceforge mock: status {status} requested by the {STATUS_HEADER} header"),
        ),
        (Some(endpoint), None) => answer_endpoint(endpoint, provider, &parts.method, body).await,
    };
    render(&config, reply, &controls)
}

async fn answer_endpoint(
    endpoint: Endpoint,
    provider: Provider,
    method: &http::Method,
    body: Incoming,
) -> Reply {
    let expected = match endpoint {
        Endpoint::Models => http::Method::GET,
        _ => http::Method::POST,
    };
    if method != expected {
        return Reply::error(
            provider,
            405,
            &format!("traceforge mock: use {expected} for this endpoint, not {method}"),
        );
    }
    if endpoint == Endpoint::Models {
        return models(provider);
    }
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err((status, message)) => return Reply::error(provider, status, &message),
    };
    let request = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(request)) => request,
        Ok(_) => {
            return Reply::error(
                provider,
                400,
                "traceforge mock: the request body must be a JSON object",
            )
        }
        Err(e) => {
            return Reply::error(
                provider,
                400,
                &format!("traceforge mock: the request body is not valid JSON: {e}"),
            )
        }
    };
    let ids = Ids::of(&bytes);
    match endpoint {
        Endpoint::Chat => chat::reply(&request, ids),
        Endpoint::Responses => responses::reply(&request, ids),
        Endpoint::Messages => messages::reply(&request, ids),
        Endpoint::Models => models(provider),
    }
}

async fn read_body(body: Incoming) -> Result<Bytes, (u16, String)> {
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err((
            413,
            format!("traceforge mock: the request body is larger than {MAX_BODY_BYTES} bytes"),
        )),
        Err(e) => Err((
            400,
            format!("traceforge mock: could not read the request body: {e}"),
        )),
    }
}

/// The APIs the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Responses,
    Messages,
    Models,
}

impl Endpoint {
    /// The endpoint's path, as the log shows it.
    fn path(self) -> &'static str {
        match self {
            Endpoint::Chat => "/v1/chat/completions",
            Endpoint::Responses => "/v1/responses",
            Endpoint::Messages => "/v1/messages",
            Endpoint::Models => "/v1/models",
        }
    }

    /// With or without the `/v1` prefix, so a base URL with or without it works.
    fn of(path: &str) -> Option<Endpoint> {
        let path = path.trim_end_matches('/');
        let path = path.strip_prefix("/v1").unwrap_or(path);
        match path {
            "/chat/completions" => Some(Endpoint::Chat),
            "/responses" => Some(Endpoint::Responses),
            "/messages" => Some(Endpoint::Messages),
            "/models" => Some(Endpoint::Models),
            _ => None,
        }
    }
}

/// Whose error shape an answer takes: the endpoint's, and for `/v1/models` or an unknown path
/// the asking SDK's.
fn provider_for(endpoint: Option<Endpoint>, headers: &HeaderMap) -> Provider {
    match endpoint {
        Some(Endpoint::Messages) => Provider::Anthropic,
        Some(Endpoint::Chat | Endpoint::Responses) => Provider::OpenAi,
        Some(Endpoint::Models) | None if headers.contains_key("anthropic-version") => {
            Provider::Anthropic
        }
        Some(Endpoint::Models) | None => Provider::OpenAi,
    }
}

/// The test-control headers of one request.
#[derive(Debug, Default)]
struct Controls {
    status: Option<u16>,
    stall: Option<Duration>,
    truncate: Option<usize>,
    gzip: bool,
}

impl Controls {
    fn from_headers(headers: &HeaderMap) -> Result<Controls, String> {
        let number = |name: &str| -> Result<Option<u64>, String> {
            let Some(value) = headers.get(name) else {
                return Ok(None);
            };
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Some)
                .ok_or_else(|| format!("traceforge mock: {name} must be a whole number"))
        };
        let status = match number(STATUS_HEADER)? {
            Some(code @ 400..=599) => Some(code as u16),
            Some(_) => return Err(format!("traceforge mock: {STATUS_HEADER} must be 400-599")),
            None => None,
        };
        let stall = match number(STALL_HEADER)? {
            Some(ms) if ms > MAX_STALL_MS => {
                return Err(format!(
                    "traceforge mock: {STALL_HEADER} must be at most {MAX_STALL_MS}"
                ))
            }
            ms => ms.map(Duration::from_millis),
        };
        let truncate = number(TRUNCATE_HEADER)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let gzip = match headers.get(GZIP_HEADER).map(|v| v.to_str().map(str::trim)) {
            None => false,
            Some(Ok("1" | "true")) => true,
            Some(Ok("0" | "false")) => false,
            Some(_) => return Err(format!("traceforge mock: {GZIP_HEADER} must be 1 or 0")),
        };
        Ok(Controls {
            status,
            stall,
            truncate,
            gzip,
        })
    }
}

/// What a dialect answers, before the control headers shape how it is sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    Json {
        status: u16,
        body: Value,
        /// Request-id header name and value, as the provider sends them.
        request_id: Option<(&'static str, String)>,
    },
    Stream {
        events: Vec<Event>,
        request_id: (&'static str, String),
    },
}

impl Reply {
    fn error(provider: Provider, status: u16, message: &str) -> Reply {
        // OpenAI's `type`/`code`; Anthropic's error type follows from the status.
        let kind = match status {
            401 => "invalid_api_key",
            403 => "permission_denied",
            404 => "not_found",
            429 => "rate_limit_exceeded",
            500.. => "server_error",
            _ => "invalid_request_error",
        };
        Reply::Json {
            status,
            body: provider.error_body(status, kind, message),
            request_id: None,
        }
    }
}

/// One server-sent event: an optional `event:` name and one line of data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub name: Option<&'static str>,
    pub data: String,
}

impl Event {
    /// An event whose data is JSON, named like Anthropic and Responses events are.
    pub(crate) fn named(name: &'static str, data: &Value) -> Event {
        Event {
            name: Some(name),
            data: data.to_string(),
        }
    }

    /// A `data:`-only event, as Chat Completions streams send.
    pub(crate) fn data(data: &Value) -> Event {
        Event {
            name: None,
            data: data.to_string(),
        }
    }

    /// Chat Completions' end of stream.
    pub(crate) fn done() -> Event {
        Event {
            name: None,
            data: "[DONE]".to_string(),
        }
    }

    fn to_bytes(&self) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(name) = self.name {
            out.push_str("event: ");
            out.push_str(name);
            out.push('\n');
        }
        // serde_json never writes a raw newline, so the data is one line.
        out.push_str("data: ");
        out.push_str(&self.data);
        out.push_str("\n\n");
        Bytes::from(out)
    }
}

fn render(config: &MockConfig, reply: Reply, controls: &Controls) -> HttpResponse {
    match reply {
        Reply::Json {
            status,
            body,
            request_id,
        } => {
            let mut response = json_response(status, &body);
            if controls.gzip {
                if let Some(compressed) = gzip(body.to_string().as_bytes()) {
                    *response.body_mut() = ResponseBody::full(compressed);
                    response
                        .headers_mut()
                        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
            }
            if let Some((name, value)) = request_id {
                insert_header(response.headers_mut(), name, &value);
            }
            response
        }
        Reply::Stream { events, request_id } => {
            // Everything up to the terminal event at most, so a truncated stream never ends well.
            let keep = controls
                .truncate
                .map_or(events.len(), |n| n.min(events.len().saturating_sub(1)));
            let frames: Vec<Bytes> = events.iter().take(keep).map(Event::to_bytes).collect();
            let mut response = http::Response::new(stream(config, frames));
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            insert_header(headers, request_id.0, &request_id.1);
            response
        }
    }
}

fn insert_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// Sends each event as its own chunk, paced by the config; stops when the client goes away.
fn stream(config: &MockConfig, frames: Vec<Bytes>) -> ResponseBody {
    let (sender, receiver) = mpsc::channel(1);
    let (first_delay, delay) = (config.first_event_delay, config.event_delay);
    tokio::spawn(async move {
        for (i, frame) in frames.into_iter().enumerate() {
            let pause = if i == 0 { first_delay } else { delay };
            if !pause.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = sender.closed() => return,
                }
            }
            if sender.send(frame).await.is_err() {
                return;
            }
        }
    });
    ResponseBody::Channel(receiver)
}

/// Gzip with a zero mtime, so compressed bodies are deterministic too.
fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// A short model list in the asking provider's shape.
fn models(provider: Provider) -> Reply {
    const CREATED: u64 = 1_735_689_600;
    let body = match provider {
        Provider::OpenAi => {
            let data: Vec<Value> = ["gpt-4o-mini", "gpt-4.1-mini", "traceforge-mock"]
                .iter()
                .map(|id| json!({"id": id, "object": "model", "created": CREATED, "owned_by": "traceforge"}))
                .collect();
            json!({"object": "list", "data": data})
        }
        Provider::Anthropic => {
            let ids = ["claude-sonnet-4-5", "claude-haiku-4-5"];
            let data: Vec<Value> = ids
                .iter()
                .map(|id| {
                    json!({"type": "model", "id": id, "display_name": format!("{id} (traceforge mock)"),
                           "created_at": "2025-01-01T00:00:00Z"})
                })
                .collect();
            json!({"data": data, "has_more": false, "first_id": ids[0], "last_id": ids[ids.len() - 1]})
        }
    };
    Reply::Json {
        status: 200,
        body,
        request_id: None,
    }
}

/// Helpers for the dialects' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::{Map, Value};

    use super::{Event, Ids, Reply};

    /// A request body as a dialect sees it, with the ids its bytes give.
    pub(crate) fn request_of(value: Value) -> (Map<String, Value>, Ids) {
        let bytes = value.to_string();
        let object = value.as_object().cloned().unwrap_or_default();
        (object, Ids::of(bytes.as_bytes()))
    }

    pub(crate) fn json_body(reply: Reply) -> (u16, Value) {
        match reply {
            Reply::Json { status, body, .. } => (status, body),
            Reply::Stream { .. } => panic!("expected a JSON reply, got a stream"),
        }
    }

    pub(crate) fn stream_events(reply: Reply) -> Vec<Event> {
        match reply {
            Reply::Stream { events, .. } => events,
            Reply::Json { body, .. } => panic!("expected a stream, got {body}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn hostile_bodies_get_answers_not_panics() {
        let hostile = [
            json!(null),
            json!(-1),
            json!(1e300),
            json!("x"),
            json!([]),
            json!([null, 5, "x", {"role": 5}, {"role": "user", "content": {"a": 1}}]),
            json!({}),
            json!({"type": "function", "function": 5, "name": [], "input_schema": "x"}),
            json!([{"type": "function", "function": {"name": "f", "parameters": {"$ref": "#"}}},
                   {"name": "g", "input_schema": {"type": "array", "items": {"$ref": "#/nope"}}}]),
            json!([{"role": "user", "content": [{"type": "tool_result", "content": 5}, 7]}]),
        ];
        let fields = [
            "model",
            "messages",
            "input",
            "instructions",
            "system",
            "tools",
            "tool_choice",
            "response_format",
            "text",
            "max_tokens",
            "max_completion_tokens",
            "max_output_tokens",
            "stream",
            "stream_options",
        ];
        let base = json!({"model": "m", "max_tokens": 50, "stream": true,
            "messages": [{"role": "user", "content": "hello"}], "input": "hello"});
        for field in fields {
            for value in &hostile {
                let mut body = base.clone();
                body[field] = value.clone();
                let (request, ids) = testing::request_of(body);
                for reply in [
                    chat::reply(&request, ids),
                    responses::reply(&request, ids),
                    messages::reply(&request, ids),
                ] {
                    let status = match reply {
                        Reply::Json { status, .. } => status,
                        Reply::Stream { .. } => 200,
                    };
                    assert!(
                        status == 200 || status == 400,
                        "{field} = {value}: {status}"
                    );
                }
            }
        }
    }

    #[test]
    fn routes_with_and_without_v1() {
        assert_eq!(Endpoint::of("/v1/chat/completions"), Some(Endpoint::Chat));
        assert_eq!(Endpoint::of("/chat/completions/"), Some(Endpoint::Chat));
        assert_eq!(Endpoint::of("/v1/responses"), Some(Endpoint::Responses));
        assert_eq!(Endpoint::of("/messages"), Some(Endpoint::Messages));
        assert_eq!(Endpoint::of("/v1/models"), Some(Endpoint::Models));
        assert_eq!(Endpoint::of("/v2/chat/completions"), None);
        assert_eq!(Endpoint::of("/"), None);
    }

    #[test]
    fn control_headers_parse_or_say_what_is_wrong() {
        let controls = Controls::from_headers(&headers(&[
            ("x-mock-status", "429"),
            ("x-mock-stall-ms", "25"),
            ("x-mock-truncate", "3"),
            ("x-mock-gzip", "1"),
        ]))
        .unwrap();
        assert_eq!(controls.status, Some(429));
        assert_eq!(controls.stall, Some(Duration::from_millis(25)));
        assert_eq!(controls.truncate, Some(3));
        assert!(controls.gzip);
        for bad in [
            ("x-mock-status", "200"),
            ("x-mock-status", "abc"),
            ("x-mock-stall-ms", "-1"),
            ("x-mock-stall-ms", "600001"),
            ("x-mock-gzip", "yes"),
        ] {
            let error = Controls::from_headers(&headers(&[bad])).unwrap_err();
            assert!(error.contains(bad.0), "{error}");
        }
    }

    #[test]
    fn events_render_as_sse() {
        let named = Event::named("ping", &json!({"type": "ping"}));
        assert_eq!(
            &named.to_bytes()[..],
            b"event: ping\ndata: {\"type\":\"ping\"}\n\n"
        );
        assert_eq!(&Event::done().to_bytes()[..], b"data: [DONE]\n\n");
        let chunk = Event::data(&json!({"a": "x\ny"}));
        assert_eq!(&chunk.to_bytes()[..], b"data: {\"a\":\"x\\ny\"}\n\n");
    }

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        let a = gzip(b"hello hello hello").unwrap();
        assert_eq!(a, gzip(b"hello hello hello").unwrap());
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&a[..]), &mut out).unwrap();
        assert_eq!(out, "hello hello hello");
    }

    #[test]
    fn errors_take_the_providers_shape() {
        let Reply::Json { status, body, .. } = Reply::error(Provider::Anthropic, 429, "slow down")
        else {
            panic!("an error is JSON");
        };
        assert_eq!(status, 429);
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "rate_limit_error");
        let Reply::Json { body, .. } = Reply::error(Provider::OpenAi, 429, "slow down") else {
            panic!("an error is JSON");
        };
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    }
}
