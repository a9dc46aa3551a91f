//! The `markdown` format: for `$GITHUB_STEP_SUMMARY` and pull-request comments, cut politely
//! to a byte budget ([`MARKDOWN_BUDGET`]).

use std::fmt::Write as _;

use super::*;
use crate::diff::compare::{Change, Entry, JsonChange, Outcome, PairedBy, Report};
use crate::diff::normalise::Call;
use crate::diff::text::{self as words};

pub use crate::markup::MARKDOWN_BUDGET;

/// The report as GitHub-flavoured Markdown, at most `budget` bytes: the headline and the table
/// always, then each difference while it fits (in a compact form when the full one does not),
/// and a closing note saying how many were left out and how to see them.
pub fn markdown(report: &Report, budget: usize) -> String {
    let totals = report.totals();
    let mut head = String::new();
    if totals.differs() {
        let _ = writeln!(
            head,
            "## traceforge diff: behaviour changed\n\n{}\n",
            headline(&totals)
        );
    } else {
        let _ = writeln!(
            head,
            "## traceforge diff: no behaviour change\n\n{}\n",
            headline(&totals)
        );
    }
    let _ = writeln!(
        head,
        "Baseline {} → candidate {}\n",
        code(&report.baseline.display().to_string()),
        code(&report.candidate.display().to_string())
    );

    let mut rows: Vec<String> = report
        .cassettes
        .iter()
        .filter(|c| c.totals().differs())
        .map(|c| {
            let t = c.totals();
            format!(
                "| {} | {} | {} | {} | {} |\n",
                code(&c.name),
                t.same,
                t.changed,
                t.missing,
                t.new
            )
        })
        .collect();
    if !rows.is_empty() {
        rows.push(format!(
            "| **total** | {} | {} | {} | {} |\n",
            totals.same, totals.changed, totals.missing, totals.new
        ));
    }

    let sections: Vec<(String, String)> = report
        .cassettes
        .iter()
        .flat_map(|c| {
            c.entries.iter().filter(|e| worth_showing(e)).map(move |e| {
                (
                    entry_markdown(&c.name, e, true),
                    entry_markdown(&c.name, e, false),
                )
            })
        })
        .collect();

    // Room kept for the closing note, so it always fits.
    const NOTE_ROOM: usize = 400;
    let limit = budget.saturating_sub(NOTE_ROOM);
    let mut out = head;
    let mut left_out_rows = 0;
    if !rows.is_empty() {
        out.push_str(
            "| cassette | same | changed | missing | new |\n| :-- | --: | --: | --: | --: |\n",
        );
        let total_row = rows.pop().unwrap_or_default();
        for row in rows {
            if out.len() + row.len() + total_row.len() <= limit {
                out.push_str(&row);
            } else {
                left_out_rows += 1;
            }
        }
        if left_out_rows > 0 {
            let _ = writeln!(out, "| … {left_out_rows} more cassettes | | | | |");
        }
        out.push_str(&total_row);
        out.push('\n');
    }
    let mut shown = 0;
    let mut compact = 0;
    for (full, short) in &sections {
        if out.len() + full.len() <= limit {
            out.push_str(full);
        } else if out.len() + short.len() <= limit {
            out.push_str(short);
            compact += 1;
        } else {
            break;
        }
        shown += 1;
    }
    let left_out = sections.len() - shown;
    if left_out > 0 || compact > 0 || left_out_rows > 0 {
        let mut note = String::from("> [!NOTE]\n> This report was cut to fit GitHub's size limits");
        if left_out > 0 {
            let _ = write!(note, ": {left_out} more interaction(s) are not shown");
        }
        if compact > 0 {
            let _ = write!(note, "; {compact} are shown without details");
        }
        let _ = write!(
            note,
            ".\n> Run `traceforge diff {} {}` to see everything.\n",
            report.baseline.display(),
            report.candidate.display()
        );
        out.push_str(&note);
    }
    out
}

pub(super) fn entry_markdown(cassette: &str, entry: &Entry, full: bool) -> String {
    let mut out = String::new();
    let title = match entry.outcome {
        Outcome::Changed => "Changed",
        Outcome::Missing => "Missing",
        Outcome::New => "New",
        Outcome::Same => "Same (within the rules)",
    };
    let _ = writeln!(
        out,
        "### {title}: {} {} {}\n",
        code(cassette),
        entry.ids(),
        code(&entry.request)
    );
    if !full {
        let kinds: Vec<String> = entry.changes.iter().map(Change::title).collect();
        if !kinds.is_empty() {
            let _ = writeln!(out, "Changed: {} (details cut to fit)\n", kinds.join(", "));
        }
        return out;
    }
    if let Some(preview) = &entry.preview {
        let side = match entry.outcome {
            Outcome::Missing => "Only in the baseline",
            _ => "Only in the candidate",
        };
        let _ = writeln!(out, "{side}: {}\n", code(preview));
    }
    if entry.paired_by == Some(PairedBy::Position) {
        let _ = writeln!(out, "Paired by position; the request changed:\n");
        let lines: Vec<String> = entry
            .request_changes
            .iter()
            .flat_map(|d| {
                [
                    format!("- {}: {}", d.field, d.recorded),
                    format!("+ {}: {}", d.field, d.requested),
                ]
            })
            .collect();
        out.push_str(&fenced("diff", &lines.join("\n")));
    }
    let mut bullets = Vec::new();
    for change in &entry.changes {
        match change {
            Change::Text { hunks, .. } => {
                let _ = writeln!(out, "**Text**\n");
                out.push_str(&fenced("diff", words::plain(hunks).trim_end()));
            }
            Change::ToolCall {
                before,
                after,
                arguments,
                more,
                ..
            } => {
                let _ = writeln!(out, "{}\n", tool_call_markdown_heading(change));
                let mut lines = Vec::new();
                match (before, after) {
                    (None, Some(call)) => lines.push(format!("+ {}", call_text(call))),
                    (Some(call), None) => lines.push(format!("- {}", call_text(call))),
                    _ => {
                        lines.extend(json_diff_lines(arguments));
                        if *more > 0 {
                            lines.push(format!("  … and {more} more"));
                        }
                    }
                }
                out.push_str(&fenced("diff", &lines.join("\n")));
            }
            Change::Body { changes, more } => {
                let _ = writeln!(out, "**Body**\n");
                let mut lines = json_diff_lines(changes);
                if *more > 0 {
                    lines.push(format!("  … and {more} more"));
                }
                out.push_str(&fenced("diff", &lines.join("\n")));
            }
            other => bullets.push(format!("- {}", capitalised(&scalar_line(other)))),
        }
    }
    for change in entry.within.iter().filter(|c| !is_latency(c)) {
        bullets.push(format!("- {}", capitalised(&within_line(change))));
    }
    if !bullets.is_empty() {
        out.push_str(&bullets.join("\n"));
        out.push_str("\n\n");
    }
    out
}

pub(super) fn tool_call_markdown_heading(change: &Change) -> String {
    let Change::ToolCall {
        index,
        before,
        after,
        ..
    } = change
    else {
        return String::new();
    };
    let name = |call: &Option<Call>| call.as_ref().map(|c| code(&c.name));
    let names = match (name(before), name(after)) {
        (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
        (a, b) => b.or(a).unwrap_or_default(),
    };
    let what = match (before, after) {
        (None, Some(_)) => " (added)",
        (Some(_), None) => " (removed)",
        _ => "",
    };
    format!("**Tool call {}** {names}{what}", index + 1)
}

pub(super) fn json_diff_lines(changes: &[JsonChange]) -> Vec<String> {
    let mut lines = Vec::new();
    for c in changes {
        if c.before.is_some() {
            lines.push(format!("- {}: {}", c.path, json_value(&c.before)));
        }
        if c.after.is_some() {
            lines.push(format!("+ {}: {}", c.path, json_value(&c.after)));
        }
    }
    lines
}

pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
