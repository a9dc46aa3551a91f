//! Checks on a response: status, body text (for a stream, the assistant text assembled from its
//! deltas), a regular expression or a JSON path, with the body worked out at most once per
//! response and only when a check needs it. Pure: no I/O, no metrics.

use crate::cassette::{Body, Response};
use crate::load::client::Exchange;
use crate::load::scenario::{Check, Condition};
use crate::provider::{self, sse};

/// The response body as checks see it, worked out once: for a stream, the assistant text
/// assembled from its deltas; otherwise the body as text.
pub(super) struct LazyBody<'a> {
    exchange: &'a Exchange,
    text: Option<String>,
    events: Option<Vec<serde_json::Value>>,
    json: Option<Option<serde_json::Value>>,
}

impl<'a> LazyBody<'a> {
    pub(super) fn new(exchange: &'a Exchange) -> Self {
        LazyBody {
            exchange,
            text: None,
            events: None,
            json: None,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.exchange.body.as_deref().unwrap_or_default()
    }

    fn text(&mut self) -> &str {
        if self.text.is_none() {
            let text = if self.exchange.is_stream {
                let events = sse::parse_all(self.bytes())
                    .into_iter()
                    .map(|e| e.into_stream_event(0))
                    .collect();
                let response = Response {
                    status: self.exchange.status,
                    headers: Default::default(),
                    body: None,
                    stream: Some(events),
                    incomplete: false,
                };
                provider::assemble(&response).text
            } else {
                String::from_utf8_lossy(self.bytes()).into_owned()
            };
            self.text = Some(text);
        }
        self.text.as_deref().unwrap_or_default()
    }

    /// The JSON documents a path check looks in: the body, or every event of a stream.
    fn documents(&mut self) -> Vec<&serde_json::Value> {
        if self.exchange.is_stream {
            if self.events.is_none() {
                self.events = Some(
                    sse::parse_all(self.bytes())
                        .into_iter()
                        .filter_map(|e| match Body::from_bytes(e.data.as_bytes()) {
                            Body::Json(value) => Some(value),
                            _ => None,
                        })
                        .collect(),
                );
            }
            self.events.iter().flatten().collect()
        } else {
            if self.json.is_none() {
                self.json = Some(serde_json::from_slice(self.bytes()).ok());
            }
            self.json.iter().flatten().collect()
        }
    }
}

pub(super) fn passes(check: &Check, exchange: &Exchange, body: &mut LazyBody<'_>) -> bool {
    match &check.condition {
        Condition::Status(statuses) => statuses.contains(&exchange.status),
        _ if exchange.error.is_some() => false,
        Condition::BodyContains(text) => body.text().contains(text.as_str()),
        Condition::BodyNotContains(text) => !body.text().contains(text.as_str()),
        Condition::BodyMatches(regex) => regex.is_match(body.text()),
        Condition::Json { path, equals } => body.documents().into_iter().any(|doc| {
            path.select(doc)
                .into_iter()
                .any(|found| equals.as_ref().is_none_or(|want| json_equal(found, want)))
        }),
    }
}

/// Equal as JSON values, with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
