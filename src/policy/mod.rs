//! Policy-as-code (DESIGN.md §13): policy files under `global/`, `organizations/<org>/` and
//! `organizations/<org>/services/<service>/`, loaded and compiled once into a [`PolicySet`],
//! and evaluated against requests and responses into [`Finding`]s: which policy and rule, what
//! it does (block > redact > warn), how severe, where (a JSON path) and what kind of thing
//! (an entity: `email`, `term`, `model`), never the value. Sync; the proxy and `policy check`
//! call it.

pub mod check;
pub mod enforce;
mod evaluate;
pub mod file;
mod load;
mod rules;
pub mod stream;
pub mod testing;

use std::path::PathBuf;

pub use evaluate::Finding;
pub use file::{Action, AppliesTo, RuleType, Scope, Severity};
pub use load::load;
pub use rules::{Rule, Span};

/// A policy directory that cannot be used; every variant names its file.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(crate::yaml::FileError),
    #[error("{message}")]
    Conflict { message: String },
}

/// One loaded policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub name: Option<String>,
    pub version: String,
    pub scope: Scope,
    pub organization: Option<String>,
    pub service: Option<String>,
    pub enforce_at_proxy: bool,
    pub priority: i64,
    /// The file it was read from.
    pub file: PathBuf,
    pub rules: Vec<Rule>,
}

impl Policy {
    /// Whether this policy reaches everything `other` applies to (a broader or equal scope
    /// over the same organization and service).
    fn contains(&self, other: &Policy) -> bool {
        match self.scope {
            Scope::Global => true,
            Scope::Organization => self.organization == other.organization,
            Scope::Service => {
                self.organization == other.organization && self.service == other.service
            }
        }
    }

    /// Whether this policy applies to a request of `organization` and `service`.
    pub fn applies(&self, organization: Option<&str>, service: Option<&str>) -> bool {
        match self.scope {
            Scope::Global => true,
            Scope::Organization => self.organization.as_deref() == organization,
            Scope::Service => {
                self.organization.as_deref() == organization && self.service.as_deref() == service
            }
        }
    }
}

/// Every policy of a directory, compiled, in evaluation order (priority, highest first; then
/// broader scopes; then id).
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Policy>,
    /// Every regex rule's patterns in one set (see [`load`]).
    regex_prefilter: Option<regex::RegexSet>,
}

impl PolicySet {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The rules in force for a scope, in evaluation order: every applicable policy's rules,
    /// where a narrower policy's rule replaces a broader one with the same id.
    pub fn effective(
        &self,
        organization: Option<&str>,
        service: Option<&str>,
    ) -> Vec<(&Policy, &Rule)> {
        let applicable: Vec<bool> = self
            .policies
            .iter()
            .map(|p| p.applies(organization, service))
            .collect();
        let mut out = Vec::new();
        for (policy, _) in self.policies.iter().zip(&applicable).filter(|(_, a)| **a) {
            for rule in &policy.rules {
                if !rule.replaced_by.iter().any(|&other| applicable[other]) {
                    out.push((policy, rule));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
