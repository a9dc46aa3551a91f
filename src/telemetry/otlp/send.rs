//! POSTing spans to an OTLP/HTTP endpoint: one protobuf `ExportTraceServiceRequest` per batch,
//! retried on 429, 502, 503, 504 and connection errors with exponential backoff (a
//! `Retry-After` in seconds is respected), a bounded number of times. Errors name the URL
//! without credentials and never a header value.

use std::time::{Duration, Instant};

use prost::Message as _;

use super::proto::{
    any_value, AnyValue, ExportTraceServiceRequest, ExportTraceServiceResponse,
    InstrumentationScope, KeyValue, Resource, ResourceSpans, ScopeSpans, Span,
};
use super::ExportConfig;

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

/// The message for `spans` from `service_name`.
pub fn request(service_name: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: super::attributes::SERVICE_NAME.to_string(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(service_name.to_string())),
                    }),
                }],
                dropped_attributes_count: 0,
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "traceforge".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
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

    /// Sends `spans` as one request, retrying what may pass later until `deadline` (if any)
    /// or until `stop` turns true. Returns how many spans the endpoint rejected in a partial
    /// success.
    pub async fn send(
        &self,
        spans: Vec<Span>,
        deadline: Option<Instant>,
        mut stop: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Result<u64, SendError> {
        let body = request(&self.service_name, spans).encode_to_vec();
        let body = bytes::Bytes::from(body);
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
