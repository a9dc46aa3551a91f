//! `traceforge pii`: keygen, scan, redact and reveal over cassettes on disk, with the same
//! Redactor the proxy uses, so what these commands see is what recording does; and audit, the
//! redaction audit of the trace database as a table or JSON (read only: the audit is written
//! with the traces by `store::audit` and verified by `db check`).

use std::io::Write as _;

use serde_json::json;

use super::inspect::targets;
use super::Globals;
use crate::cassette::files::{self, CassetteError};
use crate::cassette::{reveal, vault, CassetteName};
use crate::cli::{
    OutputFormat, PiiAuditArgs, PiiCassettesArgs, PiiCommand, PiiRevealArgs, PiiScanArgs,
};
use crate::output::JSON_VERSION;
use crate::sensitive::{PiiKey, Revealer};
use crate::store::audit::AuditEntry;
use crate::store::TraceDb;
use crate::Exit;

pub(crate) fn run(globals: &Globals, command: PiiCommand) -> anyhow::Result<Exit> {
    match command {
        PiiCommand::Keygen => {
            writeln!(globals.printer.stdout(), "{}", PiiKey::generate())?;
            Ok(Exit::Success)
        }
        PiiCommand::Scan(args) => scan(globals, args),
        PiiCommand::Redact(args) => redact(globals, args),
        PiiCommand::Reveal(args) => reveal(globals, args),
        PiiCommand::Audit(args) => audit(globals, args),
    }
}

/// Whether a detector name is a secret rule (or a credential header or parameter) rather than
/// a PII detector.
fn is_secret(detector: &str) -> bool {
    detector == "credential" || crate::sensitive::Secrets::rule_ids().any(|id| id == detector)
}

fn scan(globals: &Globals, args: PiiScanArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let redactor = settings.scanning_redactor()?;
    let targets = targets(&settings.cassettes, &args.names)?;
    let mut findings = Vec::new();
    let mut unreadable = 0usize;
    for (name, path) in &targets {
        let cassette = match files::load(path) {
            Ok(cassette) => cassette,
            Err(e) => {
                writeln!(
                    globals.printer.stderr(),
                    "error: {}",
                    crate::error_chain(&e)
                )?;
                unreadable += 1;
                continue;
            }
        };
        for interaction in &cassette.interactions {
            for found in redactor.scan(interaction) {
                findings.push((name.clone(), path.clone(), interaction.id, found));
            }
        }
    }
    match args.format {
        OutputFormat::Json => {
            let items: Vec<serde_json::Value> = findings
                .iter()
                .map(|(name, path, id, found)| {
                    json!({
                        "cassette": name.as_str(),
                        "file": path.display().to_string(),
                        "interaction": id,
                        "path": found.path,
                        "detector": found.detector,
                        "kind": if is_secret(&found.detector) { "secret" } else { "pii" },
                    })
                })
                .collect();
            globals
                .printer
                .json(&json!({"version": 1, "findings": items}))?;
        }
        OutputFormat::Text => {
            let mut out = globals.printer.stdout();
            for (_, path, id, found) in &findings {
                let kind = if is_secret(&found.detector) {
                    "secret"
                } else {
                    "PII"
                };
                writeln!(
                    out,
                    "{}: interaction {id}: {kind} ({}) in {}",
                    path.display(),
                    found.detector,
                    found.path
                )?;
            }
        }
    }
    let mut summary = globals.printer.stderr();
    writeln!(
        summary,
        "scanned {} cassette(s) ({}): {}",
        targets.len(),
        match settings.pii.mode {
            crate::sensitive::Mode::Off => "pii.mode off: secrets only",
            _ => "PII and secrets",
        },
        if findings.is_empty() {
            "nothing unprotected".to_string()
        } else {
            format!("{} unprotected value(s)", findings.len())
        }
    )?;
    Ok(if unreadable > 0 {
        Exit::Usage
    } else if findings.is_empty() {
        Exit::Success
    } else {
        Exit::CheckFailed
    })
}

fn redact(globals: &Globals, args: PiiCassettesArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let redactor = settings.redactor()?;
    let targets = targets(&settings.cassettes, &args.names)?;
    // Surrogates already issued stay the same: the vault is read first.
    if let Some(key) = redactor.protector().key() {
        for (surrogate, original) in vault::open(&settings.cassettes, key)? {
            redactor.protector().learn(surrogate, original);
        }
    }
    let (mut values, mut rewritten) = (0usize, 0usize);
    let mut failed = false;
    for (_, path) in &targets {
        let mut cassette = match files::load_file(path) {
            Ok(cassette) => cassette,
            Err(e) => {
                writeln!(
                    globals.printer.stderr(),
                    "error: {}",
                    crate::error_chain(&e)
                )?;
                failed = true;
                continue;
            }
        };
        let before = cassette
            .interactions
            .iter()
            .map(|i| i.redactions.len())
            .sum::<usize>();
        let original = cassette.clone();
        for interaction in &mut cassette.interactions {
            redactor.interaction(interaction);
        }
        if cassette == original {
            continue;
        }
        // Originals first: a cassette is never written with surrogates the vault lacks.
        vault::add(&settings.cassettes, redactor.protector().take_fresh())?;
        files::save(path, &cassette)?;
        values += cassette
            .interactions
            .iter()
            .map(|i| i.redactions.len())
            .sum::<usize>()
            - before;
        rewritten += 1;
        writeln!(globals.printer.stderr(), "{}: protected", path.display())?;
    }
    writeln!(
        globals.printer.stderr(),
        "{values} value(s) protected in {rewritten} of {} cassette(s) (pii.mode {}){}",
        targets.len(),
        settings.pii.mode.name(),
        if rewritten > 0 {
            "; the trace database still holds what it held: rebuild it with \
             `traceforge vcr rebuild-from-cassettes`"
        } else {
            ""
        }
    )?;
    Ok(if failed { Exit::Usage } else { Exit::Success })
}

fn reveal(globals: &Globals, args: PiiRevealArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let Some(key) = settings.pii.key.clone() else {
        anyhow::bail!(
            "pii reveal needs the key: set TRACEFORGE_PII_KEY or pass --pii-key-file FILE"
        );
    };
    let name = CassetteName::parse(&args.name)?;
    let path = name.path_in(&settings.cassettes);
    let mut cassette = match files::load(&path) {
        Ok(cassette) => cassette,
        Err(CassetteError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "{}: no such cassette (see `traceforge vcr list`)",
                path.display()
            )
        }
        Err(e) => return Err(e.into()),
    };
    let revealer = Revealer::new(vault::open(&settings.cassettes, &key)?);
    let mut revealed = Vec::new();
    for interaction in &mut cassette.interactions {
        if reveal::interaction(&revealer, interaction) {
            revealed.push(interaction.id);
        }
    }
    // Audited before anything is shown: a reveal that cannot be recorded does not happen.
    if !revealed.is_empty() {
        TraceDb::open(&settings.db)?.audit_reveal(name.as_str(), &revealed, key.id())?;
    }
    let revealed = revealed.len();
    write!(globals.printer.stdout(), "{}", files::render(&cassette)?)?;
    writeln!(
        globals.printer.stderr(),
        "revealed {revealed} of {} interaction(s) of \"{name}\" with key {}",
        cassette.interactions.len(),
        key.id()
    )?;
    Ok(Exit::Success)
}

fn audit(globals: &Globals, args: PiiAuditArgs) -> anyhow::Result<Exit> {
    let cassette = super::traces::cassette_glob(args.cassette.as_deref())?;
    let settings = globals.settings_with_cassettes(None)?;
    let db = TraceDb::open_existing(&settings.db)?;
    let entries: Vec<AuditEntry> = db
        .audit(args.trace)?
        .into_iter()
        .filter(|entry| {
            cassette
                .as_ref()
                .is_none_or(|m| m.is_match(&entry.cassette))
        })
        .collect();
    let printer = &globals.printer;
    match args.format {
        OutputFormat::Json => {
            printer.json(&json!({"version": JSON_VERSION, "redactions": entries}))?
        }
        // Nothing matched: nothing to show, and nothing wrong either.
        OutputFormat::Text if entries.is_empty() => {}
        OutputFormat::Text => {
            let rows = entries
                .iter()
                .map(|e| {
                    vec![
                        e.at.clone(),
                        e.cassette.clone(),
                        e.interaction_id.to_string(),
                        e.path.clone(),
                        format!("{}..{}", e.span[0], e.span[1]),
                        e.detector.clone(),
                        e.action.clone(),
                        e.hmac.clone(),
                    ]
                })
                .collect();
            let table = printer.table(
                &[
                    "time",
                    "cassette",
                    "interaction",
                    "path",
                    "span",
                    "detector",
                    "action",
                    "hmac",
                ],
                rows,
            );
            printer.stdout().write_all(table.as_bytes())?;
        }
    }
    Ok(Exit::Success)
}
