//! The `json` format: a versioned document ([`JSON_VERSION`]) a script can rely on.

use serde_json::{json, Value};

use crate::diff::compare::{Change, Entry, JsonChange, PairedBy, Report};
use crate::diff::normalise::Call;
use crate::diff::rules::DiffRules;
use crate::diff::text::{self as words};

/// The version of the `--format json` document. Bump it when a field changes meaning or goes.
pub const JSON_VERSION: u32 = 1;

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

pub(super) fn entry_json(cassette: &str, entry: &Entry) -> Value {
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

pub(super) fn json_changes(changes: &[JsonChange]) -> Value {
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

pub(super) fn call_json(call: &Option<Call>) -> Value {
    match call {
        Some(call) => json!({"name": call.name, "arguments": call.arguments}),
        None => Value::Null,
    }
}

pub(super) fn change_json(change: &Change) -> Value {
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
                value["diff"] = json!(words::plain(hunks));
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
