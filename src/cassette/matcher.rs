//! Request matching (DESIGN.md §3): which recorded interaction answers an incoming request, and
//! when none does, which recorded request was nearest and exactly how it differs.
//!
//! The default key is method, upstream, path, sorted query and the body as canonical JSON (keys
//! sorted, numbers normalised), because for LLM calls the body is the request.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::{defaults, Body};

/// One part of a request that can take part in matching (`--match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Method,
    Upstream,
    Path,
    Query,
    Body,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Method,
        Field::Upstream,
        Field::Path,
        Field::Query,
        Field::Body,
    ];

    pub fn parse(name: &str) -> Result<Field, String> {
        match name.trim() {
            "method" => Ok(Field::Method),
            "upstream" => Ok(Field::Upstream),
            "path" => Ok(Field::Path),
            "query" => Ok(Field::Query),
            "body" => Ok(Field::Body),
            other => Err(format!(
                "unknown match field {other:?} (expected method, upstream, path, query or body)"
            )),
        }
    }
}

/// One step of a JSON path such as `$.messages[0].content` or `$.tools[*].description`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    AnyIndex,
}

/// A JSON path naming fields to ignore when matching bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let rest = text
            .strip_prefix('$')
            .ok_or_else(|| format!("JSON path {text:?} must start with `$`"))?;
        let mut steps = Vec::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&(_, c)) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        key.push(c);
                        chars.next();
                    }
                    if key.is_empty() {
                        return Err(format!(
                            "JSON path {text:?} has an empty key at column {}",
                            at + 2
                        ));
                    }
                    steps.push(Step::Key(key));
                }
                '[' => {
                    let mut inner = String::new();
                    loop {
                        match chars.next() {
                            Some((_, ']')) => break,
                            Some((_, c)) => inner.push(c),
                            None => return Err(format!("JSON path {text:?} has an unclosed `[`")),
                        }
                    }
                    let inner = inner.trim();
                    if inner == "*" {
                        steps.push(Step::AnyIndex);
                    } else if let Ok(index) = inner.parse() {
                        steps.push(Step::Index(index));
                    } else {
                        let key = inner.trim_matches(|c| c == '\'' || c == '"');
                        steps.push(Step::Key(key.to_string()));
                    }
                }
                other => {
                    return Err(format!(
                        "JSON path {text:?}: unexpected {other:?} at column {}",
                        at + 2
                    ))
                }
            }
        }
        if steps.is_empty() {
            return Err(format!("JSON path {text:?} names the whole body"));
        }
        Ok(JsonPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn remove_from(&self, value: &mut Value) {
        remove(value, &self.steps);
    }

    /// Every value the path names in `value` (`[*]` can name several), in document order.
    pub fn select<'v>(&self, value: &'v Value) -> Vec<&'v Value> {
        let mut found = vec![value];
        for step in &self.steps {
            found = found
                .into_iter()
                .flat_map(|v| -> Vec<&'v Value> {
                    match (step, v) {
                        (Step::Key(key), Value::Object(map)) => map.get(key).into_iter().collect(),
                        (Step::Index(i), Value::Array(items)) => {
                            items.get(*i).into_iter().collect()
                        }
                        (Step::AnyIndex, Value::Array(items)) => items.iter().collect(),
                        _ => Vec::new(),
                    }
                })
                .collect();
        }
        found
    }
}

fn remove(value: &mut Value, steps: &[Step]) {
    let Some((step, rest)) = steps.split_first() else {
        return;
    };
    match (step, value) {
        (Step::Key(key), Value::Object(map)) => {
            if rest.is_empty() {
                map.shift_remove(key);
            } else if let Some(child) = map.get_mut(key) {
                remove(child, rest);
            }
        }
        (Step::Index(index), Value::Array(items)) => {
            if rest.is_empty() {
                if *index < items.len() {
                    items.remove(*index);
                }
            } else if let Some(child) = items.get_mut(*index) {
                remove(child, rest);
            }
        }
        (Step::AnyIndex, Value::Array(items)) => {
            if rest.is_empty() {
                items.clear();
            } else {
                items.iter_mut().for_each(|child| remove(child, rest));
            }
        }
        _ => {}
    }
}

/// How requests are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRules {
    pub fields: Vec<Field>,
    pub ignore_body_fields: Vec<JsonPath>,
    pub ignore_query: Vec<String>,
}

impl Default for MatchRules {
    fn default() -> Self {
        MatchRules {
            fields: Field::ALL.to_vec(),
            ignore_body_fields: Vec::new(),
            ignore_query: Vec::new(),
        }
    }
}

/// The parts of a request that matching looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: &'a str,
    pub upstream: &'a str,
    /// Path with query string.
    pub path: &'a str,
    pub body: Option<&'a Body>,
}

impl<'a> From<&'a super::Request> for RequestView<'a> {
    fn from(request: &'a super::Request) -> Self {
        RequestView {
            method: &request.method,
            upstream: &request.upstream,
            path: &request.path,
            body: request.body.as_ref(),
        }
    }
}

/// The identity of a request under some [`MatchRules`]: equal keys replay each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey(String);

impl MatchKey {
    /// A key with the given text, for tests of code that only stores keys.
    #[cfg(test)]
    pub(crate) fn from_text(text: &str) -> MatchKey {
        MatchKey(text.to_string())
    }
}

/// One way a request differs from a recorded one, for miss reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `method`, `upstream`, `path`, `query.NAME` or a JSON path such as `$.messages[0].content`.
    pub field: String,
    pub recorded: String,
    pub requested: String,
}

impl MatchRules {
    fn uses(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }

    pub fn key(&self, request: RequestView<'_>) -> MatchKey {
        let mut key = String::with_capacity(128);
        let (path, query) = split_query(request.path);
        if self.uses(Field::Method) {
            key.push_str(&request.method.to_ascii_uppercase());
        }
        key.push('\n');
        if self.uses(Field::Upstream) {
            key.push_str(request.upstream);
        }
        key.push('\n');
        if self.uses(Field::Path) {
            key.push_str(path);
        }
        key.push('\n');
        if self.uses(Field::Query) {
            for (name, value) in self.query_pairs(query) {
                let _ = write!(key, "{name}={value}&");
            }
        }
        key.push('\n');
        if self.uses(Field::Body) {
            match self.normalised_body(path, request.body).as_deref() {
                Some(Value::String(text)) => key.push_str(text),
                Some(value) => write_canonical(value, &mut key),
                None => {}
            }
        }
        MatchKey(key)
    }

    fn query_pairs<'q>(&self, query: &'q str) -> Vec<(&'q str, &'q str)> {
        let mut pairs: Vec<(&str, &str)> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .filter(|(name, _)| !self.ignore_query.iter().any(|ignored| ignored == name))
            .collect();
        pairs.sort();
        pairs
    }

    /// The body as matching sees it: JSON with ignored fields and top-level fields equal to the
    /// API's documented default removed, or text as a JSON string. Borrowed when nothing is
    /// removed, which keeps the replay hot path free of copies.
    fn normalised_body<'b>(&self, path: &str, body: Option<&'b Body>) -> Option<Cow<'b, Value>> {
        match body? {
            Body::Json(value)
                if self.ignore_body_fields.is_empty() && !has_defaults(path, value) =>
            {
                Some(Cow::Borrowed(value))
            }
            Body::Json(value) => {
                let mut value = value.clone();
                for ignored in &self.ignore_body_fields {
                    ignored.remove_from(&mut value);
                }
                if let Value::Object(map) = &mut value {
                    map.retain(|field, value| !is_default(path, field, value));
                }
                Some(Cow::Owned(value))
            }
            Body::Text(text) => Some(Cow::Owned(Value::String(text.clone()))),
            Body::Base64(data) => Some(Cow::Owned(Value::String(format!("base64:{data}")))),
        }
    }

    /// Every difference between a requested and a recorded request that matching looks at.
    pub fn differences(
        &self,
        requested: RequestView<'_>,
        recorded: RequestView<'_>,
    ) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut push = |field: &str, recorded: &str, requested: &str| {
            out.push(Difference {
                field: field.to_string(),
                recorded: recorded.to_string(),
                requested: requested.to_string(),
            })
        };
        if self.uses(Field::Method) && !requested.method.eq_ignore_ascii_case(recorded.method) {
            push("method", recorded.method, requested.method);
        }
        if self.uses(Field::Upstream) && requested.upstream != recorded.upstream {
            push("upstream", recorded.upstream, requested.upstream);
        }
        let (requested_path, requested_query) = split_query(requested.path);
        let (recorded_path, recorded_query) = split_query(recorded.path);
        if self.uses(Field::Path) && requested_path != recorded_path {
            push("path", recorded_path, requested_path);
        }
        if self.uses(Field::Query) {
            let wanted: BTreeMap<_, _> = self.query_pairs(requested_query).into_iter().collect();
            let had: BTreeMap<_, _> = self.query_pairs(recorded_query).into_iter().collect();
            let names: std::collections::BTreeSet<_> = wanted.keys().chain(had.keys()).collect();
            for name in names {
                let (a, b) = (had.get(name), wanted.get(name));
                if a != b {
                    push(
                        &format!("query.{name}"),
                        a.copied().unwrap_or("(absent)"),
                        b.copied().unwrap_or("(absent)"),
                    );
                }
            }
        }
        if self.uses(Field::Body) {
            let a = self.normalised_body(recorded_path, recorded.body);
            let b = self.normalised_body(requested_path, requested.body);
            let first = out.len();
            json_differences("$", a.as_deref(), b.as_deref(), &mut out);
            // An absent field that the API defaults: say what it stands for, since a request
            // spelling out that default would have matched.
            for difference in &mut out[first..] {
                let Some(field) = difference.field.strip_prefix("$.") else {
                    continue;
                };
                if let Some(default) = defaults::default_of(requested_path, field) {
                    for side in [&mut difference.recorded, &mut difference.requested] {
                        if side == ABSENT {
                            *side = format!("(absent: the API default {default})");
                        }
                    }
                }
            }
        }
        out
    }

    /// The recorded request nearest to `requested`, with its differences: fewest differing
    /// fields, where method, upstream and path weigh more than anything inside the body.
    pub fn nearest<'r>(
        &self,
        requested: RequestView<'_>,
        recorded: impl IntoIterator<Item = (usize, RequestView<'r>)>,
    ) -> Option<(usize, Vec<Difference>)> {
        recorded
            .into_iter()
            .map(|(index, candidate)| {
                let differences = self.differences(requested, candidate);
                let weight: usize = differences
                    .iter()
                    .map(|d| match d.field.as_str() {
                        "method" | "upstream" | "path" => 1000,
                        _ => 1,
                    })
                    .sum();
                (weight, index, differences)
            })
            .min_by_key(|(weight, index, _)| (*weight, *index))
            .map(|(_, index, differences)| (index, differences))
    }

    /// A unified text diff of the two bodies as matching sees them (pretty, keys sorted).
    pub fn body_diff(&self, requested: RequestView<'_>, recorded: RequestView<'_>) -> String {
        let render = |view: RequestView<'_>| match self
            .normalised_body(split_query(view.path).0, view.body)
            .as_deref()
        {
            Some(Value::String(text)) => text.clone(),
            Some(value) => {
                let sorted = sort_keys(value);
                serde_json::to_string_pretty(&sorted).unwrap_or_default()
            }
            None => String::new(),
        };
        // Both sides end in a newline so the diff carries no "no newline at end" noise.
        let recorded = render(recorded) + "\n";
        let requested = render(requested) + "\n";
        if recorded == requested {
            return String::new();
        }
        similar::TextDiff::from_lines(&recorded, &requested)
            .unified_diff()
            .context_radius(3)
            .header("recorded", "requested")
            .to_string()
    }
}

/// What a miss report shows for a field one side does not have.
const ABSENT: &str = "(absent)";

/// Whether the top-level `field` holds the API's documented default for requests to `path`.
fn is_default(path: &str, field: &str, value: &Value) -> bool {
    defaults::default_of(path, field).is_some_and(|default| canonical(value) == default)
}

/// Whether any top-level field of `body` holds its documented default.
fn has_defaults(path: &str, body: &Value) -> bool {
    match body {
        Value::Object(map) => map
            .iter()
            .any(|(field, value)| is_default(path, field, value)),
        _ => false,
    }
}

fn split_query(path: &str) -> (&str, &str) {
    path.split_once('?').unwrap_or((path, ""))
}

fn json_differences(at: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Difference>) {
    let show = |v: Option<&Value>| match v {
        None => ABSENT.to_string(),
        Some(v) => {
            let text = canonical(v);
            if text.chars().count() > 120 {
                let cut: String = text.chars().take(117).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    };
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                json_differences(
                    &format!("{at}.{key}"),
                    x.get(key.as_str()),
                    y.get(key.as_str()),
                    out,
                );
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                json_differences(&format!("{at}[{i}]"), x.get(i), y.get(i), out);
            }
        }
        (a, b) => {
            let same = match (a, b) {
                (Some(x), Some(y)) => canonical(x) == canonical(y),
                (None, None) => true,
                _ => false,
            };
            if !same {
                out.push(Difference {
                    field: at.to_string(),
                    recorded: show(a),
                    requested: show(b),
                });
            }
        }
    }
}

/// Canonical JSON text: object keys sorted, integral numbers written without a fraction.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Number(number) => match number.as_f64() {
            // 1.0 and 1 are the same number to every JSON consumer that matters here.
            Some(f) if number.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => {
                let _ = write!(out, "{number}");
            }
        },
        Value::String(text) => write_string(text, out),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view<'a>(path: &'a str, body: &'a Body) -> RequestView<'a> {
        RequestView {
            method: "POST",
            upstream: "openai",
            path,
            body: Some(body),
        }
    }

    #[test]
    fn key_ignores_key_order_number_form_and_query_order() {
        let rules = MatchRules::default();
        let a = Body::Json(json!({"model": "m", "temperature": 1.0, "n": [1, 2]}));
        let b = Body::Json(json!({"n": [1, 2], "temperature": 1, "model": "m"}));
        assert_eq!(
            rules.key(view("/v1/x?b=2&a=1", &a)),
            rules.key(view("/v1/x?a=1&b=2", &b))
        );
        let c = Body::Json(json!({"model": "m", "temperature": 0.5, "n": [1, 2]}));
        assert_ne!(rules.key(view("/v1/x", &a)), rules.key(view("/v1/x", &c)));
    }

    #[test]
    fn ignored_fields_and_match_fields_are_honoured() {
        let rules = MatchRules {
            ignore_body_fields: vec![
                JsonPath::parse("$.user").unwrap(),
                JsonPath::parse("$.messages[*].name").unwrap(),
            ],
            ignore_query: vec!["api-version".into()],
            ..MatchRules::default()
        };
        let a = Body::Json(json!({"user": "u1", "messages": [{"role": "user", "name": "x"}]}));
        let b = Body::Json(json!({"user": "u2", "messages": [{"role": "user", "name": "y"}]}));
        assert_eq!(
            rules.key(view("/p?api-version=1", &a)),
            rules.key(view("/p?api-version=2", &b))
        );
        let no_body = MatchRules {
            fields: vec![Field::Method, Field::Path],
            ..MatchRules::default()
        };
        let c = Body::Text("anything".into());
        assert_eq!(no_body.key(view("/p", &a)), no_body.key(view("/p?z=1", &c)));
    }

    #[test]
    fn a_field_equal_to_the_api_default_matches_its_absence() {
        let rules = MatchRules::default();
        let old_sdk = Body::Json(json!({"model": "m", "messages": []}));
        let new_sdk = Body::Json(json!({"model": "m", "messages": [], "stream": false, "n": 1}));
        let chat = "/v1/chat/completions";
        assert_eq!(
            rules.key(view(chat, &old_sdk)),
            rules.key(view(chat, &new_sdk))
        );
        assert!(rules
            .differences(view(chat, &new_sdk), view(chat, &old_sdk))
            .is_empty());
        assert_eq!(
            rules.body_diff(view(chat, &new_sdk), view(chat, &old_sdk)),
            ""
        );
        // Anthropic's `temperature` defaults to 1.0: 1 and 1.0 are the same number.
        let messages = "/v1/messages?beta=true";
        let spelled = Body::Json(json!({"model": "m", "temperature": 1.0, "stream": false}));
        let bare = Body::Json(json!({"model": "m"}));
        assert_eq!(
            rules.key(view(messages, &spelled)),
            rules.key(view(messages, &bare))
        );
        // Only the documented default, only where it is documented, only at the top level.
        let streamed = Body::Json(json!({"model": "m", "messages": [], "stream": true}));
        assert_ne!(
            rules.key(view(chat, &streamed)),
            rules.key(view(chat, &old_sdk))
        );
        assert_ne!(
            rules.key(view("/v1/other", &new_sdk)),
            rules.key(view("/v1/other", &old_sdk))
        );
        let nested = Body::Json(json!({"model": "m", "messages": [], "metadata": {"n": 1}}));
        assert_ne!(
            rules.key(view(chat, &nested)),
            rules.key(view(chat, &old_sdk))
        );
        // A miss report says what an absent field stands for.
        let cold = Body::Json(json!({"model": "m", "messages": [], "temperature": 0.2}));
        let differences = rules.differences(view(chat, &cold), view(chat, &old_sdk));
        assert_eq!(
            differences,
            vec![Difference {
                field: "$.temperature".into(),
                recorded: "(absent: the API default 1)".into(),
                requested: "0.2".into(),
            }]
        );
    }

    #[test]
    fn json_paths_parse_or_explain() {
        assert!(JsonPath::parse("$.metadata").is_ok());
        assert!(JsonPath::parse("$.a[0].b['c d']").is_ok());
        assert!(JsonPath::parse("user")
            .unwrap_err()
            .contains("must start with `$`"));
        assert!(JsonPath::parse("$.a[").unwrap_err().contains("unclosed"));
        assert!(JsonPath::parse("$..a").unwrap_err().contains("empty key"));
    }

    #[test]
    fn nearest_prefers_same_path_and_lists_json_paths() {
        let rules = MatchRules::default();
        let wanted = Body::Json(json!({"model": "m", "messages": [{"content": "hallo"}]}));
        let close = Body::Json(json!({"model": "m", "messages": [{"content": "hello"}]}));
        let far = Body::Json(json!({"model": "m", "messages": [{"content": "hallo"}]}));
        let recorded = [view("/v1/chat", &close), view("/v1/other", &far)];
        let (index, differences) = rules
            .nearest(
                view("/v1/chat", &wanted),
                recorded.iter().copied().enumerate(),
            )
            .unwrap();
        assert_eq!(index, 0);
        assert_eq!(
            differences,
            vec![Difference {
                field: "$.messages[0].content".into(),
                recorded: "\"hello\"".into(),
                requested: "\"hallo\"".into(),
            }]
        );
        let diff = rules.body_diff(view("/v1/chat", &wanted), recorded[0]);
        assert!(diff.contains("-      \"content\": \"hello\""), "{diff}");
        assert!(diff.contains("+      \"content\": \"hallo\""), "{diff}");
    }
}
