//! Answering a request nothing in the cassette matches: a provider-shaped 404 and a report, on
//! stderr, of the nearest recorded request and exactly how it differs. Hits are served from the
//! rendered responses of [`super::rendered`].

use std::fmt::Write as _;

use super::cassettes::{Miss, OpenCassette};
use crate::cassette::matcher::{MatchRules, RequestView};
use crate::provider::Provider;
use crate::server::{json_response, HttpResponse};

/// The status a miss answers with: a 4xx that the official SDKs do not retry.
pub const MISS_STATUS: u16 = 404;

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
