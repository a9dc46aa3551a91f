//! The scenario file's shape as serde reads it: k6's option names, `deny_unknown_fields`
//! everywhere so a typo is an error naming the file, line and column, and the small grammars a
//! value has (durations such as `1.5m`, `status: [200, 201]`, threshold selectors and
//! expressions, trend statistics), with a duration's limit checked where it is read. Only what
//! serde can check: which executor takes which field, required fields and the limits on VUs
//! and rates are `build`'s. No I/O.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::plan::MAX_DURATION;
use crate::load::metrics::{Aggregation, MetricKind, Selector, ThresholdSyntaxError};
use crate::load::thresholds::Expression;

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a scenario file: a mapping with `scenarios:` (or the shortcut `vus`/`duration`/`stages`) and `thresholds:`"
)]
pub(super) struct RawFile {
    pub(super) scenarios: Option<BTreeMap<String, RawScenario>>,
    pub(super) vus: Option<u64>,
    pub(super) duration: Option<DurationText>,
    pub(super) stages: Option<Vec<RawStage>>,
    pub(super) request: Option<RawRequest>,
    pub(super) requests: Option<Vec<RawRequest>>,
    pub(super) from_cassettes: Option<RawFromCassettes>,
    pub(super) checks: Option<Vec<RawCheck>>,
    pub(super) thresholds: Option<BTreeMap<SelectorKey, Vec<RawThreshold>>>,
    #[serde(rename = "summaryTrendStats")]
    pub(super) summary_trend_stats: Option<Vec<TrendStat>>,
    /// k6's option: accept any certificate from https targets.
    #[serde(rename = "insecureSkipTLSVerify", default)]
    pub(super) insecure_skip_tls_verify: bool,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a scenario: a mapping with `executor:` and its settings"
)]
pub(super) struct RawScenario {
    pub(super) executor: ExecutorName,
    #[serde(rename = "startTime")]
    pub(super) start_time: Option<DurationText>,
    #[serde(rename = "gracefulStop")]
    pub(super) graceful_stop: Option<DurationText>,
    pub(super) tags: Option<BTreeMap<String, String>>,
    pub(super) vus: Option<u64>,
    pub(super) duration: Option<DurationText>,
    pub(super) stages: Option<Vec<RawStage>>,
    #[serde(rename = "startVUs")]
    pub(super) start_vus: Option<u64>,
    #[serde(rename = "gracefulRampDown")]
    pub(super) graceful_ramp_down: Option<DurationText>,
    pub(super) rate: Option<u64>,
    #[serde(rename = "startRate")]
    pub(super) start_rate: Option<u64>,
    #[serde(rename = "timeUnit")]
    pub(super) time_unit: Option<DurationText>,
    #[serde(rename = "preAllocatedVUs")]
    pub(super) pre_allocated_vus: Option<u64>,
    #[serde(rename = "maxVUs")]
    pub(super) max_vus: Option<u64>,
    pub(super) iterations: Option<u64>,
    #[serde(rename = "maxDuration")]
    pub(super) max_duration: Option<DurationText>,
    pub(super) request: Option<RawRequest>,
    pub(super) requests: Option<Vec<RawRequest>>,
    pub(super) from_cassettes: Option<RawFromCassettes>,
    pub(super) checks: Option<Vec<RawCheck>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ExecutorName {
    ConstantVus,
    RampingVus,
    ConstantArrivalRate,
    RampingArrivalRate,
    PerVuIterations,
}

impl ExecutorName {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ExecutorName::ConstantVus => "constant-vus",
            ExecutorName::RampingVus => "ramping-vus",
            ExecutorName::ConstantArrivalRate => "constant-arrival-rate",
            ExecutorName::RampingArrivalRate => "ramping-arrival-rate",
            ExecutorName::PerVuIterations => "per-vu-iterations",
        }
    }

    /// The executor-specific fields it takes (k6's).
    pub(super) fn fields(self) -> &'static [&'static str] {
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
pub(super) struct RawStage {
    pub(super) duration: DurationText,
    pub(super) target: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a request: a mapping with `url:` and optionally method, headers, body, stream, name, timeout"
)]
pub(super) struct RawRequest {
    pub(super) method: Option<String>,
    pub(super) url: String,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    pub(super) body: Option<Value>,
    /// Ask for a streamed response (sets `"stream": true` in a JSON object body).
    pub(super) stream: Option<bool>,
    /// The `name` tag; k6 uses the URL by default.
    pub(super) name: Option<String>,
    pub(super) timeout: Option<DurationText>,
}

/// `from_cassettes: DIR`, or `{dir: DIR, headers: {…}}` to add headers (an API key, say).
#[derive(Debug, Clone)]
pub(super) struct RawFromCassettes {
    pub(super) dir: String,
    pub(super) headers: BTreeMap<String, String>,
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
pub(super) struct RawCheck {
    pub(super) name: Option<String>,
    pub(super) status: Option<StatusList>,
    pub(super) body_contains: Option<String>,
    pub(super) body_not_contains: Option<String>,
    pub(super) body_matches: Option<String>,
    pub(super) json: Option<String>,
    pub(super) equals: Option<Value>,
}

/// `status: 200` or `status: [200, 201]`.
#[derive(Debug, Clone)]
pub(super) struct StatusList(pub(super) Vec<u16>);

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
pub(super) struct DurationText(pub(super) Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 500ms, 30s or 5m")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let duration = crate::duration::parse(v).map_err(E::custom)?;
                if duration > MAX_DURATION {
                    return Err(E::custom(format!(
                        "duration {v:?} is longer than 365d, the limit for any duration in a \
                         scenario"
                    )));
                }
                Ok(DurationText(duration))
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
pub(super) struct SelectorKey(pub(super) Selector);

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
pub(super) struct RawThreshold {
    pub(super) source: String,
    pub(super) expression: Expression,
    pub(super) abort_on_fail: bool,
    pub(super) delay_abort_eval: Duration,
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
pub(super) struct TrendStat(pub(super) Aggregation);

impl<'de> Deserialize<'de> for TrendStat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let invalid = || {
            de::Error::custom(format!(
                "summaryTrendStats: {text:?} is not a trend statistic (avg, min, med, max, p(N))"
            ))
        };
        let parsed = Expression::parse(&format!("{text}<0")).map_err(|_| invalid())?;
        if parsed.aggregation.applies_to(MetricKind::Trend) {
            Ok(TrendStat(parsed.aggregation))
        } else {
            Err(invalid())
        }
    }
}
