//! The end-of-test report rendered: the k6-like text summary (thresholds with ✓/✗ and observed
//! values, then the metrics grouped HTTP, LLM, execution, network, and the checks, then the
//! baseline comparison) drawn by the table function the command passes, and the
//! `--summary-export` JSON in the shape of k6's handleSummary data (`metrics.NAME.{type,
//! contains, values, thresholds}`) plus a `version`. Pure functions of the [`Report`]; it
//! judges nothing (the report holds the verdicts) and does no I/O.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::metrics::{Aggregate, Aggregation, Group, Metric, MetricKind};
use super::report::{Comparison, Report, Unit};
use super::units::{bytes_text, duration_text, ms_text, number_text};

/// Renders a header and rows as a table (the command passes its comfy-table helper).
pub type TableFn = dyn Fn(&[&str], Vec<Vec<String>>) -> String;

/// The version of the `--summary-export` document.
pub const SUMMARY_VERSION: u32 = 1;

/// Every series with samples (or a threshold), by name, as `(name, metric, aggregate)`.
fn reported_series(report: &Report) -> Vec<(String, Metric, &Aggregate)> {
    let metric_of = |name: &str| {
        Metric::from_name(name.split('{').next().unwrap_or(name)).unwrap_or(Metric::HttpReqs)
    };
    report
        .series_names
        .iter()
        .zip(&report.series.aggregates)
        .filter(|(name, aggregate)| {
            aggregate.has_samples()
                || report
                    .thresholds
                    .iter()
                    .any(|t| t.selector.to_string() == **name)
        })
        .map(|(name, aggregate)| (name.clone(), metric_of(name), aggregate))
        .collect()
}

/// Statistics shown for trends: the configured ones plus any percentile a threshold names.
pub(super) fn trend_columns(report: &Report) -> Vec<Aggregation> {
    let mut stats = report.trend_stats.clone();
    for t in &report.thresholds {
        if matches!(t.aggregation, Aggregation::Percentile(_)) && !stats.contains(&t.aggregation) {
            stats.push(t.aggregation);
        }
    }
    stats
}

/// The k6-like text summary.
pub fn text(report: &Report, table: &TableFn) -> String {
    let mut out = String::new();
    let max_vus: u64 = report.scenarios.iter().map(|s| s.max_vus).sum();
    let _ = writeln!(
        out,
        "traceforge load {}: {} scenario(s), up to {} VUs, ran {}",
        report.scenario_file,
        report.scenarios.len(),
        max_vus,
        duration_text(report.elapsed)
    );
    for s in &report.scenarios {
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

    if !report.thresholds.is_empty() {
        let rows = report
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

    let series = reported_series(report);
    let stats = trend_columns(report);
    for group in Group::ALL {
        let mut rows = Vec::new();
        for metric in Metric::ALL.iter().filter(|m| m.group() == group) {
            for (name, _, aggregate) in series.iter().filter(|(_, m, _)| m == metric) {
                let label = match name.find('{') {
                    Some(at) => format!("  {}", &name[at..]),
                    None => name.clone(),
                };
                let mut row = vec![label, value_cell(report, *metric, aggregate)];
                for stat in &stats {
                    row.push(match aggregate {
                        Aggregate::Trend(t) => t.stat_ms(*stat).map_or_else(|| "-".into(), ms_text),
                        _ => String::new(),
                    });
                }
                rows.push(row);
            }
        }
        if group == Group::Checks {
            for (id, (scenario, check)) in report.checks.iter().enumerate() {
                let (passes, fails) = report.series.checks.get(id).copied().unwrap_or((0, 0));
                let total = passes + fails;
                let mut row = vec![
                    format!("  {} {check}", mark(fails == 0 && total > 0)),
                    format!("{} ✓ {passes} ✗ {fails}", percent(passes, total)),
                ];
                row.extend(stats.iter().map(|_| String::new()));
                if report.scenarios.len() > 1 {
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

    if let Some(comparison) = &report.baseline {
        out.push('\n');
        out.push_str(&comparison_text(comparison, table));
    }
    if !report.series.errors.is_empty() {
        out.push_str("\nerrors:\n");
        for (message, n) in &report.series.errors {
            let _ = writeln!(out, "  {n} × {message}");
        }
    }
    out.push('\n');
    if let Some(reason) = &report.aborted {
        let _ = writeln!(out, "✗ aborted: {reason}");
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "interrupted after {}: the summary covers the run so far",
            duration_text(report.elapsed)
        );
    }
    let failed = report.thresholds_failed();
    match (report.thresholds.len(), failed) {
        (0, _) => {}
        (n, 0) => {
            let _ = writeln!(out, "✓ all {n} thresholds passed");
        }
        (n, f) => {
            let _ = writeln!(out, "✗ {f} of {n} thresholds failed");
        }
    }
    if let Some(comparison) = &report.baseline {
        let _ = writeln!(out, "{}", verdict(comparison));
    }
    out
}

fn value_cell(report: &Report, metric: Metric, aggregate: &Aggregate) -> String {
    let rate = |a| aggregate.statistic(a, report.elapsed).unwrap_or(0.0);
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
pub fn json(report: &Report) -> Value {
    let stats = trend_columns(report);
    let mut metrics = BTreeMap::new();
    for (name, metric, aggregate) in reported_series(report) {
        let mut values = Map::new();
        for (k, v) in aggregate.values(report.elapsed, &stats) {
            values.insert(k, json_number(v));
        }
        let mut thresholds = Map::new();
        for t in report
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
    let checks: Vec<Value> = report
        .checks
        .iter()
        .enumerate()
        .map(|(id, (scenario, name))| {
            let (passes, fails) = report.series.checks.get(id).copied().unwrap_or((0, 0));
            json!({"name": name, "path": format!("::{name}"), "scenario": scenario,
                   "passes": passes, "fails": fails})
        })
        .collect();
    let scenarios: Map<String, Value> = report
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
            "testRunDurationMs": json_number(report.elapsed.as_secs_f64() * 1000.0),
            "interrupted": report.interrupted,
            "aborted": report.aborted,
        },
        "result": {
            "passed": report.passed(),
            "thresholds": report.thresholds.len(),
            "thresholds_failed": report.thresholds_failed(),
            "baseline_failed": report.baseline_failed(),
        },
        "options": {
            "summaryTrendStats": stats.iter().map(|s| s.label()).collect::<Vec<_>>(),
        },
        "root_group": {"name": "", "path": "", "groups": [], "checks": checks},
        "scenarios": scenarios,
        "metrics": metrics,
        "errors": report.series.errors,
    });
    if let Some(comparison) = &report.baseline {
        document["baseline"] = comparison_json(comparison);
    }
    document
}

/// The baseline table and any notes on the environments.
fn comparison_text(comparison: &Comparison, table: &TableFn) -> String {
    let rows = comparison
        .rows
        .iter()
        .map(|r| {
            vec![
                if r.regressed { "✗" } else { "✓" }.to_string(),
                r.metric.clone(),
                r.stat.clone(),
                unit_text(r.unit, r.baseline),
                unit_text(r.unit, r.current),
                r.change()
                    .map_or_else(|| "-".into(), |c| format!("{:+.1}%", c * 100.0)),
            ]
        })
        .collect();
    let mut out = table(&["", "BASELINE", "stat", "baseline", "now", "change"], rows);
    for note in &comparison.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// One line: passed, or which statistics regressed.
pub(super) fn verdict(comparison: &Comparison) -> String {
    let regressions: Vec<String> = comparison
        .rows
        .iter()
        .filter(|r| r.regressed)
        .map(|r| {
            format!(
                "{} {} {} → {}",
                r.metric,
                r.stat,
                unit_text(r.unit, r.baseline),
                unit_text(r.unit, r.current)
            )
        })
        .collect();
    let limit = format!(
        "{}%",
        number_text(comparison.max_regression * 100.0, Some(2))
    );
    if regressions.is_empty() {
        format!(
            "✓ no regression beyond {limit} against the baseline {}",
            comparison.file
        )
    } else {
        format!(
            "✗ regression beyond {limit} against the baseline {}: {}",
            comparison.file,
            regressions.join("; ")
        )
    }
}

/// The `baseline` member of the JSON export.
fn comparison_json(comparison: &Comparison) -> Value {
    json!({
        "file": comparison.file,
        "max_regression": comparison.max_regression,
        "regressed": comparison.regressed(),
        "environment": comparison.environment,
        "notes": comparison.notes,
        "comparisons": comparison.rows.iter().map(|r| json!({
            "metric": r.metric,
            "stat": r.stat,
            "baseline": r.baseline,
            "current": r.current,
            "change": r.change(),
            "noise_floor": r.unit.floor(),
            "worse_when": if r.unit.higher_is_worse() { "higher" } else { "lower" },
            "regressed": r.regressed,
        })).collect::<Vec<_>>(),
    })
}

/// A compared statistic in its unit.
pub(super) fn unit_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Latency => ms_text(v),
        Unit::FailureRate | Unit::SuccessRate => format!("{:.2}%", v * 100.0),
        Unit::Throughput => format!("{}/s", number_text(v, Some(2))),
    }
}

pub(super) fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

pub(super) fn percent(part: u64, total: u64) -> String {
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
pub(super) fn value_text(metric: Metric, aggregation: Aggregation, value: f64) -> String {
    match (metric.kind(), aggregation) {
        (MetricKind::Trend, _) => ms_text(value),
        (MetricKind::Rate, _) => format!("{:.2}%", value * 100.0),
        (MetricKind::Counter, Aggregation::Rate) => format!("{}/s", number_text(value, Some(2))),
        _ => number_text(value, Some(2)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::load::metrics::{GaugeValue, Layout, Series, Trend};
    use crate::load::report::ScenarioResult;
    use crate::load::scenario::{parse, ParseOptions};

    fn plain_table(header: &[&str], rows: Vec<Vec<String>>) -> String {
        crate::output::table(header, rows, false)
    }

    /// A report from synthetic samples, so the rendering is deterministic.
    pub(crate) fn report() -> Report {
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
        insta::assert_snapshot!(text(&report, &plain_table));
    }

    #[test]
    fn the_json_export_has_k6s_shape() {
        let json = json(&report());
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
