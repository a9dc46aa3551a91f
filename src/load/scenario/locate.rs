//! Placing what serde cannot check in the scenario text (keys found by [`crate::yaml::locate`]),
//! so a rule broken after parsing (a misplaced executor field, an unset `${VAR}`, a bound) is
//! reported as `file:line:column: key: message`, like serde's own errors.
//! The [`Builder`] carries the file, its text and the parse options through the build steps
//! (`requests`, then `build`, each adding its methods) and makes their errors here. No I/O.

use std::path::Path;

use super::plan::{ParseOptions, ScenarioError};
use crate::yaml::locate::{locate_key, locate_text};

/// A scenario file being turned into a plan; `requests` and `build` add its steps.
pub(super) struct Builder<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    pub(super) options: &'a ParseOptions,
}

impl Builder<'_> {
    /// An error at the key `keys` (a path of mapping keys), or at the file when not found.
    pub(super) fn error_at(&self, keys: &[&str], message: String) -> ScenarioError {
        let label = keys.join(".");
        let message = if label.is_empty() {
            message
        } else {
            format!("{label}: {message}")
        };
        // A missing key is reported at its nearest ancestor that is there.
        let found = (1..=keys.len())
            .rev()
            .find_map(|n| locate_key(self.text, &keys[..n]));
        match found {
            Some((line, column)) => ScenarioError::At {
                path: self.path.to_path_buf(),
                line,
                column,
                message,
            },
            None => ScenarioError::Invalid {
                path: self.path.to_path_buf(),
                message,
            },
        }
    }

    /// An error at the first occurrence of `needle` below the key path `keys`.
    pub(super) fn error_at_text(
        &self,
        keys: &[&str],
        needle: &str,
        message: String,
    ) -> ScenarioError {
        let from = locate_key(self.text, keys).map_or(1, |(line, _)| line);
        match locate_text(self.text, from, needle) {
            Some((line, column)) => ScenarioError::At {
                path: self.path.to_path_buf(),
                line,
                column,
                message: format!("{}: {message}", keys.join(".")),
            },
            None => self.error_at(keys, message),
        }
    }
}
