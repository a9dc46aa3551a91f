//! A series' numbers: [`Trend`] (an HDR histogram of microseconds, three significant digits,
//! with the exact count, sum and extremes, so memory is constant in the number of samples and
//! shards merge exactly) and [`Aggregate`], one per metric kind, with the statistics thresholds
//! and summaries ask for. No I/O, no knowledge of HTTP or tokio.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::metric::MetricKind;
use super::selector::Aggregation;

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
