//! The baseline workflow (DESIGN.md §6, insta's): `vcr record --pending` leaves each changed
//! cassette beside its original as `NAME.yaml.pending`; `review` walks them showing the
//! behaviour diff and reads one key per cassette; `accept` and `reject` settle them by name;
//! `pending` lists them. Accepting renames the pending file over the original (atomic);
//! rejecting deletes it. Nothing here ever edits a cassette's content.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::Globals;
use crate::cassette::files;
use crate::cassette::CassetteName;
use crate::cli::{OutputFormat, PendingArgs, PendingNamesArgs, ReviewArgs};
use crate::diff::render::{self, TextStyle};
use crate::diff::CassetteReport;
use crate::output::{Printer, JSON_VERSION};
use crate::settings::Settings;
use crate::Exit;

/// A cassette with a pending version.
struct Pending {
    name: CassetteName,
    /// `NAME.yaml`, which may not exist (a cassette deleted since).
    original: PathBuf,
    /// `NAME.yaml.pending`.
    pending: PathBuf,
}

impl Pending {
    /// The pending version's behaviour diff against the original.
    fn diff(&self, settings: &Settings) -> anyhow::Result<CassetteReport> {
        let original = self.original.exists().then_some(self.original.as_path());
        Ok(crate::diff::cassette(
            self.name.as_str(),
            original,
            Some(&self.pending),
            &settings.diff,
            &settings.match_rules,
        )?)
    }

    fn accept(&self) -> anyhow::Result<()> {
        std::fs::rename(&self.pending, &self.original).with_context(|| {
            format!(
                "accepting {}: renaming it to {}",
                self.pending.display(),
                self.original.display()
            )
        })?;
        // Make the rename durable; failing to is not worth failing the accept for.
        if let Some(dir) = self.original.parent() {
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }

    fn reject(&self) -> anyhow::Result<()> {
        std::fs::remove_file(&self.pending)
            .with_context(|| format!("rejecting {}: deleting it", self.pending.display()))
    }
}

fn all_pending(dir: &Path) -> anyhow::Result<Vec<Pending>> {
    Ok(files::list_pending(dir)?
        .into_iter()
        .map(|(name, pending)| Pending {
            original: name.path_in(dir),
            name,
            pending,
        })
        .collect())
}

/// The pending cassettes named, or all of them; an unknown name fails before anything changes.
fn select(dir: &Path, names: &[String]) -> anyhow::Result<Vec<Pending>> {
    let mut all = all_pending(dir)?;
    if names.is_empty() {
        return Ok(all);
    }
    let mut chosen = Vec::new();
    for name in names {
        let name = CassetteName::parse(name)?;
        let Some(at) = all.iter().position(|p| p.name == name) else {
            anyhow::bail!(
                "{}: no pending cassette {:?} (see `traceforge pending`)",
                files::pending_path(&name.path_in(dir)).display(),
                name.as_str()
            );
        };
        chosen.push(all.remove(at));
    }
    Ok(chosen)
}

/// `--cassettes DIR` for printed commands, unless the directory is the default one.
fn cassettes_flag(dir: &Path) -> String {
    if dir == Path::new("cassettes") {
        String::new()
    } else {
        format!(" --cassettes {}", dir.display())
    }
}

pub(crate) fn accept(globals: &Globals, args: PendingNamesArgs) -> anyhow::Result<Exit> {
    settle(globals, args, true)
}

pub(crate) fn reject(globals: &Globals, args: PendingNamesArgs) -> anyhow::Result<Exit> {
    settle(globals, args, false)
}

fn settle(globals: &Globals, args: PendingNamesArgs, accept: bool) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let chosen = select(&settings.cassettes, &args.names)?;
    let printer = &globals.printer;
    if chosen.is_empty() {
        writeln!(
            printer.stderr(),
            "no pending cassettes in {}",
            settings.cassettes.display()
        )?;
    }
    for pending in &chosen {
        if accept {
            pending.accept()?;
        } else {
            pending.reject()?;
        }
        match accept {
            true => writeln!(
                printer.stderr(),
                "accepted {}: {} is the new baseline",
                pending.name,
                pending.original.display()
            )?,
            false => writeln!(
                printer.stderr(),
                "rejected {}: {} stays as it was",
                pending.name,
                pending.original.display()
            )?,
        }
    }
    Ok(Exit::Success)
}

pub(crate) fn pending(globals: &Globals, args: PendingArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let all = all_pending(&settings.cassettes)?;
    let mut rows = Vec::new();
    for pending in &all {
        rows.push((pending, pending.diff(&settings)?.totals()));
    }
    match args.format {
        OutputFormat::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|(p, t)| {
                    serde_json::json!({
                        "name": p.name.as_str(),
                        "path": p.original,
                        "pending": p.pending,
                        "original_exists": p.original.exists(),
                        "interactions": t.interactions(),
                        "same": t.same,
                        "changed": t.changed,
                        "missing": t.missing,
                        "new": t.new,
                    })
                })
                .collect();
            globals.printer.json(&serde_json::json!({
                "version": JSON_VERSION,
                "cassettes": settings.cassettes,
                "pending": items,
            }))?;
        }
        OutputFormat::Text => {
            if rows.is_empty() {
                writeln!(
                    globals.printer.stderr(),
                    "no pending cassettes in {}",
                    settings.cassettes.display()
                )?;
            } else {
                let table = globals.printer.table(
                    &[
                        "cassette",
                        "changed",
                        "missing",
                        "new",
                        "same",
                        "pending file",
                    ],
                    rows.iter()
                        .map(|(p, t)| {
                            vec![
                                p.name.to_string(),
                                t.changed.to_string(),
                                t.missing.to_string(),
                                t.new.to_string(),
                                t.same.to_string(),
                                p.pending.display().to_string(),
                            ]
                        })
                        .collect(),
                );
                globals.printer.stdout().write_all(table.as_bytes())?;
            }
        }
    }
    Ok(Exit::Success)
}

/// After `vcr record --pending`: of the cassettes this run recorded into, a pending version
/// whose behaviour matches its original is deleted (nothing to review); the others are kept
/// and announced. Problems are reported and leave the pending file in place. Compared under the
/// run's own settings (its `--match` included), never re-read.
pub(crate) fn settle_recorded(
    printer: &Printer,
    settings: &Settings,
    recorded: &[&str],
    json_log: bool,
) {
    // With `--log-format json` every stderr line is a JSON object: these go to the log.
    let say = |text: String| match json_log {
        true => tracing::info!("{text}"),
        false => {
            let _ = writeln!(printer.stderr(), "{text}");
        }
    };
    let warn = |text: String| match json_log {
        true => tracing::warn!("{text}"),
        false => {
            let _ = writeln!(printer.important(), "traceforge: warning: {text}");
        }
    };
    let dir = &settings.cassettes;
    let mut kept = 0;
    for name in recorded {
        let Ok(name) = CassetteName::parse(name) else {
            continue;
        };
        let original = name.path_in(dir);
        let pending = Pending {
            pending: files::pending_path(&original),
            original,
            name,
        };
        if !pending.pending.exists() || !pending.original.exists() {
            continue;
        }
        match pending.diff(settings) {
            Ok(report) if !report.totals().differs() => match pending.reject() {
                Ok(()) => say(format!(
                    "{}: no behaviour change, {} left as it was",
                    pending.name,
                    pending.original.display()
                )),
                Err(e) => warn(format!("{e:#}")),
            },
            Ok(report) => {
                kept += 1;
                say(format!(
                    "{}: behaviour changed: {}; written to {}",
                    pending.name,
                    render::headline(&report.totals()),
                    pending.pending.display()
                ));
            }
            Err(e) => {
                kept += 1;
                warn(format!(
                    "{} kept for review, it could not be compared: {e:#}",
                    pending.pending.display()
                ));
            }
        }
    }
    if kept > 0 {
        say(format!(
            "{kept} cassette(s) pending review: run `traceforge review{}` (or `traceforge accept` / `traceforge reject`)",
            cassettes_flag(dir)
        ));
    }
}

/// What the reviewer chose for one cassette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Accept,
    Reject,
    Skip,
}

pub(crate) fn review(globals: &Globals, args: ReviewArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let all = all_pending(&settings.cassettes)?;
    let printer = &globals.printer;
    if all.is_empty() {
        writeln!(
            printer.stderr(),
            "no pending cassettes in {}",
            settings.cassettes.display()
        )?;
        return Ok(Exit::Success);
    }
    let style = TextStyle {
        color: printer.color(),
        boxed: false,
    };
    if printer.interactive() {
        interactive(printer, &settings, &all, style)
    } else {
        non_interactive(printer, &settings, &all, style)
    }
}

fn heading(index: usize, count: usize, pending: &Pending) -> String {
    let what = if pending.original.exists() {
        format!(
            "{} against {}",
            pending.pending.display(),
            pending.original.display()
        )
    } else {
        format!("{} (new cassette)", pending.pending.display())
    };
    format!("pending {}/{count}: {}  ({what})", index + 1, pending.name)
}

fn non_interactive(
    printer: &Printer,
    settings: &Settings,
    all: &[Pending],
    style: TextStyle,
) -> anyhow::Result<Exit> {
    let mut out = printer.stdout();
    for (index, pending) in all.iter().enumerate() {
        let report = pending.diff(settings)?;
        writeln!(out, "{}", heading(index, all.len(), pending))?;
        writeln!(out, "{}", render::cassette_text(&report, style))?;
    }
    let flag = cassettes_flag(&settings.cassettes);
    writeln!(
        out,
        "{} pending cassette(s). No terminal to review them in; run one of:",
        all.len()
    )?;
    let mut commands = Vec::new();
    for pending in all {
        let name = &pending.name;
        commands.push((
            format!("traceforge accept{flag} {name}"),
            "keep the new recording",
        ));
        commands.push((
            format!("traceforge reject{flag} {name}"),
            "keep the original",
        ));
    }
    commands.push((format!("traceforge accept{flag}"), "accept all of them"));
    commands.push((format!("traceforge reject{flag}"), "reject all of them"));
    let width = commands.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (command, what) in commands {
        writeln!(out, "  {command:<width$}  # {what}")?;
    }
    Ok(Exit::CheckFailed)
}

fn interactive(
    printer: &Printer,
    settings: &Settings,
    all: &[Pending],
    style: TextStyle,
) -> anyhow::Result<Exit> {
    let terminal = RawTerminal::enable().context("setting up the terminal for review")?;
    let mut out = printer.stdout();
    let mut bulk: Option<Decision> = None;
    let mut counts = [0usize; 3];
    let mut interrupted = false;
    for (index, pending) in all.iter().enumerate() {
        let decision = match bulk {
            Some(decision) => decision,
            None => {
                let report = pending.diff(settings)?;
                writeln!(out, "\n{}", heading(index, all.len(), pending))?;
                writeln!(out, "{}", render::cassette_text(&report, style))?;
                write!(
                    out,
                    "[a]ccept  [r]eject  [s]kip  [A]ccept all  [R]eject all  [q]uit > "
                )?;
                out.flush()?;
                match read_choice(&terminal)? {
                    Choice::One(decision) => decision,
                    Choice::All(decision) => {
                        bulk = Some(decision);
                        decision
                    }
                    Choice::Quit { interrupt } => {
                        writeln!(out, "quit")?;
                        interrupted = interrupt;
                        break;
                    }
                }
            }
        };
        match decision {
            Decision::Accept => pending.accept()?,
            Decision::Reject => pending.reject()?,
            Decision::Skip => {}
        }
        let word = match decision {
            Decision::Accept => "accepted",
            Decision::Reject => "rejected",
            Decision::Skip => "skipped",
        };
        counts[decision as usize] += 1;
        writeln!(out, "{word} {}", pending.name)?;
    }
    drop(terminal);
    let left = all.len() - counts.iter().sum::<usize>();
    writeln!(
        out,
        "\nreview: {} accepted, {} rejected, {} skipped{}",
        counts[Decision::Accept as usize],
        counts[Decision::Reject as usize],
        counts[Decision::Skip as usize],
        if left > 0 {
            format!(", {left} not reviewed")
        } else {
            String::new()
        }
    )?;
    Ok(if interrupted {
        Exit::Interrupted
    } else {
        Exit::Success
    })
}

enum Choice {
    One(Decision),
    All(Decision),
    Quit { interrupt: bool },
}

/// Reads keys until one means something; Ctrl-C and Ctrl-D quit (the terminal is in raw mode,
/// so they arrive as bytes rather than signals, and the terminal is always restored).
fn read_choice(_terminal: &RawTerminal) -> anyhow::Result<Choice> {
    let mut stdin = std::io::stdin().lock();
    let mut byte = [0u8; 1];
    loop {
        if stdin.read(&mut byte)? == 0 {
            return Ok(Choice::Quit { interrupt: false });
        }
        if byte[0] == 0x1b {
            // An escape sequence (arrow keys send ESC [ A): swallow it whole, or its last
            // byte would read as a key ('A' is accept-all).
            skip_escape_sequence(&mut stdin)?;
            continue;
        }
        return Ok(match byte[0] {
            b'a' => Choice::One(Decision::Accept),
            b'r' => Choice::One(Decision::Reject),
            b's' | b'\r' | b'\n' => Choice::One(Decision::Skip),
            b'A' => Choice::All(Decision::Accept),
            b'R' => Choice::All(Decision::Reject),
            b'q' | b'Q' | 0x04 => Choice::Quit { interrupt: false },
            0x03 => Choice::Quit { interrupt: true },
            _ => continue,
        });
    }
}

/// Reads the rest of an escape sequence: `ESC [ … final` or `ESC O final` (a final byte is in
/// `@`–`~`), or the one key an Alt chord sent.
fn skip_escape_sequence(stdin: &mut impl std::io::Read) -> std::io::Result<()> {
    let mut byte = [0u8; 1];
    if stdin.read(&mut byte)? == 0 || !matches!(byte[0], b'[' | b'O') {
        return Ok(());
    }
    while stdin.read(&mut byte)? == 1 {
        if (0x40..=0x7e).contains(&byte[0]) {
            break;
        }
    }
    Ok(())
}

/// The terminal in non-canonical, no-echo, no-signal mode for single-key answers; the previous
/// mode comes back on drop, whatever happens in between.
struct RawTerminal {
    saved: libc::termios,
}

impl RawTerminal {
    fn enable() -> std::io::Result<RawTerminal> {
        // SAFETY: tcgetattr/tcsetattr only read and write the termios struct we pass, for
        // stdin, which is a terminal (checked by the caller).
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut raw = saved;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(RawTerminal { saved })
        }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: restores the attributes read in `enable`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_swallowed_whole() {
        let mut keys: &[u8] = b"[Aa";
        skip_escape_sequence(&mut keys).unwrap();
        assert_eq!(keys, b"a", "the arrow's final 'A' is not accept-all");
        let mut keys: &[u8] = b"[1;5Cr";
        skip_escape_sequence(&mut keys).unwrap();
        assert_eq!(keys, b"r");
        let mut keys: &[u8] = b"xs";
        skip_escape_sequence(&mut keys).unwrap();
        assert_eq!(keys, b"s", "an Alt chord loses its one key");
    }
}
