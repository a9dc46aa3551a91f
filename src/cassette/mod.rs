//! The cassette: format version 1 (DESIGN.md §4), its atomic file I/O, request matching and
//! secret redaction. Everything here is synchronous and knows nothing of
//! HTTP servers or tokio; the proxy builds [`Interaction`]s and hands them here.

pub mod body;
mod defaults;
pub mod files;
pub mod journal;
pub mod matcher;
pub mod name;
pub mod redact;
pub mod reveal;
pub(crate) mod scratch;
pub mod vault;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use body::Body;
pub use name::CassetteName;

/// The only cassette format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A time as `recorded_at` stores it: RFC 3339, UTC, whole seconds, so timestamps sort as text.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The current time as a [`timestamp`].
pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// Request headers that describe the connection, not the request, and are never stored.
pub const UNRECORDED_REQUEST_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "accept-encoding",
    "te",
    "upgrade",
    "proxy-connection",
];

/// Response headers that stop being true once a body is stored decoded.
pub const UNRECORDED_RESPONSE_HEADERS: &[&str] = &[
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// One cassette file: an ordered list of recorded interactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cassette {
    pub version: u32,
    pub cassette: String,
    #[serde(default)]
    pub interactions: Vec<Interaction>,
}

impl Cassette {
    pub fn new(name: &str) -> Self {
        Cassette {
            version: FORMAT_VERSION,
            cassette: name.to_string(),
            interactions: Vec::new(),
        }
    }
}

/// One request and the response the upstream gave to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub id: u64,
    pub recorded_at: String,
    pub request: Request,
    pub response: Response,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    #[serde(default, skip_serializing_if = "Scope::is_empty")]
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The values taken out of this interaction before it was stored (DESIGN.md §12): its
    /// part of the redaction audit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redactions: Vec<Redaction>,
    /// What the policies decided about this interaction (DESIGN.md §13).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
}

/// One policy decision about an interaction: which rule matched where, and what became of the
/// traffic. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub policy: String,
    pub version: String,
    pub rule: String,
    /// `block`, `redact` or `warn`.
    pub action: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// `request.body.messages[0].content`, `response.stream.choices[0].delta.content`, …
    pub path: String,
    /// What matched: `email`, `term`, `pattern 0`, `model`, …
    pub entity: String,
    /// `applied` (the traffic was blocked or rewritten, or a warning given), `evaluated` (the
    /// policy is not enforced at the proxy) or `disabled` (the emergency switch was on).
    pub outcome: String,
}

/// One value masked or pseudonymised before an interaction was stored: where it was, what
/// found it, what was done and when, and a keyed hash of it. Never the value itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// Where the value stood: `request.body.messages[0].content`, `request.headers.x-api-key`,
    /// `request.query.token`, `response.stream.choices[0].delta.content` (a stream's text
    /// channel, assembled across its events).
    pub path: String,
    /// Byte offsets of the value in the original text at `path`.
    pub span: [usize; 2],
    /// The detector (`email`, `credit_card`, a custom name) or secret rule that found it.
    pub detector: String,
    pub action: RedactionAction,
    /// When it was redacted ([`timestamp`]).
    pub at: String,
    /// HMAC-SHA256 of the value under the audit key, first 16 bytes in hex: the same value
    /// gives the same hash under one key, and without the key no candidate can be tested.
    pub hmac: String,
}

/// What was written in place of a redacted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionAction {
    /// A typed placeholder (`<EMAIL>`), or `REDACTED` for a secret.
    Mask,
    /// A consistent surrogate of the same kind, reversible with the key.
    Pseudonymize,
    /// Not a redaction: originals were shown to someone holding the key (`pii reveal`). Only
    /// the trace database's audit holds these.
    Reveal,
}

impl RedactionAction {
    pub fn name(self) -> &'static str {
        match self {
            RedactionAction::Mask => "mask",
            RedactionAction::Pseudonymize => "pseudonymize",
            RedactionAction::Reveal => "reveal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub method: String,
    pub upstream: String,
    /// Path below the upstream's base URL, with the query string as sent.
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Server-sent events, one entry per event, for `text/event-stream` responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<Vec<StreamEvent>>,
    /// The stream ended without the provider's terminal event.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

impl Response {
    pub fn is_stream(&self) -> bool {
        self.stream.is_some()
    }
}

/// One server-sent event and when it arrived, counted from the moment the request was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamEvent {
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u64>,
    pub data: Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    pub ttfb_ms: u64,
    pub total_ms: u64,
}

/// The `X-TraceForge-*` scope headers the client sent with the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_step: Option<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self == &Scope::default()
    }
}

/// What the provider reported about the model and tokens of one response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
}
