//! Reading and writing cassette files. Writes are atomic (temp file in the same directory, fsync,
//! rename, fsync of the directory), so a crash or SIGKILL mid-write leaves the previous complete
//! version on disk. Read errors name the file and, for YAML problems, the line and column.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{scratch, Cassette, CassetteName, Interaction, FORMAT_VERSION};
use crate::yaml;

/// Why a cassette file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Yaml(#[from] yaml::FileError),
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl CassetteError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        CassetteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads and validates one cassette, with the interactions a killed recording left in its
/// journal (see [`journal`](super::journal)) merged in.
pub fn load(path: &Path) -> Result<Cassette, CassetteError> {
    match load_file(path) {
        Ok(cassette) => Ok(super::journal::merge(path, Some(cassette))?
            .unwrap_or_else(|| unreachable!("merging into a cassette always gives one"))),
        // A cassette whose recording was killed before its first write is only a journal.
        Err(CassetteError::Io { path: file, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            super::journal::merge(path, None)?.ok_or(CassetteError::Io { path: file, source })
        }
        Err(e) => Err(e),
    }
}

/// [`load`], or `None` when there is neither the cassette nor a journal of it (a cassette a
/// recording is about to create).
pub fn load_optional(path: &Path) -> Result<Option<Cassette>, CassetteError> {
    match load(path) {
        Ok(cassette) => Ok(Some(cassette)),
        Err(CassetteError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Reads and validates one cassette file as it is on disk.
pub fn load_file(path: &Path) -> Result<Cassette, CassetteError> {
    let text = std::fs::read_to_string(path).map_err(|e| CassetteError::io(path, e))?;
    parse(path, &text)
}

/// Parses cassette text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Cassette, CassetteError> {
    let cassette: Cassette = yaml::from_file_text(path, text)?;
    if cassette.version != FORMAT_VERSION {
        return Err(CassetteError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "cassette format version {} is not supported (this traceforge reads version {FORMAT_VERSION})",
                cassette.version
            ),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for interaction in &cassette.interactions {
        if !seen.insert(interaction.id) {
            return Err(CassetteError::Invalid {
                path: path.to_path_buf(),
                message: format!("interaction id {} appears twice", interaction.id),
            });
        }
        // Replay sends the status as it is: it must be one HTTP can carry.
        if !(100..=599).contains(&interaction.response.status) {
            return Err(CassetteError::Invalid {
                path: path.to_path_buf(),
                message: format!(
                    "interaction {}: response status {} is not an HTTP status (100-599)",
                    interaction.id, interaction.response.status
                ),
            });
        }
    }
    Ok(cassette)
}

/// Renders a cassette as YAML text, in the stable key order of the format.
pub fn render(cassette: &Cassette) -> Result<String, yaml::YamlError> {
    yaml::to_string(cassette)
}

/// One interaction rendered as an item of the cassette's `interactions:` list. Joining items
/// with [`render_with`] gives exactly what [`render`] gives for the whole cassette, so a writer
/// can render each interaction once and reuse the text on every rewrite.
pub fn render_item(interaction: &Interaction) -> Result<String, yaml::YamlError> {
    yaml::to_string(&[interaction])
}

/// The cassette text for `name` with pre-rendered interaction items (see [`render_item`]).
pub fn render_with(name: &str, items: &[&str]) -> Result<String, yaml::YamlError> {
    let header = render(&Cassette::new(name))?;
    if items.is_empty() {
        return Ok(header);
    }
    let header = header
        .strip_suffix("interactions: []\n")
        .ok_or_else(|| yaml::YamlError {
            line: None,
            column: None,
            message: "unexpected cassette header layout".into(),
        })?;
    let mut text =
        String::with_capacity(header.len() + 14 + items.iter().map(|i| i.len()).sum::<usize>());
    text.push_str(header);
    text.push_str("interactions:\n");
    for item in items {
        text.push_str(item);
    }
    Ok(text)
}

/// Writes `cassette` to `path` atomically, creating parent directories as needed.
pub fn save(path: &Path, cassette: &Cassette) -> Result<(), CassetteError> {
    let text = render(cassette).map_err(|e| CassetteError::Invalid {
        path: path.to_path_buf(),
        message: e.message,
    })?;
    write_atomically(path, text.as_bytes())
}

/// How the temporary files of [`write_atomically`] are named (see [`scratch`]).
const TEMP_PREFIX: &str = ".traceforge-";
const TEMP_SUFFIX: &str = ".tmp";

/// Writes bytes to `path` through a temporary file in the same directory and a rename. The
/// first write into a directory in this process also removes the temporary files that killed
/// writes left there.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CassetteError> {
    replace(path, bytes, true)
}

/// [`write_atomically`] without the fsyncs: the file is whole or untouched after a killed
/// process (the kernel has the bytes), not after a power cut. For the journal, which must not
/// hold a request up for a disk flush.
pub fn write_atomically_unsynced(path: &Path, bytes: &[u8]) -> Result<(), CassetteError> {
    replace(path, bytes, false)
}

fn replace(path: &Path, bytes: &[u8], sync: bool) -> Result<(), CassetteError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| CassetteError::io(dir, e))?;
    if first_write_into(dir) {
        scratch::remove_dead(dir, TEMP_PREFIX, &[TEMP_SUFFIX]);
    }
    // The file gets the mode any editor would give it: the one it had, or for a new file
    // 0666 less the umask (which the kernel applies at creation), never tempfile's 0600.
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut temp = scratch::create(dir, TEMP_PREFIX, TEMP_SUFFIX, new_file_permissions())
        .map_err(|e| CassetteError::io(dir, e))?;
    if let Some(permissions) = existing {
        // The umask applied at creation may have narrowed them; a file system without modes
        // refusing is no reason to fail the write.
        let _ = temp.as_file().set_permissions(permissions);
    }
    temp.write_all(bytes)
        .and_then(|()| match sync {
            true => temp.as_file().sync_all(),
            false => Ok(()),
        })
        .map_err(|e| CassetteError::io(path, e))?;
    temp.persist(path)
        .map_err(|e| CassetteError::io(path, e.error))?;
    // Make the rename itself durable; failure here is not worth failing the write for.
    if sync {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// `rw-rw-rw-`, which creation narrows by the umask, as `open(2)` does for any new file.
/// Elsewhere, the platform's default.
fn new_file_permissions() -> Option<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        Some(std::fs::Permissions::from_mode(0o666))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Whether this process has not written into `dir` before. Leftovers only come from processes
/// that died, so looking once per directory is enough, and a proxy rewriting a cassette after
/// every interaction does not list its directory each time.
fn first_write_into(dir: &Path) -> bool {
    static SEEN: std::sync::Mutex<Option<HashSet<PathBuf>>> = std::sync::Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    seen.get_or_insert_with(HashSet::new)
        .insert(dir.to_path_buf())
}

/// Every `*.yaml` cassette below `dir`, with its name, sorted by name. A missing directory is empty.
pub fn list(dir: &Path) -> Result<Vec<(CassetteName, PathBuf)>, CassetteError> {
    list_with(dir, ".yaml")
}

/// What `vcr record --pending` appends to a cassette's file name for the changed version.
pub const PENDING_SUFFIX: &str = ".pending";

/// Where `vcr record --pending` writes the changed version of the cassette at `path`:
/// `NAME.yaml.pending` beside `NAME.yaml`.
pub fn pending_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(PENDING_SUFFIX);
    PathBuf::from(name)
}

/// Every pending cassette (`NAME.yaml.pending`) below `dir`, with its name and pending file,
/// sorted by name. A missing directory is empty.
pub fn list_pending(dir: &Path) -> Result<Vec<(CassetteName, PathBuf)>, CassetteError> {
    list_with(dir, ".yaml.pending")
}

fn list_with(dir: &Path, suffix: &str) -> Result<Vec<(CassetteName, PathBuf)>, CassetteError> {
    let mut found = Vec::new();
    if dir.exists() {
        walk(dir, dir, suffix, &mut found)?;
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(
    root: &Path,
    dir: &Path,
    suffix: &str,
    found: &mut Vec<(CassetteName, PathBuf)>,
) -> Result<(), CassetteError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CassetteError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| CassetteError::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| CassetteError::io(&path, e))?;
        if file_type.is_dir() {
            walk(root, &path, suffix, found)?;
        } else {
            // A cassette whose recording was killed before its first write exists only as its
            // journal (`.NAME.yaml.journal`); it is listed under the file it will become.
            let journal_of = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix('.')?.strip_suffix(".journal"))
                .filter(|n| n.ends_with(suffix))
                .map(|n| path.with_file_name(n));
            let path = journal_of.unwrap_or(path);
            let Some(name) = path
                .strip_prefix(root)
                .ok()
                .and_then(|relative| relative.to_str()?.strip_suffix(suffix))
            else {
                continue;
            };
            // Files whose names are not valid cassette names are not cassettes.
            if let Ok(name) = CassetteName::parse(name) {
                found.push((name, path));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_file_line_and_column() {
        let text = "version: 1\ncassette: x\ninteractions:\n  - id: 1\n    bogus: [\n";
        let err = parse(Path::new("c/x.yaml"), text).unwrap_err().to_string();
        assert!(err.starts_with("c/x.yaml:"), "{err}");
        assert!(err.contains(":5:") || err.contains(":6:"), "{err}");
    }

    #[test]
    fn unknown_fields_and_versions_are_rejected() {
        let err = parse(Path::new("x.yaml"), "version: 1\ncassette: x\nextra: 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `extra`"), "{err}");
        assert!(err.starts_with("x.yaml:3:"), "{err}");
        let err = parse(Path::new("x.yaml"), "version: 7\ncassette: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 7 is not supported"), "{err}");
    }

    #[test]
    fn item_rendering_joins_into_the_whole_cassette() {
        let text = "version: 1\ncassette: 'a: b'\ninteractions:\n- id: 1\n  recorded_at: t\n  request: {method: GET, upstream: o, path: /x}\n  response: {status: 200, stream: [{at_ms: 1, data: {text: '[DONE]'}}]}\n- id: 2\n  recorded_at: t\n  request: {method: GET, upstream: o, path: /y, body: {json: {k: [1, 2.5]}}}\n  response: {status: 404}\n";
        let cassette = parse(Path::new("x.yaml"), text).unwrap();
        let items: Vec<String> = cassette
            .interactions
            .iter()
            .map(|i| render_item(i).unwrap())
            .collect();
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        assert_eq!(
            render_with("a: b", &items).unwrap(),
            render(&cassette).unwrap()
        );
        assert_eq!(
            render_with("e", &[]).unwrap(),
            render(&Cassette::new("e")).unwrap()
        );
    }

    #[test]
    fn pending_files_are_listed_apart_from_cassettes() {
        let dir = tempfile::tempdir().unwrap();
        let name = CassetteName::parse("flows/refund").unwrap();
        let path = name.path_in(dir.path());
        save(&path, &Cassette::new("flows/refund")).unwrap();
        let pending = pending_path(&path);
        assert!(pending
            .to_string_lossy()
            .ends_with("flows/refund.yaml.pending"));
        save(&pending, &Cassette::new("flows/refund")).unwrap();
        assert_eq!(list(dir.path()).unwrap(), vec![(name.clone(), path)]);
        assert_eq!(list_pending(dir.path()).unwrap(), vec![(name, pending)]);
    }

    /// The id of a process that has exited (and been reaped).
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_write_removes_what_killed_writes_left_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dead_pid();
        let own = std::process::id();
        let left = |name: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, "partial").unwrap();
            path
        };
        // What a write killed mid-way leaves: a temp file named with its (now dead) process.
        let stale = left(format!(".traceforge-{dead}-a1B2c3.tmp"));
        // A write in progress here, or in a live process (pid 1 is always running), and files
        // that only look similar.
        let kept = [
            left(format!(".traceforge-{own}-d4E5f6.tmp")),
            left(".traceforge-1-g7H8i9.tmp".into()),
            left(format!(".traceforge-{dead}-a1B2c3.tmp.bak")),
            left(format!("traceforge-{dead}-a1B2c3.tmp")),
            left(".traceforge-notes.tmp".into()),
        ];
        save(&dir.path().join("x.yaml"), &Cassette::new("x")).unwrap();
        assert!(!stale.exists(), "the dead write's temp file is still there");
        for path in kept {
            assert!(path.exists(), "{} was removed", path.display());
        }
    }

    #[test]
    fn save_then_load_round_trips_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let name = CassetteName::parse("flows/refund").unwrap();
        let path = name.path_in(dir.path());
        let cassette = Cassette::new("flows/refund");
        save(&path, &cassette).unwrap();
        assert_eq!(load(&path).unwrap(), cassette);
        let listed = list(dir.path()).unwrap();
        assert_eq!(listed, vec![(name, path)]);
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("flows"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
