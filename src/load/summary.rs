//! The end-of-test report: thresholds judged against the merged metrics, the k6-like text
//! summary (thresholds with ✓/✗ and observed values, then the metrics grouped HTTP, LLM,
//! execution, network, and the checks) rendered with comfy-table, and the `--summary-export`
//! JSON in the shape of k6's handleSummary data (`metrics.NAME.{type, contains, values,
//! thresholds}`) plus a `version`. Pure functions of the [`Report`]; no I/O.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::baseline::Comparison;
use super::metrics::{Aggregate, Aggregation, Group, Metric, MetricKind, Selector, Series};
use super::scenario::Plan;
use super::units::{bytes_text, duration_text, ms_text, number_text};

/// Renders a header and rows as a table (the command passes its comfy-table helper).
pub type TableFn = dyn Fn(&[&str], Vec<Vec<String>>) -> String;

/// The version of the `--summary-export` document.
pub const SUMMARY_VERSION: u32 = 1;

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

    /// Every series with samples (or a threshold), by name, as `(name, metric, aggregate)`.
    fn reported_series(&self) -> Vec<(String, Metric, &Aggregate)> {
        let metric_of = |name: &str| {
            Metric::from_name(name.split('{').next().unwrap_or(name)).unwrap_or(Metric::HttpReqs)
        };
        self.series_names
            .iter()
            .zip(&self.series.aggregates)
            .filter(|(name, aggregate)| {
                aggregate.has_samples()
                    || self
                        .thresholds
                        .iter()
                        .any(|t| t.selector.to_string() == **name)
            })
            .map(|(name, aggregate)| (name.clone(), metric_of(name), aggregate))
            .collect()
    }

    /// Statistics shown for trends: the configured ones plus any percentile a threshold names.
    fn trend_columns(&self) -> Vec<Aggregation> {
        let mut stats = self.trend_stats.clone();
        for t in &self.thresholds {
            if matches!(t.aggregation, Aggregation::Percentile(_))
                && !stats.contains(&t.aggregation)
            {
                stats.push(t.aggregation);
            }
        }
        stats
    }

    /// The k6-like text summary.
    pub fn text(&self, table: &TableFn) -> String {
        let mut out = String::new();
        let max_vus: u64 = self.scenarios.iter().map(|s| s.max_vus).sum();
        let _ = writeln!(
            out,
            "traceforge load {}: {} scenario(s), up to {} VUs, ran {}",
            self.scenario_file,
            self.scenarios.len(),
            max_vus,
            duration_text(self.elapsed)
        );
        for s in &self.scenarios {
            let dropped = if s.dropped > 0 {
                format!(", {} dropped", s.dropped)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {}: {} ({}), {} iterations{dropped}",
                s.name, s.description, s.executor, s.iterations
            );
        }

        if !self.thresholds.is_empty() {
            let rows = self
                .thresholds
                .iter()
                .map(|t| {
                    vec![
                        mark(t.ok).to_string(),
                        t.selector.to_string(),
                        t.source.clone(),
                        match t.observed {
                            Some(v) => format!(
                                "{}={}",
                                t.aggregation.label(),
                                value_text(t.selector.metric, t.aggregation, v)
                            ),
                            None => "no samples (the metric was never recorded)".to_string(),
                        },
                    ]
                })
                .collect();
            out.push('\n');
            out.push_str(&table(&["", "THRESHOLDS", "threshold", "observed"], rows));
        }

        let series = self.reported_series();
        let stats = self.trend_columns();
        for group in Group::ALL {
            let mut rows = Vec::new();
            for metric in Metric::ALL.iter().filter(|m| m.group() == group) {
                for (name, _, aggregate) in series.iter().filter(|(_, m, _)| m == metric) {
                    let label = match name.find('{') {
                        Some(at) => format!("  {}", &name[at..]),
                        None => name.clone(),
                    };
                    let mut row = vec![label, self.value_cell(*metric, aggregate)];
                    for stat in &stats {
                        row.push(match aggregate {
                            Aggregate::Trend(t) => {
                                t.stat_ms(*stat).map_or_else(|| "-".into(), ms_text)
                            }
                            _ => String::new(),
                        });
                    }
                    rows.push(row);
                }
            }
            if group == Group::Checks {
                for (id, (scenario, check)) in self.checks.iter().enumerate() {
                    let (passes, fails) = self.series.checks.get(id).copied().unwrap_or((0, 0));
                    let total = passes + fails;
                    let mut row = vec![
                        format!("  {} {check}", mark(fails == 0 && total > 0)),
                        format!("{} ✓ {passes} ✗ {fails}", percent(passes, total)),
                    ];
                    row.extend(stats.iter().map(|_| String::new()));
                    if self.scenarios.len() > 1 {
                        row[0] = format!("{} ({scenario})", row[0]);
                    }
                    rows.push(row);
                }
            }
            if rows.is_empty() {
                continue;
            }
            let has_trends = series
                .iter()
                .any(|(_, m, _)| m.group() == group && m.kind() == MetricKind::Trend);
            let labels: Vec<String> = stats.iter().map(|s| s.label()).collect();
            let mut header = vec![group.title(), "value"];
            if has_trends {
                header.extend(labels.iter().map(String::as_str));
            } else {
                for row in &mut rows {
                    row.truncate(2);
                }
            }
            out.push('\n');
            out.push_str(&table(&header, rows));
        }

        if let Some(comparison) = &self.baseline {
            out.push('\n');
            out.push_str(&comparison.text(table));
        }
        if !self.series.errors.is_empty() {
            out.push_str("\nerrors:\n");
            for (message, n) in &self.series.errors {
                let _ = writeln!(out, "  {n} × {message}");
            }
        }
        out.push('\n');
        if let Some(reason) = &self.aborted {
            let _ = writeln!(out, "✗ aborted: {reason}");
        }
        if self.interrupted {
            let _ = writeln!(
                out,
                "interrupted after {}: the summary covers the run so far",
                duration_text(self.elapsed)
            );
        }
        let failed = self.thresholds_failed();
        match (self.thresholds.len(), failed) {
            (0, _) => {}
            (n, 0) => {
                let _ = writeln!(out, "✓ all {n} thresholds passed");
            }
            (n, f) => {
                let _ = writeln!(out, "✗ {f} of {n} thresholds failed");
            }
        }
        if let Some(comparison) = &self.baseline {
            let _ = writeln!(out, "{}", comparison.verdict());
        }
        out
    }

    fn value_cell(&self, metric: Metric, aggregate: &Aggregate) -> String {
        let rate = |a| aggregate.statistic(a, self.elapsed).unwrap_or(0.0);
        match aggregate {
            Aggregate::Counter { sum, .. } => {
                if metric.contains() == "data" {
                    format!(
                        "{} {}/s",
                        bytes_text(*sum as f64),
                        bytes_text(rate(Aggregation::Rate))
                    )
                } else {
                    format!("{sum} {}/s", number_text(rate(Aggregation::Rate), Some(2)))
                }
            }
            Aggregate::Rate { passes, total } => {
                format!("{} {passes} of {total}", percent(*passes, *total))
            }
            Aggregate::Gauge(Some(g)) => format!(
                "{} min={} max={}",
                number_text(g.value, Some(2)),
                number_text(g.min, Some(2)),
                number_text(g.max, Some(2))
            ),
            Aggregate::Gauge(None) => "-".into(),
            Aggregate::Trend(t) if t.count() == 0 => "no samples".into(),
            Aggregate::Trend(t) => format!("{} samples", t.count()),
        }
    }

    /// The `--summary-export` document.
    pub fn json(&self) -> Value {
        let stats = self.trend_columns();
        let mut metrics = BTreeMap::new();
        for (name, metric, aggregate) in self.reported_series() {
            let mut values = Map::new();
            for (k, v) in aggregate.values(self.elapsed, &stats) {
                values.insert(k, json_number(v));
            }
            let mut thresholds = Map::new();
            for t in self
                .thresholds
                .iter()
                .filter(|t| t.selector.to_string() == name)
            {
                thresholds.insert(t.source.clone(), json!({"ok": t.ok}));
            }
            let mut entry = Map::new();
            entry.insert("type".into(), json!(metric.kind().name()));
            entry.insert("contains".into(), json!(metric.contains()));
            entry.insert("values".into(), Value::Object(values));
            if !thresholds.is_empty() {
                entry.insert("thresholds".into(), Value::Object(thresholds));
            }
            entry.insert("formula".into(), json!(metric.formula()));
            metrics.insert(name, Value::Object(entry));
        }
        let checks: Vec<Value> = self
            .checks
            .iter()
            .enumerate()
            .map(|(id, (scenario, name))| {
                let (passes, fails) = self.series.checks.get(id).copied().unwrap_or((0, 0));
                json!({"name": name, "path": format!("::{name}"), "scenario": scenario,
                       "passes": passes, "fails": fails})
            })
            .collect();
        let scenarios: Map<String, Value> = self
            .scenarios
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    json!({"executor": s.executor, "description": s.description,
                           "iterations": s.iterations, "dropped_iterations": s.dropped,
                           "max_vus": s.max_vus}),
                )
            })
            .collect();
        let mut document = json!({
            "version": SUMMARY_VERSION,
            "state": {
                "testRunDurationMs": json_number(self.elapsed.as_secs_f64() * 1000.0),
                "interrupted": self.interrupted,
                "aborted": self.aborted,
            },
            "result": {
                "passed": self.passed(),
                "thresholds": self.thresholds.len(),
                "thresholds_failed": self.thresholds_failed(),
                "baseline_failed": self.baseline_failed(),
            },
            "options": {
                "summaryTrendStats": stats.iter().map(|s| s.label()).collect::<Vec<_>>(),
            },
            "root_group": {"name": "", "path": "", "groups": [], "checks": checks},
            "scenarios": scenarios,
            "metrics": metrics,
            "errors": self.series.errors,
        });
        if let Some(comparison) = &self.baseline {
            document["baseline"] = comparison.json();
        }
        document
    }
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

fn percent(part: u64, total: u64) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{:.2}%", part as f64 * 100.0 / total as f64)
}

fn json_number(v: f64) -> Value {
    // Three decimals keep microseconds in milliseconds and keep the document stable.
    let rounded = (v * 1000.0).round() / 1000.0;
    serde_json::Number::from_f64(rounded).map_or(Value::Null, Value::Number)
}

/// A threshold's observed value in the metric's unit.
fn value_text(metric: Metric, aggregation: Aggregation, value: f64) -> String {
    match (metric.kind(), aggregation) {
        (MetricKind::Trend, _) => ms_text(value),
        (MetricKind::Rate, _) => format!("{:.2}%", value * 100.0),
        (MetricKind::Counter, Aggregation::Rate) => format!("{}/s", number_text(value, Some(2))),
        _ => number_text(value, Some(2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::metrics::{GaugeValue, Layout, Series, Trend};
    use crate::load::scenario::{parse, ParseOptions};

    fn plain_table(header: &[&str], rows: Vec<Vec<String>>) -> String {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::NOTHING);
        table.set_header(header.iter().copied());
        for row in rows {
            table.add_row(row);
        }
        let mut text = table
            .to_string()
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        text
    }

    /// A report from synthetic samples, so the rendering is deterministic.
    fn report() -> Report {
        let text = r#"
scenarios:
  chat:
    executor: constant-vus
    vus: 2
    duration: 10s
    request: {url: "http://127.0.0.1:9/v1/chat/completions", body: {stream: true}}
    checks:
      - {status: 200}
thresholds:
  http_req_duration: ["p(95)<500", "p(99.9)<20"]
  "http_req_duration{scenario:chat}": ["avg<100"]
  http_req_failed: ["rate<0.1"]
  llm_ttft: ["p(95)<300"]
  dropped_iterations: ["count<1"]
"#;
        let plan = parse(
            std::path::Path::new("chat.yaml"),
            text,
            &ParseOptions::default(),
        )
        .unwrap();
        let mut series = Series::new(&plan.layout);
        let routes = plan.layout.routes(&std::collections::BTreeMap::from([(
            "scenario".to_string(),
            "chat".to_string(),
        )]));
        for i in 1..=100u64 {
            let status = if i % 20 == 0 { 500 } else { 200 };
            let ok = status == 200;
            series.count(Metric::HttpReqs, &routes, status, ok, 1);
            series.rate(Metric::HttpReqFailed, &routes, status, ok, !ok);
            series.trend(
                Metric::HttpReqDuration,
                &routes,
                status,
                ok,
                Duration::from_millis(i),
            );
            series.trend(
                Metric::LlmTtft,
                &routes,
                status,
                ok,
                Duration::from_millis(200 + i),
            );
            series.count(Metric::LlmOutputTokens, &routes, status, ok, 10);
            series.count(Metric::DataReceived, &routes, status, ok, 1500);
            series.check(0, &vec![Vec::new(); Metric::ALL.len()], ok);
            series.count(Metric::Iterations, &routes, 0, true, 1);
        }
        series.set_gauge(
            Metric::Vus,
            Some(GaugeValue {
                value: 2.0,
                min: 2.0,
                max: 2.0,
            }),
        );
        let _ = (Layout::default(), Trend::default());
        Report::new(
            &plan,
            "chat.yaml".into(),
            series,
            Duration::from_secs(10),
            vec![ScenarioResult {
                name: "chat".into(),
                executor: "constant-vus".into(),
                description: "2 looping VUs for 10s".into(),
                iterations: 100,
                dropped: 0,
                max_vus: 2,
            }],
        )
    }

    #[test]
    fn the_summary_reads_like_k6() {
        let report = report();
        // p(99.9)<20 fails on its value, count<1 on a metric that has no samples.
        assert_eq!(report.thresholds_failed(), 2);
        insta::assert_snapshot!(report.text(&plain_table));
    }

    #[test]
    fn the_json_export_has_k6s_shape() {
        let json = report().json();
        assert_eq!(json["version"], 1);
        let duration = &json["metrics"]["http_req_duration"];
        assert_eq!(duration["type"], "trend");
        assert_eq!(duration["contains"], "time");
        assert_eq!(duration["values"]["max"], 100.0);
        assert_eq!(duration["thresholds"]["p(95)<500"]["ok"], true);
        assert_eq!(duration["thresholds"]["p(99.9)<20"]["ok"], false);
        assert_eq!(json["metrics"]["http_req_failed"]["values"]["rate"], 0.05);
        assert_eq!(json["metrics"]["http_reqs"]["values"]["rate"], 10.0);
        assert_eq!(
            json["metrics"]["llm_output_tokens"]["values"]["rate"],
            100.0
        );
        assert!(json["metrics"]["llm_ttft"]["formula"]
            .as_str()
            .unwrap()
            .contains("role-only"));
        assert_eq!(
            json["metrics"]["http_req_duration{scenario:chat}"]["thresholds"]["avg<100"]["ok"],
            true
        );
        assert_eq!(
            json["metrics"]["dropped_iterations"]["thresholds"]["count<1"]["ok"],
            false
        );
        assert_eq!(json["root_group"]["checks"][0]["passes"], 95);
        assert_eq!(json["result"]["passed"], false);
    }
}
