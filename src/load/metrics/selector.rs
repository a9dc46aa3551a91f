//! What a threshold names: a [`Selector`] (a metric, optionally narrowed to a tag selection,
//! `http_req_duration{scenario:chat}`) and an [`Aggregation`] (the statistic, `p(95)`, `rate`),
//! parsed with the 1-based column of anything malformed. They live with the metrics, as k6's
//! metric-name parsing does, so the series and the thresholds both point here and never at each
//! other. No I/O.

use std::fmt;

use super::metric::{Metric, MetricKind};
use crate::load::units::number_text;

/// A syntax error in a threshold expression or metric selector, with the 1-based column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}, column {column}: {message}")]
pub struct ThresholdSyntaxError {
    pub text: String,
    pub column: usize,
    pub message: String,
}

pub(crate) fn syntax(text: &str, at: usize, message: impl Into<String>) -> ThresholdSyntaxError {
    ThresholdSyntaxError {
        text: text.to_string(),
        column: text[..at.min(text.len())].chars().count() + 1,
        message: message.into(),
    }
}

/// What a threshold selects: a metric, optionally narrowed to samples carrying every given tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Selector {
    pub metric: Metric,
    /// `(tag, value)` pairs, sorted by tag.
    pub tags: Vec<(String, String)>,
}

impl Selector {
    /// Parses `name` or `name{tag:value,tag:value}`.
    pub fn parse(text: &str) -> Result<Selector, ThresholdSyntaxError> {
        let name_end = text.find('{').unwrap_or(text.len());
        let name = text[..name_end].trim();
        if name.is_empty() {
            return Err(syntax(text, 0, "expected a metric name"));
        }
        if let Some(bad) = name
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            let at = text.find(name).unwrap_or(0) + bad.0;
            return Err(syntax(
                text,
                at,
                format!("unexpected {:?} in a metric name", bad.1),
            ));
        }
        let metric = Metric::from_name(name).ok_or_else(|| {
            syntax(
                text,
                text.find(name).unwrap_or(0),
                format!(
                    "no metric named {name:?}; known metrics: {}",
                    Metric::ALL.map(Metric::name).join(", ")
                ),
            )
        })?;
        let mut tags = Vec::new();
        if name_end < text.len() {
            let inner_start = name_end + 1;
            let close = text[inner_start..]
                .find('}')
                .map(|i| inner_start + i)
                .ok_or_else(|| syntax(text, text.len(), "expected `}` to close the tag list"))?;
            if !text[close + 1..].trim().is_empty() {
                return Err(syntax(text, close + 1, "unexpected text after `}`"));
            }
            let mut at = inner_start;
            for part in text[inner_start..close].split(',') {
                let (tag, value) = part
                    .split_once(':')
                    .ok_or_else(|| syntax(text, at, "expected `tag:value` in the tag list"))?;
                let (tag, value) = (tag.trim(), value.trim());
                if tag.is_empty() {
                    return Err(syntax(text, at, "empty tag name"));
                }
                if value.is_empty() {
                    return Err(syntax(
                        text,
                        at + part.find(':').unwrap_or(0) + 1,
                        "empty tag value",
                    ));
                }
                tags.push((tag.to_string(), value.to_string()));
                at += part.len() + 1;
            }
            tags.sort();
        }
        Ok(Selector { metric, tags })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metric.name())?;
        if !self.tags.is_empty() {
            let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            write!(f, "{{{}}}", tags.join(","))?;
        }
        Ok(())
    }
}

/// The statistic a threshold looks at.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub enum Aggregation {
    Avg,
    Min,
    Max,
    Med,
    /// `p(N)`, N in 0..=100.
    Percentile(f64),
    Count,
    Rate,
    Value,
}

impl Aggregation {
    /// The name k6 uses in summaries (`p(95)`, `avg`, …).
    pub fn label(self) -> String {
        match self {
            Aggregation::Avg => "avg".into(),
            Aggregation::Min => "min".into(),
            Aggregation::Max => "max".into(),
            Aggregation::Med => "med".into(),
            Aggregation::Percentile(p) => format!("p({})", number_text(p, None)),
            Aggregation::Count => "count".into(),
            Aggregation::Rate => "rate".into(),
            Aggregation::Value => "value".into(),
        }
    }

    /// Whether a metric of `kind` has this statistic (k6's rules).
    pub fn applies_to(self, kind: MetricKind) -> bool {
        match kind {
            MetricKind::Trend => matches!(
                self,
                Aggregation::Avg
                    | Aggregation::Min
                    | Aggregation::Max
                    | Aggregation::Med
                    | Aggregation::Percentile(_)
            ),
            MetricKind::Counter => matches!(self, Aggregation::Count | Aggregation::Rate),
            MetricKind::Rate => matches!(self, Aggregation::Rate),
            MetricKind::Gauge => matches!(
                self,
                Aggregation::Value | Aggregation::Min | Aggregation::Max
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_with_tags_and_reject_junk() {
        let selector = Selector::parse("http_req_duration{scenario:chat, status:200}").unwrap();
        assert_eq!(selector.metric, Metric::HttpReqDuration);
        assert_eq!(
            selector.tags,
            vec![
                ("scenario".to_string(), "chat".to_string()),
                ("status".to_string(), "200".to_string())
            ]
        );
        assert_eq!(
            selector.to_string(),
            "http_req_duration{scenario:chat,status:200}"
        );
        assert_eq!(
            Selector::parse("checks{check:status is 200}").unwrap().tags,
            vec![("check".to_string(), "status is 200".to_string())]
        );
        let error = Selector::parse("http_req_durations").unwrap_err();
        assert!(error.message.contains("no metric named"), "{error}");
        let error = Selector::parse("http_req_duration{scenario}").unwrap_err();
        assert_eq!(error.column, 19, "{error}");
        let error = Selector::parse("http_req_duration{scenario:chat").unwrap_err();
        assert!(error.message.contains("`}`"), "{error}");
        let error = Selector::parse("http req").unwrap_err();
        assert_eq!(error.column, 5, "{error}");
    }

    #[test]
    fn aggregations_fit_metric_kinds() {
        assert!(Aggregation::Percentile(95.0).applies_to(MetricKind::Trend));
        assert!(!Aggregation::Rate.applies_to(MetricKind::Trend));
        assert!(Aggregation::Rate.applies_to(MetricKind::Counter));
        assert!(!Aggregation::Count.applies_to(MetricKind::Rate));
        assert!(Aggregation::Value.applies_to(MetricKind::Gauge));
    }
}
