//! `pii audit`: the redaction audit of the trace database, as a table or JSON. Reads only; the
//! audit is written with the traces (`store::audit`) and verified by `db check`.

use std::io::Write as _;

use serde_json::json;

use super::Globals;
use crate::cli::{OutputFormat, PiiAuditArgs, PiiCommand};
use crate::output::JSON_VERSION;
use crate::store::audit::AuditEntry;
use crate::store::TraceDb;
use crate::Exit;

pub(crate) fn run(globals: &Globals, command: PiiCommand) -> anyhow::Result<Exit> {
    match command {
        PiiCommand::Audit(args) => audit(globals, args),
    }
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
