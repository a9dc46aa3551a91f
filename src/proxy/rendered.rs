//! A recorded response rendered to bytes on the wire, ready to be served again and again: the
//! cache a replay hit answers from. The open cassettes keep one per interaction, rendered at its
//! first replay; this file knows nothing of cassettes or matching, so imports point one way.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};

use crate::cassette::{Interaction, Response, Timing};
use crate::provider::sse;
use crate::server::{HttpResponse, ResponseBody};

/// Response headers that describe the original connection or encoding, never replayed.
const UNREPLAYED_HEADERS: &[&str] = &[
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// A recorded response as bytes on the wire.
pub struct Rendered {
    status: http::StatusCode,
    /// Built once and cloned for each answer: a clone copies the map, where appending each
    /// header would hash every name again.
    headers: http::HeaderMap,
    body: Bytes,
}

impl Rendered {
    pub fn new(response: &Response) -> Self {
        // Collected with `append`, so a repeated header keeps every value.
        let mut headers: http::HeaderMap = response
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
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
                }
                out
            }
            (None, Some(body)) => body.to_bytes(),
            (None, None) => Vec::new(),
        };
        // Room for the request id every served response gets (`telemetry::request::observe`):
        // its insert then replaces this value in place, where it would grow the clone's
        // storage, a reallocation per replay.
        headers.insert(
            crate::telemetry::request::REQUEST_ID_NAME.clone(),
            HeaderValue::from_static(""),
        );
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
        *response.headers_mut() = self.headers.clone();
        response
    }
}
