//! POSTing spans to an OTLP/HTTP endpoint: one protobuf `ExportTraceServiceRequest` per batch,
//! retried on 429, 502, 503, 504 and connection errors with exponential backoff (a
//! `Retry-After` in seconds is respected), a bounded number of times. Errors name the URL
//! without credentials and never a header value.

use std::time::{Duration, Instant};

use prost::Message as _;

use super::proto::ExportTraceServiceResponse;
use super::{span, wire, ExportConfig};

/// Attempts per batch, the first included.
pub const ATTEMPTS: u32 = 5;
/// The wait before the first retry; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait between two attempts, whatever `Retry-After` asks for.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long one POST may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a batch was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("OTLP export to {url} refused the spans: HTTP {status}{detail}")]
    Refused {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("OTLP export to {url} failed after {attempts} attempt(s)")]
    Unreachable {
        url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("OTLP export to {url} still answered HTTP {status} after {attempts} attempt(s)")]
    Busy {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("OTLP export to {url}: the run ended before the spans could be sent{last}")]
    Stopped {
        url: String,
        /// What the last attempt met, if one was made (`: last attempt: …`).
        last: String,
    },
    #[error("OTLP export: cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("OTLP export: cannot start its thread")]
    Thread(#[source] std::io::Error),
}

/// Spans encoded for one request, each as it was offered: the `spans` fields of the request's
/// one `ScopeSpans`, written after room kept for the framing that goes in front of them, so a
/// request is made in place ([`Batch::request`]) and its buffer serves the next batch
/// ([`Batch::reuse`]). Framing a copy of each batch (~300 KB at 512 replayed spans) was most of
/// the export thread's cache misses, in caches it shares with the proxy's workers.
#[derive(Debug)]
pub struct Batch {
    /// `head` bytes of room, then the spans.
    buffer: Vec<u8>,
    head: usize,
    len: usize,
}

/// The room kept in front of a batch's spans: the framing takes about 60 bytes and the
/// service's name (a longer name makes more room, once).
const HEADROOM: usize = 256;

impl Default for Batch {
    fn default() -> Batch {
        Batch {
            buffer: vec![0; HEADROOM],
            head: HEADROOM,
            len: 0,
        }
    }
}

impl Batch {
    /// Encodes the span of `source` into the batch (see [`span::encode`]).
    pub fn push(&mut self, source: span::Source<'_>, content: bool) {
        wire::message_reserving(&mut self.buffer, 2, 2, |out| {
            span::encode(source, content, out)
        });
        self.len += 1;
    }

    /// [`Batch::push`] with the span's fixed part already encoded (see [`span::write`]).
    pub fn push_fixed(&mut self, source: span::Source<'_>, fixed: &span::Fixed) {
        wire::message_reserving(&mut self.buffer, 2, 2, |out| {
            span::write(source, fixed, out)
        });
        self.len += 1;
    }

    /// The spans in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the batch, keeping its buffer for the next.
    pub fn clear(&mut self) {
        self.buffer.truncate(self.head);
        self.len = 0;
    }

    /// The batch as one `ExportTraceServiceRequest` from `service_name` (one resource, one
    /// scope: traceforge and its version), its framing written into the room in front of the
    /// spans: nothing is copied. The batch is empty afterwards; hand the request back with
    /// [`Batch::reuse`] once it is sent, and the next batch is written where this one was
    /// (else in a buffer of its own).
    pub fn request(&mut self, service_name: &str) -> bytes::Bytes {
        let spans = self.buffer.len() - self.head;
        let mut resource = Vec::new();
        wire::message(&mut resource, 1, |out| {
            wire::message(out, 1, |out| {
                wire::string(out, 1, super::attributes::SERVICE_NAME);
                wire::message(out, 2, |out| wire::string(out, 1, service_name));
            });
        });
        let mut scope = Vec::new();
        wire::message(&mut scope, 1, |out| {
            wire::string(out, 1, "traceforge");
            wire::string(out, 2, env!("CARGO_PKG_VERSION"));
        });
        let scope_spans = scope.len() + spans;
        let resource_spans = resource.len() + wire::len_prefix_size(2, scope_spans) + scope_spans;
        let mut framing = Vec::with_capacity(resource_spans - spans + 16);
        wire::len_prefix(&mut framing, 1, resource_spans);
        framing.extend_from_slice(&resource);
        wire::len_prefix(&mut framing, 2, scope_spans);
        framing.extend_from_slice(&scope);
        if framing.len() > self.head {
            // A long service name: more room, for this batch and the ones after it.
            let more = framing.len() - self.head;
            self.buffer.splice(0..0, std::iter::repeat_n(0, more));
            self.head += more;
        }
        let start = self.head - framing.len();
        self.buffer[start..self.head].copy_from_slice(&framing);
        let request = std::mem::replace(&mut self.buffer, vec![0; self.head]);
        self.len = 0;
        bytes::Bytes::from(request).slice(start..)
    }

    /// Takes back the buffer of a request this batch made, empty, once nothing else holds it
    /// (the client lets go of a body it has sent); else the next batch starts a buffer of the
    /// same size. A batch that has spans again keeps them where they are.
    pub fn reuse(&mut self, request: bytes::Bytes) {
        if !self.is_empty() {
            return;
        }
        let capacity = self.head + request.len();
        let mut buffer = match request.try_into_mut() {
            Ok(mut bytes) => {
                bytes.clear();
                Vec::from(bytes)
            }
            Err(_) => Vec::with_capacity(capacity),
        };
        buffer.resize(self.head, 0);
        self.buffer = buffer;
    }
}

/// Sends batches to one endpoint.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    url: url::Url,
    shown: String,
    headers: http::HeaderMap,
    service_name: String,
    /// Set once the first failure was said ([`Sender::warning_once`]); `None`: say nothing.
    warned: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Sender {
    pub fn new(config: &ExportConfig) -> Result<Sender, SendError> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(SendError::Client)?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in &config.headers {
            let mut value = value.clone();
            value.set_sensitive(true);
            headers.append(name.clone(), value);
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-protobuf"),
        );
        Ok(Sender {
            client,
            url: config.url.clone(),
            shown: config.shown_url(),
            headers,
            service_name: config.service_name.clone(),
            warned: None,
        })
    }

    /// A sender that prints one warning line on stderr at the first failed attempt (the
    /// endpoint unreachable, refusing or busy) and never again: the live exporter's, whose
    /// failures are otherwise only counted.
    pub fn warning_once(mut self) -> Sender {
        self.warned = Some(Default::default());
        self
    }

    fn warn(&self, cause: &str) {
        let Some(warned) = &self.warned else {
            return;
        };
        if !warned.swap(true, std::sync::atomic::Ordering::AcqRel) {
            tracing::warn!(
                "OTLP export to {}: {cause}; spans are retried, then counted as not delivered \
                 (this warning is not repeated)",
                self.shown
            );
        }
    }

    /// Sends `batch` as one request, retrying what may pass later until `deadline` (if any)
    /// or until `stop` turns true. Returns how many spans the endpoint rejected in a partial
    /// success. The batch is empty afterwards, its buffer kept for the next.
    pub async fn send(
        &self,
        batch: &mut Batch,
        deadline: Option<Instant>,
        stop: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Result<u64, SendError> {
        let body = batch.request(&self.service_name);
        let sent = self.attempts(&body, deadline, stop).await;
        batch.reuse(body);
        sent
    }

    /// [`Sender::send`] of a framed request.
    async fn attempts(
        &self,
        body: &bytes::Bytes,
        deadline: Option<Instant>,
        mut stop: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Result<u64, SendError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        let mut last = String::new();
        loop {
            attempt += 1;
            let mut post = self
                .client
                .post(self.url.clone())
                .headers(self.headers.clone())
                .body(body.clone());
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(SendError::Stopped {
                        url: self.shown.clone(),
                        last,
                    });
                }
                post = post.timeout(left.min(REQUEST_TIMEOUT));
            }
            let wait = match post.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if response.status().is_success() {
                        let answer = response.bytes().await.unwrap_or_default();
                        let rejected = ExportTraceServiceResponse::decode(answer)
                            .ok()
                            .and_then(|r| r.partial_success)
                            .map_or(0, |p| p.rejected_spans.max(0) as u64);
                        return Ok(rejected);
                    }
                    let retry_after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    if !matches!(status, 429 | 502 | 503 | 504) {
                        let text = response.text().await.unwrap_or_default();
                        let detail = crate::output::one_line(text.trim(), 200);
                        self.warn(&format!("HTTP {status}"));
                        return Err(SendError::Refused {
                            url: self.shown.clone(),
                            status,
                            detail: if detail.is_empty() {
                                String::new()
                            } else {
                                format!(": {detail}")
                            },
                        });
                    }
                    last = format!(" (last attempt: HTTP {status})");
                    self.warn(&format!("HTTP {status}"));
                    if attempt >= ATTEMPTS {
                        return Err(SendError::Busy {
                            url: self.shown.clone(),
                            status,
                            attempts: attempt,
                        });
                    }
                    retry_after.unwrap_or(backoff).min(MAX_BACKOFF)
                }
                Err(error) => {
                    // The URL may carry a user name and password; the message has it shown.
                    let error = error.without_url();
                    self.warn(&crate::error_chain(&error));
                    if attempt >= ATTEMPTS || error.is_builder() {
                        return Err(SendError::Unreachable {
                            url: self.shown.clone(),
                            attempts: attempt,
                            source: error,
                        });
                    }
                    last = format!(" (last attempt: {})", crate::error_chain(&error));
                    backoff
                }
            };
            if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                return Err(SendError::Stopped {
                    url: self.shown.clone(),
                    last,
                });
            }
            let stopped = async {
                match stop.as_mut() {
                    Some(stop) => {
                        let _ = stop.wait_for(|s| *s).await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped => return Err(SendError::Stopped { url: self.shown.clone(), last }),
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
