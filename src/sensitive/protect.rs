//! Protecting text: secrets masked, PII masked or pseudonymised, every replacement reported
//! with a keyed hash of what it replaced. [`Protector`] is the one place that decides what a
//! value becomes; everything that writes or forwards traffic goes through it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::key::PiiKey;
use super::surrogate::{placeholder, surrogate, within_token};
use super::{Detectors, Secrets};

/// What is written in place of a secret.
pub const SECRET_PLACEHOLDER: &str = "REDACTED";

/// What PII becomes in what is written (`pii.mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// PII is kept; secrets are still masked.
    Off,
    /// Typed placeholders: `<EMAIL>`.
    #[default]
    Mask,
    /// Consistent surrogates of the same kind, reversible with the key.
    Pseudonymize,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Mask => "mask",
            Mode::Pseudonymize => "pseudonymize",
        }
    }
}

/// What the provider receives (`pii.upstream`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upstream {
    /// The request as the client sent it.
    #[default]
    Original,
    /// The surrogates; the answer is given back to the client with the originals restored.
    Pseudonymize,
}

/// What was done to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Mask,
    Pseudonymize,
}

/// One replaced value: `original[start..end]`, what found it, what was done, and its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub detector: String,
    pub action: Action,
    /// What was written in its place.
    pub replacement: String,
    pub hash: String,
}

/// A text after protection and what was replaced in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    pub text: String,
    pub hits: Vec<Hit>,
}

/// One line of the vault: the sealed original of a surrogate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sealed {
    pub surrogate: String,
    pub kind: String,
    pub key_id: String,
    pub sealed: String,
}

/// A pseudonymised value's surrogate and audit hash, for the detector that found it.
struct Made {
    kind: String,
    surrogate: String,
    hash: String,
}

/// `pseudonymize` without a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "pseudonymize needs a key: set TRACEFORGE_PII_KEY or pass --pii-key-file FILE (make one \
     with `traceforge pii keygen`)"
)]
pub struct NoKey;

/// A value found but not protected, as scans report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprotected {
    pub start: usize,
    pub end: usize,
    pub detector: String,
    pub secret: bool,
}

/// The detectors, the mode and the key of one run, shared by every request.
pub struct Protector {
    mode: Mode,
    detectors: Detectors,
    secrets: Secrets,
    key: Option<Arc<PiiKey>>,
    /// Hashes audit entries: the PII key when there is one, else a key of this process.
    audit: Arc<PiiKey>,
    issued: Mutex<Issued>,
}

#[derive(Default)]
struct Issued {
    /// Surrogate → original, for every surrogate this process made or read from a vault.
    originals: HashMap<String, String>,
    /// Original → what this process made of it: a value repeated in a conversation (and every
    /// request of a chat resends the ones before) costs two HMACs once, not per occurrence.
    made: HashMap<String, Made>,
    /// Surrogates made since the vault was last written.
    fresh: Vec<Sealed>,
}

impl Protector {
    /// A protector for `mode`; `pseudonymize` needs a key (and so does `pii.upstream:
    /// pseudonymize`, which implies it).
    pub fn new(
        mode: Mode,
        detectors: Detectors,
        key: Option<Arc<PiiKey>>,
    ) -> Result<Protector, NoKey> {
        if mode == Mode::Pseudonymize && key.is_none() {
            return Err(NoKey);
        }
        let audit = key.clone().unwrap_or_else(|| Arc::new(PiiKey::ephemeral()));
        Ok(Protector {
            mode,
            detectors,
            secrets: Secrets::new(),
            key,
            audit,
            issued: Mutex::new(Issued::default()),
        })
    }

    /// A protector that finds what this one would protect but issues no surrogates (mask
    /// instead of pseudonymize), for scans that must not add to the vault.
    pub fn scanner(&self) -> Protector {
        Protector {
            mode: if self.mode == Mode::Off {
                Mode::Off
            } else {
                Mode::Mask
            },
            detectors: self.detectors.clone(),
            secrets: self.secrets.clone(),
            key: None,
            audit: self.audit.clone(),
            issued: Mutex::new(Issued::default()),
        }
    }

    /// The audit hash of `value` under this run's audit key.
    pub fn audit_hash(&self, value: &str) -> String {
        self.audit.audit_hash(value)
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn key(&self) -> Option<&PiiKey> {
        self.key.as_deref()
    }

    /// `text` as it may be written: secrets masked, PII as the mode says. `None` when nothing
    /// in it needed protecting.
    pub fn protect(&self, text: &str) -> Option<Protected> {
        self.apply(text, true, self.mode)
    }

    /// `text` as the provider receives it under `pii.upstream: pseudonymize`: PII replaced by
    /// surrogates, secrets (the client's own credentials) left as they are.
    pub fn pseudonymize_only(&self, text: &str) -> Option<Protected> {
        self.apply(text, false, Mode::Pseudonymize)
    }

    /// What in `text` would be protected, without changing it: for scans and `vcr verify`.
    pub fn find(&self, text: &str) -> Vec<Unprotected> {
        let mut found: Vec<Unprotected> = self
            .secrets
            .find(text)
            .into_iter()
            .map(|s| Unprotected {
                start: s.start,
                end: s.end,
                detector: s.rule.to_string(),
                secret: true,
            })
            .collect();
        if self.mode != Mode::Off || found.is_empty() {
            for f in self.detectors.find(text) {
                if found.iter().any(|s| s.start < f.end && f.start < s.end)
                    || within_token(text, f.start, f.end)
                {
                    continue;
                }
                found.push(Unprotected {
                    start: f.start,
                    end: f.end,
                    detector: f.kind.name().to_string(),
                    secret: false,
                });
            }
        }
        found.sort_by_key(|f| f.start);
        found
    }

    fn apply(&self, text: &str, secrets: bool, mode: Mode) -> Option<Protected> {
        let mut spans: Vec<(usize, usize, String, Option<super::Kind>)> = Vec::new();
        if secrets {
            for s in self.secrets.find(text) {
                spans.push((s.start, s.end, s.rule.to_string(), None));
            }
        }
        if mode != Mode::Off {
            for f in self.detectors.find(text) {
                if spans.iter().any(|s| s.0 < f.end && f.start < s.1)
                    || within_token(text, f.start, f.end)
                {
                    continue;
                }
                spans.push((f.start, f.end, f.kind.name().to_string(), Some(f.kind)));
            }
        }
        if spans.is_empty() {
            return None;
        }
        spans.sort_by_key(|s| s.0);
        let mut out = String::with_capacity(text.len());
        let mut hits = Vec::with_capacity(spans.len());
        let mut last = 0;
        for (start, end, detector, kind) in spans {
            let value = &text[start..end];
            out.push_str(&text[last..start]);
            let (action, replacement, hash) = match (&kind, mode) {
                (Some(kind), Mode::Pseudonymize) => {
                    let (surrogate, hash) = self.surrogate_of(kind, value);
                    (Action::Pseudonymize, surrogate, hash)
                }
                (Some(kind), _) => (Action::Mask, placeholder(kind), self.audit_hash(value)),
                (None, _) => (
                    Action::Mask,
                    SECRET_PLACEHOLDER.to_string(),
                    self.audit_hash(value),
                ),
            };
            out.push_str(&replacement);
            hits.push(Hit {
                start,
                end,
                detector,
                action,
                replacement,
                hash,
            });
            last = end;
        }
        out.push_str(&text[last..]);
        Some(Protected { text: out, hits })
    }

    /// The surrogate of `value` and its audit hash.
    fn surrogate_of(&self, kind: &super::Kind, value: &str) -> (String, String) {
        if let Some(made) = self
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .made
            .get(value)
            .filter(|made| made.kind == kind.name())
        {
            return (made.surrogate.clone(), made.hash.clone());
        }
        let key = self
            .key
            .as_ref()
            .expect("pseudonymize has a key (checked in new)");
        let surrogate = surrogate(kind, value, &key.surrogate_bytes(kind.name(), value));
        let hash = self.audit_hash(value);
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued.made.insert(
            value.to_string(),
            Made {
                kind: kind.name().to_string(),
                surrogate: surrogate.clone(),
                hash: hash.clone(),
            },
        );
        if !issued.originals.contains_key(&surrogate) {
            issued
                .originals
                .insert(surrogate.clone(), value.to_string());
            issued.fresh.push(Sealed {
                sealed: key.seal(&surrogate, value),
                surrogate: surrogate.clone(),
                kind: kind.name().to_string(),
                key_id: key.id().to_string(),
            });
        }
        (surrogate, hash)
    }

    /// Surrogates made since the last call, for the vault.
    pub fn take_fresh(&self) -> Vec<Sealed> {
        std::mem::take(&mut self.issued.lock().unwrap_or_else(|e| e.into_inner()).fresh)
    }

    /// Remembers an original read from the vault, so that it can be restored.
    pub fn learn(&self, surrogate: String, original: String) {
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .originals
            .insert(surrogate, original);
    }

    /// Every surrogate this process knows, with its original.
    pub fn originals(&self) -> Vec<(String, String)> {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued
            .originals
            .iter()
            .map(|(s, o)| (s.clone(), o.clone()))
            .collect()
    }
}
