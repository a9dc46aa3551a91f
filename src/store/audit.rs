//! The redaction audit table (DESIGN.md §12): one row per value masked or pseudonymised, kept
//! apart from the traces (no foreign key: re-recording a cassette deletes its old trace rows, the
//! audit of what was taken out of them stays). Append-only and tamper-evident: every row's
//! `chain` is a SHA-256 over the previous row's chain and the row's fields, and a one-row head
//! holds the row count and the last chain, so an edited, deleted or added row — the last one
//! included — shows when `verify` recomputes it. The triggers that refuse UPDATE and DELETE
//! only guard against accidents; anyone who can drop them can also recompute the whole chain,
//! which this table alone cannot prevent. This module owns the encoding; it never decides what
//! is redacted.

use rusqlite::{params, Connection, OptionalExtension as _};
use serde::Serialize;

use crate::cassette::Redaction;

/// What makes the chain hash of one row: mixed in first, so a hash of anything else never
/// collides with a chain by construction.
const DOMAIN: &[u8] = b"traceforge redaction audit v1";

/// One audit row as `pii audit` shows it (borrowing its text while it is being appended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry<S = String> {
    pub id: i64,
    pub trace_id: Option<i64>,
    pub cassette: S,
    pub interaction_id: i64,
    pub path: S,
    pub span: [i64; 2],
    pub detector: S,
    pub action: S,
    pub at: S,
    pub hmac: S,
}

/// The head of the chain: how many rows there are and the chain of the last one (`""` for none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub rows: i64,
    pub chain: String,
}

impl Head {
    pub(crate) fn read(conn: &Connection) -> rusqlite::Result<Head> {
        let head = conn
            .query_row(
                "SELECT rows, chain FROM redactions_head WHERE only = 1",
                [],
                |row| {
                    Ok(Head {
                        rows: row.get(0)?,
                        chain: row.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(head.unwrap_or_default())
    }

    pub(crate) fn write(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute(
            "UPDATE redactions_head SET rows = ?1, chain = ?2 WHERE only = 1",
            params![self.rows, self.chain],
        )
        .map(drop)
    }
}

/// Appends audit rows within one transaction of the caller's: the head is read at the first
/// redaction (a batch without any never touches the audit) and written back by
/// [`Appender::finish`], which must run before the commit.
#[derive(Default)]
pub(crate) struct Appender {
    head: Option<Head>,
}

impl Appender {
    /// Appends the redactions of the interaction written as `trace_id` (see [`append`]).
    pub(crate) fn add(
        &mut self,
        conn: &Connection,
        trace_id: i64,
        cassette: &str,
        interaction_id: u64,
        redactions: &[Redaction],
    ) -> rusqlite::Result<usize> {
        if redactions.is_empty() {
            return Ok(0);
        }
        let head = match &mut self.head {
            Some(head) => head,
            None => self.head.insert(Head::read(conn)?),
        };
        append(
            conn,
            head,
            Some(trace_id),
            cassette,
            interaction_id,
            redactions,
        )
    }

    /// Appends entries that belong to no trace row (a reveal).
    pub(crate) fn add_untraced(
        &mut self,
        conn: &Connection,
        cassette: &str,
        interaction_id: u64,
        entries: &[Redaction],
    ) -> rusqlite::Result<usize> {
        let head = match &mut self.head {
            Some(head) => head,
            None => self.head.insert(Head::read(conn)?),
        };
        append(conn, head, None, cassette, interaction_id, entries)
    }

    /// Writes the advanced head, if anything was appended.
    pub(crate) fn finish(self, conn: &Connection) -> rusqlite::Result<()> {
        match self.head {
            Some(head) => head.write(conn),
            None => Ok(()),
        }
    }
}

/// Appends the redactions of one interaction in the caller's transaction, advancing `head`
/// (written back by [`Appender::finish`] before the commit). A redaction already
/// in the table — the same interaction, place, detector, time and hash, as a re-written trace
/// row brings again — is skipped: the interaction's rows are read once, by the
/// `(cassette, interaction_id)` index (a new interaction has none). Returns how many rows were
/// added.
fn append(
    conn: &Connection,
    head: &mut Head,
    trace_id: Option<i64>,
    cassette: &str,
    interaction_id: u64,
    redactions: &[Redaction],
) -> rusqlite::Result<usize> {
    let mut present = conn.prepare_cached(
        "SELECT path, span_start, span_end, detector, at, hmac FROM redactions
         WHERE cassette = ?1 AND interaction_id = ?2",
    )?;
    let existing: Vec<Identity> = present
        .query_map(params![cassette, interaction_id as i64], |row| {
            Ok(Identity {
                path: row.get(0)?,
                span: [row.get(1)?, row.get(2)?],
                detector: row.get(3)?,
                at: row.get(4)?,
                hmac: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // foldhash: SipHash over these ~150 bytes cost a row about as much as binding its INSERT.
    let mut seen: foldhash::HashSet<(&str, [i64; 2], &str, &str, &str)> =
        existing.iter().map(Identity::key).collect();
    let mut insert = conn.prepare_cached(
        "INSERT INTO redactions (id, trace_id, cassette, interaction_id, path, span_start,
             span_end, detector, action, at, hmac, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut added = 0;
    for redaction in redactions {
        let entry = AuditEntry {
            id: head.rows + 1,
            trace_id,
            cassette,
            interaction_id: interaction_id as i64,
            path: redaction.path.as_str(),
            span: redaction.span.map(|n| n as i64),
            detector: redaction.detector.as_str(),
            action: redaction.action.name(),
            at: redaction.at.as_str(),
            hmac: redaction.hmac.as_str(),
        };
        if !seen.insert((entry.path, entry.span, entry.detector, entry.at, entry.hmac)) {
            continue;
        }
        let chain = chain(&head.chain, &entry);
        insert.execute(params![
            entry.id,
            entry.trace_id,
            entry.cassette,
            entry.interaction_id,
            entry.path,
            entry.span[0],
            entry.span[1],
            entry.detector,
            entry.action,
            entry.at,
            entry.hmac,
            chain,
        ])?;
        head.rows = entry.id;
        head.chain = chain;
        added += 1;
    }
    Ok(added)
}

/// What makes two audit rows of one interaction the same redaction (the action follows from
/// the detector and the mode, the id and chain from where it was appended).
struct Identity {
    path: String,
    span: [i64; 2],
    detector: String,
    at: String,
    hmac: String,
}

impl Identity {
    fn key(&self) -> (&str, [i64; 2], &str, &str, &str) {
        (&self.path, self.span, &self.detector, &self.at, &self.hmac)
    }
}

/// The chain of `entry` after a row whose chain is `previous`: hex SHA-256 over a domain tag,
/// the previous chain (hex text, `""` before the first row) and every field in column order
/// (id, trace_id, cassette, interaction_id, path, span_start, span_end, detector, action, at,
/// hmac), each as an 8-byte big-endian length and its bytes — text as UTF-8, integers as 8-byte
/// big-endian — and a missing trace id as the length `u64::MAX` alone, so no two different rows
/// encode alike and anyone can recompute it from the table (see the pinned value in the tests).
pub(crate) fn chain<S: AsRef<str>>(previous: &str, entry: &AuditEntry<S>) -> String {
    // Framed into one buffer and digested at once: ring's per-call cost made 26 small
    // updates per row cost more than the hashing.
    let mut framed = Vec::with_capacity(512);
    let mut field = |bytes: Option<&[u8]>| match bytes {
        Some(bytes) => {
            framed.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            framed.extend_from_slice(bytes);
        }
        None => framed.extend_from_slice(&u64::MAX.to_be_bytes()),
    };
    field(Some(DOMAIN));
    field(Some(previous.as_bytes()));
    field(Some(&entry.id.to_be_bytes()));
    field(
        entry
            .trace_id
            .map(i64::to_be_bytes)
            .as_ref()
            .map(|b| &b[..]),
    );
    field(Some(entry.cassette.as_ref().as_bytes()));
    field(Some(&entry.interaction_id.to_be_bytes()));
    field(Some(entry.path.as_ref().as_bytes()));
    field(Some(&entry.span[0].to_be_bytes()));
    field(Some(&entry.span[1].to_be_bytes()));
    field(Some(entry.detector.as_ref().as_bytes()));
    field(Some(entry.action.as_ref().as_bytes()));
    field(Some(entry.at.as_ref().as_bytes()));
    field(Some(entry.hmac.as_ref().as_bytes()));
    let digest = ring::digest::digest(&ring::digest::SHA256, &framed);
    crate::sensitive::key::hex(digest.as_ref())
}

const COLUMNS: &str = "id, trace_id, cassette, interaction_id, path, span_start, span_end, \
    detector, action, at, hmac";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.get(0)?,
        trace_id: row.get(1)?,
        cassette: row.get(2)?,
        interaction_id: row.get(3)?,
        path: row.get(4)?,
        span: [row.get(5)?, row.get(6)?],
        detector: row.get(7)?,
        action: row.get(8)?,
        at: row.get(9)?,
        hmac: row.get(10)?,
    })
}

/// Whether the database has the audit table (a schema-1 database, not yet upgraded, has none).
pub(crate) fn exists(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'redactions')",
        [],
        |row| row.get(0),
    )
}

/// Every audit row, oldest first, optionally only those of one trace row. A trace row's id can
/// be taken again after the row is deleted (re-recording, pruning), so an entry counts as the
/// trace's only while the trace still is its interaction.
pub(crate) fn list(conn: &Connection, trace_id: Option<i64>) -> rusqlite::Result<Vec<AuditEntry>> {
    if !exists(conn)? {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM redactions r
         WHERE ?1 IS NULL OR r.trace_id = ?1 AND EXISTS (
             SELECT 1 FROM traces t WHERE t.id = ?1
             AND t.cassette = r.cassette AND t.interaction_id = r.interaction_id)
         ORDER BY r.id"
    ))?;
    let rows = statement.query_map([trace_id], entry)?;
    rows.collect()
}

/// Recomputes the chain and compares it with every row and the head: one line per problem
/// (an edited row by id, deleted rows by id range, a head that does not match the table, a
/// missing append-only guard), empty when the audit is intact.
pub(crate) fn verify(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    if !exists(conn)? {
        return Ok(problems);
    }
    for trigger in ["redactions_no_update", "redactions_no_delete"] {
        let present: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?1)",
            [trigger],
            |row| row.get(0),
        )?;
        if !present {
            problems.push(format!(
                "redaction audit: the append-only guard {trigger} is missing"
            ));
        }
    }
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS}, chain FROM redactions ORDER BY id"
    ))?;
    let mut rows = statement.query([])?;
    let deleted = |from: i64, to: i64| match from == to {
        true => format!("redaction audit: row {from} was deleted"),
        false => format!("redaction audit: rows {from}-{to} were deleted"),
    };
    let (mut last_id, mut last_chain) = (0_i64, String::new());
    while let Some(row) = rows.next()? {
        let entry = entry(row)?;
        let stored: String = row.get(11)?;
        if entry.id > last_id + 1 {
            // The link to a missing row cannot be checked; the gap is the finding.
            problems.push(deleted(last_id + 1, entry.id - 1));
        } else if chain(&last_chain, &entry) != stored {
            problems.push(format!("redaction audit: row {} was edited", entry.id));
        }
        (last_id, last_chain) = (entry.id, stored);
    }
    let head = Head::read(conn)?;
    if head.rows > last_id {
        problems.push(deleted(last_id + 1, head.rows));
    } else if head.rows < last_id {
        problems.push(format!(
            "redaction audit: the head counts {} row(s) but the table holds rows up to {last_id} \
             (rows added outside traceforge, or the head edited)",
            head.rows
        ));
    } else if head.chain != last_chain {
        problems.push(format!(
            "redaction audit: the head's chain does not match row {last_id} (the head or the \
             last row was edited)"
        ));
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::RedactionAction;
    use crate::store::{schema, TraceDb, TraceRow};

    fn redaction(n: usize) -> Redaction {
        Redaction {
            path: "request.body.messages[0].content".into(),
            span: [n, n + 17],
            detector: "email".into(),
            action: match n % 2 {
                0 => RedactionAction::Mask,
                _ => RedactionAction::Pseudonymize,
            },
            at: "2026-11-30T01:00:00Z".into(),
            hmac: format!("{n:032x}"),
        }
    }

    fn trace_row(interaction_id: u64, redactions: Vec<Redaction>) -> TraceRow {
        TraceRow {
            cassette: "support".into(),
            ..other_row("support", interaction_id, redactions)
        }
    }

    fn other_row(cassette: &str, interaction_id: u64, redactions: Vec<Redaction>) -> TraceRow {
        TraceRow {
            cassette: cassette.into(),
            interaction_id,
            recorded_at: "2026-11-30T01:00:00Z".into(),
            upstream: "openai".into(),
            provider: "openai",
            model: None,
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            status: 200,
            latency_ms: None,
            ttfb_ms: None,
            input_tokens: None,
            output_tokens: None,
            organization: None,
            service: None,
            session: None,
            step: None,
            parent_step: None,
            prompt: "hello <EMAIL>".into(),
            response: "hi".into(),
            request_json: "{}".into(),
            response_json: "{}".into(),
            redactions,
            decisions: Vec::new(),
        }
    }

    /// A database with four audit rows over three traces (one without redactions).
    fn audited() -> (tempfile::TempDir, TraceDb) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = TraceDb::open(&dir.path().join("t.db")).unwrap();
        let run = db.begin_run("record", "2026-11-30T01:00:00Z").unwrap();
        let rows = [
            trace_row(1, vec![redaction(0), redaction(1)]),
            trace_row(2, Vec::new()),
            trace_row(3, vec![redaction(2)]),
        ];
        db.write(run, &rows, &[]).unwrap();
        db.write(run, &[trace_row(4, vec![redaction(3)])], &[])
            .unwrap();
        (dir, db)
    }

    /// What an attacker would do: drop the guards, change the table, and put the guards back
    /// so that only the change itself is left to find.
    fn tamper(db: &TraceDb, sql: &str) {
        db.conn
            .execute_batch(&format!(
                "DROP TRIGGER redactions_no_update; DROP TRIGGER redactions_no_delete; {sql};"
            ))
            .unwrap();
        restore_guards(db);
    }

    fn restore_guards(db: &TraceDb) {
        db.conn
            .execute_batch(
                "CREATE TRIGGER redactions_no_update BEFORE UPDATE ON redactions BEGIN
                     SELECT RAISE(ABORT, 'the redaction audit is append-only'); END;
                 CREATE TRIGGER redactions_no_delete BEFORE DELETE ON redactions BEGIN
                     SELECT RAISE(ABORT, 'the redaction audit is append-only'); END;",
            )
            .unwrap();
    }

    #[test]
    fn the_chain_of_an_untouched_audit_verifies_and_rows_name_their_trace() {
        let (_dir, db) = audited();
        assert_eq!(verify(&db.conn).unwrap(), Vec::<String>::new());
        assert!(db.check().unwrap().is_empty());
        let all = db.audit(None).unwrap();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(all[1].action, "pseudonymize");
        assert_eq!(all[1].span, [1, 18]);
        let third = db.audit(Some(3)).unwrap();
        assert_eq!(third.len(), 1);
        assert_eq!(third[0].hmac, format!("{:032x}", 2));
        assert_eq!(
            Head::read(&db.conn).unwrap(),
            Head {
                rows: 4,
                chain: all_chains(&db).pop().unwrap()
            }
        );
    }

    fn all_chains(db: &TraceDb) -> Vec<String> {
        let mut statement = db
            .conn
            .prepare("SELECT chain FROM redactions ORDER BY id")
            .unwrap();
        let chains = statement.query_map([], |r| r.get(0)).unwrap();
        chains.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn a_rewritten_trace_row_does_not_duplicate_its_audit_and_replacing_keeps_it() {
        let (_dir, mut db) = audited();
        let run = db.begin_run("record", "2026-11-30T02:00:00Z").unwrap();
        // The writer's recovery path writes the same interaction again.
        db.write(run, &[trace_row(1, vec![redaction(0), redaction(1)])], &[])
            .unwrap();
        assert_eq!(db.audit(None).unwrap().len(), 4);
        // A recording that replaces the cassette deletes its trace rows, not the audit.
        db.write_pausing(
            run,
            &["support"],
            &[trace_row(1, vec![redaction(9)])],
            &[],
            || {},
        )
        .unwrap();
        let traces: i64 = db
            .conn
            .query_row("SELECT COUNT(*) FROM traces", [], |r| r.get(0))
            .unwrap();
        assert_eq!(traces, 1);
        assert_eq!(db.audit(None).unwrap().len(), 5);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }

    #[test]
    fn a_trace_id_taken_again_does_not_claim_the_old_rows_audit() {
        let (_dir, mut db) = audited();
        let run = db.begin_run("record", "2026-11-30T02:00:00Z").unwrap();
        // Every row of `support` goes, and the next row takes id 1 again.
        db.write_pausing(
            run,
            &["support"],
            &[other_row("billing", 1, vec![redaction(7)])],
            &[],
            || {},
        )
        .unwrap();
        let reused = db.list(&Default::default()).unwrap();
        assert_eq!(reused.iter().map(|t| t.id).collect::<Vec<_>>(), [1]);
        let audit = db.audit(Some(1)).unwrap();
        assert_eq!(
            audit
                .iter()
                .map(|e| (e.id, e.cassette.as_str()))
                .collect::<Vec<_>>(),
            [(5, "billing")]
        );
        assert!(db.audit(Some(3)).unwrap().is_empty());
        assert_eq!(db.audit(None).unwrap().len(), 5);
    }

    #[test]
    fn the_guards_refuse_updates_and_deletes() {
        let (_dir, db) = audited();
        for sql in [
            "UPDATE redactions SET hmac = 'x' WHERE id = 1",
            "DELETE FROM redactions WHERE id = 4",
            "DELETE FROM redactions_head",
        ] {
            let error = db.conn.execute(sql, []).unwrap_err();
            assert!(error.to_string().contains("append-only"), "{sql}: {error}");
        }
        // A prune of old traces goes on: the audit has no foreign key to cascade through.
        let mut db = db;
        assert_eq!(db.prune("2100-01-01T00:00:00Z").unwrap(), 4);
        assert_eq!(db.audit(None).unwrap().len(), 4);
    }

    #[test]
    fn an_edited_row_is_named() {
        let (_dir, db) = audited();
        tamper(&db, "UPDATE redactions SET hmac = 'ffff' WHERE id = 2");
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: row 2 was edited"]
        );
        assert_eq!(db.check().unwrap(), ["redaction audit: row 2 was edited"]);
    }

    #[test]
    fn a_deleted_middle_or_first_row_is_named() {
        let (_dir, db) = audited();
        tamper(&db, "DELETE FROM redactions WHERE id IN (2, 3)");
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: rows 2-3 were deleted"]
        );
        let (_dir, db) = audited();
        tamper(&db, "DELETE FROM redactions WHERE id = 1");
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: row 1 was deleted"]
        );
    }

    #[test]
    fn deleting_the_last_rows_or_editing_the_head_shows_at_the_head() {
        let (_dir, db) = audited();
        tamper(&db, "DELETE FROM redactions WHERE id = 4");
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: row 4 was deleted"]
        );
        // Deleting every row, and the head told the lie that there never were any rows.
        let (_dir, db) = audited();
        tamper(
            &db,
            "DELETE FROM redactions WHERE id = 4; UPDATE redactions_head SET rows = 3",
        );
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: the head's chain does not match row 3 (the head or the last row was edited)"]
        );
        let (_dir, db) = audited();
        tamper(&db, "DELETE FROM redactions");
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: rows 1-4 were deleted"]
        );
    }

    #[test]
    fn a_dropped_guard_is_reported() {
        let (_dir, db) = audited();
        db.conn
            .execute_batch("DROP TRIGGER redactions_no_delete")
            .unwrap();
        assert_eq!(
            verify(&db.conn).unwrap(),
            ["redaction audit: the append-only guard redactions_no_delete is missing"]
        );
    }

    #[test]
    fn every_field_is_in_the_chain_and_the_encoding_is_unambiguous() {
        let entry: AuditEntry = AuditEntry {
            id: 1,
            trace_id: Some(1),
            cassette: "ab".into(),
            interaction_id: 1,
            path: "c".into(),
            span: [0, 1],
            detector: "email".into(),
            action: "mask".into(),
            at: "2026-11-30T01:00:00Z".into(),
            hmac: "00".into(),
        };
        let base = chain("", &entry);
        let variants = [
            AuditEntry {
                id: 2,
                ..entry.clone()
            },
            AuditEntry {
                trace_id: None,
                ..entry.clone()
            },
            // A field boundary moved: "ab" + "c" against "a" + "bc".
            AuditEntry {
                cassette: "a".into(),
                path: "bc".into(),
                ..entry.clone()
            },
            AuditEntry {
                interaction_id: 2,
                ..entry.clone()
            },
            AuditEntry {
                span: [0, 2],
                ..entry.clone()
            },
            AuditEntry {
                detector: "phone".into(),
                ..entry.clone()
            },
            AuditEntry {
                action: "pseudonymize".into(),
                ..entry.clone()
            },
            AuditEntry {
                at: "2026-11-30T01:00:01Z".into(),
                ..entry.clone()
            },
            AuditEntry {
                hmac: "01".into(),
                ..entry.clone()
            },
        ];
        for variant in &variants {
            assert_ne!(chain("", variant), base, "{variant:?}");
        }
        assert_ne!(chain("0", &entry), base);
        // Pinned: every database written so far verifies only while the encoding stays this.
        assert_eq!(
            base,
            "ae33ef7ede63b651473dc3cb860ca71a856e486f45de6977950ff40c6c062977"
        );
    }

    /// A database as the previous release (schema 1) created it.
    fn schema_1(path: &std::path::Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; BEGIN; {} {} PRAGMA user_version = 1; COMMIT;",
            schema::V1,
            schema::FTS_INSERT_TRIGGER
        ))
        .unwrap();
        conn
    }

    #[test]
    fn processes_opening_an_old_database_at_once_upgrade_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        drop(schema_1(&path));
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        TraceDb::open(&path).map(drop)
                    })
                })
                .collect();
            for opener in openers {
                opener.join().unwrap().unwrap();
            }
        });
        let db = TraceDb::open_existing(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), schema::SCHEMA_VERSION);
        assert_eq!(Head::read(&db.conn).unwrap(), Head::default());
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }

    /// The rows of a schema-4 audit (with its eight-column unique index) keep their ids and
    /// chains through the upgrade, the guards and the lookup index are there, the unique index
    /// is gone, and a row written again still adds nothing twice.
    #[test]
    fn a_schema_4_audit_is_rebuilt_without_its_unique_index_keeping_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; BEGIN; {} {} {} {} {} PRAGMA user_version = 4; COMMIT;",
                schema::V1,
                schema::FTS_INSERT_TRIGGER,
                schema::V2,
                schema::V3,
                schema::V4
            ))
            .unwrap();
            let mut head = Head::default();
            append(
                &conn,
                &mut head,
                Some(1),
                "support",
                1,
                &[redaction(0), redaction(1)],
            )
            .unwrap();
            append(&conn, &mut head, None, "support", 2, &[redaction(2)]).unwrap();
            head.write(&conn).unwrap();
        }
        let rows = |db: &TraceDb| -> Vec<(i64, String)> {
            db.conn
                .prepare("SELECT id, chain FROM redactions ORDER BY id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let before = rows(&TraceDb::open_existing(&path).unwrap());
        assert_eq!(before.len(), 3);

        let mut db = TraceDb::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), schema::SCHEMA_VERSION);
        assert_eq!(rows(&db), before);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
        let indexes: Vec<String> = db
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE tbl_name = 'redactions' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            indexes,
            [
                "redactions",
                "redactions_interaction",
                "redactions_no_delete",
                "redactions_no_update",
                "redactions_trace"
            ]
        );
        let run = db.begin_run("record", "2026-11-30T01:00:00Z").unwrap();
        db.write(
            run,
            &[trace_row(1, vec![redaction(0), redaction(1), redaction(3)])],
            &[],
        )
        .unwrap();
        let after = rows(&db);
        assert_eq!(after.len(), 4, "only redaction 3 is new");
        assert_eq!(after[..3], before[..]);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }

    #[test]
    fn a_schema_1_database_is_upgraded_in_place_keeping_its_traces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = schema_1(&path);
            conn.execute_batch(
                "INSERT INTO runs (id, kind, started_at) VALUES (1, 'record', '2026-01-01T00:00:00Z');
                 INSERT INTO traces (run_id, cassette, interaction_id, recorded_at, upstream,
                     provider, method, path, status, prompt, response, request_json, response_json)
                 VALUES (1, 'old', 1, '2026-01-01T00:00:00Z', 'openai', 'openai', 'POST',
                     '/v1/chat/completions', 200, 'refund please', 'ok', '{}', '{}');",
            )
            .unwrap();
        }
        // Read before any write: an older schema is no damage, and has no audit yet.
        let old = TraceDb::open_existing(&path).unwrap();
        assert!(old.check().unwrap().is_empty(), "{:?}", old.check());
        assert!(old.audit(None).unwrap().is_empty());
        drop(old);

        let mut db = TraceDb::open(&path).unwrap();
        let version: i64 = db
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema::SCHEMA_VERSION);
        assert_eq!(db.search("refund", 10, "[", "]").unwrap().len(), 1);
        let run = db.begin_run("record", "2026-11-30T01:00:00Z").unwrap();
        db.write(run, &[trace_row(1, vec![redaction(0)])], &[])
            .unwrap();
        assert_eq!(db.list(&Default::default()).unwrap().len(), 2);
        assert_eq!(db.audit(None).unwrap().len(), 1);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }
}
