//! The process's log: `tracing` events written to stderr as text (the lines people have always
//! seen, `traceforge: warning: …`) or as JSON (one object per line, for a log pipeline), at the
//! level `TRACEFORGE_LOG` or `-v`/`-vv`/`--quiet` pick. Set up once in `main`, before any
//! command runs.
//!
//! Lines are formatted on the thread that logs (request events in a JSON log by the writer, see
//! [`Deferred`]) and written by one writer thread, so a request never waits on a slow terminal
//! or pipe; when the writer falls far behind, lines are dropped
//! and counted rather than stalling the proxy. [`flush`] waits until everything logged so far
//! is on stderr (before a command prints its summary, and at exit).
//!
//! It must not log what it is not given: events carry ids, names, statuses and times, never a
//! body, a header value or a query string (see [`super::request`]). A field named `report` is a
//! human rendering (a replay-miss report, which quotes protected request text): text shows it,
//! JSON leaves it out.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
#[cfg(test)]
use std::sync::Arc;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::EnvFilter;

pub use crate::cli::LogFormat;

/// The variable that sets the log level, in `tracing`'s env-filter syntax (`info`,
/// `warn,traceforge::request=info`). Not `RUST_LOG`: the command `vcr record -- CMD` wraps may
/// read that one for itself.
pub const LOG_VARIABLE: &str = "TRACEFORGE_LOG";

/// The target of the one event per request and of the notes about one request (a miss, a
/// block, an upstream failure). In text, those read as a sentence without `warning:`.
pub const REQUEST_TARGET: &str = "traceforge::request";

/// How long the writer lets lines gather, after the first one arrives, before writing them:
/// a line waits at most this long, and under load the writer wakes a hundred times a second
/// (at 2 ms, its wakes and writes were 1.7% of a replay server's CPU at 80k requests/s).
const BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// Bytes of lines that may wait for stderr before new lines are dropped (and counted): about
/// 30,000 request events.
const PENDING_LIMIT: usize = 16 << 20;

/// The capacity a writing buffer keeps between writes.
const KEEP_CAPACITY: usize = 256 << 10;

/// The deferred lines' room a taken batch keeps between writes.
const KEEP_DEFERRED: usize = 1024;

/// A log level that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(
        "{LOG_VARIABLE}={value:?}: not a log filter (expected a level such as `info`, or \
         directives such as `warn,traceforge::request=info`)"
    )]
    Filter {
        value: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("{LOG_VARIABLE}: not valid UTF-8")]
    NotUnicode,
}

/// How the log is written and what passes, resolved once from `--log-format`,
/// `TRACEFORGE_LOG` and `-v`/`--quiet`.
#[derive(Debug)]
pub struct LogConfig {
    pub format: LogFormat,
    /// The env-filter directives in force.
    pub directives: String,
}

impl LogConfig {
    /// `TRACEFORGE_LOG` (`env`, when set and not blank) wins; then `--quiet` (`warn`: the
    /// per-request events go, warnings and errors such as a replay-miss report stay, as they
    /// always did), `-vv` (debug), `-v` (info); then the format's default: `warn` for text, so
    /// an interactive `vcr record -- pytest` shows what it always has and no line per request,
    /// and `info` for JSON, which is asked for by whoever collects the per-request events.
    pub fn resolve(
        format: LogFormat,
        env: Option<std::ffi::OsString>,
        verbose: u8,
        quiet: bool,
    ) -> Result<LogConfig, LogError> {
        let env = match env {
            Some(value) => Some(value.into_string().map_err(|_| LogError::NotUnicode)?),
            None => None,
        };
        let directives = match env.as_deref().map(str::trim) {
            Some(value) if !value.is_empty() => {
                // Checked here so a typo is an error before anything runs.
                EnvFilter::try_new(value).map_err(|source| LogError::Filter {
                    value: value.to_string(),
                    source,
                })?;
                value.to_string()
            }
            _ if quiet => "warn".to_string(),
            _ if verbose >= 2 => "debug".to_string(),
            _ if verbose == 1 => "info".to_string(),
            _ => match format {
                LogFormat::Text => "warn".to_string(),
                LogFormat::Json => "info".to_string(),
            },
        };
        Ok(LogConfig { format, directives })
    }
}

/// Installs the process's log. Keep the returned guard until the end of `main`: dropping it
/// writes what is still queued.
pub fn install(config: &LogConfig) -> Result<LogGuard, LogError> {
    let filter = EnvFilter::try_new(&config.directives).map_err(|source| LogError::Filter {
        value: config.directives.clone(),
        source,
    })?;
    WRITER.get_or_init(start_writer);
    JSON_INSTALLED.store(config.format == LogFormat::Json, Ordering::Relaxed);
    let layer = LineLayer {
        format: config.format,
        sink: Sink::Log,
    };
    let subscriber = tracing_subscriber::registry().with(filter).with(layer);
    // Only the first install takes effect (tests may call this more than once).
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        // The filter never changes: asked once here, not by every request.
        let reported = tracing::enabled!(target: REQUEST_TARGET, Level::INFO);
        REQUEST_EVENTS.store(1 + u8::from(reported), Ordering::Relaxed);
    }
    Ok(LogGuard(()))
}

/// Whether the installed log shows request events: 0 unknown (no log installed), 1 no, 2 yes.
static REQUEST_EVENTS: AtomicU8 = AtomicU8::new(0);

/// Whether the process's log shows request events, when [`install`] set it up (`None`
/// otherwise: a test's own subscriber decides).
pub fn request_events() -> Option<bool> {
    match REQUEST_EVENTS.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n == 2),
    }
}

/// Flushes the log when dropped.
#[must_use = "the log is flushed when the guard is dropped"]
pub struct LogGuard(());

impl Drop for LogGuard {
    fn drop(&mut self) {
        flush();
    }
}

/// Waits until every line logged so far is written to stderr. Call it before printing to
/// stderr directly, so a summary never comes out above the warnings that preceded it.
pub fn flush() {
    if WRITER.get().is_some() {
        LINES.write_to(&mut std::io::stderr().lock(), json_installed());
    }
}

/// The writer thread, started by the first [`install`].
static WRITER: OnceLock<()> = OnceLock::new();

/// The lines on their way to stderr.
static LINES: Lines = Lines::new();

/// The process's log is JSON (set by [`install`]): see [`JsonLine`].
static JSON_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether the process's log is JSON, so an event whose fields the caller knows may be written
/// as a [`JsonLine`] instead of going through `tracing`. Only [`install`] sets it: a test's
/// own subscriber (`capture`) always sees the events.
pub fn json_installed() -> bool {
    JSON_INSTALLED.load(Ordering::Relaxed)
}

/// A line the writer thread formats, not the thread that logs it: a request's event. Formatted
/// on the request's path, at the end of every response, it cost a replayed request more than
/// its hand-over does: the formatting code and data evicted the request path's from the
/// worker's caches, once per request, where the writer formats a batch of them at once.
pub trait Deferred: Send {
    /// The line (unfinished: the writer ends it).
    fn line(self: Box<Self>) -> JsonLine;
}

/// Hands `line` to the writer, which formats it in order with the lines around it; never
/// waits for a write (when 50,000 lines wait already it is dropped, and counted).
pub fn defer(line: Box<dyn Deferred>) {
    LINES.defer(line);
}

/// Deferred lines that may wait for the writer before new ones are dropped (and counted):
/// about as many request events as [`PENDING_LIMIT`] holds formatted.
const DEFERRED_LIMIT: usize = 50_000;

/// What waits for stderr: formatted lines, and deferred ones, each with the length `bytes`
/// had when it came, which is where it goes.
struct Pending {
    bytes: Vec<u8>,
    deferred: Vec<(usize, Box<dyn Deferred>)>,
}

impl Pending {
    const fn new() -> Pending {
        Pending {
            bytes: Vec::new(),
            deferred: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.deferred.is_empty()
    }
}

/// Lines waiting for stderr: one buffer every thread appends its lines to, taken whole by
/// whoever writes. A channel of one `String` per line cost a replayed request more than
/// formatting its line did: an allocation freed on another thread, and the channel's slots
/// passed between cores, per line.
struct Lines {
    pending: Mutex<Pending>,
    /// Signalled when `pending` stops being empty.
    ready: Condvar,
    /// Held while taken lines are written, so a [`flush`] from another thread keeps their
    /// order; holds what the next lines are taken into, and the buffer they are written from.
    writing: Mutex<(Pending, Vec<u8>)>,
    /// Lines not written because [`PENDING_LIMIT`] bytes, or [`DEFERRED_LIMIT`] deferred
    /// lines, were already waiting.
    dropped: AtomicU64,
}

impl Lines {
    const fn new() -> Lines {
        Lines {
            pending: Mutex::new(Pending::new()),
            ready: Condvar::new(),
            writing: Mutex::new((Pending::new(), Vec::new())),
            dropped: AtomicU64::new(0),
        }
    }

    /// Appends a whole line; never waits for a write (a full buffer drops it, and counts it).
    fn push(&self, line: &str) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        if pending.bytes.len() + line.len() > PENDING_LIMIT {
            drop(pending);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was_empty = pending.is_empty();
        pending.bytes.extend_from_slice(line.as_bytes());
        drop(pending);
        if was_empty {
            self.ready.notify_one();
        }
    }

    /// Queues a line for the writer to format; as [`Lines::push`] otherwise.
    fn defer(&self, line: Box<dyn Deferred>) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        if pending.deferred.len() >= DEFERRED_LIMIT {
            drop(pending);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            // Dropped outside the lock: the line may own much.
            drop(line);
            return;
        }
        let was_empty = pending.is_empty();
        let at = pending.bytes.len();
        pending.deferred.push((at, line));
        drop(pending);
        if was_empty {
            self.ready.notify_one();
        }
    }

    /// Blocks until a line is pending.
    fn wait(&self) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        while pending.is_empty() {
            pending = match self.ready.wait(pending) {
                Ok(pending) => pending,
                Err(_) => return,
            };
        }
    }

    /// Writes what is pending to `out` in one write, deferred lines formatted in their places,
    /// and a warning if lines were dropped (a JSON object when the log is `json`).
    fn write_to(&self, out: &mut impl std::io::Write, json: bool) {
        let Ok(mut writing) = self.writing.lock() else {
            return;
        };
        let (taken, buffer) = &mut *writing;
        if let Ok(mut pending) = self.pending.lock() {
            std::mem::swap(&mut *pending, taken);
        }
        // Without deferred lines (a text log) the formatted ones are written as they are.
        let written = match taken.deferred.is_empty() {
            true => &mut taken.bytes,
            false => {
                let mut from = 0;
                for (at, line) in taken.deferred.drain(..) {
                    buffer.extend_from_slice(&taken.bytes[from..at]);
                    let line = line.line().finish();
                    buffer.extend_from_slice(line.as_bytes());
                    give_back(line);
                    from = at;
                }
                buffer.extend_from_slice(&taken.bytes[from..]);
                &mut *buffer
            }
        };
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            const WHY: &str = "log line(s) dropped: stderr could not keep up";
            if json {
                let mut line = JsonLine::new(Level::WARN, module_path!(), WHY);
                line.u64(json_key!("dropped"), Some(dropped));
                written.extend_from_slice(line.finish().as_bytes());
            } else {
                let _ = writeln!(written, "traceforge: warning: {dropped} {WHY}");
            }
        }
        if !written.is_empty() {
            let _ = out.write_all(written);
            let _ = out.flush();
        }
        // A burst's buffers are not kept for the rest of the run.
        for bytes in [&mut taken.bytes, buffer] {
            bytes.clear();
            bytes.shrink_to(KEEP_CAPACITY);
        }
        taken.deferred.shrink_to(KEEP_DEFERRED);
    }
}

/// Starts the writer thread: it waits for lines, lets more gather for [`BATCH_PAUSE`], and
/// writes them all at once.
fn start_writer() {
    let spawned = std::thread::Builder::new()
        .name("traceforge-logs".into())
        .spawn(|| loop {
            LINES.wait();
            // Lines gather meanwhile and go out in one write: under load, waking this thread
            // per line cost the proxy more than formatting the lines did.
            std::thread::sleep(BATCH_PAUSE);
            LINES.write_to(&mut std::io::stderr().lock(), json_installed());
        });
    if spawned.is_err() {
        // No thread: lines are written by `flush` (at the end of `main` at the latest).
        LINES.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where a [`LineLayer`] puts its lines: the process's log, or a test's list.
enum Sink {
    Log,
    #[cfg(test)]
    Capture(Arc<Mutex<Vec<String>>>),
}

impl Sink {
    fn put(&self, line: String) {
        match self {
            Sink::Log => LINES.push(&line),
            #[cfg(test)]
            Sink::Capture(lines) => lines.lock().unwrap().push(line),
        }
    }
}

/// Formats each event that passes the filter into one line for the writer.
struct LineLayer {
    format: LogFormat,
    sink: Sink,
}

impl<S: Subscriber> Layer<S> for LineLayer {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let metadata = event.metadata();
        let line = match self.format {
            LogFormat::Text => {
                let mut fields = Fields::default();
                event.record(&mut fields);
                text_line(*metadata.level(), metadata.target(), &fields)
            }
            LogFormat::Json => json_line(event),
        };
        self.sink.put(line);
    }
}

/// An event's fields in the order they were given.
#[derive(Debug, Default)]
struct Fields {
    message: String,
    report: Option<String>,
    rest: Vec<(&'static str, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("message", Value::String(text)) => self.message = text,
            ("report", Value::String(text)) => self.report = Some(text),
            (name, value) => self.rest.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%value` arrives here too, as a Debug that prints the Display.
        self.put(field, Value::String(format!("{value:?}")));
    }
}

/// `traceforge: warning: …` as the servers always printed: notes about a request read as a
/// sentence, other warnings and errors say what they are. Info and debug events add their
/// fields as `key=value`; a `report` is printed whole instead of the message.
fn text_line(level: Level, target: &str, fields: &Fields) -> String {
    let mut line = String::from("traceforge: ");
    if target != REQUEST_TARGET {
        line.push_str(match level {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        });
    }
    if let Some(report) = &fields.report {
        line.push_str(report.trim_end());
        line.push('\n');
        return line;
    }
    line.push_str(&fields.message);
    if level > Level::WARN {
        for (name, value) in &fields.rest {
            let _ = match value {
                Value::String(text) if text.is_empty() || text.contains([' ', '"', '=']) => {
                    write!(line, " {name}={text:?}")
                }
                Value::String(text) => write!(line, " {name}={text}"),
                other => write!(line, " {name}={other}"),
            };
        }
    }
    line.push('\n');
    line
}

/// One JSON object: `timestamp` (RFC 3339, UTC, microseconds), `level`, `target`, `message`,
/// then the event's fields at the top level. Written straight into the line, field by field:
/// at one event per request this runs as often as the proxy answers.
fn json_line(event: &Event<'_>) -> String {
    let metadata = event.metadata();
    // Room for a request's event, so the fields are not copied as they grow.
    let mut fields = JsonFields {
        message: String::new(),
        rest: String::with_capacity(384),
    };
    event.record(&mut fields);
    let mut line = JsonLine::with_capacity(
        *metadata.level(),
        metadata.target(),
        &fields.message,
        fields.rest.len(),
    );
    line.0.push_str(&fields.rest);
    line.finish()
}

/// A field's name as a [`JsonLine`] writes it before the value: `,"name":`, made once by
/// `json_key!` from a literal (one copy per field instead of three).
#[derive(Debug, Clone, Copy)]
pub struct Key(&'static str);

impl Key {
    /// Use `json_key!`: `text` must be `,"name":` with a name that needs no escape.
    pub(crate) const fn new_unchecked(text: &'static str) -> Key {
        Key(text)
    }
}

/// The [`Key`] of a field name (a Rust identifier: nothing to escape).
macro_rules! json_key {
    ($name:literal) => {
        $crate::telemetry::logs::Key::new_unchecked(concat!(",\"", $name, "\":"))
    };
}
pub(crate) use json_key;

/// A JSON log line written field by field by a caller that knows its fields: the same object
/// `json_line` makes of an event, without the event. The request event, one per request, is
/// written this way when the log is JSON ([`json_installed`]): through `tracing`'s visitor it
/// cost a replayed request more than its answer did. Absent fields are left out, as an
/// event's `None` fields are.
pub struct JsonLine(String);

impl JsonLine {
    /// `timestamp`, `level`, `target` and `message`.
    pub fn new(level: Level, target: &str, message: &str) -> JsonLine {
        JsonLine::with_capacity(level, target, message, 320)
    }

    /// [`JsonLine::new`] for an event whose level, target and message never change, given
    /// as the text after the timestamp's closing quote: `,"level":…,"message":"…"` (a test
    /// compares it with what [`JsonLine::new`] writes), that happened `at` (a clock reading
    /// the caller has: the line costs no reading of its own).
    pub fn with_head(head: &'static str, at: Instant) -> JsonLine {
        // The thread's last line's string, if it gave it back ([`give_back`]).
        let mut line = SPARE.take();
        line.reserve(96 + head.len() + 320);
        open(&mut line, wall_time(at));
        line.push_str(head);
        JsonLine(line)
    }

    fn with_capacity(level: Level, target: &str, message: &str, fields: usize) -> JsonLine {
        let mut line = opened(96 + target.len() + message.len() + fields);
        line.push_str(",\"level\":\"");
        line.push_str(level.as_str());
        line.push_str("\",\"target\":");
        push_json_string(&mut line, target);
        line.push_str(",\"message\":");
        push_json_string(&mut line, message);
        JsonLine(line)
    }

    /// No line: fields alone (`,"name":value…`), as a line writes them, for a caller that
    /// puts the same fields into many lines with [`JsonLine::raw`].
    pub fn fields() -> JsonLine {
        JsonLine(String::new())
    }

    /// The fields written (of a [`JsonLine::fields`]).
    pub fn into_fields(self) -> String {
        self.0
    }

    /// Appends `json`: whole fields, `,"name":value…`, written by a [`JsonLine`] (from
    /// [`JsonLine::fields`]) or literal ones that need no escape.
    pub fn raw(&mut self, json: &str) -> &mut JsonLine {
        debug_assert!(json.is_empty() || json.starts_with(",\""), "{json:?}");
        self.0.push_str(json);
        self
    }

    pub fn str(&mut self, key: Key, value: Option<&str>) -> &mut JsonLine {
        if let Some(value) = value {
            self.0.push_str(key.0);
            push_json_string(&mut self.0, value);
        }
        self
    }

    /// [`JsonLine::str`] for a value that needs no escape: a name from a fixed set, a token
    /// such as an HTTP method, hex digits. Checked in debug builds.
    pub fn name(&mut self, key: Key, value: Option<&str>) -> &mut JsonLine {
        if let Some(value) = value {
            debug_assert!(!needs_escape(value.as_bytes()), "{value:?}");
            self.0.push_str(key.0);
            self.0.push('"');
            self.0.push_str(value);
            self.0.push('"');
        }
        self
    }

    pub fn u64(&mut self, key: Key, value: Option<u64>) -> &mut JsonLine {
        if let Some(value) = value {
            self.0.push_str(key.0);
            self.0.push_str(itoa::Buffer::new().format(value));
        }
        self
    }

    /// A duration in milliseconds to the microsecond, the number an event's `f64` of
    /// `micros / 1000` gives (`0.285`, `12.0`), written with integers only.
    pub fn millis(&mut self, key: Key, value: Option<std::time::Duration>) -> &mut JsonLine {
        if let Some(value) = value {
            self.0.push_str(key.0);
            // Past u64 microseconds (585,000 years) the duration is saturated.
            let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
            let mut digits = itoa::Buffer::new();
            self.0.push_str(digits.format(micros / 1000));
            self.0.push('.');
            let mut fraction = (micros % 1000) as u32;
            match fraction {
                0 => self.0.push('0'),
                _ => {
                    let mut width = 3;
                    while fraction.is_multiple_of(10) {
                        fraction /= 10;
                        width -= 1;
                    }
                    let formatted = digits.format(fraction);
                    for _ in formatted.len()..width {
                        self.0.push('0');
                    }
                    self.0.push_str(formatted);
                }
            }
        }
        self
    }

    pub(crate) fn finish(mut self) -> String {
        self.0.push_str("}\n");
        self.0
    }
}

/// Keeps a written line's string for the thread's next line, unless it grew big.
fn give_back(mut line: String) {
    if line.capacity() <= SPARE_CAPACITY {
        line.clear();
        SPARE.set(line);
    }
}

thread_local! {
    /// A string a sent line gave back, for the thread's next: one allocation fewer per line.
    static SPARE: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// A line's string bigger than this is not kept for the next.
const SPARE_CAPACITY: usize = 4096;

/// An event's fields as `,"name":value` JSON text; the message apart, and no `report`.
struct JsonFields {
    message: String,
    rest: String,
}

impl JsonFields {
    fn key(&mut self, field: &Field) -> bool {
        match field.name() {
            "message" | "report" => false,
            name => {
                push_key(&mut self.rest, name);
                true
            }
        }
    }
}

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else if self.key(field) {
            push_json_string(&mut self.rest, value);
        }
    }

    // Numbers with itoa and ryu (serde_json's own): `write!` through `fmt` cost a request's
    // event more than all its strings did.
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.key(field) {
            self.rest.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field) {
            self.rest.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.key(field) {
            match value.is_finite() {
                true => self.rest.push_str(ryu::Buffer::new().format_finite(value)),
                false => self.rest.push_str("null"),
            }
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field) {
            self.rest.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else if self.key(field) {
            push_json_string(&mut self.rest, &format!("{value:?}"));
        }
    }
}

/// `,"name":`, before a field's value. Names are Rust identifiers: nothing to escape.
fn push_key(out: &mut String, name: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

/// `text` as a JSON string, quoted and escaped. Most strings need no escape, which is checked
/// eight bytes at a time; the others are scanned by byte (only ASCII is ever escaped), the
/// runs between escapes copied whole.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    if !needs_escape(text.as_bytes()) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (at, &byte) in text.as_bytes().iter().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..at]);
        match escape {
            "" => {
                let _ = write!(out, "\\u{byte:04x}");
            }
            escape => out.push_str(escape),
        }
        start = at + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Whether any byte is a control character, `"` or `\\`. Word by word: a byte's high bit is
/// set in `has_less(x, n)` when that byte of `x` is below `n` (exact for bytes under 0x80;
/// bytes at or above 0x80 are masked out by `!x`), and a byte equal to `c` is a zero byte
/// of `x ^ c`.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        let found = has_less(x, 0x20)
            | has_less(x ^ (ONES * u64::from(b'"')), 1)
            | has_less(x ^ (ONES * u64::from(b'\\')), 1);
        if found != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A line's start of now, `{"timestamp":"…"`, in a string with room for `capacity` bytes.
fn opened(capacity: usize) -> String {
    let mut line = String::with_capacity(capacity);
    open(&mut line, since_epoch(SystemTime::now()));
    line
}

/// Appends a line's start, `{"timestamp":"…"`, of `now` (since the Unix epoch).
fn open(line: &mut String, now: Duration) {
    line.push_str("{\"timestamp\":\"");
    timestamp(line, now);
    line.push('"');
}

fn since_epoch(at: SystemTime) -> Duration {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// How long a thread's pairing of the monotonic and the wall clock is used by [`wall_time`].
const WALL_BASE_LIFE: Duration = Duration::from_millis(100);

/// The wall-clock time of `at`, since the Unix epoch, without a clock reading: from the two
/// clocks read together on this thread less than [`WALL_BASE_LIFE`] before or after it (the kernel slews
/// both alike, so only a step of the wall clock shows late, by that much at most).
fn wall_time(at: Instant) -> Duration {
    thread_local! {
        static BASE: std::cell::Cell<Option<(Instant, Duration)>> =
            const { std::cell::Cell::new(None) };
    }
    BASE.with(|base| {
        if let Some((instant, wall)) = base.get() {
            // Either side of the pairing: the log's writer formats the request events of
            // the last few milliseconds.
            match at.checked_duration_since(instant) {
                Some(since) if since < WALL_BASE_LIFE => return wall + since,
                None if instant.duration_since(at) < WALL_BASE_LIFE => {
                    return wall.saturating_sub(instant.duration_since(at))
                }
                _ => {}
            }
        }
        let wall = since_epoch(SystemTime::now());
        let instant = Instant::now();
        base.set(Some((instant, wall)));
        match at.checked_duration_since(instant) {
            Some(since) => wall + since,
            None => wall.saturating_sub(instant.duration_since(at)),
        }
    })
}

/// `now` (since the Unix epoch) as `2026-11-30T04:19:32.849949Z`. The date and time to the
/// second are formatted once per second per thread.
fn timestamp(out: &mut String, now: Duration) {
    thread_local! {
        static SECOND: std::cell::RefCell<(i64, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let seconds = now.as_secs() as i64;
    SECOND.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != seconds {
            let formatted = chrono::DateTime::from_timestamp(seconds, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_default();
            *cached = (seconds, formatted);
        }
        out.push_str(&cached.1);
    });
    // `.{:06}Z` without `fmt`: six digits, zero-padded.
    let mut micros = now.subsec_micros();
    let mut digits = [b'0'; 8];
    digits[0] = b'.';
    digits[7] = b'Z';
    for digit in digits[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    out.push_str(std::str::from_utf8(&digits).unwrap_or(".000000Z"));
}

/// Installs `config` on the current thread only, for tests: returns the lines an action logs.
#[cfg(test)]
pub(crate) fn capture(format: LogFormat, directives: &str, action: impl FnOnce()) -> Vec<String> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let layer = LineLayer {
        format,
        sink: Sink::Capture(lines.clone()),
    };
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new(directives))
        .with(layer);
    tracing::subscriber::with_default(subscriber, action);
    let captured = std::mem::take(&mut *lines.lock().unwrap());
    captured
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(env: Option<&str>, verbose: u8, quiet: bool, format: LogFormat) -> String {
        LogConfig::resolve(format, env.map(Into::into), verbose, quiet)
            .unwrap()
            .directives
    }

    #[test]
    fn the_variable_wins_then_the_flags_then_the_formats_default() {
        assert_eq!(resolve(None, 0, false, LogFormat::Text), "warn");
        assert_eq!(resolve(None, 0, false, LogFormat::Json), "info");
        assert_eq!(resolve(None, 1, false, LogFormat::Text), "info");
        assert_eq!(resolve(None, 2, false, LogFormat::Text), "debug");
        assert_eq!(resolve(None, 3, false, LogFormat::Json), "debug");
        assert_eq!(resolve(None, 2, true, LogFormat::Json), "warn");
        assert_eq!(
            resolve(Some("traceforge::request=info"), 2, true, LogFormat::Text),
            "traceforge::request=info"
        );
        assert_eq!(resolve(Some("  "), 1, false, LogFormat::Text), "info");
    }

    #[test]
    fn a_bad_filter_names_the_variable() {
        let error = LogConfig::resolve(LogFormat::Text, Some("info,foo=loud".into()), 0, false)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("TRACEFORGE_LOG=\"info,foo=loud\": not a log filter"),
            "{error}"
        );
    }

    #[test]
    fn json_strings_are_escaped_as_json_wants() {
        for text in [
            "plain",
            "quote \" and \\ slash",
            "line\nbreak\ttab\r",
            "bell \u{7} é ✓",
            "",
        ] {
            let mut out = String::new();
            push_json_string(&mut out, text);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text, "{out}");
        }
        let mut stamp = String::new();
        timestamp(&mut stamp, since_epoch(SystemTime::now()));
        assert!(
            chrono::DateTime::parse_from_rfc3339(&stamp).is_ok() && stamp.len() == 27,
            "{stamp}"
        );
    }

    /// A reading of the monotonic clock becomes the wall-clock time it was read at, whether
    /// it is later or earlier than the thread's pairing of the two clocks, or too late for it.
    #[test]
    fn a_monotonic_reading_gives_the_wall_time_it_was_taken_at() {
        // `got` is `shift` from a moment read between the wall-clock readings `before` and
        // `after`, within a millisecond (the pairing's two reads are not one instant).
        let close = |got: Duration, before: Duration, after: Duration, shift: i64| {
            let slack = Duration::from_millis(1);
            let by = Duration::from_millis(shift.unsigned_abs());
            let (before, after) = match shift >= 0 {
                true => (before + by, after + by),
                false => (before - by, after - by),
            };
            assert!(
                got + slack >= before && got <= after + slack,
                "{got:?} not within {before:?}..{after:?}"
            );
        };
        let before = since_epoch(SystemTime::now());
        let now = Instant::now();
        let after = since_epoch(SystemTime::now());
        // The thread's first: a fresh pairing, the moment is before it.
        close(wall_time(now), before, after, 0);
        // Earlier than the pairing, within its life: from the pairing.
        close(wall_time(now - Duration::from_millis(2)), before, after, -2);
        // Later, within its life: from the pairing.
        close(wall_time(now + Duration::from_millis(3)), before, after, 3);
        // Past its life: paired again, the moment after the new pairing.
        let past = WALL_BASE_LIFE + Duration::from_millis(5);
        let shift = i64::try_from(past.as_millis()).unwrap();
        close(wall_time(now + past), before, after, shift);
        let mut line = String::new();
        timestamp(&mut line, wall_time(now + past));
        let parsed = chrono::DateTime::parse_from_rfc3339(&line).unwrap();
        let micros = u64::try_from(parsed.timestamp_micros()).unwrap();
        close(Duration::from_micros(micros), before, after, shift);
    }

    #[test]
    fn text_keeps_the_old_lines_and_json_is_one_object_per_line() {
        let log = || {
            tracing::warn!("a cassette cannot be read");
            tracing::warn!(target: REQUEST_TARGET, request_id = "r1", "blocked by policy `p`");
            tracing::warn!(
                target: REQUEST_TARGET,
                report = "replay miss in cassette \"c\"\n  why: x\n",
                "replay miss"
            );
            tracing::info!(target: REQUEST_TARGET, status = 200u64, path = "/openai/v1/x", cassette = "my tests", "request");
            tracing::debug!("not shown");
        };
        let text = capture(LogFormat::Text, "info", log);
        assert_eq!(
            text,
            [
                "traceforge: warning: a cassette cannot be read\n",
                "traceforge: blocked by policy `p`\n",
                "traceforge: replay miss in cassette \"c\"\n  why: x\n",
                "traceforge: request status=200 path=/openai/v1/x cassette=\"my tests\"\n",
            ]
        );
        let json = capture(LogFormat::Json, "info", log);
        assert_eq!(json.len(), 4);
        let objects: Vec<Value> = json
            .iter()
            .map(|line| {
                assert!(
                    line.ends_with('\n') && !line.trim_end().contains('\n'),
                    "{line}"
                );
                serde_json::from_str(line).unwrap()
            })
            .collect();
        assert_eq!(objects[1]["level"], "WARN");
        assert_eq!(objects[1]["target"], REQUEST_TARGET);
        assert_eq!(objects[1]["request_id"], "r1");
        assert_eq!(objects[2]["message"], "replay miss");
        assert!(objects[2].get("report").is_none(), "{}", objects[2]);
        assert_eq!(objects[3]["status"], 200);
        assert_eq!(objects[3]["cassette"], "my tests");
        assert!(objects[3]["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn json_numbers_are_json_numbers() {
        let json = capture(LogFormat::Json, "info", || {
            tracing::info!(
                big = u64::MAX,
                negative = -7i64,
                ms = 0.402f64,
                whole = 3.0f64,
                tiny = 1e-7f64,
                nan = f64::NAN,
                "numbers"
            );
        });
        let object: Value = serde_json::from_str(&json[0]).unwrap();
        assert_eq!(object["big"], u64::MAX);
        assert_eq!(object["negative"], -7);
        assert_eq!(object["ms"], 0.402);
        assert_eq!(object["whole"], 3.0);
        assert_eq!(object["tiny"], 1e-7);
        assert_eq!(object["nan"], Value::Null);
    }

    #[test]
    fn the_word_check_finds_what_needs_an_escape_wherever_it_is() {
        let naive = |bytes: &[u8]| bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for byte in 0..=255u8 {
            for at in 0..19 {
                let mut bytes = vec![b'a'; 19];
                // Neighbours that sit next to the bounds the borrow trick works with.
                bytes[(at + 1) % 19] = 0xff;
                bytes[(at + 2) % 19] = b'!';
                bytes[at] = byte;
                assert_eq!(needs_escape(&bytes), naive(&bytes), "{byte:#x} at {at}");
            }
        }
        assert!(!needs_escape("déjà vu — naïve ☃ 日本".as_bytes()));
        assert!(needs_escape("déjà vu — naïve ☃ 日本\u{7f}\"".as_bytes()));
    }

    /// A line formatted when it is written: `message`'s.
    struct Later(&'static str);

    impl Deferred for Later {
        fn line(self: Box<Self>) -> JsonLine {
            JsonLine::new(Level::INFO, "test", self.0)
        }
    }

    #[test]
    fn deferred_lines_are_formatted_in_their_places_and_what_does_not_fit_is_counted() {
        let messages = |out: Vec<u8>| -> Vec<String> {
            String::from_utf8(out)
                .unwrap()
                .lines()
                .map(|line| {
                    let object: serde_json::Value = serde_json::from_str(line).unwrap();
                    object["message"].as_str().unwrap().to_string()
                })
                .collect()
        };
        let lines = Lines::new();
        lines.push("{\"message\":\"one\"}\n");
        lines.defer(Box::new(Later("two")));
        lines.defer(Box::new(Later("three")));
        lines.push("{\"message\":\"four\"}\n");
        lines.defer(Box::new(Later("five")));
        let mut out = Vec::new();
        lines.write_to(&mut out, true);
        assert_eq!(messages(out), ["one", "two", "three", "four", "five"]);
        // Only deferred lines, then only formatted ones: each batch alone.
        lines.defer(Box::new(Later("six")));
        let mut out = Vec::new();
        lines.write_to(&mut out, true);
        assert_eq!(messages(out), ["six"]);
        lines.push("{\"message\":\"seven\"}\n");
        let mut out = Vec::new();
        lines.write_to(&mut out, true);
        assert_eq!(messages(out), ["seven"]);
        // A full queue drops the next line and counts it.
        for _ in 0..DEFERRED_LIMIT {
            lines.defer(Box::new(Later("kept")));
        }
        lines.defer(Box::new(Later("dropped")));
        let mut out = Vec::new();
        lines.write_to(&mut out, true);
        let written = messages(out);
        assert_eq!(written.len(), DEFERRED_LIMIT + 1);
        assert!(written[..DEFERRED_LIMIT].iter().all(|m| m == "kept"));
        assert_eq!(
            written[DEFERRED_LIMIT],
            "log line(s) dropped: stderr could not keep up"
        );
    }

    #[test]
    fn lines_come_out_whole_and_in_order_and_what_does_not_fit_is_counted() {
        let lines = Lines::new();
        let big = format!("{}\n", "x".repeat((1 << 20) - 1));
        for _ in 0..16 {
            lines.push(&big);
        }
        lines.push("one too many\n");
        lines.push(&big);
        let mut out = Vec::new();
        lines.write_to(&mut out, false);
        let text = String::from_utf8(out).unwrap();
        let written: Vec<&str> = text.lines().collect();
        assert_eq!(written.len(), 17, "16 lines and the warning");
        assert!(written[..16].iter().all(|l| l.len() == (1 << 20) - 1));
        assert_eq!(
            written[16],
            "traceforge: warning: 2 log line(s) dropped: stderr could not keep up"
        );
        // Taken whole: the next write has only what came after.
        lines.push("a\n");
        lines.push("b\n");
        let mut out = Vec::new();
        lines.write_to(&mut out, false);
        assert_eq!(out, b"a\nb\n");
        // In a JSON log the warning is an object of its own, like every other line.
        for _ in 0..17 {
            lines.push(&big);
        }
        let mut out = Vec::new();
        lines.write_to(&mut out, true);
        let text = String::from_utf8(out).unwrap();
        let warning: serde_json::Value =
            serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(warning["level"], "WARN");
        assert_eq!(warning["dropped"], 1);
        assert_eq!(
            warning["message"],
            "log line(s) dropped: stderr could not keep up"
        );
    }
}
