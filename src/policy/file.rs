//! Policy files as written: the enterprise design's JSON shape, or the same in YAML. Unknown
//! fields, rule types, actions and severities are errors at their line and column; what serde
//! cannot check (a rule's parameters against its type, a scope against the folder) is checked
//! in [`super::load`] and reported at the rule's line.

use std::path::PathBuf;

use serde::Deserialize;

use crate::sensitive::BuiltIn;

/// What a rule does when it matches, weakest first: the strongest of all matches wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Warn,
    Redact,
    Block,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Warn => "warn",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Which side of an interaction a rule reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppliesTo {
    Request,
    Response,
    #[default]
    Both,
}

impl AppliesTo {
    pub fn request(self) -> bool {
        self != AppliesTo::Response
    }

    pub fn response(self) -> bool {
        self != AppliesTo::Request
    }
}

/// Where a policy applies; narrower scopes come later in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Global,
    Organization,
    Service,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Organization => "organization",
            Scope::Service => "service",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleType {
    NoPii,
    NoSecrets,
    BlockedTerms,
    Regex,
    AllowedModels,
    MaxTokens,
    RequiredScope,
}

impl RuleType {
    pub fn name(self) -> &'static str {
        match self {
            RuleType::NoPii => "no-pii",
            RuleType::NoSecrets => "no-secrets",
            RuleType::BlockedTerms => "blocked-terms",
            RuleType::Regex => "regex",
            RuleType::AllowedModels => "allowed-models",
            RuleType::MaxTokens => "max-tokens",
            RuleType::RequiredScope => "required-scope",
        }
    }

    /// The parameters this type takes, as written.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            RuleType::NoPii => &["entities"],
            RuleType::NoSecrets | RuleType::RequiredScope => &[],
            RuleType::BlockedTerms => &["terms", "terms_file"],
            RuleType::Regex => &["patterns"],
            RuleType::AllowedModels => &["models"],
            RuleType::MaxTokens => &["max"],
        }
    }
}

/// One policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Checked against the folder the file is in; taken from it when absent.
    #[serde(default)]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub service_id: Option<String>,
    /// Enforced live at the proxy; otherwise evaluated and recorded only.
    #[serde(default)]
    pub enforce_at_proxy: bool,
    /// Higher first, in evaluation and reports.
    #[serde(default = "default_priority")]
    pub priority: i64,
    pub rules: Vec<RuleFile>,
}

fn default_priority() -> i64 {
    100
}

/// One rule as written: common fields, and the parameters of every type (each type takes only
/// its own; see [`RuleType::parameters`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: RuleType,
    pub severity: Severity,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub applies_to: AppliesTo,
    pub action: Action,
    /// A narrower scope may relax this rule (same id, weaker action).
    #[serde(default)]
    pub overridable: bool,
    #[serde(default)]
    pub entities: Option<Vec<BuiltIn>>,
    #[serde(default)]
    pub terms: Option<Vec<String>>,
    #[serde(default)]
    pub terms_file: Option<PathBuf>,
    #[serde(default)]
    pub patterns: Option<Vec<String>>,
    #[serde(default)]
    pub models: Option<Vec<String>>,
    #[serde(default)]
    pub max: Option<u64>,
}

impl RuleFile {
    /// The parameters given, by name.
    pub fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        for (name, present) in [
            ("entities", self.entities.is_some()),
            ("terms", self.terms.is_some()),
            ("terms_file", self.terms_file.is_some()),
            ("patterns", self.patterns.is_some()),
            ("models", self.models.is_some()),
            ("max", self.max.is_some()),
        ] {
            if present {
                given.push(name);
            }
        }
        given
    }
}
