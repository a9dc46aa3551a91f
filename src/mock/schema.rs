//! Deterministic example values for a JSON Schema, used for the mock's tool-call arguments and
//! structured outputs. Strings are drawn from the prompt's words (the last phrases first, so
//! "weather in San Francisco?" fills a `location` with "San Francisco"), numbers from the
//! prompt's numbers in order. Handles the schema shapes that SDKs generate (`$ref` into
//! `$defs`, `anyOf`, nullable type lists); anything unknown gets a plain value, never a panic.

use serde_json::{json, Map, Value};

/// Deepest nesting followed, so a recursive `$ref` ends.
const MAX_DEPTH: usize = 12;
/// Words that make poor argument values.
const STOPWORDS: &[&str] = &[
    "about", "also", "and", "are", "can", "could", "does", "for", "from", "give", "how", "into",
    "its", "like", "now", "please", "right", "should", "tell", "than", "that", "the", "then",
    "there", "this", "tool", "use", "was", "what", "what's", "whats", "when", "where", "which",
    "who", "why", "will", "with", "would", "you", "your",
];

/// Arguments for a tool call: always a JSON object, as function calling requires.
pub(crate) fn example_arguments(schema: Option<&Value>, prompt: &str) -> Value {
    match schema.map(|s| example_value(s, prompt)) {
        Some(value @ Value::Object(_)) => value,
        _ => Value::Object(Map::new()),
    }
}

/// An example value that matches `schema`, filled from `prompt`.
pub(crate) fn example_value(schema: &Value, prompt: &str) -> Value {
    let mut filler = Filler {
        root: schema,
        phrases: phrases(prompt),
        numbers: numbers(prompt),
        strings_used: 0,
        numbers_used: 0,
    };
    filler.value(schema, 0)
}

struct Filler<'a> {
    root: &'a Value,
    phrases: Vec<String>,
    numbers: Vec<f64>,
    strings_used: usize,
    numbers_used: usize,
}

impl Filler<'_> {
    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Some(object) = schema.as_object() else {
            // `true` (anything goes) or a malformed schema.
            return Value::String(self.next_string());
        };
        if let Some(target) = object.get("$ref").and_then(Value::as_str) {
            return match resolve(self.root, target) {
                Some(resolved) => self.value(resolved, depth + 1),
                None => Value::Null,
            };
        }
        if let Some(value) = object.get("const") {
            return value.clone();
        }
        if let Some(first) = object
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        if let Some(value) = object.get("default") {
            return value.clone();
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(options) = object.get(key).and_then(Value::as_array) {
                let option = options
                    .iter()
                    .find(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                    .or(options.first());
                if let Some(option) = option {
                    return self.value(option, depth + 1);
                }
            }
        }
        match schema_type(object) {
            "object" => self.object(object, depth),
            "array" => {
                let count = object
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .clamp(1, 3);
                let items = object.get("items").cloned().unwrap_or(Value::Bool(true));
                Value::Array((0..count).map(|_| self.value(&items, depth + 1)).collect())
            }
            "integer" => {
                let number = self.next_number(object, |n| n.fract() == 0.0);
                json!(number as i64)
            }
            "number" => {
                let number = self.next_number(object, |_| true);
                serde_json::Number::from_f64(number).map_or(json!(1), Value::Number)
            }
            "boolean" => Value::Bool(true),
            "null" => Value::Null,
            _ => Value::String(self.string(object)),
        }
    }

    fn object(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let Some(properties) = object.get("properties").and_then(Value::as_object) else {
            return Value::Object(out);
        };
        let required: Option<Vec<&str>> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect());
        for (name, property) in properties {
            // Without a `required` list every property is filled, as a model usually does.
            if required.as_ref().is_none_or(|r| r.contains(&name.as_str())) {
                let value = self.value(property, depth + 1);
                out.insert(name.clone(), value);
            }
        }
        Value::Object(out)
    }

    fn string(&mut self, object: &Map<String, Value>) -> String {
        let fixed = match object.get("format").and_then(Value::as_str) {
            Some("date") => Some("2025-01-01"),
            Some("date-time") => Some("2025-01-01T00:00:00Z"),
            Some("time") => Some("00:00:00Z"),
            Some("email") => Some("mock@example.com"),
            Some("uri" | "url") => Some("https://example.com/mock"),
            Some("uuid") => Some("00000000-0000-4000-8000-000000000000"),
            _ => None,
        };
        let mut text = fixed.map_or_else(|| self.next_string(), str::to_string);
        if let Some(max) = object.get("maxLength").and_then(Value::as_u64) {
            text = text
                .chars()
                .take(usize::try_from(max).unwrap_or(usize::MAX))
                .collect();
        }
        text
    }

    /// The prompt's phrases from the last one backwards, wrapping; "mock" for a prompt of
    /// stopwords.
    fn next_string(&mut self) -> String {
        let count = self.phrases.len();
        let used = self.strings_used;
        self.strings_used += 1;
        if count == 0 {
            return "mock".to_string();
        }
        self.phrases[count - 1 - used % count].clone()
    }

    /// The prompt's next number that `fits`, clamped into the schema's bounds; else the
    /// lower bound or 1.
    fn next_number(&mut self, object: &Map<String, Value>, fits: impl Fn(f64) -> bool) -> f64 {
        let minimum = object.get("minimum").and_then(Value::as_f64);
        let maximum = object.get("maximum").and_then(Value::as_f64);
        let found = self.numbers[self.numbers_used.min(self.numbers.len())..]
            .iter()
            .position(|n| fits(*n));
        let mut number = match found {
            Some(offset) => {
                let index = self.numbers_used + offset;
                self.numbers_used = index + 1;
                self.numbers[index]
            }
            None => minimum.unwrap_or(1.0),
        };
        if let Some(min) = minimum {
            number = number.max(min);
        }
        if let Some(max) = maximum {
            number = number.min(max);
        }
        if fits(number) {
            number
        } else {
            number.ceil()
        }
    }
}

/// The type a schema declares; a type list picks its first non-null type.
fn schema_type(object: &Map<String, Value>) -> &str {
    match object.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if object.contains_key("properties") => "object",
        _ if object.contains_key("items") => "array",
        _ => "string",
    }
}

/// Follows a local reference such as `#/$defs/Address`.
fn resolve<'a>(root: &'a Value, target: &str) -> Option<&'a Value> {
    let pointer = target.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

/// Candidate string values: words of the prompt that are not stopwords or numbers, with
/// runs of capitalised words joined ("San Francisco"). Names (capitalised phrases that do not
/// open a sentence) come last, so they are picked first.
fn phrases(prompt: &str) -> Vec<String> {
    let mut phrases: Vec<(String, bool)> = Vec::new();
    let mut previous_capitalised_at: Option<usize> = None;
    let mut sentence_start = true;
    for (position, raw) in prompt.split_whitespace().enumerate() {
        let opens_sentence = std::mem::replace(&mut sentence_start, raw.ends_with(['.', '?', '!']));
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let is_candidate = word.chars().count() >= 3
            && !STOPWORDS.contains(&word.to_lowercase().as_str())
            && word.parse::<f64>().is_err();
        if !is_candidate {
            previous_capitalised_at = None;
            continue;
        }
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        match (capitalised, previous_capitalised_at, phrases.last_mut()) {
            (true, Some(at), Some((last, _))) if at + 1 == position => {
                last.push(' ');
                last.push_str(word);
            }
            _ => phrases.push((word.to_string(), capitalised && !opens_sentence)),
        }
        previous_capitalised_at = capitalised.then_some(position);
        // A word ending a sentence or clause ends the phrase.
        if raw.ends_with(['.', ',', '?', '!', ';', ':']) {
            previous_capitalised_at = None;
        }
    }
    let (names, others): (Vec<_>, Vec<_>) = phrases.into_iter().partition(|(_, name)| *name);
    others
        .into_iter()
        .chain(names)
        .map(|(phrase, _)| phrase)
        .collect()
}

/// The prompt's numbers in order ("1,231" counts as 1231).
fn numbers(prompt: &str) -> Vec<f64> {
    prompt
        .split_whitespace()
        .filter_map(|raw| {
            let word = raw
                .trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '-'))
                .trim_end_matches(|c: char| !c.is_ascii_digit())
                .replace(',', "");
            let starts_like_a_number = word
                .trim_start_matches('-')
                .starts_with(|c: char| c.is_ascii_digit());
            starts_like_a_number
                .then(|| word.parse::<f64>().ok())
                .flatten()
                .filter(|n| n.is_finite())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_from_the_prompts_last_phrases() {
        let schema = json!({
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "topic": {"type": "string"}
            },
            "required": ["location", "unit", "topic"]
        });
        let value = example_value(&schema, "What's the weather like in San Francisco?");
        assert_eq!(
            value,
            json!({"location": "San Francisco", "unit": "celsius", "topic": "weather"})
        );
        assert_eq!(
            phrases("Tell me a joke about opentelemetry"),
            vec!["joke", "opentelemetry"]
        );
        assert_eq!(
            example_value(&json!({"type": "string"}), "a an"),
            json!("mock")
        );
    }

    #[test]
    fn numbers_come_from_the_prompt_in_order() {
        let schema = json!({
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "number", "minimum": 5}},
            "required": ["a", "b", "c"], "type": "object"
        });
        let value = example_value(&schema, "What is 1,231 * 2331? Use the multiply tool.");
        assert_eq!(value, json!({"a": 1231, "b": 2331, "c": 5.0}));
        assert_eq!(numbers("x -2.5 and 7. NaN inf"), vec![-2.5, 7.0]);
    }

    #[test]
    fn refs_any_of_arrays_and_optional_properties() {
        let schema = json!({
            "$defs": {"Item": {"type": "object", "properties": {"name": {"type": "string"}, "when": {"type": "string", "format": "date"}}}},
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                "note": {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
                "maybe": {"type": ["null", "integer"]},
                "skipped": {"type": "string"}
            },
            "required": ["items", "note", "maybe"]
        });
        let value = example_value(&schema, "Order Widget now");
        assert_eq!(
            value,
            json!({"items": [{"name": "Order Widget", "when": "2025-01-01"}], "note": true, "maybe": 1})
        );
    }

    #[test]
    fn hostile_schemas_give_values_not_panics() {
        let recursive = json!({"$ref": "#"});
        assert_eq!(example_value(&recursive, "x"), Value::Null);
        for schema in [
            json!(null),
            json!(7),
            json!({"type": 3}),
            json!({"$ref": "http://x"}),
            json!({"anyOf": []}),
            json!({"type": "integer", "minimum": 2.5, "maximum": 1}),
            json!({"type": "array", "minItems": 1000000}),
        ] {
            let _ = example_value(&schema, "1e308 -0 999999999999999999999999");
        }
        assert_eq!(
            example_arguments(Some(&json!({"type": "string"})), "x"),
            json!({})
        );
        assert_eq!(example_arguments(None, "x"), json!({}));
    }
}
