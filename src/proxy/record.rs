//! Forwarding to the upstream and recording what comes back. The response is passed to the
//! client chunk by chunk as it arrives (never buffered whole) while a copy is parsed into
//! timed SSE events or collected as a body. Compressed bodies are decoded by the client library
//! and stored decoded. An interaction is stored only once it is complete, and stored durably
//! before the client's response ends; a client that disconnects first leaves nothing behind
//! (counted as aborted).

use std::collections::BTreeMap;
use std::future::Future as _;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::header::{HeaderMap, HeaderValue};
use tokio::sync::mpsc;

use super::cassettes::OpenCassette;
use super::policy;
use super::restore::LiveRestore;
use super::Proxy;
use crate::cassette::redact::{self, Pseudonymized};
use crate::cassette::{
    Body, Decision, Interaction, Redaction, Request, Response, Scope, StreamEvent, Timing,
};
use crate::cassette::{UNRECORDED_REQUEST_HEADERS, UNRECORDED_RESPONSE_HEADERS};
use crate::policy::stream::StreamGuard;
use crate::provider::{self, sse, sse::SseParser, Provider};
use crate::sensitive::Revealer;
use crate::server::{json_response, HttpResponse, ResponseBody};
use crate::telemetry::logs::REQUEST_TARGET;
use crate::telemetry::request::{PolicyField, RequestFields};

/// A request on its way upstream.
pub(super) struct Forward {
    pub upstream: String,
    /// Path and query as the client sent them, below the upstream prefix.
    pub path: String,
    /// The protected path and body, as they will be stored, and the audit of what protection
    /// replaced in them, when matching needed them already; otherwise they are made while the
    /// upstream answers.
    pub protected: Option<super::Protected>,
    pub body: Bytes,
    /// `pii.upstream: pseudonymize`: the body the provider receives instead (decoded, PII
    /// replaced by surrogates) and the (surrogate, original) pairs to restore its answer with.
    pub upstream_body: Option<Pseudonymized>,
    /// What the policies decided about the request.
    pub decisions: Vec<Decision>,
    pub parts: http::request::Parts,
}

pub(super) async fn forward(
    proxy: Arc<Proxy>,
    cassette: Arc<OpenCassette>,
    request: Forward,
    fields: &mut RequestFields,
) -> HttpResponse {
    let config = proxy.config();
    let provider = Provider::detect(&request.upstream, &request.path);
    let base = &config.upstreams[&request.upstream];
    let id = crate::telemetry::request::current_id();

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
    let send = proxy
        .client
        .request(request.parts.method.clone(), &url)
        .headers(upstream_headers)
        .body(upstream_body)
        .send();
    let mut send = std::pin::pin!(send);
    // Protecting the request for the cassette is most of the proxy's own work on it: it is
    // done while the upstream works. The send is polled once (handing the request to its
    // connection's task) and the task yields, so the request is written before it starts.
    let mut sent = None;
    let (stored_path, stored_body, mut audit) = match request.protected {
        Some(protected) => protected,
        None => {
            match std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await {
                Poll::Ready(result) => sent = Some(result),
                Poll::Pending => tokio::task::yield_now().await,
            }
            proxy.stored(&request.path, &request.body, &request.parts.headers)
        }
    };
    // What messages show: no password from the base URL, no key from the query.
    let shown_url = format!("{}{}", redact::url(base), stored_path);
    // What the log shows: no query string at all.
    let logged_url = || shown_url.split('?').next().unwrap_or_default();
    // A non-streamed answer's head comes only with the whole answer: a slow model can still be
    // thinking at the drain deadline, and the client then gets an error, not a reset.
    let sent = match sent {
        Some(sent) => sent,
        None => tokio::select! {
            sent = send => sent,
            () = proxy.lifecycle.deadline() => {
                return ended_at_deadline(&cassette, provider, &request.upstream, id, fields);
            }
        },
    };
    let upstream_response = match sent {
        Ok(response) => {
            super::observe::upstream_ttfb(&request.upstream, started.elapsed());
            response
        }
        Err(error) => {
            cassette.count(|c| c.upstream_errors += 1);
            let (status, what) = if error.is_timeout() {
                (504, "did not answer in time")
            } else {
                (502, "could not be reached")
            };
            // reqwest's message repeats the URL, query and all; ours shows it redacted.
            let error = crate::error_chain(&error.without_url());
            let message = format!(
                "traceforge: upstream {} ({shown_url}) {what}: {error}",
                request.upstream,
            );
            fields.upstream_failed = true;
            tracing::error!(
                target: REQUEST_TARGET,
                request_id = id.map(tracing::field::display),
                "upstream {} ({}) {what}: {error}",
                request.upstream,
                logged_url()
            );
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
        path: stored_path,
        headers: BTreeMap::new(),
        body: stored_body,
    };
    let mut scope = policy::scope_of(&request.parts.headers);
    // The scope as the policies read it, before its values are protected for storage.
    let policy_scope = scope.clone();
    for (name, value) in &request.parts.headers {
        let lower = name.as_str();
        if !UNRECORDED_REQUEST_HEADERS.contains(&lower) && !lower.starts_with("x-traceforge-") {
            append(&mut stored_request.headers, lower, value);
        }
    }
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

    let recorded_at = crate::cassette::now();
    let upstream_name = request.upstream;
    let enforcer = config.policies.clone();
    let mut guard = enforcer
        .as_ref()
        .map(|e| e.stream_rules(&policy_scope))
        .filter(|rules| !rules.is_empty())
        .map(StreamGuard::new);
    let checks_response = enforcer
        .as_ref()
        .is_some_and(|e| e.checks_responses(&policy_scope));
    let recording = Recording {
        proxy: proxy.clone(),
        cassette: cassette.clone(),
        request: stored_request,
        recorded_at,
        scope,
        policy_scope,
        audit,
        decisions: request.decisions,
    };

    // A body the client must get changed (originals restored, policies applied) is taken
    // whole before its status is sent: a blocked one becomes an error. Not only when a text
    // rule guards streams: a `max-tokens` cap blocks on the usage of a whole answer.
    if !is_stream && (restore.is_some() || checks_response) {
        let body = tokio::select! {
            body = upstream_response.bytes() => body,
            () = proxy.lifecycle.deadline() => {
                return ended_at_deadline(&cassette, provider, &upstream_name, id, fields);
            }
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                cassette.count(|c| c.upstream_errors += 1);
                let error = crate::error_chain(&error.without_url());
                let message = format!(
                    "traceforge: upstream {upstream_name} ({shown_url}) broke off its response: \
                     {error}"
                );
                fields.upstream_failed = true;
                tracing::error!(
                    target: REQUEST_TARGET,
                    request_id = id.map(tracing::field::display),
                    "upstream {upstream_name} ({}) broke off its response: {error}",
                    logged_url()
                );
                return json_response(
                    502,
                    &provider.error_body(502, "traceforge_upstream_error", &message),
                );
            }
        };
        let total = started.elapsed();
        let response = Response {
            status: status.as_u16(),
            headers: recorded_headers,
            body: (!body.is_empty()).then(|| Body::from_bytes(&body)),
            stream: None,
            incomplete: false,
        };
        let mut client = response.clone();
        if let Some(restore) = &restore {
            client.body = (!body.is_empty()).then(|| Body::from_bytes(&restore.body(&body)));
        }
        let mut blocked = None;
        if let Some(enforcer) = &enforcer {
            let verdict = enforcer.response(
                &mut client,
                provider::usage(&response).as_ref(),
                &recording.policy_scope,
            );
            blocked = verdict.block;
        }
        fields.policy = recording.store(
            response,
            Timing {
                ttfb_ms: total.as_millis() as u64,
                total_ms: total.as_millis() as u64,
            },
        );
        if let Some(block) = &blocked {
            fields.policy = Some(policy::logged(block));
            return policy::blocked(provider, block);
        }
        let mut answer = http::Response::new(ResponseBody::full(
            client.body.map(|b| b.to_bytes()).unwrap_or_default(),
        ));
        *answer.status_mut() = status;
        *answer.headers_mut() = client_headers;
        return answer;
    }

    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(64);
    let deadline = proxy.lifecycle.deadline();
    // The policies' verdict on the answer is known when it has all come: the request's event
    // is emitted after that (the body ends only once the slot is set).
    let late_policy = enforcer.is_some().then(|| {
        let slot = Arc::new(std::sync::OnceLock::new());
        fields.late_policy = Some(slot.clone());
        slot
    });
    tokio::spawn(async move {
        let mut body = upstream_response.bytes_stream();
        // At the drain deadline a stream still open is ended here: what arrived is stored
        // (incomplete, without its terminal event) and the client's response ends.
        let mut deadline = std::pin::pin!(deadline);
        let mut cut = false;
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        let mut collected = Vec::new();
        let mut ttfb = None;
        let mut broken = None;
        loop {
            let chunk = tokio::select! {
                chunk = body.next() => chunk,
                () = &mut deadline, if !cut => {
                    cut = true;
                    None
                }
            };
            let Some(chunk) = chunk else { break };
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
                        if restore.is_some() || guard.is_some() {
                            let shaped = shape(&mut restore, &mut guard, &fresh, false);
                            to_client = Some(Bytes::from(shaped));
                        }
                        events.extend(fresh);
                    } else {
                        collected.extend_from_slice(&chunk);
                    }
                    let sent = match to_client {
                        Some(bytes) if !bytes.is_empty() => tx.send(Ok(bytes)).await,
                        _ => Ok(()),
                    };
                    if sent.is_err() {
                        cassette.count(|c| c.aborted += 1);
                        tracing::warn!(
                            target: REQUEST_TARGET,
                            request_id = id.map(tracing::field::display),
                            "client disconnected before the response from {upstream_name} \
                             ended; interaction not recorded"
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
        if cut {
            tracing::warn!(
                target: REQUEST_TARGET,
                request_id = id.map(tracing::field::display),
                "the drain deadline passed while {upstream_name} was still answering; ending \
                 the response"
            );
            if !is_stream {
                let _ = tx
                    .send(Err(std::io::Error::other("ended at the drain deadline")))
                    .await;
                cassette.count(|c| c.upstream_errors += 1);
                return;
            }
        }
        if let Some(error) = &broken {
            tracing::error!(
                target: REQUEST_TARGET,
                request_id = id.map(tracing::field::display),
                "upstream {upstream_name} broke off its response: {error}"
            );
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
            if restore.is_some() || guard.is_some() {
                let rest = shape(&mut restore, &mut guard, &last, true);
                if !rest.is_empty() {
                    let _ = tx.send(Ok(Bytes::from(rest))).await;
                }
            }
            events.extend(last);
            provider::finish_stream(&mut response, events);
            if response.incomplete {
                tracing::warn!(
                    request_id = id.map(tracing::field::display),
                    "stream from {upstream_name} ended without its terminal event; recorded as \
                     incomplete in cassette \"{}\"",
                    cassette.name
                );
            }
        } else if !collected.is_empty() {
            response.body = Some(Body::from_bytes(&collected));
        }
        // The client's response ends (the channel closes) only once the interaction is in the
        // journal: a client that has its whole answer never loses the recording to a kill.
        let decision = recording.store(
            response,
            Timing {
                ttfb_ms: ttfb.unwrap_or(total).as_millis() as u64,
                total_ms: total.as_millis() as u64,
            },
        );
        if let (Some(slot), Some(decision)) = (&late_policy, decision) {
            let _ = slot.set(decision);
        }
        drop(tx);
    });

    let mut response = http::Response::new(ResponseBody::Fallible(rx));
    *response.status_mut() = status;
    *response.headers_mut() = client_headers;
    response
}

/// The answer to a request whose upstream had not answered (or not wholly, where the answer
/// is checked before it is sent) when the drain deadline passed: an error in the provider's
/// shape that SDKs do not retry (the proxy is going away), counted as an upstream error, and
/// nothing recorded.
fn ended_at_deadline(
    cassette: &OpenCassette,
    provider: Provider,
    upstream: &str,
    id: Option<crate::telemetry::request::RequestId>,
    fields: &mut RequestFields,
) -> HttpResponse {
    cassette.count(|c| c.upstream_errors += 1);
    fields.upstream_failed = true;
    tracing::warn!(
        target: REQUEST_TARGET,
        request_id = id.map(tracing::field::display),
        "the drain deadline passed while {upstream} was still answering; the client gets an \
         error and nothing is recorded"
    );
    let message = format!(
        "traceforge: the proxy is shutting down and its drain deadline passed before upstream \
         {upstream} had answered; nothing was recorded"
    );
    super::final_error(provider, 503, "traceforge_shutting_down", &message)
}

/// What a stream's events become on their way to the client: originals restored
/// (`pii.upstream: pseudonymize`), then the policies applied. `last` flushes what both hold
/// back, at the stream's end.
fn shape(
    restore: &mut Option<LiveRestore>,
    guard: &mut Option<StreamGuard>,
    events: &[StreamEvent],
    last: bool,
) -> Vec<u8> {
    let mut events = match restore {
        Some(restore) => {
            let mut out = restore.events(events);
            if last {
                out.extend(restore.finish());
            }
            out
        }
        None => events.to_vec(),
    };
    if let Some(guard) = guard {
        let mut out = guard.events(events);
        if last {
            out.extend(guard.finish());
        }
        events = out;
    }
    let mut bytes = Vec::new();
    for event in &events {
        sse::write_event(event, &mut bytes);
    }
    bytes
}

/// Everything needed to store an interaction once its response is complete.
struct Recording {
    proxy: Arc<Proxy>,
    cassette: Arc<OpenCassette>,
    request: Request,
    recorded_at: String,
    /// The scope as stored (protected).
    scope: Scope,
    /// The scope as the client sent it, for the policies.
    policy_scope: Scope,
    audit: Vec<Redaction>,
    decisions: Vec<Decision>,
}

impl Recording {
    /// Stores the interaction: the policies' decisions about the response as it came, then
    /// the response protected for storage. Inline, not on a blocking thread: one small write
    /// to the page cache, where the hop to the blocking pool measured at an added p99 of
    /// 2.4 ms (`benches/replay.sh record`, against 0.6-0.9 ms inline). Returns the decision
    /// the request's log event names, of the request's and the response's.
    fn store(self, response: Response, timing: Timing) -> Option<PolicyField> {
        let usage = provider::usage(&response);
        let mut decisions = self.decisions;
        if let Some(enforcer) = &self.proxy.config().policies {
            decisions.extend(enforcer.response_decisions(
                &response,
                usage.as_ref(),
                &self.policy_scope,
            ));
        }
        let mut interaction = Interaction {
            id: 0,
            recorded_at: self.recorded_at,
            request: self.request,
            usage,
            response,
            timing: Some(timing),
            scope: self.scope,
            redactions: self.audit,
            decisions,
        };
        let logged = policy::strongest(&interaction.decisions).map(policy::logged_decision);
        self.proxy
            .config()
            .redactor
            .response(&mut interaction.response, &mut interaction.redactions);
        self.proxy.store(self.cassette, interaction);
        logged
    }
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
