//! The `load_runs` table: one [`LoadRun`] summary per finished `traceforge load` run (scenario,
//! git commit, time, throughput, error rate, key percentiles, verdict), the history `load
//! history` and the HTML report's trend chart read. Plain rows in, plain rows out: what the
//! numbers mean is `load`'s business, this file only stores them. Synchronous, like the rest of
//! the store.

use std::path::Path;

use rusqlite::{params, OptionalExtension as _};
use serde::Serialize;

use super::{StoreError, TraceDb};

/// One run's summary as the history keeps it (times in milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadRun {
    pub scenario: String,
    /// `git rev-parse HEAD` where the run started, when that was a git work tree.
    pub git_commit: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub requests: u64,
    pub rps: f64,
    /// `http_req_failed`'s rate; `None` without requests.
    pub error_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p95_ms: Option<f64>,
    pub thresholds: u64,
    pub thresholds_failed: u64,
    /// Thresholds, the baseline and any abort all passed.
    pub passed: bool,
}

const COLUMNS: &str = "scenario, git_commit, started_at, duration_ms, requests, rps, error_rate, \
    p50_ms, p95_ms, p99_ms, ttft_p50_ms, ttft_p95_ms, thresholds, thresholds_failed, passed";

impl TraceDb {
    /// Appends a run to the history.
    pub fn add_load_run(&self, run: &LoadRun) -> Result<(), StoreError> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO load_runs ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    run.scenario,
                    run.git_commit,
                    run.started_at,
                    run.duration_ms as i64,
                    run.requests as i64,
                    run.rps,
                    run.error_rate,
                    run.p50_ms,
                    run.p95_ms,
                    run.p99_ms,
                    run.ttft_p50_ms,
                    run.ttft_p95_ms,
                    run.thresholds as i64,
                    run.thresholds_failed as i64,
                    run.passed,
                ],
            )
            .map_err(StoreError::sqlite(&self.path))?;
        Ok(())
    }

    /// The last `last` runs (of `scenario`, when given), oldest first. A database from before
    /// the history existed has none.
    pub fn load_runs(
        &self,
        scenario: Option<&str>,
        last: usize,
    ) -> Result<Vec<LoadRun>, StoreError> {
        let has_table: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'load_runs'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(StoreError::sqlite(&self.path))?;
        if has_table.is_none() {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM (SELECT * FROM load_runs \
                 WHERE ?1 IS NULL OR scenario = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2) \
                 ORDER BY started_at, id"
            ))
            .map_err(StoreError::sqlite(&self.path))?;
        let limit = i64::try_from(last).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(params![scenario, limit], |row| {
                Ok(LoadRun {
                    scenario: row.get(0)?,
                    git_commit: row.get(1)?,
                    started_at: row.get(2)?,
                    duration_ms: row.get::<_, i64>(3)?.max(0) as u64,
                    requests: row.get::<_, i64>(4)?.max(0) as u64,
                    rps: row.get(5)?,
                    error_rate: row.get(6)?,
                    p50_ms: row.get(7)?,
                    p95_ms: row.get(8)?,
                    p99_ms: row.get(9)?,
                    ttft_p50_ms: row.get(10)?,
                    ttft_p95_ms: row.get(11)?,
                    thresholds: row.get::<_, i64>(12)?.max(0) as u64,
                    thresholds_failed: row.get::<_, i64>(13)?.max(0) as u64,
                    passed: row.get(14)?,
                })
            })
            .map_err(StoreError::sqlite(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite(&self.path))
    }
}

/// Copies the history of the database at `old` into the one at `new` (a rebuild's fresh file),
/// when `old` can still be read: the history is not in any cassette, so a rebuild would
/// otherwise lose it. Returns how many runs were copied; a missing, garbage or pre-history
/// `old` copies none and is no error.
pub(crate) fn carry_over(old: &Path, new: &Path) -> usize {
    let copy = || -> rusqlite::Result<usize> {
        let conn = rusqlite::Connection::open_with_flags(
            old,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let has_table: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'load_runs'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        if has_table.is_none() {
            return Ok(0);
        }
        let target = rusqlite::Connection::open(new)?;
        target.execute_batch("BEGIN IMMEDIATE")?;
        let mut copied = 0;
        {
            let mut read = conn.prepare(&format!("SELECT {COLUMNS} FROM load_runs ORDER BY id"))?;
            let mut insert = target.prepare(&format!(
                "INSERT INTO load_runs ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ))?;
            let mut rows = read.query([])?;
            while let Some(row) = rows.next()? {
                let values: Vec<rusqlite::types::Value> =
                    (0..15).map(|i| row.get(i)).collect::<Result<_, _>>()?;
                insert.execute(rusqlite::params_from_iter(values))?;
                copied += 1;
            }
        }
        target.execute_batch("COMMIT")?;
        Ok(copied)
    };
    if !old.exists() {
        return 0;
    }
    copy().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(scenario: &str, at: &str, p95: f64) -> LoadRun {
        LoadRun {
            scenario: scenario.into(),
            git_commit: None,
            started_at: at.into(),
            duration_ms: 1000,
            requests: 10,
            rps: 10.0,
            error_rate: Some(0.0),
            p50_ms: Some(1.0),
            p95_ms: Some(p95),
            p99_ms: None,
            ttft_p50_ms: None,
            ttft_p95_ms: None,
            thresholds: 1,
            thresholds_failed: 0,
            passed: true,
        }
    }

    #[test]
    fn runs_come_back_oldest_first_filtered_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.db");
        let db = TraceDb::open(&path).unwrap();
        for (i, scenario) in ["a.yaml", "b.yaml", "a.yaml", "a.yaml"].iter().enumerate() {
            db.add_load_run(&run(scenario, &format!("2026-11-30T00:00:0{i}Z"), i as f64))
                .unwrap();
        }
        let all = db.load_runs(None, 100).unwrap();
        assert_eq!(all.len(), 4);
        let a = db.load_runs(Some("a.yaml"), 2).unwrap();
        assert_eq!(
            a.iter().map(|r| r.p95_ms).collect::<Vec<_>>(),
            vec![Some(2.0), Some(3.0)]
        );
        assert_eq!(a[0], run("a.yaml", "2026-11-30T00:00:02Z", 2.0));

        let rebuilt = dir.path().join("new.db");
        drop(TraceDb::open(&rebuilt).unwrap());
        drop(db);
        assert_eq!(carry_over(&path, &rebuilt), 4);
        assert_eq!(
            TraceDb::open(&rebuilt)
                .unwrap()
                .load_runs(None, 9)
                .unwrap()
                .len(),
            4
        );
        std::fs::write(dir.path().join("garbage.db"), b"not a database").unwrap();
        assert_eq!(carry_over(&dir.path().join("garbage.db"), &rebuilt), 0);
    }
}
