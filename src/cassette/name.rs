//! Cassette names: relative paths of `[A-Za-z0-9._/-]`, checked before they ever touch the file
//! system, so a header like `X-TraceForge-Cassette: ../../etc/passwd` can never escape the
//! cassette directory.

use std::fmt;
use std::path::{Path, PathBuf};

/// A validated cassette name such as `checkout/refund-flow`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CassetteName(String);

/// Why a cassette name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cassette name {name:?}: {reason}")]
pub struct InvalidName {
    pub name: String,
    pub reason: &'static str,
}

const MAX_LEN: usize = 200;

impl CassetteName {
    pub fn parse(name: &str) -> Result<Self, InvalidName> {
        let invalid = |reason| {
            Err(InvalidName {
                name: name.to_string(),
                reason,
            })
        };
        if name.is_empty() {
            return invalid("it is empty");
        }
        if name.len() > MAX_LEN {
            return invalid("it is longer than 200 characters");
        }
        if name.starts_with('/') {
            return invalid("it must be a relative path");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        {
            return invalid("only letters, digits, '.', '_', '-' and '/' are allowed");
        }
        let mut segments = name.split('/').peekable();
        while let Some(segment) = segments.next() {
            match segment {
                "" => return invalid("it has an empty path segment"),
                "." | ".." => return invalid("'.' and '..' segments are not allowed"),
                _ if segments.peek().is_some() && names_a_cassette_file(segment) => {
                    return invalid(
                        "only the last segment may end in .yaml or .yaml.pending \
                         (a directory so named would collide with another cassette's file)",
                    )
                }
                _ => {}
            }
        }
        Ok(CassetteName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The cassette's file inside `dir`: `dir/NAME.yaml`.
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.yaml", self.0))
    }
}

/// Whether a directory called `segment` could be a cassette's file: `NAME.yaml` is cassette
/// `NAME` and `NAME.yaml.pending` its pending version. Case-blind, for case-insensitive file
/// systems (macOS, Windows).
fn names_a_cassette_file(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yaml.pending")
}

impl fmt::Display for CassetteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_nested_relative_names() {
        for ok in [
            "default",
            "checkout/refund-flow",
            "a.b_c-d/e1",
            "v1.2",
            "a.yaml",
            "a/b.yaml.pending",
            "yaml/b",
            "a.yml/b",
            "a.yaml.d/b",
        ] {
            assert_eq!(CassetteName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_escapes_and_odd_characters() {
        for bad in [
            "",
            "../x",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "a/",
            "./a",
            "a b",
            "a\\b",
            "ü",
            "a:b",
            "a.yaml/b",
            "x/a.YAML/b",
            "a.yaml.pending/b",
            ".yaml/b",
        ] {
            assert!(CassetteName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(CassetteName::parse(&"a".repeat(201)).is_err());
    }
}
