//! Answering a request nothing in the cassette matches: a provider-shaped 404 and a report, on
//! stderr, of the nearest recorded request and exactly how it differs. Hits are served from the
//! rendered responses of [`super::rendered`].

use std::fmt::Write as _;

use super::cassettes::{Miss, OpenCassette};
use crate::cassette::matcher::{MatchRules, RequestView};
use crate::cassette::redact::Redactor;
use crate::cassette::Request;
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
    redactor: &Redactor,
    pii_note: Option<&str>,
) -> (HttpResponse, String) {
    // Shown protected, as the request is: a cassette recorded before `pii:` was on may hold
    // values a report must not print.
    let recorded: Vec<Request> = cassette
        .recorded()
        .iter()
        .map(|r| {
            let mut request = r.interaction.request.clone();
            redactor.request(&mut request, &mut Vec::new());
            request
        })
        .collect();
    let ids: Vec<u64> = cassette
        .recorded()
        .iter()
        .map(|r| r.interaction.id)
        .collect();
    let nearest = rules.nearest(
        requested,
        recorded
            .iter()
            .enumerate()
            .map(|(i, r)| (i, RequestView::from(r))),
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
    if let Some(note) = pii_note {
        let _ = writeln!(report, "  note: {note}");
    }
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
        let view = RequestView::from(&recorded[*index]);
        let near_id = ids[*index];
        let _ = writeln!(
            report,
            "  nearest recorded: interaction {} ({} {} {})",
            near_id, view.method, view.upstream, view.path
        );
        let _ = write!(
            message,
            "; nearest recorded is interaction {} ({} {} {})",
            near_id, view.method, view.upstream, view.path
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
    if let Some(note) = pii_note {
        let _ = write!(message, "; {note}");
    }
    let provider = Provider::detect(requested.upstream, requested.path);
    let body = provider.error_body(MISS_STATUS, "traceforge_replay_miss", &message);
    (json_response(MISS_STATUS, &body), report)
}
