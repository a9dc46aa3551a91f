//! `db check|stats|backup|vacuum|prune` and `vcr rebuild-from-cassettes`.

use std::io::IsTerminal as _;

use serde_json::json;

use super::output::{self, JSON_VERSION};
use super::Globals;
use crate::cli::{DbCommand, OutputFormat, RebuildArgs};
use crate::store::{rebuild, TraceDb};
use crate::Exit;

/// What to tell a user whose database is damaged.
const FIX: &str = "rebuild it from the cassettes with `traceforge vcr rebuild-from-cassettes`";

pub(crate) fn run(globals: &Globals, command: DbCommand) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(None)?;
    let path = settings.db;
    if let DbCommand::Check = command {
        return check(globals, &path);
    }
    let db = TraceDb::open_existing(&path)?;
    match command {
        DbCommand::Check => unreachable!("handled above"),
        DbCommand::Stats(args) => {
            let stats = db.stats()?;
            match args.format {
                OutputFormat::Json => {
                    output::json(&json!({"version": JSON_VERSION, "stats": stats}))?
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
                    print!("{}", output::table(&["", "value"], rows));
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
            if !globals.quiet {
                eprintln!("backed up {} to {}", path.display(), args.file.display());
            }
        }
        DbCommand::Vacuum => {
            let before = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            db.vacuum()?;
            let after = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if !globals.quiet {
                eprintln!("vacuumed {}: {before} → {after} bytes", path.display());
            }
        }
        DbCommand::Prune(args) => {
            let age = crate::duration::parse(&args.older_than)
                .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let cutoff = super::traces::cutoff(age)?;
            let mut db = db;
            let deleted = db.prune(&cutoff)?;
            if !globals.quiet {
                eprintln!("pruned {deleted} trace(s) seen before {cutoff}");
            }
        }
    }
    Ok(Exit::Success)
}

fn check(globals: &Globals, path: &std::path::Path) -> anyhow::Result<Exit> {
    if !path.exists() {
        println!("{}: missing; {FIX}", path.display());
        return Ok(Exit::CheckFailed);
    }
    let problems = match TraceDb::open_existing(path).and_then(|db| db.check()) {
        Ok(problems) => problems,
        Err(error) => vec![error.to_string()],
    };
    if problems.is_empty() {
        if !globals.quiet {
            println!(
                "{}: ok (schema version {})",
                path.display(),
                crate::store::schema::SCHEMA_VERSION
            );
        }
        return Ok(Exit::Success);
    }
    for problem in problems.iter().take(20) {
        println!("{}: {problem}", path.display());
    }
    println!("{}: damaged; {FIX}", path.display());
    Ok(Exit::CheckFailed)
}

pub(crate) fn rebuild(globals: &Globals, args: RebuildArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let show_progress = !globals.quiet && std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::hidden();
    if show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} rebuilding {bar:30} {pos}/{len} cassettes ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    }
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
        eprintln!("skipped: {skipped}");
    }
    if !globals.quiet {
        eprintln!(
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
        );
    }
    Ok(Exit::Success)
}
