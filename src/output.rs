//! The one [`Printer`]: every byte a command prints for the user goes through it. It owns stdout
//! (data) and stderr (status, warnings, progress), `--quiet`, terminal detection and colour, so
//! no command decides those for itself (uv's `printer.rs`). It must not know what a command
//! prints, only how.
//!
//! Writes return `io::Result`: a closed stdout (`traceforge traces list | head -1`) surfaces as
//! `BrokenPipe`, which `main` turns into a quiet exit 0 instead of `println!`'s panic.

use std::io::{IsTerminal as _, Write};

use crate::cli::ColorChoice;

/// The version of every `--format json` document this build prints.
pub const JSON_VERSION: u32 = 1;

/// Where output goes and how it looks, decided once per run.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
    color: bool,
    stdout_terminal: bool,
    stderr_terminal: bool,
    stdin_terminal: bool,
}

impl Printer {
    /// Looks at the terminals and `NO_COLOR` once. `--color always` colours even into a pipe;
    /// `auto` colours only a terminal, and not when `NO_COLOR` is set to anything non-empty.
    pub fn new(quiet: bool, color: ColorChoice) -> Printer {
        let stdout_terminal = std::io::stdout().is_terminal();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stdout_terminal
            }
        };
        Printer {
            quiet,
            color,
            stdout_terminal,
            stderr_terminal: std::io::stderr().is_terminal(),
            stdin_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// Data: what the command was asked for. Never silenced by `--quiet`.
    pub fn stdout(&self) -> impl Write {
        std::io::stdout().lock()
    }

    /// A result summary on stdout that `--quiet` silences (`db check`'s "ok", a passing load
    /// summary): what a script gets from the exit code alone.
    pub fn summary(&self) -> Box<dyn Write> {
        if self.quiet {
            Box::new(std::io::sink())
        } else {
            Box::new(std::io::stdout().lock())
        }
    }

    /// Status lines and summaries of side effects, on stderr; silenced by `--quiet`.
    pub fn stderr(&self) -> Stderr {
        Stderr { silent: self.quiet }
    }

    /// Warnings and failure reports, on stderr even under `--quiet` (the user must see why a
    /// command failed).
    pub fn important(&self) -> Stderr {
        Stderr { silent: false }
    }

    /// Whether stdout gets ANSI colour.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Whether stdout is a terminal (boxed tables, side-by-side layouts).
    pub fn stdout_is_terminal(&self) -> bool {
        self.stdout_terminal
    }

    /// Whether a person can answer a prompt: stdin and stdout are both terminals.
    pub fn interactive(&self) -> bool {
        self.stdin_terminal && self.stdout_terminal
    }

    /// A progress bar on stderr, only on a terminal and never with `--quiet`.
    pub fn progress_bar(&self, length: u64, template: &str) -> Option<indicatif::ProgressBar> {
        if self.quiet || !self.stderr_terminal {
            return None;
        }
        let bar = indicatif::ProgressBar::new(length);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        Some(bar)
    }

    /// Whether a live progress display belongs on stderr.
    pub fn shows_progress(&self) -> bool {
        !self.quiet && self.stderr_terminal
    }

    /// Rows as a table: boxed on a terminal, plain aligned columns otherwise (no trailing
    /// spaces, for scripts).
    pub fn table(&self, header: &[&str], rows: Vec<Vec<String>>) -> String {
        table(header, rows, self.stdout_terminal)
    }

    /// A JSON document, pretty, on stdout.
    pub fn json(&self, value: &impl serde::Serialize) -> std::io::Result<()> {
        // Stdout flushes at every newline, and a pretty document is mostly newlines: a
        // 100,000-interaction `policy check` report took 700,000 writes unbuffered.
        let mut out = std::io::BufWriter::new(self.stdout());
        serde_json::to_writer_pretty(&mut out, value)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// Rows as a table, boxed or plain.
pub fn table(header: &[&str], rows: Vec<Vec<String>>, boxed: bool) -> String {
    let mut table = comfy_table::Table::new();
    if boxed {
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    } else {
        table.load_preset(comfy_table::presets::NOTHING);
    }
    table.set_header(header.iter().copied());
    for row in rows {
        table.add_row(row);
    }
    trimmed(&table)
}

/// A table's text without the trailing spaces the borderless preset pads lines with (scripts
/// and snapshots do not want them), ending in a newline.
pub fn trimmed(table: &comfy_table::Table) -> String {
    let mut text = table
        .to_string()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    text
}

/// stderr, or nothing under `--quiet`. Write errors on stderr are dropped: there is nowhere
/// left to report them, and a status line must never fail a command that did its work.
pub struct Stderr {
    silent: bool,
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.silent {
            let _ = std::io::stderr().lock().write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An optional number for a table cell.
pub fn cell<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Text shortened to one line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

/// Whether an error (anywhere in its chain) is a closed pipe on output: the reader went away
/// (`| head`), which ends the command quietly.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tables_have_no_trailing_spaces() {
        let text = table(
            &["a", "long header"],
            vec![vec!["x".into(), "y".into()]],
            false,
        );
        assert!(text.lines().all(|l| l == l.trim_end()), "{text:?}");
        assert!(text.contains("long header"));
    }

    #[test]
    fn a_broken_pipe_is_found_through_serde_json_and_context() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let json = serde_json::Error::io(io);
        let error = anyhow::Error::new(json).context("writing the export");
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!("broken pipe")));
    }
}
