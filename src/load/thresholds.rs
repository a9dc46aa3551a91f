//! Thresholds in k6's grammar: a metric selector (`http_req_duration{scenario:chat}`) mapped to
//! expressions such as `p(95)<500`, `rate<0.1` or `count>=10`, parsed with the 1-based column
//! of anything malformed, and evaluated against a metric's aggregate. The selector and the
//! statistic are the metrics' own ([`Selector`], [`Aggregation`]): thresholds point at metrics,
//! metrics never at thresholds. No I/O, no async.
//!
//! One documented deviation from k6: a threshold on a metric (or tag selection) that received no
//! samples fails, saying so, where k6 would silently pass it.

use std::time::Duration;

use super::metrics::{syntax, Aggregate, Aggregation, Selector, ThresholdSyntaxError};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Operator {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Operator::Lt => left < right,
            Operator::Le => left <= right,
            Operator::Gt => left > right,
            Operator::Ge => left >= right,
            Operator::Eq => left == right,
            Operator::Ne => left != right,
        }
    }
}

/// One parsed expression such as `p(95)<500`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    pub aggregation: Aggregation,
    pub operator: Operator,
    pub value: f64,
}

impl Expression {
    /// Parses k6's `AGGREGATION OPERATOR NUMBER`, whitespace allowed between the parts.
    pub fn parse(text: &str) -> Result<Expression, ThresholdSyntaxError> {
        let mut at = skip_spaces(text, 0);
        let name_start = at;
        while at < text.len() && text.as_bytes()[at].is_ascii_alphabetic() {
            at += 1;
        }
        let name = &text[name_start..at];
        let aggregation = match name {
            "" => {
                return Err(syntax(
                    text,
                    name_start,
                    "expected an aggregation: avg, min, max, med, p(N), count, rate or value",
                ))
            }
            "avg" => Aggregation::Avg,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "med" => Aggregation::Med,
            "count" => Aggregation::Count,
            "rate" => Aggregation::Rate,
            "value" => Aggregation::Value,
            "p" => {
                at = skip_spaces(text, at);
                if text.as_bytes().get(at) != Some(&b'(') {
                    return Err(syntax(text, at, "expected `(` after `p`, as in p(95)"));
                }
                let number_start = skip_spaces(text, at + 1);
                let (number, end) = number_at(text, number_start)
                    .ok_or_else(|| syntax(text, number_start, "expected a percentile number"))?;
                if !(0.0..=100.0).contains(&number) {
                    return Err(syntax(
                        text,
                        number_start,
                        "a percentile must be between 0 and 100",
                    ));
                }
                at = skip_spaces(text, end);
                if text.as_bytes().get(at) != Some(&b')') {
                    return Err(syntax(text, at, "expected `)` to close p(…)"));
                }
                at += 1;
                Aggregation::Percentile(number)
            }
            other => {
                return Err(syntax(
                    text,
                    name_start,
                    format!(
                        "unknown aggregation {other:?}; expected avg, min, max, med, p(N), count, rate or value"
                    ),
                ))
            }
        };
        at = skip_spaces(text, at);
        let rest = &text[at..];
        let (operator, width) = [
            ("===", Operator::Eq),
            ("==", Operator::Eq),
            ("!=", Operator::Ne),
            ("<=", Operator::Le),
            (">=", Operator::Ge),
            ("<", Operator::Lt),
            (">", Operator::Gt),
        ]
        .into_iter()
        .find(|(symbol, _)| rest.starts_with(symbol))
        .map(|(symbol, op)| (op, symbol.len()))
        .ok_or_else(|| {
            syntax(
                text,
                at,
                "expected an operator: <, <=, >, >=, ==, === or !=",
            )
        })?;
        at = skip_spaces(text, at + width);
        let (value, end) =
            number_at(text, at).ok_or_else(|| syntax(text, at, "expected a number"))?;
        let end = skip_spaces(text, end);
        if end < text.len() {
            return Err(syntax(text, end, "unexpected text after the number"));
        }
        Ok(Expression {
            aggregation,
            operator,
            value,
        })
    }
}

fn skip_spaces(text: &str, mut at: usize) -> usize {
    while at < text.len() && text.as_bytes()[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// A decimal number (`-1`, `0.5`, `1e3`) starting at `at`, and where it ends.
fn number_at(text: &str, at: usize) -> Option<(f64, usize)> {
    let bytes = text.as_bytes();
    let mut end = at;
    if matches!(bytes.get(end), Some(b'-' | b'+')) {
        end += 1;
    }
    let digits_start = end;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
        end += 1;
    }
    if end == digits_start {
        return None;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exp = end + 1;
        if matches!(bytes.get(exp), Some(b'-' | b'+')) {
            exp += 1;
        }
        let exp_digits = exp;
        while exp < bytes.len() && bytes[exp].is_ascii_digit() {
            exp += 1;
        }
        if exp > exp_digits {
            end = exp;
        }
    }
    let value: f64 = text[at..end].parse().ok()?;
    value.is_finite().then_some((value, end))
}

/// A threshold as configured: its source text, parsed expression and abort settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub source: String,
    pub expression: Expression,
    /// Stop the whole test as soon as this threshold fails (checked every 2 s while running).
    pub abort_on_fail: bool,
    /// With `abort_on_fail`: do not evaluate before this much of the test has run.
    pub delay_abort_eval: Duration,
}

/// Every threshold on one selector.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdSet {
    pub selector: Selector,
    pub thresholds: Vec<Threshold>,
}

/// The verdict on one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ok: bool,
    /// The observed statistic, when the metric has samples.
    pub observed: Option<f64>,
}

impl Threshold {
    /// Evaluates against an aggregate. A metric without samples fails (see the module docs).
    pub fn evaluate(&self, aggregate: &Aggregate, elapsed: Duration) -> Verdict {
        let observed = aggregate.statistic(self.expression.aggregation, elapsed);
        Verdict {
            ok: observed.is_some_and(|v| self.expression.operator.holds(v, self.expression.value)),
            observed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k6_expressions_parse() {
        let cases: &[(&str, Aggregation, Operator, f64)] = &[
            (
                "p(95)<500",
                Aggregation::Percentile(95.0),
                Operator::Lt,
                500.0,
            ),
            (
                "p(99.9) <= 1000",
                Aggregation::Percentile(99.9),
                Operator::Le,
                1000.0,
            ),
            (
                " p( 90 )>=1.5 ",
                Aggregation::Percentile(90.0),
                Operator::Ge,
                1.5,
            ),
            ("avg<200", Aggregation::Avg, Operator::Lt, 200.0),
            ("med>0", Aggregation::Med, Operator::Gt, 0.0),
            ("min>=0", Aggregation::Min, Operator::Ge, 0.0),
            ("max<1e4", Aggregation::Max, Operator::Lt, 10000.0),
            ("rate<0.1", Aggregation::Rate, Operator::Lt, 0.1),
            ("rate>0.99", Aggregation::Rate, Operator::Gt, 0.99),
            ("count>=10", Aggregation::Count, Operator::Ge, 10.0),
            ("count===10", Aggregation::Count, Operator::Eq, 10.0),
            ("count==10", Aggregation::Count, Operator::Eq, 10.0),
            ("value!=0", Aggregation::Value, Operator::Ne, 0.0),
            ("value > -1", Aggregation::Value, Operator::Gt, -1.0),
        ];
        for (text, aggregation, operator, value) in cases {
            let parsed = Expression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                parsed,
                Expression {
                    aggregation: *aggregation,
                    operator: *operator,
                    value: *value
                },
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_expressions_name_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected an aggregation"),
            ("p95<500", 2, "expected `(` after `p`"),
            ("p(95<500", 5, "expected `)`"),
            ("p()<500", 3, "expected a percentile number"),
            ("p(101)<5", 3, "between 0 and 100"),
            ("p(95)500", 6, "expected an operator"),
            ("p(95)=<500", 6, "expected an operator"),
            ("p(95)<", 7, "expected a number"),
            ("p(95)<500ms", 10, "unexpected text after the number"),
            ("avg<<500", 5, "expected a number"),
            ("average<500", 1, "unknown aggregation \"average\""),
            ("rate < abc", 8, "expected a number"),
        ];
        for (text, column, message) in cases {
            let error = Expression::parse(text).expect_err(text);
            assert_eq!(error.column, *column, "{text}: {error}");
            assert!(error.message.contains(message), "{text}: {error}");
        }
    }
}
