//! The one place that knows which YAML crate is in use, so it can be swapped (DESIGN.md §11).
//! Errors carry the line and column where the input went wrong. Documents in the shape
//! traceforge writes take a fast path both ways (`fast` reads them, `emit` writes them);
//! anything else, and every error, goes through serde_yaml.

mod emit;
mod fast;
pub mod locate;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A YAML syntax or shape error with its 1-based position, when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl YamlError {
    /// `line L, column C: message`, or just the message when the position is unknown.
    pub fn located(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("line {line}, column {column}: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// This error as found in the file at `path`.
    pub fn in_file(self, path: &std::path::Path) -> FileError {
        FileError {
            path: path.to_path_buf(),
            line: self.line,
            column: self.column,
            message: self.message,
        }
    }
}

/// A YAML error in a named file, shown the way editors and compilers point at a place:
/// `path:line:column: message` (or `path: message` when the parser knows no position).
#[derive(Debug, thiserror::Error)]
pub struct FileError {
    pub path: std::path::PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            _ => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Parses `text`, read from `path`, naming the file and the place in any error.
pub fn from_file_text<T: DeserializeOwned>(
    path: &std::path::Path,
    text: &str,
) -> Result<T, FileError> {
    from_str(text).map_err(|e| e.in_file(path))
}

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the document.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(events) = fast::events(text) {
        // A shape mismatch is reported by serde_yaml below, with its position.
        if let Ok(parsed) = fast::Deserializer::new(events).read() {
            return Ok(parsed);
        }
    }
    serde_yaml::from_str(text).map_err(|e| {
        let location = e.location();
        // serde_yaml appends " at line L column C" itself; keep the message clean.
        let mut message = e.to_string();
        if let Some(pos) = message.rfind(" at line ") {
            message.truncate(pos);
        }
        YamlError {
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message,
        }
    })
}

/// `value` as YAML. Documents in the shape traceforge writes take a fast path (`emit`) that
/// writes the same bytes serde_yaml does; anything else goes through serde_yaml.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    if let Some(text) = emit::to_string(value) {
        return Ok(text);
    }
    serde_yaml::to_string(value).map_err(|e| YamlError {
        line: None,
        column: None,
        message: e.to_string(),
    })
}

/// The key under which [`to_json`] places the base64 text of a `!!binary` scalar.
pub const BINARY_KEY: &str = "!!binary";

/// Parses any YAML document into JSON-shaped data, for foreign formats such as vcrpy cassettes.
/// A `!!binary` scalar becomes `{"!!binary": "<base64>"}`; other tags are dropped, keeping the
/// tagged value; non-string keys are written as their YAML text.
pub fn to_json(text: &str) -> Result<serde_json::Value, YamlError> {
    // serde_yaml resolves the core `!!binary` tag to a plain string, losing the fact that the
    // text is base64; a local tag survives parsing as a tagged value.
    let pattern = regex::Regex::new(r"(?m)(^|[:\-]\s*)!!binary\b").expect("valid regex");
    let text = pattern.replace_all(text, "${1}!binary");
    let value: serde_yaml::Value = from_str(&text)?;
    Ok(convert(value))
}

fn convert(value: serde_yaml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    use serde_yaml::Value as Y;
    match value {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(J::Null, J::Number)
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(items) => J::Array(items.into_iter().map(convert).collect()),
        Y::Mapping(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, convert(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let is_binary = tagged.tag == "binary";
            match (is_binary, tagged.value) {
                (true, Y::String(data)) => {
                    let compact: String = data.split_whitespace().collect();
                    serde_json::json!({ BINARY_KEY: compact })
                }
                (_, inner) => convert(inner),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Config {
        cassettes: Option<String>,
        db: Option<String>,
    }

    #[test]
    fn the_fast_path_refuses_what_serde_yaml_refuses() {
        // A list where a mapping belongs must not fill the struct's fields in order.
        let err = from_str::<Config>("- a\n- b\n").unwrap_err();
        assert!(err.message.contains("invalid type: sequence"), "{err}");
        assert_eq!(err.line, Some(1));
        // Raw control characters are not YAML.
        for text in [
            "cassettes: a\u{1}b\n",
            "cassettes: a\u{7f}\n",
            "cassettes: a\u{9b}\n",
        ] {
            assert!(from_str::<Config>(text).is_err(), "{text:?}");
            assert!(serde_yaml::from_str::<Config>(text).is_err(), "{text:?}");
        }
        // Tabs, NEL and ordinary text outside ASCII are fine.
        let ok: Config = from_str("cassettes: \"a\\tb\"\ndb: é\n").unwrap();
        assert_eq!(ok.db.as_deref(), Some("é"));
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_document() {
        let config: Config = from_str("\u{feff}cassettes: c\ndb: d\n").unwrap();
        assert_eq!(config.cassettes.as_deref(), Some("c"));
    }

    /// A document nested `depth` block collections deep, optionally with a comment (which sends
    /// it to serde_yaml).
    fn nested(depth: usize, comment: bool) -> String {
        let mut text = String::new();
        if comment {
            text.push_str("# a comment\n");
        }
        for level in 0..depth {
            text.push_str(&" ".repeat(level * 2));
            text.push_str("k:\n");
        }
        text.push_str(&" ".repeat(depth * 2));
        text.push_str("leaf: 1\n");
        text
    }

    #[test]
    fn nesting_reads_the_same_with_or_without_a_comment() {
        for depth in [
            10,
            100,
            fast::MAX_DEPTH - 2,
            fast::MAX_DEPTH - 1,
            fast::MAX_DEPTH,
            140,
        ] {
            let plain = from_str::<serde_json::Value>(&nested(depth, false)).is_ok();
            let commented = from_str::<serde_json::Value>(&nested(depth, true)).is_ok();
            assert_eq!(plain, commented, "depth {depth}");
            assert_eq!(plain, depth < fast::MAX_DEPTH, "depth {depth}");
        }
    }
}
