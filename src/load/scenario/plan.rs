//! What a scenario file becomes: the [`Plan`] the engine runs, its scenarios with their
//! [`Executor`] settings (defaults applied), request templates, checks, and the errors of a file
//! that cannot become one; also k6's defaults and the limits a file must stay within. Types,
//! constants and their small descriptions only: no parsing, no I/O.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::cassette::matcher::JsonPath;
use crate::load::metrics::{Aggregation, Layout};
use crate::load::thresholds::ThresholdSet;
use crate::load::units::duration_text;

/// k6's default `gracefulStop` and `gracefulRampDown`.
pub(super) const DEFAULT_GRACEFUL: Duration = Duration::from_secs(30);
/// k6's default HTTP timeout.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// k6's default `maxDuration` for `per-vu-iterations`.
pub(super) const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(600);
/// The longest duration a scenario may give anything (a duration, a stage, `startTime`,
/// `gracefulStop`, a request `timeout`, …): a year. Longer is a typo, not a test, and the cap
/// keeps every deadline the engine computes (start + startTime + duration + gracefulStop) far
/// inside what an `Instant` can hold, where a larger value panicked the run.
pub(super) const MAX_DURATION: Duration = Duration::from_secs(365 * 86400);
/// The most VUs a test may use, in any one VU setting and over all its scenarios together.
/// Every VU is allocated when its scenario starts (a task, its connections, their buffers:
/// about 6 kB idle, far more with responses in flight), so `vus: 1000000` exhausted memory and
/// `preAllocatedVUs: 1000000000` aborted on a 104 GB allocation. 100,000 is beyond what one
/// machine's client can keep busy (k6 advises tens of thousands per instance).
pub(super) const MAX_VUS: u64 = 100_000;
/// The highest arrival rate, in iterations per second (`rate` or a stage's `target` over
/// `timeUnit`). The pacer releases every scheduled start, however late, so at a rate it cannot
/// keep up with the run never ends (`rate: 1e12` did not); 100,000/s is five times what
/// benches/load.sh drives and beyond what one machine's client sustains.
pub(super) const MAX_RATE: u64 = 100_000;
/// The name k6 gives the scenario built from the shortcut options.
pub const DEFAULT_SCENARIO: &str = "default";

/// A scenario file that cannot be run; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error(transparent)]
    Yaml(#[from] crate::yaml::FileError),
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
        let d = |d: &Duration| duration_text(*d);
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
