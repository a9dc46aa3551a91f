//! Evaluating rules against a request and a response: every JSON string of a body (a
//! stream's text channels assembled across events), the requested model and token cap, the
//! recorded usage and the scope headers.

use serde_json::Value;

use super::file::{Action, RuleType, Severity};
use super::{Policy, PolicySet, Rule};
use crate::cassette::redact::StreamLayout;
use crate::cassette::{Body, Interaction, Request, Response, Scope, Usage};

/// One rule that matched: where and what kind of thing, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub policy: String,
    pub version: String,
    pub rule: String,
    pub rule_type: RuleType,
    pub action: Action,
    pub severity: Severity,
    /// `request.body.messages[0].content`, `response.stream.choices[0].delta.content`,
    /// `request.body.model`, `request.headers`.
    pub path: String,
    /// `email`, `openai-api-key`, `term`, `pattern 0`, `model`, `max_tokens`,
    /// `x-traceforge-service-id`.
    pub entity: String,
    /// Byte offsets in the text at `path`, for text rules.
    pub span: Option<[usize; 2]>,
    /// The policy is enforced at the proxy (`enforce_at_proxy`).
    pub enforced: bool,
    pub priority: i64,
}

/// Fields that cap a response's length in the request, by API.
const MAX_TOKEN_FIELDS: &[&str] = &["max_tokens", "max_output_tokens", "max_completion_tokens"];

impl PolicySet {
    /// Every finding of the rules in force for `scope` against `request`.
    pub fn evaluate_request(&self, request: &Request, scope: &Scope) -> Vec<Finding> {
        let mut out = Vec::new();
        for (policy, rule) in
            self.effective(scope.organization.as_deref(), scope.service.as_deref())
        {
            if !rule.applies_to.request() {
                continue;
            }
            let push = &mut |path: String, entity: String, span: Option<[usize; 2]>| {
                out.push(finding(policy, rule, path, entity, span))
            };
            let json = request.body.as_ref().and_then(Body::as_json);
            match rule.kind {
                RuleType::AllowedModels => {
                    if let Some(model) = json.and_then(|b| b.get("model")).and_then(Value::as_str) {
                        if !rule.matcher.allows_model(model) {
                            push("request.body.model".into(), "model".into(), None);
                        }
                    }
                }
                RuleType::MaxTokens => {
                    let max = rule.matcher.max_tokens().unwrap_or(u64::MAX);
                    for field in MAX_TOKEN_FIELDS {
                        let asked = json.and_then(|b| b.get(*field)).and_then(Value::as_u64);
                        if asked.is_some_and(|n| n > max) {
                            push(format!("request.body.{field}"), (*field).into(), None);
                        }
                    }
                }
                RuleType::RequiredScope => {
                    for (header, value) in [
                        ("x-traceforge-organization-id", &scope.organization),
                        ("x-traceforge-service-id", &scope.service),
                    ] {
                        if value.as_deref().is_none_or(str::is_empty) {
                            push("request.headers".into(), header.into(), None);
                        }
                    }
                }
                _ => {
                    text_findings(rule, "request.path", &request.path, push);
                    if let Some(body) = &request.body {
                        body_findings(rule, "request.body", body, push);
                    }
                }
            }
        }
        out
    }

    /// Every finding of the rules in force for `scope` against `response` (and the usage
    /// recorded with it).
    pub fn evaluate_response(
        &self,
        response: &Response,
        usage: Option<&Usage>,
        scope: &Scope,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for (policy, rule) in
            self.effective(scope.organization.as_deref(), scope.service.as_deref())
        {
            if !rule.applies_to.response() {
                continue;
            }
            let push = &mut |path: String, entity: String, span: Option<[usize; 2]>| {
                out.push(finding(policy, rule, path, entity, span))
            };
            match rule.kind {
                RuleType::MaxTokens => {
                    let max = rule.matcher.max_tokens().unwrap_or(u64::MAX);
                    if usage.and_then(|u| u.output_tokens).is_some_and(|n| n > max) {
                        push(
                            "response.usage.output_tokens".into(),
                            "output_tokens".into(),
                            None,
                        );
                    }
                }
                RuleType::AllowedModels | RuleType::RequiredScope => {}
                _ => {
                    if let Some(body) = &response.body {
                        body_findings(rule, "response.body", body, push);
                    }
                    if let Some(events) = &response.stream {
                        stream_findings(rule, events, push);
                    }
                }
            }
        }
        out
    }

    /// Both sides of a recorded interaction, in the scope it was recorded with.
    pub fn evaluate(&self, interaction: &Interaction) -> Vec<Finding> {
        let mut out = self.evaluate_request(&interaction.request, &interaction.scope);
        out.extend(self.evaluate_response(
            &interaction.response,
            interaction.usage.as_ref(),
            &interaction.scope,
        ));
        out
    }
}

fn finding(
    policy: &Policy,
    rule: &Rule,
    path: String,
    entity: String,
    span: Option<[usize; 2]>,
) -> Finding {
    Finding {
        policy: policy.id.clone(),
        version: policy.version.clone(),
        rule: rule.id.clone(),
        rule_type: rule.kind,
        action: rule.action,
        severity: rule.severity,
        path,
        entity,
        span,
        enforced: policy.enforce_at_proxy,
        priority: policy.priority,
    }
}

type Push<'a> = &'a mut dyn FnMut(String, String, Option<[usize; 2]>);

fn text_findings(rule: &Rule, path: &str, text: &str, push: Push<'_>) {
    for span in rule.matcher.find(text) {
        push(path.to_string(), span.entity, Some([span.start, span.end]));
    }
}

fn body_findings(rule: &Rule, path: &str, body: &Body, push: Push<'_>) {
    match body {
        Body::Json(value) => json_findings(rule, value, &mut path.to_string(), push),
        Body::Text(text) => text_findings(rule, path, text, push),
        Body::Base64(_) => {}
    }
}

fn json_findings(rule: &Rule, value: &Value, path: &mut String, push: Push<'_>) {
    match value {
        Value::String(text) => text_findings(rule, path, text, push),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                json_findings(rule, item, path, push);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                crate::cassette::redact::push_key(path, key);
                json_findings(rule, item, path, push);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn stream_findings(rule: &Rule, events: &[crate::cassette::StreamEvent], push: Push<'_>) {
    let layout = StreamLayout::of(events);
    for (i, event) in events.iter().enumerate() {
        match &event.data {
            Body::Json(value) => {
                for (pointer, shown) in &layout.others[i] {
                    if let Some(Value::String(text)) = value.pointer(pointer) {
                        text_findings(rule, &format!("response.stream[{i}].{shown}"), text, push);
                    }
                }
            }
            other => body_findings(rule, &format!("response.stream[{i}]"), other, push),
        }
    }
    for channel in &layout.channels {
        let whole = channel.texts(events).concat();
        text_findings(rule, &channel.path, &whole, push);
    }
}
