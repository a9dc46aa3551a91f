//! Baselines: `--save-baseline` stores a run's latency histograms (HDR, V2 deflate, base64),
//! its aggregates and the environment it ran in; `--baseline` compares a run against one,
//! direction-aware: latencies and failure rates regress upwards, throughput and check pass rates
//! downwards. A change fails only when it is worse than `--max-regression` (relative) *and*
//! worse than the metric's absolute noise floor, so a 0.3 ms → 0.5 ms blip on a fast endpoint
//! is not a regression. It reads the run from the [`Report`] and leaves the [`Comparison`] there;
//! drawing it is `summary`'s job, so this never imports the renderer. Reading and writing the
//! file is the only I/O here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::metrics::{Aggregate, Aggregation, Trend};
use super::report::{Comparison, Environment, Report, Row, Unit};

/// The version of the baseline file format.
pub const BASELINE_VERSION: u32 = 1;
const KIND: &str = "traceforge-load-baseline";

/// Why a baseline could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{path}: not a traceforge load baseline: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredMetric {
    #[serde(rename = "type")]
    kind: String,
    values: BTreeMap<String, f64>,
    /// Trends: the HDR histogram of microseconds, V2 deflate serialised, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    histogram: Option<String>,
}

/// A saved baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    version: u32,
    kind: String,
    saved_at: String,
    pub environment: Environment,
    test_run_duration_ms: f64,
    metrics: BTreeMap<String, StoredMetric>,
}

impl Baseline {
    /// The baseline of a finished run.
    pub fn from_report(report: &Report, environment: Environment) -> Baseline {
        let mut metrics = BTreeMap::new();
        let stats = [
            Aggregation::Avg,
            Aggregation::Min,
            Aggregation::Med,
            Aggregation::Max,
            Aggregation::Percentile(90.0),
            Aggregation::Percentile(95.0),
            Aggregation::Percentile(99.0),
        ];
        for (name, aggregate) in report.series_names.iter().zip(&report.series.aggregates) {
            if !aggregate.has_samples() {
                continue;
            }
            let histogram = match aggregate {
                Aggregate::Trend(trend) => trend.histogram().and_then(encode),
                _ => None,
            };
            let kind = match aggregate {
                Aggregate::Counter { .. } => "counter",
                Aggregate::Rate { .. } => "rate",
                Aggregate::Trend(_) => "trend",
                Aggregate::Gauge(_) => "gauge",
            };
            metrics.insert(
                name.clone(),
                StoredMetric {
                    kind: kind.to_string(),
                    values: aggregate
                        .values(report.elapsed, &stats)
                        .into_iter()
                        .collect(),
                    histogram,
                },
            );
        }
        Baseline {
            version: BASELINE_VERSION,
            kind: KIND.to_string(),
            saved_at: crate::cassette::now(),
            environment,
            test_run_duration_ms: report.elapsed.as_secs_f64() * 1000.0,
            metrics,
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| BaselineError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        text.push('\n');
        crate::cassette::files::write_atomically(path, text.as_bytes()).map_err(|e| {
            BaselineError::Io {
                path: path.to_path_buf(),
                error: std::io::Error::other(e.to_string()),
            }
        })
    }

    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|error| BaselineError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let baseline: Baseline = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("line {}, column {}: {e}", e.line(), e.column())))?;
        if baseline.kind != KIND {
            return Err(invalid(format!("kind is {:?}", baseline.kind)));
        }
        if baseline.version != BASELINE_VERSION {
            return Err(invalid(format!(
                "version {} is not supported (this build reads version {BASELINE_VERSION})",
                baseline.version
            )));
        }
        Ok(baseline)
    }

    /// A statistic of a stored metric: from its histogram when it has one, else its values.
    fn statistic(&self, metric: &str, stat: Aggregation) -> Option<f64> {
        let stored = self.metrics.get(metric)?;
        if let Some(trend) = stored.histogram.as_deref().and_then(decode) {
            return trend.stat_ms(stat);
        }
        stored.values.get(&stat.label()).copied()
    }
}

fn encode(histogram: &Histogram<u64>) -> Option<String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn decode(text: &str) -> Option<Trend> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    let histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .ok()?;
    Some(Trend::from_histogram(histogram))
}

/// Parses `--max-regression`: `10%`, `10` (percent) or `2.5%`.
pub fn parse_max_regression(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / 100.0),
        _ => Err(format!("{text:?} is not a percentage; write it like 10%")),
    }
}

/// Worse than both the relative limit and the unit's absolute noise floor.
fn regressed(unit: Unit, old: f64, new: f64, max_regression: f64) -> bool {
    let worse_by = if unit.higher_is_worse() {
        new - old
    } else {
        old - new
    };
    let within_limit = old != 0.0 && worse_by / old.abs() <= max_regression;
    worse_by > unit.floor() && !within_limit
}

/// The statistics a comparison looks at.
const COMPARED: &[(&str, Aggregation, Unit)] = &[
    ("http_req_duration", Aggregation::Med, Unit::Latency),
    (
        "http_req_duration",
        Aggregation::Percentile(95.0),
        Unit::Latency,
    ),
    (
        "http_req_duration",
        Aggregation::Percentile(99.0),
        Unit::Latency,
    ),
    ("http_req_failed", Aggregation::Rate, Unit::FailureRate),
    ("http_reqs", Aggregation::Rate, Unit::Throughput),
    ("checks", Aggregation::Rate, Unit::SuccessRate),
    ("llm_ttft", Aggregation::Med, Unit::Latency),
    ("llm_ttft", Aggregation::Percentile(95.0), Unit::Latency),
    ("llm_itl", Aggregation::Med, Unit::Latency),
    ("llm_itl", Aggregation::Percentile(95.0), Unit::Latency),
    ("llm_tpot", Aggregation::Med, Unit::Latency),
    ("llm_tpot", Aggregation::Percentile(95.0), Unit::Latency),
    ("llm_output_tokens", Aggregation::Rate, Unit::Throughput),
];

impl Baseline {
    /// This run compared with the baseline, statistic by statistic (see the module docs).
    pub fn compare(
        &self,
        file: &Path,
        report: &Report,
        environment: &Environment,
        max_regression: f64,
    ) -> Comparison {
        let mut rows = Vec::new();
        for (metric, stat, unit) in COMPARED {
            let Some(old) = self.statistic(metric, *stat) else {
                continue;
            };
            let Some(new) = report
                .aggregate(metric)
                .and_then(|a| a.statistic(*stat, report.elapsed))
            else {
                continue;
            };
            let regressed = regressed(*unit, old, new, max_regression);
            rows.push(Row {
                metric: (*metric).to_string(),
                stat: stat.label(),
                baseline: old,
                current: new,
                unit: *unit,
                regressed,
            });
        }
        let old = &self.environment;
        let mut notes = Vec::new();
        if old.cpus != environment.cpus {
            notes.push(format!(
                "the baseline ran on {} CPUs, this run on {}",
                old.cpus, environment.cpus
            ));
        }
        if (&old.os, &old.arch) != (&environment.os, &environment.arch) {
            notes.push(format!(
                "the baseline ran on {}/{}, this run on {}/{}",
                old.os, old.arch, environment.os, environment.arch
            ));
        }
        if old.traceforge != environment.traceforge {
            notes.push(format!(
                "the baseline was saved by traceforge {}, this is {}",
                old.traceforge, environment.traceforge
            ));
        }
        if old.scenario != environment.scenario {
            notes.push(format!(
                "the baseline ran scenario file {}, this run {}",
                old.scenario, environment.scenario
            ));
        }
        Comparison {
            file: file.display().to_string(),
            max_regression,
            rows,
            environment: old.clone(),
            notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_regression_reads_percentages() {
        assert_eq!(parse_max_regression("10%"), Ok(0.1));
        assert_eq!(parse_max_regression("2.5"), Ok(0.025));
        assert!(parse_max_regression("ten").is_err());
        assert!(parse_max_regression("-5%").is_err());
    }

    #[test]
    fn histograms_round_trip_through_the_file_encoding() {
        let mut trend = Trend::default();
        for ms in 1..=1000u64 {
            trend.record_us(ms * 1000);
        }
        let decoded = decode(&encode(trend.histogram().unwrap()).unwrap()).unwrap();
        assert_eq!(decoded.count(), 1000);
        let p99 = decoded.stat_ms(Aggregation::Percentile(99.0)).unwrap();
        assert!((p99 - 990.0).abs() < 1.0, "{p99}");
    }

    #[test]
    fn regressions_need_both_the_relative_limit_and_the_floor() {
        let judge = |unit: Unit, old: f64, new: f64| regressed(unit, old, new, 0.10);
        assert!(!judge(Unit::Latency, 0.3, 0.9), "tiny latencies are noise");
        assert!(!judge(Unit::Latency, 100.0, 109.0), "within 10%");
        assert!(judge(Unit::Latency, 100.0, 150.0));
        assert!(
            !judge(Unit::Latency, 100.0, 50.0),
            "faster is not a regression"
        );
        assert!(judge(Unit::Throughput, 1000.0, 800.0));
        assert!(!judge(Unit::Throughput, 1000.0, 1200.0));
        assert!(judge(Unit::FailureRate, 0.0, 0.05));
        assert!(!judge(Unit::FailureRate, 0.0, 0.005));
        assert!(judge(Unit::SuccessRate, 1.0, 0.8));
    }
}
