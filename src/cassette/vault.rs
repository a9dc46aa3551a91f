//! The PII vault: `pii.vault` beside the cassettes, one line per surrogate with its original
//! sealed under the PII key (see [`crate::sensitive::key`]). Only ciphertext is stored, so the
//! file is safe to commit. Lines are sorted and depend only on the value and the key (no
//! sequence numbers, no times), so two branches that recorded at once merge cleanly: the
//! directory's `.gitattributes` marks the file `merge=union`, and identical lines are one.
//!
//! ```text
//! # traceforge pii vault v1: surrogate, detector, key id, sealed original (tab-separated).
//! k3x9q2abmn@pii.invalid  email  1a2b3c4d  AAECAwQF…      (fields separated by tabs)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::files;
use crate::sensitive::protect::Sealed;
use crate::sensitive::PiiKey;

/// The vault's file name inside the cassette directory.
pub const VAULT_FILE: &str = "pii.vault";

const HEADER: &str =
    "# traceforge pii vault v1: surrogate, detector, key id, sealed original (tab-separated).";

const GITATTRIBUTES_LINE: &str = "pii.vault merge=union";

/// A vault that cannot be read or used; each names the file and, where it can, the line.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] files::CassetteError),
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The vault's path in a cassette directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(VAULT_FILE)
}

/// Every entry of the vault in `dir` (none when there is no vault). A line that is not four
/// tab-separated fields is an error naming it: a truncated or hand-edited file.
pub fn load(dir: &Path) -> Result<Vec<Sealed>, VaultError> {
    let path = path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(VaultError::Read { path, source }),
    };
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [surrogate, kind, key_id, sealed] = fields[..] else {
            return Err(VaultError::Line {
                path,
                line: i + 1,
                message: format!(
                    "expected 4 tab-separated fields (surrogate, detector, key id, sealed \
                     original), found {}; was the file edited or cut short?",
                    fields.len()
                ),
            });
        };
        if surrogate.is_empty() || key_id.len() != 8 || sealed.is_empty() {
            return Err(VaultError::Line {
                path,
                line: i + 1,
                message: "an empty surrogate, a key id that is not 8 hex digits, or no sealed \
                          original; was the file edited?"
                    .into(),
            });
        }
        entries.push(Sealed {
            surrogate: surrogate.to_string(),
            kind: kind.to_string(),
            key_id: key_id.to_string(),
            sealed: sealed.to_string(),
        });
    }
    Ok(entries)
}

/// The originals of a vault's entries under `key`: (surrogate, original). An entry sealed
/// under another key, or one that does not open (edited), is an error naming its line.
pub fn open(dir: &Path, key: &PiiKey) -> Result<Vec<(String, String)>, VaultError> {
    let path = path(dir);
    let entries = load(dir)?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let line = || line_of(&path, &entry.surrogate);
        if entry.key_id != key.id() {
            return Err(VaultError::Line {
                path: path.clone(),
                line: line(),
                message: format!(
                    "sealed with key {}, but the key given is {}: wrong key \
                     (TRACEFORGE_PII_KEY or --pii-key-file)",
                    entry.key_id,
                    key.id()
                ),
            });
        }
        let original = key
            .open(&entry.surrogate, &entry.sealed)
            .map_err(|_| VaultError::Line {
                path: path.clone(),
                line: line(),
                message: "the sealed original does not open with this key: the entry was \
                          edited"
                    .into(),
            })?;
        out.push((entry.surrogate, original));
    }
    Ok(out)
}

/// The line number of `surrogate`'s entry, for errors found after parsing.
fn line_of(path: &Path, surrogate: &str) -> usize {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .position(|l| l.split('\t').next() == Some(surrogate))
        })
        .map_or(0, |i| i + 1)
}

/// Runs `f` holding an exclusive lock on the cassette directory, so two processes recording
/// into it never lose each other's vault lines (an append landing between another's read and
/// rename). The lock goes with the directory's handle.
fn locked<T>(dir: &Path, f: impl FnOnce() -> Result<T, VaultError>) -> Result<T, VaultError> {
    use std::os::fd::AsRawFd as _;
    let write_error = |source| VaultError::Write {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let handle = std::fs::File::open(dir).map_err(write_error)?;
    // SAFETY: flock on a descriptor this function owns for the whole call.
    if unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(write_error(std::io::Error::last_os_error()));
    }
    f()
}

/// Appends `fresh` to the vault in `dir` (creating it): one small write, so surrogates made
/// during a run survive a kill. [`add`] sorts them into place.
pub fn append(dir: &Path, fresh: &[Sealed]) -> Result<(), VaultError> {
    locked(dir, || append_unlocked(dir, fresh))
}

fn append_unlocked(dir: &Path, fresh: &[Sealed]) -> Result<(), VaultError> {
    use std::io::Write as _;
    let path = path(dir);
    let write = |path: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let mut text = String::new();
        if file.metadata()?.len() == 0 {
            text.push_str(HEADER);
            text.push('\n');
        }
        for e in fresh {
            text.push_str(&line(e));
        }
        file.write_all(text.as_bytes())
    };
    write(&path).map_err(|source| VaultError::Write { path, source })
}

fn line(e: &Sealed) -> String {
    format!("{}\t{}\t{}\t{}\n", e.surrogate, e.kind, e.key_id, e.sealed)
}

/// Adds `fresh` to the vault in `dir`, atomically (the file is read, merged, sorted and
/// replaced), and makes sure the directory's `.gitattributes` merges it by union. With
/// nothing fresh, an existing vault is only sorted (after [`append`]); none is created.
pub fn add(dir: &Path, fresh: Vec<Sealed>) -> Result<(), VaultError> {
    if fresh.is_empty() && !path(dir).exists() {
        return Ok(());
    }
    locked(dir, || add_unlocked(dir, fresh))
}

fn add_unlocked(dir: &Path, fresh: Vec<Sealed>) -> Result<(), VaultError> {
    let path = path(dir);
    let mut all: BTreeMap<String, Sealed> = load(dir)?
        .into_iter()
        .map(|e| (e.surrogate.clone(), e))
        .collect();
    for entry in fresh {
        all.entry(entry.surrogate.clone()).or_insert(entry);
    }
    let mut text = String::with_capacity(64 * all.len() + HEADER.len() + 1);
    text.push_str(HEADER);
    text.push('\n');
    for e in all.values() {
        text.push_str(&line(e));
    }
    std::fs::create_dir_all(dir).map_err(|source| VaultError::Write {
        path: path.clone(),
        source,
    })?;
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        files::write_atomically(&path, text.as_bytes())?;
    }
    let attributes = dir.join(".gitattributes");
    let existing = std::fs::read_to_string(&attributes).unwrap_or_default();
    if !existing.lines().any(|l| l.trim() == GITATTRIBUTES_LINE) {
        let mut updated = existing;
        if !updated.is_empty() && !updated.ends_with('\n') {
            updated.push('\n');
        }
        updated.push_str(GITATTRIBUTES_LINE);
        updated.push('\n');
        files::write_atomically(&attributes, updated.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn sealed(key: &PiiKey, surrogate: &str, value: &str) -> Sealed {
        Sealed {
            surrogate: surrogate.into(),
            kind: "email".into(),
            key_id: key.id().into(),
            sealed: key.seal(surrogate, value),
        }
    }

    #[test]
    fn appends_are_not_lost_to_a_concurrent_sort() {
        let dir = tempfile::tempdir().unwrap();
        let key = PiiKey::parse(KEY).unwrap();
        let entries: Vec<Sealed> = (0..200)
            .map(|i| {
                sealed(
                    &key,
                    &format!("s{i:03}@pii.invalid"),
                    &format!("v{i}@acme.io"),
                )
            })
            .collect();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for entry in &entries {
                    append(dir.path(), std::slice::from_ref(entry)).unwrap();
                }
            });
            scope.spawn(|| {
                for _ in 0..200 {
                    add(dir.path(), Vec::new()).unwrap();
                }
            });
        });
        assert_eq!(load(dir.path()).unwrap().len(), 200);
    }

    #[test]
    fn entries_round_trip_merge_and_name_their_problems() {
        let dir = tempfile::tempdir().unwrap();
        let key = PiiKey::parse(KEY).unwrap();
        assert!(load(dir.path()).unwrap().is_empty());
        add(
            dir.path(),
            vec![sealed(&key, "b@pii.invalid", "bob@acme.io")],
        )
        .unwrap();
        add(
            dir.path(),
            vec![
                sealed(&key, "a@pii.invalid", "ann@acme.io"),
                sealed(&key, "b@pii.invalid", "bob@acme.io"),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(!text.contains("acme.io"));
        let mut opened = open(dir.path(), &key).unwrap();
        opened.sort();
        assert_eq!(opened[0], ("a@pii.invalid".into(), "ann@acme.io".into()));
        let attributes = std::fs::read_to_string(dir.path().join(".gitattributes")).unwrap();
        assert_eq!(attributes, "pii.vault merge=union\n");

        // The same entries added on another branch give the same lines.
        let other = tempfile::tempdir().unwrap();
        add(
            other.path(),
            vec![
                sealed(&key, "b@pii.invalid", "bob@acme.io"),
                sealed(&key, "a@pii.invalid", "ann@acme.io"),
            ],
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(path(other.path())).unwrap(), text);

        // A wrong key, an edited entry, a truncated line.
        let wrong = PiiKey::parse(&PiiKey::generate()).unwrap();
        let err = open(dir.path(), &wrong).unwrap_err().to_string();
        assert!(
            err.contains("pii.vault:2: sealed with key") && err.contains("wrong key"),
            "{err}"
        );
        let edited = text.replacen("\tAA", "\tAB", 1).replacen("\tA", "\tB", 1);
        std::fs::write(path(dir.path()), &edited).unwrap();
        let err = open(dir.path(), &key).unwrap_err().to_string();
        assert!(err.contains("was edited"), "{err}");
        let cut = &text[..text.len() - 30];
        let cut = &cut[..cut.rfind('\t').unwrap()];
        std::fs::write(path(dir.path()), cut).unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("pii.vault:3: expected 4 tab-separated fields"),
            "{err}"
        );
    }
}
