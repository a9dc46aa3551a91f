//! The one thread that writes traces. The proxy's cost is a non-blocking channel send of an
//! `Arc` (rows are built here, off the request path); the thread commits in batches. A replay
//! makes sure its recorded interaction has a row (once per run) and is otherwise only counted,
//! per second, so replaying under load stays nearly free. If the database fails (disk full, file
//! deleted, locked), proxying and cassette writing go on: the failure is reported once with the
//! fix, traces are dropped and counted while a circuit breaker is open, and writing resumes after
//! the cooldown without a restart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::collections::{BTreeMap, HashMap};

use super::{StoreError, TraceDb, TraceRow};
use crate::cassette::Interaction;
use crate::telemetry::metrics;

/// How many traces may wait for the writer before new ones are dropped (and counted).
const QUEUE: usize = 65_536;
/// The most rows committed in one transaction.
const BATCH: usize = 1024;
/// How long the writer gathers messages before it commits them.
const GATHER: Duration = Duration::from_millis(100);
/// How long the breaker stays open after a failure before the writer tries again.
pub const COOLDOWN: Duration = Duration::from_secs(2);

/// One finished interaction on its way to the database.
pub struct Pending {
    pub cassette: Arc<str>,
    pub interaction: Arc<Interaction>,
    /// `None` for a recording; for a replay, when it was served.
    pub replayed_at: Option<String>,
    /// For a replay: the interaction's count of replays since the writer last took it. The
    /// proxy sends a message only when this goes from 0 to 1; the writer takes the count.
    pub replays: Option<Arc<AtomicU64>>,
    /// The first recording of a run that replaces its cassette (`--mode all`): the rows of
    /// the cassette's old interactions go first, so the rows follow the cassette.
    pub replaces_cassette: bool,
}

impl Pending {
    /// How many traces this message stands for (a replay message carries a count), taking it.
    fn take_count(&self) -> u64 {
        match &self.replays {
            Some(unsent) => unsent.swap(0, Ordering::AcqRel).max(1),
            None => 1,
        }
    }
}

/// What the writer did, for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterReport {
    pub written: u64,
    pub dropped: u64,
    pub failures: Vec<String>,
}

enum Message {
    Trace(Pending),
    Stop,
}

/// Handle to the writer thread. Sending takes `&self`, so the proxy shares it freely.
pub struct TraceWriter {
    sender: SyncSender<Message>,
    thread: Mutex<Option<JoinHandle<WriterReport>>>,
    dropped_at_send: AtomicU64,
}

impl TraceWriter {
    /// Starts the writer for the database at `path`; the run is registered as `kind`.
    pub fn spawn(path: PathBuf, kind: &'static str) -> std::io::Result<TraceWriter> {
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("traceforge-traces".into())
            .spawn(move || {
                // Writing traces can wait; the requests the proxy serves beside it cannot.
                crate::priority::background();
                run(receiver, path, kind)
            })?;
        Ok(TraceWriter {
            sender,
            thread: Mutex::new(Some(thread)),
            dropped_at_send: AtomicU64::new(0),
        })
    }

    /// Hands an interaction to the writer without ever blocking the caller.
    pub fn send(&self, pending: Pending) {
        let metrics = metrics::global();
        match self.sender.try_send(Message::Trace(pending)) {
            Ok(()) => metrics.storage_queue_depth.add(1),
            Err(
                TrySendError::Full(Message::Trace(p))
                | TrySendError::Disconnected(Message::Trace(p)),
            ) => {
                let count = p.take_count();
                self.dropped_at_send.fetch_add(count, Ordering::Relaxed);
                metrics.storage_dropped.add(count);
            }
            Err(_) => {}
        }
    }

    /// Writes what is queued, stops the thread and reports. Later calls report nothing new.
    pub fn finish(&self) -> WriterReport {
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        let Some(thread) = thread else {
            return WriterReport::default();
        };
        let _ = self.sender.send(Message::Stop);
        let mut report = thread.join().unwrap_or_else(|_| WriterReport {
            failures: vec!["the trace writer thread panicked".into()],
            ..WriterReport::default()
        });
        report.dropped += self.dropped_at_send.load(Ordering::Relaxed);
        report
    }
}

fn run(receiver: Receiver<Message>, path: PathBuf, kind: &'static str) -> WriterReport {
    let mut report = WriterReport::default();
    let mut db: Option<(TraceDb, i64)> = None;
    let mut open_until: Option<Instant> = None;
    let mut reported = false;
    // The row id of every interaction this run has written, so replays only count.
    let mut known: HashMap<(Arc<str>, u64), i64> = HashMap::new();
    let mut stopping = false;
    while !stopping {
        let mut batch = Vec::new();
        match receiver.recv() {
            Ok(Message::Trace(first)) => batch.push(first),
            Ok(Message::Stop) | Err(_) => break,
        }
        // Gather for a moment: one commit per interval, not one per message, keeps the
        // writer's share of a busy replay server small.
        let deadline = Instant::now() + GATHER;
        while batch.len() < BATCH {
            let wait = deadline.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(wait) {
                Ok(Message::Trace(next)) => batch.push(next),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let metrics = metrics::global();
        metrics.storage_queue_depth.add(-(batch.len() as i64));
        if open_until.is_some_and(|until| Instant::now() < until) {
            let dropped = batch.iter().map(Pending::take_count).sum::<u64>();
            report.dropped += dropped;
            metrics.storage_dropped.add(dropped);
            continue;
        }
        let started = Instant::now();
        let result = (|| -> Result<u64, StoreError> {
            if db.is_none() {
                let opened = TraceDb::open(&path)?;
                let run = opened.begin_run(kind, &crate::cassette::now())?;
                known.clear();
                db = Some((opened, run));
            }
            let Some((db, run)) = db.as_mut() else {
                unreachable!("opened above");
            };
            write_batch(db, *run, &batch, &mut known)
        })();
        match result {
            Ok(written) => {
                metrics.storage_write_latency.observe(started.elapsed());
                metrics.storage_breaker_open.set(0);
                report.written += written;
                open_until = None;
            }
            Err(error) => {
                let dropped = batch.iter().map(Pending::take_count).sum::<u64>();
                report.dropped += dropped;
                metrics.storage_dropped.add(dropped);
                metrics.storage_breaker_open.set(1);
                if !reported {
                    // Through the log, so `--log-format json` keeps stderr one object a line.
                    tracing::warn!(
                        "the trace database failed: {}\n  proxying and cassettes are \
                         unaffected; traces are skipped and retried every {}s. To recover a \
                         damaged database run `traceforge vcr rebuild-from-cassettes`.",
                        crate::error_chain(&error),
                        COOLDOWN.as_secs()
                    );
                    reported = true;
                }
                report.failures.push(crate::error_chain(&error));
                // Reopen from scratch after the cooldown: the file may have been replaced.
                db = None;
                open_until = Some(Instant::now() + COOLDOWN);
            }
        }
    }
    report
}

/// Called between rows: a batch of recordings costs milliseconds of CPU (building rows,
/// tokenising them for search), and on a machine with few cores a request that wakes up while
/// the writer holds its core would wait for it: measured on 2 cores, that added up to 2 ms to
/// the p99 of recorded requests. Yielding after every row lets any runnable thread (the proxy's,
/// the upstream's, the client's) go first, and costs nothing when none is waiting.
fn courteous_pause() {
    std::thread::yield_now();
}

/// Writes one batch: recordings (and first replays of an interaction) as rows, every replay
/// as a count against its row. Returns how many recordings and replays it wrote.
fn write_batch(
    db: &mut TraceDb,
    run: i64,
    batch: &[Pending],
    known: &mut HashMap<(Arc<str>, u64), i64>,
) -> Result<u64, StoreError> {
    let mut rows = Vec::new();
    let mut keys = Vec::new();
    // A replacing recording comes before every other message of its cassette in the channel,
    // so deleting the old rows first, in the batch's transaction, keeps this batch's new ones.
    let replaced: Vec<&str> = batch
        .iter()
        .filter(|p| p.replaces_cassette)
        .map(|p| &*p.cassette)
        .collect();
    known.retain(|(cassette, _), _| !replaced.contains(&&**cassette));
    for pending in batch {
        let key = (pending.cassette.clone(), pending.interaction.id);
        if pending.replayed_at.is_none() || !known.contains_key(&key) && !keys.contains(&key) {
            rows.push(TraceRow::new(&pending.cassette, &pending.interaction));
            keys.push(key);
            courteous_pause();
        }
    }
    // The ids are only known after the rows are written; replays are counted in a second
    // statement of the same transaction.
    let ids = db.write_pausing(run, &replaced, &rows, &[], courteous_pause)?;
    for (key, id) in keys.into_iter().zip(ids) {
        known.insert(key, id);
    }
    let mut counts: BTreeMap<(i64, &str), u64> = BTreeMap::new();
    for pending in batch {
        if let Some(at) = &pending.replayed_at {
            if let Some(id) = known.get(&(pending.cassette.clone(), pending.interaction.id)) {
                *counts.entry((*id, at.as_str())).or_default() += pending.take_count();
            }
        }
    }
    let recordings = batch.iter().filter(|p| p.replayed_at.is_none()).count() as u64;
    let replayed: u64 = counts.values().sum();
    if !counts.is_empty() {
        let replays: Vec<(i64, String, u64)> = counts
            .into_iter()
            .map(|((id, at), n)| (id, at.to_string(), n))
            .collect();
        db.write(run, &[], &replays)?;
    }
    Ok(recordings + replayed)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cassette::{Body, Redaction, RedactionAction, Request, Response, Scope};

    fn recorded(id: u64, redactions: usize) -> Arc<Interaction> {
        Arc::new(Interaction {
            id,
            recorded_at: "2026-11-30T01:00:00Z".into(),
            request: Request {
                method: "POST".into(),
                upstream: "openai".into(),
                path: "/v1/chat/completions".into(),
                headers: BTreeMap::new(),
                body: Some(Body::Json(serde_json::json!({"prompt": "mail <EMAIL>"}))),
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
            redactions: (0..redactions)
                .map(|n| Redaction {
                    path: "request.body.prompt".into(),
                    span: [5, 12],
                    detector: "email".into(),
                    action: RedactionAction::Mask,
                    at: "2026-11-30T01:00:00Z".into(),
                    hmac: format!("{id:016x}{n:016x}"),
                })
                .collect(),
            decisions: Vec::new(),
        })
    }

    fn pending(interaction: Arc<Interaction>, replayed: bool) -> Pending {
        Pending {
            cassette: Arc::from("support"),
            interaction,
            replayed_at: replayed.then(|| "2026-11-30T01:00:05Z".into()),
            replays: replayed.then(|| Arc::new(AtomicU64::new(1))),
            replaces_cassette: false,
        }
    }

    #[test]
    fn recordings_bring_their_audit_once_however_often_they_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = TraceWriter::spawn(path.clone(), "record").unwrap();
        writer.send(pending(recorded(1, 2), false));
        writer.send(pending(recorded(2, 0), false));
        let report = writer.finish();
        assert_eq!((report.written, report.failures.len()), (2, 0));

        // A second run writes interaction 1 again (as after a failed batch), and a replay
        // server writes the row of interaction 3, which it finds in its cassette.
        let writer = TraceWriter::spawn(path.clone(), "replay").unwrap();
        writer.send(pending(recorded(1, 2), false));
        writer.send(pending(recorded(3, 1), true));
        assert!(writer.finish().failures.is_empty());

        let db = TraceDb::open_existing(&path).unwrap();
        let audit = db.audit(None).unwrap();
        let seen: Vec<(i64, i64, Option<i64>)> = audit
            .iter()
            .map(|e| (e.id, e.interaction_id, e.trace_id))
            .collect();
        assert_eq!(seen, [(1, 1, Some(1)), (2, 1, Some(1)), (3, 3, Some(3))]);
        assert!(db.check().unwrap().is_empty(), "{:?}", db.check());
    }
}
