//! The journal that makes every recorded interaction survive a SIGKILL the moment its client has
//! the whole response. Rewriting a cassette per interaction costs a copy of the whole file, so
//! the proxy rewrites cassettes in coalesced batches; in between, each interaction is appended
//! to `.NAME.yaml.journal` beside the cassette (one `write`, no rewrite) before the client gets
//! the end of its response. A batch rewrite that includes the journaled interactions compacts
//! the journal away. A killed run leaves the journal behind, and whoever reads the cassette next
//! merges it: [`files::load`] in memory, the proxy
//! ([`recover`]) on disk.
//!
//! The file is a header line naming the cassette and what the journal adds to, then one line
//! of JSON per interaction (cheap to write on the request path; the cassette keeps the YAML).
//! A line cut short by the kill is dropped: its client never saw its response end.
//!
//! Sync file I/O only; no knowledge of HTTP or tokio.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::files::{self, CassetteError};
use super::{Cassette, Interaction};

/// What a journal's interactions are added to when it is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Nothing: the run replaces the cassette (`--mode all`) and has not written it yet.
    Empty,
    /// The original cassette `NAME.yaml`, for a `NAME.yaml.pending` not written yet.
    Original,
    /// The file the journal sits beside, as it is on disk.
    Target,
}

impl Base {
    fn words(self) -> &'static str {
        match self {
            Base::Empty => "replaces the cassette",
            Base::Original => "adds to the original cassette",
            Base::Target => "adds to the cassette",
        }
    }
}

/// The first line: `# traceforge journal of "NAME": WORDS`.
fn header(name: &str, base: Base) -> String {
    format!("# traceforge journal of {name:?}: {}\n", base.words())
}

/// The cassette name and base of a first line written by [`header`].
fn parse_header(line: &str) -> Option<(String, Base)> {
    let rest = line.strip_prefix("# traceforge journal of ")?;
    let (name, words) = rest.rsplit_once(": ")?;
    let name: String = serde_json::from_str(name).ok()?;
    let base = [Base::Empty, Base::Original, Base::Target]
        .into_iter()
        .find(|base| base.words() == words)?;
    Some((name, base))
}

/// `.NAME.yaml.journal` (or `.NAME.yaml.pending.journal`) beside the cassette file `target`.
pub fn path_for(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.journal"))
}

/// The original cassette of `target`: itself, or `NAME.yaml` for `NAME.yaml.pending`.
fn original_of(target: &Path) -> PathBuf {
    let text = target.as_os_str().to_string_lossy();
    match text.strip_suffix(files::PENDING_SUFFIX) {
        Some(original) => PathBuf::from(original),
        None => target.to_path_buf(),
    }
}

/// An open journal: appends go to the file, and the lines not yet in a written cassette are
/// kept so a compaction can rewrite the rest without reading the file back.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// The cassette's name, for a journal merged without its cassette.
    name: String,
    base: Base,
    file: Option<std::fs::File>,
    /// The header's length: truncating to it empties the journal in place.
    header_len: u64,
    /// (interaction id, JSON line) for every journaled interaction not yet covered by a
    /// cassette write.
    items: Vec<(u64, Vec<u8>)>,
}

impl Journal {
    /// The journal for the cassette file `target`; nothing touches the disk until an append.
    pub fn new(target: &Path, name: &str, base: Base) -> Journal {
        Journal {
            path: path_for(target),
            name: name.to_string(),
            base,
            file: None,
            header_len: 0,
            items: Vec::new(),
        }
    }

    fn io(&self, source: std::io::Error) -> CassetteError {
        CassetteError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one interaction as a line of JSON (a tenth of what rendering YAML costs, and it
    /// is paid before the client's response ends). Returns once the bytes are in the file: a
    /// killed process loses nothing (a power cut is the batch write's fsync's job).
    pub fn append(&mut self, interaction: &Interaction) -> Result<(), CassetteError> {
        let mut line = serde_json::to_vec(interaction).map_err(|e| CassetteError::Invalid {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        line.push(b'\n');
        if self.file.is_none() {
            // A fresh journal starts from its header and whatever is still unwritten.
            self.rewrite()?;
        }
        let written = match self.file.as_mut() {
            Some(file) => file.write_all(&line),
            None => Err(std::io::Error::other("the journal could not be opened")),
        };
        if let Err(e) = written {
            // A partial line would spoil the next one: start over from the kept items.
            self.file = None;
            return Err(self.io(e));
        }
        self.items.push((interaction.id, line));
        Ok(())
    }

    /// After the cassette was written with every interaction up to id `written` (and from now
    /// on as the journal's base): keeps only the later ones. Usually none are left, and the
    /// file is cut back to its header in place; otherwise it is rewritten atomically, so a
    /// kill during either loses nothing.
    pub fn compact(&mut self, written: u64) -> Result<(), CassetteError> {
        self.items.retain(|(id, _)| *id > written);
        let base_changes = self.base != Base::Target;
        self.base = Base::Target;
        match (&self.file, self.items.is_empty() && !base_changes) {
            (None, _) => Ok(()),
            (Some(file), true) => {
                let cut = file.set_len(self.header_len);
                cut.map_err(|e| self.io(e))
            }
            (Some(_), false) => self.rewrite(),
        }
    }

    /// The file the run leaves when it ends cleanly: none, once everything is in the cassette.
    pub fn remove_if_empty(&mut self) -> Result<(), CassetteError> {
        if !self.items.is_empty() || self.file.is_none() {
            return Ok(());
        }
        self.file = None;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(e)),
            _ => Ok(()),
        }
    }

    /// Writes the header and the kept items atomically, then reopens the file for appending.
    fn rewrite(&mut self) -> Result<(), CassetteError> {
        let header = header(&self.name, self.base);
        let mut bytes = header.clone().into_bytes();
        for (_, line) in &self.items {
            bytes.extend_from_slice(line);
        }
        files::write_atomically_unsynced(&self.path, &bytes)?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        self.header_len = header.len() as u64;
        self.file = Some(file);
        Ok(())
    }
}

/// The interactions of the journal beside `target`, with what they add to, or `None` when
/// there is no journal. A line cut short at the end is dropped; anything else unreadable is an
/// error naming the journal and its line.
type Read = (String, Base, Vec<Interaction>);

fn read(target: &Path) -> Result<Option<Read>, CassetteError> {
    let path = path_for(target);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CassetteError::Io { path, source: e }),
    };
    // Killed while the header was written: nothing can have been journaled yet.
    let Some((header, body)) = text.split_once('\n') else {
        return Ok(None);
    };
    let (name, base) = parse_header(header).ok_or_else(|| CassetteError::Invalid {
        path: path.clone(),
        message: "not a traceforge journal (unknown first line)".into(),
    })?;
    let mut interactions = Vec::new();
    let mut lines = body.split_inclusive('\n').enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let last = lines.peek().is_none();
        match serde_json::from_str::<Interaction>(line) {
            Ok(interaction) if line.ends_with('\n') => interactions.push(interaction),
            // The kill came mid-append: that client never saw its response end.
            _ if last => break,
            Ok(_) => unreachable!("only the last piece can lack its newline"),
            Err(e) => {
                return Err(CassetteError::Invalid {
                    path,
                    message: format!("line {}: {e}", n + 2),
                })
            }
        }
    }
    Ok(Some((name, base, interactions)))
}

/// `cassette` (as read from `target`, or `None` when there is no such file) with the journal a
/// killed run left beside it merged in; `None` when there is neither.
pub(super) fn merge(
    target: &Path,
    cassette: Option<Cassette>,
) -> Result<Option<Cassette>, CassetteError> {
    Ok(merged(target, cassette)?.0)
}

/// [`merge`], and how many interactions at the end of the result came from the journal.
fn merged(
    target: &Path,
    cassette: Option<Cassette>,
) -> Result<(Option<Cassette>, usize), CassetteError> {
    let Some((name, base, journaled)) = read(target)? else {
        return Ok((cassette, 0));
    };
    let mut merged = match base {
        Base::Target => cassette,
        Base::Original => match original_of(target) {
            original if original.exists() => Some(files::load_file(&original)?),
            _ => None,
        },
        Base::Empty => None,
    }
    .unwrap_or_else(|| Cassette::new(&name));
    let known: std::collections::HashSet<u64> = merged.interactions.iter().map(|i| i.id).collect();
    let mut journaled: Vec<Interaction> = journaled
        .into_iter()
        .filter(|i| !known.contains(&i.id))
        .collect();
    journaled.sort_by_key(|i| i.id);
    let added = journaled.len();
    merged.interactions.extend(journaled);
    Ok((Some(merged), added))
}

/// Writes the cassette `target` with a left-behind journal merged in, and removes the journal.
/// Returns the interactions the journal added (the killed run's last recordings, which its
/// trace database may not have received). Only for a cassette no running process records.
pub fn recover(target: &Path) -> Result<Vec<Interaction>, CassetteError> {
    let journal = path_for(target);
    if !journal.exists() {
        return Ok(Vec::new());
    }
    let on_disk = match target.exists() {
        true => Some(files::load_file(target)?),
        false => None,
    };
    let mut added = Vec::new();
    if let (Some(cassette), count) = merged(target, on_disk)? {
        files::save(target, &cassette)?;
        added = cassette.interactions[cassette.interactions.len() - count..].to_vec();
    }
    std::fs::remove_file(&journal).map_err(|e| CassetteError::Io {
        path: journal,
        source: e,
    })?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cassette::{Body, Request, Response, Scope};

    fn interaction(id: u64, text: &str) -> Interaction {
        Interaction {
            id,
            recorded_at: "2026-01-01T00:00:00Z".into(),
            request: Request {
                method: "POST".into(),
                upstream: "openai".into(),
                path: "/v1/chat/completions".into(),
                headers: BTreeMap::new(),
                body: Some(Body::Json(serde_json::json!({"prompt": text}))),
            },
            response: Response {
                status: 200,
                headers: BTreeMap::new(),
                body: Some(Body::Text(format!("answer to {text}"))),
                stream: None,
                incomplete: false,
            },
            timing: None,
            scope: Scope::default(),
            usage: None,
            redactions: Vec::new(),
            decisions: Vec::new(),
        }
    }

    fn ids(cassette: &Cassette) -> Vec<u64> {
        cassette.interactions.iter().map(|i| i.id).collect()
    }

    #[test]
    fn a_journal_adds_to_the_cassette_until_a_write_compacts_it_away() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("chat.yaml");
        let mut on_disk = Cassette::new("chat");
        on_disk.interactions.push(interaction(1, "old"));
        files::save(&target, &on_disk).unwrap();

        let mut journal = Journal::new(&target, "chat", Base::Target);
        journal.append(&interaction(2, "two")).unwrap();
        journal.append(&interaction(3, "three")).unwrap();
        assert_eq!(ids(&files::load(&target).unwrap()), [1, 2, 3]);

        // The batch write took 2 and is on disk; 3 stays journaled.
        on_disk.interactions.push(interaction(2, "two"));
        files::save(&target, &on_disk).unwrap();
        journal.compact(2).unwrap();
        assert_eq!(ids(&files::load(&target).unwrap()), [1, 2, 3]);
        let text = std::fs::read_to_string(path_for(&target)).unwrap();
        assert!(!text.contains(r#"{"id":2,"#), "{text}");
        assert!(text.contains(r#"{"id":3,"#), "{text}");

        on_disk.interactions.push(interaction(3, "three"));
        files::save(&target, &on_disk).unwrap();
        journal.compact(3).unwrap();
        let text = std::fs::read_to_string(path_for(&target)).unwrap();
        assert_eq!(text.lines().count(), 1, "cut back to its header: {text}");
        journal.append(&interaction(4, "four")).unwrap();
        assert_eq!(ids(&files::load(&target).unwrap()), [1, 2, 3, 4]);
        on_disk.interactions.push(interaction(4, "four"));
        files::save(&target, &on_disk).unwrap();
        journal.compact(4).unwrap();
        journal.remove_if_empty().unwrap();
        assert!(!path_for(&target).exists(), "a clean end leaves no journal");
    }

    #[test]
    fn recovery_merges_a_killed_runs_journal_whatever_it_was_adding_to() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nested/chat.yaml");
        let mut original = Cassette::new("nested/chat");
        original.interactions.push(interaction(1, "old"));
        files::save(&target, &original).unwrap();

        // --mode all before its first write: the journal replaces the old cassette.
        let mut journal = Journal::new(&target, "nested/chat", Base::Empty);
        journal.append(&interaction(1, "new")).unwrap();
        assert_eq!(recover(&target).unwrap().len(), 1);
        let recovered = files::load_file(&target).unwrap();
        assert_eq!(recovered.cassette, "nested/chat");
        assert_eq!(ids(&recovered), [1]);
        assert_eq!(
            recovered.interactions[0].request.body,
            Some(Body::Json(serde_json::json!({"prompt": "new"})))
        );
        assert!(!path_for(&target).exists());
        assert!(
            recover(&target).unwrap().is_empty(),
            "nothing left to recover"
        );

        // --pending before its first write: the original plus the journal, as NAME.yaml.pending.
        let pending = files::pending_path(&target);
        let mut journal = Journal::new(&pending, "nested/chat", Base::Original);
        journal.append(&interaction(2, "pending")).unwrap();
        assert_eq!(ids(&files::load(&pending).unwrap()), [1, 2]);
        let added = recover(&pending).unwrap();
        assert_eq!(added.iter().map(|i| i.id).collect::<Vec<_>>(), [2]);
        assert_eq!(ids(&files::load_file(&pending).unwrap()), [1, 2]);
        assert_eq!(
            ids(&files::load_file(&target).unwrap()),
            [1],
            "original untouched"
        );
    }

    #[test]
    fn an_item_cut_by_the_kill_is_dropped_and_garbage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("chat.yaml");
        let mut journal = Journal::new(&target, "chat", Base::Target);
        journal.append(&interaction(1, "one")).unwrap();
        journal.append(&interaction(2, "two")).unwrap();
        let path = path_for(&target);
        let text = std::fs::read_to_string(&path).unwrap();
        // Every cut inside the last line loses that interaction and nothing else.
        let second = text.find(r#"{"id":2,"#).unwrap();
        for cut in [second, second + 3, second + 20, text.len() - 1] {
            std::fs::write(&path, &text[..cut]).unwrap();
            assert_eq!(ids(&files::load(&target).unwrap()), [1], "cut at {cut}");
        }
        std::fs::write(&path, "not a journal\n{}\n").unwrap();
        let err = files::load(&target).unwrap_err().to_string();
        assert!(
            err.contains(".chat.yaml.journal: not a traceforge journal"),
            "{err}"
        );
        let header = text.lines().next().unwrap();
        std::fs::write(&path, format!("{header}\ngarbage\n{{}}\n")).unwrap();
        let err = files::load(&target).unwrap_err().to_string();
        assert!(err.contains(".chat.yaml.journal: line 2: "), "{err}");
        // Killed while writing the header: nothing was journaled.
        std::fs::write(&path, &header[..10]).unwrap();
        assert!(
            files::load(&target).is_err(),
            "no cassette and an empty journal"
        );
    }
}
