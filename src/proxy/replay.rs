//! Answering from a cassette: responses are rendered to bytes once, at their first replay, so
//! a replayed request costs a key lookup and a clone. A miss answers with a provider-shaped 404
//! and a report, on stderr, of the nearest recorded request and exactly how it differs.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};

use super::cassettes::{Miss, OpenCassette};
use crate::cassette::matcher::{MatchRules, RequestView};
use crate::cassette::{Interaction, Response, Timing};
use crate::provider::{sse, Provider};
use crate::server::{json_response, HttpResponse, ResponseBody};

/// Response headers that describe the original connection or encoding, never replayed.
const UNREPLAYED_HEADERS: &[&str] = &[
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// The status a miss answers with: a 4xx that the official SDKs do not retry.
pub const MISS_STATUS: u16 = 404;

/// A recorded response as bytes on the wire.
pub struct Rendered {
    status: http::StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Rendered {
    pub fn new(response: &Response) -> Self {
        let mut headers: Vec<(HeaderName, HeaderValue)> = response
            .headers
            .iter()
            .filter(|(name, _)| !UNREPLAYED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(value).ok()?,
                ))
            })
            .collect();
        let body = match (&response.stream, &response.body) {
            (Some(events), _) => {
                let mut out = Vec::new();
                events
                    .iter()
                    .for_each(|event| sse::write_event(event, &mut out));
                if !headers.iter().any(|(name, _)| name == CONTENT_TYPE) {
                    headers.push((CONTENT_TYPE, HeaderValue::from_static("text/event-stream")));
                }
                out
            }
            (None, Some(body)) => body.to_bytes(),
            (None, None) => Vec::new(),
        };
        Rendered {
            status: http::StatusCode::from_u16(response.status)
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            headers,
            body: Bytes::from(body),
        }
    }

    /// The response paced as it was recorded: a stream's headers at once and each event at its
    /// recorded offset from the request; any other body after the recorded time to first byte,
    /// complete at the recorded total. Used by `traceforge load --replay --latency recorded`.
    pub async fn paced(&self, interaction: &Interaction) -> HttpResponse {
        let started = tokio::time::Instant::now();
        let timing = interaction.timing.unwrap_or(Timing {
            ttfb_ms: 0,
            total_ms: 0,
        });
        let chunks: Vec<(u64, Bytes)> = match &interaction.response.stream {
            Some(events) => events
                .iter()
                .map(|event| {
                    let mut bytes = Vec::new();
                    sse::write_event(event, &mut bytes);
                    (event.at_ms, Bytes::from(bytes))
                })
                .collect(),
            None => {
                tokio::time::sleep(Duration::from_millis(timing.ttfb_ms)).await;
                vec![(timing.total_ms, self.body.clone())]
            }
        };
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            for (at_ms, chunk) in chunks {
                tokio::time::sleep_until(started + Duration::from_millis(at_ms)).await;
                if sender.send(chunk).await.is_err() {
                    return;
                }
            }
        });
        let mut response = self.response();
        *response.body_mut() = ResponseBody::Channel(receiver);
        response
    }

    pub fn response(&self) -> HttpResponse {
        let mut response = http::Response::new(ResponseBody::full(self.body.clone()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.reserve(self.headers.len());
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        response
    }
}

/// Builds the miss answer and the stderr report for a request nothing in `cassette` answers.
pub fn miss(
    rules: &MatchRules,
    cassette: &OpenCassette,
    requested: RequestView<'_>,
    miss: &Miss,
    reason: &str,
) -> (HttpResponse, String) {
    let recorded = cassette.recorded();
    let nearest = rules.nearest(
        requested,
        recorded
            .iter()
            .enumerate()
            .map(|(i, r)| (i, RequestView::from(&r.interaction.request))),
    );
    let shown = format!(
        "{} {} {}",
        requested.method, requested.upstream, requested.path
    );
    let mut report = format!(
        "traceforge: replay miss in cassette \"{}\" ({})\n  request: {shown}\n",
        cassette.name,
        cassette.path.display()
    );
    let _ = writeln!(report, "  why: {reason}");
    let mut message = format!(
        "traceforge: no recorded interaction in cassette \"{}\" matches {shown} ({reason})",
        cassette.name
    );
    if let Some((id, times)) = miss.exhausted {
        let _ = writeln!(
            report,
            "  it matches interaction {id}, but that request was recorded {times} time(s) and has \
             been replayed that often; record it again or pass --allow-repeats"
        );
        let _ = write!(
            message,
            "; it matches interaction {id}, already replayed {times} time(s) (use --allow-repeats)"
        );
    } else if let Some((index, differences)) = &nearest {
        let near = &recorded[*index].interaction;
        let view = RequestView::from(&near.request);
        let _ = writeln!(
            report,
            "  nearest recorded: interaction {} ({} {} {})",
            near.id, view.method, view.upstream, view.path
        );
        let _ = write!(
            message,
            "; nearest recorded is interaction {} ({} {} {})",
            near.id, view.method, view.upstream, view.path
        );
        if !differences.is_empty() {
            let _ = writeln!(report, "  differs at:");
            for d in differences {
                let _ = writeln!(
                    report,
                    "    {}: recorded {} → requested {}",
                    d.field, d.recorded, d.requested
                );
            }
            let fields: Vec<&str> = differences
                .iter()
                .map(|d| d.field.as_str())
                .take(5)
                .collect();
            let _ = write!(message, ", which differs at {}", fields.join(", "));
        }
        let diff = rules.body_diff(requested, view);
        if !diff.is_empty() {
            let _ = writeln!(report, "  body diff:");
            for line in diff.lines() {
                let _ = writeln!(report, "    {line}");
            }
        }
    } else if !cassette.existed {
        let note = format!(
            "there is no cassette file at {} (record one with `traceforge vcr record`)",
            cassette.path.display()
        );
        let _ = writeln!(report, "  {note}");
        let _ = write!(message, "; {note}");
    } else {
        let _ = writeln!(report, "  the cassette has no recorded interactions");
        message.push_str("; the cassette has no recorded interactions");
    }
    let provider = Provider::detect(requested.upstream, requested.path);
    let body = provider.error_body(MISS_STATUS, "traceforge_replay_miss", &message);
    (json_response(MISS_STATUS, &body), report)
}
