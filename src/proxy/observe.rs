//! What the proxy counts into the process's metrics ([`crate::telemetry::metrics`]): one
//! observation per request (upstream, provider, mode, status class, duration, session), and
//! the tokens, PII redactions and policy decisions of the interactions it serves. Kept apart
//! from the handlers so that counting stays a line at each place something happens.

use std::time::{Duration, Instant};

use crate::cassette::{Decision, Interaction, Usage};
use crate::provider::Provider;
use crate::telemetry::metrics::{self, Metrics};

/// A request being answered, counted when its response head is ready.
pub(super) struct Observed {
    started: Instant,
    upstream: &'static str,
    provider: &'static str,
    mode: &'static str,
}

impl Observed {
    /// Starts observing a request for `path` at a proxy in `mode`.
    pub(super) fn start(mode: super::Mode, path: &str, headers: &http::HeaderMap) -> Observed {
        let metrics = metrics::global();
        let (upstream, rest) = super::route(path).unwrap_or(("", "/"));
        if let Some(session) = headers
            .get(&super::policy::SCOPE_HEADER_NAMES[2])
            .and_then(|v| v.to_str().ok())
        {
            metrics.sessions.saw(session);
        }
        Observed {
            started: Instant::now(),
            upstream: metrics.upstreams.admit(upstream),
            provider: Provider::detect(upstream, rest).name(),
            mode: mode_label(mode),
        }
    }

    /// Counts the request with the status it was answered with.
    pub(super) fn finish(self, status: http::StatusCode) {
        let metrics = metrics::global();
        metrics.requests.inc(&[
            self.upstream,
            self.provider,
            self.mode,
            metrics::status_class(status.as_u16()),
        ]);
        metrics
            .request_duration
            .observe(&[self.mode], self.started.elapsed());
    }
}

/// `replay` for a proxy that only replays, `record` for one that may forward.
fn mode_label(mode: super::Mode) -> &'static str {
    match mode {
        super::Mode::None => "replay",
        _ => "record",
    }
}

/// The upstream's time to its response head.
pub(super) fn upstream_ttfb(upstream: &str, elapsed: Duration) {
    let metrics = metrics::global();
    metrics
        .upstream_ttfb
        .observe(&[metrics.upstreams.admit(upstream)], elapsed);
}

/// The tokens of an answer served (recorded or replayed).
pub(super) fn tokens(usage: Option<&Usage>) {
    if let Some(usage) = usage {
        metrics::global().count_tokens(
            usage.model.as_deref(),
            usage.input_tokens,
            usage.output_tokens,
        );
    }
}

/// A recorded interaction: its tokens, its PII redactions, its policy decisions and whether
/// its stream was cut short.
pub(super) fn recorded(interaction: &Interaction) {
    let metrics: &Metrics = metrics::global();
    tokens(interaction.usage.as_ref());
    for redaction in &interaction.redactions {
        metrics
            .pii_redactions
            .inc(&[metrics.entities.admit(&redaction.detector)]);
    }
    decisions(&interaction.decisions);
    if interaction.response.incomplete {
        metrics.incomplete_streams.inc();
    }
}

/// Policy decisions (rules that matched), by severity and action.
pub(super) fn decisions(decisions: &[Decision]) {
    for decision in decisions {
        violation(&decision.severity, &decision.action);
    }
}

/// One rule that matched.
pub(super) fn violation(severity: &str, action: &str) {
    // Both come from closed lists (the policy file's schema); bounded all the same.
    let metrics = metrics::global();
    metrics.policy_violations.inc(&[severity, action]);
}

/// A request no recording answered where none could be made.
pub(super) fn replay_miss() {
    metrics::global().replay_misses.inc();
}
