//! `db check|stats|backup|vacuum|prune` and `vcr rebuild-from-cassettes`.

use std::io::Write as _;

use serde_json::json;

use super::Globals;
use crate::cli::{DbCommand, OutputFormat, RebuildArgs};
use crate::output::{Printer, JSON_VERSION};
use crate::store::{drift, rebuild, TraceDb};
use crate::Exit;

/// What to tell a user whose database is damaged.
const FIX: &str = "rebuild it from the cassettes with `traceforge vcr rebuild-from-cassettes`";

pub(crate) fn run(globals: &Globals, command: DbCommand) -> anyhow::Result<Exit> {
    let cassettes = match &command {
        DbCommand::Check(args) => args.cassettes.as_deref(),
        _ => None,
    };
    let settings = globals.settings_with_cassettes(cassettes)?;
    let printer = &globals.printer;
    let path = settings.db;
    if let DbCommand::Check(args) = &command {
        let cassettes = args
            .cassettes
            .as_ref()
            .map(|_| settings.cassettes.as_path());
        return check(printer, &path, cassettes);
    }
    let db = TraceDb::open_existing(&path)?;
    match command {
        DbCommand::Check(_) => unreachable!("handled above"),
        DbCommand::Stats(args) => {
            let stats = db.stats()?;
            match args.format {
                OutputFormat::Json => {
                    printer.json(&json!({"version": JSON_VERSION, "stats": stats}))?
                }
                OutputFormat::Text => {
                    let mut rows = vec![
                        vec!["file".into(), stats.path.clone()],
                        vec![
                            "size".into(),
                            format!("{:.1} KiB", stats.size_bytes as f64 / 1024.0),
                        ],
                        vec!["traces".into(), stats.traces.to_string()],
                        vec!["replays".into(), stats.replays.to_string()],
                        vec!["runs".into(), stats.runs.to_string()],
                        vec!["cassettes".into(), stats.cassettes.to_string()],
                        vec!["sessions".into(), stats.sessions.to_string()],
                        vec!["decisions".into(), stats.decisions.to_string()],
                        vec!["audit rows".into(), stats.redactions.to_string()],
                        vec![
                            "oldest".into(),
                            stats.oldest.clone().unwrap_or_else(|| "-".into()),
                        ],
                        vec![
                            "newest".into(),
                            stats.newest.clone().unwrap_or_else(|| "-".into()),
                        ],
                    ];
                    for (model, n) in &stats.models {
                        rows.push(vec![format!("model {model}"), n.to_string()]);
                    }
                    let table = printer.table(&["", "value"], rows);
                    printer.stdout().write_all(table.as_bytes())?;
                }
            }
        }
        DbCommand::Backup(args) => {
            if args.file.exists() {
                anyhow::bail!(
                    "{}: already exists; backup will not overwrite it",
                    args.file.display()
                );
            }
            db.backup(&args.file)?;
            writeln!(
                printer.stderr(),
                "backed up {} to {}",
                path.display(),
                args.file.display()
            )?;
        }
        DbCommand::Vacuum => {
            let before = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            db.vacuum()?;
            let after = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            writeln!(
                printer.stderr(),
                "vacuumed {}: {before} → {after} bytes",
                path.display()
            )?;
        }
        DbCommand::Prune(args) => {
            let age = crate::duration::parse(&args.older_than)
                .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let cutoff = super::traces::cutoff(age)?;
            let mut db = db;
            let deleted = db.prune(&cutoff)?;
            writeln!(
                printer.stderr(),
                "pruned {deleted} trace(s) seen before {cutoff}"
            )?;
        }
    }
    Ok(Exit::Success)
}

fn check(
    printer: &Printer,
    path: &std::path::Path,
    cassettes: Option<&std::path::Path>,
) -> anyhow::Result<Exit> {
    if !path.exists() {
        writeln!(printer.stdout(), "{}: missing; {FIX}", path.display())?;
        return Ok(Exit::CheckFailed);
    }
    let mut version = crate::store::schema::SCHEMA_VERSION;
    let (problems, drift) = match TraceDb::open_existing(path) {
        Ok(db) => {
            let problems = db.check().unwrap_or_else(|e| vec![crate::error_chain(&e)]);
            let drift = match cassettes {
                Some(dir) if problems.is_empty() => Some(drift::check(&db, dir)?),
                _ => None,
            };
            version = db.schema_version().unwrap_or(version);
            (problems, drift)
        }
        Err(error) => (vec![crate::error_chain(&error)], None),
    };
    if let (Some(drift), Some(dir)) = (drift.filter(|d| !d.is_empty()), cassettes) {
        let mut out = printer.stdout();
        let groups = [
            (
                &drift.orphaned,
                "row(s) name interactions no cassette holds",
            ),
            (&drift.missing, "interaction(s) have no row"),
            (
                &drift.stale,
                "row(s) are older than their interaction's latest recording",
            ),
            (
                &drift.unaudited,
                "redaction(s) in the cassettes are missing from the audit",
            ),
            (
                &drift.decisions,
                "row(s) differ from their interaction's policy decisions",
            ),
        ];
        for (entries, what) in groups {
            if !entries.is_empty() {
                let shown: Vec<&str> = entries.iter().take(5).map(String::as_str).collect();
                let more = match entries.len() > shown.len() {
                    true => format!(", … {} more", entries.len() - shown.len()),
                    false => String::new(),
                };
                writeln!(
                    out,
                    "{}: {} {what}: {}{more}",
                    path.display(),
                    entries.len(),
                    shown.join(", ")
                )?;
            }
        }
        for unreadable in &drift.unreadable {
            writeln!(out, "{}: not compared: {unreadable}", path.display())?;
        }
        writeln!(
            out,
            "{}: out of step with {}; {FIX}",
            path.display(),
            dir.display()
        )?;
        return Ok(Exit::CheckFailed);
    }
    if problems.is_empty() {
        writeln!(
            printer.summary(),
            "{}: ok (schema version {version})",
            path.display(),
        )?;
        return Ok(Exit::Success);
    }
    let mut out = printer.stdout();
    for problem in problems.iter().take(20) {
        writeln!(out, "{}: {problem}", path.display())?;
    }
    writeln!(out, "{}: damaged; {FIX}", path.display())?;
    Ok(Exit::CheckFailed)
}

pub(crate) fn rebuild(globals: &Globals, args: RebuildArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let printer = &globals.printer;
    let bar = printer
        .progress_bar(
            0,
            "{spinner} rebuilding {bar:30} {pos}/{len} cassettes ({elapsed})",
        )
        .unwrap_or_else(indicatif::ProgressBar::hidden);
    let started = std::time::Instant::now();
    let report = rebuild::rebuild(
        &settings.cassettes,
        &settings.db,
        args.strict,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    for skipped in &report.skipped {
        writeln!(printer.important(), "skipped: {skipped}")?;
    }
    {
        writeln!(
            printer.stderr(),
            "rebuilt {} from {} cassette(s): {} interaction(s) in {seconds:.2}s ({:.0}/s){}",
            settings.db.display(),
            report.cassettes,
            report.interactions,
            report.interactions as f64 / seconds.max(1e-9),
            if report.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} cassette(s) skipped", report.skipped.len())
            }
        )?;
    }
    Ok(Exit::Success)
}
