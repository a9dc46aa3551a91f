//! `policy test`: unit tests for policies, like `opa test`. Each file under `<policies>/tests/`
//! (JSON or YAML) is one case: a scope, a request body and optionally a response body (JSON, or
//! text for `response_text`), and the decisions expected — every finding, as policy, rule and
//! action, and entity and path where given. A case passes when the findings are exactly the
//! expected ones.
//!
//! ```yaml
//! name: a refund promise is blocked
//! scope: {organization: org-acme, service: support-bot}
//! request: {model: gpt-4o, messages: [{role: user, content: Can I get my money back?}]}
//! response_text: You will get a full refund.
//! expect:
//!   - {policy: support-rules, rule: refunds, action: block}
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::{Action, Finding, PolicyError, PolicySet};
use crate::cassette::{Body, Request, Response, Scope};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    scope: CaseScope,
    #[serde(default)]
    request: Option<Value>,
    #[serde(default)]
    response: Option<Value>,
    #[serde(default)]
    response_text: Option<String>,
    expect: Vec<Expected>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseScope {
    organization: Option<String>,
    service: Option<String>,
}

/// One expected decision.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub policy: String,
    pub rule: String,
    pub action: Action,
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

impl Expected {
    fn matches(&self, f: &Finding) -> bool {
        self.policy == f.policy
            && self.rule == f.rule
            && self.action == f.action
            && self.entity.as_ref().is_none_or(|e| *e == f.entity)
            && self.path.as_ref().is_none_or(|p| *p == f.path)
    }

    fn show(&self) -> String {
        format!("{}/{} {}", self.policy, self.rule, self.action.name())
    }
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    pub file: PathBuf,
    pub name: String,
    /// Expected decisions that were not made.
    pub missing: Vec<String>,
    /// Decisions made that were not expected.
    pub unexpected: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// Runs every case under `dir` (none when it does not exist).
pub fn run(policies: &PolicySet, dir: &Path) -> Result<Vec<CaseResult>, PolicyError> {
    let mut results = Vec::new();
    for path in super::load::documents(dir)? {
        let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Read {
            path: path.clone(),
            source,
        })?;
        let case: CaseFile = super::load::parse_as(&path, &text)?;
        results.push(run_case(policies, path, case));
    }
    Ok(results)
}

fn run_case(policies: &PolicySet, file: PathBuf, case: CaseFile) -> CaseResult {
    let scope = Scope {
        organization: case.scope.organization,
        service: case.scope.service,
        ..Scope::default()
    };
    let mut findings = Vec::new();
    if let Some(body) = case.request {
        let request = Request {
            method: "POST".into(),
            upstream: "test".into(),
            path: "/".into(),
            headers: Default::default(),
            body: Some(Body::Json(body)),
        };
        findings.extend(policies.evaluate_request(&request, &scope));
    }
    let response_body = match (case.response, case.response_text) {
        (Some(json), _) => Some(Body::Json(json)),
        (None, Some(text)) => Some(Body::Text(text)),
        (None, None) => None,
    };
    if let Some(body) = response_body {
        let response = Response {
            status: 200,
            headers: Default::default(),
            body: Some(body),
            stream: None,
            incomplete: false,
        };
        findings.extend(policies.evaluate_response(&response, None, &scope));
    }
    let missing = case
        .expect
        .iter()
        .filter(|e| !findings.iter().any(|f| e.matches(f)))
        .map(Expected::show)
        .collect();
    let unexpected = findings
        .iter()
        .filter(|f| !case.expect.iter().any(|e| e.matches(f)))
        .map(|f| {
            format!(
                "{}/{} {} ({} in {})",
                f.policy,
                f.rule,
                f.action.name(),
                f.entity,
                f.path
            )
        })
        .collect();
    let name = case.name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    CaseResult {
        file,
        name,
        missing,
        unexpected,
    }
}
