//! `vcr rebuild-from-cassettes`: a fresh database from every cassette, built in a temporary file
//! beside the target and swapped in with a rename, so the old file (missing, truncated, garbage,
//! or without its WAL) is never read and a failed rebuild leaves it as it was.

use std::path::{Path, PathBuf};

use super::{StoreError, TraceDb, TraceRow};
use crate::cassette::files;

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub cassettes: usize,
    pub interactions: u64,
    /// Cassettes that could not be read, with the error (file, line and column).
    pub skipped: Vec<String>,
}

/// Rebuilds the database at `db_path` from the cassettes in `dir`. With `strict`, an unreadable
/// cassette aborts the rebuild (and the old database stays). `progress(done, total)` is called
/// after each cassette.
pub fn rebuild(
    dir: &Path,
    db_path: &Path,
    strict: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<RebuildReport, StoreError> {
    let cassettes = files::list(dir).map_err(|e| StoreError::Invalid {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let parent = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|source| StoreError::Io {
        path: parent.clone(),
        source,
    })?;
    let temp = tempfile::Builder::new()
        .prefix(".traces-rebuild-")
        .suffix(".db")
        .tempfile_in(&parent)
        .map_err(|source| StoreError::Io {
            path: parent.clone(),
            source,
        })?
        .into_temp_path();
    let temp_path = temp.to_path_buf();

    let mut report = RebuildReport::default();
    {
        let mut db = TraceDb::open(&temp_path)?;
        // Nothing reads this file until it is complete: skip the journal while filling it.
        db.conn
            .execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            .map_err(StoreError::sqlite(&temp_path))?;
        let run = db.begin_run("rebuild", &crate::cassette::now())?;
        let total = cassettes.len();
        let mut rows = Vec::new();
        for (done, (name, path)) in cassettes.iter().enumerate() {
            match files::load(path) {
                Ok(cassette) => {
                    report.cassettes += 1;
                    for interaction in &cassette.interactions {
                        rows.push(TraceRow::new(name.as_str(), interaction));
                    }
                }
                Err(error) if strict => {
                    return Err(StoreError::Invalid {
                        path: path.clone(),
                        message: format!(
                            "{error} (rebuild stopped by --strict; the old database is untouched)"
                        ),
                    })
                }
                Err(error) => report.skipped.push(error.to_string()),
            }
            if rows.len() >= 4096 || done + 1 == total {
                report.interactions += rows.len() as u64;
                db.write(run, &rows, &[])?;
                rows.clear();
            }
            progress(done + 1, total);
        }
        db.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA optimize;")
            .map_err(StoreError::sqlite(&temp_path))?;
    }
    // A WAL or shared-memory file left from the old database must not be applied to the new one.
    for suffix in ["-wal", "-shm"] {
        let mut stale = db_path.as_os_str().to_owned();
        stale.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(stale));
    }
    temp.persist(db_path).map_err(|e| StoreError::Io {
        path: db_path.to_path_buf(),
        source: e.error,
    })?;
    Ok(report)
}
