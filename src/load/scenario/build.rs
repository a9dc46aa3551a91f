//! From the file's shape to a [`Plan`]: the shortcut options as the `default` scenario, each
//! scenario's executor with k6's defaults, the rules serde cannot express (which executor takes
//! which field, required fields, a scenario inheriting the top-level requests and checks),
//! thresholds with their submetrics and percentiles, and TLS when a request is `https`. Errors
//! are located in the text by the [`Builder`]. Reading the file is the only I/O.

use std::path::Path;
use std::time::Duration;

use super::locate::Builder;
use super::plan::{
    Executor, ParseOptions, Plan, ScenarioError, ScenarioPlan, Stage, DEFAULT_GRACEFUL,
    DEFAULT_MAX_DURATION, DEFAULT_SCENARIO, MAX_RATE, MAX_VUS,
};
use super::shape::{
    DurationText, ExecutorName, RawCheck, RawFile, RawFromCassettes, RawRequest, RawScenario,
    RawStage,
};
use crate::load::metrics::{Aggregation, Layout, Metric, MetricKind};
use crate::load::thresholds::{Threshold, ThresholdSet};
use crate::load::units::duration_text;
use crate::yaml;
use crate::yaml::locate::locate_key;

/// Reads and checks a scenario file.
pub fn load(path: &Path, options: &ParseOptions) -> Result<Plan, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse(path, &text, options)
}

/// Parses scenario text; `path` names the file in errors and anchors relative cassette dirs.
pub fn parse(path: &Path, text: &str, options: &ParseOptions) -> Result<Plan, ScenarioError> {
    let raw: RawFile = yaml::from_file_text(path, text)?;
    let builder = Builder {
        path,
        text,
        options,
    };
    builder.plan(raw)
}

/// The request settings a scenario inherits from the top level when it has none of its own.
#[derive(Clone, Default)]
struct Workload {
    request: Option<RawRequest>,
    requests: Option<Vec<RawRequest>>,
    from_cassettes: Option<RawFromCassettes>,
    checks: Option<Vec<RawCheck>>,
}

impl Builder<'_> {
    fn plan(&self, mut raw: RawFile) -> Result<Plan, ScenarioError> {
        let workload = Workload {
            request: raw.request.take(),
            requests: raw.requests.take(),
            from_cassettes: raw.from_cassettes.take(),
            checks: raw.checks.take(),
        };
        let shortcut = raw.vus.is_some() || raw.duration.is_some() || raw.stages.is_some();
        let mut raw_scenarios: Vec<(String, RawScenario)> = match (raw.scenarios.take(), shortcut) {
            (Some(_), true) => {
                let key = ["vus", "duration", "stages"]
                    .into_iter()
                    .find(|k| locate_key(self.text, &[k]).is_some())
                    .unwrap_or("vus");
                return Err(self.error_at(
                    &[key],
                    "the shortcut options vus/duration/stages cannot be combined with `scenarios:`; \
                     move them into a scenario"
                        .into(),
                ));
            }
            (Some(scenarios), false) => scenarios.into_iter().collect(),
            (None, true) => vec![(DEFAULT_SCENARIO.to_string(), self.shortcut(&mut raw)?)],
            (None, false) => {
                return Err(ScenarioError::Invalid {
                    path: self.path.to_path_buf(),
                    message: "nothing to run: add `scenarios:` or the shortcut options \
                              `vus` and `duration` (or `stages`)"
                        .into(),
                })
            }
        };
        if raw_scenarios.is_empty() {
            return Err(self.error_at(&["scenarios"], "no scenarios defined".into()));
        }

        let mut scenarios = Vec::new();
        let mut checks_layout = Vec::new();
        for (name, raw_scenario) in raw_scenarios.drain(..) {
            let scenario = self.scenario(&name, raw_scenario, &workload, checks_layout.len())?;
            checks_layout.extend(
                scenario
                    .checks
                    .iter()
                    .map(|c| (scenario.name.clone(), c.name.clone())),
            );
            scenarios.push(scenario);
        }

        // Each scenario is within the limit; together they may not be.
        let total = scenarios
            .iter()
            .map(|s| s.executor.max_vus())
            .fold(0, u64::saturating_add);
        if total > MAX_VUS {
            return Err(self.error_at(
                &["scenarios"],
                format!("the scenarios use {total} VUs together; at most {MAX_VUS} in one test"),
            ));
        }

        let mut thresholds = Vec::new();
        let mut submetrics = Vec::new();
        let mut trend_stats: Vec<Aggregation> = match &raw.summary_trend_stats {
            Some(stats) => stats.iter().map(|s| s.0).collect(),
            None => vec![
                Aggregation::Avg,
                Aggregation::Min,
                Aggregation::Med,
                Aggregation::Max,
                Aggregation::Percentile(90.0),
                Aggregation::Percentile(95.0),
                Aggregation::Percentile(99.0),
            ],
        };
        for (key, raw_thresholds) in raw.thresholds.take().unwrap_or_default() {
            let selector = key.0;
            let label = selector.to_string();
            let mut set = Vec::new();
            for raw_threshold in raw_thresholds {
                let aggregation = raw_threshold.expression.aggregation;
                if !aggregation.applies_to(selector.metric.kind()) {
                    return Err(self.error_at_text(
                        &["thresholds"],
                        &raw_threshold.source,
                        format!(
                            "{label}: {:?}: a {} metric has no `{}` (use {})",
                            raw_threshold.source,
                            selector.metric.kind().name(),
                            aggregation.label(),
                            match selector.metric.kind() {
                                MetricKind::Trend => "avg, min, med, max or p(N)",
                                MetricKind::Counter => "count or rate",
                                MetricKind::Rate => "rate",
                                MetricKind::Gauge => "value, min or max",
                            }
                        ),
                    ));
                }
                if matches!(selector.metric, Metric::Vus | Metric::VusMax)
                    && !selector.tags.is_empty()
                {
                    return Err(self.error_at_text(
                        &["thresholds"],
                        &label,
                        format!("{label}: the {} gauge has no tags", selector.metric.name()),
                    ));
                }
                if let Aggregation::Percentile(_) = aggregation {
                    if !trend_stats.contains(&aggregation) && raw.summary_trend_stats.is_none() {
                        trend_stats.push(aggregation);
                    }
                }
                set.push(Threshold {
                    source: raw_threshold.source,
                    expression: raw_threshold.expression,
                    abort_on_fail: raw_threshold.abort_on_fail,
                    delay_abort_eval: raw_threshold.delay_abort_eval,
                });
            }
            if !selector.tags.is_empty() && !submetrics.contains(&selector) {
                submetrics.push(selector.clone());
            }
            thresholds.push(ThresholdSet {
                selector,
                thresholds: set,
            });
        }
        let https = scenarios
            .iter()
            .flat_map(|s| &s.requests)
            .any(|r| r.url.scheme() == "https");
        let tls = match https {
            true => Some(crate::tls::client_config(
                raw.insecure_skip_tls_verify,
                self.options.cert_file.as_deref(),
            )?),
            false => None,
        };
        Ok(Plan {
            scenarios,
            thresholds,
            trend_stats,
            tls,
            layout: Layout {
                submetrics,
                checks: checks_layout,
            },
        })
    }

    /// k6's shortcut options as one scenario named `default`.
    fn shortcut(&self, raw: &mut RawFile) -> Result<RawScenario, ScenarioError> {
        let mut scenario = RawScenario {
            executor: ExecutorName::ConstantVus,
            start_time: None,
            graceful_stop: None,
            tags: None,
            vus: None,
            duration: None,
            stages: None,
            start_vus: None,
            graceful_ramp_down: None,
            rate: None,
            start_rate: None,
            time_unit: None,
            pre_allocated_vus: None,
            max_vus: None,
            iterations: None,
            max_duration: None,
            request: None,
            requests: None,
            from_cassettes: None,
            checks: None,
        };
        match (raw.stages.take(), raw.duration.take()) {
            (Some(stages), None) => {
                scenario.executor = ExecutorName::RampingVus;
                scenario.stages = Some(stages);
                scenario.start_vus = raw.vus;
            }
            (Some(_), Some(_)) => {
                return Err(self.error_at(
                    &["duration"],
                    "the shortcut `stages` sets the duration; remove `duration`".into(),
                ))
            }
            (None, Some(duration)) => {
                scenario.vus = raw.vus;
                scenario.duration = Some(duration);
            }
            (None, None) => {
                return Err(self.error_at(
                    &["vus"],
                    "the shortcut `vus` needs `duration` (or `stages`)".into(),
                ))
            }
        }
        Ok(scenario)
    }

    fn scenario(
        &self,
        name: &str,
        raw: RawScenario,
        workload: &Workload,
        first_check: usize,
    ) -> Result<ScenarioPlan, ScenarioError> {
        let at = |field: &str| -> Vec<String> {
            if name == DEFAULT_SCENARIO && locate_key(self.text, &["scenarios"]).is_none() {
                vec![field.to_string()]
            } else {
                vec!["scenarios".into(), name.into(), field.into()]
            }
        };
        let err = |field: &str, message: String| {
            let keys = at(field);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            self.error_at(&keys, message)
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(self.error_at(
                &["scenarios", name],
                format!("scenario name {name:?} may only use letters, digits, `_`, `-` and `.`"),
            ));
        }

        // Which executor-specific fields were given, so a misplaced one is named.
        let given: Vec<(&str, bool)> = vec![
            ("vus", raw.vus.is_some()),
            ("duration", raw.duration.is_some()),
            ("stages", raw.stages.is_some()),
            ("startVUs", raw.start_vus.is_some()),
            ("gracefulRampDown", raw.graceful_ramp_down.is_some()),
            ("rate", raw.rate.is_some()),
            ("startRate", raw.start_rate.is_some()),
            ("timeUnit", raw.time_unit.is_some()),
            ("preAllocatedVUs", raw.pre_allocated_vus.is_some()),
            ("maxVUs", raw.max_vus.is_some()),
            ("iterations", raw.iterations.is_some()),
            ("maxDuration", raw.max_duration.is_some()),
        ];
        let allowed = raw.executor.fields();
        if let Some((field, _)) = given
            .iter()
            .find(|(field, present)| *present && !allowed.contains(field))
        {
            return Err(err(
                field,
                format!(
                    "executor {} does not take `{field}` (it takes {})",
                    raw.executor.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
        let required = |field: &str| {
            err(
                field,
                format!("executor {} needs `{field}`", raw.executor.as_str()),
            )
        };
        let positive = |field: &str, value: u64| {
            if value == 0 {
                Err(err(field, format!("`{field}` must be at least 1")))
            } else {
                Ok(value)
            }
        };
        let at_most_vus = |field: &str, value: u64| {
            if value > MAX_VUS {
                Err(err(
                    field,
                    format!("`{field}` must be at most {MAX_VUS} VUs (it is {value})"),
                ))
            } else {
                Ok(value)
            }
        };
        // An error at a stage's `target`: `stages.N.target`.
        let stage_err = |index: usize, message: String| {
            let mut keys = at("stages");
            keys.extend([index.to_string(), "target".to_string()]);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            self.error_at(&keys, message)
        };
        // What is wrong with `value` iterations per `time_unit`, if it is over the limit.
        let over_rate = |value: u64, time_unit: Duration| {
            (value as f64 / time_unit.as_secs_f64() > MAX_RATE as f64).then(|| {
                format!(
                    "must be at most {MAX_RATE} iterations per second (it is {value} per {})",
                    duration_text(time_unit)
                )
            })
        };
        let nonzero = |field: &str, value: Duration| {
            if value.is_zero() {
                Err(err(field, format!("`{field}` must be longer than 0s")))
            } else {
                Ok(value)
            }
        };
        let stages = |raw: Option<Vec<RawStage>>| -> Result<Vec<Stage>, ScenarioError> {
            let stages: Vec<Stage> = raw
                .ok_or_else(|| required("stages"))?
                .into_iter()
                .map(|s| Stage {
                    duration: s.duration.0,
                    target: s.target,
                })
                .collect();
            if stages.is_empty() {
                return Err(err("stages", "`stages` needs at least one stage".into()));
            }
            Ok(stages)
        };
        let d = |v: Option<DurationText>| v.map(|d| d.0);
        // The arrival-rate executors: `preAllocatedVUs` (required) and `maxVUs` (default: the
        // same), and `timeUnit` (default 1s).
        let arrival_vus = || -> Result<(u64, u64), ScenarioError> {
            let pre = raw
                .pre_allocated_vus
                .ok_or_else(|| required("preAllocatedVUs"))?;
            let pre = at_most_vus("preAllocatedVUs", pre)?;
            let max = at_most_vus("maxVUs", raw.max_vus.unwrap_or(pre))?;
            if max < pre.max(1) {
                return Err(err(
                    "maxVUs",
                    format!(
                        "`maxVUs` ({max}) must be at least 1 and at least preAllocatedVUs ({pre})"
                    ),
                ));
            }
            Ok((pre, max))
        };
        let time_unit = || {
            nonzero(
                "timeUnit",
                d(raw.time_unit).unwrap_or(Duration::from_secs(1)),
            )
        };

        let executor = match raw.executor {
            ExecutorName::ConstantVus => Executor::ConstantVus {
                vus: at_most_vus("vus", positive("vus", raw.vus.unwrap_or(1))?)?,
                duration: nonzero(
                    "duration",
                    d(raw.duration).ok_or_else(|| required("duration"))?,
                )?,
            },
            ExecutorName::RampingVus => {
                let start_vus = at_most_vus("startVUs", raw.start_vus.unwrap_or(1))?;
                let stages = stages(raw.stages)?;
                if let Some((i, stage)) =
                    stages.iter().enumerate().find(|(_, s)| s.target > MAX_VUS)
                {
                    return Err(stage_err(
                        i,
                        format!(
                            "a stage's `target` must be at most {MAX_VUS} VUs (it is {})",
                            stage.target
                        ),
                    ));
                }
                Executor::RampingVus {
                    start_vus,
                    stages,
                    graceful_ramp_down: d(raw.graceful_ramp_down).unwrap_or(DEFAULT_GRACEFUL),
                }
            }
            ExecutorName::ConstantArrivalRate => {
                let (pre, max) = arrival_vus()?;
                let rate = positive("rate", raw.rate.ok_or_else(|| required("rate"))?)?;
                let time_unit = time_unit()?;
                if let Some(problem) = over_rate(rate, time_unit) {
                    return Err(err("rate", format!("`rate` {problem}")));
                }
                Executor::ConstantArrivalRate {
                    rate,
                    time_unit,
                    duration: nonzero(
                        "duration",
                        d(raw.duration).ok_or_else(|| required("duration"))?,
                    )?,
                    pre_allocated_vus: pre,
                    max_vus: max,
                }
            }
            ExecutorName::RampingArrivalRate => {
                let (pre, max) = arrival_vus()?;
                let start_rate = raw.start_rate.unwrap_or(0);
                let time_unit = time_unit()?;
                if let Some(problem) = over_rate(start_rate, time_unit) {
                    return Err(err("startRate", format!("`startRate` {problem}")));
                }
                let stages = stages(raw.stages)?;
                for (i, stage) in stages.iter().enumerate() {
                    if let Some(problem) = over_rate(stage.target, time_unit) {
                        return Err(stage_err(i, format!("a stage's `target` {problem}")));
                    }
                }
                Executor::RampingArrivalRate {
                    start_rate,
                    time_unit,
                    stages,
                    pre_allocated_vus: pre,
                    max_vus: max,
                }
            }
            ExecutorName::PerVuIterations => Executor::PerVuIterations {
                vus: at_most_vus("vus", positive("vus", raw.vus.unwrap_or(1))?)?,
                iterations: positive("iterations", raw.iterations.unwrap_or(1))?,
                max_duration: nonzero(
                    "maxDuration",
                    d(raw.max_duration).unwrap_or(DEFAULT_MAX_DURATION),
                )?,
            },
        };

        let own = raw.request.is_some() || raw.requests.is_some() || raw.from_cassettes.is_some();
        let work = if own {
            Workload {
                request: raw.request,
                requests: raw.requests,
                from_cassettes: raw.from_cassettes,
                checks: raw.checks.or_else(|| workload.checks.clone()),
            }
        } else {
            Workload {
                checks: raw.checks.or_else(|| workload.checks.clone()),
                ..workload.clone()
            }
        };
        let keys = at("request");
        let base: Vec<&str> = keys[..keys.len() - 1].iter().map(String::as_str).collect();
        let requests = match (work.request, work.requests, work.from_cassettes) {
            (Some(request), None, None) => {
                vec![self.request(&[&base[..], &["request"]].concat(), request)?]
            }
            (None, Some(list), None) => {
                if list.is_empty() {
                    return Err(err("requests", "`requests` is empty".into()));
                }
                let mut out = Vec::new();
                for (i, request) in list.into_iter().enumerate() {
                    let index = i.to_string();
                    out.push(self.request(&[&base[..], &["requests", &index]].concat(), request)?);
                }
                out
            }
            (None, None, Some(from)) => {
                self.cassette_requests(&[&base[..], &["from_cassettes"]].concat(), from)?
            }
            (None, None, None) => {
                return Err(self.error_at(
                    &base,
                    format!(
                        "scenario {name:?} has nothing to send: give it `request`, `requests` or \
                         `from_cassettes` (or put one at the top level)"
                    ),
                ))
            }
            _ => {
                return Err(self.error_at(
                    &base,
                    "give only one of `request`, `requests` and `from_cassettes`".into(),
                ))
            }
        };
        let checks = work
            .checks
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, check)| self.check(&[&base[..], &["checks", &i.to_string()]].concat(), check))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(ScenarioPlan {
            name: name.to_string(),
            executor,
            start_time: d(raw.start_time).unwrap_or(Duration::ZERO),
            graceful_stop: d(raw.graceful_stop).unwrap_or(DEFAULT_GRACEFUL),
            tags: raw.tags.unwrap_or_default(),
            requests,
            checks,
            first_check,
        })
    }
}
