//! The SQLite trace database (DESIGN.md §5): a derived, queryable index of every interaction the
//! proxy records or replays. Cassettes stay the source of truth; [`rebuild`] recreates the
//! cassette-backed rows from them. This module is synchronous and never runs on async worker
//! threads: the proxy hands finished interactions to the [`writer`] thread.

pub mod audit;
pub mod bulk;
pub mod decisions;
pub mod drift;
pub mod query;
pub mod rebuild;
pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};

use rusqlite::{params, params_from_iter, Connection, OpenFlags, ToSql};
use serde_json::Value;

use crate::cassette::{scratch, Body, Decision, Interaction, Redaction};
use crate::provider::{self, Provider};

/// Where the database lives when neither `--db` nor `TRACEFORGE_DB` says otherwise.
pub const DEFAULT_DB: &str = ".traceforge/traces.db";

/// A database problem, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("trace database {path}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl StoreError {
    pub(crate) fn sqlite(path: &Path) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A new, empty `PREFIX<pid>-….db` file in the directory of `path` (created if missing),
/// removed when the returned handle drops unless it is persisted: the scratch files of a
/// rebuild live beside the database they become part of, so the final rename stays on one file
/// system. Scratch files of this prefix left by processes that were killed (with SQLite's
/// journal files beside them) are removed first; see `cassette::scratch`.
pub(crate) fn temp_file_beside(
    path: &Path,
    prefix: &str,
) -> Result<tempfile::TempPath, StoreError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| StoreError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    scratch::remove_dead(&dir, prefix, &[".db", ".db-journal", ".db-wal", ".db-shm"]);
    let file = scratch::create(&dir, prefix, ".db", None).map_err(io)?;
    Ok(file.into_temp_path())
}

/// One row of the `traces` table, derived from an interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    pub cassette: String,
    pub interaction_id: u64,
    pub recorded_at: String,
    pub upstream: String,
    pub provider: &'static str,
    pub model: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency_ms: Option<u64>,
    pub ttfb_ms: Option<u64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub organization: Option<String>,
    pub service: Option<String>,
    pub session: Option<String>,
    pub step: Option<String>,
    pub parent_step: Option<String>,
    /// The prompt as text: every message's text content, in order.
    pub prompt: String,
    /// What the assistant said, streams assembled, tool calls as `name(arguments)`.
    pub response: String,
    pub request_json: String,
    pub response_json: String,
    /// The interaction's redaction audit, appended to the `redactions` table with the row
    /// (usually empty, and then free).
    pub redactions: Vec<Redaction>,
    /// What the policies decided about the interaction, stored in the `decisions` table with
    /// the row (usually empty, and then free).
    pub decisions: Vec<Decision>,
}

impl TraceRow {
    /// Calls `f` with the values of the `traces` columns from `cassette` to `response_json`,
    /// in order (unsigned numbers as SQLite's i64).
    pub(crate) fn with_columns<T>(&self, f: impl FnOnce(&[&dyn ToSql]) -> T) -> T {
        let id = self.interaction_id as i64;
        let [latency, ttfb, input, output] = [
            self.latency_ms,
            self.ttfb_ms,
            self.input_tokens,
            self.output_tokens,
        ]
        .map(|n| n.map(|n| n as i64));
        f(&[
            &self.cassette,
            &id,
            &self.recorded_at,
            &self.upstream,
            &self.provider,
            &self.model,
            &self.method,
            &self.path,
            &self.status,
            &latency,
            &ttfb,
            &input,
            &output,
            &self.organization,
            &self.service,
            &self.session,
            &self.step,
            &self.parent_step,
            &self.prompt,
            &self.response,
            &self.request_json,
            &self.response_json,
        ])
    }

    /// The row for `interaction` of `cassette`.
    pub fn new(cassette: &str, interaction: &Interaction) -> TraceRow {
        let request = &interaction.request;
        let response = &interaction.response;
        let provider = Provider::detect(&request.upstream, &request.path).name();
        let usage = interaction.usage.clone().unwrap_or_default();
        let model = usage.model.or_else(|| {
            request
                .body
                .as_ref()
                .and_then(Body::as_json)
                .and_then(|b| b.get("model"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let assembled = provider::assemble(response);
        let mut answer = assembled.text;
        for call in &assembled.tool_calls {
            if !answer.is_empty() {
                answer.push('\n');
            }
            answer.push_str(&format!("{}({})", call.name, call.arguments));
        }
        let scope = &interaction.scope;
        TraceRow {
            cassette: cassette.to_string(),
            interaction_id: interaction.id,
            recorded_at: interaction.recorded_at.clone(),
            upstream: request.upstream.clone(),
            provider,
            model,
            method: request.method.clone(),
            path: request.path.clone(),
            status: response.status,
            latency_ms: interaction.timing.map(|t| t.total_ms),
            ttfb_ms: interaction.timing.map(|t| t.ttfb_ms),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            organization: scope.organization.clone(),
            service: scope.service.clone(),
            session: scope.session.clone(),
            step: scope.step.clone(),
            parent_step: scope.parent_step.clone(),
            prompt: prompt_text(request.body.as_ref()),
            response: answer,
            request_json: serde_json::to_string(request).unwrap_or_default(),
            response_json: serde_json::to_string(response).unwrap_or_default(),
            redactions: interaction.redactions.clone(),
            decisions: interaction.decisions.clone(),
        }
    }
}

/// The prompt's text: system prompt, then every message's text parts, one per line.
pub fn prompt_text(body: Option<&Body>) -> String {
    let Some(body) = body.and_then(Body::as_json) else {
        return match body {
            Some(Body::Text(text)) => text.clone(),
            _ => String::new(),
        };
    };
    let mut lines = Vec::new();
    let mut push_content = |content: &Value| match content {
        Value::String(text) => lines.push(text.clone()),
        Value::Array(parts) => {
            for part in parts {
                if let Some(text) = part.get("text").and_then(Value::as_str) {
                    lines.push(text.to_string());
                } else if let Some(text) = part.get("content").and_then(Value::as_str) {
                    lines.push(text.to_string());
                }
            }
        }
        _ => {}
    };
    for key in ["system", "instructions"] {
        if let Some(value) = body.get(key) {
            push_content(value);
        }
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(content) = message.get("content") {
            push_content(content);
        }
    }
    match body.get("input") {
        Some(Value::Array(items)) => {
            for item in items {
                match item.get("content") {
                    Some(content) => push_content(content),
                    None => push_content(item),
                }
            }
        }
        Some(other) => push_content(other),
        None => {}
    }
    lines.join("\n")
}

/// An open trace database.
pub struct TraceDb {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl TraceDb {
    /// Opens (creating if needed) the database at `path`, with WAL, foreign keys and the
    /// current schema.
    pub fn open(path: &Path) -> Result<TraceDb, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(StoreError::sqlite(path))?;
        // Only a new file takes this: a trace row carries its request and response JSON, a few
        // KiB, which 4 KiB pages would spill onto overflow pages.
        conn.execute_batch(schema::PAGE_SIZE)
            .map_err(StoreError::sqlite(path))?;
        let db = TraceDb {
            conn,
            path: path.to_path_buf(),
        };
        db.configure()?;
        schema::migrate(&db.conn).map_err(StoreError::sqlite(path))?;
        Ok(db)
    }

    /// Opens an existing database read-only, failing if it does not exist.
    pub fn open_existing(path: &Path) -> Result<TraceDb, StoreError> {
        if !path.exists() {
            return Err(StoreError::Invalid {
                path: path.to_path_buf(),
                message: "no trace database here (it is created by `vcr record`/`vcr replay`, \
                          or from cassettes by `traceforge vcr rebuild-from-cassettes`)"
                    .into(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(StoreError::sqlite(path))?;
        let db = TraceDb {
            conn,
            path: path.to_path_buf(),
        };
        db.configure()?;
        Ok(db)
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(StoreError::sqlite(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a run (a `vcr record`, `vcr replay` or rebuild) and returns its id.
    pub fn begin_run(&self, kind: &str, started_at: &str) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (kind, started_at) VALUES (?1, ?2)",
                params![kind, started_at],
            )
            .map_err(StoreError::sqlite(&self.path))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores recorded interactions and replay counts in one transaction. Returns the row id of
    /// every recorded row, in order.
    pub fn write(
        &mut self,
        run: i64,
        rows: &[TraceRow],
        replays: &[(i64, String, u64)],
    ) -> Result<Vec<i64>, StoreError> {
        self.write_pausing(run, &[], rows, replays, || {})
    }

    /// [`TraceDb::write`], first deleting every row of the `replaced` cassettes (a recording
    /// that rewrites a cassette from scratch), and calling `pause` after each row (the proxy's
    /// writer yields the CPU there, so a batch never holds a core that a request waits for).
    /// Each row's redactions join the audit in the same transaction, never twice (a row
    /// written again brings its redactions again), and never deleted with the old rows. Its
    /// decisions replace those of the row it overwrites, if any.
    pub fn write_pausing(
        &mut self,
        run: i64,
        replaced: &[&str],
        rows: &[TraceRow],
        replays: &[(i64, String, u64)],
        mut pause: impl FnMut(),
    ) -> Result<Vec<i64>, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(StoreError::sqlite(&path))?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut audit = audit::Appender::default();
        for cassette in replaced {
            tx.execute("DELETE FROM traces WHERE cassette = ?1", [cassette])
                .map_err(StoreError::sqlite(&path))?;
        }
        {
            let mut upsert = tx
                .prepare_cached(schema::UPSERT_TRACE)
                .map_err(StoreError::sqlite(&path))?;
            for row in rows {
                let id: i64 = row
                    .with_columns(|columns| {
                        let values =
                            std::iter::once(&run as &dyn ToSql).chain(columns.iter().copied());
                        upsert.query_row(params_from_iter(values), |r| r.get(0))
                    })
                    .map_err(StoreError::sqlite(&path))?;
                ids.push(id);
                decisions::replace(&tx, id, &row.decisions).map_err(StoreError::sqlite(&path))?;
                audit
                    .add(&tx, id, &row.cassette, row.interaction_id, &row.redactions)
                    .map_err(StoreError::sqlite(&path))?;
                pause();
            }
            let mut add = tx
                .prepare_cached(schema::ADD_REPLAYS)
                .map_err(StoreError::sqlite(&path))?;
            for (trace, seen_at, count) in replays {
                add.execute(params![run, trace, seen_at, *count as i64])
                    .map_err(StoreError::sqlite(&path))?;
            }
        }
        audit.finish(&tx).map_err(StoreError::sqlite(&path))?;
        tx.commit().map_err(StoreError::sqlite(&path))?;
        Ok(ids)
    }

    /// Enters a reveal in the audit: one row per interaction of `cassette` whose originals
    /// were shown, naming the key (by its id) and the time. In the same chain as the
    /// redactions, so a reveal cannot be taken out of the record unnoticed either.
    pub fn audit_reveal(
        &mut self,
        cassette: &str,
        interactions: &[u64],
        key_id: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(StoreError::sqlite(&path))?;
        let mut audit = audit::Appender::default();
        let at = crate::cassette::now();
        for id in interactions {
            let entry = crate::cassette::Redaction {
                path: "(revealed)".into(),
                span: [0, 0],
                detector: format!("key {key_id}"),
                action: crate::cassette::RedactionAction::Reveal,
                at: at.clone(),
                hmac: String::new(),
            };
            audit
                .add_untraced(&tx, cassette, *id, std::slice::from_ref(&entry))
                .map_err(StoreError::sqlite(&path))?;
        }
        audit.finish(&tx).map_err(StoreError::sqlite(&path))?;
        tx.commit().map_err(StoreError::sqlite(&path))
    }

    /// The redaction audit, oldest first: every row, or those written with one trace row.
    pub fn audit(&self, trace_id: Option<i64>) -> Result<Vec<audit::AuditEntry>, StoreError> {
        audit::list(&self.conn, trace_id).map_err(StoreError::sqlite(&self.path))
    }
}
