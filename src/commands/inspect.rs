//! `vcr list`, `vcr show` and `vcr verify`: reading cassettes without running anything.

use std::io::Write as _;

use super::Globals;
use crate::cassette::files::{self, CassetteError};
use crate::cassette::{CassetteName, Interaction};
use crate::cli::{ListArgs, OutputFormat, ShowArgs, VerifyArgs};
use crate::provider;
use crate::Exit;

use crate::output::one_line;

/// What `vcr list` reports about one cassette.
struct Counts {
    interactions: usize,
    streams: usize,
    incomplete: usize,
}

impl Counts {
    fn of(interactions: &[Interaction]) -> Counts {
        Counts {
            interactions: interactions.len(),
            streams: interactions
                .iter()
                .filter(|i| i.response.is_stream())
                .count(),
            incomplete: interactions
                .iter()
                .filter(|i| i.response.incomplete)
                .count(),
        }
    }
}

pub(crate) fn list(globals: &Globals, args: ListArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let mut rows = Vec::new();
    let mut broken = false;
    for (name, path) in files::list(&settings.cassettes)? {
        match files::load(&path) {
            // Keep the counts, not the interactions: a large directory must not all sit in memory.
            Ok(cassette) => rows.push((name, Ok(Counts::of(&cassette.interactions)))),
            Err(e) => {
                broken = true;
                rows.push((name, Err(e)));
            }
        }
    }
    let printer = &globals.printer;
    let mut out = printer.stdout();
    match args.format {
        OutputFormat::Json => {
            let cassettes: Vec<_> = rows
                .iter()
                .map(|(name, result)| match result {
                    Ok(counts) => serde_json::json!({
                        "name": name.as_str(),
                        "path": name.path_in(&settings.cassettes),
                        "interactions": counts.interactions,
                        "streams": counts.streams,
                        "incomplete": counts.incomplete,
                    }),
                    Err(e) => serde_json::json!({
                        "name": name.as_str(),
                        "path": name.path_in(&settings.cassettes),
                        "error": crate::error_chain(e),
                    }),
                })
                .collect();
            let doc = serde_json::json!({"version": 1, "cassettes": cassettes});
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        OutputFormat::Text => {
            if rows.is_empty() {
                writeln!(
                    printer.stderr(),
                    "no cassettes in {}",
                    settings.cassettes.display()
                )?;
            }
            let width = rows
                .iter()
                .map(|(n, _)| n.as_str().len())
                .max()
                .unwrap_or(0);
            for (name, result) in &rows {
                match result {
                    Ok(counts) => writeln!(
                        out,
                        "{:<width$}  {:>4} interaction(s), {} streamed",
                        name.as_str(),
                        counts.interactions,
                        counts.streams
                    )?,
                    Err(e) => writeln!(
                        out,
                        "{:<width$}  error: {}",
                        name.as_str(),
                        crate::error_chain(e)
                    )?,
                }
            }
        }
    }
    Ok(if broken {
        Exit::CheckFailed
    } else {
        Exit::Success
    })
}

pub(crate) fn show(globals: &Globals, args: ShowArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let name = CassetteName::parse(&args.name)?;
    let path = name.path_in(&settings.cassettes);
    if !path.exists() {
        anyhow::bail!(
            "{}: no such cassette (see `traceforge vcr list`)",
            path.display()
        );
    }
    let cassette = files::load(&path)?;
    let mut out = globals.printer.stdout();
    writeln!(
        out,
        "cassette {} ({}), {} interaction(s)",
        cassette.cassette,
        path.display(),
        cassette.interactions.len()
    )?;
    for interaction in &cassette.interactions {
        writeln!(out)?;
        write_interaction(&mut out, interaction)?;
    }
    Ok(Exit::Success)
}

fn write_interaction(out: &mut impl std::io::Write, i: &Interaction) -> std::io::Result<()> {
    let request = &i.request;
    let response = &i.response;
    let kind = if response.is_stream() {
        format!(
            "stream of {} events",
            response.stream.as_ref().map_or(0, Vec::len)
        )
    } else {
        response
            .body
            .as_ref()
            .map_or("no body".into(), |b| format!("{} body", b.kind()))
    };
    writeln!(
        out,
        "#{} {} {} {} → {} ({kind}){}",
        i.id,
        request.method,
        request.upstream,
        request.path,
        response.status,
        if response.incomplete {
            ", INCOMPLETE"
        } else {
            ""
        }
    )?;
    if let Some(usage) = &i.usage {
        writeln!(
            out,
            "   model {}, tokens in {} / out {}",
            usage.model.as_deref().unwrap_or("?"),
            usage.input_tokens.map_or("?".into(), |n| n.to_string()),
            usage.output_tokens.map_or("?".into(), |n| n.to_string())
        )?;
    }
    if let Some(timing) = &i.timing {
        writeln!(
            out,
            "   ttfb {} ms, total {} ms",
            timing.ttfb_ms, timing.total_ms
        )?;
    }
    if let Some(body) = request.body.as_ref().and_then(|b| b.as_json()) {
        if let Some(last) = last_user_message(body) {
            writeln!(out, "   user: {}", one_line(&last, 200))?;
        }
    }
    let assembled = provider::assemble(response);
    if !assembled.text.is_empty() {
        writeln!(out, "   assistant: {}", one_line(&assembled.text, 400))?;
    }
    for call in &assembled.tool_calls {
        writeln!(
            out,
            "   tool call: {}({})",
            call.name,
            one_line(&call.arguments, 200)
        )?;
    }
    Ok(())
}

fn last_user_message(body: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let content = match body.get("messages").and_then(Value::as_array) {
        Some(messages) => messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?
            .get("content")?,
        None => body.get("input")?,
    };
    Some(match content {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

pub(crate) fn verify(globals: &Globals, args: VerifyArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let redactor = settings.scanner()?;
    let mut targets = Vec::new();
    if args.names.is_empty() {
        targets = files::list(&settings.cassettes)?;
    } else {
        for name in &args.names {
            let name = CassetteName::parse(name)?;
            let path = name.path_in(&settings.cassettes);
            targets.push((name, path));
        }
    }
    let printer = &globals.printer;
    let mut out = printer.stdout();
    let mut problems = 0usize;
    for (_, path) in &targets {
        let cassette = match files::load(path) {
            Ok(cassette) => cassette,
            Err(CassetteError::Io { path, source })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                writeln!(out, "{}: no such cassette", path.display())?;
                problems += 1;
                continue;
            }
            Err(e) => {
                writeln!(out, "{}", crate::error_chain(&e))?;
                problems += 1;
                continue;
            }
        };
        for interaction in &cassette.interactions {
            for found in redactor.scan(interaction) {
                writeln!(
                    out,
                    "{}: interaction {}: unprotected {} in {}",
                    path.display(),
                    interaction.id,
                    found.detector,
                    found.path
                )?;
                problems += 1;
            }
            // The flag is what the recorder saw; a hand-edited or truncated file may have lost
            // the terminal event without saying so.
            let truncated = interaction
                .response
                .stream
                .as_ref()
                .is_some_and(|events| !events.last().is_some_and(provider::is_terminal));
            if interaction.response.incomplete || truncated {
                writeln!(
                    out,
                    "{}: interaction {}: stream recorded incomplete (no terminal event)",
                    path.display(),
                    interaction.id
                )?;
                problems += 1;
            }
        }
    }
    drop(out);
    writeln!(
        printer.stderr(),
        "verified {} cassette(s): {}",
        targets.len(),
        if problems == 0 {
            "ok".to_string()
        } else {
            format!("{problems} problem(s)")
        }
    )?;
    Ok(if problems == 0 {
        Exit::Success
    } else {
        Exit::CheckFailed
    })
}
