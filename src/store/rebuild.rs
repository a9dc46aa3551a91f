//! `vcr rebuild-from-cassettes`: a fresh database from every cassette, built in a temporary file
//! beside the target and swapped in with a rename, so the old file (missing, truncated, garbage,
//! or without its WAL) is never needed and a failed rebuild leaves it as it was. The one thing
//! read from it, when it can be, is the `traceforge load` history, which no cassette holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::bulk::BulkLoad;
use super::{StoreError, TraceDb, TraceRow};
use crate::cassette::files::{self, CassetteError};

/// One cassette's rows, or why it could not be read.
type Parsed = Result<Vec<TraceRow>, (PathBuf, CassetteError)>;

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub cassettes: usize,
    pub interactions: u64,
    /// Cassettes that could not be read, with the error (file, line and column).
    pub skipped: Vec<String>,
    /// `traceforge load` history rows copied over from the old database.
    pub load_runs: usize,
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
    let temp = super::temp_file_beside(db_path, ".traces-rebuild-")?;
    let temp_path = temp.to_path_buf();

    let mut report = RebuildReport::default();
    {
        let mut load = BulkLoad::start(TraceDb::open(&temp_path)?, "rebuild")?;
        let total = cassettes.len();
        // Parse on every core; insert on this thread, in cassette order so two rebuilds give
        // the same database; the bulk load indexes for search on a thread of its own.
        let next = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(8);
        let (sender, receiver) = mpsc::sync_channel::<(usize, Parsed)>(workers * 4);
        std::thread::scope(|scope| -> Result<(), StoreError> {
            for _ in 0..workers {
                let sender = sender.clone();
                let (next, cassettes) = (&next, &cassettes);
                scope.spawn(move || {
                    // Parsing outruns writing: the parsers run below the writer and the
                    // indexer, so those never wait for a core, the queues between them stay
                    // short, and the indexer finishes with the rest.
                    crate::priority::lower(5);
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some((name, path)) = cassettes.get(index) else {
                            break;
                        };
                        let parsed = files::load(path).map(|cassette| {
                            cassette
                                .interactions
                                .iter()
                                .map(|interaction| TraceRow::new(name.as_str(), interaction))
                                .collect()
                        });
                        if sender
                            .send((index, parsed.map_err(|e| (path.clone(), e))))
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut waiting: BTreeMap<usize, Parsed> = BTreeMap::new();
            let mut expected = 0;
            let mut rows = Vec::new();
            let mut failure = None;
            for (index, parsed) in receiver.iter() {
                waiting.insert(index, parsed);
                while let Some(parsed) = waiting.remove(&expected) {
                    expected += 1;
                    match parsed {
                        Ok(mut parsed) => {
                            report.cassettes += 1;
                            rows.append(&mut parsed);
                        }
                        Err((path, error)) if strict => {
                            failure.get_or_insert(StoreError::Invalid {
                                path,
                                message: format!(
                                    "{error} (rebuild stopped by --strict; the old database is untouched)"
                                ),
                            });
                        }
                        Err((_, error)) => report.skipped.push(crate::error_chain(&error)),
                    }
                    if failure.is_none() && (rows.len() >= 1024 || expected == total) {
                        report.interactions += rows.len() as u64;
                        if let Err(e) = load.add(std::mem::take(&mut rows)) {
                            failure = Some(e);
                        }
                    }
                    progress(expected, total);
                }
                if failure.is_some() {
                    // Stop the workers: they see the closed channel on their next send.
                    next.store(usize::MAX / 2, Ordering::Relaxed);
                }
            }
            failure.map_or(Ok(()), Err)
        })?;
        load.finish()?;
    }
    // The load-test history is in no cassette: keep what the old file still holds.
    report.load_runs = super::load_runs::carry_over(db_path, &temp_path);
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
