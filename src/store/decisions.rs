//! The `decisions` table: the policy decisions recorded with each interaction (DESIGN.md §13),
//! one row per decision, belonging to its trace row. Written with the row, in its transaction;
//! a row written again replaces its decisions, and a deleted row takes them along (the foreign
//! key cascades). Rows without decisions never touch the table on a bulk load, and cost one
//! indexed delete when upserted. Never the matched value: the cassette does not hold it either.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::schema;
use crate::cassette::Decision;

/// Replaces the decisions of trace row `trace_id` (an upsert may overwrite a row that had some).
pub(crate) fn replace(
    conn: &Connection,
    trace_id: i64,
    decisions: &[Decision],
) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM decisions WHERE trace_id = ?1")?
        .execute([trace_id])?;
    add(conn, trace_id, decisions)
}

/// Adds the decisions of a new trace row (nothing to replace: a bulk load's fresh database).
pub(crate) fn add(
    conn: &Connection,
    trace_id: i64,
    decisions: &[Decision],
) -> rusqlite::Result<()> {
    if decisions.is_empty() {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(schema::INSERT_DECISION)?;
    for d in decisions {
        insert.execute(params![
            trace_id, d.policy, d.version, d.rule, d.action, d.severity, d.path, d.entity,
            d.outcome
        ])?;
    }
    Ok(())
}

/// Whether the database has the table (one of an older schema, read before any `vcr`
/// command upgraded it, has none, and then no decisions).
fn exists(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'decisions')",
        [],
        |row| row.get(0),
    )
}

/// The decisions of one trace row, in the order they were recorded.
pub(crate) fn list(conn: &Connection, trace_id: i64) -> rusqlite::Result<Vec<Decision>> {
    if !exists(conn)? {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM decisions d WHERE d.trace_id = ?1 ORDER BY d.id"
    ))?;
    let rows = statement.query_map([trace_id], |row| decision(row, 0))?;
    rows.collect()
}

/// The columns of a [`Decision`], over `decisions d`.
const COLUMNS: &str = "d.policy, d.version, d.rule, d.action, d.severity, d.path, d.entity, \
    d.outcome";

/// The decision whose columns start at `first`.
fn decision(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Decision> {
    Ok(Decision {
        policy: row.get(first)?,
        version: row.get(first + 1)?,
        rule: row.get(first + 2)?,
        action: row.get(first + 3)?,
        severity: row.get(first + 4)?,
        path: row.get(first + 5)?,
        entity: row.get(first + 6)?,
        outcome: row.get(first + 7)?,
    })
}

/// Every row's decisions by `(cassette, interaction)`, each list in recorded order.
pub(crate) fn by_interaction(
    conn: &Connection,
) -> rusqlite::Result<BTreeMap<(String, u64), Vec<Decision>>> {
    let mut out: BTreeMap<(String, u64), Vec<Decision>> = BTreeMap::new();
    if !exists(conn)? {
        return Ok(out);
    }
    let mut statement = conn.prepare(&format!(
        "SELECT t.cassette, t.interaction_id, {COLUMNS}
         FROM decisions d JOIN traces t ON t.id = d.trace_id ORDER BY d.id"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let key = (row.get(0)?, row.get::<_, i64>(1)? as u64);
        out.entry(key).or_default().push(decision(row, 2)?);
    }
    Ok(out)
}

/// How many decisions the database holds (0 before the table exists).
pub(crate) fn count(conn: &Connection) -> rusqlite::Result<i64> {
    if !exists(conn)? {
        return Ok(0);
    }
    conn.query_row("SELECT COUNT(*) FROM decisions", [], |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cassette::{
        files, Body, Cassette, Interaction, Redaction, RedactionAction, Request, Response, Scope,
    };
    use crate::store::{audit, TraceDb, TraceRow};

    fn decision(rule: &str, outcome: &str) -> Decision {
        Decision {
            policy: "enterprise-pii-policy".into(),
            version: "2.0.0".into(),
            rule: rule.into(),
            action: "block".into(),
            severity: "critical".into(),
            path: "request.body.messages[0].content".into(),
            entity: "email".into(),
            outcome: outcome.into(),
        }
    }

    fn interaction(id: u64, decisions: Vec<Decision>) -> Interaction {
        Interaction {
            id,
            recorded_at: "2026-11-30T01:00:00Z".into(),
            request: Request {
                method: "POST".into(),
                upstream: "openai".into(),
                path: "/v1/chat/completions".into(),
                headers: BTreeMap::new(),
                body: Some(Body::Json(serde_json::json!({
                    "model": "gpt-4o-mini",
                    "messages": [{"role": "user", "content": "refund please"}]
                }))),
            },
            response: Response {
                status: 200,
                headers: BTreeMap::new(),
                body: Some(Body::Text("noted".into())),
                stream: None,
                incomplete: false,
            },
            timing: None,
            scope: Scope::default(),
            usage: None,
            redactions: Vec::new(),
            decisions,
        }
    }

    fn row(id: u64, decisions: Vec<Decision>) -> TraceRow {
        TraceRow::new("support", &interaction(id, decisions))
    }

    fn count(db: &TraceDb) -> i64 {
        super::count(&db.conn).unwrap()
    }

    #[test]
    fn a_rewritten_row_replaces_its_decisions_and_a_deleted_row_takes_them_along() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = TraceDb::open(&dir.path().join("t.db")).unwrap();
        let run = db.begin_run("record", "2026-11-30T01:00:00Z").unwrap();
        let two = vec![
            decision("no-pii", "applied"),
            decision("no-secrets", "evaluated"),
        ];
        let ids = db
            .write(run, &[row(1, two.clone()), row(2, Vec::new())], &[])
            .unwrap();
        assert_eq!(db.decisions(ids[0]).unwrap(), two);
        assert!(db.decisions(ids[1]).unwrap().is_empty());

        // Recorded again: same row, only the new decisions, never both.
        let one = vec![decision("no-pii", "disabled")];
        let again = db.write(run, &[row(1, one.clone())], &[]).unwrap();
        assert_eq!(again, vec![ids[0]]);
        assert_eq!(db.decisions(ids[0]).unwrap(), one);
        assert_eq!(count(&db), 1);
        // Recorded again without any: none left.
        db.write(run, &[row(1, Vec::new())], &[]).unwrap();
        assert!(db.decisions(ids[0]).unwrap().is_empty());
        assert_eq!(count(&db), 0);

        // A cassette recorded from scratch deletes its rows, and their decisions with them.
        db.write(run, &[row(1, two.clone())], &[]).unwrap();
        assert_eq!(count(&db), 2);
        db.write_pausing(run, &["support"], &[], &[], || {})
            .unwrap();
        assert_eq!(count(&db), 0);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }

    #[test]
    fn a_rebuild_restores_the_decisions_of_every_interaction() {
        let dir = tempfile::tempdir().unwrap();
        let cassettes = dir.path().join("c");
        std::fs::create_dir_all(&cassettes).unwrap();
        let decided = vec![
            decision("no-pii", "applied"),
            decision("no-secrets", "evaluated"),
        ];
        let mut cassette = Cassette::new("support");
        cassette.interactions = vec![interaction(1, decided.clone()), interaction(2, Vec::new())];
        files::save(&cassettes.join("support.yaml"), &cassette).unwrap();

        let db_path = dir.path().join("t.db");
        let report = crate::store::rebuild::rebuild(&cassettes, &db_path, true, |_, _| {}).unwrap();
        assert_eq!(report.interactions, 2);
        let db = TraceDb::open_existing(&db_path).unwrap();
        let (first, _, _) = db.show("support#1").unwrap().unwrap();
        let (second, _, _) = db.show("support#2").unwrap().unwrap();
        assert_eq!(db.decisions(first.id).unwrap(), decided);
        assert!(db.decisions(second.id).unwrap().is_empty());
        assert_eq!(db.stats().unwrap().decisions, 2);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
        let drift = crate::store::drift::check(&db, &cassettes).unwrap();
        assert!(drift.is_empty(), "{drift:?}");

        // A row without the decisions its cassette records (a database upgraded from schema 2,
        // whose cassettes were written by a proxy that already recorded decisions) is drift.
        db.conn
            .execute("DELETE FROM decisions WHERE rule = 'no-secrets'", [])
            .unwrap();
        let drift = crate::store::drift::check(&db, &cassettes).unwrap();
        assert_eq!(drift.decisions, vec!["support#1".to_string()]);
    }

    #[test]
    fn a_schema_2_database_is_upgraded_in_place_keeping_its_traces_and_audit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; BEGIN; {} {} {} PRAGMA user_version = 2; COMMIT;",
                schema::V1,
                schema::FTS_INSERT_TRIGGER,
                schema::V2
            ))
            .unwrap();
            conn.execute_batch(
                "INSERT INTO runs (id, kind, started_at) VALUES (1, 'record', '2026-01-01T00:00:00Z');
                 INSERT INTO traces (run_id, cassette, interaction_id, recorded_at, upstream,
                     provider, method, path, status, prompt, response, request_json, response_json)
                 VALUES (1, 'support', 1, '2026-01-01T00:00:00Z', 'openai', 'openai', 'POST',
                     '/v1/chat/completions', 200, 'refund please', 'ok', '{}', '{}');",
            )
            .unwrap();
            let redaction = Redaction {
                path: "request.body.messages[0].content".into(),
                span: [0, 6],
                detector: "email".into(),
                action: RedactionAction::Mask,
                at: "2026-01-01T00:00:00Z".into(),
                hmac: format!("{:032x}", 7),
            };
            let mut appender = audit::Appender::default();
            appender.add(&conn, 1, "support", 1, &[redaction]).unwrap();
            appender.finish(&conn).unwrap();
        }
        // Read before any write: no decisions table yet, and no damage either.
        let old = TraceDb::open_existing(&path).unwrap();
        assert!(old.check().unwrap().is_empty(), "{:?}", old.check());
        assert!(old.decisions(1).unwrap().is_empty());
        assert_eq!(old.stats().unwrap().decisions, 0);
        drop(old);

        let mut db = TraceDb::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), schema::SCHEMA_VERSION);
        assert_eq!(db.search("refund", 10, "[", "]").unwrap().len(), 1);
        assert_eq!(db.audit(Some(1)).unwrap().len(), 1);
        let run = db.begin_run("record", "2026-11-30T01:00:00Z").unwrap();
        let ids = db
            .write(run, &[row(1, vec![decision("no-pii", "applied")])], &[])
            .unwrap();
        assert_eq!(ids, vec![1]);
        assert_eq!(db.decisions(1).unwrap().len(), 1);
        assert_eq!(db.audit(None).unwrap().len(), 1);
        assert_eq!(db.stats().unwrap().redactions, 1);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }
}
