//! Filling a fresh database fast (`vcr rebuild-from-cassettes`, benchmark fills). Rows are
//! inserted on the caller's thread while the full-text index is built at the same time, on a
//! thread of its own, in a side database file; at the end its index is copied into the main
//! file. Tokenising is the larger half of the work, so the two halves overlapping is what keeps
//! a rebuild quick; indexing inside the main file would serialise them (one writer per file).
//!
//! The side table is contentless with the same columns and tokenizer as `traces_fts`, and rows
//! keep their ids, so its shadow tables (`_data`, `_idx`, `_docsize`) are exactly what the main
//! table would hold. Tests run FTS5's own `integrity-check` on the result.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use rusqlite::{params, params_from_iter, Connection, ToSql};

use super::{audit, decisions, schema, StoreError, TraceDb, TraceRow};

/// A database being filled. Nothing else may use the file until [`BulkLoad::finish`].
pub struct BulkLoad {
    db: TraceDb,
    run: i64,
    next_id: i64,
    indexer: Option<Indexer>,
    side: tempfile::TempPath,
    flusher: Flusher,
}

struct Indexer {
    batches: SyncSender<(i64, Vec<TraceRow>)>,
    thread: JoinHandle<Result<(), StoreError>>,
}

impl BulkLoad {
    /// Starts filling `db`, which must be new (no traces yet), as one run of `kind`.
    pub fn start(db: TraceDb, kind: &str) -> Result<BulkLoad, StoreError> {
        let path = db.path.clone();
        db.conn
            .execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
                 PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;
                 DROP TRIGGER traces_fts_insert;",
            )
            .map_err(StoreError::sqlite(&path))?;
        let run = db.begin_run(kind, &crate::cassette::now())?;
        let side = super::temp_file_beside(&path, ".traces-index-")?;
        let conn = open_side(&side)?;
        // A few batches in flight: enough to keep both threads busy, bounded in memory.
        let (batches, receiver) = mpsc::sync_channel(1);
        let side_path = side.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("traceforge-index".into())
            .spawn(move || index(conn, &side_path, receiver))
            .map_err(|source| StoreError::Io {
                path: side.to_path_buf(),
                source,
            })?;
        let flusher = Flusher::start(&path);
        Ok(BulkLoad {
            flusher,
            db,
            run,
            next_id: 1,
            indexer: Some(Indexer { batches, thread }),
            side,
        })
    }

    /// Inserts `rows` (ids assigned in order) and queues them for the full-text index.
    pub fn add(&mut self, rows: Vec<TraceRow>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let first_id = self.next_id;
        let path = self.db.path.clone();
        let tx = self
            .db
            .conn
            .transaction()
            .map_err(StoreError::sqlite(&path))?;
        {
            let mut insert = tx
                .prepare_cached(schema::INSERT_TRACE)
                .map_err(StoreError::sqlite(&path))?;
            let mut audit = audit::Appender::default();
            for (row, id) in rows.iter().zip(first_id..) {
                row.with_columns(|columns| {
                    let values = [&id as &dyn ToSql, &self.run].into_iter();
                    insert.execute(params_from_iter(values.chain(columns.iter().copied())))
                })
                .map_err(StoreError::sqlite(&path))?;
                decisions::add(&tx, id, &row.decisions).map_err(StoreError::sqlite(&path))?;
                audit
                    .add(&tx, id, &row.cassette, row.interaction_id, &row.redactions)
                    .map_err(StoreError::sqlite(&path))?;
            }
            audit.finish(&tx).map_err(StoreError::sqlite(&path))?;
        }
        tx.commit().map_err(StoreError::sqlite(&path))?;
        self.flusher.nudge();
        self.next_id += rows.len() as i64;
        let indexer = self.indexer.as_ref().expect("indexer runs until finish");
        if indexer.batches.send((first_id, rows)).is_err() {
            // The indexer stopped early: its error says why.
            return Err(self
                .stop_indexer()
                .err()
                .unwrap_or_else(|| StoreError::Invalid {
                    path: self.side.to_path_buf(),
                    message: "the full-text indexer stopped".into(),
                }));
        }
        Ok(())
    }

    /// Waits for the index, moves it into the database, and restores the database's normal
    /// settings (WAL, the full-text trigger). Returns the database reopened.
    pub fn finish(mut self) -> Result<TraceDb, StoreError> {
        self.stop_indexer()?;
        let path = self.db.path.clone();
        // FTS5 caches its index structure per connection: adopt the index on a fresh one.
        drop(self.db);
        let conn = Connection::open(&path).map_err(StoreError::sqlite(&path))?;
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            .map_err(StoreError::sqlite(&path))?;
        conn.execute("ATTACH DATABASE ?1 AS side", [self.side.to_string_lossy()])
            .map_err(StoreError::sqlite(&path))?;
        conn.execute_batch(&format!(
            "BEGIN;
             DELETE FROM main.traces_fts_data;
             INSERT INTO main.traces_fts_data SELECT * FROM side.traces_fts_data;
             INSERT INTO main.traces_fts_idx SELECT * FROM side.traces_fts_idx;
             INSERT INTO main.traces_fts_docsize SELECT * FROM side.traces_fts_docsize;
             {}
             COMMIT;
             DETACH DATABASE side;",
            schema::FTS_INSERT_TRIGGER
        ))
        .map_err(StoreError::sqlite(&path))?;
        drop(conn);
        // Filled without syncs: make it durable before it is used (or renamed into place).
        self.flusher.finish();
        std::fs::File::open(&path)
            .and_then(|file| file.sync_all())
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        let db = TraceDb::open(&path)?;
        db.conn
            .execute_batch("PRAGMA optimize;")
            .map_err(StoreError::sqlite(&path))?;
        Ok(db)
    }

    fn stop_indexer(&mut self) -> Result<(), StoreError> {
        let Some(Indexer { batches, thread }) = self.indexer.take() else {
            return Ok(());
        };
        drop(batches);
        thread.join().unwrap_or_else(|_| {
            Err(StoreError::Invalid {
                path: self.side.to_path_buf(),
                message: "the full-text indexer panicked".into(),
            })
        })
    }
}

/// The full-text indexer's in-memory hash before it writes a segment (FTS5's default is 1 MiB).
/// Measured on 100k interactions: 8 MiB beats both 1 MiB (more merging) and 64 MiB (a slower,
/// cache-missing hash).
const INDEX_HASH_BYTES: i64 = 8 << 20;

/// Starts writing the file back to disk while it is still being filled (each `nudge`, on a thread
/// of its own), so the sync that ends the load has little left to wait for.
struct Flusher {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    fn start(path: &Path) -> Flusher {
        // Only ever an early start: without it the final sync does all the work.
        let Ok(file) = std::fs::File::open(path) else {
            return Flusher {
                wake: None,
                thread: None,
            };
        };
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("traceforge-flush".into())
            .spawn(move || {
                for () in woken {
                    let _ = file.sync_data();
                }
            })
            .ok();
        Flusher {
            wake: Some(wake),
            thread,
        }
    }

    fn nudge(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }

    fn finish(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn open_side(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(StoreError::sqlite(path))?;
    conn.execute_batch(&format!(
        "{} PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;
         {}",
        schema::PAGE_SIZE,
        schema::SIDE_FTS
    ))
    .map_err(StoreError::sqlite(path))?;
    Ok(conn)
}

fn index(
    mut conn: Connection,
    path: &Path,
    batches: Receiver<(i64, Vec<TraceRow>)>,
) -> Result<(), StoreError> {
    // FTS5 writes a new segment whenever its in-memory hash fills and at every commit, and
    // merges segments as they pile up: one transaction and a large hash keep that to a few.
    let tx = conn.transaction().map_err(StoreError::sqlite(path))?;
    tx.execute(
        "INSERT INTO traces_fts (traces_fts, rank) VALUES ('hashsize', ?1)",
        [INDEX_HASH_BYTES],
    )
    .map_err(StoreError::sqlite(path))?;
    {
        let mut insert = tx
            .prepare("INSERT INTO traces_fts (rowid, prompt, response) VALUES (?1, ?2, ?3)")
            .map_err(StoreError::sqlite(path))?;
        for (first_id, rows) in batches {
            for (row, id) in rows.iter().zip(first_id..) {
                insert
                    .execute(params![id, row.prompt, row.response])
                    .map_err(StoreError::sqlite(path))?;
            }
        }
    }
    tx.commit().map_err(StoreError::sqlite(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize) -> TraceRow {
        const WORDS: &[&str] = &[
            "refund",
            "refunds",
            "policy",
            "café",
            "naïve",
            "order",
            "shipping",
            "delayed",
            "tool",
            "weather",
            "Paris",
            "ünïcödé",
            "the",
            "and",
            "returns",
            "returned",
        ];
        let text = |seed: usize, n: usize| -> String {
            (0..n)
                .map(|k| WORDS[(seed * 7 + k * 13 + k * k) % WORDS.len()])
                .collect::<Vec<_>>()
                .join(" ")
        };
        TraceRow {
            cassette: format!("c{}", i / 100),
            interaction_id: (i % 100) as u64 + 1,
            recorded_at: "2026-11-22T00:00:00Z".into(),
            upstream: "openai".into(),
            provider: "openai",
            model: Some("gpt-4o-mini".into()),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            status: 200,
            latency_ms: Some(10),
            ttfb_ms: None,
            input_tokens: Some(3),
            output_tokens: Some(5),
            organization: None,
            service: None,
            session: None,
            step: None,
            parent_step: None,
            prompt: match i % 10 {
                0 => format!("delayed shipping {}", text(i, 3)),
                _ => text(i, 3 + i % 5),
            },
            response: text(i + 1, 5 + i % 11),
            request_json: "{}".into(),
            response_json: "{}".into(),
            redactions: Vec::new(),
            decisions: Vec::new(),
        }
    }

    fn ranked(db: &TraceDb, query: &str) -> Vec<(i64, String)> {
        let mut statement = db
            .conn
            .prepare(
                "SELECT rowid, printf('%.6f', rank) FROM traces_fts WHERE traces_fts MATCH ?1
                 ORDER BY rank, rowid",
            )
            .unwrap();
        statement
            .query_map([query], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn the_adopted_index_is_the_one_row_by_row_indexing_builds() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<TraceRow> = (0..2500).map(row).collect();

        let mut load =
            BulkLoad::start(TraceDb::open(&dir.path().join("bulk.db")).unwrap(), "t").unwrap();
        for batch in rows.chunks(1000) {
            load.add(batch.to_vec()).unwrap();
        }
        let bulk = load.finish().unwrap();

        let mut slow = TraceDb::open(&dir.path().join("slow.db")).unwrap();
        let run = slow.begin_run("t", "2026-11-22T00:00:00Z").unwrap();
        slow.write(run, &rows, &[]).unwrap();

        // FTS5's own check: the index matches the content table, token for token.
        bulk.conn
            .execute(
                "INSERT INTO traces_fts (traces_fts) VALUES ('integrity-check')",
                [],
            )
            .unwrap();
        for query in [
            "refund",
            "refund policy",
            "cafe",
            "naive",
            "\"delayed shipping\"",
            "paris",
        ] {
            let found = ranked(&bulk, query);
            assert!(!found.is_empty(), "{query}");
            assert_eq!(found, ranked(&slow, query), "{query}");
        }
        // Stems: `refunds` and `returned` are found by their stems.
        assert_eq!(
            ranked(&bulk, "refunds").len(),
            ranked(&bulk, "refund").len()
        );

        // Back to normal: WAL, and new rows are indexed as they are written.
        let mode: String = bulk
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let mut bulk = bulk;
        let run = bulk.begin_run("record", "2026-11-22T00:00:01Z").unwrap();
        let mut extra = row(0);
        extra.cassette = "later".into();
        extra.response = "zanzibar".into();
        bulk.write(run, &[extra], &[]).unwrap();
        assert_eq!(ranked(&bulk, "zanzibar").len(), 1);
        // The side file is gone.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".traces-index-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
