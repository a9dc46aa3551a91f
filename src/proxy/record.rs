//! Forwarding to the upstream and recording what comes back. The response is passed to the
//! client chunk by chunk as it arrives (never buffered whole) while a copy is parsed into
//! timed SSE events or collected as a body. Compressed bodies are decoded by the client library
//! and stored decoded. An interaction is stored only once it is complete, and stored durably
//! before the client's response ends; a client that disconnects first leaves nothing behind
//! (counted as aborted).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::header::{HeaderMap, HeaderValue};
use tokio::sync::mpsc;

use super::cassettes::OpenCassette;
use super::restore::LiveRestore;
use super::Proxy;
use crate::cassette::redact::{self, Pseudonymized};
use crate::cassette::{
    Body, Interaction, Redaction, Request, Response, Scope, StreamEvent, Timing,
};
use crate::cassette::{UNRECORDED_REQUEST_HEADERS, UNRECORDED_RESPONSE_HEADERS};
use crate::provider::{self, sse::SseParser, Provider};
use crate::sensitive::Revealer;
use crate::server::{json_response, HttpResponse, ResponseBody};

/// Scope headers: recorded into the interaction, never forwarded.
const SCOPE_HEADERS: [&str; 5] = [
    "x-traceforge-organization-id",
    "x-traceforge-service-id",
    "x-traceforge-session-id",
    "x-traceforge-step-id",
    "x-traceforge-parent-step-id",
];

/// A request on its way upstream.
pub(super) struct Forward {
    pub upstream: String,
    /// Path and query as the client sent them, below the upstream prefix.
    pub path: String,
    /// The protected path and body, as they will be stored, and the audit of what protection
    /// replaced in them.
    pub stored_path: String,
    pub stored_body: Option<Body>,
    pub audit: Vec<Redaction>,
    pub body: Bytes,
    /// `pii.upstream: pseudonymize`: the body the provider receives instead (decoded, PII
    /// replaced by surrogates) and the (surrogate, original) pairs to restore its answer with.
    pub upstream_body: Option<Pseudonymized>,
    pub parts: http::request::Parts,
}

pub(super) async fn forward(
    proxy: Arc<Proxy>,
    cassette: Arc<OpenCassette>,
    request: Forward,
) -> HttpResponse {
    let config = proxy.config();
    let provider = Provider::detect(&request.upstream, &request.path);
    let base = &config.upstreams[&request.upstream];
    // What messages show: no password from the base URL, no key from the query.
    let shown_url = format!("{}{}", redact::url(base), request.stored_path);

    let (url, upstream_body, mut restore) = match request.upstream_body {
        Some(p) => (
            format!("{base}{}", p.path.as_deref().unwrap_or(&request.path)),
            Bytes::from(p.body),
            Some(LiveRestore::new(Revealer::new(p.pairs))),
        ),
        None => (
            format!("{base}{}", request.path),
            request.body.clone(),
            None,
        ),
    };
    let mut upstream_headers = HeaderMap::new();
    for (name, value) in &request.parts.headers {
        let lower = name.as_str();
        if UNRECORDED_REQUEST_HEADERS.contains(&lower)
            || lower.starts_with("x-traceforge-")
            // The pseudonymised body is sent decoded.
            || (restore.is_some() && lower == "content-encoding")
        {
            continue;
        }
        upstream_headers.append(name.clone(), value.clone());
    }

    let started = Instant::now();
    let sent = proxy
        .client
        .request(request.parts.method.clone(), &url)
        .headers(upstream_headers)
        .body(upstream_body)
        .send()
        .await;
    let upstream_response = match sent {
        Ok(response) => response,
        Err(error) => {
            cassette.count(|c| c.upstream_errors += 1);
            let (status, what) = if error.is_timeout() {
                (504, "did not answer in time")
            } else {
                (502, "could not be reached")
            };
            // reqwest's message repeats the URL, query and all; ours shows it redacted.
            let message = format!(
                "traceforge: upstream {} ({shown_url}) {what}: {}",
                request.upstream,
                crate::error_chain(&error.without_url())
            );
            eprintln!("{message}");
            return json_response(
                status,
                &provider.error_body(status, "traceforge_upstream_error", &message),
            );
        }
    };

    let status = upstream_response.status();
    let mut client_headers = HeaderMap::new();
    let mut recorded_headers = BTreeMap::new();
    for (name, value) in upstream_response.headers() {
        if UNRECORDED_RESPONSE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        client_headers.append(name.clone(), value.clone());
        append(&mut recorded_headers, name.as_str(), value);
    }
    let is_stream = recorded_headers
        .get("content-type")
        .is_some_and(|ct: &String| ct.starts_with("text/event-stream"));

    let mut stored_request = Request {
        method: request.parts.method.to_string(),
        upstream: request.upstream.clone(),
        path: request.stored_path,
        headers: BTreeMap::new(),
        body: request.stored_body,
    };
    let mut scope = Scope::default();
    for (name, value) in &request.parts.headers {
        let lower = name.as_str();
        if let Some(at) = SCOPE_HEADERS.iter().position(|h| *h == lower) {
            let value = Some(String::from_utf8_lossy(value.as_bytes()).into_owned());
            match at {
                0 => scope.organization = value,
                1 => scope.service = value,
                2 => scope.session = value,
                3 => scope.step = value,
                _ => scope.parent_step = value,
            }
        } else if !UNRECORDED_REQUEST_HEADERS.contains(&lower)
            && !lower.starts_with("x-traceforge-")
        {
            append(&mut stored_request.headers, lower, value);
        }
    }
    let mut audit = request.audit;
    let redactor = &proxy.config().redactor;
    // A compressed body is stored decoded (a compressed one is never text), so its encoding
    // no longer applies.
    if stored_request
        .body
        .as_ref()
        .is_some_and(|b| !matches!(b, Body::Base64(_)))
    {
        stored_request.headers.remove("content-encoding");
    }
    redactor.headers_of("request", &mut stored_request.headers, &mut audit);
    for (name, value) in [
        ("organization", &mut scope.organization),
        ("service", &mut scope.service),
        ("session", &mut scope.session),
        ("step", &mut scope.step),
        ("parent_step", &mut scope.parent_step),
    ] {
        if let Some(value) = value {
            redactor.value(&format!("scope.{name}"), value, &mut audit);
        }
    }

    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(64);
    let recorded_at = crate::cassette::now();
    let upstream_name = request.upstream;
    tokio::spawn(async move {
        let mut body = upstream_response.bytes_stream();
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        let mut collected = Vec::new();
        let mut ttfb = None;
        let mut broken = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => {
                    let at = started.elapsed();
                    ttfb.get_or_insert(at);
                    let mut to_client = Some(chunk.clone());
                    if is_stream {
                        let at_ms = at.as_millis() as u64;
                        let fresh: Vec<StreamEvent> = parser
                            .feed(&chunk)
                            .into_iter()
                            .map(|e| e.into_stream_event(at_ms))
                            .collect();
                        if let Some(restore) = &mut restore {
                            to_client = Some(Bytes::from(restore.events(&fresh)));
                        }
                        events.extend(fresh);
                    } else {
                        collected.extend_from_slice(&chunk);
                        if restore.is_some() {
                            // Restored whole once it has all arrived.
                            to_client = None;
                        }
                    }
                    let sent = match to_client {
                        Some(bytes) if !bytes.is_empty() => tx.send(Ok(bytes)).await,
                        _ => Ok(()),
                    };
                    if sent.is_err() {
                        cassette.count(|c| c.aborted += 1);
                        eprintln!(
                            "traceforge: client disconnected before the response from {upstream_name} ended; \
                             interaction not recorded"
                        );
                        return;
                    }
                }
                Err(error) => {
                    let error = error.without_url();
                    let _ = tx
                        .send(Err(std::io::Error::other(crate::error_chain(&error))))
                        .await;
                    broken = Some(crate::error_chain(&error));
                    break;
                }
            }
        }
        let total = started.elapsed();
        if let Some(error) = &broken {
            eprintln!("traceforge: upstream {upstream_name} broke off its response: {error}");
            if !is_stream {
                cassette.count(|c| c.upstream_errors += 1);
                return;
            }
        }
        let mut response = Response {
            status: status.as_u16(),
            headers: recorded_headers,
            body: None,
            stream: None,
            incomplete: false,
        };
        if is_stream {
            let at_ms = total.as_millis() as u64;
            let last: Vec<StreamEvent> = parser
                .finish()
                .map(|e| e.into_stream_event(at_ms))
                .into_iter()
                .collect();
            if let Some(restore) = &mut restore {
                let mut rest = restore.events(&last);
                rest.extend(restore.finish());
                if !rest.is_empty() {
                    let _ = tx.send(Ok(Bytes::from(rest))).await;
                }
            }
            events.extend(last);
            provider::finish_stream(&mut response, events);
        } else {
            if let Some(restore) = &restore {
                let _ = tx.send(Ok(Bytes::from(restore.body(&collected)))).await;
            }
            if !collected.is_empty() {
                response.body = Some(Body::from_bytes(&collected));
            }
        }
        let mut interaction = Interaction {
            id: 0,
            recorded_at,
            request: stored_request,
            usage: provider::usage(&response),
            response,
            timing: Some(Timing {
                ttfb_ms: ttfb.unwrap_or(total).as_millis() as u64,
                total_ms: total.as_millis() as u64,
            }),
            scope,
            redactions: audit,
            decisions: Vec::new(),
        };
        if interaction.response.incomplete {
            eprintln!(
                "traceforge: warning: stream from {upstream_name} ended without its terminal event; \
                 recorded as incomplete in cassette \"{}\"",
                cassette.name
            );
        }
        proxy
            .config()
            .redactor
            .response(&mut interaction.response, &mut interaction.redactions);
        // The client's response ends (the channel closes) only once the interaction is in the
        // journal: a client that has its whole answer never loses the recording to a kill.
        // Inline, not on a blocking thread: one small write to the page cache, where the hop to
        // the blocking pool measured at an added p99 of 2.4 ms (`benches/replay.sh record`,
        // against 0.6-0.9 ms inline).
        proxy.store(cassette, interaction);
        drop(tx);
    });

    let mut response = http::Response::new(ResponseBody::Fallible(rx));
    *response.status_mut() = status;
    *response.headers_mut() = client_headers;
    response
}

/// Stores a header value, joining repeated headers with ", ".
fn append(headers: &mut BTreeMap<String, String>, name: &str, value: &HeaderValue) {
    let value = String::from_utf8_lossy(value.as_bytes());
    headers
        .entry(name.to_string())
        .and_modify(|existing| {
            existing.push_str(", ");
            existing.push_str(&value);
        })
        .or_insert_with(|| value.into_owned());
}
