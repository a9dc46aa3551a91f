//! Reading the trace database: listing with filters, one trace, ranked full-text search, export,
//! sessions as step trees, and the maintenance commands (check, stats, backup, vacuum, prune).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{params_from_iter, types::Value as SqlValue, OptionalExtension as _};
use serde::Serialize;

use super::{schema, StoreError, TraceDb};
use crate::cassette::Decision;

/// A trace as the commands show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub id: i64,
    pub cassette: String,
    pub interaction_id: i64,
    pub recorded_at: String,
    pub upstream: String,
    pub provider: String,
    pub model: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub latency_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub organization: Option<String>,
    pub service: Option<String>,
    pub session: Option<String>,
    pub step: Option<String>,
    pub parent_step: Option<String>,
    pub prompt: String,
    pub response: String,
    /// How often the interaction was replayed (by the runs this database saw).
    pub replays: i64,
    pub last_replayed: Option<String>,
}

/// The columns of [`Trace`], over `traces t`.
const COLUMNS: &str = "t.id, t.cassette, t.interaction_id, t.recorded_at, t.upstream, \
    t.provider, t.model, t.method, t.path, t.status, t.latency_ms, t.ttfb_ms, t.input_tokens, \
    t.output_tokens, t.organization, t.service, t.session, t.step, t.parent_step, t.prompt, \
    t.response, \
    (SELECT COALESCE(SUM(r.count), 0) FROM replays r WHERE r.trace_id = t.id), \
    (SELECT MAX(r.seen_at) FROM replays r WHERE r.trace_id = t.id)";

fn trace(row: &rusqlite::Row<'_>) -> rusqlite::Result<Trace> {
    Ok(Trace {
        id: row.get(0)?,
        cassette: row.get(1)?,
        interaction_id: row.get(2)?,
        recorded_at: row.get(3)?,
        upstream: row.get(4)?,
        provider: row.get(5)?,
        model: row.get(6)?,
        method: row.get(7)?,
        path: row.get(8)?,
        status: row.get(9)?,
        latency_ms: row.get(10)?,
        ttfb_ms: row.get(11)?,
        input_tokens: row.get(12)?,
        output_tokens: row.get(13)?,
        organization: row.get(14)?,
        service: row.get(15)?,
        session: row.get(16)?,
        step: row.get(17)?,
        parent_step: row.get(18)?,
        prompt: row.get(19)?,
        response: row.get(20)?,
        replays: row.get(21)?,
        last_replayed: row.get(22)?,
    })
}

/// Filters for `traces list` and `traces export`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A glob over cassette names (`checkout/*`).
    pub cassette: Option<globset::GlobMatcher>,
    pub model: Option<String>,
    pub organization: Option<String>,
    pub service: Option<String>,
    /// Only traces recorded or replayed at or after this time (a `cassette::timestamp`).
    pub since: Option<String>,
    pub limit: Option<usize>,
}

impl TraceDb {
    /// Traces matching `filter`, newest first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Trace>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM traces t WHERE 1 = 1");
        let mut args: Vec<SqlValue> = Vec::new();
        for (column, value) in [
            ("model", &filter.model),
            ("organization", &filter.organization),
            ("service", &filter.service),
        ] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND t.{column} = ?"));
                args.push(SqlValue::Text(value.clone()));
            }
        }
        if let Some(since) = &filter.since {
            sql.push_str(
                " AND (t.recorded_at >= ? OR EXISTS \
                 (SELECT 1 FROM replays r WHERE r.trace_id = t.id AND r.seen_at >= ?))",
            );
            args.push(SqlValue::Text(since.clone()));
            args.push(SqlValue::Text(since.clone()));
        }
        sql.push_str(" ORDER BY t.recorded_at DESC, t.id DESC");
        let mut statement = self
            .conn
            .prepare(&sql)
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map(params_from_iter(args), trace)
            .map_err(StoreError::sqlite(&self.path))?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.map_err(StoreError::sqlite(&self.path))?;
            if filter
                .cassette
                .as_ref()
                .is_some_and(|glob| !glob.is_match(&row.cassette))
            {
                continue;
            }
            out.push(row);
            if filter.limit.is_some_and(|limit| out.len() >= limit) {
                break;
            }
        }
        Ok(out)
    }

    /// One trace by row id, or by `CASSETTE#INTERACTION` for the recorded one.
    pub fn show(&self, id: &str) -> Result<Option<(Trace, String, String)>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, t.request_json, t.response_json FROM traces t WHERE ");
        let map = |row: &rusqlite::Row<'_>| Ok((trace(row)?, row.get(23)?, row.get(24)?));
        let result = match id.rsplit_once('#') {
            Some((cassette, interaction)) => {
                let interaction: i64 = interaction.parse().unwrap_or(-1);
                self.conn
                    .query_row(
                        &format!("{sql} t.cassette = ?1 AND t.interaction_id = ?2"),
                        rusqlite::params![cassette, interaction],
                        map,
                    )
                    .optional()
            }
            None => {
                let id: i64 = id.parse().unwrap_or(-1);
                self.conn
                    .query_row(&format!("{sql} t.id = ?1"), [id], map)
                    .optional()
            }
        };
        result.map_err(StoreError::sqlite(&self.path))
    }

    /// The policy decisions recorded with trace row `trace_id`, in recorded order.
    pub fn decisions(&self, trace_id: i64) -> Result<Vec<Decision>, StoreError> {
        super::decisions::list(&self.conn, trace_id).map_err(StoreError::sqlite(&self.path))
    }

    /// Every recorded row's policy decisions, by interaction (rows without any are absent).
    pub fn all_decisions(&self) -> Result<BTreeMap<(String, u64), Vec<Decision>>, StoreError> {
        super::decisions::by_interaction(&self.conn).map_err(StoreError::sqlite(&self.path))
    }

    /// Full-text search over prompts and responses, best match first (BM25: FTS5's `rank`,
    /// which it can order by while scanning, unlike an `ORDER BY bm25(…)` expression), with snippets
    /// whose matches are wrapped in `open`/`close`.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        open: &str,
        close: &str,
    ) -> Result<Vec<(Trace, String)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, snippet(traces_fts, -1, ?2, ?3, '…', 12) FROM traces_fts
             JOIN traces t ON t.id = traces_fts.rowid
             WHERE traces_fts MATCH ?1 ORDER BY rank LIMIT ?4"
        );
        let mut statement = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sqlite(&self.path))?;
        let fts_query = fts_query(query);
        let rows = statement
            .query_map(
                rusqlite::params![fts_query, open, close, limit as i64],
                |row| Ok((trace(row)?, row.get(23)?)),
            )
            .map_err(StoreError::sqlite(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite(&self.path))
    }

    /// (cassette, interaction id, recorded_at) of every recorded row, for drift checks.
    pub fn recorded(&self) -> Result<Vec<(String, u64, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT cassette, interaction_id, recorded_at FROM traces")
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get(0)?, row.get::<_, i64>(1)? as u64, row.get(2)?))
            })
            .map_err(StoreError::sqlite(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite(&self.path))
    }

    /// Up to `limit` recorded interactions rebuilt from their rows, after row id `after`, in
    /// row order, each with its row id and cassette: for span export (`traces export --format
    /// otlp`), page by page so a large database is never held whole. Usage is left to be read
    /// from the response, as the proxy does. A row whose request or response JSON does not
    /// parse is rebuilt from its columns, so one odd row never stops a backfill.
    pub fn interactions_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, crate::cassette::Interaction)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT id, cassette, interaction_id, recorded_at, latency_ms, ttfb_ms,
                        organization, service, session, step, parent_step, request_json,
                        response_json, method, upstream, path, status
                 FROM traces WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map(rusqlite::params![after, limit as i64], |row| {
                let timing = match (row.get::<_, Option<i64>>(4)?, row.get::<_, Option<i64>>(5)?) {
                    (Some(total), Some(ttfb)) => Some(crate::cassette::Timing {
                        ttfb_ms: ttfb.max(0) as u64,
                        total_ms: total.max(0) as u64,
                    }),
                    _ => None,
                };
                let scope = crate::cassette::Scope {
                    organization: row.get(6)?,
                    service: row.get(7)?,
                    session: row.get(8)?,
                    step: row.get(9)?,
                    parent_step: row.get(10)?,
                };
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    timing,
                    scope,
                    row.get::<_, String>(11)?,
                    row.get::<_, String>(12)?,
                    (
                        row.get::<_, String>(13)?,
                        row.get::<_, String>(14)?,
                        row.get::<_, String>(15)?,
                        row.get::<_, i64>(16)?,
                    ),
                ))
            })
            .map_err(StoreError::sqlite(&self.path))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, cassette, interaction_id, recorded_at, timing, scope, request, response, row) =
                row.map_err(StoreError::sqlite(&self.path))?;
            let (method, upstream, path, status) = row;
            // The stored JSON, or (a row written by hand or by an older tool) what the row's
            // columns say, with the body if the JSON has one.
            let body = |json: &str| {
                serde_json::from_str::<serde_json::Value>(json)
                    .ok()
                    .and_then(|v| serde_json::from_value(v.get("body")?.clone()).ok())
            };
            let request =
                serde_json::from_str(&request).unwrap_or_else(|_| crate::cassette::Request {
                    method,
                    upstream,
                    path,
                    headers: Default::default(),
                    body: body(&request),
                });
            let response =
                serde_json::from_str(&response).unwrap_or_else(|_| crate::cassette::Response {
                    status: u16::try_from(status).unwrap_or(0),
                    headers: Default::default(),
                    body: body(&response),
                    stream: None,
                    incomplete: false,
                });
            let interaction = crate::cassette::Interaction {
                id: interaction_id.max(0) as u64,
                recorded_at,
                request,
                response,
                timing,
                scope,
                usage: None,
                redactions: Vec::new(),
                decisions: Vec::new(),
            };
            out.push((id, cassette, interaction));
        }
        Ok(out)
    }

    /// Every trace with its full request and response JSON, in a stable order, for export.
    /// Only cassette-backed data: a rebuilt database exports exactly the same.
    pub fn export(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, t.request_json, t.response_json FROM traces t
             ORDER BY t.cassette, t.interaction_id"
        );
        let mut statement = self
            .conn
            .prepare(&sql)
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map([], |row| {
                let trace = trace(row)?;
                let request: String = row.get(23)?;
                let response: String = row.get(24)?;
                Ok((trace, request, response))
            })
            .map_err(StoreError::sqlite(&self.path))?;
        let mut out = Vec::new();
        for row in rows {
            let (trace, request, response) = row.map_err(StoreError::sqlite(&self.path))?;
            let mut value = serde_json::to_value(&trace).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                // Row ids and replay counts belong to this database, not to the cassettes.
                for key in ["id", "replays", "last_replayed"] {
                    map.shift_remove(key);
                }
                map.insert(
                    "request".into(),
                    serde_json::from_str(&request).unwrap_or_default(),
                );
                map.insert(
                    "response_data".into(),
                    serde_json::from_str(&response).unwrap_or_default(),
                );
            }
            out.push(value);
        }
        Ok(out)
    }

    /// Sessions with their step counts and time span, newest first.
    pub fn sessions(&self) -> Result<Vec<SessionSummary>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT session, COUNT(*), MIN(recorded_at), MAX(recorded_at),
                        COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0)
                 FROM traces WHERE session IS NOT NULL
                 GROUP BY session ORDER BY MAX(recorded_at) DESC, session",
            )
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map([], |row| {
                Ok(SessionSummary {
                    session: row.get(0)?,
                    traces: row.get(1)?,
                    first: row.get(2)?,
                    last: row.get(3)?,
                    input_tokens: row.get(4)?,
                    output_tokens: row.get(5)?,
                })
            })
            .map_err(StoreError::sqlite(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite(&self.path))
    }

    /// Every trace of one session, in the order they were seen.
    pub fn session(&self, session: &str) -> Result<Vec<Trace>, StoreError> {
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM traces t WHERE t.session = ?1 ORDER BY t.recorded_at, t.id"
            ))
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map([session], trace)
            .map_err(StoreError::sqlite(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite(&self.path))
    }

    /// The schema version the file is at (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(StoreError::sqlite(&self.path))
    }

    /// SQLite's integrity check, the schema version, the full-text index and the redaction
    /// audit's chain: the problems found, if any.
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let version = self.schema_version()?;
        // An older schema is no damage: the next `vcr record`/`vcr replay` upgrades it in place.
        if !(1..=schema::SCHEMA_VERSION).contains(&version) {
            problems.push(format!(
                "schema version is {version}, expected {}",
                schema::SCHEMA_VERSION
            ));
        }
        let mut statement = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(StoreError::sqlite(&self.path))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(StoreError::sqlite(&self.path))?;
        for row in rows {
            let line = row.map_err(StoreError::sqlite(&self.path))?;
            if line != "ok" {
                problems.push(line);
            }
        }
        if problems.is_empty() {
            // The full-text index is derived data too; make sure it agrees with the table.
            if let Err(e) = self.conn.execute(
                "INSERT INTO traces_fts (traces_fts, rank) VALUES ('integrity-check', 1)",
                [],
            ) {
                problems.push(format!("full-text index: {e}"));
            }
            // The redaction audit is not derived data: an edit or a deletion is reported by row.
            problems
                .extend(super::audit::verify(&self.conn).map_err(StoreError::sqlite(&self.path))?);
        }
        Ok(problems)
    }

    /// Size, row counts, time span and per-model counts.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let q = |sql: &str| -> Result<Option<String>, StoreError> {
            self.conn
                .query_row(sql, [], |row| row.get(0))
                .map_err(StoreError::sqlite(&self.path))
        };
        let count = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |row| row.get(0))
                .map_err(StoreError::sqlite(&self.path))
        };
        let mut models = BTreeMap::new();
        {
            let mut statement = self
                .conn
                .prepare("SELECT COALESCE(model, '(unknown)'), COUNT(*) FROM traces GROUP BY 1")
                .map_err(StoreError::sqlite(&self.path))?;
            let rows = statement
                .query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })
                .map_err(StoreError::sqlite(&self.path))?;
            for row in rows {
                let (model, n) = row.map_err(StoreError::sqlite(&self.path))?;
                models.insert(model, n);
            }
        }
        Ok(Stats {
            path: self.path.display().to_string(),
            size_bytes: file_size(&self.path),
            traces: count("SELECT COUNT(*) FROM traces")?,
            replays: count("SELECT COALESCE(SUM(count), 0) FROM replays")?,
            runs: count("SELECT COUNT(*) FROM runs")?,
            cassettes: count("SELECT COUNT(DISTINCT cassette) FROM traces")?,
            sessions: count("SELECT COUNT(DISTINCT session) FROM traces")?,
            decisions: super::decisions::count(&self.conn)
                .map_err(StoreError::sqlite(&self.path))?,
            redactions: match super::audit::exists(&self.conn)
                .map_err(StoreError::sqlite(&self.path))?
            {
                true => count("SELECT COUNT(*) FROM redactions")?,
                false => 0,
            },
            oldest: q("SELECT MIN(recorded_at) FROM traces")?,
            newest: q(
                "SELECT MAX(at) FROM (SELECT MAX(recorded_at) AS at FROM traces \
                       UNION ALL SELECT MAX(seen_at) FROM replays)",
            )?,
            models,
        })
    }

    /// Copies the database to `target` with SQLite's online backup API (safe while the proxy
    /// writes).
    pub fn backup(&self, target: &Path) -> Result<(), StoreError> {
        let mut dest = rusqlite::Connection::open(target).map_err(StoreError::sqlite(target))?;
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut dest)
            .map_err(StoreError::sqlite(target))?;
        backup
            .run_to_completion(256, std::time::Duration::from_millis(5), None)
            .map_err(StoreError::sqlite(target))
    }

    pub fn vacuum(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(StoreError::sqlite(&self.path))
    }

    /// Deletes replays counted before `cutoff`, then traces recorded before it that no later
    /// replay keeps, then runs left empty. Returns how many traces went.
    pub fn prune(&mut self, cutoff: &str) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(StoreError::sqlite(&path))?;
        tx.execute("DELETE FROM replays WHERE seen_at < ?1", [cutoff])
            .map_err(StoreError::sqlite(&path))?;
        let deleted = tx
            .execute(
                "DELETE FROM traces WHERE recorded_at < ?1
                 AND NOT EXISTS (SELECT 1 FROM replays r WHERE r.trace_id = traces.id)",
                [cutoff],
            )
            .map_err(StoreError::sqlite(&path))?;
        tx.execute(
            "DELETE FROM runs WHERE id NOT IN (SELECT run_id FROM traces)
             AND id NOT IN (SELECT run_id FROM replays)",
            [],
        )
        .map_err(StoreError::sqlite(&path))?;
        tx.commit().map_err(StoreError::sqlite(&path))?;
        Ok(deleted)
    }
}

fn file_size(path: &Path) -> u64 {
    let mut size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size += std::fs::metadata(std::path::PathBuf::from(wal))
        .map(|m| m.len())
        .unwrap_or(0);
    size
}

/// Words of a user's query, each quoted, so punctuation in the query is never FTS5 syntax.
fn fts_query(query: &str) -> String {
    query
        .split_whitespace()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub session: String,
    pub traces: i64,
    pub first: String,
    pub last: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub path: String,
    pub size_bytes: u64,
    pub traces: i64,
    pub replays: i64,
    pub runs: i64,
    pub cassettes: i64,
    pub sessions: i64,
    /// Policy decisions recorded with the traces.
    pub decisions: i64,
    /// Rows of the redaction audit (reveals included).
    pub redactions: i64,
    pub oldest: Option<String>,
    pub newest: Option<String>,
    pub models: BTreeMap<String, i64>,
}

/// A session's steps arranged by their parent-step links: a DAG (a step may have several
/// parents: a fan-in), drawn as a tree from its roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTree {
    /// Steps to start drawing from, in the order they were first seen.
    pub roots: Vec<String>,
    /// Step → its children, in the order they were first seen.
    pub children: BTreeMap<String, Vec<String>>,
    /// `(step, parent)` where the parent is not in the session.
    pub dangling: Vec<(String, String)>,
    /// Parent-step cycles, each as the steps around it.
    pub cycles: Vec<Vec<String>>,
}

/// Builds the step DAG of a session from every trace's `(step, parent_step)`. A step seen in
/// several traces (retries, or a join with several parents) is one node. Never loops: cycles are
/// found and reported, and a cycle no root reaches is drawn from its first step.
pub fn step_tree(pairs: &[(String, Option<String>)]) -> StepTree {
    let mut order: Vec<&String> = Vec::new();
    let mut parents: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (step, parent) in pairs {
        let entry = parents.entry(step).or_insert_with(|| {
            order.push(step);
            Vec::new()
        });
        if let Some(parent) = parent {
            if !entry.contains(&parent) {
                entry.push(parent);
            }
        }
    }
    let mut tree = StepTree {
        roots: Vec::new(),
        children: BTreeMap::new(),
        dangling: Vec::new(),
        cycles: Vec::new(),
    };
    for step in &order {
        let mut has_known_parent = false;
        for parent in &parents[step] {
            if parents.contains_key(parent) {
                has_known_parent = true;
                tree.children
                    .entry((*parent).clone())
                    .or_default()
                    .push((*step).clone());
            } else {
                tree.dangling.push(((*step).clone(), (*parent).clone()));
            }
        }
        if !has_known_parent {
            tree.roots.push((*step).clone());
        }
    }
    // Depth-first search over child links, iteratively: grey = on the current path.
    let mut colour: BTreeMap<&str, u8> = BTreeMap::new(); // 0 white, 1 grey, 2 black
    let mut on_cycle: BTreeSet<String> = BTreeSet::new();
    for start in &order {
        if colour.get(start.as_str()).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        colour.insert(start.as_str(), 1);
        while let Some((node, next)) = path.last_mut() {
            let kids = tree.children.get(*node).map(Vec::as_slice).unwrap_or(&[]);
            if *next < kids.len() {
                let child = kids[*next].as_str();
                *next += 1;
                match colour.get(child).copied().unwrap_or(0) {
                    0 => {
                        colour.insert(child, 1);
                        path.push((child, 0));
                    }
                    1 => {
                        let at = path.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let cycle: Vec<String> =
                            path[at..].iter().map(|(n, _)| n.to_string()).collect();
                        on_cycle.extend(cycle.iter().cloned());
                        tree.cycles.push(cycle);
                    }
                    _ => {}
                }
            } else {
                colour.insert(node, 2);
                path.pop();
            }
        }
    }
    // A cycle that no root reaches would never be drawn: start it at its first step.
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = tree.roots.iter().map(String::as_str).collect();
    while let Some(step) = stack.pop() {
        if reached.insert(step) {
            stack.extend(
                tree.children
                    .get(step)
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
    }
    let unreached: Vec<String> = tree
        .cycles
        .iter()
        .filter(|cycle| !cycle.iter().any(|s| reached.contains(s.as_str())))
        .map(|cycle| cycle[0].clone())
        .collect();
    tree.roots.extend(unreached);
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(s, p)| (s.to_string(), p.map(str::to_string)))
            .collect()
    }

    #[test]
    fn fan_out_and_fan_in_form_a_dag() {
        let tree = step_tree(&steps(&[
            ("1", None),
            ("2", Some("1")),
            ("3", Some("1")),
            ("4", Some("2")),
            ("4", Some("3")),
        ]));
        assert_eq!(tree.roots, vec!["1"]);
        assert_eq!(tree.children["1"], vec!["2", "3"]);
        assert_eq!(tree.children["2"], vec!["4"]);
        assert_eq!(tree.children["3"], vec!["4"]);
        assert!(tree.cycles.is_empty() && tree.dangling.is_empty());
    }

    #[test]
    fn cycles_and_dangling_parents_are_reported_not_followed() {
        let tree = step_tree(&steps(&[
            ("a", Some("c")),
            ("b", Some("a")),
            ("c", Some("b")),
            ("x", Some("missing")),
            ("y", Some("y")),
        ]));
        assert_eq!(tree.cycles.len(), 2, "{tree:?}");
        assert!(tree.cycles.iter().any(|c| c.len() == 3));
        assert!(tree.cycles.iter().any(|c| c == &vec!["y".to_string()]));
        assert_eq!(
            tree.dangling,
            vec![("x".to_string(), "missing".to_string())]
        );
        // Every step can be drawn from some root.
        let mut seen = BTreeSet::new();
        let mut stack = tree.roots.clone();
        while let Some(step) = stack.pop() {
            if seen.insert(step.clone()) {
                stack.extend(tree.children.get(&step).cloned().unwrap_or_default());
            }
        }
        assert_eq!(seen.len(), 5, "{tree:?}");
    }

    #[test]
    fn user_queries_are_quoted_for_fts() {
        assert_eq!(fts_query("refund policy"), "\"refund\" \"policy\"");
        assert_eq!(fts_query("say \"hi\" OR"), "\"say\" \"\"\"hi\"\"\" \"OR\"");
    }
}
