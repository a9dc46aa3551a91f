//! Printing a [`Report`]: `text` (summary table, then each difference; coloured when asked),
//! `json` (versioned schema, [`JSON_VERSION`]), `junit` (one test case per interaction) and
//! `markdown` (for `$GITHUB_STEP_SUMMARY` and pull-request comments, cut politely to a byte
//! budget). Pure functions from a report to a string: deterministic, no I/O.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::compare::{
    shorten, CassetteReport, Change, Entry, JsonChange, Outcome, PairedBy, Report, Totals,
};
use super::normalise::Call;
use super::rules::{DiffRules, Metric};
use super::text::{self, Line, Tag};
use crate::cassette::matcher::canonical;

/// The version of the `--format json` document. Bump it when a field changes meaning or goes.
pub const JSON_VERSION: u32 = 1;

/// GitHub refuses comments over 65,536 characters (a step summary may hold 1 MiB): the default
/// Markdown budget leaves room for whatever a workflow adds around the report.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// Colour and table borders for text output.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextStyle {
    /// ANSI colours (a terminal, or `--color always`); without them, changed words are marked
    /// `[-old-]` / `{+new+}`.
    pub color: bool,
    /// Boxed summary table (a terminal).
    pub boxed: bool,
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const REVERSE: &str = "\x1b[7m";
const NO_REVERSE: &str = "\x1b[27m";
const RESET: &str = "\x1b[0m";

impl TextStyle {
    fn paint(&self, colour: &str, text: &str) -> String {
        if self.color {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

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

/// Whether people should see an entry: every difference, and a same interaction only when
/// something moved within the rules that is worth a look (text, tokens). Latency within its
/// tolerance is ordinary jitter; it is listed in JSON only.
fn worth_showing(entry: &Entry) -> bool {
    entry.outcome != Outcome::Same || entry.within.iter().any(|c| !is_latency(c))
}

fn is_latency(change: &Change) -> bool {
    matches!(
        change,
        Change::Metric {
            metric: Metric::Latency,
            ..
        }
    )
}

fn summary_table(report: &Report, boxed: bool) -> String {
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

fn entry_heading(cassette: &str, entry: &Entry) -> String {
    format!("{cassette} {}  {}", entry.ids(), entry.request)
}

fn entry_text(cassette: &str, entry: &Entry, style: TextStyle) -> String {
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

fn change_text(change: &Change, style: TextStyle, out: &mut String) {
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

fn more_line(more: usize, out: &mut String) {
    if more > 0 {
        let _ = writeln!(out, "    … and {more} more");
    }
}

fn styled_line(line: &Line, style: TextStyle) -> String {
    if !style.color {
        return text::plain_line(line);
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

fn tool_call_heading(change: &Change) -> String {
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

fn call_text(call: &Call) -> String {
    format!(
        "{}({})",
        call.name,
        shorten(&canonical(&call.arguments), 200)
    )
}

fn json_value(value: &Option<Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(value) => shorten(&canonical(value), 120),
    }
}

fn json_change_line(change: &JsonChange) -> String {
    format!(
        "{}: {} → {}",
        change.path,
        json_value(&change.before),
        json_value(&change.after)
    )
}

fn optional(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "(none)".into())
}

/// A metric's move: `40 → 60 (+20, +50.0%; tolerance 10%|5)`.
fn metric_move(metric: Metric, before: u64, after: u64, tolerance: &str) -> String {
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
fn scalar_line(change: &Change) -> String {
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
fn within_line(change: &Change) -> String {
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

/// The report as a JSON document (schema version [`JSON_VERSION`]); every interaction is
/// listed, the same ones included, in report order.
pub fn json(report: &Report, rules: &DiffRules) -> Value {
    let totals = report.totals();
    let cassettes: Vec<Value> = report
        .cassettes
        .iter()
        .map(|c| {
            let t = c.totals();
            json!({
                "name": c.name,
                "baseline": c.baseline,
                "candidate": c.candidate,
                "interactions": t.interactions(),
                "same": t.same,
                "changed": t.changed,
                "missing": t.missing,
                "new": t.new,
            })
        })
        .collect();
    let interactions: Vec<Value> = report
        .cassettes
        .iter()
        .flat_map(|c| c.entries.iter().map(move |e| entry_json(&c.name, e)))
        .collect();
    json!({
        "version": JSON_VERSION,
        "baseline": report.baseline,
        "candidate": report.candidate,
        "changed": totals.differs(),
        "rules": {
            "text": rules.text.to_string(),
            "ignore": rules.ignore.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "tolerance": {
                "input_tokens": rules.input_tokens.spec(),
                "output_tokens": rules.output_tokens.spec(),
                "latency": rules.latency.spec(),
            },
        },
        "summary": {
            "interactions": totals.interactions(),
            "same": totals.same,
            "changed": totals.changed,
            "missing": totals.missing,
            "new": totals.new,
        },
        "cassettes": cassettes,
        "interactions": interactions,
    })
}

fn entry_json(cassette: &str, entry: &Entry) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("cassette".into(), json!(cassette));
    object.insert("outcome".into(), json!(entry.outcome.name()));
    object.insert("request".into(), json!(entry.request));
    object.insert("baseline_id".into(), json!(entry.baseline_id));
    object.insert("candidate_id".into(), json!(entry.candidate_id));
    if let Some(by) = entry.paired_by {
        let by = match by {
            PairedBy::Request => "request",
            PairedBy::Position => "position",
        };
        object.insert("paired_by".into(), json!(by));
    }
    if !entry.request_changes.is_empty() {
        let changes: Vec<Value> = entry
            .request_changes
            .iter()
            .map(|d| json!({"path": d.field, "baseline": d.recorded, "candidate": d.requested}))
            .collect();
        object.insert("request_changes".into(), Value::Array(changes));
    }
    if let Some(preview) = &entry.preview {
        object.insert("preview".into(), json!(preview));
    }
    if entry.paired_by.is_some() {
        let changes = entry.changes.iter().map(change_json).collect();
        object.insert("changes".into(), Value::Array(changes));
    }
    if !entry.within.is_empty() {
        let within = entry.within.iter().map(change_json).collect();
        object.insert("within".into(), Value::Array(within));
    }
    Value::Object(object)
}

fn json_changes(changes: &[JsonChange]) -> Value {
    changes
        .iter()
        .map(|c| {
            let mut item = serde_json::Map::new();
            item.insert("path".into(), json!(c.path));
            if let Some(before) = &c.before {
                item.insert("baseline".into(), before.clone());
            }
            if let Some(after) = &c.after {
                item.insert("candidate".into(), after.clone());
            }
            Value::Object(item)
        })
        .collect()
}

fn call_json(call: &Option<Call>) -> Value {
    match call {
        Some(call) => json!({"name": call.name, "arguments": call.arguments}),
        None => Value::Null,
    }
}

fn change_json(change: &Change) -> Value {
    let kind = change.kind();
    match change {
        Change::Status { before, after } => {
            json!({"kind": kind, "baseline": before, "candidate": after})
        }
        Change::Model { before, after } | Change::FinishReason { before, after } => {
            json!({"kind": kind, "baseline": before, "candidate": after})
        }
        Change::Text {
            before,
            after,
            similarity,
            hunks,
        } => {
            let mut value = json!({"kind": kind, "baseline": before, "candidate": after});
            if let Some(ratio) = similarity {
                value["similarity"] = json!((f64::from(*ratio) * 1000.0).round() / 1000.0);
            }
            if !hunks.is_empty() {
                value["diff"] = json!(text::plain(hunks));
            }
            value
        }
        Change::ToolCall {
            index,
            before,
            after,
            arguments,
            more,
        } => json!({
            "kind": kind,
            "index": index,
            "baseline": call_json(before),
            "candidate": call_json(after),
            "arguments": json_changes(arguments),
            "more": more,
        }),
        Change::Metric {
            before,
            after,
            tolerance,
            ..
        } => json!({
            "kind": kind,
            "baseline": before,
            "candidate": after,
            "delta": *after as i128 - *before as i128,
            "tolerance": tolerance,
        }),
        Change::Incomplete { before, after } => {
            json!({"kind": kind, "baseline": before, "candidate": after})
        }
        Change::Body { changes, more } => {
            json!({"kind": kind, "changes": json_changes(changes), "more": more})
        }
    }
}

// ---------------------------------------------------------------------------------------------
// junit

/// The report as JUnit XML: one test suite per cassette, one test case per interaction; a
/// change, a missing and a new interaction are failures whose text is the plain text report.
pub fn junit(report: &Report) -> String {
    let totals = report.totals();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"traceforge diff\" tests=\"{}\" failures=\"{}\">",
        totals.interactions(),
        totals.interactions() - totals.same
    );
    let plain = TextStyle::default();
    for cassette in &report.cassettes {
        let t = cassette.totals();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
            xml(&cassette.name),
            t.interactions(),
            t.interactions() - t.same
        );
        for entry in &cassette.entries {
            let mut name = format!("{} {}", entry.ids(), entry.request);
            if matches!(entry.outcome, Outcome::Missing | Outcome::New) {
                let _ = write!(name, " ({})", entry.outcome.name());
            }
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&cassette.name),
                xml(&name)
            );
            if !worth_showing(entry) {
                let _ = writeln!(out, "{open}/>");
                continue;
            }
            let _ = writeln!(out, "{open}>");
            let details = entry_text(&cassette.name, entry, plain);
            if entry.outcome == Outcome::Same {
                let _ = writeln!(out, "      <system-out>{}</system-out>", xml_text(&details));
            } else {
                let message = match entry.outcome {
                    Outcome::Missing => "missing from the candidate".to_string(),
                    Outcome::New => "new in the candidate".to_string(),
                    _ => format!(
                        "behaviour changed: {}",
                        entry
                            .changes
                            .iter()
                            .map(Change::title)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    entry.outcome.name(),
                    xml(&message),
                    xml_text(&details)
                );
            }
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for an XML attribute value; drops characters XML 1.0 cannot hold.
fn xml(text: &str) -> String {
    escape_xml(text, true)
}

/// Escapes text for XML element content (quotes stay readable there).
fn xml_text(text: &str) -> String {
    escape_xml(text, false)
}

fn escape_xml(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// markdown

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

fn entry_markdown(cassette: &str, entry: &Entry, full: bool) -> String {
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
                out.push_str(&fenced("diff", text::plain(hunks).trim_end()));
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

fn tool_call_markdown_heading(change: &Change) -> String {
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

fn json_diff_lines(changes: &[JsonChange]) -> Vec<String> {
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

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    let text = text.replace('\n', " ");
    let longest = longest_backtick_run(&text);
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// A fenced code block that survives fences in the text.
fn fenced(language: &str, body: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    format!("{fence}{language}\n{body}\n{fence}\n\n")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(outcome: Outcome, text_before: &str, text_after: &str) -> Entry {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        Entry {
            outcome,
            baseline_id: Some(1),
            candidate_id: Some(1),
            request: "POST openai /v1/chat/completions".into(),
            paired_by: Some(PairedBy::Request),
            request_changes: Vec::new(),
            changes: vec![Change::Text {
                before: text_before.into(),
                after: text_after.into(),
                similarity: None,
                hunks: text::hunks(text_before, text_after, deadline),
            }],
            within: Vec::new(),
            preview: None,
        }
    }

    fn report(entries: Vec<Entry>) -> Report {
        Report {
            baseline: PathBuf::from("a"),
            candidate: PathBuf::from("b"),
            cassettes: vec![CassetteReport {
                name: "c".into(),
                baseline: Some(PathBuf::from("a/c.yaml")),
                candidate: Some(PathBuf::from("b/c.yaml")),
                entries,
            }],
        }
    }

    #[test]
    fn markdown_stays_within_its_budget_and_says_so() {
        let big = "word ".repeat(3000);
        let entries = (0..40)
            .map(|i| entry(Outcome::Changed, &big, &format!("{big} {i}")))
            .collect();
        let text = markdown(&report(entries), 3_000);
        assert!(text.len() <= 3_000, "{}", text.len());
        assert!(text.contains("are shown without details"), "{text}");
        assert!(text.contains("more interaction(s) are not shown"), "{text}");
        assert!(text.contains("Run `traceforge diff a b`"));
        // Every fence that opens also closes.
        assert_eq!(
            text.matches("```diff").count() * 2,
            text.matches("```").count()
        );
    }

    #[test]
    fn markdown_code_survives_backticks() {
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(fenced("diff", "x ``` y"), "````diff\nx ``` y\n````\n\n");
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml("<a & \"b\">\u{1}"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(xml_text("it's \"b\" <"), "it's \"b\" &lt;");
    }

    #[test]
    fn colour_replaces_the_word_marks() {
        let e = entry(
            Outcome::Changed,
            "I can help you with that.",
            "I can assist you with that.",
        );
        let coloured = entry_text(
            "c",
            &e,
            TextStyle {
                color: true,
                boxed: false,
            },
        );
        assert!(
            coloured.contains(&format!("{REVERSE}help{NO_REVERSE}")),
            "{coloured:?}"
        );
        assert!(!coloured.contains("[-"));
        let plain = entry_text("c", &e, TextStyle::default());
        assert!(plain.contains("- I can [-help-] you"), "{plain}");
    }
}
