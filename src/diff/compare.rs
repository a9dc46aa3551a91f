//! Pairing and comparing: interactions of a baseline and a candidate cassette are paired by
//! normalised request (in recorded order among equal requests), then the leftovers by position
//! within one endpoint; every pair is compared facet by facet under the [`DiffRules`], and what
//! found no partner is missing or new. The result is a [`Report`] that the renderers print.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use super::normalise::{Behaviour, Call, Normalised};
use super::rules::{DiffRules, Metric};
use super::text::{self, Hunk};
use crate::cassette::matcher::{canonical, Difference, MatchRules, RequestView};

/// At most this many JSON changes are listed per tool call or body; the rest are counted.
const MAX_JSON_CHANGES: usize = 50;

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct Report {
    /// The paths as given on the command line.
    pub baseline: PathBuf,
    pub candidate: PathBuf,
    /// Sorted by name.
    pub cassettes: Vec<CassetteReport>,
}

/// How many interactions ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub same: usize,
    pub changed: usize,
    pub missing: usize,
    pub new: usize,
}

impl Totals {
    pub fn interactions(&self) -> usize {
        self.same + self.changed + self.missing + self.new
    }

    /// Anything but "same" fails the comparison.
    pub fn differs(&self) -> bool {
        self.changed + self.missing + self.new > 0
    }

    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Same => self.same += 1,
            Outcome::Changed => self.changed += 1,
            Outcome::Missing => self.missing += 1,
            Outcome::New => self.new += 1,
        }
    }
}

impl Report {
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for cassette in &self.cassettes {
            for entry in &cassette.entries {
                totals.add(entry.outcome);
            }
        }
        totals
    }

    /// Every entry that is not the same, with its cassette, in report order.
    pub fn differences(&self) -> impl Iterator<Item = (&CassetteReport, &Entry)> {
        self.cassettes.iter().flat_map(|cassette| {
            cassette
                .entries
                .iter()
                .filter(|e| e.outcome != Outcome::Same)
                .map(move |e| (cassette, e))
        })
    }
}

/// One cassette's comparison.
#[derive(Debug, Clone)]
pub struct CassetteReport {
    pub name: String,
    /// The files compared; `None` when the cassette exists on one side only.
    pub baseline: Option<PathBuf>,
    pub candidate: Option<PathBuf>,
    pub entries: Vec<Entry>,
}

impl CassetteReport {
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for entry in &self.entries {
            totals.add(entry.outcome);
        }
        totals
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Same,
    Changed,
    /// Only in the baseline.
    Missing,
    /// Only in the candidate.
    New,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Same => "same",
            Outcome::Changed => "changed",
            Outcome::Missing => "missing",
            Outcome::New => "new",
        }
    }
}

/// How a pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairedBy {
    /// The normalised requests are equal.
    Request,
    /// The requests differ; they were the next unpaired ones for the same endpoint.
    Position,
}

/// One interaction's outcome.
#[derive(Debug, Clone)]
pub struct Entry {
    pub outcome: Outcome,
    pub baseline_id: Option<u64>,
    pub candidate_id: Option<u64>,
    /// `POST openai /v1/chat/completions`.
    pub request: String,
    pub paired_by: Option<PairedBy>,
    /// For pairs by position: how the candidate's request differs from the baseline's.
    pub request_changes: Vec<Difference>,
    /// Behaviour changes beyond the rules.
    pub changes: Vec<Change>,
    /// Movements the rules accept (tokens within tolerance, text within the text rule).
    pub within: Vec<Change>,
    /// For missing and new interactions: what the model did, in one line.
    pub preview: Option<String>,
}

impl Entry {
    /// `#3`, or `#3 → #4` when the pair's ids differ.
    pub fn ids(&self) -> String {
        match (self.baseline_id, self.candidate_id) {
            (Some(a), Some(b)) if a != b => format!("#{a} → #{b}"),
            (Some(a), _) | (None, Some(a)) => format!("#{a}"),
            (None, None) => String::new(),
        }
    }
}

/// One change at a path inside JSON data (tool-call arguments, bodies); `None` is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// One facet of behaviour that moved.
#[derive(Debug, Clone)]
pub enum Change {
    Status {
        before: u16,
        after: u16,
    },
    Model {
        before: Option<String>,
        after: Option<String>,
    },
    Text {
        before: String,
        after: String,
        /// The word-level ratio, when the text rule asked for it.
        similarity: Option<f32>,
        /// Empty when the text is within the rule (nothing to review).
        hunks: Vec<Hunk>,
    },
    /// A tool call added, removed, renamed or called with other arguments.
    ToolCall {
        index: usize,
        before: Option<Call>,
        after: Option<Call>,
        arguments: Vec<JsonChange>,
        more: usize,
    },
    FinishReason {
        before: Option<String>,
        after: Option<String>,
    },
    Metric {
        metric: Metric,
        before: u64,
        after: u64,
        tolerance: String,
    },
    /// The stream ended (or stopped ending) without its terminal event.
    Incomplete {
        before: bool,
        after: bool,
    },
    /// A response traceforge does not read as model output, compared as data.
    Body {
        changes: Vec<JsonChange>,
        more: usize,
    },
}

impl Change {
    /// The facet's name, as the JSON schema and summaries use it.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Status { .. } => "status",
            Change::Model { .. } => "model",
            Change::Text { .. } => "text",
            Change::ToolCall { .. } => "tool_call",
            Change::FinishReason { .. } => "finish_reason",
            Change::Metric { metric, .. } => metric.name(),
            Change::Incomplete { .. } => "incomplete",
            Change::Body { .. } => "body",
        }
    }

    /// A few words naming what changed, for summaries: `text`, `tool call 1 get_weather`.
    pub fn title(&self) -> String {
        match self {
            Change::Status { .. } => "status".into(),
            Change::Model { .. } => "model".into(),
            Change::Text { .. } => "text".into(),
            Change::ToolCall {
                index,
                before,
                after,
                ..
            } => {
                let name = after.as_ref().or(before.as_ref()).map_or("", |c| &c.name);
                format!("tool call {} {name}", index + 1)
                    .trim_end()
                    .to_string()
            }
            Change::FinishReason { .. } => "finish reason".into(),
            Change::Metric { metric, .. } => metric.label().into(),
            Change::Incomplete { .. } => "stream completeness".into(),
            Change::Body { .. } => "body".into(),
        }
    }
}

/// Pairs and compares one cassette's interactions.
pub fn cassette(
    name: String,
    baseline: Option<(PathBuf, Vec<Normalised>)>,
    candidate: Option<(PathBuf, Vec<Normalised>)>,
    rules: &DiffRules,
    matching: &MatchRules,
) -> CassetteReport {
    let (baseline_path, old) = baseline.map_or((None, Vec::new()), |(p, i)| (Some(p), i));
    let (candidate_path, new) = candidate.map_or((None, Vec::new()), |(p, i)| (Some(p), i));
    CassetteReport {
        name,
        baseline: baseline_path,
        candidate: candidate_path,
        entries: pair(&old, &new, rules, matching),
    }
}

fn pair(
    old: &[Normalised],
    new: &[Normalised],
    rules: &DiffRules,
    matching: &MatchRules,
) -> Vec<Entry> {
    // 1. Equal normalised requests, in recorded order.
    let mut by_key: HashMap<_, VecDeque<usize>> = HashMap::new();
    for (i, interaction) in old.iter().enumerate() {
        by_key.entry(&interaction.key).or_default().push_back(i);
    }
    let mut partner: Vec<Option<(usize, PairedBy)>> = new
        .iter()
        .map(|interaction| {
            by_key
                .get_mut(&interaction.key)
                .and_then(VecDeque::pop_front)
                .map(|i| (i, PairedBy::Request))
        })
        .collect();
    // 2. The leftovers by position, within one endpoint.
    let mut taken = vec![false; old.len()];
    for (i, _) in partner.iter().flatten() {
        taken[*i] = true;
    }
    let mut by_endpoint: HashMap<&str, VecDeque<usize>> = HashMap::new();
    for (i, interaction) in old.iter().enumerate() {
        if !taken[i] {
            by_endpoint
                .entry(&interaction.endpoint)
                .or_default()
                .push_back(i);
        }
    }
    for (j, interaction) in new.iter().enumerate() {
        if partner[j].is_none() {
            if let Some(i) = by_endpoint
                .get_mut(interaction.endpoint.as_str())
                .and_then(VecDeque::pop_front)
            {
                taken[i] = true;
                partner[j] = Some((i, PairedBy::Position));
            }
        }
    }

    // Candidate order, with each missing interaction placed before the first pair that comes
    // after it in the baseline.
    let mut entries = Vec::with_capacity(new.len().max(old.len()));
    let mut next_missing = 0;
    let mut emit_missing_before = |limit: usize, entries: &mut Vec<Entry>| {
        while next_missing < limit.min(old.len()) {
            if !taken[next_missing] {
                entries.push(alone(&old[next_missing], Outcome::Missing));
            }
            next_missing += 1;
        }
    };
    for (j, candidate) in new.iter().enumerate() {
        match partner[j] {
            Some((i, by)) => {
                emit_missing_before(i, &mut entries);
                entries.push(compare(&old[i], candidate, by, rules, matching));
            }
            None => entries.push(alone(candidate, Outcome::New)),
        }
    }
    emit_missing_before(old.len(), &mut entries);
    entries
}

fn alone(interaction: &Normalised, outcome: Outcome) -> Entry {
    let (baseline_id, candidate_id) = match outcome {
        Outcome::Missing => (Some(interaction.id), None),
        _ => (None, Some(interaction.id)),
    };
    Entry {
        outcome,
        baseline_id,
        candidate_id,
        request: interaction.label.clone(),
        paired_by: None,
        request_changes: Vec::new(),
        changes: Vec::new(),
        within: Vec::new(),
        preview: Some(preview(&interaction.behaviour)),
    }
}

/// What the model did, in one line.
fn preview(behaviour: &Behaviour) -> String {
    let mut parts = Vec::new();
    if !behaviour.text.is_empty() {
        parts.push(format!("{:?}", shorten(&behaviour.text, 100)));
    }
    for call in &behaviour.tool_calls {
        parts.push(format!(
            "{}({})",
            call.name,
            shorten(&canonical(&call.arguments), 80)
        ));
    }
    if parts.is_empty() {
        parts.push(format!("status {}", behaviour.status));
    }
    parts.join(", ")
}

/// Text on one line, cut at `max` characters.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

fn compare(
    old: &Normalised,
    new: &Normalised,
    paired_by: PairedBy,
    rules: &DiffRules,
    matching: &MatchRules,
) -> Entry {
    let (a, b) = (&old.behaviour, &new.behaviour);
    let mut changes = Vec::new();
    let mut within = Vec::new();
    if a.status != b.status {
        changes.push(Change::Status {
            before: a.status,
            after: b.status,
        });
    }
    if a.model != b.model {
        changes.push(Change::Model {
            before: a.model.clone(),
            after: b.model.clone(),
        });
    }
    if a.text != b.text {
        let deadline = Instant::now() + rules.text_deadline;
        let (same, similarity) = text::same_under(rules.text, &a.text, &b.text, deadline);
        let hunks = match same {
            true => Vec::new(),
            false => text::hunks(&a.text, &b.text, deadline),
        };
        let change = Change::Text {
            before: a.text.clone(),
            after: b.text.clone(),
            similarity,
            hunks,
        };
        match same {
            true => within.push(change),
            false => changes.push(change),
        }
    }
    for index in 0..a.tool_calls.len().max(b.tool_calls.len()) {
        let (x, y) = (a.tool_calls.get(index), b.tool_calls.get(index));
        let mut arguments = Vec::new();
        let mut path = String::from("$");
        json_changes(
            &mut path,
            x.map(|c| &c.arguments),
            y.map(|c| &c.arguments),
            &mut arguments,
        );
        let renamed = x.map(|c| &c.name) != y.map(|c| &c.name);
        if renamed || !arguments.is_empty() {
            let more = arguments.len().saturating_sub(MAX_JSON_CHANGES);
            arguments.truncate(MAX_JSON_CHANGES);
            changes.push(Change::ToolCall {
                index,
                before: x.cloned(),
                after: y.cloned(),
                arguments,
                more,
            });
        }
    }
    if a.finish_reason != b.finish_reason {
        changes.push(Change::FinishReason {
            before: a.finish_reason.clone(),
            after: b.finish_reason.clone(),
        });
    }
    if a.incomplete != b.incomplete {
        changes.push(Change::Incomplete {
            before: a.incomplete,
            after: b.incomplete,
        });
    }
    for (metric, before, after) in [
        (Metric::InputTokens, a.input_tokens, b.input_tokens),
        (Metric::OutputTokens, a.output_tokens, b.output_tokens),
        (Metric::Latency, a.latency_ms, b.latency_ms),
    ] {
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        // Faster is never a regression; only a slower response is checked.
        if before == after || (metric == Metric::Latency && after < before) {
            continue;
        }
        let tolerance = rules.tolerance(metric);
        let change = Change::Metric {
            metric,
            before,
            after,
            tolerance: tolerance.spec().to_string(),
        };
        match tolerance.allows(before, after) {
            true => within.push(change),
            false => changes.push(change),
        }
    }
    if a.body != b.body {
        let mut body_changes = Vec::new();
        let mut path = String::from("$");
        json_changes(
            &mut path,
            a.body.as_ref(),
            b.body.as_ref(),
            &mut body_changes,
        );
        if !body_changes.is_empty() {
            let more = body_changes.len().saturating_sub(MAX_JSON_CHANGES);
            body_changes.truncate(MAX_JSON_CHANGES);
            changes.push(Change::Body {
                changes: body_changes,
                more,
            });
        }
    }
    let request_changes = match paired_by {
        PairedBy::Request => Vec::new(),
        PairedBy::Position => matching.differences(
            RequestView::from(&new.request),
            RequestView::from(&old.request),
        ),
    };
    Entry {
        outcome: match changes.is_empty() {
            true => Outcome::Same,
            false => Outcome::Changed,
        },
        baseline_id: Some(old.id),
        candidate_id: Some(new.id),
        request: new.label.clone(),
        paired_by: Some(paired_by),
        request_changes,
        changes,
        within,
        preview: None,
    }
}

/// Every leaf that differs between two JSON values, by path (`$.location`, `$.items[2].qty`);
/// objects by key (sorted), arrays by index, numbers by value (`1.0` = `1`).
pub fn json_changes(
    path: &mut String,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut Vec<JsonChange>,
) {
    match (before, after) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let len = path.len();
                push_key(path, key);
                json_changes(path, x.get(key.as_str()), y.get(key.as_str()), out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                json_changes(path, x.get(i), y.get(i), out);
                path.truncate(len);
            }
        }
        (None, None) => {}
        (x, y) => {
            let same = match (x, y) {
                (Some(x), Some(y)) => x == y || canonical(x) == canonical(y),
                _ => false,
            };
            if !same {
                out.push(JsonChange {
                    path: path.clone(),
                    before: x.cloned(),
                    after: y.cloned(),
                });
            }
        }
    }
}

/// `.key` for identifier-like keys, `['odd key']` otherwise (both parse as `diff.ignore` paths).
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str("['");
        path.push_str(key);
        path.push_str("']");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::normalise;
    use serde_json::json;

    fn changes(a: Value, b: Value) -> Vec<JsonChange> {
        let mut out = Vec::new();
        json_changes(&mut "$".to_string(), Some(&a), Some(&b), &mut out);
        out
    }

    #[test]
    fn json_changes_by_path() {
        let out = changes(
            json!({"unit": "celsius", "city": "Paris", "n": 1.0, "list": [1, 2], "odd key": 1}),
            json!({"unit": "fahrenheit", "city": "Paris", "n": 1, "list": [1], "extra": true, "odd key": 2}),
        );
        let paths: Vec<&str> = out.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["$.extra", "$.list[1]", "$['odd key']", "$.unit"]);
        assert_eq!(out[0].before, None);
        assert_eq!(out[1].after, None);
        assert_eq!(out[3].after, Some(json!("fahrenheit")));
    }

    fn chat(id: u64, prompt: &str, answer: &str) -> crate::cassette::Interaction {
        let text = format!(
            r#"{{"id": {id}, "recorded_at": "t", "request": {{"method": "POST", "upstream": "openai", "path": "/v1/chat/completions", "body": {{"json": {{"messages": [{{"role": "user", "content": "{prompt}"}}]}}}}}}, "response": {{"status": 200, "body": {{"json": {{"choices": [{{"message": {{"content": "{answer}"}}, "finish_reason": "stop"}}]}}}}}}}}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    fn run(
        old: Vec<crate::cassette::Interaction>,
        new: Vec<crate::cassette::Interaction>,
    ) -> Vec<Entry> {
        let rules = DiffRules::default();
        let matching = MatchRules::default();
        let old = normalise::cassette(old, &rules, &matching);
        let new = normalise::cassette(new, &rules, &matching);
        pair(&old, &new, &rules, &matching)
    }

    #[test]
    fn pairs_by_request_then_by_position_and_keeps_order() {
        let entries = run(
            vec![chat(1, "a", "A"), chat(2, "b", "B"), chat(3, "c", "C")],
            vec![chat(1, "a", "A"), chat(2, "c", "C!"), chat(3, "b2", "B")],
        );
        type Row = (Outcome, Option<u64>, Option<u64>, Option<PairedBy>);
        let summary: Vec<Row> = entries
            .iter()
            .map(|e| (e.outcome, e.baseline_id, e.candidate_id, e.paired_by))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Outcome::Same, Some(1), Some(1), Some(PairedBy::Request)),
                (Outcome::Changed, Some(3), Some(2), Some(PairedBy::Request)),
                (Outcome::Same, Some(2), Some(3), Some(PairedBy::Position)),
            ]
        );
        assert_eq!(entries[2].request_changes[0].field, "$.messages[0].content");
        assert_eq!(entries[1].ids(), "#3 → #2");
    }

    #[test]
    fn unpaired_interactions_are_missing_or_new_in_place() {
        let mut extra = chat(9, "z", "Z");
        extra.request.path = "/v1/responses".into();
        let entries = run(
            vec![chat(1, "a", "A"), chat(2, "b", "B")],
            vec![extra, chat(2, "b", "B")],
        );
        let outcomes: Vec<Outcome> = entries.iter().map(|e| e.outcome).collect();
        assert_eq!(outcomes, [Outcome::New, Outcome::Missing, Outcome::Same]);
        assert_eq!(entries[0].preview.as_deref(), Some("\"Z\""));
    }
}
