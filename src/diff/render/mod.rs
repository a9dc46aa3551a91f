//! Printing a [`Report`](crate::diff::compare::Report), one file per format: `text` (summary
//! table, then each difference; coloured when asked), `json` (versioned schema,
//! [`JSON_VERSION`]), `junit` (one test case per interaction) and `markdown` (for
//! `$GITHUB_STEP_SUMMARY` and pull-request comments, cut politely to a byte budget). This file
//! keeps what several formats share. Pure functions from a report to a string: deterministic,
//! no I/O.

mod json;
mod junit;
mod markdown;
mod text;

use serde_json::Value;

use crate::cassette::matcher::canonical;
use crate::diff::compare::{shorten, Change, Entry, Outcome, Totals};
use crate::diff::normalise::Call;
use crate::diff::rules::Metric;
pub(super) use crate::markup::{code, fenced, xml, xml_text};

pub use json::{json, JSON_VERSION};
pub use junit::junit;
pub use markdown::{markdown, MARKDOWN_BUDGET};
pub use text::{cassette_text, text, TextStyle};

/// One line summing up the totals: `1 changed, 2 same (3 interactions)`.
pub fn headline(totals: &Totals) -> String {
    let mut parts = Vec::new();
    for (n, word) in [
        (totals.changed, "changed"),
        (totals.missing, "missing"),
        (totals.new, "new"),
        (totals.same, "same"),
    ] {
        if n > 0 || (word == "same" && parts.is_empty()) {
            parts.push(format!("{n} {word}"));
        }
    }
    format!(
        "{} ({} interaction{})",
        parts.join(", "),
        totals.interactions(),
        if totals.interactions() == 1 { "" } else { "s" }
    )
}

// ---------------------------------------------------------------------------------------------
// text

/// Whether people should see an entry: every difference, and a same interaction only when
/// something moved within the rules that is worth a look (text, tokens). Latency within its
/// tolerance is ordinary jitter; it is listed in JSON only.
pub(super) fn worth_showing(entry: &Entry) -> bool {
    entry.outcome != Outcome::Same || entry.within.iter().any(|c| !is_latency(c))
}

pub(super) fn is_latency(change: &Change) -> bool {
    matches!(
        change,
        Change::Metric {
            metric: Metric::Latency,
            ..
        }
    )
}

pub(super) fn call_text(call: &Call) -> String {
    format!(
        "{}({})",
        call.name,
        shorten(&canonical(&call.arguments), 200)
    )
}

pub(super) fn json_value(value: &Option<Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(value) => shorten(&canonical(value), 120),
    }
}

pub(super) fn optional(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "(none)".into())
}

/// A metric's move: `40 → 60 (+20, +50.0%; tolerance 10%|5)`.
pub(super) fn metric_move(metric: Metric, before: u64, after: u64, tolerance: &str) -> String {
    let unit = if metric == Metric::Latency { " ms" } else { "" };
    let delta = after as i128 - before as i128;
    let percent = if before > 0 {
        format!(", {:+.1}%", delta as f64 * 100.0 / before as f64)
    } else {
        String::new()
    };
    format!("{before}{unit} → {after}{unit} ({delta:+}{unit}{percent}; tolerance {tolerance})")
}

/// One line for the facets that fit on one.
pub(super) fn scalar_line(change: &Change) -> String {
    match change {
        Change::Status { before, after } => format!("status: {before} → {after}"),
        Change::Model { before, after } => {
            format!("model: {} → {}", optional(before), optional(after))
        }
        Change::FinishReason { before, after } => {
            format!("finish reason: {} → {}", optional(before), optional(after))
        }
        Change::Metric {
            metric,
            before,
            after,
            tolerance,
        } => format!(
            "{}: {}",
            metric.label(),
            metric_move(*metric, *before, *after, tolerance)
        ),
        Change::Incomplete { before, after } => {
            let word = |incomplete: bool| if incomplete { "incomplete" } else { "complete" };
            format!("stream: {} → {}", word(*before), word(*after))
        }
        other => other.title(),
    }
}

/// A movement the rules accept, in one line.
pub(super) fn within_line(change: &Change) -> String {
    match change {
        Change::Text {
            similarity: Some(ratio),
            ..
        } => format!("within the text rule: similarity {ratio:.2}"),
        Change::Text { .. } => "within the text rule: differs only in whitespace".into(),
        other => format!("within tolerance: {}", scalar_line(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// json

#[cfg(test)]
mod tests;
