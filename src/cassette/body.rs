//! A body as data: parsed JSON (key order kept), UTF-8 text, or base64 for anything else, so that
//! a pull-request diff of a cassette shows what the model said.

use base64::Engine as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// How deep a JSON body may nest and still be stored as data. The cassette around a body adds
/// up to eight levels, and YAML readers stop at 128; a deeper body is stored as `text:`, which
/// gives back the same bytes and can always be read.
pub const MAX_JSON_DEPTH: usize = 100;

/// How many arrays and objects deep `value` goes (a scalar is 0).
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether every number in the JSON text `bytes` survives parsing into a [`Value`] with its
/// value intact: integers within i64/u64, decimals that an f64 holds to the digit. Others
/// (`12345678901234567890123`, `0.1000000000000000000001`, `1e400`) would come back as a
/// different number, so such a body is stored as text, which gives back the same bytes.
fn numbers_are_exact(bytes: &[u8]) -> bool {
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let token = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                if !number_is_exact(token) {
                    return false;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// Whether the JSON number `token` keeps its value through serde_json's i64/u64/f64.
fn number_is_exact(token: &str) -> bool {
    let is_integer = !token.contains(['.', 'e', 'E']);
    // Up to 15 significant digits every form is exact; most numbers stop here.
    if token.len() <= 15 && is_integer {
        return true;
    }
    if is_integer {
        return token.parse::<i64>().is_ok() || token.parse::<u64>().is_ok();
    }
    match token.parse::<f64>() {
        Ok(value) if value.is_finite() => decimal(token) == decimal(&format!("{value:e}")),
        _ => false,
    }
}

/// A decimal number's value as (negative, significant digits, exponent of the last digit),
/// so that `1.50`, `15e-1` and `1.5` compare equal.
fn decimal(text: &str) -> (bool, String, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let mut exponent = exponent - fraction.len() as i64;
    let trimmed = digits.trim_start_matches('0');
    let significant = trimmed.trim_end_matches('0');
    exponent += (trimmed.len() - significant.len()) as i64;
    if significant.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, significant.to_string(), exponent)
}

/// A request, response or stream-event body in one of the three stored forms.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "BodyRepr")]
pub enum Body {
    Json(Value),
    Text(String),
    Base64(String),
}

impl Body {
    /// Chooses the most readable form that gives back exactly these bytes to a parser:
    /// JSON when the bytes parse as JSON, text when they are UTF-8, base64 otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Body {
        let looks_like_json = bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        if looks_like_json {
            if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
                if depth(&value) <= MAX_JSON_DEPTH && numbers_are_exact(bytes) {
                    return Body::Json(value);
                }
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Body::Text(text.to_string()),
            Err(_) => Body::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    /// The bytes to send on the wire. JSON is written compactly (whitespace is not preserved).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(value) => serde_json::to_vec(value).unwrap_or_default(),
            Body::Text(text) => text.as_bytes().to_vec(),
            Body::Base64(data) => base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap_or_default(),
        }
    }

    pub fn as_json(&self) -> Option<&Value> {
        match self {
            Body::Json(value) => Some(value),
            _ => None,
        }
    }

    /// A short human description for summaries and miss reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Json(_) => "json",
            Body::Text(_) => "text",
            Body::Base64(_) => "base64",
        }
    }
}

/// The on-disk shape: a map with exactly one of `json`, `text` or `base64`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyRepr {
    #[serde(default, deserialize_with = "present")]
    json: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    base64: Option<String>,
}

/// Keeps `json: null` distinct from a missing `json` key.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl TryFrom<BodyRepr> for Body {
    type Error = String;

    fn try_from(repr: BodyRepr) -> Result<Self, Self::Error> {
        match (repr.json, repr.text, repr.base64) {
            (Some(value), None, None) => Ok(Body::Json(value)),
            (None, Some(text), None) => Ok(Body::Text(text)),
            (None, None, Some(data)) => {
                base64::engine::general_purpose::STANDARD
                    .decode(&data)
                    .map_err(|e| format!("body `base64:` is not valid base64: {e}"))?;
                Ok(Body::Base64(data))
            }
            _ => Err("a body needs exactly one of `json:`, `text:` or `base64:`".to_string()),
        }
    }
}

/// Written as `BodyRepr` is read, without the copy that `#[serde(into)]` would make of every
/// body each time a cassette or trace row is written.
impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Body::Json(value) => map.serialize_entry("json", value)?,
            Body::Text(text) => map.serialize_entry("text", text)?,
            Body::Base64(data) => map.serialize_entry("base64", data)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_the_readable_form() {
        assert_eq!(
            Body::from_bytes(br#" {"a": 1}"#),
            Body::Json(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            Body::from_bytes(b"{not json"),
            Body::Text("{not json".into())
        );
        assert_eq!(Body::from_bytes(b"42"), Body::Text("42".into()));
        assert_eq!(
            Body::from_bytes(&[0xff, 0x00, 0x10]),
            Body::Base64("/wAQ".into())
        );
    }

    #[test]
    fn a_body_too_deep_for_yaml_is_kept_as_text_and_survives_a_cassette() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(matches!(
            Body::from_bytes(deep(MAX_JSON_DEPTH).as_bytes()),
            Body::Json(_)
        ));
        let text = deep(MAX_JSON_DEPTH + 20);
        let body = Body::from_bytes(text.as_bytes());
        assert_eq!(body, Body::Text(text.clone()));
        // Written in a cassette and read back, with and without a hand-added comment.
        let yaml = crate::yaml::to_string(&body).unwrap();
        for doc in [yaml.clone(), format!("# reviewed\n{yaml}")] {
            let back: Body = crate::yaml::from_str(&doc).unwrap();
            assert_eq!(back.to_bytes(), text.as_bytes());
        }
    }

    #[test]
    fn numbers_a_float_would_change_keep_the_body_as_text() {
        for exact in [
            r#"{"n": 12345678901234567890}"#,
            r#"{"n": -9223372036854775808}"#,
            r#"{"n": 0.1, "m": 1.50, "k": 2e-3, "big": 1e300, "z": -0.0}"#,
            r#"{"s": "12345678901234567890123 in a string", "id": 123456789012345}"#,
            r#"[1.7976931348623157e308, 5e-324, 3.141592653589793]"#,
        ] {
            assert!(
                matches!(Body::from_bytes(exact.as_bytes()), Body::Json(_)),
                "{exact}"
            );
        }
        for inexact in [
            r#"{"n": 12345678901234567890123}"#,
            r#"{"n": -9223372036854775809}"#,
            r#"{"n": 0.1000000000000000000001}"#,
            r#"{"n": 1e400}"#,
            r#"{"n": 3.14159265358979323846}"#,
        ] {
            let body = Body::from_bytes(inexact.as_bytes());
            assert_eq!(body, Body::Text(inexact.into()), "{inexact}");
            assert_eq!(body.to_bytes(), inexact.as_bytes());
        }
    }

    #[test]
    fn round_trips_bytes_for_every_form() {
        for bytes in [&b"[1,2,3]"[..], b"plain text", &[0xde, 0xad, 0xbe, 0xef]] {
            assert_eq!(Body::from_bytes(bytes).to_bytes(), bytes);
        }
    }

    #[test]
    fn serialises_as_it_is_read() {
        for body in [
            Body::Json(serde_json::json!({"a": [1, null]})),
            Body::Json(Value::Null),
            Body::Text("hi".into()),
            Body::Base64("/wAQ".into()),
        ] {
            let text = serde_json::to_string(&body).unwrap();
            assert_eq!(serde_json::from_str::<Body>(&text).unwrap(), body, "{text}");
        }
        assert_eq!(
            serde_json::to_string(&Body::Json(Value::Null)).unwrap(),
            r#"{"json":null}"#
        );
    }

    #[test]
    fn json_null_is_not_a_missing_body() {
        let body: Body = serde_json::from_str(r#"{"json": null}"#).unwrap();
        assert_eq!(body, Body::Json(Value::Null));
        let err = serde_json::from_str::<Body>(r#"{}"#).unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
        let err = serde_json::from_str::<Body>(r#"{"text": "a", "base64": "YQ=="}"#).unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
    }
}
