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
        // Every string of the request, read once for all the text rules.
        let mut texts: Option<Texts> = None;
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
                    let texts = texts.get_or_insert_with(|| Texts::of_request(request, self));
                    texts.findings(rule, push);
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
        let mut texts: Option<Texts> = None;
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
                    let texts = texts.get_or_insert_with(|| Texts::of_response(response, self));
                    texts.findings(rule, push);
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

/// Every string of one side of an interaction, with its path — read once, then matched by
/// every text rule — and, per distinct string, which of the set's regex patterns match it (one
/// pass of a [`regex::RegexSet`] over all of them, so a regex rule only searches strings it
/// matches). A stream repeats its id, model and object type in every event: each distinct
/// string is matched once per rule, however many paths hold it.
struct Texts {
    /// Each distinct string, with the prefilter's hits in it.
    distinct: Vec<(String, Vec<usize>)>,
    /// Every string's path, in body order, and which distinct string it holds.
    items: Vec<(String, usize)>,
    /// The secret rules' spans in each distinct string: every `no-secrets` rule shares one
    /// compiled set, so the strings are scanned once however many rules ask.
    secret_spans: std::cell::OnceCell<Vec<Vec<super::Span>>>,
}

impl Texts {
    fn new(texts: Vec<(String, String)>, set: &PolicySet) -> Texts {
        let mut index: std::collections::HashMap<String, usize> =
            std::collections::HashMap::with_capacity(texts.len());
        let mut items = Vec::with_capacity(texts.len());
        for (path, text) in texts {
            let next = index.len();
            items.push((path, *index.entry(text).or_insert(next)));
        }
        let mut distinct: Vec<(String, Vec<usize>)> = vec![Default::default(); index.len()];
        for (text, i) in index {
            let hits = match &set.regex_prefilter {
                Some(prefilter) => prefilter.matches(&text).into_iter().collect(),
                None => Vec::new(),
            };
            distinct[i] = (text, hits);
        }
        Texts {
            distinct,
            items,
            secret_spans: std::cell::OnceCell::new(),
        }
    }

    fn of_request(request: &Request, set: &PolicySet) -> Texts {
        let mut items = vec![("request.path".to_string(), request.path.clone())];
        if let Some(body) = &request.body {
            body_texts("request.body", body, &mut items);
        }
        Texts::new(items, set)
    }

    fn of_response(response: &Response, set: &PolicySet) -> Texts {
        let mut items = Vec::new();
        if let Some(body) = &response.body {
            body_texts("response.body", body, &mut items);
        }
        if let Some(events) = &response.stream {
            stream_texts(events, &mut items);
        }
        Texts::new(items, set)
    }

    fn findings(&self, rule: &Rule, push: Push<'_>) {
        let own: Vec<Vec<super::Span>>;
        let spans: &[Vec<super::Span>] = if rule.kind == RuleType::NoSecrets {
            self.secret_spans.get_or_init(|| {
                self.distinct
                    .iter()
                    .map(|(text, _)| rule.matcher.find(text))
                    .collect()
            })
        } else {
            own = self
                .distinct
                .iter()
                .map(|(text, hits)| {
                    let ruled_out = rule
                        .pattern_ids
                        .as_ref()
                        .is_some_and(|ids| !ids.iter().any(|id| hits.contains(id)));
                    if ruled_out {
                        Vec::new()
                    } else {
                        rule.matcher.find(text)
                    }
                })
                .collect();
            &own
        };
        for (path, i) in &self.items {
            for span in &spans[*i] {
                push(
                    path.clone(),
                    span.entity.clone(),
                    Some([span.start, span.end]),
                );
            }
        }
    }
}

fn body_texts(path: &str, body: &Body, out: &mut Vec<(String, String)>) {
    match body {
        Body::Json(value) => json_texts(value, &mut path.to_string(), out),
        Body::Text(text) => out.push((path.to_string(), text.clone())),
        Body::Base64(_) => {}
    }
}

fn json_texts(value: &Value, path: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) => out.push((path.clone(), text.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                json_texts(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                crate::cassette::redact::push_key(path, key);
                json_texts(item, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn stream_texts(events: &[crate::cassette::StreamEvent], out: &mut Vec<(String, String)>) {
    let layout = StreamLayout::of(events);
    for (i, event) in events.iter().enumerate() {
        match &event.data {
            Body::Json(value) => {
                for (pointer, shown) in &layout.others[i] {
                    if let Some(Value::String(text)) = value.pointer(pointer) {
                        out.push((format!("response.stream[{i}].{shown}"), text.clone()));
                    }
                }
            }
            // Plain-text events are read as their channel, below.
            other if crate::cassette::redact::is_text_piece(other) => {}
            other => body_texts(&format!("response.stream[{i}]"), other, out),
        }
    }
    for channel in &layout.channels {
        out.push((channel.path.clone(), channel.texts(events).concat()));
    }
}
