//! The scenario file: k6's options written as YAML (`scenarios:` with executors, or the
//! shortcut `vus`/`duration`/`stages`), requests given inline or drawn from cassettes, checks,
//! and thresholds. Parsing goes through [`crate::yaml`] with `deny_unknown_fields`, so a typo is
//! an error naming the file, line and column; rules serde cannot express (which executor takes
//! which field, required fields, unset `${VARS}`) are checked afterwards and located in the text
//! by their key. The result is a [`Plan`] the executors run. No async, no network.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::metrics::{Aggregation, Layout, Metric, Selector, ThresholdSyntaxError};
use super::thresholds::{Expression, Threshold, ThresholdSet};
use crate::cassette::matcher::JsonPath;
use crate::cassette::{files, Body, CassetteName};
use crate::yaml;

/// k6's default `gracefulStop` and `gracefulRampDown`.
const DEFAULT_GRACEFUL: Duration = Duration::from_secs(30);
/// k6's default HTTP timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// k6's default `maxDuration` for `per-vu-iterations`.
const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(600);
/// The name k6 gives the scenario built from the shortcut options.
pub const DEFAULT_SCENARIO: &str = "default";

/// A scenario file that cannot be run; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    At {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// The scenario has https requests and `SSL_CERT_FILE` names an unusable file.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// How a test runs: its scenarios, thresholds and which series the metrics keep.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenarios: Vec<ScenarioPlan>,
    pub thresholds: Vec<ThresholdSet>,
    /// The trend statistics the summary shows (`summaryTrendStats`).
    pub trend_stats: Vec<Aggregation>,
    pub layout: Layout,
    /// The TLS client configuration, when some request is `https`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// One scenario, ready to run.
#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    pub name: String,
    pub executor: Executor,
    pub start_time: Duration,
    pub graceful_stop: Duration,
    pub tags: BTreeMap<String, String>,
    /// Picked round-robin, one per iteration.
    pub requests: Vec<RequestTemplate>,
    pub checks: Vec<Check>,
    /// The id of this scenario's first check in the [`Layout`].
    pub first_check: usize,
}

/// k6's executors and their settings (defaults applied).
#[derive(Debug, Clone, PartialEq)]
pub enum Executor {
    ConstantVus {
        vus: u64,
        duration: Duration,
    },
    RampingVus {
        start_vus: u64,
        stages: Vec<Stage>,
        graceful_ramp_down: Duration,
    },
    ConstantArrivalRate {
        rate: u64,
        time_unit: Duration,
        duration: Duration,
        pre_allocated_vus: u64,
        max_vus: u64,
    },
    RampingArrivalRate {
        start_rate: u64,
        time_unit: Duration,
        stages: Vec<Stage>,
        pre_allocated_vus: u64,
        max_vus: u64,
    },
    PerVuIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
}

/// A ramp: reach `target` (VUs, or iterations per time unit) linearly over `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub duration: Duration,
    pub target: u64,
}

impl Executor {
    pub fn name(&self) -> &'static str {
        match self {
            Executor::ConstantVus { .. } => "constant-vus",
            Executor::RampingVus { .. } => "ramping-vus",
            Executor::ConstantArrivalRate { .. } => "constant-arrival-rate",
            Executor::RampingArrivalRate { .. } => "ramping-arrival-rate",
            Executor::PerVuIterations { .. } => "per-vu-iterations",
        }
    }

    /// Open-model executors start iterations on a schedule, whatever the responses do.
    pub fn is_open_model(&self) -> bool {
        matches!(
            self,
            Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. }
        )
    }

    /// How long the executor schedules work, before `gracefulStop`.
    pub fn duration(&self) -> Duration {
        match self {
            Executor::ConstantVus { duration, .. }
            | Executor::ConstantArrivalRate { duration, .. } => *duration,
            Executor::RampingVus { stages, .. } | Executor::RampingArrivalRate { stages, .. } => {
                stages.iter().map(|s| s.duration).sum()
            }
            Executor::PerVuIterations { max_duration, .. } => *max_duration,
        }
    }

    /// The most VUs the executor may use.
    pub fn max_vus(&self) -> u64 {
        match self {
            Executor::ConstantVus { vus, .. } | Executor::PerVuIterations { vus, .. } => *vus,
            Executor::RampingVus {
                start_vus, stages, ..
            } => stages.iter().map(|s| s.target).fold(*start_vus, u64::max),
            Executor::ConstantArrivalRate { max_vus, .. }
            | Executor::RampingArrivalRate { max_vus, .. } => *max_vus,
        }
    }

    /// One line for the summary, in k6's words.
    pub fn describe(&self) -> String {
        let d = |d: &Duration| super::units::duration_text(*d);
        match self {
            Executor::ConstantVus { vus, duration } => {
                format!("{vus} looping VUs for {}", d(duration))
            }
            Executor::RampingVus {
                start_vus, stages, ..
            } => format!(
                "up to {} looping VUs for {} over {} stages (startVUs: {start_vus})",
                self.max_vus(),
                d(&self.duration()),
                stages.len()
            ),
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                pre_allocated_vus,
                max_vus,
            } => format!(
                "{rate} iterations/{} for {} (maxVUs: {pre_allocated_vus}-{max_vus})",
                d(time_unit),
                d(duration)
            ),
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                pre_allocated_vus,
                max_vus,
            } => format!(
                "up to {} iterations/{} over {} stages from {start_rate} (maxVUs: {pre_allocated_vus}-{max_vus})",
                stages.iter().map(|s| s.target).fold(*start_rate, u64::max),
                d(time_unit),
                stages.len()
            ),
            Executor::PerVuIterations {
                vus,
                iterations,
                max_duration,
            } => format!(
                "{iterations} iterations for each of {vus} VUs (maxDuration: {})",
                d(max_duration)
            ),
        }
    }
}

/// One request an iteration sends.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub method: http::Method,
    pub url: url::Url,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// The `name` tag (k6: the URL unless named).
    pub name: String,
    pub timeout: Duration,
}

impl RequestTemplate {
    /// The tags every sample of this request carries besides `status` and `expected_response`.
    pub fn tags(&self, scenario: &ScenarioPlan) -> BTreeMap<String, String> {
        let mut tags = scenario.tags.clone();
        tags.insert("scenario".into(), scenario.name.clone());
        tags.insert("method".into(), self.method.to_string());
        tags.insert("url".into(), self.url.to_string());
        tags.insert("name".into(), self.name.clone());
        tags
    }
}

/// A named assertion on every response of a scenario; the `checks` rate counts them.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub condition: Condition,
}

#[derive(Debug, Clone)]
pub enum Condition {
    Status(Vec<u16>),
    BodyContains(String),
    BodyNotContains(String),
    BodyMatches(regex::Regex),
    /// The path names at least one value (equal to `equals`, when given).
    Json {
        path: JsonPath,
        equals: Option<Value>,
    },
}

impl Condition {
    /// Whether evaluating it needs the response body.
    pub fn needs_body(&self) -> bool {
        !matches!(self, Condition::Status(_))
    }
}

/// Where requests drawn from cassettes are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CassetteTarget {
    /// The in-process replay server at this base URL: `{base}/{upstream}{path}`, with the
    /// cassette named in `X-TraceForge-Cassette`.
    Replay(String),
    /// A server standing in for the upstream: `{base}{path}`.
    Upstream(String),
}

/// What parsing needs from outside the file.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// `${NAME}` values: `--env`, then `--target`/`--replay`, then the process environment.
    pub vars: BTreeMap<String, String>,
    pub cassette_target: Option<CassetteTarget>,
    /// `SSL_CERT_FILE`: trust the certificates in this PEM file instead of the bundled roots.
    pub cert_file: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------------
// The file's shape.

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a scenario file: a mapping with `scenarios:` (or the shortcut `vus`/`duration`/`stages`) and `thresholds:`"
)]
struct RawFile {
    scenarios: Option<BTreeMap<String, RawScenario>>,
    vus: Option<u64>,
    duration: Option<DurationText>,
    stages: Option<Vec<RawStage>>,
    request: Option<RawRequest>,
    requests: Option<Vec<RawRequest>>,
    from_cassettes: Option<RawFromCassettes>,
    checks: Option<Vec<RawCheck>>,
    thresholds: Option<BTreeMap<SelectorKey, Vec<RawThreshold>>>,
    #[serde(rename = "summaryTrendStats")]
    summary_trend_stats: Option<Vec<TrendStat>>,
    /// k6's option: accept any certificate from https targets.
    #[serde(rename = "insecureSkipTLSVerify", default)]
    insecure_skip_tls_verify: bool,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a scenario: a mapping with `executor:` and its settings"
)]
struct RawScenario {
    executor: ExecutorName,
    #[serde(rename = "startTime")]
    start_time: Option<DurationText>,
    #[serde(rename = "gracefulStop")]
    graceful_stop: Option<DurationText>,
    tags: Option<BTreeMap<String, String>>,
    vus: Option<u64>,
    duration: Option<DurationText>,
    stages: Option<Vec<RawStage>>,
    #[serde(rename = "startVUs")]
    start_vus: Option<u64>,
    #[serde(rename = "gracefulRampDown")]
    graceful_ramp_down: Option<DurationText>,
    rate: Option<u64>,
    #[serde(rename = "startRate")]
    start_rate: Option<u64>,
    #[serde(rename = "timeUnit")]
    time_unit: Option<DurationText>,
    #[serde(rename = "preAllocatedVUs")]
    pre_allocated_vus: Option<u64>,
    #[serde(rename = "maxVUs")]
    max_vus: Option<u64>,
    iterations: Option<u64>,
    #[serde(rename = "maxDuration")]
    max_duration: Option<DurationText>,
    request: Option<RawRequest>,
    requests: Option<Vec<RawRequest>>,
    from_cassettes: Option<RawFromCassettes>,
    checks: Option<Vec<RawCheck>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ExecutorName {
    ConstantVus,
    RampingVus,
    ConstantArrivalRate,
    RampingArrivalRate,
    PerVuIterations,
}

impl ExecutorName {
    fn as_str(self) -> &'static str {
        match self {
            ExecutorName::ConstantVus => "constant-vus",
            ExecutorName::RampingVus => "ramping-vus",
            ExecutorName::ConstantArrivalRate => "constant-arrival-rate",
            ExecutorName::RampingArrivalRate => "ramping-arrival-rate",
            ExecutorName::PerVuIterations => "per-vu-iterations",
        }
    }

    /// The executor-specific fields it takes (k6's).
    fn fields(self) -> &'static [&'static str] {
        match self {
            ExecutorName::ConstantVus => &["vus", "duration"],
            ExecutorName::RampingVus => &["startVUs", "stages", "gracefulRampDown"],
            ExecutorName::ConstantArrivalRate => {
                &["rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"]
            }
            ExecutorName::RampingArrivalRate => &[
                "startRate",
                "timeUnit",
                "stages",
                "preAllocatedVUs",
                "maxVUs",
            ],
            ExecutorName::PerVuIterations => &["vus", "iterations", "maxDuration"],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a stage: {duration, target}")]
struct RawStage {
    duration: DurationText,
    target: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a request: a mapping with `url:` and optionally method, headers, body, stream, name, timeout"
)]
struct RawRequest {
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Value>,
    /// Ask for a streamed response (sets `"stream": true` in a JSON object body).
    stream: Option<bool>,
    /// The `name` tag; k6 uses the URL by default.
    name: Option<String>,
    timeout: Option<DurationText>,
}

/// `from_cassettes: DIR`, or `{dir: DIR, headers: {…}}` to add headers (an API key, say).
#[derive(Debug, Clone)]
struct RawFromCassettes {
    dir: String,
    headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromCassettesMap {
    dir: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for RawFromCassettes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFromCassettes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a directory of cassettes, or {dir: DIR, headers: {…}}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawFromCassettes {
                    dir: v.to_string(),
                    headers: BTreeMap::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let m = FromCassettesMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawFromCassettes {
                    dir: m.dir,
                    headers: m.headers,
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a check: a mapping with one of status, body_contains, body_not_contains, body_matches, json"
)]
struct RawCheck {
    name: Option<String>,
    status: Option<StatusList>,
    body_contains: Option<String>,
    body_not_contains: Option<String>,
    body_matches: Option<String>,
    json: Option<String>,
    equals: Option<Value>,
}

/// `status: 200` or `status: [200, 201]`.
#[derive(Debug, Clone)]
struct StatusList(Vec<u16>);

impl<'de> Deserialize<'de> for StatusList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        fn status<E: de::Error>(v: u64) -> Result<u16, E> {
            u16::try_from(v)
                .ok()
                .filter(|s| (100..=599).contains(s))
                .ok_or_else(|| E::custom(format!("status {v} is not an HTTP status (100-599)")))
        }
        impl<'de> Visitor<'de> for V {
            type Value = StatusList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HTTP status or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StatusList(vec![status(v)?]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "status {v} is not an HTTP status (100-599)"
                )))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut all = Vec::new();
                while let Some(v) = seq.next_element::<u64>()? {
                    all.push(status(v)?);
                }
                if all.is_empty() {
                    return Err(de::Error::custom("an empty status list never passes"));
                }
                Ok(StatusList(all))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A duration written as k6 writes them: `500ms`, `30s`, `1.5m`, `2h`.
#[derive(Debug, Clone, Copy)]
struct DurationText(Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 500ms, 30s or 5m")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                crate::duration::parse(v)
                    .map(DurationText)
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "duration {v} needs a unit (ms, s, m, h or d), e.g. \"{v}s\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "duration {v} needs a unit (ms, s, m, h or d), e.g. \"{v}s\""
                )))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A threshold's metric selector as a map key: `http_req_duration{scenario:chat}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SelectorKey(Selector);

impl<'de> Deserialize<'de> for SelectorKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Selector::parse(&text)
            .map(SelectorKey)
            .map_err(|e| de::Error::custom(format!("invalid threshold metric {e}")))
    }
}

/// `"p(95)<500"`, or k6's long form `{threshold: "p(95)<500", abortOnFail: true,
/// delayAbortEval: 10s}`.
#[derive(Debug, Clone)]
struct RawThreshold {
    source: String,
    expression: Expression,
    abort_on_fail: bool,
    delay_abort_eval: Duration,
}

struct ExpressionText(String, Expression);

impl<'de> Deserialize<'de> for ExpressionText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let expression = Expression::parse(&text).map_err(threshold_error::<D::Error>)?;
        Ok(ExpressionText(text, expression))
    }
}

fn threshold_error<E: de::Error>(e: ThresholdSyntaxError) -> E {
    E::custom(format!("invalid threshold {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LongThreshold {
    threshold: ExpressionText,
    #[serde(rename = "abortOnFail", default)]
    abort_on_fail: bool,
    #[serde(rename = "delayAbortEval")]
    delay_abort_eval: Option<DurationText>,
}

impl<'de> Deserialize<'de> for RawThreshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawThreshold;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a threshold such as \"p(95)<500\", or {threshold, abortOnFail, delayAbortEval}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawThreshold {
                    source: v.to_string(),
                    expression: Expression::parse(v).map_err(threshold_error::<E>)?,
                    abort_on_fail: false,
                    delay_abort_eval: Duration::ZERO,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let long = LongThreshold::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawThreshold {
                    source: long.threshold.0,
                    expression: long.threshold.1,
                    abort_on_fail: long.abort_on_fail,
                    delay_abort_eval: long.delay_abort_eval.map_or(Duration::ZERO, |d| d.0),
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One of `summaryTrendStats`: `avg`, `min`, `med`, `max` or `p(N)`.
#[derive(Debug, Clone, Copy)]
struct TrendStat(Aggregation);

impl<'de> Deserialize<'de> for TrendStat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let invalid = || {
            de::Error::custom(format!(
                "summaryTrendStats: {text:?} is not a trend statistic (avg, min, med, max, p(N))"
            ))
        };
        let parsed = Expression::parse(&format!("{text}<0")).map_err(|_| invalid())?;
        if parsed
            .aggregation
            .applies_to(super::metrics::MetricKind::Trend)
        {
            Ok(TrendStat(parsed.aggregation))
        } else {
            Err(invalid())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// From the file's shape to a plan.

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
    let raw: RawFile = yaml::from_str(text).map_err(|e| match (e.line, e.column) {
        (Some(line), Some(column)) => ScenarioError::At {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message,
        },
        _ => ScenarioError::Invalid {
            path: path.to_path_buf(),
            message: e.message,
        },
    })?;
    let builder = Builder {
        path,
        text,
        options,
    };
    builder.plan(raw)
}

struct Builder<'a> {
    path: &'a Path,
    text: &'a str,
    options: &'a ParseOptions,
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
    /// An error at the key `keys` (a path of mapping keys), or at the file when not found.
    fn error_at(&self, keys: &[&str], message: String) -> ScenarioError {
        let label = keys.join(".");
        let message = if label.is_empty() {
            message
        } else {
            format!("{label}: {message}")
        };
        // A missing key is reported at its nearest ancestor that is there.
        let found = (1..=keys.len())
            .rev()
            .find_map(|n| locate_key(self.text, &keys[..n]));
        match found {
            Some((line, column)) => ScenarioError::At {
                path: self.path.to_path_buf(),
                line,
                column,
                message,
            },
            None => ScenarioError::Invalid {
                path: self.path.to_path_buf(),
                message,
            },
        }
    }

    /// An error at the first occurrence of `needle` below the key path `keys`.
    fn error_at_text(&self, keys: &[&str], needle: &str, message: String) -> ScenarioError {
        let from = locate_key(self.text, keys).map_or(1, |(line, _)| line);
        match locate_text(self.text, from, needle) {
            Some((line, column)) => ScenarioError::At {
                path: self.path.to_path_buf(),
                line,
                column,
                message: format!("{}: {message}", keys.join(".")),
            },
            None => self.error_at(keys, message),
        }
    }

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
                                super::metrics::MetricKind::Trend => "avg, min, med, max or p(N)",
                                super::metrics::MetricKind::Counter => "count or rate",
                                super::metrics::MetricKind::Rate => "rate",
                                super::metrics::MetricKind::Gauge => "value, min or max",
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
            let max = raw.max_vus.unwrap_or(pre);
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
                vus: positive("vus", raw.vus.unwrap_or(1))?,
                duration: nonzero(
                    "duration",
                    d(raw.duration).ok_or_else(|| required("duration"))?,
                )?,
            },
            ExecutorName::RampingVus => Executor::RampingVus {
                start_vus: raw.start_vus.unwrap_or(1),
                stages: stages(raw.stages)?,
                graceful_ramp_down: d(raw.graceful_ramp_down).unwrap_or(DEFAULT_GRACEFUL),
            },
            ExecutorName::ConstantArrivalRate => {
                let (pre, max) = arrival_vus()?;
                Executor::ConstantArrivalRate {
                    rate: positive("rate", raw.rate.ok_or_else(|| required("rate"))?)?,
                    time_unit: time_unit()?,
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
                Executor::RampingArrivalRate {
                    start_rate: raw.start_rate.unwrap_or(0),
                    time_unit: time_unit()?,
                    stages: stages(raw.stages)?,
                    pre_allocated_vus: pre,
                    max_vus: max,
                }
            }
            ExecutorName::PerVuIterations => Executor::PerVuIterations {
                vus: positive("vus", raw.vus.unwrap_or(1))?,
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

    /// Replaces `${NAME}` (and `${NAME:-default}`) from the variables; `$${` is a literal `${`.
    fn substitute(&self, keys: &[&str], text: &str) -> Result<String, ScenarioError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(literal) = after.strip_prefix("${") {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(inner) = after.strip_prefix('{') else {
                out.push('$');
                rest = after;
                continue;
            };
            let Some(close) = inner.find('}') else {
                return Err(self.error_at_text(
                    keys,
                    &rest[at..],
                    format!("`${{` without a closing `}}` in {text:?}"),
                ));
            };
            let expression = &inner[..close];
            let (name, default) = match expression.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expression, None),
            };
            match (self.options.vars.get(name), default) {
                (Some(value), _) => out.push_str(value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    let hint = if name == "TARGET" {
                        " (pass --target URL or --replay DIR, or set it with --env TARGET=URL)"
                    } else {
                        " (set it in the environment or with --env NAME=VALUE)"
                    };
                    return Err(self.error_at_text(
                        keys,
                        &format!("${{{expression}}}"),
                        format!("${{{name}}} is not set{hint}"),
                    ));
                }
            }
            rest = &inner[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn substitute_json(&self, keys: &[&str], value: Value) -> Result<Value, ScenarioError> {
        Ok(match value {
            Value::String(s) => Value::String(self.substitute(keys, &s)?),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|v| self.substitute_json(keys, v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, self.substitute_json(keys, v)?)))
                    .collect::<Result<_, ScenarioError>>()?,
            ),
            other => other,
        })
    }

    fn url(&self, keys: &[&str], text: &str) -> Result<url::Url, ScenarioError> {
        let url = url::Url::parse(text).map_err(|e| {
            self.error_at(
                &[keys, &["url"]].concat(),
                format!("{text:?} is not a URL: {e}"),
            )
        })?;
        let at = [keys, &["url"]].concat();
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(self.error_at(
                &at,
                format!("{text:?}: scheme {scheme:?} is not http or https"),
            ));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(self.error_at(&at, format!("{text:?} has no host")));
        };
        if scheme == "https" {
            crate::tls::server_name(host)
                .map_err(|message| self.error_at(&at, format!("{text:?}: {message}")))?;
        }
        Ok(url)
    }

    fn headers(
        &self,
        keys: &[&str],
        headers: &BTreeMap<String, String>,
        into: &mut http::HeaderMap,
    ) -> Result<(), ScenarioError> {
        for (name, value) in headers {
            let at = [keys, &["headers", name.as_str()]].concat();
            let value = self.substitute(&at, value)?;
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| self.error_at(&at, format!("{name:?} is not a header name")))?;
            let value = http::HeaderValue::from_str(&value)
                .map_err(|_| self.error_at(&at, format!("{value:?} is not a header value")))?;
            into.insert(name, value);
        }
        Ok(())
    }

    fn request(&self, keys: &[&str], raw: RawRequest) -> Result<RequestTemplate, ScenarioError> {
        let url_text = self.substitute(&[keys, &["url"]].concat(), &raw.url)?;
        let url = self.url(keys, &url_text)?;
        let mut headers = http::HeaderMap::new();
        self.headers(keys, &raw.headers, &mut headers)?;
        let mut body = match raw.body {
            Some(value) => Some(self.substitute_json(&[keys, &["body"]].concat(), value)?),
            None => None,
        };
        if raw.stream == Some(true) {
            match &mut body {
                Some(Value::Object(map)) => {
                    map.entry("stream").or_insert(Value::Bool(true));
                }
                _ => {
                    return Err(self.error_at(
                        &[keys, &["stream"]].concat(),
                        "`stream: true` needs a JSON object `body` to set \"stream\" in".into(),
                    ))
                }
            }
        }
        let body = match body {
            None => Bytes::new(),
            Some(Value::String(text)) => Bytes::from(text),
            Some(value) => {
                if !headers.contains_key(http::header::CONTENT_TYPE) {
                    headers.insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                }
                Bytes::from(value.to_string())
            }
        };
        let method = match raw.method {
            Some(method) => http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| {
                    self.error_at(
                        &[keys, &["method"]].concat(),
                        format!("{method:?} is not an HTTP method"),
                    )
                })?,
            None if body.is_empty() => http::Method::GET,
            None => http::Method::POST,
        };
        Ok(RequestTemplate {
            method,
            name: raw.name.unwrap_or_else(|| url.to_string()),
            url,
            headers,
            body,
            timeout: raw.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0),
        })
    }

    /// Every recorded request of every cassette under the directory, in cassette-name and
    /// interaction order.
    fn cassette_requests(
        &self,
        keys: &[&str],
        raw: RawFromCassettes,
    ) -> Result<Vec<RequestTemplate>, ScenarioError> {
        let dir_text = self.substitute(keys, &raw.dir)?;
        let dir = self.path.parent().unwrap_or(Path::new(".")).join(&dir_text);
        let target = match &self.options.cassette_target {
            Some(target) => target.clone(),
            None => match self.options.vars.get("TARGET") {
                Some(base) => CassetteTarget::Upstream(base.clone()),
                None => {
                    return Err(self.error_at(
                        keys,
                        "requests from cassettes need somewhere to go: pass --target URL or \
                         --replay DIR"
                            .into(),
                    ))
                }
            },
        };
        let mut extra = http::HeaderMap::new();
        self.headers(keys, &raw.headers, &mut extra)?;
        let listed = files::list(&dir).map_err(|e| self.error_at(keys, e.to_string()))?;
        let mut out = Vec::new();
        for (name, file) in listed {
            let cassette = files::load(&file).map_err(|e| self.error_at(keys, e.to_string()))?;
            for interaction in &cassette.interactions {
                out.push(self.recorded_request(keys, &target, &name, interaction, &extra)?);
            }
        }
        if out.is_empty() {
            return Err(self.error_at(
                keys,
                format!("no recorded interactions in {}", dir.display()),
            ));
        }
        Ok(out)
    }

    fn recorded_request(
        &self,
        keys: &[&str],
        target: &CassetteTarget,
        cassette: &CassetteName,
        interaction: &crate::cassette::Interaction,
        extra: &http::HeaderMap,
    ) -> Result<RequestTemplate, ScenarioError> {
        /// Headers that describe the recorded connection, not the request.
        const SKIPPED: &[&str] = &[
            "content-length",
            "host",
            "transfer-encoding",
            "connection",
            "accept-encoding",
            "keep-alive",
        ];
        let recorded = &interaction.request;
        let url_text = match target {
            CassetteTarget::Replay(base) => format!(
                "{}/{}{}",
                base.trim_end_matches('/'),
                recorded.upstream,
                recorded.path
            ),
            CassetteTarget::Upstream(base) => {
                format!("{}{}", base.trim_end_matches('/'), recorded.path)
            }
        };
        let url = self.url(keys, &url_text)?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in &recorded.headers {
            if SKIPPED.contains(&name.to_ascii_lowercase().as_str()) || value == "REDACTED" {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        if let CassetteTarget::Replay(_) = target {
            if let Ok(value) = http::HeaderValue::from_str(cassette.as_str()) {
                headers.insert(crate::proxy::CASSETTE_HEADER, value);
            }
        }
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        let body = recorded
            .body
            .as_ref()
            .map(Body::to_bytes)
            .unwrap_or_default();
        if matches!(recorded.body, Some(Body::Json(_)))
            && !headers.contains_key(http::header::CONTENT_TYPE)
        {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        let method = http::Method::from_bytes(recorded.method.as_bytes()).map_err(|_| {
            self.error_at(
                keys,
                format!(
                    "cassette {cassette} interaction {}: {:?} is not an HTTP method",
                    interaction.id, recorded.method
                ),
            )
        })?;
        Ok(RequestTemplate {
            method,
            name: format!("{cassette}#{}", interaction.id),
            url,
            headers,
            body: Bytes::from(body),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    fn check(&self, keys: &[&str], raw: RawCheck) -> Result<Check, ScenarioError> {
        let mut conditions = Vec::new();
        if let Some(status) = raw.status {
            let name = format!(
                "status is {}",
                status
                    .0
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
            conditions.push((name, Condition::Status(status.0)));
        }
        if let Some(text) = raw.body_contains {
            conditions.push((
                format!("body contains {text:?}"),
                Condition::BodyContains(text),
            ));
        }
        if let Some(text) = raw.body_not_contains {
            conditions.push((
                format!("body does not contain {text:?}"),
                Condition::BodyNotContains(text),
            ));
        }
        if let Some(pattern) = raw.body_matches {
            let regex = regex::Regex::new(&pattern).map_err(|e| {
                self.error_at(
                    &[keys, &["body_matches"]].concat(),
                    format!("invalid regular expression: {e}"),
                )
            })?;
            conditions.push((
                format!("body matches /{pattern}/"),
                Condition::BodyMatches(regex),
            ));
        }
        if let Some(path) = raw.json {
            let parsed = JsonPath::parse(&path)
                .map_err(|e| self.error_at(&[keys, &["json"]].concat(), e))?;
            let name = match &raw.equals {
                Some(value) => format!("{path} == {value}"),
                None => format!("{path} exists"),
            };
            conditions.push((
                name,
                Condition::Json {
                    path: parsed,
                    equals: raw.equals.clone(),
                },
            ));
        } else if raw.equals.is_some() {
            return Err(self.error_at(
                &[keys, &["equals"]].concat(),
                "`equals` needs `json: $.path` to compare".into(),
            ));
        }
        if conditions.len() != 1 {
            return Err(self.error_at(
                keys,
                "a check needs exactly one of `status`, `body_contains`, `body_not_contains`, \
                 `body_matches` or `json`"
                    .into(),
            ));
        }
        let (default_name, condition) = conditions.remove(0);
        Ok(Check {
            name: raw.name.unwrap_or(default_name),
            condition,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Finding keys in the text, for errors serde cannot place.

/// The 1-based line and column of the key at `keys` (mapping keys, or list indexes as
/// numbers). Block style is followed by indentation; flow style (`{a: 1}`) by searching after
/// the parent. `None` when the path cannot be found.
fn locate_key(text: &str, keys: &[&str]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for key in keys {
        if let Ok(index) = key.parse::<usize>() {
            // The index-th `- ` item below the parent.
            let mut seen = 0;
            let mut hit = None;
            for (i, line) in lines.iter().enumerate().skip(from) {
                let indent = line.len() - line.trim_start().len();
                let trimmed = line.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                if i > from
                    && parent_indent.is_some_and(|p| indent <= p)
                    && !trimmed.starts_with('-')
                {
                    break;
                }
                if trimmed.starts_with("- ") || trimmed == "-" {
                    if seen == index {
                        hit = Some((i, indent));
                        break;
                    }
                    seen += 1;
                }
            }
            let (line, indent) = hit?;
            found = Some((line + 1, indent + 1));
            from = line;
            parent_indent = Some(indent);
            continue;
        }
        let patterns = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(from) {
            let trimmed = line.trim_start().trim_start_matches("- ");
            let indent = line.len() - trimmed.len();
            if i > from
                && parent_indent.is_some_and(|p| indent <= p)
                && !line.trim().is_empty()
                && !line.trim_start().starts_with('#')
            {
                break;
            }
            if patterns.iter().any(|p| trimmed.starts_with(p.as_str())) {
                hit = Some((i, indent));
                break;
            }
            // Flow style: the key inside braces on this line.
            if let Some(col) = patterns.iter().find_map(|p| {
                line.match_indices(p.as_str())
                    .find(|(at, _)| {
                        *at > 0 && matches!(line.as_bytes()[at - 1], b'{' | b' ' | b',')
                    })
                    .map(|(at, _)| at)
            }) {
                if i > from || found.is_none() || col > 0 {
                    hit = Some((i, col));
                    break;
                }
            }
        }
        let (line, indent) = hit?;
        found = Some((line + 1, indent + 1));
        from = line;
        parent_indent = Some(indent);
    }
    found
}

/// The 1-based position of the first `needle` at or after 1-based `from_line`.
fn locate_text(text: &str, from_line: usize, needle: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find_map(|(i, line)| {
            line.find(needle)
                .map(|at| (i + 1, line[..at].chars().count() + 1))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ParseOptions {
        ParseOptions {
            vars: BTreeMap::from([("TARGET".to_string(), "http://127.0.0.1:9".to_string())]),
            ..ParseOptions::default()
        }
    }

    fn parse_text(text: &str) -> Result<Plan, String> {
        parse(Path::new("s.yaml"), text, &options()).map_err(|e| e.to_string())
    }

    const PINNED: &str = r#"
scenarios:
  chat:
    executor: constant-vus
    vus: 4
    duration: 30s
    request:
      method: POST
      url: "${TARGET}/v1/chat/completions"
      headers: {content-type: application/json}
      body: {model: gpt-4o-mini, stream: true, messages: [{role: user, content: hello}]}
    checks:
      - {name: "status is 200", status: 200}
thresholds:
  http_req_duration: ["p(95)<500"]
"#;

    #[test]
    fn https_requests_get_a_tls_configuration_and_http_ones_none() {
        let plain = parse_text("vus: 1\nduration: 1s\nrequest: {url: \"http://h/\"}\n").unwrap();
        assert!(plain.tls.is_none());
        let secure = parse_text(
            "vus: 1\nduration: 1s\nrequests: [{url: \"http://h/\"}, {url: \"https://h/\"}]\n",
        )
        .unwrap();
        assert!(secure.tls.is_some());
        assert_eq!(
            secure.scenarios[0].requests[1].url.port_or_known_default(),
            Some(443)
        );
        let insecure = parse_text(
            "insecureSkipTLSVerify: true\nvus: 1\nduration: 1s\nrequest: {url: \"https://[::1]:8443/\"}\n",
        )
        .unwrap();
        assert!(insecure.tls.is_some());
    }

    #[test]
    fn the_pinned_shape_parses() {
        let plan = parse_text(PINNED).unwrap();
        assert_eq!(plan.scenarios.len(), 1);
        let chat = &plan.scenarios[0];
        assert_eq!(chat.name, "chat");
        assert_eq!(
            chat.executor,
            Executor::ConstantVus {
                vus: 4,
                duration: Duration::from_secs(30)
            }
        );
        assert_eq!(chat.graceful_stop, Duration::from_secs(30));
        let request = &chat.requests[0];
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["messages"][0]["content"], "hello");
        assert_eq!(body["stream"], true);
        assert_eq!(chat.checks[0].name, "status is 200");
        assert_eq!(plan.thresholds[0].selector.metric, Metric::HttpReqDuration);
        assert_eq!(plan.thresholds[0].thresholds[0].source, "p(95)<500");
    }

    #[test]
    fn every_executor_and_the_shortcuts_parse() {
        let text = r#"
request: {url: "${TARGET}/x"}
scenarios:
  a: {executor: ramping-vus, startVUs: 0, stages: [{duration: 1s, target: 4}, {duration: 2s, target: 0}], gracefulRampDown: 0s}
  b: {executor: constant-arrival-rate, rate: 50, timeUnit: 1s, duration: 3s, preAllocatedVUs: 10, maxVUs: 20, startTime: 1s, gracefulStop: 5s, tags: {tier: gold}}
  c: {executor: ramping-arrival-rate, startRate: 5, timeUnit: 500ms, stages: [{duration: 1s, target: 20}], preAllocatedVUs: 4}
  d: {executor: per-vu-iterations, vus: 2, iterations: 3}
"#;
        let plan = parse_text(text).unwrap();
        let names: Vec<&str> = plan.scenarios.iter().map(|s| s.executor.name()).collect();
        assert_eq!(
            names,
            [
                "ramping-vus",
                "constant-arrival-rate",
                "ramping-arrival-rate",
                "per-vu-iterations"
            ]
        );
        assert_eq!(plan.scenarios[1].start_time, Duration::from_secs(1));
        assert_eq!(plan.scenarios[1].tags["tier"], "gold");
        assert_eq!(plan.scenarios[2].executor.max_vus(), 4);
        assert_eq!(
            plan.scenarios[3].executor,
            Executor::PerVuIterations {
                vus: 2,
                iterations: 3,
                max_duration: Duration::from_secs(600)
            }
        );

        let plan = parse_text("vus: 3\nduration: 2s\nrequest: {url: \"${TARGET}/\"}\n").unwrap();
        assert_eq!(plan.scenarios[0].name, "default");
        assert_eq!(
            plan.scenarios[0].executor,
            Executor::ConstantVus {
                vus: 3,
                duration: Duration::from_secs(2)
            }
        );
        let plan =
            parse_text("stages: [{duration: 1s, target: 2}]\nrequest: {url: \"${TARGET}/\"}\n")
                .unwrap();
        assert_eq!(plan.scenarios[0].executor.name(), "ramping-vus");
    }

    #[test]
    fn bad_scenarios_name_line_column_and_field() {
        let cases: &[(&str, &str)] = &[
            (
                "scenarios:\n  chat:\n    executor: constant-vus\n    vuz: 4\n",
                "s.yaml:4:5: scenarios.chat: unknown field `vuz`",
            ),
            (
                "scenarios:\n  chat:\n    executor: shared-iterations\n",
                "s.yaml:3:15: scenarios.chat.executor: unknown variant `shared-iterations`",
            ),
            (
                "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 30x\n",
                "s.yaml:4:15: scenarios.chat.duration: duration \"30x\" has unknown unit",
            ),
            (
                "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 30\n",
                "s.yaml:4:15: scenarios.chat.duration: duration 30 needs a unit",
            ),
            (
                "request: {url: \"${TARGET}/\"}\nscenarios:\n  chat:\n    executor: constant-vus\n    duration: 1s\n    stages: []\n",
                "s.yaml:6:5: scenarios.chat.stages: executor constant-vus does not take `stages`",
            ),
            (
                "request: {url: \"${TARGET}/\"}\nscenarios:\n  chat:\n    executor: constant-arrival-rate\n    duration: 1s\n    rate: 5\n",
                "s.yaml:3:3: scenarios.chat.preAllocatedVUs: executor constant-arrival-rate needs `preAllocatedVUs`",
            ),
            (
                "request: {url: \"${NOPE}/\"}\nvus: 1\nduration: 1s\n",
                "s.yaml:1:17: request.url: ${NOPE} is not set",
            ),
            (
                "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_req_duration: [\"p(95)<<500\"]\n",
                "s.yaml:5:23: thresholds.http_req_duration[0]: invalid threshold \"p(95)<<500\", column 7: expected a number",
            ),
            (
                "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_req_duration: [\"rate<0.1\"]\n",
                "s.yaml:5:24: thresholds: http_req_duration: \"rate<0.1\": a trend metric has no `rate`",
            ),
            (
                "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_req_durationz: [\"p(95)<1\"]\n",
                "s.yaml:5:3: thresholds: invalid threshold metric \"http_req_durationz\", column 1: no metric named",
            ),
            (
                "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\", bogus: 1}\n",
                "s.yaml:3:30: request: unknown field `bogus`",
            ),
            (
                "vus: 1\nduration: 1s\n",
                "scenario \"default\" has nothing to send",
            ),
            (
                "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 1s\n    request: {url: \"ftp://x/\"}\n",
                "scenarios.chat.request.url: \"ftp://x/\": scheme \"ftp\" is not http or https",
            ),
            (
                "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nchecks:\n  - {status: 200, body_contains: x}\n",
                "s.yaml:5:3: checks.0: a check needs exactly one of",
            ),
            ("vus: [1\n", "s.yaml:"),
        ];
        for (text, expected) in cases {
            let error = parse_text(text).expect_err(text);
            assert!(
                error.contains(expected),
                "for\n{text}\nexpected {expected:?}\n     got {error:?}"
            );
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn variables_substitute_with_defaults_and_escapes() {
        let text = "vus: 1\nduration: 1s\nrequest:\n  url: \"${TARGET}/${PATH:-v1}/x?a=$${LITERAL}\"\n  headers: {authorization: \"Bearer ${TARGET}\"}\n";
        let plan = parse_text(text).unwrap();
        let request = &plan.scenarios[0].requests[0];
        assert_eq!(request.url.as_str(), "http://127.0.0.1:9/v1/x?a=${LITERAL}");
        assert_eq!(
            request.headers["authorization"],
            "Bearer http://127.0.0.1:9"
        );
        assert_eq!(request.method, http::Method::GET);
    }

    #[test]
    fn thresholds_collect_submetrics_and_percentiles() {
        let text = r#"
vus: 1
duration: 1s
request: {url: "${TARGET}/"}
thresholds:
  http_req_duration: ["p(99.9)<500", {threshold: "p(95)<100", abortOnFail: true, delayAbortEval: 10s}]
  "http_req_duration{scenario:default}": ["avg<100"]
  http_req_failed: ["rate<0.1"]
  checks: ["rate>0.99"]
"#;
        let plan = parse_text(text).unwrap();
        assert_eq!(plan.thresholds.len(), 4);
        assert_eq!(plan.layout.submetrics.len(), 1);
        let long = &plan.thresholds[0].thresholds[1];
        assert!(long.abort_on_fail);
        assert_eq!(long.delay_abort_eval, Duration::from_secs(10));
        assert!(plan.trend_stats.contains(&Aggregation::Percentile(99.9)));
    }

    #[test]
    fn keys_are_found_in_block_and_flow_style() {
        let text = "a:\n  b:\n    c: 1\n  d: {e: 2, f: 3}\nlist:\n  - x: 1\n  - y: 2\n";
        assert_eq!(locate_key(text, &["a", "b", "c"]), Some((3, 5)));
        assert_eq!(locate_key(text, &["a", "d", "f"]), Some((4, 13)));
        assert_eq!(locate_key(text, &["list", "1"]), Some((7, 3)));
        assert_eq!(locate_key(text, &["a", "zz"]), None);
    }
}
