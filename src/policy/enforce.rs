//! Enforcement: the decisions of the policies in force, turned into what happens to traffic. A
//! `block` stops a request before the upstream or replaces a response; a `redact` rewrites the
//! matched spans in place (and caps a `max-tokens` field); a `warn` only records. Policies
//! without `enforce_at_proxy`, and every policy while the emergency switch is on, are
//! evaluated and recorded but change nothing.

use std::sync::Arc;

use serde_json::Value;

use super::file::{Action, RuleType};
use super::{Finding, PolicySet, Rule};
use crate::cassette::{Body, Decision, Request, Response, Scope, Usage};

/// Whether enforced policies change traffic (`TRACEFORGE_DISABLE_POLICY_ENFORCEMENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    On,
    /// The emergency switch: everything is evaluated and recorded, nothing is changed.
    Disabled,
}

/// What the policies decided about one side of an interaction.
#[derive(Debug, Default)]
pub struct Verdict {
    pub decisions: Vec<Decision>,
    /// The first enforced `block` finding, in evaluation order: the traffic stops here.
    pub block: Option<Finding>,
}

/// The policy set of a run and whether it is enforced.
#[derive(Debug, Clone)]
pub struct Enforcer {
    set: Arc<PolicySet>,
    enforcement: Enforcement,
}

impl Enforcer {
    pub fn new(set: PolicySet, enforcement: Enforcement) -> Enforcer {
        Enforcer {
            set: Arc::new(set),
            enforcement,
        }
    }

    pub fn set(&self) -> &PolicySet {
        &self.set
    }

    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Whether a finding changes traffic.
    pub fn applies(&self, finding: &Finding) -> bool {
        finding.enforced && self.enforcement == Enforcement::On
    }

    /// The decision recorded for a finding.
    pub fn decision(&self, finding: &Finding) -> Decision {
        let outcome = match (finding.enforced, self.enforcement) {
            (false, _) => "evaluated",
            (true, Enforcement::Disabled) => "disabled",
            (true, Enforcement::On) => "applied",
        };
        Decision {
            policy: finding.policy.clone(),
            version: finding.version.clone(),
            rule: finding.rule.clone(),
            action: finding.action.name().to_string(),
            severity: finding.severity.name().to_string(),
            path: finding.path.clone(),
            entity: finding.entity.clone(),
            outcome: outcome.to_string(),
        }
    }

    fn verdict(&self, findings: &[Finding]) -> Verdict {
        Verdict {
            decisions: findings.iter().map(|f| self.decision(f)).collect(),
            block: findings
                .iter()
                .find(|f| f.action == Action::Block && self.applies(f))
                .cloned(),
        }
    }

    /// The enforced `redact` rules in force for `scope` on one side that found something:
    /// only they need to rewrite.
    fn redacting(&self, scope: &Scope, request: bool, findings: &[Finding]) -> Vec<&Rule> {
        if self.enforcement == Enforcement::Disabled
            || !findings
                .iter()
                .any(|f| f.action == Action::Redact && f.enforced)
        {
            return Vec::new();
        }
        self.set
            .effective(scope.organization.as_deref(), scope.service.as_deref())
            .into_iter()
            .filter(|(p, r)| {
                p.enforce_at_proxy
                    && r.action == Action::Redact
                    && if request {
                        r.applies_to.request()
                    } else {
                        r.applies_to.response()
                    }
            })
            .filter(|(p, r)| findings.iter().any(|f| f.policy == p.id && f.rule == r.id))
            .map(|(_, r)| r)
            .collect()
    }

    /// Evaluates a request and, unless it is blocked, rewrites it for the enforced `redact`
    /// rules. Returns whether the body was rewritten.
    pub fn request(&self, request: &mut Request, scope: &Scope) -> (Verdict, bool) {
        let findings = self.set.evaluate_request(request, scope);
        let verdict = self.verdict(&findings);
        let mut changed = false;
        if verdict.block.is_none() {
            let rules = self.redacting(scope, true, &findings);
            if let Some(Body::Json(value)) = &mut request.body {
                for rule in &rules {
                    if let Some(max) = rule.matcher.max_tokens() {
                        changed |= cap(value, max);
                    }
                }
                changed |= redact_json(&rules, value);
            } else if let Some(Body::Text(text)) = &mut request.body {
                changed |= redact_text(&rules, text);
            }
        }
        (verdict, changed)
    }

    /// Evaluates a whole response and, unless it is blocked, rewrites it for the enforced
    /// `redact` rules (a stream's events as [`super::stream::StreamGuard`] would).
    pub fn response(
        &self,
        response: &mut Response,
        usage: Option<&Usage>,
        scope: &Scope,
    ) -> Verdict {
        let findings = self.set.evaluate_response(response, usage, scope);
        let verdict = self.verdict(&findings);
        if verdict.block.is_none() {
            let rules = self.redacting(scope, false, &findings);
            if let Some(Body::Json(value)) = &mut response.body {
                redact_json(&rules, value);
            } else if let Some(Body::Text(text)) = &mut response.body {
                redact_text(&rules, text);
            }
        }
        verdict
    }

    /// The decisions about a response as it came from the upstream (recorded with it).
    pub fn response_decisions(
        &self,
        response: &Response,
        usage: Option<&Usage>,
        scope: &Scope,
    ) -> Vec<Decision> {
        self.set
            .evaluate_response(response, usage, scope)
            .iter()
            .map(|f| self.decision(f))
            .collect()
    }

    /// Whether an enforced `block` or `redact` rule could change a whole response for
    /// `scope`: its body must then be checked before any of it is sent. Wider than
    /// [`Enforcer::stream_rules`]: a `max-tokens` cap reads the usage of a whole answer.
    pub fn checks_responses(&self, scope: &Scope) -> bool {
        self.enforcement == Enforcement::On
            && self
                .set
                .effective(scope.organization.as_deref(), scope.service.as_deref())
                .into_iter()
                .any(|(p, r)| {
                    p.enforce_at_proxy
                        && r.applies_to.response()
                        && r.action != Action::Warn
                        && !matches!(r.kind, RuleType::AllowedModels | RuleType::RequiredScope)
                })
    }

    /// The text rules a stream must be checked against live, for `scope`: enforced `block` and
    /// `redact` rules on responses. Empty when nothing could change a stream.
    pub fn stream_rules(&self, scope: &Scope) -> Vec<Rule> {
        if self.enforcement == Enforcement::Disabled {
            return Vec::new();
        }
        self.set
            .effective(scope.organization.as_deref(), scope.service.as_deref())
            .into_iter()
            .filter(|(p, r)| {
                p.enforce_at_proxy
                    && r.applies_to.response()
                    && r.action != Action::Warn
                    && !matches!(
                        r.kind,
                        RuleType::AllowedModels | RuleType::MaxTokens | RuleType::RequiredScope
                    )
            })
            .map(|(_, r)| r.clone())
            .collect()
    }
}

/// Caps the request's token fields at `max`; whether one changed.
fn cap(value: &mut Value, max: u64) -> bool {
    let mut changed = false;
    for field in ["max_tokens", "max_output_tokens", "max_completion_tokens"] {
        if let Some(slot) = value.get_mut(field) {
            if slot.as_u64().is_some_and(|n| n > max) {
                *slot = Value::from(max);
                changed = true;
            }
        }
    }
    changed
}

/// Rewrites the spans `rules` match in one text; whether anything changed.
pub(super) fn redact_text(rules: &[&Rule], text: &mut String) -> bool {
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for rule in rules {
        for span in rule.matcher.find(text) {
            if spans.iter().any(|s| s.0 < span.end && span.start < s.1) {
                continue;
            }
            let replacement = rule.matcher.replacement(&span);
            spans.push((span.start, span.end, replacement));
        }
    }
    if spans.is_empty() {
        return false;
    }
    spans.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, replacement) in spans {
        out.push_str(&text[last..start]);
        out.push_str(&replacement);
        last = end;
    }
    out.push_str(&text[last..]);
    *text = out;
    true
}

fn redact_json(rules: &[&Rule], value: &mut Value) -> bool {
    if rules.is_empty() {
        return false;
    }
    let mut changed = false;
    crate::cassette::redact::for_each_string(value, &mut |text| {
        changed |= redact_text(rules, text);
    });
    changed
}
