//! One interaction → one OTLP span, by the GenAI conventions ([`super::attributes`]). Reads only
//! the interaction as it was stored (secrets and PII already protected), never live traffic, so
//! a span can hold nothing the cassette does not. Ids are derived, not remembered: the trace id
//! from the session, the span id from the session and step, so a child's parent link is right
//! without any state, whether the span is sent live or backfilled from the database.

use serde_json::Value;

use super::attributes as attr;
use super::proto::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList, SpanKind, StatusCode};
use super::wire;
use crate::cassette::{Body, Interaction};
use crate::provider::{self, Provider};

/// An interaction to turn into a span, and when it happened.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub cassette: &'a str,
    pub interaction: &'a Interaction,
    /// When the answer was complete, nanoseconds since the Unix epoch.
    pub end_unix_nano: u64,
    /// For a replay: which run, and which of its replays of this interaction.
    pub replay: Option<Replay>,
}

/// A replay, for its span's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replay {
    /// This run's salt, so every replay run is a trace of its own (the recording keeps the
    /// unsalted ids) while its spans still link to each other.
    pub run: u64,
    /// How many times this run served the interaction before: a replay server answering the
    /// same recording again and again makes a trace of each answer (outside a session's
    /// steps, whose ids must stay derivable from the step alone).
    pub served: u64,
}

/// The span for `source`, its fields written to `out` (a `Span` message's body, see
/// [`wire`]); with `content`, the (protected) prompt and answer as `gen_ai.input.messages`,
/// `gen_ai.system_instructions` and `gen_ai.output.messages`.
pub fn encode(source: Source<'_>, content: bool, out: &mut Vec<u8>) {
    write(source, &Fixed::of(source, content), out);
}

/// What a span takes from its interaction alone (name, kind, attributes, status), encoded:
/// the same for every replay of one recording, so an exporter can encode it once and
/// [`write()`] each replay's span from it.
#[derive(Debug, Clone)]
pub struct Fixed {
    /// Name and kind, then (from `split`) the attributes and the status.
    bytes: Vec<u8>,
    split: usize,
    duration_nanos: u64,
    /// The ids, less which replay the span is of.
    ids: IdBase,
}

impl Fixed {
    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The fixed part of `source`'s span. It depends on the cassette, the interaction,
    /// whether it is a replay and of which run, and `content`; not on the time or which of the
    /// run's replays it is.
    pub fn of(source: Source<'_>, content: bool) -> Fixed {
        let interaction = source.interaction;
        let request = &interaction.request;
        let response = &interaction.response;
        let body = request.body.as_ref().and_then(Body::as_json);
        let operation = operation(&request.path);
        let params = Params::of(body);
        let error = if response.status >= 400 {
            Some(Error::Status(response.status))
        } else if response.incomplete {
            Some(Error::Incomplete)
        } else {
            None
        };
        let mut bytes = Vec::with_capacity(1024);
        match params.model {
            Some(model) => wire::strings(&mut bytes, 5, &[operation, " ", model]),
            None => wire::string(&mut bytes, 5, operation),
        }
        wire::uint(&mut bytes, 6, SpanKind::Client as u64);
        let split = bytes.len();
        let read = Read {
            body,
            params,
            operation,
            error,
        };
        attributes(source, content, read, &mut Attributes(&mut bytes));
        wire::message(&mut bytes, 15, |out| {
            if error.is_some() {
                wire::uint(out, 3, StatusCode::Error as u64);
            }
        });
        Fixed {
            bytes,
            split,
            duration_nanos: interaction
                .timing
                .map_or(0, |t| t.total_ms.saturating_mul(1_000_000)),
            ids: IdBase::of(source),
        }
    }
}

/// The span of `source` whose fixed part is `fixed` (made from the same source, but for its
/// time and which replay it is): ids, then name and kind, times, attributes and status.
pub fn write(source: Source<'_>, fixed: &Fixed, out: &mut Vec<u8>) {
    let ids = fixed.ids.of_replay(source.replay.map_or(0, |r| r.served));
    wire::bytes(out, 1, &ids.trace);
    wire::bytes(out, 2, &ids.span);
    if let Some(parent) = ids.parent {
        wire::bytes(out, 4, &parent);
    }
    out.extend_from_slice(&fixed.bytes[..fixed.split]);
    let start = source.end_unix_nano.saturating_sub(fixed.duration_nanos);
    if start != 0 {
        wire::fixed64(out, 7, start);
    }
    if source.end_unix_nano != 0 {
        wire::fixed64(out, 8, source.end_unix_nano);
    }
    out.extend_from_slice(&fixed.bytes[fixed.split..]);
}

/// Why a span is an error (`error.type`).
#[derive(Debug, Clone, Copy)]
enum Error {
    Status(u16),
    Incomplete,
}

/// What [`encode`] has already read from the interaction, for the attributes.
#[derive(Clone, Copy)]
struct Read<'a> {
    body: Option<&'a Value>,
    params: Params<'a>,
    operation: &'a str,
    error: Option<Error>,
}

/// The request parameters a span names, read in one pass over the body's keys (a lookup per
/// parameter scanned the keys six times: a sixth of a span's time).
#[derive(Debug, Default, Clone, Copy)]
struct Params<'a> {
    model: Option<&'a str>,
    /// `max_tokens`, `max_completion_tokens`, `max_output_tokens`: the first present wins.
    max_tokens: [Option<i64>; 3],
    temperature: Option<f64>,
    top_p: Option<f64>,
    stream: Option<bool>,
}

impl<'a> Params<'a> {
    fn of(body: Option<&'a Value>) -> Params<'a> {
        let mut params = Params::default();
        let Some(object) = body.and_then(Value::as_object) else {
            return params;
        };
        for (key, value) in object {
            match key.as_str() {
                "model" => params.model = value.as_str(),
                "max_tokens" => params.max_tokens[0] = value.as_i64(),
                "max_completion_tokens" => params.max_tokens[1] = value.as_i64(),
                "max_output_tokens" => params.max_tokens[2] = value.as_i64(),
                "temperature" => params.temperature = value.as_f64(),
                "top_p" => params.top_p = value.as_f64(),
                "stream" => params.stream = value.as_bool(),
                _ => {}
            }
        }
        params
    }
}

/// A span's attributes (field 9), in the order the conventions list them.
fn attributes(source: Source<'_>, content: bool, read: Read<'_>, attributes: &mut Attributes<'_>) {
    let Read {
        body,
        params,
        operation,
        error,
    } = read;
    let interaction = source.interaction;
    let request = &interaction.request;
    let response = &interaction.response;
    let scope = &interaction.scope;
    let provider = Provider::detect(&request.upstream, &request.path);
    let computed;
    let usage = match &interaction.usage {
        Some(usage) => usage,
        None => {
            computed = provider::usage(response).unwrap_or_default();
            &computed
        }
    };

    attributes.string(attr::OPERATION_NAME, operation);
    attributes.string(attr::PROVIDER_NAME, provider_name(provider));
    attributes.string_opt(attr::REQUEST_MODEL, params.model);
    attributes.int_opt(
        attr::REQUEST_MAX_TOKENS,
        params.max_tokens.into_iter().flatten().next(),
    );
    attributes.double_opt(attr::REQUEST_TEMPERATURE, params.temperature);
    attributes.double_opt(attr::REQUEST_TOP_P, params.top_p);
    if let Some(stream) = params.stream {
        attributes.bool(attr::REQUEST_STREAM, stream);
    }
    attributes.string_opt(attr::RESPONSE_MODEL, usage.model.as_deref());
    attributes.string_opt(attr::RESPONSE_ID, response_id(response));
    if let Some(reason) = provider::finish_reason(response) {
        attributes.value(attr::RESPONSE_FINISH_REASONS, |out| {
            wire::message(out, 5, |out| {
                wire::message(out, 1, |out| wire::string(out, 1, &reason));
            });
        });
    }
    if let (true, Some(timing)) = (response.is_stream(), interaction.timing) {
        attributes.double_opt(
            attr::RESPONSE_TIME_TO_FIRST_CHUNK,
            Some(timing.ttfb_ms as f64 / 1000.0),
        );
    }
    attributes.int_opt(
        attr::USAGE_INPUT_TOKENS,
        usage.input_tokens.map(saturating_i64),
    );
    attributes.int_opt(
        attr::USAGE_OUTPUT_TOKENS,
        usage.output_tokens.map(saturating_i64),
    );
    attributes.string_opt(attr::CONVERSATION_ID, scope.session.as_deref());
    attributes.string(attr::HTTP_REQUEST_METHOD, &request.method);
    attributes.int_opt(
        attr::HTTP_RESPONSE_STATUS_CODE,
        Some(response.status.into()),
    );
    match error {
        Some(Error::Status(status)) => attributes.string(attr::ERROR_TYPE, &status.to_string()),
        Some(Error::Incomplete) => attributes.string(attr::ERROR_TYPE, "incomplete_stream"),
        None => {}
    }
    attributes.string_opt(attr::TF_ORGANIZATION, scope.organization.as_deref());
    attributes.string_opt(attr::TF_SERVICE, scope.service.as_deref());
    attributes.string_opt(attr::TF_STEP, scope.step.as_deref());
    attributes.string_opt(attr::TF_PARENT_STEP, scope.parent_step.as_deref());
    attributes.string(attr::TF_CASSETTE, source.cassette);
    attributes.int_opt(
        attr::TF_INTERACTION_ID,
        Some(saturating_i64(interaction.id)),
    );
    attributes.string(attr::TF_UPSTREAM, &request.upstream);
    attributes.string(attr::TF_PATH, &request.path);
    if source.replay.is_some() {
        attributes.bool(attr::TF_REPLAYED, true);
    }
    if content {
        if let Some(body) = body {
            let (system, input) = input_messages(body);
            if let Some(system) = system {
                attributes.any(attr::SYSTEM_INSTRUCTIONS, system);
            }
            attributes.any(attr::INPUT_MESSAGES, input);
        }
        attributes.any(attr::OUTPUT_MESSAGES, output_messages(response));
    }
}

/// The GenAI operation a request path asks for; paths that are not a generation (`/v1/models`)
/// name themselves by their last segment.
pub fn operation(path: &str) -> &str {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    if path.ends_with("/chat/completions")
        || path.ends_with("/messages")
        || path.ends_with("/responses")
    {
        "chat"
    } else if path.ends_with("/completions") || path.ends_with("/complete") {
        "text_completion"
    } else if path.ends_with("/embeddings") {
        "embeddings"
    } else {
        path.rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("request")
    }
}

fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAi => "openai",
        Provider::Anthropic => "anthropic",
    }
}

/// The provider's id of the answer: the body's `id`, or in a stream the first event that
/// names it (OpenAI chunks, Anthropic `message_start`, Responses `response.created`).
fn response_id(response: &crate::cassette::Response) -> Option<&str> {
    fn of(value: &Value) -> Option<&str> {
        let field = provider::field;
        [
            Some(value),
            field(value, "message"),
            field(value, "response"),
        ]
        .into_iter()
        .flatten()
        .find_map(|v| field(v, "id")?.as_str())
    }
    if let Some(id) = response.body.as_ref().and_then(Body::as_json).and_then(of) {
        return Some(id);
    }
    response
        .stream
        .iter()
        .flatten()
        .find_map(|event| event.data.as_json().and_then(of))
}

/// The trace, span and parent ids of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub trace: [u8; 16],
    pub span: [u8; 8],
    pub parent: Option<[u8; 8]>,
}

impl Ids {
    /// In a session, the trace is the session's and a step's span id comes from the session
    /// and the step, so a child names its parent's id from its parent-step header alone. An
    /// interaction without a session is a trace of its own, named by cassette and interaction.
    /// A step that repeats in a session (a retry) gives spans with the same id.
    ///
    /// A replay's ids are salted with its run, and those that name the answer rather than a
    /// step (a span outside steps, a trace outside sessions) are the digest's bits mixed with
    /// which of the run's replays it is (`IdBase::of_replay`): distinct for every replay of
    /// an interaction, and one digest per interaction, not one per answer served.
    pub fn of(source: Source<'_>) -> Ids {
        IdBase::of(source).of_replay(source.replay.map_or(0, |r| r.served))
    }
}

/// A span's ids less which replay it is of: what [`Ids::of`] digests, once per interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IdBase {
    ids: Ids,
    /// Which ids name the answer, and so vary with the replay (never for a recording).
    varies: Varies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Varies {
    Nothing,
    /// Outside a step in a session: the span.
    Span,
    /// Outside a session: the trace, and the span its first bytes.
    Trace,
}

impl IdBase {
    fn of(source: Source<'_>) -> IdBase {
        let scope = &source.interaction.scope;
        let salt = source.replay.map(|r| r.run.to_be_bytes());
        let salt = salt.as_ref().map_or(&[][..], |s| &s[..]);
        let mut number = [0u8; 20];
        let interaction = [
            source.cassette,
            "#",
            decimal(source.interaction.id, &mut number),
        ];
        let answer: &[&[&str]] = &[&["interaction"], &interaction];
        // What names the answer varies with the replay; a recording's ids never vary.
        let per_replay = |varies| match source.replay {
            Some(_) => varies,
            None => Varies::Nothing,
        };
        let (trace, span, varies): ([u8; 16], [u8; 8], Varies) = match (&scope.session, &scope.step)
        {
            (Some(session), Some(step)) => (
                digest(salt, &[&["session"], &[session]]),
                digest(salt, &[&["step"], &[session], &[step]]),
                Varies::Nothing,
            ),
            (Some(session), None) => (
                digest(salt, &[&["session"], &[session]]),
                digest(salt, answer),
                per_replay(Varies::Span),
            ),
            // Trace and span are named by the same key: one digest, its first bytes the span's.
            (None, _) => {
                let trace: [u8; 16] = digest(salt, answer);
                (trace, first_bytes(&trace), per_replay(Varies::Trace))
            }
        };
        let parent = match (&scope.session, &scope.parent_step) {
            (Some(session), Some(parent)) => {
                Some(digest(salt, &[&["step"], &[session], &[parent]]))
            }
            _ => None,
        };
        IdBase {
            ids: Ids {
                trace,
                span,
                parent,
            },
            varies,
        }
    }

    /// The ids of the run's `served`th replay: the varying ids' bits, as big-endian `u64`s,
    /// each XORed with a bijective mix of `served` (so no two replays of one interaction
    /// share them). A recording's ids do not vary.
    fn of_replay(&self, served: u64) -> Ids {
        let mut ids = self.ids;
        match self.varies {
            Varies::Nothing => {}
            Varies::Span => ids.span = mixed(&ids.span, served),
            Varies::Trace => {
                let (high, low) = self.ids.trace.split_at(8);
                ids.trace[..8].copy_from_slice(&mixed(high, served));
                ids.trace[8..].copy_from_slice(&mixed(low, !served));
                ids.span = first_bytes(&ids.trace);
            }
        }
        ids
    }
}

/// The first eight bytes of `trace`, never all zero.
fn first_bytes(trace: &[u8; 16]) -> [u8; 8] {
    let mut span = [0u8; 8];
    span.copy_from_slice(&trace[..8]);
    nonzero(span)
}

/// `bits` (eight bytes) XOR splitmix64's finaliser of `n`, a bijection of `u64`; never all zero.
fn mixed(bits: &[u8], n: u64) -> [u8; 8] {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let mut word = [0u8; 8];
    word.copy_from_slice(bits);
    nonzero((u64::from_be_bytes(word) ^ z).to_be_bytes())
}

/// `n` in decimal, written into `buffer` (no allocation: this runs for every span).
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &str {
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[at..]).unwrap_or("0")
}

/// The first `N` bytes of SHA-256 over the salt and the length-prefixed parts, each part the
/// concatenation of its pieces (never all zero, which OTLP reads as "no id").
fn digest<const N: usize>(salt: &[u8], parts: &[&[&str]]) -> [u8; N] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"traceforge-otlp-id\0");
    context.update(salt);
    for pieces in parts {
        let len: usize = pieces.iter().map(|p| p.len()).sum();
        context.update(&(len as u64).to_be_bytes());
        for piece in *pieces {
            context.update(piece.as_bytes());
        }
    }
    let hash = context.finish();
    let mut out = [0u8; N];
    out.copy_from_slice(&hash.as_ref()[..N]);
    nonzero(out)
}

/// `id`, or when it is all zero (which OTLP reads as "no id"), one.
fn nonzero<const N: usize>(mut id: [u8; N]) -> [u8; N] {
    if id.iter().all(|b| *b == 0) {
        id[N - 1] = 1;
    }
    id
}

/// The prompt as the conventions' messages: `(system instructions, input messages)`, each a
/// list of `{role, parts: [{type: "text", content}]}` (other parts keep their `type`).
fn input_messages(body: &Value) -> (Option<any_value::Value>, any_value::Value) {
    let mut system = Vec::new();
    for key in ["system", "instructions"] {
        if let Some(value) = body.get(key) {
            system.extend(parts(value));
        }
    }
    let mut messages = Vec::new();
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let content = message.get("content").map(parts).unwrap_or_default();
        if role == "system" || role == "developer" {
            system.extend(content);
            continue;
        }
        messages.push(message_value(role, content, None));
    }
    match body.get("input") {
        Some(Value::Array(items)) => {
            for item in items {
                let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                let content = match item.get("content") {
                    Some(content) => parts(content),
                    None => parts(item),
                };
                messages.push(message_value(role, content, None));
            }
        }
        Some(other) => messages.push(message_value("user", parts(other), None)),
        None => {}
    }
    if let Some(prompt) = body.get("prompt") {
        messages.push(message_value("user", parts(prompt), None));
    }
    let system = (!system.is_empty()).then(|| array(system));
    (system, array(messages))
}

/// The answer as the conventions' output messages: one assistant message with its text and
/// tool calls, and the finish reason.
fn output_messages(response: &crate::cassette::Response) -> any_value::Value {
    let assembled = provider::assemble(response);
    let mut parts = Vec::new();
    if !assembled.text.is_empty() {
        parts.push(text_part(&assembled.text));
    }
    for call in &assembled.tool_calls {
        parts.push(kvlist(vec![
            ("type", string_value("tool_call".into())),
            ("name", string_value(call.name.clone())),
            ("arguments", string_value(call.arguments.clone())),
        ]));
    }
    let reason = provider::finish_reason(response);
    array(vec![message_value("assistant", parts, reason)])
}

/// Content as message parts: a string is one text part; an array of blocks keeps each
/// block's text (`text` or `content`) and names other blocks by their `type`.
fn parts(content: &Value) -> Vec<AnyValue> {
    match content {
        Value::String(text) => vec![text_part(text)],
        Value::Array(blocks) => blocks
            .iter()
            .map(|block| {
                let text = block
                    .get("text")
                    .or_else(|| block.get("content"))
                    .and_then(Value::as_str);
                match (text, block) {
                    (Some(text), _) => text_part(text),
                    (None, Value::String(text)) => text_part(text),
                    (None, _) => {
                        let kind = block
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown");
                        kvlist(vec![("type", string_value(kind.to_string()))])
                    }
                }
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![text_part(&other.to_string())],
    }
}

fn message_value(role: &str, parts: Vec<AnyValue>, finish: Option<String>) -> AnyValue {
    let mut fields = vec![
        ("role", string_value(role.to_string())),
        (
            "parts",
            AnyValue {
                value: Some(array(parts)),
            },
        ),
    ];
    if let Some(reason) = finish {
        fields.push(("finish_reason", string_value(reason)));
    }
    kvlist(fields)
}

fn text_part(text: &str) -> AnyValue {
    kvlist(vec![
        ("type", string_value("text".into())),
        ("content", string_value(text.to_string())),
    ])
}

fn kvlist(fields: Vec<(&str, AnyValue)>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList {
            values: fields
                .into_iter()
                .map(|(key, value)| KeyValue {
                    key: key.to_string(),
                    value: Some(value),
                })
                .collect(),
        })),
    }
}

fn array(values: Vec<AnyValue>) -> any_value::Value {
    any_value::Value::ArrayValue(ArrayValue { values })
}

fn string_value(text: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(text)),
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A span's attributes as they are written: each a `KeyValue` (field 9 of the span) whose
/// `AnyValue` holds one of its `oneof` fields.
struct Attributes<'a>(&'a mut Vec<u8>);

impl Attributes<'_> {
    /// `key` with the `AnyValue` fields `value` writes.
    fn value(&mut self, key: &str, value: impl FnOnce(&mut Vec<u8>)) {
        wire::message(self.0, 9, |out| {
            wire::string(out, 1, key);
            wire::message(out, 2, value);
        });
    }

    /// `key` with a value built as a message struct (the content attributes, off by default).
    fn any(&mut self, key: &str, value: any_value::Value) {
        self.value(key, |out| value.encode(out));
    }

    fn string(&mut self, key: &str, value: &str) {
        // Most attributes are short: every length then takes one byte, known before writing,
        // so the bytes go out in four copies instead of a dozen pushes and two length fixes.
        let any_value = 2 + value.len();
        let key_value = 2 + key.len() + 2 + any_value;
        if key_value < 0x80 {
            let out = &mut *self.0;
            out.reserve(2 + key_value);
            out.extend_from_slice(&[(9 << 3) | 2, key_value as u8, (1 << 3) | 2, key.len() as u8]);
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(&[
                (2 << 3) | 2,
                any_value as u8,
                (1 << 3) | 2,
                value.len() as u8,
            ]);
            out.extend_from_slice(value.as_bytes());
            return;
        }
        self.value(key, |out| wire::string(out, 1, value));
    }

    fn string_opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.string(key, value);
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.value(key, |out| wire::uint(out, 2, u64::from(value)));
    }

    fn int_opt(&mut self, key: &str, value: Option<i64>) {
        if let Some(value) = value {
            self.value(key, |out| wire::uint(out, 3, value as u64));
        }
    }

    fn double_opt(&mut self, key: &str, value: Option<f64>) {
        if let Some(value) = value {
            self.value(key, |out| wire::double(out, 4, value));
        }
    }
}
