//! The `text` format: a summary table, then each difference, coloured when asked.

use std::fmt::Write as _;

use super::*;
use crate::diff::compare::{
    CassetteReport, Change, Entry, JsonChange, Outcome, PairedBy, Report, Totals,
};
use crate::diff::text::{self as words, Line, Tag};

/// Colour and table borders for text output.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextStyle {
    /// ANSI colours (a terminal, or `--color always`); without them, changed words are marked
    /// `[-old-]` / `{+new+}`.
    pub color: bool,
    /// Boxed summary table (a terminal).
    pub boxed: bool,
}

pub(super) const RED: &str = "\x1b[31m";

pub(super) const GREEN: &str = "\x1b[32m";

pub(super) const YELLOW: &str = "\x1b[33m";

pub(super) const CYAN: &str = "\x1b[36m";

pub(super) const BOLD: &str = "\x1b[1m";

pub(super) const DIM: &str = "\x1b[2m";

pub(super) const REVERSE: &str = "\x1b[7m";

pub(super) const NO_REVERSE: &str = "\x1b[27m";

pub(super) const RESET: &str = "\x1b[0m";

impl TextStyle {
    fn paint(&self, colour: &str, text: &str) -> String {
        if self.color {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// The whole report as text: the two sides, a per-cassette table, every difference, a total.
pub fn text(report: &Report, style: TextStyle) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "baseline:  {}", report.baseline.display());
    let _ = writeln!(out, "candidate: {}", report.candidate.display());
    out.push('\n');
    out.push_str(&summary_table(report, style.boxed));
    for cassette in &report.cassettes {
        for entry in cassette.entries.iter().filter(|e| worth_showing(e)) {
            out.push('\n');
            out.push_str(&entry_text(&cassette.name, entry, style));
        }
    }
    out.push('\n');
    let totals = report.totals();
    let verdict = if totals.differs() {
        style.paint(BOLD, "behaviour changed")
    } else {
        "no behaviour change".to_string()
    };
    let _ = writeln!(out, "traceforge diff: {verdict}: {}", headline(&totals));
    out
}

/// One cassette's differences as text, as `review` shows them before asking.
pub fn cassette_text(cassette: &CassetteReport, style: TextStyle) -> String {
    let mut out = String::new();
    for entry in cassette.entries.iter().filter(|e| worth_showing(e)) {
        out.push_str(&entry_text(&cassette.name, entry, style));
        out.push('\n');
    }
    let _ = writeln!(out, "{}", headline(&cassette.totals()));
    out
}

pub(super) fn summary_table(report: &Report, boxed: bool) -> String {
    let mut table = comfy_table::Table::new();
    if boxed {
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    } else {
        table.load_preset(comfy_table::presets::NOTHING);
    }
    table.set_header([
        "cassette",
        "interactions",
        "same",
        "changed",
        "missing",
        "new",
    ]);
    let row = |name: String, t: Totals| {
        vec![
            name,
            t.interactions().to_string(),
            t.same.to_string(),
            t.changed.to_string(),
            t.missing.to_string(),
            t.new.to_string(),
        ]
    };
    for cassette in &report.cassettes {
        table.add_row(row(cassette.name.clone(), cassette.totals()));
    }
    if report.cassettes.len() > 1 {
        table.add_row(row("total".into(), report.totals()));
    }
    for index in 1..6 {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    crate::output::trimmed(&table)
}

pub(super) fn entry_heading(cassette: &str, entry: &Entry) -> String {
    format!("{cassette} {}  {}", entry.ids(), entry.request)
}

pub(super) fn entry_text(cassette: &str, entry: &Entry, style: TextStyle) -> String {
    let mut out = String::new();
    let colour = match entry.outcome {
        Outcome::Changed => YELLOW,
        Outcome::Missing => RED,
        Outcome::New => GREEN,
        Outcome::Same => DIM,
    };
    let word = style.paint(
        &format!("{BOLD}{colour}"),
        &format!("{:<7}", entry.outcome.name()),
    );
    let _ = writeln!(out, "{word}  {}", entry_heading(cassette, entry));
    if let Some(preview) = &entry.preview {
        let side = match entry.outcome {
            Outcome::Missing => "only in the baseline",
            _ => "only in the candidate",
        };
        let _ = writeln!(out, "  {side}: {preview}");
    }
    if entry.paired_by == Some(PairedBy::Position) {
        let _ = writeln!(out, "  request changed (paired by position):");
        for d in &entry.request_changes {
            let _ = writeln!(out, "    {}: {} → {}", d.field, d.recorded, d.requested);
        }
    }
    for change in &entry.changes {
        change_text(change, style, &mut out);
    }
    for change in entry.within.iter().filter(|c| !is_latency(c)) {
        let _ = writeln!(out, "  {}", within_line(change));
    }
    out
}

pub(super) fn change_text(change: &Change, style: TextStyle, out: &mut String) {
    match change {
        Change::Text { hunks, .. } => {
            let _ = writeln!(out, "  text:");
            for hunk in hunks {
                let _ = writeln!(out, "    {}", style.paint(CYAN, &hunk.header));
                for line in &hunk.lines {
                    let _ = writeln!(out, "    {}", styled_line(line, style));
                }
            }
        }
        Change::ToolCall {
            before,
            after,
            arguments,
            more,
            ..
        } => {
            let _ = writeln!(out, "  {}:", tool_call_heading(change));
            match (before, after) {
                (None, Some(call)) => {
                    let _ = writeln!(out, "    added: {}", call_text(call));
                }
                (Some(call), None) => {
                    let _ = writeln!(out, "    removed: {}", call_text(call));
                }
                _ => {
                    for c in arguments {
                        let _ = writeln!(out, "    {}", json_change_line(c));
                    }
                    more_line(*more, out);
                }
            }
        }
        Change::Body { changes, more } => {
            let _ = writeln!(out, "  body:");
            for c in changes {
                let _ = writeln!(out, "    {}", json_change_line(c));
            }
            more_line(*more, out);
        }
        other => {
            let _ = writeln!(out, "  {}", scalar_line(other));
        }
    }
}

pub(super) fn more_line(more: usize, out: &mut String) {
    if more > 0 {
        let _ = writeln!(out, "    … and {more} more");
    }
}

pub(super) fn styled_line(line: &Line, style: TextStyle) -> String {
    if !style.color {
        return words::plain_line(line);
    }
    let (colour, prefix) = match line.tag {
        Tag::Same => ("", ' '),
        Tag::Removed => (RED, '-'),
        Tag::Added => (GREEN, '+'),
    };
    let mut out = format!("{colour}{prefix} ");
    for (emphasised, segment) in &line.segments {
        if *emphasised {
            let _ = write!(out, "{REVERSE}{segment}{NO_REVERSE}");
        } else {
            out.push_str(segment);
        }
    }
    if !colour.is_empty() {
        out.push_str(RESET);
    }
    out
}

pub(super) fn tool_call_heading(change: &Change) -> String {
    let Change::ToolCall {
        index,
        before,
        after,
        ..
    } = change
    else {
        return change.title();
    };
    match (before, after) {
        (Some(a), Some(b)) if a.name != b.name => {
            format!("tool call {}: {} → {}", index + 1, a.name, b.name)
        }
        _ => change.title(),
    }
}

pub(super) fn json_change_line(change: &JsonChange) -> String {
    format!(
        "{}: {} → {}",
        change.path,
        json_value(&change.before),
        json_value(&change.after)
    )
}
