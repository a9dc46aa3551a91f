//! What counts as a behaviour change: extra JSON paths to ignore, how assistant text is compared
//! (`exact`, `whitespace`, `similarity>=0.9`) and the tolerances for tokens and latency
//! (`"10%|20"`, `"25%|50ms"`). Parsed from `traceforge.yaml` (`diff:`) and from flags; this
//! module only parses and evaluates them, it never reads files.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::cassette::matcher::JsonPath;

/// How long one text diff may take before `similar` settles for an approximate (still correct)
/// diff, so a pathological pair of texts cannot stall a run over thousands of interactions.
pub const TEXT_DIFF_DEADLINE: Duration = Duration::from_millis(100);

/// Every rule a comparison follows.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRules {
    /// JSON paths removed from request bodies (before pairing) and from response bodies and
    /// stream events (before comparing), on top of the built-in volatile fields.
    pub ignore: Vec<JsonPath>,
    pub text: TextRule,
    pub input_tokens: Tolerance,
    pub output_tokens: Tolerance,
    /// Total response time; only an increase beyond it is a change.
    pub latency: Tolerance,
    /// Budget for each text diff (see [`TEXT_DIFF_DEADLINE`]).
    pub text_deadline: Duration,
}

impl Default for DiffRules {
    fn default() -> Self {
        DiffRules {
            ignore: Vec::new(),
            text: TextRule::Exact,
            input_tokens: Tolerance::exact(),
            output_tokens: Tolerance::exact(),
            // Recorded latencies vary run to run; only a doubling that also adds a second is
            // worth failing a pull request over by default.
            latency: Tolerance {
                percent: Some(100.0),
                absolute: Some(1000),
                spec: "100%|1s".into(),
            },
            text_deadline: TEXT_DIFF_DEADLINE,
        }
    }
}

/// Which numbers a tolerance applies to, for `--tolerance NAME=SPEC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    InputTokens,
    OutputTokens,
    Latency,
}

impl Metric {
    pub fn parse(name: &str) -> Result<Metric, String> {
        match name.trim() {
            "input_tokens" => Ok(Metric::InputTokens),
            "output_tokens" => Ok(Metric::OutputTokens),
            "latency" => Ok(Metric::Latency),
            other => Err(format!(
                "unknown tolerance {other:?} (expected input_tokens, output_tokens or latency)"
            )),
        }
    }

    /// The name used in reports and in the JSON schema.
    pub fn name(self) -> &'static str {
        match self {
            Metric::InputTokens => "input_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::Latency => "latency_ms",
        }
    }

    /// The words a person reads in a report.
    pub fn label(self) -> &'static str {
        match self {
            Metric::InputTokens => "input tokens",
            Metric::OutputTokens => "output tokens",
            Metric::Latency => "latency",
        }
    }
}

impl DiffRules {
    /// Sets one tolerance from `NAME=SPEC` as given to `--tolerance`.
    pub fn set_tolerance(&mut self, flag: &str) -> Result<(), String> {
        let (name, spec) = flag
            .split_once('=')
            .ok_or_else(|| "expected NAME=SPEC, e.g. output_tokens=10%|20".to_string())?;
        match Metric::parse(name)? {
            Metric::InputTokens => self.input_tokens = Tolerance::tokens(spec)?,
            Metric::OutputTokens => self.output_tokens = Tolerance::tokens(spec)?,
            Metric::Latency => self.latency = Tolerance::latency(spec)?,
        }
        Ok(())
    }

    pub fn tolerance(&self, metric: Metric) -> &Tolerance {
        match metric {
            Metric::InputTokens => &self.input_tokens,
            Metric::OutputTokens => &self.output_tokens,
            Metric::Latency => &self.latency,
        }
    }
}

/// How assistant text is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TextRule {
    /// Byte for byte.
    Exact,
    /// Equal once runs of whitespace count as one space and ends are trimmed.
    Whitespace,
    /// Equal enough: the word-level similarity ratio (0–1) is at least this.
    Similarity(f32),
}

impl TextRule {
    pub fn parse(text: &str) -> Result<TextRule, String> {
        let trimmed = text.trim();
        match trimmed {
            "exact" => return Ok(TextRule::Exact),
            "whitespace" => return Ok(TextRule::Whitespace),
            _ => {}
        }
        let bad = || {
            format!("text rule {text:?}: expected exact, whitespace or similarity>=N with N between 0 and 1, e.g. similarity>=0.9")
        };
        let threshold = trimmed
            .strip_prefix("similarity")
            .and_then(|rest| rest.trim_start().strip_prefix(">="))
            .ok_or_else(bad)?
            .trim();
        match threshold.parse::<f32>() {
            Ok(n) if (0.0..=1.0).contains(&n) => Ok(TextRule::Similarity(n)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for TextRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextRule::Exact => f.write_str("exact"),
            TextRule::Whitespace => f.write_str("whitespace"),
            TextRule::Similarity(n) => write!(f, "similarity>={n}"),
        }
    }
}

/// How far a number may move before it counts as a change: a percentage of the baseline, an
/// absolute amount (tokens, or milliseconds for latency), or both (`10%|20`), in which case the
/// larger allowance applies, so small numbers are not failed over a few tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerance {
    percent: Option<f64>,
    absolute: Option<u64>,
    spec: String,
}

impl Tolerance {
    /// No movement allowed.
    pub fn exact() -> Tolerance {
        Tolerance {
            percent: None,
            absolute: Some(0),
            spec: "0".into(),
        }
    }

    /// A token tolerance: `10%`, `20`, `10%|20`.
    pub fn tokens(spec: &str) -> Result<Tolerance, String> {
        Tolerance::parse(spec, |part| {
            part.parse::<u64>().map_err(|_| {
                format!("tolerance {spec:?}: {part:?} is neither a percentage (10%) nor a whole number of tokens (20)")
            })
        })
    }

    /// A latency tolerance: `25%`, `50ms`, `25%|50ms`.
    pub fn latency(spec: &str) -> Result<Tolerance, String> {
        Tolerance::parse(spec, |part| {
            crate::duration::parse(part)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .map_err(|e| format!("tolerance {spec:?}: {e}, or a percentage such as 25%"))
        })
    }

    fn parse(
        spec: &str,
        absolute: impl Fn(&str) -> Result<u64, String>,
    ) -> Result<Tolerance, String> {
        let mut tolerance = Tolerance {
            percent: None,
            absolute: None,
            spec: spec.trim().to_string(),
        };
        if tolerance.spec.is_empty() {
            return Err("tolerance is empty (e.g. 10%|20)".into());
        }
        for part in tolerance.spec.split('|').map(str::trim) {
            if let Some(number) = part.strip_suffix('%') {
                let percent: f64 = number
                    .trim()
                    .parse()
                    .ok()
                    .filter(|p: &f64| p.is_finite() && *p >= 0.0)
                    .ok_or_else(|| {
                        format!("tolerance {spec:?}: {part:?} is not a percentage such as 10%")
                    })?;
                if tolerance.percent.replace(percent).is_some() {
                    return Err(format!("tolerance {spec:?} gives a percentage twice"));
                }
            } else {
                let amount = absolute(part)?;
                if tolerance.absolute.replace(amount).is_some() {
                    return Err(format!("tolerance {spec:?} gives an absolute amount twice"));
                }
            }
        }
        Ok(tolerance)
    }

    /// The largest move allowed from `baseline`.
    pub fn allowance(&self, baseline: u64) -> f64 {
        let relative = self.percent.map_or(0.0, |p| baseline as f64 * p / 100.0);
        let absolute = self.absolute.map_or(0.0, |a| a as f64);
        relative.max(absolute)
    }

    /// Whether moving from `before` to `after` stays within the tolerance.
    pub fn allows(&self, before: u64, after: u64) -> bool {
        (after.abs_diff(before) as f64) <= self.allowance(before)
    }

    /// The tolerance as the user wrote it.
    pub fn spec(&self) -> &str {
        &self.spec
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

/// Parses a YAML scalar (a string, or a number such as `output_tokens: 20`) with `parse`,
/// inside the deserializer, so an error carries the value's line, column and key path.
fn parse_scalar<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct Scalar<T>(fn(&str) -> Result<T, String>);
    impl<T> serde::de::Visitor<'_> for Scalar<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
    }
    deserializer.deserialize_any(Scalar(parse))
}

/// A token tolerance as written in `traceforge.yaml`; errors carry the YAML position.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenTolerance(pub Tolerance);

impl<'de> Deserialize<'de> for TokenTolerance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parse_scalar(deserializer, |text| {
            Tolerance::tokens(text).map(TokenTolerance)
        })
    }
}

/// A latency tolerance as written in `traceforge.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyTolerance(pub Tolerance);

impl<'de> Deserialize<'de> for LatencyTolerance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parse_scalar(deserializer, |text| {
            Tolerance::latency(text).map(LatencyTolerance)
        })
    }
}

/// A JSON path to ignore as written in `traceforge.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct IgnorePath(pub JsonPath);

impl<'de> Deserialize<'de> for IgnorePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parse_scalar(deserializer, |text| JsonPath::parse(text).map(IgnorePath))
    }
}

impl<'de> Deserialize<'de> for TextRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parse_scalar(deserializer, TextRule::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_take_the_larger_allowance() {
        let t = Tolerance::tokens("10%|20").unwrap();
        assert!(t.allows(100, 120), "20 tokens is within the absolute part");
        assert!(!t.allows(100, 121));
        assert!(t.allows(1000, 1100), "10% of 1000");
        assert!(!t.allows(1000, 1101));
        assert!(t.allows(1000, 900), "both directions");
        let exact = Tolerance::exact();
        assert!(exact.allows(7, 7) && !exact.allows(7, 8));
        let percent = Tolerance::tokens("10%").unwrap();
        assert!(percent.allows(0, 0) && !percent.allows(0, 1));
        let latency = Tolerance::latency("25%|50ms").unwrap();
        assert!(latency.allows(100, 150) && !latency.allows(100, 151));
        assert!(latency.allows(1000, 1250) && !latency.allows(1000, 1251));
        assert_eq!(latency.to_string(), "25%|50ms");
    }

    #[test]
    fn bad_tolerances_explain_themselves() {
        assert!(Tolerance::tokens("ten").unwrap_err().contains("\"ten\""));
        assert!(Tolerance::tokens("10%|5%")
            .unwrap_err()
            .contains("percentage twice"));
        assert!(Tolerance::tokens("-3%").unwrap_err().contains("percentage"));
        assert!(Tolerance::tokens("").unwrap_err().contains("empty"));
        assert!(Tolerance::latency("50")
            .unwrap_err()
            .contains("needs a unit"));
        let mut rules = DiffRules::default();
        assert!(rules
            .set_tolerance("latency")
            .unwrap_err()
            .contains("NAME=SPEC"));
        assert!(rules
            .set_tolerance("tokens=5")
            .unwrap_err()
            .contains("unknown tolerance"));
        rules.set_tolerance("output_tokens=5%").unwrap();
        assert_eq!(rules.output_tokens.spec(), "5%");
    }

    #[test]
    fn text_rules_parse() {
        assert_eq!(TextRule::parse("exact").unwrap(), TextRule::Exact);
        assert_eq!(TextRule::parse("whitespace").unwrap(), TextRule::Whitespace);
        assert_eq!(
            TextRule::parse("similarity >= 0.9").unwrap(),
            TextRule::Similarity(0.9)
        );
        assert_eq!(
            TextRule::Similarity(0.9).to_string(),
            "similarity>=0.9".to_string()
        );
        for bad in ["fuzzy", "similarity>=2", "similarity>0.9", "similarity>=x"] {
            assert!(TextRule::parse(bad).is_err(), "{bad}");
        }
    }
}
