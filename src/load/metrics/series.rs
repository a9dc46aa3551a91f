//! Which series a test keeps and where samples go: the [`Layout`] (one series per metric, then
//! one per tag selection a threshold asks for, k6's submetrics), the [`Route`]s a request
//! template's samples feed (decided once from its static tags, with only `status` and
//! `expected_response` checked per sample), the [`Series`] of aggregates, and the sharded
//! [`Recorder`] the virtual users write into. No I/O, no knowledge of HTTP or tokio.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::aggregate::{Aggregate, GaugeValue};
use super::metric::{Metric, MetricKind};
use super::selector::Selector;
use super::timeline::Timeline;

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
    /// Requests, failures and latencies per second of the run (the report's charts).
    pub timeline: Timeline,
}

/// Distinct error messages kept; later new ones are counted under "other errors".
const MAX_ERROR_KINDS: usize = 20;

impl Series {
    pub fn new(layout: &Layout) -> Series {
        Series {
            aggregates: layout.kinds().into_iter().map(Aggregate::empty).collect(),
            checks: vec![(0, 0); layout.checks.len()],
            errors: BTreeMap::new(),
            timeline: Timeline::default(),
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
        self.timeline.merge(&other.timeline);
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
    /// When the test started: the timeline's zero.
    origin: OnceLock<Instant>,
}

impl Recorder {
    pub fn new(layout: Layout, shards: usize) -> Recorder {
        let shards = (0..shards.max(1))
            .map(|_| Mutex::new(Series::new(&layout)))
            .collect();
        Recorder {
            layout,
            shards,
            origin: OnceLock::new(),
        }
    }

    /// Sets the timeline's zero (the first call wins).
    pub fn start(&self, at: Instant) {
        let _ = self.origin.set(at);
    }

    /// How long after the start `at` is (zero before it, or when not started).
    pub fn offset(&self, at: Instant) -> Duration {
        self.origin.get().map_or(Duration::ZERO, |origin| {
            at.saturating_duration_since(*origin)
        })
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
}
