//! Compiled rules: what each rule type looks for. Text rules (`no-pii`, `no-secrets`,
//! `blocked-terms`, `regex`) find spans in a string; the others read one field of the request
//! or the recorded usage.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use super::file::{Action, AppliesTo, RuleFile, RuleType, Severity};
use crate::sensitive::{self, BuiltIn, DetectorConfig, Detectors, Secrets};

/// A compiled rule of a policy.
#[derive(Clone)]
pub struct Rule {
    pub id: String,
    pub kind: RuleType,
    pub severity: Severity,
    pub description: Option<String>,
    pub applies_to: AppliesTo,
    pub action: Action,
    pub overridable: bool,
    pub(super) matcher: Matcher,
    /// A regex rule's patterns, as indices into the set's prefilter ([`super::PolicySet`]).
    pub(super) pattern_ids: Option<Vec<usize>>,
    /// The narrower policies of the set (indices in its evaluation order) with a rule of this
    /// id: wherever one of them applies, it replaces this rule.
    pub(super) replaced_by: Vec<usize>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("action", &self.action)
            .finish()
    }
}

/// The most a live stream holds back for one channel, in bytes.
pub const MAX_HOLDBACK: usize = 256;

/// One match in a text: `text[start..end]` and what it is (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// `email`, `openai-api-key`, `term`, `pattern 2`.
    pub entity: String,
}

/// The secret rules every `no-secrets` rule of a set shares, built by whoever reads them first.
pub(super) type SharedSecrets = Arc<OnceLock<Secrets>>;

/// A regex rule's pattern: checked when the policy loads, compiled the first time a string
/// needs it. Most strings are ruled out by the set's prefilter, which holds every pattern, so
/// compiling each one again at load (two thirds of a large set's load time) bought nothing.
#[derive(Clone)]
pub(super) struct Pattern {
    source: String,
    /// Shared by every clone: a live stream's guard works on clones of the rules, and each
    /// compiling its own regexes put ~4 ms before every stream's first event.
    compiled: Arc<OnceLock<Option<Regex>>>,
}

impl Pattern {
    /// Checks `source`'s syntax, as `Regex::new` would, without compiling it.
    fn parse(source: &str) -> Result<Pattern, String> {
        regex_syntax::Parser::new()
            .parse(source)
            .map_err(|e| e.to_string())?;
        Ok(Pattern {
            source: source.to_string(),
            compiled: Arc::default(),
        })
    }

    /// The compiled pattern. `None` only if it parses but is too big to compile, which the
    /// prefilter holding it would have refused at load already.
    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&self.source).ok())
            .as_ref()
    }
}

#[derive(Clone)]
pub(super) enum Matcher {
    Pii(Detectors),
    Secrets(SharedSecrets),
    /// A term list, as a custom detector named `term`.
    Terms(Detectors),
    Regex(Vec<Pattern>),
    Models(globset::GlobSet),
    MaxTokens(u64),
    RequiredScope,
}

impl Matcher {
    pub(super) fn compile(
        rule: &RuleFile,
        policy_file: &Path,
        secrets: &SharedSecrets,
    ) -> Result<Matcher, String> {
        let missing = |name: &str| format!("rule type {} needs `{name}`", rule.kind.name());
        Ok(match rule.kind {
            RuleType::NoPii => {
                let detectors = rule
                    .entities
                    .clone()
                    .unwrap_or_else(|| BuiltIn::ALL.to_vec());
                let config = DetectorConfig {
                    detectors,
                    ..DetectorConfig::default()
                };
                Matcher::Pii(Detectors::new(&config).map_err(|e| e.to_string())?)
            }
            RuleType::NoSecrets => Matcher::Secrets(secrets.clone()),
            RuleType::BlockedTerms => {
                let terms = match (&rule.terms, &rule.terms_file) {
                    (Some(_), Some(_)) => {
                        return Err("give `terms` or `terms_file`, not both".into())
                    }
                    (Some(terms), None) => terms.clone(),
                    (None, Some(file)) => {
                        let full = policy_file.parent().unwrap_or(Path::new(".")).join(file);
                        let text = std::fs::read_to_string(&full).map_err(|e| {
                            format!("cannot read terms file {}: {e}", full.display())
                        })?;
                        sensitive::term_lines(&text)
                    }
                    (None, None) => return Err(missing("terms` or `terms_file")),
                };
                if let Some(i) = terms.iter().position(|t| t.trim().is_empty()) {
                    return Err(format!("term {i} is empty"));
                }
                let config = DetectorConfig {
                    detectors: Vec::new(),
                    custom: vec![sensitive::Custom::terms("term", terms)],
                    ..DetectorConfig::default()
                };
                Matcher::Terms(Detectors::new(&config).map_err(|e| e.to_string())?)
            }
            RuleType::Regex => {
                let patterns = rule.patterns.as_ref().ok_or_else(|| missing("patterns"))?;
                let compiled = patterns
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        Pattern::parse(p).map_err(|detail| {
                            let last = detail.lines().last().unwrap_or("").trim();
                            let last = last.strip_prefix("error: ").unwrap_or(last);
                            format!("pattern {i} `{p}` is not a valid regex: {last}")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Matcher::Regex(compiled)
            }
            RuleType::AllowedModels => {
                let models = rule.models.as_ref().ok_or_else(|| missing("models"))?;
                let mut set = globset::GlobSetBuilder::new();
                for model in models {
                    set.add(
                        globset::Glob::new(model)
                            .map_err(|e| format!("model glob `{model}`: {}", e.kind()))?,
                    );
                }
                Matcher::Models(set.build().map_err(|e| e.to_string())?)
            }
            RuleType::MaxTokens => Matcher::MaxTokens(rule.max.ok_or_else(|| missing("max"))?),
            RuleType::RequiredScope => Matcher::RequiredScope,
        })
    }

    /// The spans of `text` this rule matches, sorted by start.
    pub fn find(&self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = match self {
            Matcher::Pii(detectors) => detectors
                .find(text)
                .into_iter()
                .map(|f| Span {
                    start: f.start,
                    end: f.end,
                    entity: f.kind.name().to_string(),
                })
                .collect(),
            Matcher::Secrets(secrets) => secrets
                .get_or_init(Secrets::new)
                .find(text)
                .into_iter()
                .map(|f| Span {
                    start: f.start,
                    end: f.end,
                    entity: f.rule.to_string(),
                })
                .collect(),
            Matcher::Terms(detectors) => detectors
                .find(text)
                .into_iter()
                .map(|f| Span {
                    start: f.start,
                    end: f.end,
                    entity: "term".to_string(),
                })
                .collect(),
            Matcher::Regex(patterns) => patterns
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.regex().map(|r| (i, r)))
                .flat_map(|(i, p)| {
                    p.find_iter(text)
                        .filter(|m| !m.is_empty())
                        .map(move |m| Span {
                            start: m.start(),
                            end: m.end(),
                            entity: format!("pattern {i}"),
                        })
                })
                .collect(),
            _ => Vec::new(),
        };
        spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        spans
    }

    /// What a `redact` action writes in place of a span this rule matched.
    pub fn replacement(&self, span: &Span) -> String {
        match self {
            Matcher::Pii(_) => format!("<{}>", span.entity.to_ascii_uppercase()),
            Matcher::Secrets(_) => crate::sensitive::protect::SECRET_PLACEHOLDER.to_string(),
            _ => "<REDACTED>".to_string(),
        }
    }

    /// The longest text a match can be, as far as a stream needs to hold back to see it whole:
    /// a term list's longest term; for patterns, PII and secrets, a bound
    /// ([`MAX_HOLDBACK`]) past which a match split across events is found only afterwards,
    /// by `policy check`.
    pub fn holdback(&self) -> usize {
        match self {
            Matcher::Terms(detectors) => detectors.longest_term().min(MAX_HOLDBACK),
            Matcher::Pii(_) => 128,
            Matcher::Secrets(_) | Matcher::Regex(_) => MAX_HOLDBACK,
            _ => 0,
        }
    }

    /// A regex rule's pattern texts.
    pub(super) fn patterns(&self) -> Vec<&str> {
        match self {
            Matcher::Regex(patterns) => patterns.iter().map(|p| p.source.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `model` is allowed (for `allowed-models`; anything else allows every model).
    pub fn allows_model(&self, model: &str) -> bool {
        match self {
            Matcher::Models(set) => set.is_match(model),
            _ => true,
        }
    }

    /// The cap of a `max-tokens` rule.
    pub fn max_tokens(&self) -> Option<u64> {
        match self {
            Matcher::MaxTokens(max) => Some(*max),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn clones_share_a_pattern_compiled_on_first_use() {
        let original = Pattern::parse(r"order-\d{6}").expect("parses");
        let copy = original.clone();
        assert!(original.compiled.get().is_none(), "not compiled at load");
        assert!(copy.regex().is_some_and(|r| r.is_match("order-123456")));
        assert!(
            original.compiled.get().is_some(),
            "the copy compiled for both"
        );
    }
}
