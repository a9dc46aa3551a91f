//! Keeping secrets off disk: credential headers are written as `REDACTED`, and API-key-shaped
//! strings anywhere in bodies, stream events and other header values are masked. The same
//! [`Redactor::scan`] powers `vcr verify`, so what redaction misses, verify reports.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::{Body, Interaction};

/// The placeholder written in place of a secret.
pub const REDACTED: &str = "REDACTED";

/// Headers whose values are always secrets.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

/// Query parameters whose values are secrets (Gemini-style `?key=`).
const SECRET_QUERY_PARAMS: &[&str] = &["key", "api_key", "api-key", "apikey", "access_token"];

fn secret_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(concat!(
            r"sk-ant-[A-Za-z0-9_\-]{16,}",
            r"|sk-[A-Za-z0-9_\-]{16,}",
            r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*",
            r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            r"|\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        ))
        .expect("the secret pattern is a valid regex")
    })
}

/// Masks secret-shaped substrings of `text`, returning `None` when there were none.
pub fn mask(text: &str) -> Option<String> {
    let pattern = secret_pattern();
    if !pattern.is_match(text) {
        return None;
    }
    Some(pattern.replace_all(text, REDACTED).into_owned())
}

/// `url` fit to show: a password in its user info becomes `***` (`http://user:***@host`), and
/// so does a user name given alone, since that is how tokens are often passed. The rest of the
/// text is kept exactly as written.
pub fn url(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    let authority_len = url[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let shown = match authority[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_string(),
    };
    format!(
        "{}{shown}{}",
        &url[..authority_start],
        &url[authority_start + at..]
    )
}

/// What must be removed before an interaction is written.
#[derive(Debug, Clone)]
pub struct Redactor {
    headers: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(&[])
    }
}

impl Redactor {
    /// A redactor for the built-in secret headers plus `extra_headers` (case-insensitive).
    pub fn new(extra_headers: &[String]) -> Self {
        let mut headers: Vec<String> = SECRET_HEADERS.iter().map(|h| h.to_string()).collect();
        headers.extend(extra_headers.iter().map(|h| h.to_ascii_lowercase()));
        Redactor { headers }
    }

    pub fn is_secret_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    pub fn headers(&self, headers: &mut BTreeMap<String, String>) {
        for (name, value) in headers.iter_mut() {
            if self.is_secret_header(name) {
                *value = REDACTED.to_string();
            } else if let Some(masked) = mask(value) {
                *value = masked;
            }
        }
    }

    /// Masks secret query parameters and secret-shaped strings in a path with query.
    pub fn path(&self, path: &str) -> String {
        let Some((base, query)) = path.split_once('?') else {
            return mask(path).unwrap_or_else(|| path.to_string());
        };
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _))
                    if SECRET_QUERY_PARAMS
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(k)) =>
                {
                    format!("{k}={REDACTED}")
                }
                _ => mask(pair).unwrap_or_else(|| pair.to_string()),
            })
            .collect();
        format!("{base}?{}", query.join("&"))
    }

    pub fn body(&self, body: &mut Body) {
        match body {
            Body::Json(value) => json(value),
            Body::Text(text) => {
                if let Some(masked) = mask(text) {
                    *text = masked;
                }
            }
            Body::Base64(_) => {}
        }
    }

    /// Redacts everything in an interaction that could hold a secret.
    pub fn interaction(&self, interaction: &mut Interaction) {
        let request = &mut interaction.request;
        request.path = self.path(&request.path);
        self.headers(&mut request.headers);
        if let Some(body) = &mut request.body {
            self.body(body);
        }
        let response = &mut interaction.response;
        self.headers(&mut response.headers);
        if let Some(body) = &mut response.body {
            self.body(body);
        }
        for event in response.stream.iter_mut().flatten() {
            self.body(&mut event.data);
        }
    }

    /// Where an interaction still holds a secret: a list of human-readable locations.
    pub fn scan(&self, interaction: &Interaction) -> Vec<String> {
        let mut found = Vec::new();
        let request = &interaction.request;
        if request.path.contains('?') && self.path(&request.path) != request.path {
            found.push("request.path".to_string());
        }
        for (side, headers) in [
            ("request", &request.headers),
            ("response", &interaction.response.headers),
        ] {
            for (name, value) in headers {
                if (self.is_secret_header(name) && value != REDACTED) || mask(value).is_some() {
                    found.push(format!("{side}.headers.{name}"));
                }
            }
        }
        if let Some(body) = &request.body {
            scan_body(body, "request.body", &mut found);
        }
        if let Some(body) = &interaction.response.body {
            scan_body(body, "response.body", &mut found);
        }
        for (i, event) in interaction.response.stream.iter().flatten().enumerate() {
            scan_body(&event.data, &format!("response.stream[{i}]"), &mut found);
        }
        found
    }
}

/// Masks secret-shaped strings everywhere in a JSON value, keys included.
pub fn json(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Some(masked) = mask(text) {
                *text = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(json),
        Value::Object(map) => {
            if map.keys().any(|k| mask(k).is_some()) {
                let entries = std::mem::take(map);
                for (k, v) in entries {
                    map.insert(mask(&k).unwrap_or(k), v);
                }
            }
            map.values_mut().for_each(json);
        }
        _ => {}
    }
}

fn scan_body(body: &Body, location: &str, found: &mut Vec<String>) {
    let hit = match body {
        Body::Json(value) => {
            let mut copy = value.clone();
            json(&mut copy);
            &copy != value
        }
        Body::Text(text) => mask(text).is_some(),
        Body::Base64(_) => false,
    };
    if hit {
        found.push(location.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_and_keep_the_rest() {
        for (given, shown) in [
            ("http://u:p@h:1/base", "http://u:***@h:1/base"),
            ("https://u:p%40ss@h", "https://u:***@h"),
            ("https://token@h/x?y=1", "https://***@h/x?y=1"),
            ("http://u:@h", "http://u:***@h"),
            ("http://h:1/base/a@b", "http://h:1/base/a@b"),
            ("http://h?x=a:b@c", "http://h?x=a:b@c"),
            ("https://api.openai.com", "https://api.openai.com"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(url(given), shown, "{given}");
        }
    }

    #[test]
    fn masks_every_key_shape() {
        let cases = [
            "key sk-proj-abcdefghijklmnop1234 here",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
            "aws AKIAIOSFODNN7EXAMPLE",
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ];
        for case in cases {
            let masked = mask(case).unwrap_or_else(|| panic!("{case} not masked"));
            assert!(masked.contains(REDACTED), "{masked}");
            assert!(mask(&masked).is_none(), "{masked} still matches");
        }
        assert!(mask("a normal sentence about skiing and desks").is_none());
        assert!(mask("sk-short").is_none());
    }

    #[test]
    fn redacts_headers_query_and_nested_json() {
        let redactor = Redactor::new(&["x-custom-token".to_string()]);
        let mut headers = BTreeMap::from([
            ("Authorization".to_string(), "Bearer sk-123".to_string()),
            ("x-custom-token".to_string(), "abc".to_string()),
            ("user-agent".to_string(), "OpenAI/Python".to_string()),
        ]);
        redactor.headers(&mut headers);
        assert_eq!(headers["Authorization"], REDACTED);
        assert_eq!(headers["x-custom-token"], REDACTED);
        assert_eq!(headers["user-agent"], "OpenAI/Python");

        assert_eq!(
            redactor.path("/v1/models?key=AIzaXYZ&alt=sse"),
            "/v1/models?key=REDACTED&alt=sse"
        );

        let mut value =
            serde_json::json!({"messages": [{"content": "my key is sk-abcdefghijklmnopqrstu"}]});
        json(&mut value);
        assert_eq!(value["messages"][0]["content"], "my key is REDACTED");
    }
}
