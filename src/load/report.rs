//! The data of a finished run: every series' aggregates, each threshold's verdict, each
//! scenario's totals and, when asked, the comparison with a baseline. Rendering it (the text
//! summary, the JSON export) is `summary`'s job and storing it `baseline`'s; both depend on this
//! data and not on each other (oha's `result_data.rs` → `printer.rs`). No I/O, no formatting.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::metrics::{Aggregate, Aggregation, Metric, Selector, Series};
use super::scenario::Plan;

/// One threshold's result.
#[derive(Debug, Clone)]
pub struct ThresholdResult {
    pub selector: Selector,
    pub source: String,
    pub aggregation: Aggregation,
    pub ok: bool,
    /// `None` when the selected metric got no samples (which fails the threshold).
    pub observed: Option<f64>,
}

/// One scenario's totals.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub executor: String,
    pub description: String,
    pub iterations: u64,
    pub dropped: u64,
    pub max_vus: u64,
}

/// Everything the summary, the JSON export and the baseline are made from.
#[derive(Debug, Clone)]
pub struct Report {
    pub scenario_file: String,
    pub elapsed: Duration,
    pub series: Series,
    /// The series' names: metric names, then submetric selectors.
    pub series_names: Vec<String>,
    pub checks: Vec<(String, String)>,
    pub trend_stats: Vec<Aggregation>,
    pub thresholds: Vec<ThresholdResult>,
    pub scenarios: Vec<ScenarioResult>,
    pub aborted: Option<String>,
    pub interrupted: bool,
    pub baseline: Option<Comparison>,
    /// What was load-tested (`--target`'s URL, or the replayed directory), for the reports.
    pub target: Option<String>,
}

impl Report {
    /// Judges every threshold of `plan` against `series`.
    pub fn new(
        plan: &Plan,
        scenario_file: String,
        series: Series,
        elapsed: Duration,
        scenarios: Vec<ScenarioResult>,
    ) -> Report {
        let mut thresholds = Vec::new();
        for set in &plan.thresholds {
            let aggregate = plan
                .layout
                .series_of(&set.selector)
                .and_then(|i| series.aggregates.get(i));
            for threshold in &set.thresholds {
                let (ok, observed) = match aggregate {
                    Some(aggregate) => {
                        let verdict = threshold.evaluate(aggregate, elapsed);
                        (verdict.ok, verdict.observed)
                    }
                    None => (false, None),
                };
                thresholds.push(ThresholdResult {
                    selector: set.selector.clone(),
                    source: threshold.source.clone(),
                    aggregation: threshold.expression.aggregation,
                    ok,
                    observed,
                });
            }
        }
        let series_names = Metric::ALL
            .iter()
            .map(|m| m.name().to_string())
            .chain(plan.layout.submetrics.iter().map(Selector::to_string))
            .collect();
        Report {
            scenario_file,
            elapsed,
            series,
            series_names,
            checks: plan.layout.checks.clone(),
            trend_stats: plan.trend_stats.clone(),
            thresholds,
            scenarios,
            aborted: None,
            interrupted: false,
            baseline: None,
            target: None,
        }
    }

    pub fn thresholds_failed(&self) -> usize {
        self.thresholds.iter().filter(|t| !t.ok).count()
    }

    pub fn baseline_failed(&self) -> bool {
        self.baseline.as_ref().is_some_and(Comparison::regressed)
    }

    /// Thresholds, the baseline and any abort all passed.
    pub fn passed(&self) -> bool {
        self.thresholds_failed() == 0 && !self.baseline_failed() && self.aborted.is_none()
    }

    /// The aggregate of a series by name (a metric or a submetric selector).
    pub fn aggregate(&self, name: &str) -> Option<&Aggregate> {
        let index = self.series_names.iter().position(|n| n == name)?;
        self.series.aggregates.get(index)
    }
}

/// Where a run happened, so a comparison across machines can say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub traceforge: String,
    pub os: String,
    pub arch: String,
    pub cpus: usize,
    pub scenario: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Environment {
    pub fn current(scenario: &str, target: Option<String>) -> Environment {
        Environment {
            traceforge: env!("CARGO_PKG_VERSION").to_string(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            scenario: scenario.to_string(),
            target,
        }
    }
}

/// What a statistic measures, which decides its direction and noise floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Milliseconds; higher is worse; floor 1 ms.
    Latency,
    /// A failure share; higher is worse; floor 1 percentage point.
    FailureRate,
    /// A success share; lower is worse; floor 1 percentage point.
    SuccessRate,
    /// Per second; lower is worse; floor 1/s.
    Throughput,
}

impl Unit {
    pub(crate) fn floor(self) -> f64 {
        match self {
            Unit::Latency => 1.0,
            Unit::FailureRate | Unit::SuccessRate => 0.01,
            Unit::Throughput => 1.0,
        }
    }

    pub(crate) fn higher_is_worse(self) -> bool {
        matches!(self, Unit::Latency | Unit::FailureRate)
    }
}

/// One compared statistic.
#[derive(Debug, Clone)]
pub struct Row {
    pub metric: String,
    pub stat: String,
    pub baseline: f64,
    pub current: f64,
    pub(crate) unit: Unit,
    pub regressed: bool,
}

impl Row {
    /// Relative change, signed (positive = higher now); `None` from a zero baseline.
    pub fn change(&self) -> Option<f64> {
        (self.baseline != 0.0).then(|| (self.current - self.baseline) / self.baseline)
    }
}

/// A run compared with a baseline.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub file: String,
    pub max_regression: f64,
    pub rows: Vec<Row>,
    pub environment: Environment,
    /// Differences between the baseline's environment and this run's.
    pub notes: Vec<String>,
}

impl Comparison {
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.regressed)
    }
}
