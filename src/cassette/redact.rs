//! Keeping secrets and PII off disk (DESIGN.md §12): everything in an interaction that is
//! written — path and query, headers, bodies (compressed and binary ones decoded first), stream
//! events and the text a stream assembles — goes through the run's [`Protector`], and every
//! value replaced is entered in the interaction's redaction audit. Credential headers and
//! credential-named query parameters are written as `REDACTED` whatever they hold.
//!
//! A stream's text arrives split across events (`choices[0].delta.content`, Anthropic's
//! `delta.text`, the Responses API's `delta`); a value split across events is only seen in the
//! assembled text. So each such channel is protected whole and the result handed back to the
//! events: a replaced value's replacement goes to the event where the value began and its other
//! pieces are dropped. What the events hold, joined, equals protecting the whole text, however
//! the provider split it, and no event holds a piece of a detected value.
//!
//! [`Redactor::scan`] finds what redaction would replace without changing anything: it powers
//! `vcr verify` and `pii scan`, so what redaction misses, they report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use super::{Body, Interaction, Redaction, RedactionAction, Request, Response, StreamEvent};
use crate::sensitive::protect::{Action, Hit, SECRET_PLACEHOLDER};
use crate::sensitive::{DetectorConfig, Detectors, Mode, Protector};

/// The placeholder written in place of a secret.
pub const REDACTED: &str = SECRET_PLACEHOLDER;

/// The detector an audit entry names for a credential header or query parameter.
const CREDENTIAL_DETECTOR: &str = "credential";

/// Headers that always carry credentials, whatever their value looks like.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
    "x-functions-key",
    "private-token",
    "x-amz-security-token",
];

/// Query parameters that carry credentials (Gemini's `?key=`, presigned URLs' signatures,
/// OAuth codes).
const CREDENTIAL_PARAMS: &[&str] = &[
    "key",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token",
    "session_token",
    "token",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "code",
    "auth",
];

/// Name segments (split at `-`, `_` and `.`) that say a header or parameter holds a credential.
/// `tokens` (plural) is not one: `x-ratelimit-remaining-tokens` counts tokens.
const CREDENTIAL_SEGMENTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "credential",
    "credentials",
    "apikey",
    "auth",
    "signature",
];

/// Whether a name (`x-my-api-key`, `X-Amz-Signature`) says its value is a credential.
fn credential_name(name: &str, exact: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    if exact.contains(&lower.as_str()) {
        return true;
    }
    let segments: Vec<&str> = lower.split(['-', '_', '.']).collect();
    segments.iter().any(|s| CREDENTIAL_SEGMENTS.contains(s))
        || segments.windows(2).any(|pair| {
            matches!(
                (pair[0], pair[1]),
                (
                    "api" | "subscription" | "access" | "secret" | "private",
                    "key"
                )
            )
        })
}

/// Whether a header named `name` carries a credential (`*-api-key`, `*-token`, `*-secret`,
/// `authorization`, `x-goog-api-key`, …).
pub fn is_credential_header(name: &str) -> bool {
    credential_name(name, CREDENTIAL_HEADERS)
}

/// Whether a query parameter named `name` carries a credential.
pub fn is_credential_param(name: &str) -> bool {
    credential_name(name, CREDENTIAL_PARAMS)
}

/// `url` fit to show: a password in its user info becomes `***` (`http://user:***@host`), and
/// so does a user name given alone, since that is how tokens are often passed. The rest of the
/// text is kept exactly as written.
pub fn url(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    let authority_len = url[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let shown = match authority[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_string(),
    };
    format!(
        "{}{shown}{}",
        &url[..authority_start],
        &url[authority_start + at..]
    )
}

/// One place a scan found something: where, and what found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    pub detector: String,
}

/// A request body for the provider under `pii.upstream: pseudonymize`.
#[derive(Debug)]
pub struct Pseudonymized {
    /// The path and query to send, when PII in them was replaced by surrogates.
    pub path: Option<String>,
    /// The body to send: decoded, PII replaced by surrogates.
    pub body: Vec<u8>,
    /// (surrogate, original) of every replacement, to restore the answer with.
    pub pairs: Vec<(String, String)>,
}

/// What must be removed before an interaction is written, and how.
#[derive(Clone)]
pub struct Redactor {
    headers: Vec<String>,
    protector: Arc<Protector>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("headers", &self.headers)
            .field("mode", &self.protector.mode())
            .finish()
    }
}

impl Default for Redactor {
    /// The defaults of `pii:`: every built-in detector, PII masked.
    fn default() -> Self {
        let detectors =
            Detectors::new(&DetectorConfig::default()).expect("the default detectors compile");
        let protector =
            Protector::new(Mode::Mask, detectors, None).expect("mask mode needs no key");
        Redactor::new(&[], Arc::new(protector))
    }
}

/// Collects audit entries, all stamped with one time.
struct Audit<'a> {
    at: &'a str,
    out: &'a mut Vec<Redaction>,
}

impl Audit<'_> {
    fn hits(&mut self, path: &str, hits: &[Hit]) {
        for hit in hits {
            self.out.push(Redaction {
                path: path.to_string(),
                span: [hit.start, hit.end],
                detector: hit.detector.clone(),
                action: match hit.action {
                    Action::Mask => RedactionAction::Mask,
                    Action::Pseudonymize => RedactionAction::Pseudonymize,
                },
                at: self.at.to_string(),
                hmac: hit.hash.clone(),
            });
        }
    }
}

impl Redactor {
    /// A redactor for `protector` that also treats `extra_headers` (case-insensitive) as
    /// credential headers.
    pub fn new(extra_headers: &[String], protector: Arc<Protector>) -> Self {
        Redactor {
            headers: extra_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            protector,
        }
    }

    pub fn protector(&self) -> &Arc<Protector> {
        &self.protector
    }

    pub fn is_secret_header(&self, name: &str) -> bool {
        is_credential_header(name) || self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Protects one string in place, auditing what it replaced.
    fn text(&self, path: &str, text: &mut String, audit: &mut Audit<'_>) {
        if let Some(protected) = self.protector.protect(text) {
            audit.hits(path, &protected.hits);
            *text = protected.text;
        }
    }

    /// Redacts a request in place: its path and query, headers and body. The audit entries
    /// are appended to `audit`.
    pub fn request(&self, request: &mut Request, audit: &mut Vec<Redaction>) {
        let at = super::now();
        let mut audit = Audit {
            at: &at,
            out: audit,
        };
        request.path = self.path_and_query(&request.path, &mut audit);
        self.headers("request", &mut request.headers, &mut audit);
        if let Some(body) = &mut request.body {
            let encoding = request.headers.get("content-encoding").cloned();
            if self.body("request.body", body, encoding.as_deref(), &mut audit) {
                request.headers.remove("content-encoding");
            }
        }
    }

    /// The stored form of a request's path and body as they arrived: what is written, and
    /// what matching compares.
    pub fn stored_request(
        &self,
        path: &str,
        body: Option<Body>,
        encoding: Option<&str>,
        audit: &mut Vec<Redaction>,
    ) -> (String, Option<Body>) {
        let at = super::now();
        let mut audit = Audit {
            at: &at,
            out: audit,
        };
        let path = self.path_and_query(path, &mut audit);
        let body = body.map(|mut body| {
            self.body("request.body", &mut body, encoding, &mut audit);
            body
        });
        (path, body)
    }

    /// Protects one value stored at `path` (a scope header's, say) in place.
    pub fn value(&self, path: &str, text: &mut String, audit: &mut Vec<Redaction>) {
        let at = super::now();
        self.text(
            path,
            text,
            &mut Audit {
                at: &at,
                out: audit,
            },
        );
    }

    /// Redacts header values in place (`side` is `request` or `response`).
    pub fn headers_of(
        &self,
        side: &str,
        headers: &mut BTreeMap<String, String>,
        audit: &mut Vec<Redaction>,
    ) {
        let at = super::now();
        self.headers(
            side,
            headers,
            &mut Audit {
                at: &at,
                out: audit,
            },
        );
    }

    /// Redacts a response in place: headers, body and stream.
    pub fn response(&self, response: &mut Response, audit: &mut Vec<Redaction>) {
        let at = super::now();
        let mut audit = Audit {
            at: &at,
            out: audit,
        };
        self.headers("response", &mut response.headers, &mut audit);
        if let Some(body) = &mut response.body {
            self.body("response.body", body, None, &mut audit);
        }
        if let Some(events) = &mut response.stream {
            self.stream(events, &mut audit);
        }
    }

    /// Redacts everything in an interaction that could hold a secret or PII, adding to its
    /// audit.
    pub fn interaction(&self, interaction: &mut Interaction) {
        let mut audit = std::mem::take(&mut interaction.redactions);
        self.request(&mut interaction.request, &mut audit);
        self.response(&mut interaction.response, &mut audit);
        interaction.redactions = audit;
    }

    /// Where an interaction still holds a secret or PII that redaction would replace.
    pub fn scan(&self, interaction: &Interaction) -> Vec<Found> {
        let scanner = Redactor {
            headers: self.headers.clone(),
            protector: Arc::new(self.protector.scanner()),
        };
        let mut copy = interaction.clone();
        copy.redactions.clear();
        scanner.interaction(&mut copy);
        let mut found: Vec<Found> = copy
            .redactions
            .into_iter()
            .map(|r| Found {
                path: r.path,
                detector: r.detector,
            })
            .collect();
        found.dedup();
        found
    }

    fn headers(&self, side: &str, headers: &mut BTreeMap<String, String>, audit: &mut Audit<'_>) {
        for (name, value) in headers.iter_mut() {
            let path = format!("{side}.headers.{name}");
            if self.is_secret_header(name) {
                if value != REDACTED {
                    audit.hits(&path, &[self.credential_hit(value)]);
                    *value = REDACTED.to_string();
                }
            } else {
                self.text(&path, value, audit);
            }
        }
    }

    fn credential_hit(&self, value: &str) -> Hit {
        Hit {
            start: 0,
            end: value.len(),
            detector: CREDENTIAL_DETECTOR.to_string(),
            action: Action::Mask,
            replacement: REDACTED.to_string(),
            hash: self.protector.audit_hash(value),
        }
    }

    /// The path with every segment and query value protected (compared decoded, written
    /// encoded), credential-named parameters `REDACTED`.
    fn path_and_query(&self, path: &str, audit: &mut Audit<'_>) -> String {
        let (base, query) = match path.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (path, None),
        };
        let mut out = String::with_capacity(path.len());
        for (i, segment) in base.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            match self.protector.protect(&decoded) {
                Some(protected) => {
                    audit.hits("request.path", &protected.hits);
                    out.extend(percent_encoding::utf8_percent_encode(
                        &protected.text,
                        SEGMENT,
                    ));
                }
                None => out.push_str(segment),
            }
        }
        let Some(query) = query else {
            return out;
        };
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            let (name, value) = match pair.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (pair, None),
            };
            let shown_name = form_decode(name);
            let path = format!("request.query.{shown_name}");
            out.push_str(name);
            let Some(value) = value else { continue };
            out.push('=');
            if is_credential_param(&shown_name) || self.headers.contains(&shown_name) {
                if value != REDACTED {
                    audit.hits(&path, &[self.credential_hit(&form_decode(value))]);
                }
                out.push_str(REDACTED);
                continue;
            }
            match self.protector.protect(&form_decode(value)) {
                Some(protected) => {
                    audit.hits(&path, &protected.hits);
                    out.extend(url::form_urlencoded::byte_serialize(
                        protected.text.as_bytes(),
                    ));
                }
                None => out.push_str(value),
            }
        }
        out
    }

    /// Protects a body in place. A compressed body is stored decoded (returns `true`: the
    /// `content-encoding` no longer applies); a binary one has its text runs protected.
    fn body(
        &self,
        path: &str,
        body: &mut Body,
        encoding: Option<&str>,
        audit: &mut Audit<'_>,
    ) -> bool {
        match body {
            Body::Json(value) => {
                self.json(value, &mut path.to_string(), audit);
                false
            }
            Body::Text(text) => {
                self.text(path, text, audit);
                false
            }
            Body::Base64(data) => {
                let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.as_bytes())
                else {
                    return false;
                };
                if let Some(plain) = decompress(&bytes, encoding) {
                    *body = Body::from_bytes(&plain);
                    self.body(path, body, None, audit);
                    return true;
                }
                if let Some(protected) = self.binary(path, &bytes, audit) {
                    *data = base64::engine::general_purpose::STANDARD.encode(protected);
                }
                false
            }
        }
    }

    /// Protects the UTF-8 runs of binary data; `None` when nothing changed.
    fn binary(&self, path: &str, bytes: &[u8], audit: &mut Audit<'_>) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut changed = false;
        for chunk in bytes.utf8_chunks() {
            let mut text = chunk.valid().to_string();
            let before = audit.out.len();
            self.text(path, &mut text, audit);
            changed |= audit.out.len() > before;
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(chunk.invalid());
        }
        changed.then_some(out)
    }

    /// Protects every string of a JSON value, keys included.
    fn json(&self, value: &mut Value, path: &mut String, audit: &mut Audit<'_>) {
        match value {
            Value::String(text) => self.text(path, text, audit),
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    self.json(item, path, audit);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                if map.keys().any(|k| self.protector.protect(k).is_some()) {
                    let entries = std::mem::take(map);
                    for (mut k, v) in entries {
                        self.text(&format!("{path}(key)"), &mut k, audit);
                        map.insert(k, v);
                    }
                }
                for (key, item) in map.iter_mut() {
                    let len = path.len();
                    push_key(path, key);
                    self.json(item, path, audit);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Protects a stream: the text channels whole, every other string of every event on its
    /// own.
    fn stream(&self, events: &mut [StreamEvent], audit: &mut Audit<'_>) {
        let layout = StreamLayout::of(events);
        for (i, event) in events.iter_mut().enumerate() {
            let path = format!("response.stream[{i}]");
            match &mut event.data {
                Body::Json(value) => {
                    for (pointer, shown) in &layout.others[i] {
                        if let Some(Value::String(text)) = value.pointer_mut(pointer) {
                            self.text(&format!("{path}.{shown}"), text, audit);
                        }
                    }
                }
                // Protected whole with the other pieces of its channel, below.
                data if is_text_piece(data) => {}
                other => {
                    self.body(&path, other, None, audit);
                }
            }
        }
        for channel in &layout.channels {
            let texts = channel.texts(events);
            let whole = texts.concat();
            let Some(protected) = self.protector.protect(&whole) else {
                continue;
            };
            audit.hits(&channel.path, &protected.hits);
            channel.put(events, distribute(&whole, &texts, &protected.hits));
        }
    }

    /// A request as the provider receives it under `pii.upstream: pseudonymize`: PII in the
    /// path, query values and body replaced by surrogates, secrets and credential parameters
    /// left alone, and the (surrogate, original) pairs used, to restore the answer. `None`
    /// when nothing changed. A compressed body is sent decoded.
    pub fn pseudonymize_upstream(
        &self,
        path: &str,
        bytes: &[u8],
        encoding: Option<&str>,
    ) -> Option<Pseudonymized> {
        let decoded = decompress(bytes, encoding);
        let plain = decoded.as_deref().unwrap_or(bytes);
        let mut pairs = Vec::new();
        let swap = |text: &mut String, pairs: &mut Vec<(String, String)>| {
            if let Some(p) = self.protector.pseudonymize_only(text) {
                for hit in &p.hits {
                    pairs.push((
                        hit.replacement.clone(),
                        text[hit.start..hit.end].to_string(),
                    ));
                }
                *text = p.text;
            }
        };
        let path = pseudonymize_path(path, &mut |text| swap(text, &mut pairs));
        let before = pairs.len();
        let changed = match Body::from_bytes(plain) {
            Body::Json(mut value) => {
                for_each_string(&mut value, &mut |text| swap(text, &mut pairs));
                (pairs.len() > before).then(|| serde_json::to_vec(&value).unwrap_or_default())
            }
            Body::Text(mut text) => {
                swap(&mut text, &mut pairs);
                (pairs.len() > before).then(|| text.into_bytes())
            }
            Body::Base64(_) => None,
        };
        let body = match (changed, decoded) {
            (Some(body), _) | (None, Some(body)) => body,
            // Sent without its `content-encoding`, so only a body that had none.
            (None, None) if path.is_some() && encoding.is_none() => bytes.to_vec(),
            (None, None) => return None,
        };
        Some(Pseudonymized { path, body, pairs })
    }
}

/// `path` with PII in its segments and query values replaced by `swap`, or `None` when
/// nothing changed. Credential parameters go upstream as they are: the provider needs them.
fn pseudonymize_path(path: &str, swap: &mut impl FnMut(&mut String)) -> Option<String> {
    let (base, query) = match path.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (path, None),
    };
    let mut changed = false;
    let mut replace = |text: String| {
        let mut swapped = text.clone();
        swap(&mut swapped);
        (swapped != text).then_some(swapped)
    };
    let mut segments = Vec::new();
    for segment in base.split('/') {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        match replace(decoded.into_owned()) {
            Some(swapped) => {
                changed = true;
                segments.push(percent_encoding::utf8_percent_encode(&swapped, SEGMENT).to_string());
            }
            None => segments.push(segment.to_string()),
        }
    }
    let mut out = segments.join("/");
    if let Some(query) = query {
        let mut pairs = Vec::new();
        for pair in query.split('&') {
            let swapped = match pair.split_once('=') {
                Some((name, value)) if !is_credential_param(&form_decode(name)) => {
                    replace(form_decode(value)).map(|swapped| {
                        let encoded: String =
                            url::form_urlencoded::byte_serialize(swapped.as_bytes()).collect();
                        format!("{name}={encoded}")
                    })
                }
                _ => None,
            };
            changed |= swapped.is_some();
            pairs.push(swapped.unwrap_or_else(|| pair.to_string()));
        }
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    changed.then_some(out)
}

/// Percent-encodes what a path segment cannot hold as is.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A query component decoded as forms encode it (`+` is a space).
fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn push_key(path: &mut String, key: &str) {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        path.push('.');
        path.push_str(key);
    } else {
        let _ = write!(path, "[{}]", Value::String(key.to_string()));
    }
}

/// Calls `f` on every string value of a JSON value (not keys).
pub(crate) fn for_each_string(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(text) => f(text),
        Value::Array(items) => items.iter_mut().for_each(|v| for_each_string(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| for_each_string(v, f)),
        _ => {}
    }
}

/// String fields under a `delta` that carry streamed text, piece by piece.
const DELTA_FIELDS: &[&str] = &[
    "content",
    "text",
    "arguments",
    "partial_json",
    "thinking",
    "refusal",
    "reasoning",
    "reasoning_content",
];

/// A stream's text channels and the other strings of its events.
pub(crate) struct StreamLayout {
    pub channels: Vec<Channel>,
    /// Per event: (JSON pointer, shown path) of every string that is not a channel piece.
    pub others: Vec<Vec<(String, String)>>,
}

/// One text the provider streamed piece by piece: `choices[0].delta.content`, Anthropic's
/// `delta.text` of one content block, the Responses API's `delta` of one output item.
pub(crate) struct Channel {
    /// What tells it from other channels: the event's `type`, top-level indices, the pointer.
    key: String,
    /// The audit path: `response.stream.choices[0].delta.content`.
    pub path: String,
    /// (event, JSON pointer) of each piece, in order.
    pub pieces: Vec<(usize, String)>,
}

impl Channel {
    /// The pieces' texts, in order.
    pub fn texts(&self, events: &[StreamEvent]) -> Vec<String> {
        self.pieces
            .iter()
            .map(|(i, pointer)| match &events[*i].data {
                Body::Json(value) => value
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                Body::Text(text) if pointer.is_empty() => text.clone(),
                _ => String::new(),
            })
            .collect()
    }

    /// Writes `parts` back into the pieces, one each.
    pub fn put(&self, events: &mut [StreamEvent], parts: Vec<String>) {
        for ((i, pointer), part) in self.pieces.iter().zip(parts) {
            match &mut events[*i].data {
                Body::Json(value) => {
                    if let Some(slot) = value.pointer_mut(pointer) {
                        *slot = Value::String(part);
                    }
                }
                Body::Text(text) if pointer.is_empty() => *text = part,
                _ => {}
            }
        }
    }
}

impl StreamLayout {
    pub fn of(events: &[StreamEvent]) -> StreamLayout {
        let mut channels: Vec<Channel> = Vec::new();
        let mut others = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            let mut rest = Vec::new();
            if is_text_piece(&event.data) {
                // Plain-text events (`data: some words`) are one channel, the whole text.
                match channels.iter_mut().find(|c| c.key == TEXT_CHANNEL) {
                    Some(channel) => channel.pieces.push((i, String::new())),
                    None => channels.push(Channel {
                        key: TEXT_CHANNEL.to_string(),
                        path: "response.stream".to_string(),
                        pieces: vec![(i, String::new())],
                    }),
                }
            }
            if let Body::Json(value) = &event.data {
                let context = channel_context(value);
                let mut strings = Vec::new();
                collect_strings(value, &mut String::new(), &mut String::new(), &mut strings);
                for (pointer, shown, is_delta) in strings {
                    if !is_delta {
                        rest.push((pointer, shown));
                        continue;
                    }
                    let key = format!("{context}{pointer}");
                    match channels.iter_mut().find(|c| c.key == key) {
                        Some(channel) => channel.pieces.push((i, pointer)),
                        None => channels.push(Channel {
                            key,
                            path: format!("response.stream.{shown}"),
                            pieces: vec![(i, pointer)],
                        }),
                    }
                }
            }
            others.push(rest);
        }
        StreamLayout { channels, others }
    }
}

/// The key of the channel of plain-text events (no JSON key can take this form).
pub(crate) const TEXT_CHANNEL: &str = "text events";

/// Whether an event's data is a piece of plain text streamed as it is (`data: some words`),
/// as opposed to JSON or the `[DONE]` sentinel.
pub(crate) fn is_text_piece(data: &Body) -> bool {
    matches!(data, Body::Text(text) if text != "[DONE]")
}

/// A copy of `template` (a channel's last event) carrying `text` at `pointer` and no other
/// streamed text: how text held back from a stream is sent once it may go. A plain-text event
/// carries `text` as its data.
pub(crate) fn carrying(template: &StreamEvent, pointer: &str, text: String) -> StreamEvent {
    let mut event = template.clone();
    match &mut event.data {
        Body::Json(value) => {
            let mut strings = Vec::new();
            collect_strings(value, &mut String::new(), &mut String::new(), &mut strings);
            for (at, _, is_delta) in strings {
                if let (true, Some(slot)) = (is_delta, value.pointer_mut(&at)) {
                    *slot = Value::String(String::new());
                }
            }
            if let Some(slot) = value.pointer_mut(pointer) {
                *slot = Value::String(text);
            }
        }
        Body::Text(data) => *data = text,
        Body::Base64(_) => {}
    }
    event
}

/// What tells one stream channel from another besides its path: the event's `type` and the
/// indices Anthropic and the Responses API give at the top level.
pub(crate) fn channel_context(value: &Value) -> String {
    let mut context = String::new();
    for field in ["type", "index", "output_index", "content_index", "item_id"] {
        if let Some(v) = value.get(field) {
            let _ = write!(context, "{field}={v};");
        }
    }
    context
}

/// Every string of an event: (JSON pointer, shown path, whether it is a streamed text piece).
pub(crate) fn collect_strings(
    value: &Value,
    pointer: &mut String,
    shown: &mut String,
    out: &mut Vec<(String, String, bool)>,
) {
    match value {
        Value::String(_) => {
            let last = pointer.rsplit('/').next().unwrap_or("");
            let in_delta = pointer.split('/').any(|s| s == "delta");
            let is_delta = last == "delta" || (in_delta && DELTA_FIELDS.contains(&last));
            let shown = shown.strip_prefix('.').unwrap_or(shown).to_string();
            out.push((pointer.clone(), shown, is_delta));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let (p, s) = (pointer.len(), shown.len());
                let _ = write!(pointer, "/{i}");
                let _ = write!(shown, "[{i}]");
                collect_strings(item, pointer, shown, out);
                pointer.truncate(p);
                shown.truncate(s);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let (p, s) = (pointer.len(), shown.len());
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                push_key(shown, key);
                collect_strings(item, pointer, shown, out);
                pointer.truncate(p);
                shown.truncate(s);
            }
        }
        _ => {}
    }
}

/// Hands a protected whole back to the pieces it was joined from: text outside a hit stays in
/// its piece, a hit's replacement goes to the piece where the hit began, and the hit's other
/// characters are dropped. The parts, joined, are the protected whole.
fn distribute(whole: &str, pieces: &[String], hits: &[Hit]) -> Vec<String> {
    let mut parts = Vec::with_capacity(pieces.len());
    let mut offset = 0;
    let mut first = 0;
    for piece in pieces {
        let end = offset + piece.len();
        while first < hits.len() && hits[first].end <= offset {
            first += 1;
        }
        let mut part = String::with_capacity(piece.len());
        let mut at = offset;
        for hit in hits[first..].iter().take_while(|h| h.start < end) {
            if hit.start >= at {
                part.push_str(&whole[at..hit.start]);
            }
            if hit.start >= offset {
                part.push_str(&hit.replacement);
            }
            at = at.max(hit.end.min(end));
        }
        part.push_str(&whole[at..end]);
        parts.push(part);
        offset = end;
    }
    parts
}

/// The decoded bytes of a compressed body: by its `content-encoding`, or by the magic bytes of
/// gzip and zstd when the encoding is not known. `None` when it is not compressed or does not
/// decode. Decoding stops at 256 MiB.
pub(crate) fn decompress(bytes: &[u8], encoding: Option<&str>) -> Option<Vec<u8>> {
    const LIMIT: u64 = 256 << 20;
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    let encoding = match encoding.as_deref() {
        Some(e) if !e.is_empty() && e != "identity" => e.to_string(),
        _ if bytes.starts_with(&[0x1f, 0x8b]) => "gzip".to_string(),
        _ if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) => "zstd".to_string(),
        _ => return None,
    };
    let mut out = Vec::new();
    let read = match encoding.as_str() {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(bytes)
            .take(LIMIT)
            .read_to_end(&mut out),
        "deflate" => {
            let zlib = flate2::read::ZlibDecoder::new(bytes)
                .take(LIMIT)
                .read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(bytes)
                    .take(LIMIT)
                    .read_to_end(&mut out)
            } else {
                zlib
            }
        }
        "br" => brotli::Decompressor::new(bytes, 4096)
            .take(LIMIT)
            .read_to_end(&mut out),
        "zstd" => match zstd::stream::read::Decoder::new(bytes) {
            Ok(decoder) => decoder.take(LIMIT).read_to_end(&mut out),
            Err(e) => Err(e),
        },
        _ => return None,
    };
    read.ok().map(|_| out)
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
