//! Policies at the proxy (DESIGN.md §13): a request that breaks an enforced `block` rule is
//! answered 400 in the provider's own error shape, with `x-should-retry: false`, and never
//! reaches the upstream; `redact` rules rewrite it first. Replayed responses go through the
//! same rules as live ones, so CI sees what production would.

use bytes::Bytes;

use crate::cassette::{Body, Decision, Request, Response, Scope, StreamEvent};
use crate::policy::enforce::{Enforcement, Enforcer};
use crate::policy::stream::StreamGuard;
use crate::policy::Finding;
use crate::provider::Provider;
use crate::server::HttpResponse;

/// The header every response carries while the emergency switch is on.
pub const POLICY_HEADER: &str = "x-traceforge-policy";

/// Scope headers: recorded into the interaction, never forwarded.
pub(super) const SCOPE_HEADERS: [&str; 5] = [
    "x-traceforge-organization-id",
    "x-traceforge-service-id",
    "x-traceforge-session-id",
    "x-traceforge-step-id",
    "x-traceforge-parent-step-id",
];

/// [`SCOPE_HEADERS`], parsed once: looking a header up by `&str` parses the name each time.
pub(super) static SCOPE_HEADER_NAMES: [http::HeaderName; 5] = [
    http::HeaderName::from_static(SCOPE_HEADERS[0]),
    http::HeaderName::from_static(SCOPE_HEADERS[1]),
    http::HeaderName::from_static(SCOPE_HEADERS[2]),
    http::HeaderName::from_static(SCOPE_HEADERS[3]),
    http::HeaderName::from_static(SCOPE_HEADERS[4]),
];

/// The value of scope header `index` (of [`SCOPE_HEADERS`]), if the request has it.
pub(super) fn scope_header(headers: &http::HeaderMap, index: usize) -> Option<String> {
    headers
        .get(&SCOPE_HEADER_NAMES[index])
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The scope a request's `X-TraceForge-*` headers give.
pub(super) fn scope_of(headers: &http::HeaderMap) -> Scope {
    Scope {
        organization: scope_header(headers, 0),
        service: scope_header(headers, 1),
        session: scope_header(headers, 2),
        step: scope_header(headers, 3),
        parent_step: scope_header(headers, 4),
    }
}

/// The 400 a blocked request or response gets: the provider's error shape, naming policy,
/// rule, path and entity, never the value; the SDKs must not retry it.
pub(super) fn blocked(provider: Provider, finding: &Finding) -> HttpResponse {
    let message = format!(
        "traceforge: blocked by policy `{}` rule `{}` ({}, {}): {} in {}",
        finding.policy,
        finding.rule,
        finding.rule_type.name(),
        finding.severity.name(),
        finding.entity,
        finding.path
    );
    super::final_error(provider, 400, "traceforge_policy_violation", &message)
}

/// A blocking finding as the request's log event shows it: policy, rule, action; no value.
pub(super) fn logged(finding: &Finding) -> crate::telemetry::request::PolicyField {
    crate::telemetry::request::PolicyField {
        policy: finding.policy.clone(),
        rule: finding.rule.clone(),
        action: finding.action.name().to_string(),
    }
}

/// The decision a request's log event names, of those `applied`: the one that did most
/// (`block`, then `redact`, then `warn`), the first of equals.
pub(super) fn strongest<'a>(
    decisions: impl IntoIterator<Item = &'a Decision>,
) -> Option<&'a Decision> {
    fn weight(action: &str) -> u8 {
        match action {
            "block" => 3,
            "redact" => 2,
            _ => 1,
        }
    }
    let mut strongest: Option<&Decision> = None;
    for decision in decisions {
        if decision.outcome == "applied"
            && strongest.is_none_or(|s| weight(&decision.action) > weight(&s.action))
        {
            strongest = Some(decision);
        }
    }
    strongest
}

/// A decision as the request's log event shows it: policy, rule, action.
pub(super) fn logged_decision(decision: &Decision) -> crate::telemetry::request::PolicyField {
    crate::telemetry::request::PolicyField {
        policy: decision.policy.clone(),
        rule: decision.rule.clone(),
        action: decision.action.clone(),
    }
}

/// What the policies made of a request.
#[derive(Clone)]
pub(super) struct Checked {
    /// The body to use from here on, when a `redact` rule rewrote it (decoded, so the
    /// request's `content-encoding` no longer applies).
    pub body: Option<Bytes>,
    pub decisions: Vec<Decision>,
}

/// Evaluates a request as the client sent it; `Err` is the rule that blocks it.
pub(super) fn check_request(
    enforcer: &Enforcer,
    method: &http::Method,
    upstream: &str,
    path: &str,
    bytes: &Bytes,
    headers: &http::HeaderMap,
) -> Result<Checked, Box<Finding>> {
    let encoding = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok());
    let decoded = crate::cassette::redact::decompress(bytes, encoding);
    let mut request = Request {
        method: method.to_string(),
        upstream: upstream.to_string(),
        path: path.to_string(),
        headers: Default::default(),
        body: (!bytes.is_empty()).then(|| Body::from_bytes(decoded.as_deref().unwrap_or(bytes))),
    };
    let (verdict, changed) = enforcer.request(&mut request, &scope_of(headers));
    if let Some(block) = verdict.block {
        return Err(Box::new(block));
    }
    Ok(Checked {
        body: changed
            .then(|| request.body.map(|b| Bytes::from(b.to_bytes())))
            .flatten(),
        decisions: verdict.decisions,
    })
}

/// A recorded response as the policies let it through for `scope`: `Err` is the rule that
/// blocks a non-streamed one; a stream is cut as the provider's filter would cut it.
/// `Ok(None)` when the policies change nothing.
pub(super) fn check_replayed(
    enforcer: &Enforcer,
    response: &Response,
    scope: &Scope,
) -> Result<Option<Response>, Box<Finding>> {
    if enforcer.enforcement() == Enforcement::Disabled {
        return Ok(None);
    }
    let mut checked = response.clone();
    match &response.stream {
        Some(events) => {
            let rules = enforcer.stream_rules(scope);
            if rules.is_empty() {
                return Ok(None);
            }
            let mut guard = StreamGuard::new(rules);
            let mut out = guard.events(events.clone());
            out.extend(guard.finish());
            keep_timing(events, &mut out);
            checked.stream = Some(out);
        }
        None => {
            // The usage of the recording, for `max-tokens` caps on answers.
            let usage = crate::provider::usage(response);
            let verdict = enforcer.response(&mut checked, usage.as_ref(), scope);
            if let Some(block) = verdict.block {
                return Err(Box::new(block));
            }
        }
    }
    Ok((checked != *response).then_some(checked))
}

/// Gives events the guard made or changed the recorded offset of the event they replace, so
/// paced replays keep their rhythm.
fn keep_timing(recorded: &[StreamEvent], out: &mut [StreamEvent]) {
    let mut last = 0;
    for (i, event) in out.iter_mut().enumerate() {
        match recorded.get(i) {
            Some(r) => {
                event.at_ms = r.at_ms;
                last = r.at_ms;
            }
            None => event.at_ms = last,
        }
    }
}
