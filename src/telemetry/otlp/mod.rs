//! OTLP/HTTP protobuf export of one GenAI span per interaction (DESIGN.md §14, issue 13).
//!
//! The proxy hands each finished interaction, already protected for storage, to
//! [`Exporter::offer`]: an append to a bounded queue that never waits (a full queue is a
//! counted drop). A background thread encodes interactions as spans ([`span::encode`]), batches
//! them (up to [`BATCH_SPANS`] or [`BATCH_DELAY`]), and POSTs them with retries
//! ([`send::Sender`]); `traces export --format otlp` uses the same encoder and sender on
//! database rows. Counters are process-wide atomics ([`counters`]) for the metrics registry.
//! Nothing here ever logs a header value: they hold credentials.

pub mod attributes;
pub mod proto;
pub mod send;
pub mod span;
pub mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::cassette::Interaction;
use crate::per_thread::{Gathered, PerThread};
pub use send::{Batch, SendError, Sender};

/// Spans per request at most (the OpenTelemetry SDKs' default batch size).
pub const BATCH_SPANS: usize = 512;
/// How long a span may wait for its batch to fill.
pub const BATCH_DELAY: Duration = Duration::from_secs(1);
/// How often a filling batch takes what is queued. The exporter waits on the queue only for
/// a batch's first span: parked on it per span, it was woken by every request (a futex wake
/// and a timer armed per span, a quarter of a replay server's throughput at 57k spans/s).
const GATHER_TICK: Duration = Duration::from_millis(10);
/// Interactions that may wait for the exporter, per thread that offers them; beyond this they
/// are dropped and counted.
pub const QUEUE_CAPACITY: usize = 8192;
/// How long the end of a run waits for the last spans to be sent.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(3);

/// Where and how spans are exported, resolved once by `settings`.
#[derive(Clone)]
pub struct ExportConfig {
    /// The full traces URL (`…/v1/traces`).
    pub url: url::Url,
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`): credentials, never logged.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// The resource's `service.name`.
    pub service_name: String,
    /// `--otlp-content`: prompts and answers (protected) go into the spans.
    pub content: bool,
}

impl ExportConfig {
    /// The URL for messages: without any user name or password it may carry.
    pub fn shown_url(&self) -> String {
        shown_url(&self.url)
    }
}

/// `url` without user name and password.
pub fn shown_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

impl std::fmt::Debug for ExportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ExportConfig")
            .field("url", &self.shown_url())
            .field("headers", &names)
            .field("service_name", &self.service_name)
            .field("content", &self.content)
            .finish()
    }
}

/// Spans this process exported, dropped and failed to deliver, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Accepted by the endpoint.
    pub exported: u64,
    /// Never sent: the queue was full (the endpoint too slow or unreachable).
    pub dropped: u64,
    /// Sent but not delivered: refused, or still failing after the retries.
    pub failed: u64,
}

static EXPORTED: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// This process's span counters, for `traceforge_otlp_spans_exported_total` and
/// `traceforge_otlp_spans_dropped_total` (`dropped + failed`: every span that never arrived).
pub fn counters() -> Counts {
    Counts {
        exported: EXPORTED.load(Ordering::Relaxed),
        dropped: DROPPED.load(Ordering::Relaxed),
        failed: FAILED.load(Ordering::Relaxed),
    }
}

/// An interaction waiting to become a span.
struct Item {
    /// `None`: the same as the item's before it in its thread's buffer, whose first item
    /// always has one. A replay server offers one interaction again and again, and cloning
    /// its two `Arc`s for each offer (and dropping them on the export thread) passed their
    /// counts' cache lines between cores at every request.
    source: Option<Source>,
    end_unix_nano: u64,
    /// For a replay: how many times the run served the interaction before.
    replayed: Option<u64>,
}

/// The interaction of a span, and its cassette.
#[derive(Clone)]
struct Source {
    cassette: Arc<str>,
    interaction: Arc<Interaction>,
}

impl Source {
    /// Whether this is `cassette`'s `interaction` (the same allocations).
    fn is(&self, cassette: &Arc<str>, interaction: &Arc<Interaction>) -> bool {
        Arc::ptr_eq(&self.cassette, cassette) && Arc::ptr_eq(&self.interaction, interaction)
    }
}

/// Interactions offered and not yet taken by the export thread: one buffer per thread that
/// offers ([`PerThread`]), which that thread appends to and the export thread empties. A
/// channel cost each replayed request more (its slot handed between cores, and a wake of the
/// thread per span), and so did one buffer for all the proxy's threads (`perf`: a quarter of
/// a microsecond a request under load).
#[derive(Default)]
struct Queue {
    buffers: PerThread<Buffer>,
    /// Notified when a buffer stops being empty.
    ready: tokio::sync::Notify,
}

/// One thread's items, oldest first: at most [`QUEUE_CAPACITY`].
#[derive(Default)]
struct Buffer {
    items: Vec<Item>,
    /// The last item that has a source, when there are items: the source of the last.
    sourced: usize,
}

impl Gathered for Buffer {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Queue {
    /// Appends an item to the calling thread's buffer unless [`QUEUE_CAPACITY`] items are
    /// already waiting in it; `false`: it was not taken.
    fn offer(
        &self,
        cassette: &Arc<str>,
        interaction: &Arc<Interaction>,
        end_unix_nano: u64,
        replayed: Option<u64>,
    ) -> bool {
        let offered = self
            .buffers
            .with(|buffer| buffer.offer(cassette, interaction, end_unix_nano, replayed));
        match offered {
            Some(Some(was_empty)) => {
                if was_empty {
                    self.ready.notify_one();
                }
                true
            }
            _ => false,
        }
    }

    /// Moves up to `most` of the waiting items, each thread's oldest first, to the end of
    /// `into`.
    fn take(&self, into: &mut Vec<Item>, most: usize) {
        let mut left = most;
        self.buffers.each(|buffer| {
            let before = into.len();
            buffer.take(into, left);
            left -= into.len() - before;
            left > 0
        });
    }
}

impl Buffer {
    /// [`Queue::offer`] into this buffer: `None` when it is full, else whether it was empty.
    fn offer(
        &mut self,
        cassette: &Arc<str>,
        interaction: &Arc<Interaction>,
        end_unix_nano: u64,
        replayed: Option<u64>,
    ) -> Option<bool> {
        let Buffer { items, sourced } = self;
        if items.len() >= QUEUE_CAPACITY {
            return None;
        }
        let was_empty = items.is_empty();
        // Only the last item's source is looked at: one interaction replayed again and again
        // is the case that matters.
        let same = items
            .get(*sourced)
            .and_then(|item| item.source.as_ref())
            .is_some_and(|last| last.is(cassette, interaction));
        if !same {
            *sourced = items.len();
        }
        items.push(Item {
            source: (!same).then(|| Source {
                cassette: cassette.clone(),
                interaction: interaction.clone(),
            }),
            end_unix_nano,
            replayed,
        });
        Some(was_empty)
    }

    /// Moves up to `most` items, oldest first, to the end of `into`.
    fn take(&mut self, into: &mut Vec<Item>, most: usize) {
        let Buffer { items, sourced } = self;
        if items.len() <= most && into.is_empty() {
            // The usual case, done in O(1) under the lock the thread offers into.
            std::mem::swap(items, into);
        } else if items.len() <= most {
            into.append(items);
        } else {
            // The first item left needs its own source now: the last one taken has it.
            let source = items[..most]
                .iter()
                .rev()
                .find_map(|item| item.source.as_ref())
                .cloned();
            into.extend(items.drain(..most));
            if let Some(first) = items.first_mut() {
                first.source = first.source.take().or(source);
            }
            *sourced = sourced.saturating_sub(most);
        }
    }
}

/// The live exporter of a proxy run: a bounded queue and the task that empties it.
pub struct Exporter {
    queue: Arc<Queue>,
    stop: watch::Sender<bool>,
    /// Fires when the export thread has sent what it could and stopped.
    finished: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    start: Counts,
    url: String,
}

/// What a run's exporter did, for the end-of-run summary.
#[derive(Debug, Clone)]
pub struct Report {
    pub url: String,
    pub counts: Counts,
}

impl Exporter {
    /// Starts the export thread.
    pub fn spawn(config: ExportConfig) -> Result<Exporter, SendError> {
        let sender = Sender::new(&config)?.warning_once();
        let registry = &crate::telemetry::metrics::global().registry;
        registry.counter_fn(
            "traceforge_otlp_spans_exported_total",
            "Spans the OTLP endpoint accepted.",
            || counters().exported,
        );
        registry.counter_fn(
            "traceforge_otlp_spans_dropped_total",
            "Spans never sent: the export queue was full (the endpoint too slow or unreachable).",
            || counters().dropped,
        );
        registry.counter_fn(
            "traceforge_otlp_spans_failed_total",
            "Spans sent but not delivered: refused, or still failing after the retries.",
            || counters().failed,
        );
        let queue = Arc::new(Queue::default());
        let receiver = queue.clone();
        let (stop, stopped) = watch::channel(false);
        let url = config.shown_url();
        let (done, finished) = tokio::sync::oneshot::channel();
        // A thread of its own with its own runtime, at a lower priority: building, encoding
        // and sending spans never holds one of the proxy's worker threads, and when the
        // cores are busy the proxy's requests go first.
        std::thread::Builder::new()
            .name("traceforge-otlp".into())
            .spawn(move || {
                crate::priority::lower(crate::priority::BACKGROUND);
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::warn!("OTLP export cannot start: {error}");
                        return;
                    }
                };
                runtime.block_on(run(config, sender, receiver, stopped));
                let _ = done.send(());
            })
            .map_err(SendError::Thread)?;
        Ok(Exporter {
            queue,
            stop,
            finished: Mutex::new(Some(finished)),
            start: counters(),
            url,
        })
    }

    /// Queues a finished interaction (as stored: protected) for export. Never waits: when
    /// the queue is full the span is dropped and counted.
    pub fn offer(
        &self,
        cassette: &Arc<str>,
        interaction: &Arc<Interaction>,
        replayed: Option<u64>,
    ) {
        let end = unix_nanos(SystemTime::now());
        if !self.queue.offer(cassette, interaction, end, replayed) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends what is queued (within [`FLUSH_DEADLINE`]) and stops the task; what cannot be
    /// sent by then is counted as failed.
    pub async fn finish(&self) -> Report {
        let _ = self.stop.send(true);
        let finished = self.finished.lock().ok().and_then(|mut t| t.take());
        if let Some(finished) = finished {
            // The thread keeps its own deadline; this one only guards against a hung socket
            // (the thread is then left to end with the process).
            let grace = FLUSH_DEADLINE + Duration::from_secs(1);
            let _ = tokio::time::timeout(grace, finished).await;
        }
        let now = counters();
        Report {
            url: self.url.clone(),
            counts: Counts {
                exported: now.exported - self.start.exported,
                dropped: now.dropped - self.start.dropped,
                failed: now.failed - self.start.failed,
            },
        }
    }
}

/// The export task: batches, sends, and at the stop drains the queue under a deadline.
async fn run(config: ExportConfig, sender: Sender, queue: Arc<Queue>, stop: watch::Receiver<bool>) {
    // Every replay run is a trace of its own (see `span::Source::replay_run`).
    let replay_run = unix_nanos(SystemTime::now()) ^ u64::from(std::process::id());
    let mut batch = send::Batch::default();
    let mut encoder = Encoder::new(config.content, replay_run);
    let mut taken = Vec::new();
    let mut add = |batch: &mut send::Batch, taken: &mut Vec<Item>| {
        // Each thread's items come whole and in order: the first has its source.
        let mut source = None;
        for item in taken.drain(..) {
            let Item {
                source: own,
                end_unix_nano,
                replayed,
            } = item;
            if own.is_some() {
                source = own;
            }
            if let Some(source) = &source {
                encoder.push(batch, source, end_unix_nano, replayed);
            }
        }
    };
    'run: loop {
        // A batch's first span: the only wait on the queue itself.
        loop {
            queue.take(&mut taken, BATCH_SPANS);
            if !taken.is_empty() {
                add(&mut batch, &mut taken);
                break;
            }
            tokio::select! {
                () = queue.ready.notified() => {}
                () = stopping(stop.clone()) => break 'run,
            }
        }
        let batch_started = Instant::now();
        // The rest of it: what queued meanwhile, every tick, until it is full or old enough.
        loop {
            queue.take(&mut taken, BATCH_SPANS - batch.len());
            add(&mut batch, &mut taken);
            let left = BATCH_DELAY.saturating_sub(batch_started.elapsed());
            if batch.len() >= BATCH_SPANS || left.is_zero() || *stop.borrow() {
                break;
            }
            tokio::time::sleep(left.min(GATHER_TICK)).await;
        }
        deliver(&sender, &mut batch, None, Some(stop.clone())).await;
    }
    // The end of the run: what is queued goes out in full batches, within the deadline.
    let deadline = Instant::now() + FLUSH_DEADLINE;
    loop {
        queue.take(&mut taken, BATCH_SPANS - batch.len());
        if taken.is_empty() {
            break;
        }
        add(&mut batch, &mut taken);
        if batch.len() >= BATCH_SPANS {
            deliver(&sender, &mut batch, Some(deadline), None).await;
        }
    }
    if !batch.is_empty() {
        deliver(&sender, &mut batch, Some(deadline), None).await;
    }
}

/// Interactions to spans, remembering the fixed part of replayed ones' (a replay server
/// answers the same recordings again and again): keyed by the cassette and interaction it
/// holds on to, so a key is never another's.
struct Encoder {
    content: bool,
    replay_run: u64,
    /// Keyed by two addresses: foldhash, not SipHash (which cost a span 400 instructions).
    fixed: foldhash::HashMap<(usize, usize), Remembered>,
    /// The bytes of the fixed parts in `fixed`.
    fixed_bytes: usize,
}

/// A replayed interaction's fixed part, with the cassette and interaction its key's
/// addresses are of (held, so no other can take those addresses while it is remembered).
struct Remembered {
    _cassette: Arc<str>,
    _interaction: Arc<Interaction>,
    fixed: span::Fixed,
}

/// Replayed interactions whose spans' fixed parts are kept, and their bytes (prompts and
/// answers are in them with `--otlp-content`); beyond either, the memory starts over.
const ENCODER_MEMORY: usize = 4096;
const ENCODER_MEMORY_BYTES: usize = 16 << 20;

impl Encoder {
    fn new(content: bool, replay_run: u64) -> Encoder {
        Encoder {
            content,
            replay_run,
            fixed: foldhash::HashMap::default(),
            fixed_bytes: 0,
        }
    }

    fn push(
        &mut self,
        batch: &mut send::Batch,
        item: &Source,
        end_unix_nano: u64,
        replayed: Option<u64>,
    ) {
        let source = span::Source {
            cassette: &item.cassette,
            interaction: &item.interaction,
            end_unix_nano,
            replay: replayed.map(|served| span::Replay {
                run: self.replay_run,
                served,
            }),
        };
        if source.replay.is_none() {
            // A recording: each interaction is new.
            batch.push(source, self.content);
            return;
        }
        let key = (
            Arc::as_ptr(&item.cassette).cast::<u8>() as usize,
            Arc::as_ptr(&item.interaction) as usize,
        );
        if !self.fixed.contains_key(&key) {
            let fixed = span::Fixed::of(source, self.content);
            if self.fixed.len() >= ENCODER_MEMORY
                || self.fixed_bytes + fixed.size() > ENCODER_MEMORY_BYTES
            {
                self.fixed.clear();
                self.fixed_bytes = 0;
            }
            self.fixed_bytes += fixed.size();
            self.fixed.insert(
                key,
                Remembered {
                    _cassette: item.cassette.clone(),
                    _interaction: item.interaction.clone(),
                    fixed,
                },
            );
        }
        if let Some(remembered) = self.fixed.get(&key) {
            batch.push_fixed(source, &remembered.fixed);
        }
    }
}

/// Resolves once the run is ending.
async fn stopping(mut stop: watch::Receiver<bool>) {
    // An exporter dropped without `finish` stops its thread too.
    let _ = stop.wait_for(|s| *s).await;
}

/// Sends one batch (empty afterwards, its buffer kept) and counts the outcome.
async fn deliver(
    sender: &Sender,
    batch: &mut send::Batch,
    deadline: Option<Instant>,
    stop: Option<watch::Receiver<bool>>,
) {
    let count = batch.len() as u64;
    match sender.send(batch, deadline, stop).await {
        Ok(rejected) => {
            EXPORTED.fetch_add(count - rejected.min(count), Ordering::Relaxed);
            FAILED.fetch_add(rejected.min(count), Ordering::Relaxed);
        }
        // The sender said the first failure; the rest is counted.
        Err(_) => {
            FAILED.fetch_add(count, Ordering::Relaxed);
        }
    }
}

/// Nanoseconds since the Unix epoch (0 before it).
pub fn unix_nanos(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// When a stored interaction ended: its `recorded_at` (when the request was sent, to the
/// second) plus its total time. For spans built from the database.
pub fn recorded_end(interaction: &Interaction) -> u64 {
    let start =
        chrono::NaiveDateTime::parse_from_str(&interaction.recorded_at, "%Y-%m-%dT%H:%M:%SZ")
            .ok()
            .and_then(|t| t.and_utc().timestamp_nanos_opt())
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
    let total = interaction.timing.map_or(0, |t| t.total_ms);
    start.saturating_add(total.saturating_mul(1_000_000))
}

#[cfg(test)]
mod tests;
