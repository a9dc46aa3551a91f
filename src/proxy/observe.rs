//! What the proxy counts into the process's metrics ([`crate::telemetry::metrics`]): one
//! observation per request (upstream, provider, mode, status class, duration, session), and
//! the tokens, PII redactions and policy decisions of the interactions it serves. Kept apart
//! from the handlers so that counting stays a line at each place something happens.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::cassette::{Decision, Interaction, Usage};
use crate::provider::Provider;
use crate::telemetry::metrics::{self, Counter, Handle, Histogram, Metrics, ModelTokens};

/// The series a request to one path is counted in, resolved at the path's first request
/// (the proxy keeps one per path): counting a request then hashes no label and takes no lock.
pub(super) struct PathMetrics {
    upstream: &'static str,
    provider: &'static str,
    mode: &'static str,
    /// Requests by status class (`1xx` … `5xx`), each series resolved when first counted.
    requests: [OnceLock<Handle<Counter>>; 5],
    duration: Handle<Histogram>,
}

impl PathMetrics {
    /// The series of requests for a path to `upstream` and `provider` at a proxy in `mode`.
    pub(super) fn new(mode: super::Mode, upstream: &str, provider: Provider) -> PathMetrics {
        let metrics = metrics::global();
        let mode = mode_label(mode);
        PathMetrics {
            upstream: metrics.upstreams.admit(upstream),
            provider: provider.name(),
            mode,
            requests: Default::default(),
            duration: metrics.request_duration.handle(&[mode]),
        }
    }
}

/// A request being answered, counted when its response head is ready.
pub(super) struct Observed {
    started: Instant,
}

impl Observed {
    /// Starts observing a request of `session` (its session header's value).
    pub(super) fn start(session: Option<&http::HeaderValue>) -> Observed {
        if let Some(session) = session.and_then(|v| v.to_str().ok()) {
            metrics::global().sessions.saw(session);
        }
        Observed {
            // The request's event started its clock already (one reading per request).
            started: crate::telemetry::request::current_started().unwrap_or_else(Instant::now),
        }
    }

    /// Counts the request, in `path`'s series, with the status it was answered with.
    pub(super) fn finish(self, path: &PathMetrics, status: http::StatusCode) {
        let class = metrics::status_class(status.as_u16());
        // `1xx` … `5xx` (anything else is counted as `5xx`).
        let index = usize::from(class.as_bytes()[0] - b'1');
        path.requests[index]
            .get_or_init(|| {
                metrics::global()
                    .requests
                    .handle(&[path.upstream, path.provider, path.mode, class])
            })
            .inc();
        path.duration.observe(self.started.elapsed());
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

/// The tokens of a replayed answer, counted through the interaction's own counters.
pub(super) fn replayed_tokens(recorded: &super::cassettes::Recorded) {
    if let Some(usage) = &recorded.interaction.usage {
        recorded
            .tokens
            .get_or_init(|| ModelTokens::new(usage.model.as_deref()))
            .count(usage.input_tokens, usage.output_tokens);
    }
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
