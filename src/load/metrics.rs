//! Load-test metrics: k6's built-in metrics (same names, same meanings, times in milliseconds)
//! plus the LLM stream metrics, their aggregates, and the sharded recorder the virtual users
//! write into. Latencies live in HDR histograms (microsecond resolution, three significant
//! digits), so memory is constant in the number of requests and shards merge exactly.
//!
//! Tag selections that thresholds ask for (`http_req_duration{scenario:chat}`) are k6's
//! submetrics: extra series fed by the samples whose tags match, decided once per request
//! template from its static tags, with only `status` and `expected_response` checked per sample.
//! This module does no I/O and knows nothing of HTTP or tokio.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::thresholds::{Aggregation, Selector};

/// k6's four metric types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Rate,
    Trend,
}

impl MetricKind {
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Rate => "rate",
            MetricKind::Trend => "trend",
        }
    }
}

/// Which block of the summary a metric is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Http,
    Llm,
    Execution,
    Network,
    Checks,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Http,
        Group::Llm,
        Group::Execution,
        Group::Network,
        Group::Checks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Http => "HTTP",
            Group::Llm => "LLM",
            Group::Execution => "EXECUTION",
            Group::Network => "NETWORK",
            Group::Checks => "CHECKS",
        }
    }
}

/// Every built-in metric, in the order the summary shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    HttpReqDuration,
    HttpReqFailed,
    HttpReqs,
    HttpReqBlocked,
    HttpReqConnecting,
    HttpReqTlsHandshaking,
    HttpReqSending,
    HttpReqWaiting,
    HttpReqReceiving,
    LlmTtft,
    LlmItl,
    LlmTpot,
    LlmOutputTokens,
    Iterations,
    IterationDuration,
    DroppedIterations,
    Vus,
    VusMax,
    DataReceived,
    DataSent,
    Checks,
}

impl Metric {
    pub const ALL: [Metric; 21] = [
        Metric::HttpReqDuration,
        Metric::HttpReqFailed,
        Metric::HttpReqs,
        Metric::HttpReqBlocked,
        Metric::HttpReqConnecting,
        Metric::HttpReqTlsHandshaking,
        Metric::HttpReqSending,
        Metric::HttpReqWaiting,
        Metric::HttpReqReceiving,
        Metric::LlmTtft,
        Metric::LlmItl,
        Metric::LlmTpot,
        Metric::LlmOutputTokens,
        Metric::Iterations,
        Metric::IterationDuration,
        Metric::DroppedIterations,
        Metric::Vus,
        Metric::VusMax,
        Metric::DataReceived,
        Metric::DataSent,
        Metric::Checks,
    ];

    /// The index of this metric's own series.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::HttpReqs => "http_reqs",
            Metric::HttpReqFailed => "http_req_failed",
            Metric::HttpReqDuration => "http_req_duration",
            Metric::HttpReqBlocked => "http_req_blocked",
            Metric::HttpReqConnecting => "http_req_connecting",
            Metric::HttpReqTlsHandshaking => "http_req_tls_handshaking",
            Metric::HttpReqSending => "http_req_sending",
            Metric::HttpReqWaiting => "http_req_waiting",
            Metric::HttpReqReceiving => "http_req_receiving",
            Metric::LlmTtft => "llm_ttft",
            Metric::LlmItl => "llm_itl",
            Metric::LlmTpot => "llm_tpot",
            Metric::LlmOutputTokens => "llm_output_tokens",
            Metric::Iterations => "iterations",
            Metric::IterationDuration => "iteration_duration",
            Metric::DroppedIterations => "dropped_iterations",
            Metric::Vus => "vus",
            Metric::VusMax => "vus_max",
            Metric::DataReceived => "data_received",
            Metric::DataSent => "data_sent",
            Metric::Checks => "checks",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn kind(self) -> MetricKind {
        match self {
            Metric::HttpReqs
            | Metric::LlmOutputTokens
            | Metric::Iterations
            | Metric::DroppedIterations
            | Metric::DataReceived
            | Metric::DataSent => MetricKind::Counter,
            Metric::HttpReqFailed | Metric::Checks => MetricKind::Rate,
            Metric::Vus | Metric::VusMax => MetricKind::Gauge,
            _ => MetricKind::Trend,
        }
    }

    /// k6's `contains`: what the numbers are (`time` in ms, `data` in bytes, or plain).
    pub fn contains(self) -> &'static str {
        match self.kind() {
            MetricKind::Trend => "time",
            _ if matches!(self, Metric::DataReceived | Metric::DataSent) => "data",
            _ => "default",
        }
    }

    pub fn group(self) -> Group {
        match self {
            Metric::LlmTtft | Metric::LlmItl | Metric::LlmTpot | Metric::LlmOutputTokens => {
                Group::Llm
            }
            Metric::Iterations
            | Metric::IterationDuration
            | Metric::DroppedIterations
            | Metric::Vus
            | Metric::VusMax => Group::Execution,
            Metric::DataReceived | Metric::DataSent => Group::Network,
            Metric::Checks => Group::Checks,
            _ => Group::Http,
        }
    }

    /// How the metric is computed, as the README and the JSON summary state it.
    pub fn formula(self) -> &'static str {
        match self {
            Metric::HttpReqs => "count of HTTP requests sent (including failed ones); rate = count / test duration",
            Metric::HttpReqFailed => "share of requests that got a transport error or a status outside 200-399",
            Metric::HttpReqDuration => "blocked + sending + waiting + receiving: from the request's start (open-model executors: its intended start) to the last response byte, connecting and TLS handshaking excluded",
            Metric::HttpReqBlocked => "from the request's start (open-model executors: its intended start) until it could be written, connecting and TLS handshaking excluded: waiting for a free VU or connection",
            Metric::HttpReqConnecting => "TCP connect time; 0 when the VU's connection was reused",
            Metric::HttpReqTlsHandshaking => "TLS handshake time (https); 0 for http and when the VU's connection was reused",
            Metric::HttpReqSending => "request start to the last request byte written",
            Metric::HttpReqWaiting => "last request byte written to the first response byte read (time to first byte)",
            Metric::HttpReqReceiving => "first response byte to the last",
            Metric::LlmTtft => "first output event (a delta carrying text, reasoning or tool-call content; role-only deltas do not count) minus the start http_req_duration is measured from",
            Metric::LlmItl => "time between consecutive output events of one stream; one sample per gap",
            Metric::LlmTpot => "(http_req_duration - llm_ttft) / (llm_output_tokens - 1), one sample per stream with at least 2 output tokens",
            Metric::LlmOutputTokens => "output tokens per stream: the usage the stream reports (completion_tokens / output_tokens), else the number of output events; rate = tokens / test duration",
            Metric::Iterations => "completed iterations (one request and its checks each); rate = count / test duration",
            Metric::IterationDuration => "iteration end minus its start (open-model executors: its intended start)",
            Metric::DroppedIterations => "arrival-rate iterations not started because every VU (up to maxVUs) was busy",
            Metric::Vus => "active virtual users",
            Metric::VusMax => "allocated virtual users",
            Metric::DataReceived => "bytes read from the network, headers included; rate = bytes / test duration",
            Metric::DataSent => "bytes written to the network, headers included; rate = bytes / test duration",
            Metric::Checks => "share of checks that passed",
        }
    }
}

/// The largest latency a histogram tells apart: one hour, in microseconds. Longer samples
/// count in the top bucket (their exact maximum is kept beside the histogram).
const HIGHEST_US: u64 = 3_600_000_000;

/// A trend: an HDR histogram of microseconds with the exact count, sum, min and max. The
/// histogram is allocated at its full, fixed size on the first sample, so memory depends on
/// which metrics a test has, never on how many samples or how large they are.
#[derive(Debug, Clone)]
pub struct Trend {
    histogram: Option<Histogram<u64>>,
    count: u64,
    sum_us: f64,
    min_us: u64,
    max_us: u64,
}

impl Default for Trend {
    fn default() -> Self {
        Trend {
            histogram: None,
            count: 0,
            sum_us: 0.0,
            min_us: u64::MAX,
            max_us: 0,
        }
    }
}

impl Trend {
    pub fn record(&mut self, duration: Duration) {
        self.record_us(duration.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    pub fn record_us(&mut self, us: u64) {
        self.histogram
            .get_or_insert_with(new_histogram)
            .saturating_record(us);
        self.count += 1;
        self.sum_us += us as f64;
        self.min_us = self.min_us.min(us);
        self.max_us = self.max_us.max(us);
    }

    pub fn add(&mut self, other: &Trend) {
        if let Some(theirs) = &other.histogram {
            let ours = self.histogram.get_or_insert_with(new_histogram);
            // Same bounds on both sides (or a baseline's smaller ones): the counts always fit.
            if ours.add(theirs).is_err() {
                for value in theirs.iter_recorded() {
                    let _ = ours.record_n(
                        value.value_iterated_to().min(HIGHEST_US),
                        value.count_at_value(),
                    );
                }
            }
        }
        self.count += other.count;
        self.sum_us += other.sum_us;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn histogram(&self) -> Option<&Histogram<u64>> {
        self.histogram.as_ref()
    }

    /// Rebuilds a trend from a stored histogram (baselines); sum and extremes come from it.
    pub fn from_histogram(histogram: Histogram<u64>) -> Trend {
        Trend {
            count: histogram.len(),
            sum_us: histogram.mean() * histogram.len() as f64,
            min_us: histogram.min(),
            max_us: histogram.max(),
            histogram: Some(histogram),
        }
    }

    /// A statistic in milliseconds, or `None` without samples.
    pub fn stat_ms(&self, aggregation: Aggregation) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let us = match aggregation {
            Aggregation::Avg => self.sum_us / self.count as f64,
            Aggregation::Min => self.min_us as f64,
            Aggregation::Max => self.max_us as f64,
            Aggregation::Med => self.percentile_us(50.0),
            Aggregation::Percentile(p) => self.percentile_us(p),
            _ => return None,
        };
        Some(us / 1000.0)
    }

    fn percentile_us(&self, p: f64) -> f64 {
        let value = self
            .histogram
            .as_ref()
            .map_or(0, |h| h.value_at_quantile(p / 100.0));
        // The histogram's value is the top of a bucket; keep it within the exact extremes.
        (value as f64).clamp(self.min_us as f64, self.max_us as f64)
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3)
        .expect("1 µs to 1 h at 3 significant digits are valid hdrhistogram bounds")
}

/// One series' aggregate, by metric kind.
#[derive(Debug, Clone)]
pub enum Aggregate {
    /// Sum of the samples and how many samples there were.
    Counter {
        sum: u64,
        samples: u64,
    },
    /// Non-zero samples and all samples.
    Rate {
        passes: u64,
        total: u64,
    },
    Trend(Trend),
    /// Last value and extremes, when sampled at least once.
    Gauge(Option<GaugeValue>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaugeValue {
    pub value: f64,
    pub min: f64,
    pub max: f64,
}

impl Aggregate {
    pub fn empty(kind: MetricKind) -> Aggregate {
        match kind {
            MetricKind::Counter => Aggregate::Counter { sum: 0, samples: 0 },
            MetricKind::Rate => Aggregate::Rate {
                passes: 0,
                total: 0,
            },
            MetricKind::Trend => Aggregate::Trend(Trend::default()),
            MetricKind::Gauge => Aggregate::Gauge(None),
        }
    }

    pub fn has_samples(&self) -> bool {
        match self {
            Aggregate::Counter { samples, .. } => *samples > 0,
            Aggregate::Rate { total, .. } => *total > 0,
            Aggregate::Trend(trend) => trend.count > 0,
            Aggregate::Gauge(value) => value.is_some(),
        }
    }

    pub fn add(&mut self, other: &Aggregate) {
        match (self, other) {
            (Aggregate::Counter { sum, samples }, Aggregate::Counter { sum: s, samples: n }) => {
                *sum += s;
                *samples += n;
            }
            (
                Aggregate::Rate { passes, total },
                Aggregate::Rate {
                    passes: p,
                    total: t,
                },
            ) => {
                *passes += p;
                *total += t;
            }
            (Aggregate::Trend(a), Aggregate::Trend(b)) => a.add(b),
            (Aggregate::Gauge(a), Aggregate::Gauge(Some(b))) => {
                *a = Some(match a {
                    Some(a) => GaugeValue {
                        value: b.value,
                        min: a.min.min(b.min),
                        max: a.max.max(b.max),
                    },
                    None => *b,
                });
            }
            _ => {}
        }
    }

    /// The statistic thresholds and summaries name, or `None` without samples (or when the
    /// statistic does not apply). Counter rates are per second of `elapsed`.
    pub fn statistic(&self, aggregation: Aggregation, elapsed: Duration) -> Option<f64> {
        if !self.has_samples() {
            return None;
        }
        match (self, aggregation) {
            (Aggregate::Counter { sum, .. }, Aggregation::Count) => Some(*sum as f64),
            (Aggregate::Counter { sum, .. }, Aggregation::Rate) => {
                Some(*sum as f64 / elapsed.as_secs_f64().max(1e-9))
            }
            (Aggregate::Rate { passes, total }, Aggregation::Rate) => {
                Some(*passes as f64 / *total as f64)
            }
            (Aggregate::Trend(trend), aggregation) => trend.stat_ms(aggregation),
            (Aggregate::Gauge(Some(g)), Aggregation::Value) => Some(g.value),
            (Aggregate::Gauge(Some(g)), Aggregation::Min) => Some(g.min),
            (Aggregate::Gauge(Some(g)), Aggregation::Max) => Some(g.max),
            _ => None,
        }
    }

    /// k6's `values` object: the statistics of this kind, named as k6 names them. Trends get
    /// `trend_stats` (and any percentiles thresholds asked for).
    pub fn values(&self, elapsed: Duration, trend_stats: &[Aggregation]) -> Vec<(String, f64)> {
        if !self.has_samples() {
            return Vec::new();
        }
        let stat = |a: Aggregation| self.statistic(a, elapsed).unwrap_or(0.0);
        match self {
            Aggregate::Counter { .. } => vec![
                ("count".into(), stat(Aggregation::Count)),
                ("rate".into(), stat(Aggregation::Rate)),
            ],
            Aggregate::Rate { passes, total } => vec![
                ("rate".into(), stat(Aggregation::Rate)),
                ("passes".into(), *passes as f64),
                ("fails".into(), (*total - *passes) as f64),
            ],
            Aggregate::Trend(_) => trend_stats.iter().map(|a| (a.label(), stat(*a))).collect(),
            Aggregate::Gauge(_) => vec![
                ("value".into(), stat(Aggregation::Value)),
                ("min".into(), stat(Aggregation::Min)),
                ("max".into(), stat(Aggregation::Max)),
            ],
        }
    }
}

/// Tags known only once the response is in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DynamicTags {
    status: Option<u16>,
    expected_response: Option<bool>,
}

/// One submetric a sample with these static tags may also feed.
#[derive(Debug, Clone)]
pub struct Route {
    series: usize,
    dynamic: DynamicTags,
}

impl Route {
    fn accepts(&self, status: u16, expected: bool) -> bool {
        self.dynamic.status.is_none_or(|s| s == status)
            && self.dynamic.expected_response.is_none_or(|e| e == expected)
    }
}

/// Which series exist: one per metric, then one per threshold selector with tags.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub submetrics: Vec<Selector>,
    /// Every check, as `(scenario, check name)`, indexed by check id.
    pub checks: Vec<(String, String)>,
}

impl Layout {
    /// Series index of a selector: the metric's own series, or its submetric's.
    pub fn series_of(&self, selector: &Selector) -> Option<usize> {
        if selector.tags.is_empty() {
            return Some(selector.metric.index());
        }
        self.submetrics
            .iter()
            .position(|s| s == selector)
            .map(|i| Metric::ALL.len() + i)
    }

    fn kinds(&self) -> Vec<MetricKind> {
        Metric::ALL
            .iter()
            .map(|m| m.kind())
            .chain(self.submetrics.iter().map(|s| s.metric.kind()))
            .collect()
    }

    /// For each metric, the submetrics a sample with `tags` feeds (subject to its status).
    /// A selector tag that is neither static here nor dynamic never matches.
    pub fn routes(&self, tags: &BTreeMap<String, String>) -> Vec<Vec<Route>> {
        let mut routes = vec![Vec::new(); Metric::ALL.len()];
        'selectors: for (i, selector) in self.submetrics.iter().enumerate() {
            let mut dynamic = DynamicTags {
                status: None,
                expected_response: None,
            };
            for (tag, value) in &selector.tags {
                match (tags.get(tag), tag.as_str()) {
                    (Some(have), _) if have == value => {}
                    (Some(_), _) => continue 'selectors,
                    (None, "status") => match value.parse() {
                        Ok(status) => dynamic.status = Some(status),
                        Err(_) => continue 'selectors,
                    },
                    (None, "expected_response") => match value.as_str() {
                        "true" => dynamic.expected_response = Some(true),
                        "false" => dynamic.expected_response = Some(false),
                        _ => continue 'selectors,
                    },
                    (None, _) => continue 'selectors,
                }
            }
            routes[selector.metric.index()].push(Route {
                series: Metric::ALL.len() + i,
                dynamic,
            });
        }
        routes
    }
}

/// Every series' aggregate, per-check tallies and error counts: one shard, or a merged snapshot.
#[derive(Debug, Clone)]
pub struct Series {
    pub aggregates: Vec<Aggregate>,
    /// `(passes, fails)` per check id.
    pub checks: Vec<(u64, u64)>,
    /// Transport errors by message.
    pub errors: BTreeMap<String, u64>,
}

/// Distinct error messages kept; later new ones are counted under "other errors".
const MAX_ERROR_KINDS: usize = 20;

impl Series {
    pub fn new(layout: &Layout) -> Series {
        Series {
            aggregates: layout.kinds().into_iter().map(Aggregate::empty).collect(),
            checks: vec![(0, 0); layout.checks.len()],
            errors: BTreeMap::new(),
        }
    }

    pub fn merge(&mut self, other: &Series) {
        for (a, b) in self.aggregates.iter_mut().zip(&other.aggregates) {
            a.add(b);
        }
        for (a, b) in self.checks.iter_mut().zip(&other.checks) {
            a.0 += b.0;
            a.1 += b.1;
        }
        for (message, n) in &other.errors {
            *self.errors.entry(message.clone()).or_default() += n;
        }
    }

    pub fn get(&self, metric: Metric) -> &Aggregate {
        &self.aggregates[metric.index()]
    }

    /// Sets a gauge's value (the engine samples VU counts itself).
    pub fn set_gauge(&mut self, metric: Metric, value: Option<GaugeValue>) {
        self.aggregates[metric.index()] = Aggregate::Gauge(value);
    }

    fn series_mut(&mut self, index: usize) -> &mut Aggregate {
        &mut self.aggregates[index]
    }

    /// Adds a trend sample to `metric` and the routed submetrics.
    pub fn trend(
        &mut self,
        metric: Metric,
        routes: &[Vec<Route>],
        status: u16,
        expected: bool,
        value: Duration,
    ) {
        let us = value.as_micros().min(u128::from(u64::MAX)) as u64;
        if let Aggregate::Trend(t) = self.series_mut(metric.index()) {
            t.record_us(us);
        }
        for route in &routes[metric.index()] {
            if route.accepts(status, expected) {
                if let Aggregate::Trend(t) = self.series_mut(route.series) {
                    t.record_us(us);
                }
            }
        }
    }

    /// Adds a counter sample.
    pub fn count(
        &mut self,
        metric: Metric,
        routes: &[Vec<Route>],
        status: u16,
        expected: bool,
        value: u64,
    ) {
        let add = |a: &mut Aggregate| {
            if let Aggregate::Counter { sum, samples } = a {
                *sum += value;
                *samples += 1;
            }
        };
        add(self.series_mut(metric.index()));
        for route in &routes[metric.index()] {
            if route.accepts(status, expected) {
                add(self.series_mut(route.series));
            }
        }
    }

    /// Adds a rate sample (`true` counts as a pass, k6's non-zero).
    pub fn rate(
        &mut self,
        metric: Metric,
        routes: &[Vec<Route>],
        status: u16,
        expected: bool,
        value: bool,
    ) {
        let add = |a: &mut Aggregate| {
            if let Aggregate::Rate { passes, total } = a {
                *passes += u64::from(value);
                *total += 1;
            }
        };
        add(self.series_mut(metric.index()));
        for route in &routes[metric.index()] {
            if route.accepts(status, expected) {
                add(self.series_mut(route.series));
            }
        }
    }

    /// Tallies a check result (the `checks` rate and the per-check counts).
    pub fn check(&mut self, id: usize, routes: &[Vec<Route>], passed: bool) {
        self.rate(Metric::Checks, routes, 0, true, passed);
        if let Some(tally) = self.checks.get_mut(id) {
            if passed {
                tally.0 += 1;
            } else {
                tally.1 += 1;
            }
        }
    }

    pub fn error(&mut self, message: &str) {
        if let Some(n) = self.errors.get_mut(message) {
            *n += 1;
        } else if self.errors.len() < MAX_ERROR_KINDS {
            self.errors.insert(message.to_string(), 1);
        } else {
            *self.errors.entry("other errors".to_string()).or_default() += 1;
        }
    }
}

/// Where virtual users record: independently locked shards, one per worker thread (VU n runs
/// on worker n mod workers and records into shard n mod shards), so VUs never wait for each
/// other across threads, and memory does not grow with the number of VUs.
pub struct Recorder {
    pub layout: Layout,
    shards: Vec<Mutex<Series>>,
}

impl Recorder {
    pub fn new(layout: Layout, shards: usize) -> Recorder {
        let shards = (0..shards.max(1))
            .map(|_| Mutex::new(Series::new(&layout)))
            .collect();
        Recorder { layout, shards }
    }

    /// Runs `f` on the shard for virtual user `vu`.
    pub fn with<R>(&self, vu: usize, f: impl FnOnce(&mut Series) -> R) -> R {
        let mut shard = self.shards[vu % self.shards.len()]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut shard)
    }

    /// Every shard merged.
    pub fn snapshot(&self) -> Series {
        let mut merged = Series::new(&self.layout);
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            merged.merge(&shard);
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_report_milliseconds_and_merge_exactly() {
        let mut a = Trend::default();
        let mut b = Trend::default();
        for ms in 1..=50 {
            a.record(Duration::from_millis(ms));
        }
        for ms in 51..=100 {
            b.record(Duration::from_millis(ms));
        }
        a.add(&b);
        assert_eq!(a.count(), 100);
        assert_eq!(a.stat_ms(Aggregation::Min), Some(1.0));
        assert_eq!(a.stat_ms(Aggregation::Max), Some(100.0));
        assert_eq!(a.stat_ms(Aggregation::Avg), Some(50.5));
        let p99 = a.stat_ms(Aggregation::Percentile(99.0)).unwrap();
        assert!((p99 - 99.0).abs() < 0.1, "{p99}");
        let med = a.stat_ms(Aggregation::Med).unwrap();
        assert!((med - 50.0).abs() < 0.1, "{med}");
        assert_eq!(Trend::default().stat_ms(Aggregation::Avg), None);
    }

    #[test]
    fn submetrics_follow_static_and_dynamic_tags() {
        let layout = Layout {
            submetrics: vec![
                Selector::parse("http_req_duration{scenario:chat}").unwrap(),
                Selector::parse("http_req_duration{status:500}").unwrap(),
                Selector::parse("http_req_duration{scenario:other}").unwrap(),
                Selector::parse("http_req_duration{nosuchtag:x}").unwrap(),
            ],
            checks: Vec::new(),
        };
        let tags = BTreeMap::from([("scenario".to_string(), "chat".to_string())]);
        let routes = layout.routes(&tags);
        let mut series = Series::new(&layout);
        series.trend(
            Metric::HttpReqDuration,
            &routes,
            200,
            true,
            Duration::from_millis(5),
        );
        series.trend(
            Metric::HttpReqDuration,
            &routes,
            500,
            false,
            Duration::from_millis(7),
        );
        let count = |i: usize| match &series.aggregates[i] {
            Aggregate::Trend(t) => t.count(),
            _ => 0,
        };
        let base = Metric::ALL.len();
        assert_eq!(count(Metric::HttpReqDuration.index()), 2);
        assert_eq!(count(base), 2, "scenario:chat");
        assert_eq!(count(base + 1), 1, "status:500");
        assert_eq!(count(base + 2), 0, "scenario:other");
        assert_eq!(count(base + 3), 0, "unknown tag");
    }

    #[test]
    fn counters_and_rates_have_k6_values() {
        let mut c = Aggregate::empty(MetricKind::Counter);
        c.add(&Aggregate::Counter {
            sum: 30,
            samples: 30,
        });
        assert_eq!(
            c.values(Duration::from_secs(10), &[]),
            vec![("count".to_string(), 30.0), ("rate".to_string(), 3.0)]
        );
        let r = Aggregate::Rate {
            passes: 1,
            total: 4,
        };
        assert_eq!(
            r.values(Duration::from_secs(1), &[]),
            vec![
                ("rate".to_string(), 0.25),
                ("passes".to_string(), 1.0),
                ("fails".to_string(), 3.0)
            ]
        );
        assert!(!Aggregate::empty(MetricKind::Rate).has_samples());
    }
}
