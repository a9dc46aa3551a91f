//! The run history: what a finished [`Report`] leaves in the trace database ([`summary_of`]:
//! scenario, git commit, time, throughput, error rate, key percentiles, verdict) and how the
//! history reads back: the metrics worth a trend ([`TREND_METRICS`]), unicode sparklines, the
//! `load history` table rows and its versioned JSON. Storing the rows is the store's job
//! ([`crate::store::load_runs`]); this file does no I/O.

use serde_json::{json, Value};

use super::metrics::{Aggregation, Metric};
use super::report::Report;
use super::units::{ms_text, number_text};
use crate::store::load_runs::LoadRun;

/// The version of `load history --format json`.
pub const HISTORY_VERSION: u32 = 1;

/// How a trend metric reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendUnit {
    Milliseconds,
    PerSecond,
    Share,
}

/// One metric the history follows.
pub struct TrendMetric {
    /// The name in tables and JSON (`p95_ms`), as the column is called.
    pub name: &'static str,
    pub label: &'static str,
    pub unit: TrendUnit,
    pub value: fn(&LoadRun) -> Option<f64>,
}

/// The metrics `load history` and the report's trend chart follow, in order.
pub const TREND_METRICS: &[TrendMetric] = &[
    TrendMetric {
        name: "rps",
        label: "requests/s",
        unit: TrendUnit::PerSecond,
        value: |r| Some(r.rps),
    },
    TrendMetric {
        name: "error_rate",
        label: "error rate",
        unit: TrendUnit::Share,
        value: |r| r.error_rate,
    },
    TrendMetric {
        name: "p50_ms",
        label: "latency p50",
        unit: TrendUnit::Milliseconds,
        value: |r| r.p50_ms,
    },
    TrendMetric {
        name: "p95_ms",
        label: "latency p95",
        unit: TrendUnit::Milliseconds,
        value: |r| r.p95_ms,
    },
    TrendMetric {
        name: "p99_ms",
        label: "latency p99",
        unit: TrendUnit::Milliseconds,
        value: |r| r.p99_ms,
    },
    TrendMetric {
        name: "ttft_p50_ms",
        label: "TTFT p50",
        unit: TrendUnit::Milliseconds,
        value: |r| r.ttft_p50_ms,
    },
    TrendMetric {
        name: "ttft_p95_ms",
        label: "TTFT p95",
        unit: TrendUnit::Milliseconds,
        value: |r| r.ttft_p95_ms,
    },
];

impl TrendUnit {
    pub fn text(self, value: f64) -> String {
        match self {
            TrendUnit::Milliseconds => ms_text(value),
            TrendUnit::PerSecond => format!("{}/s", number_text(value, Some(2))),
            TrendUnit::Share => format!("{:.2}%", value * 100.0),
        }
    }
}

/// The history row for a finished run of `scenario` that started at `started_at`.
pub fn summary_of(
    report: &Report,
    scenario: &str,
    git_commit: Option<String>,
    started_at: String,
) -> LoadRun {
    let stat = |metric: Metric, aggregation: Aggregation| {
        report
            .series
            .get(metric)
            .statistic(aggregation, report.elapsed)
    };
    let requests = stat(Metric::HttpReqs, Aggregation::Count).unwrap_or(0.0);
    let p = |metric, p| stat(metric, Aggregation::Percentile(p));
    LoadRun {
        scenario: scenario.to_string(),
        git_commit,
        started_at,
        duration_ms: report.elapsed.as_millis().min(u128::from(u64::MAX)) as u64,
        requests: requests as u64,
        rps: stat(Metric::HttpReqs, Aggregation::Rate).unwrap_or(0.0),
        error_rate: stat(Metric::HttpReqFailed, Aggregation::Rate),
        p50_ms: p(Metric::HttpReqDuration, 50.0),
        p95_ms: p(Metric::HttpReqDuration, 95.0),
        p99_ms: p(Metric::HttpReqDuration, 99.0),
        ttft_p50_ms: p(Metric::LlmTtft, 50.0),
        ttft_p95_ms: p(Metric::LlmTtft, 95.0),
        thresholds: report.thresholds.len() as u64,
        thresholds_failed: report.thresholds_failed() as u64,
        passed: report.passed(),
    }
}

/// A unicode sparkline (`▁▂▃▄▅▆▇█`) of `values`, one character each; a gap is a space.
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let present = values.iter().flatten().copied();
    let (min, max) = present.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if max > min => {
                let at = ((v - min) / (max - min) * 7.0).round() as usize;
                BARS[at.min(7)]
            }
            Some(_) => BARS[3],
        })
        .collect()
}

/// The `load history` table: one row per metric (first, last, min, max, change, sparkline),
/// per scenario. Runs are oldest first.
pub fn table_rows(runs: &[LoadRun]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for scenario in scenarios(runs) {
        let runs: Vec<&LoadRun> = runs.iter().filter(|r| r.scenario == scenario).collect();
        for metric in TREND_METRICS {
            let values: Vec<Option<f64>> = runs.iter().map(|r| (metric.value)(r)).collect();
            let present: Vec<f64> = values.iter().flatten().copied().collect();
            let (Some(first), Some(last)) = (present.first(), present.last()) else {
                continue;
            };
            let min = present.iter().copied().fold(f64::INFINITY, f64::min);
            let max = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let change = if *first != 0.0 {
                format!("{:+.1}%", (last - first) / first * 100.0)
            } else {
                "-".into()
            };
            rows.push(vec![
                scenario.clone(),
                metric.label.to_string(),
                runs.len().to_string(),
                metric.unit.text(*first),
                metric.unit.text(*last),
                metric.unit.text(min),
                metric.unit.text(max),
                change,
                sparkline(&values),
            ]);
        }
    }
    rows
}

/// The header of [`table_rows`].
pub const TABLE_HEADER: [&str; 9] = [
    "scenario", "metric", "runs", "first", "last", "min", "max", "change", "trend",
];

/// `load history --format json`: the runs, oldest first, with a version.
pub fn json(runs: &[LoadRun]) -> Value {
    json!({
        "version": HISTORY_VERSION,
        "metrics": TREND_METRICS.iter().map(|m| m.name).collect::<Vec<_>>(),
        "runs": runs,
    })
}

/// The scenarios in `runs`, in order of first appearance.
pub fn scenarios(runs: &[LoadRun]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for run in runs {
        if !seen.contains(&run.scenario) {
            seen.push(run.scenario.clone());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_span_the_range() {
        assert_eq!(sparkline(&[Some(1.0), Some(8.0), None, Some(4.5)]), "▁█ ▅");
        assert_eq!(sparkline(&[Some(2.0), Some(2.0)]), "▄▄");
        assert_eq!(sparkline(&[]), "");
    }
}
