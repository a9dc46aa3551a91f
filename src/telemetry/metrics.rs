//! The process's Prometheus metrics: counters, gauges and histograms kept in atomics, and the
//! text exposition format (0.0.4) written by hand from them at scrape time.
//!
//! Everything is counted into a fixed set of series: label values either come from a short
//! list the code knows (mode, status class, severity) or pass through a [`BoundedValues`] that
//! admits the first few distinct values and counts the rest as `other`, so a client sending a
//! new model name with every request cannot grow memory or the scrape. A scrape after ten
//! million requests therefore costs what one after ten does.
//!
//! The registry is owned by the process ([`global`]); the proxy, the trace writer and the
//! servers count into it, and `/_traceforge/metrics` renders it. Other parts (the OTLP
//! exporter, say) register their own metrics with [`Registry::counter`] and friends on
//! [`global`]`().registry`. This module must not know about HTTP, the proxy or the store.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher as _, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label value that stands for every value beyond a family's or a label's limit.
pub const OTHER: &str = "other";

/// How many distinct values a bounded label (model, upstream, PII entity) takes before the
/// rest are counted as [`OTHER`].
pub const LABEL_VALUES: usize = 50;

/// How many series one family holds at most; beyond it every new combination of label values
/// is counted under `other` in every label. Only a bug in a caller (an unbounded value passed
/// without a [`BoundedValues`]) reaches it; it keeps such a bug from growing memory.
const SERIES_PER_FAMILY: usize = 10_000;

/// How long a session counts as active after its last request.
pub const SESSION_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The most sessions tracked at once; beyond it new sessions are not counted until old ones
/// expire, so a flood of session ids costs at most a few megabytes.
const SESSIONS_TRACKED: usize = 100_000;

/// Buckets (seconds) for request and upstream latencies: sub-millisecond replays to
/// minute-long streams.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0,
];

/// Buckets (seconds) for one commit of the trace writer.
pub const STORAGE_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram of durations over fixed buckets: one atomic per bucket and one for the sum
/// (in nanoseconds), so observing is a scan of a few bounds and two atomic adds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last one is `+Inf`.
    counts: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many observations there were.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// A metric with labels: one series per distinct combination of label values, created on
/// first use. Looking a series up takes a read lock and no allocation.
pub struct Family<S> {
    labels: &'static [&'static str],
    series: RwLock<foldhash::HashMap<Box<str>, Arc<Series<S>>>>,
    make: Box<dyn Fn() -> S + Send + Sync>,
}

impl<S> std::fmt::Debug for Family<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("labels", &self.labels)
            .finish()
    }
}

#[derive(Debug)]
struct Series<S> {
    values: Box<[Box<str>]>,
    metric: S,
}

/// One series of a [`Family`], held by whoever counts into it (see [`Family::handle`]).
#[derive(Debug)]
pub struct Handle<S>(Arc<Series<S>>);

impl<S> Clone for Handle<S> {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

impl<S> std::ops::Deref for Handle<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.0.metric
    }
}

thread_local! {
    /// The lookup key of a family's series, built here so that counting allocates nothing.
    static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl<S> Family<S> {
    fn new(
        labels: &'static [&'static str],
        make: impl Fn() -> S + Send + Sync + 'static,
    ) -> Family<S> {
        Family {
            labels,
            series: RwLock::new(foldhash::HashMap::default()),
            make: Box::new(make),
        }
    }

    /// Runs `f` on the series with these label values (one per label, in order), creating it
    /// if it is new. `f` runs under the read lock: cloning the series' `Arc` out would add two
    /// atomic operations on a line every worker shares, per count.
    pub fn with<R>(&self, values: &[&str], f: impl FnOnce(&S) -> R) -> R {
        self.find(values, |series| f(&series.metric))
    }

    /// The series of `values`, resolved once: counting through a [`Handle`] hashes no label
    /// and takes no lock, for a caller that counts the same labels again and again (a route,
    /// a replayed interaction). Bounded like [`Family::with`]: past the family's limit it is
    /// the `other` series.
    pub fn handle(&self, values: &[&str]) -> Handle<S> {
        self.find(values, |series| Handle(series.clone()))
    }

    /// Calls `f` with the series of `values` (made if new), its key built in a buffer kept
    /// per thread.
    fn find<R>(&self, values: &[&str], f: impl FnOnce(&Arc<Series<S>>) -> R) -> R {
        debug_assert_eq!(values.len(), self.labels.len(), "{:?}", self.labels);
        KEY.with(|key| {
            let mut key = key.borrow_mut();
            key.clear();
            write_key(&mut key, values);
            if let Ok(map) = self.series.read() {
                if let Some(series) = map.get(&**key) {
                    return f(series);
                }
            }
            f(&self.insert(&key, values))
        })
    }

    fn insert(&self, key: &str, values: &[&str]) -> Arc<Series<S>> {
        let Ok(mut map) = self.series.write() else {
            // A panic while the lock was held: count into a detached series rather than fail.
            return Arc::new(Series {
                values: Box::new([]),
                metric: (self.make)(),
            });
        };
        if let Some(series) = map.get(key) {
            return series.clone();
        }
        let (key, values): (Box<str>, Vec<&str>) = if map.len() >= SERIES_PER_FAMILY {
            let values = vec![OTHER; values.len()];
            let mut key = String::new();
            write_key(&mut key, &values);
            (key.into(), values)
        } else {
            (key.into(), values.to_vec())
        };
        map.entry(key)
            .or_insert_with(|| {
                Arc::new(Series {
                    values: values.iter().map(|v| Box::from(*v)).collect(),
                    metric: (self.make)(),
                })
            })
            .clone()
    }

    /// The series sorted by their label values, for a stable exposition.
    fn sorted(&self) -> Vec<Arc<Series<S>>> {
        let mut all: Vec<Arc<Series<S>>> = self
            .series
            .read()
            .map(|map| map.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.values.cmp(&b.values));
        all
    }
}

/// A series' key in its family's map: each label value followed by a separator no label value
/// worth keeping apart contains (one that does only shares a series with a look-alike, each
/// keeping its own values for display).
fn write_key(key: &mut String, values: &[&str]) {
    for value in values {
        key.push_str(value);
        key.push('\u{1f}');
    }
}

impl Family<Counter> {
    pub fn inc(&self, values: &[&str]) {
        self.with(values, Counter::inc);
    }

    pub fn add(&self, values: &[&str], n: u64) {
        self.with(values, |c| c.add(n));
    }

    /// The count of one series (0 if it was never counted).
    pub fn get(&self, values: &[&str]) -> u64 {
        self.with(values, Counter::get)
    }
}

impl Family<Histogram> {
    pub fn observe(&self, values: &[&str], duration: Duration) {
        self.with(values, |h| h.observe(duration));
    }
}

/// A label whose values come from outside (model names, upstream names): the first `limit`
/// distinct values are kept, later ones become [`OTHER`]. Admitted values live as long as the
/// process (at most `limit` of them, and a family's series keep them anyway), so admitting a
/// known value hands back the kept one and allocates nothing.
#[derive(Debug)]
pub struct BoundedValues {
    seen: RwLock<foldhash::HashSet<&'static str>>,
    limit: usize,
}

impl BoundedValues {
    pub fn new(limit: usize) -> BoundedValues {
        BoundedValues {
            seen: RwLock::new(foldhash::HashSet::default()),
            limit,
        }
    }

    /// `value` if it is one of the admitted values (admitting it if there is room), else
    /// [`OTHER`].
    pub fn admit(&self, value: &str) -> &'static str {
        if let Some(kept) = self
            .seen
            .read()
            .ok()
            .and_then(|seen| seen.get(value).copied())
        {
            return kept;
        }
        let Ok(mut seen) = self.seen.write() else {
            return OTHER;
        };
        if let Some(kept) = seen.get(value) {
            return kept;
        }
        if seen.len() >= self.limit {
            return OTHER;
        }
        let kept: &'static str = Box::leak(value.into());
        seen.insert(kept);
        kept
    }
}

/// Sessions seen recently, for `traceforge_sessions_active`. Only a keyed hash of each
/// session id is kept (never the id, which a client may fill with anything), with its last
/// sighting; at most 100,000 of them.
#[derive(Debug)]
pub struct ActiveSessions {
    hasher: RandomState,
    seen: Mutex<HashMap<u64, Instant>>,
    window: Duration,
}

impl ActiveSessions {
    pub fn new(window: Duration) -> ActiveSessions {
        ActiveSessions {
            hasher: RandomState::new(),
            seen: Mutex::new(HashMap::new()),
            window,
        }
    }

    /// Notes a request of `session` now.
    pub fn saw(&self, session: &str) {
        self.saw_at(session, Instant::now());
    }

    fn saw_at(&self, session: &str, now: Instant) {
        let key = self.hasher.hash_one(session);
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() >= SESSIONS_TRACKED && !seen.contains_key(&key) {
            let window = self.window;
            seen.retain(|_, last| now.saturating_duration_since(*last) < window);
            if seen.len() >= SESSIONS_TRACKED {
                return;
            }
        }
        seen.insert(key, now);
    }

    /// How many sessions were seen within the window before `now`; forgets older ones.
    fn active_at(&self, now: Instant) -> usize {
        let Ok(mut seen) = self.seen.lock() else {
            return 0;
        };
        let window = self.window;
        seen.retain(|_, last| now.saturating_duration_since(*last) < window);
        seen.len()
    }

    pub fn active(&self) -> usize {
        self.active_at(Instant::now())
    }
}

/// What a registered metric reads from at scrape time.
enum Source {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    GaugeFn(Box<dyn Fn() -> f64 + Send + Sync>),
    CounterFn(Box<dyn Fn() -> u64 + Send + Sync>),
    Histogram(Arc<Histogram>),
    Counters(Arc<Family<Counter>>),
    Gauges(Arc<Family<Gauge>>),
    Histograms(Arc<Family<Histogram>>),
}

impl Source {
    fn kind(&self) -> &'static str {
        match self {
            Source::Counter(_) | Source::CounterFn(_) | Source::Counters(_) => "counter",
            Source::Gauge(_) | Source::GaugeFn(_) | Source::Gauges(_) => "gauge",
            Source::Histogram(_) | Source::Histograms(_) => "histogram",
        }
    }
}

struct Registered {
    name: &'static str,
    help: &'static str,
    source: Source,
}

/// A set of metrics rendered together. Registering a name twice returns the first metric
/// (when it is of the same type), so a component started twice in one process counts on.
#[derive(Default)]
pub struct Registry {
    metrics: RwLock<Vec<Registered>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .metrics
            .read()
            .map(|m| m.iter().map(|r| r.name).collect())
            .unwrap_or_default();
        f.debug_struct("Registry").field("metrics", &names).finish()
    }
}

macro_rules! register {
    ($self:ident, $name:ident, $help:ident, $variant:ident, $make:expr) => {{
        debug_assert!(valid_name($name), "metric name {:?}", $name);
        let mut metrics = $self
            .metrics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for registered in metrics.iter() {
            if registered.name == $name {
                if let Source::$variant(existing) = &registered.source {
                    return existing.clone();
                }
                debug_assert!(false, "metric {} registered with two types", $name);
            }
        }
        let metric = Arc::new($make);
        metrics.push(Registered {
            name: $name,
            help: $help,
            source: Source::$variant(metric.clone()),
        });
        metric
    }};
}

impl Registry {
    /// A counter; its name ends in `_total`.
    pub fn counter(&self, name: &'static str, help: &'static str) -> Arc<Counter> {
        debug_assert!(name.ends_with("_total"), "counter {name}");
        register!(self, name, help, Counter, Counter::default())
    }

    /// A counter with labels; its name ends in `_total`.
    pub fn counters(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Arc<Family<Counter>> {
        debug_assert!(name.ends_with("_total"), "counter {name}");
        register!(
            self,
            name,
            help,
            Counters,
            Family::new(labels, Counter::default)
        )
    }

    pub fn gauge(&self, name: &'static str, help: &'static str) -> Arc<Gauge> {
        register!(self, name, help, Gauge, Gauge::default())
    }

    pub fn gauges(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Arc<Family<Gauge>> {
        register!(
            self,
            name,
            help,
            Gauges,
            Family::new(labels, Gauge::default)
        )
    }

    /// A gauge read by calling `read` at each scrape (a file's size, a queue's length).
    pub fn gauge_fn(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        self.register_read(name, help, Source::GaugeFn(Box::new(read)));
    }

    /// A counter kept elsewhere (another module's atomics), read by calling `read` at each
    /// scrape; its name ends in `_total`.
    pub fn counter_fn(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> u64 + Send + Sync + 'static,
    ) {
        debug_assert!(name.ends_with("_total"), "counter {name}");
        self.register_read(name, help, Source::CounterFn(Box::new(read)));
    }

    /// Registers a metric read by a function at each scrape, unless `name` is taken.
    fn register_read(&self, name: &'static str, help: &'static str, source: Source) {
        debug_assert!(valid_name(name), "metric name {name:?}");
        let mut metrics = self
            .metrics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if metrics.iter().any(|m| m.name == name) {
            return;
        }
        metrics.push(Registered { name, help, source });
    }

    /// A histogram of durations, in seconds; its name ends in `_seconds`.
    pub fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        bounds: &'static [f64],
    ) -> Arc<Histogram> {
        register!(self, name, help, Histogram, Histogram::new(bounds))
    }

    pub fn histograms(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        bounds: &'static [f64],
    ) -> Arc<Family<Histogram>> {
        register!(
            self,
            name,
            help,
            Histograms,
            Family::new(labels, move || Histogram::new(bounds))
        )
    }

    /// Every metric in the text exposition format (0.0.4), in registration order.
    pub fn render(&self) -> String {
        let metrics = self
            .metrics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::with_capacity(8 * 1024);
        for metric in metrics.iter() {
            let _ = writeln!(out, "# HELP {} {}", metric.name, escape_help(metric.help));
            let _ = writeln!(out, "# TYPE {} {}", metric.name, metric.source.kind());
            let name = metric.name;
            match &metric.source {
                Source::Counter(c) => sample(&mut out, name, "", &[], &[], c.get() as f64),
                Source::Gauge(g) => sample(&mut out, name, "", &[], &[], g.get() as f64),
                Source::GaugeFn(read) => sample(&mut out, name, "", &[], &[], read()),
                Source::CounterFn(read) => sample(&mut out, name, "", &[], &[], read() as f64),
                Source::Histogram(h) => histogram(&mut out, name, &[], &[], h),
                Source::Counters(family) => {
                    for s in family.sorted() {
                        sample(
                            &mut out,
                            name,
                            "",
                            family.labels,
                            &s.values,
                            s.metric.get() as f64,
                        );
                    }
                }
                Source::Gauges(family) => {
                    for s in family.sorted() {
                        sample(
                            &mut out,
                            name,
                            "",
                            family.labels,
                            &s.values,
                            s.metric.get() as f64,
                        );
                    }
                }
                Source::Histograms(family) => {
                    for s in family.sorted() {
                        histogram(&mut out, name, family.labels, &s.values, &s.metric);
                    }
                }
            }
        }
        out
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// One sample line: `name{label="value",…} value`.
fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[&str],
    values: &[Box<str>],
    value: f64,
) {
    sample_with(out, name, suffix, labels, values, None, value);
}

fn sample_with(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[&str],
    values: &[Box<str>],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    let pairs = labels.iter().zip(values.iter().map(|v| &**v));
    let pairs = pairs.chain(le.map(|le| (&"le", le)));
    let mut first = true;
    for (label, value) in pairs {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(label);
        out.push_str("=\"");
        escape_value(out, value);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
    out.push(' ');
    write_number(out, value);
    out.push('\n');
}

fn histogram(out: &mut String, name: &str, labels: &[&str], values: &[Box<str>], h: &Histogram) {
    let mut cumulative = 0;
    let mut bound_text = String::new();
    for (i, count) in h.counts.iter().enumerate() {
        cumulative += count.load(Ordering::Relaxed);
        bound_text.clear();
        match h.bounds.get(i) {
            Some(bound) => write_number(&mut bound_text, *bound),
            None => bound_text.push_str("+Inf"),
        }
        sample_with(
            out,
            name,
            "_bucket",
            labels,
            values,
            Some(&bound_text),
            cumulative as f64,
        );
    }
    let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
    sample(out, name, "_sum", labels, values, sum);
    sample(out, name, "_count", labels, values, cumulative as f64);
}

/// A sample value as Prometheus writes one (`+Inf`, `NaN`, integers without a fraction).
fn write_number(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}

fn escape_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// The metrics traceforge itself keeps, registered in [`Metrics::registry`] in this order.
#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    /// Labels: upstream, provider, mode (`record` or `replay`), status_class (`2xx`…).
    pub requests: Arc<Family<Counter>>,
    /// Labels: mode. From the request's arrival to its response's head.
    pub request_duration: Arc<Family<Histogram>>,
    /// Labels: upstream. From sending a request upstream to its response's head.
    pub upstream_ttfb: Arc<Family<Histogram>>,
    /// Labels: direction (`input` or `output`), model (bounded by [`Metrics::models`]).
    pub tokens: Arc<Family<Counter>>,
    pub replay_misses: Arc<Counter>,
    /// Streams recorded without their terminal event (the upstream broke off, or the drain
    /// deadline ended them).
    pub incomplete_streams: Arc<Counter>,
    pub storage_write_latency: Arc<Histogram>,
    pub storage_queue_depth: Arc<Gauge>,
    pub storage_dropped: Arc<Counter>,
    /// 1 while the trace writer's circuit breaker is open, else 0.
    pub storage_breaker_open: Arc<Gauge>,
    /// Labels: severity, action.
    pub policy_violations: Arc<Family<Counter>>,
    /// Labels: entity (bounded by [`Metrics::entities`]).
    pub pii_redactions: Arc<Family<Counter>>,
    pub sessions: Arc<ActiveSessions>,
    /// Model label values.
    pub models: BoundedValues,
    /// Upstream label values (replay answers any upstream a cassette names).
    pub upstreams: BoundedValues,
    /// PII entity label values.
    pub entities: BoundedValues,
    /// Trace databases whose size `traceforge_db_size_bytes` reports.
    databases: Arc<Mutex<Vec<PathBuf>>>,
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::default();
        let info = registry.gauges(
            "traceforge_build_info",
            "The running traceforge's version (always 1).",
            &["version"],
        );
        info.with(&[env!("CARGO_PKG_VERSION")], |g| g.set(1));
        let requests = registry.counters(
            "traceforge_proxy_requests_total",
            "Requests answered by the proxy.",
            &["upstream", "provider", "mode", "status_class"],
        );
        let request_duration = registry.histograms(
            "traceforge_proxy_request_duration_seconds",
            "Time from a request's arrival to its response's head.",
            &["mode"],
            LATENCY_BUCKETS,
        );
        let upstream_ttfb = registry.histograms(
            "traceforge_upstream_ttfb_seconds",
            "Time from forwarding a request to the upstream's response head.",
            &["upstream"],
            LATENCY_BUCKETS,
        );
        let tokens = registry.counters(
            "traceforge_tokens_total",
            "Tokens in the usage of answers recorded or replayed.",
            &["direction", "model"],
        );
        let replay_misses = registry.counter(
            "traceforge_replay_misses_total",
            "Requests no recorded interaction answered where recording was not allowed.",
        );
        let incomplete_streams = registry.counter(
            "traceforge_proxy_incomplete_streams_total",
            "Streams recorded without their terminal event.",
        );
        let storage_write_latency = registry.histogram(
            "traceforge_storage_write_latency_seconds",
            "Time of one commit of traces to the database.",
            STORAGE_BUCKETS,
        );
        let storage_queue_depth = registry.gauge(
            "traceforge_storage_queue_depth",
            "Traces waiting for the trace writer.",
        );
        let storage_dropped = registry.counter(
            "traceforge_storage_dropped_writes_total",
            "Traces not written: the queue was full or the database was failing.",
        );
        let storage_breaker_open = registry.gauge(
            "traceforge_storage_circuit_breaker_open",
            "1 while the trace database's circuit breaker is open (writes skipped), else 0.",
        );
        let policy_violations = registry.counters(
            "traceforge_policy_violations_total",
            "Policy rules that matched traffic, by severity and action.",
            &["severity", "action"],
        );
        let pii_redactions = registry.counters(
            "traceforge_pii_redactions_total",
            "Values masked or pseudonymised before storage, by entity.",
            &["entity"],
        );
        let databases: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
        let read = databases.clone();
        registry.gauge_fn(
            "traceforge_db_size_bytes",
            "Size of the trace database with its write-ahead log.",
            move || {
                let paths = read.lock().map(|p| p.clone()).unwrap_or_default();
                paths.iter().map(|path| database_size(path)).sum::<u64>() as f64
            },
        );
        let sessions = Arc::new(ActiveSessions::new(SESSION_WINDOW));
        let active = sessions.clone();
        registry.gauge_fn(
            "traceforge_sessions_active",
            "Sessions (x-traceforge-session-id) with a request in the last 15 minutes.",
            move || active.active() as f64,
        );
        Metrics {
            registry,
            requests,
            request_duration,
            upstream_ttfb,
            tokens,
            replay_misses,
            incomplete_streams,
            storage_write_latency,
            storage_queue_depth,
            storage_dropped,
            storage_breaker_open,
            policy_violations,
            pii_redactions,
            sessions,
            models: BoundedValues::new(LABEL_VALUES),
            upstreams: BoundedValues::new(LABEL_VALUES),
            entities: BoundedValues::new(LABEL_VALUES),
            databases,
        }
    }

    /// Reports the size of the trace database at `path` (and its `-wal`) from now on.
    pub fn watch_database(&self, path: PathBuf) {
        if let Ok(mut paths) = self.databases.lock() {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }

    /// Counts the tokens of one answer.
    pub fn count_tokens(&self, model: Option<&str>, input: Option<u64>, output: Option<u64>) {
        ModelTokens::new(model).count(input, output);
    }

    /// The whole exposition.
    pub fn render(&self) -> String {
        self.registry.render()
    }
}

/// The token counters of one model, resolved at their first use: for an answer served again
/// and again (a replayed interaction), counting is two atomic additions.
#[derive(Debug)]
pub struct ModelTokens {
    model: &'static str,
    input: OnceLock<Handle<Counter>>,
    output: OnceLock<Handle<Counter>>,
}

impl ModelTokens {
    pub fn new(model: Option<&str>) -> ModelTokens {
        ModelTokens {
            model: global().models.admit(model.unwrap_or("unknown")),
            input: OnceLock::new(),
            output: OnceLock::new(),
        }
    }

    /// Counts the tokens of one answer.
    pub fn count(&self, input: Option<u64>, output: Option<u64>) {
        let tokens = &global().tokens;
        if let Some(n) = input {
            self.input
                .get_or_init(|| tokens.handle(&["input", self.model]))
                .add(n);
        }
        if let Some(n) = output {
            self.output
                .get_or_init(|| tokens.handle(&["output", self.model]))
                .add(n);
        }
    }
}

fn database_size(path: &std::path::Path) -> u64 {
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(std::path::Path::new(&wal))
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// `2xx` for 200, and so on.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_cumulative_histograms() {
        let registry = Registry::default();
        let requests = registry.counters("t_requests_total", "Requests.", &["mode", "code"]);
        requests.inc(&["replay", "2xx"]);
        requests.add(&["record", "5\"x\\\n"], 2);
        requests.inc(&["replay", "2xx"]);
        registry.gauge("t_depth", "Depth.").set(7);
        registry.gauge_fn("t_size_bytes", "Size.", || 1.5);
        let h = registry.histogram("t_latency_seconds", "Latency.", &[0.001, 0.01]);
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_secs(2));
        let text = registry.render();
        assert_eq!(
            text,
            "# HELP t_requests_total Requests.\n\
             # TYPE t_requests_total counter\n\
             t_requests_total{mode=\"record\",code=\"5\\\"x\\\\\\n\"} 2\n\
             t_requests_total{mode=\"replay\",code=\"2xx\"} 2\n\
             # HELP t_depth Depth.\n\
             # TYPE t_depth gauge\n\
             t_depth 7\n\
             # HELP t_size_bytes Size.\n\
             # TYPE t_size_bytes gauge\n\
             t_size_bytes 1.5\n\
             # HELP t_latency_seconds Latency.\n\
             # TYPE t_latency_seconds histogram\n\
             t_latency_seconds_bucket{le=\"0.001\"} 1\n\
             t_latency_seconds_bucket{le=\"0.01\"} 2\n\
             t_latency_seconds_bucket{le=\"+Inf\"} 3\n\
             t_latency_seconds_sum 2.0055\n\
             t_latency_seconds_count 3\n"
        );
        // Registering again hands back the same metric.
        registry.gauge("t_depth", "Depth.").add(1);
        assert!(registry.render().contains("t_depth 8\n"));
    }

    #[test]
    fn bounded_labels_count_newcomers_beyond_the_limit_as_other() {
        let models = BoundedValues::new(2);
        assert_eq!(models.admit("a"), "a");
        assert_eq!(models.admit("b"), "b");
        assert_eq!(models.admit("c"), OTHER);
        assert_eq!(models.admit("a"), "a");
    }

    #[test]
    fn a_family_stops_growing_at_its_limit() {
        let family = Family::new(&["x"], Counter::default);
        for n in 0..SERIES_PER_FAMILY + 5 {
            family.inc(&[&n.to_string()]);
        }
        assert_eq!(family.sorted().len(), SERIES_PER_FAMILY + 1);
        assert_eq!(family.get(&[OTHER]), 5);
    }

    #[test]
    fn a_handle_counts_into_the_series_its_labels_name() {
        let family = Family::new(&["x", "y"], Counter::default);
        let held = family.handle(&["a", "b"]);
        held.add(2);
        family.inc(&["a", "b"]);
        assert_eq!(family.get(&["a", "b"]), 3);
        assert_eq!(family.handle(&["a", "b"]).get(), 3);
        assert_eq!(family.get(&["a", "c"]), 0);
        // Past the family's limit a handle is the `other` series, as `with` is.
        for n in 2..SERIES_PER_FAMILY {
            family.inc(&[&n.to_string(), "z"]);
        }
        family.handle(&["new", "one"]).inc();
        assert_eq!(family.get(&[OTHER, OTHER]), 1);
        assert_eq!(family.series.read().unwrap().len(), SERIES_PER_FAMILY + 1);
    }

    #[test]
    fn sessions_count_within_the_window_only() {
        let sessions = ActiveSessions::new(Duration::from_secs(60));
        let start = Instant::now();
        sessions.saw_at("s1", start);
        sessions.saw_at("s2", start);
        sessions.saw_at("s1", start + Duration::from_secs(30));
        assert_eq!(sessions.active_at(start + Duration::from_secs(40)), 2);
        assert_eq!(sessions.active_at(start + Duration::from_secs(70)), 1);
        assert_eq!(sessions.active_at(start + Duration::from_secs(100)), 0);
    }
}
