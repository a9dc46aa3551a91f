//! Scratch files: the temporary files an atomic write or a database rebuild fills beside its
//! target, so that the final rename stays on one file system. A process killed before its
//! rename leaves its scratch file behind, and nothing else would ever remove it, so each name
//! carries the id of the process that made it (`.traceforge-<pid>-<random>.tmp`): a later
//! process removes the files of processes that are no longer running, and never touches those
//! of a live one (a write in progress) or any file not named by this module.
//!
//! The rule trusts process ids on this machine. An id reused since the kill keeps a leftover
//! until that process ends too (harmless); a writer in another pid namespace sharing the
//! directory (a container and its host) may look dead, and its write then fails and is retried
//! or reported. No age threshold: a file of a dead process cannot be in use, however young.

use std::fs::Permissions;
use std::io;
use std::path::Path;

/// A new, empty scratch file in `dir` named `<prefix><pid>-<random><suffix>`, removed when the
/// handle drops unless it is persisted. `permissions` are applied at creation (so the umask
/// still masks them); without them the file is private to its owner (0600).
pub(crate) fn create(
    dir: &Path,
    prefix: &str,
    suffix: &str,
    permissions: Option<Permissions>,
) -> io::Result<tempfile::NamedTempFile> {
    let prefix = format!("{prefix}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix);
    if let Some(permissions) = permissions {
        builder.permissions(permissions);
    }
    builder.tempfile_in(dir)
}

/// Removes the scratch files in `dir` that a process no longer running made with `prefix`,
/// ending in one of `endings` (a database's `.db` and its `.db-journal`, say). Best effort: a
/// file that cannot be removed is left for the next time.
pub(crate) fn remove_dead(dir: &Path, prefix: &str, endings: &[&str]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|name| maker(name, prefix, endings)) else {
            continue;
        };
        if pid != own && !is_running(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id in `name` if it is `<prefix><pid>-<random><ending>`.
fn maker(name: &str, prefix: &str, endings: &[&str]) -> Option<u32> {
    let (pid, rest) = name.strip_prefix(prefix)?.split_once('-')?;
    let random = endings
        .iter()
        .find_map(|ending| rest.strip_suffix(ending))?;
    let is_random = !random.is_empty() && random.bytes().all(|b| b.is_ascii_alphanumeric());
    let pid_digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (is_random && pid_digits)
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether process `pid` exists. Anything but a definite "no such process" counts as running.
fn is_running(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        if pid <= 0 {
            return true;
        }
        // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_strictly() {
        let endings = [".db", ".db-journal"];
        let cases = [
            (".traces-rebuild-42-aB3xYz.db", Some(42)),
            (".traces-rebuild-42-aB3xYz.db-journal", Some(42)),
            (".traces-rebuild-42-aB3xYz.db-wal", None),
            (".traces-rebuild-42-.db", None),
            (".traces-rebuild-aB3xYz.db", None),
            (".traces-rebuild--aB3xYz.db", None),
            (".traces-rebuild-4x2-aB3xYz.db", None),
            (".traces-rebuild-42-a.b.db", None),
            ("traces-rebuild-42-aB3xYz.db", None),
            (".traces-rebuild-99999999999-aB3xYz.db", None),
        ];
        for (name, pid) in cases {
            assert_eq!(maker(name, ".traces-rebuild-", &endings), pid, "{name}");
        }
    }

    #[test]
    fn created_files_carry_this_process_id() {
        let dir = tempfile::tempdir().unwrap();
        let file = create(dir.path(), ".x-", ".tmp", None).unwrap();
        let name = file.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(maker(name, ".x-", &[".tmp"]), Some(std::process::id()));
        assert!(is_running(std::process::id()));
    }
}
