//! `traces list|show|search|export` and `sessions list|show`: reading the trace database.

use std::io::Write as _;

use anyhow::Context as _;
use serde_json::json;

use super::Globals;
use crate::cassette::Decision;
use crate::cli::{OutputFormat, SessionsCommand, TracesCommand};
use crate::output::{cell, one_line, JSON_VERSION};
use crate::store::query::{self, Filter, Trace};
use crate::store::TraceDb;
use crate::Exit;

fn open(globals: &Globals) -> anyhow::Result<TraceDb> {
    let settings = globals.settings_with_cassettes(None)?;
    Ok(TraceDb::open_existing(&settings.db)?)
}

pub(crate) fn run(globals: &Globals, command: TracesCommand) -> anyhow::Result<Exit> {
    let db = open(globals)?;
    let printer = &globals.printer;
    match command {
        TracesCommand::List(args) => {
            let since = match &args.since {
                Some(text) => {
                    let age = crate::duration::parse(text)
                        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
                    Some(cutoff(age)?)
                }
                None => None,
            };
            let cassette = cassette_glob(args.cassette.as_deref())?;
            let traces = db.list(&Filter {
                cassette,
                model: args.model,
                organization: args.org,
                service: args.service,
                since,
                limit: Some(args.limit),
            })?;
            match args.format {
                OutputFormat::Json => {
                    printer.json(&json!({"version": JSON_VERSION, "traces": traces}))?
                }
                OutputFormat::Text => printer
                    .stdout()
                    .write_all(trace_table(printer, &traces).as_bytes())?,
            }
        }
        TracesCommand::Show(args) => {
            let Some((trace, request, response)) = db.show(&args.id)? else {
                anyhow::bail!(
                    "no trace {:?} in {} (ids come from `traces list`; CASSETTE#N names a recorded interaction)",
                    args.id,
                    db.path().display()
                );
            };
            let request: serde_json::Value = serde_json::from_str(&request).unwrap_or_default();
            let response: serde_json::Value = serde_json::from_str(&response).unwrap_or_default();
            let decisions = db.decisions(trace.id)?;
            let redactions = db.audit(Some(trace.id))?.len();
            match args.format {
                OutputFormat::Json => printer.json(&json!({
                    "version": JSON_VERSION, "trace": trace, "request": request,
                    "response": response, "decisions": decisions, "redactions": redactions
                }))?,
                OutputFormat::Text => print_trace(
                    &mut printer.stdout(),
                    &trace,
                    &request,
                    &decisions,
                    redactions,
                )?,
            }
        }
        TracesCommand::Search(args) => {
            let (open, close) = if printer.color() && args.format == OutputFormat::Text {
                ("\u{1b}[1;33m", "\u{1b}[0m")
            } else {
                ("[", "]")
            };
            let hits = db.search(&args.query, args.limit, open, close)?;
            match args.format {
                OutputFormat::Json => {
                    let hits: Vec<_> = hits
                        .iter()
                        .map(|(trace, snippet)| json!({"trace": trace, "snippet": snippet}))
                        .collect();
                    printer.json(
                        &json!({"version": JSON_VERSION, "query": args.query, "results": hits}),
                    )?
                }
                OutputFormat::Text => {
                    if hits.is_empty() {
                        writeln!(printer.stderr(), "no traces match {:?}", args.query)?;
                    }
                    let mut out = printer.stdout();
                    for (trace, snippet) in &hits {
                        writeln!(
                            out,
                            "#{} {} {}#{} {}",
                            trace.id,
                            trace.recorded_at,
                            trace.cassette,
                            trace.interaction_id,
                            trace.model.as_deref().unwrap_or("-")
                        )?;
                        writeln!(out, "    {}", one_line(snippet, 300))?;
                    }
                }
            }
        }
        TracesCommand::Export(args) if args.format == crate::cli::ExportFormat::Otlp => {
            export_otlp(globals, &db, &args.otlp)?;
        }
        TracesCommand::Export(_) => {
            let mut out = std::io::BufWriter::new(printer.stdout());
            for row in db.export()? {
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
    }
    Ok(Exit::Success)
}

/// `traces export --format otlp`: every row as a span, in batches, to the endpoint; fails on
/// the first batch the endpoint does not take (after the sender's retries).
fn export_otlp(globals: &Globals, db: &TraceDb, args: &crate::cli::OtlpArgs) -> anyhow::Result<()> {
    use crate::telemetry::otlp;
    let settings = globals.settings(crate::settings::Overrides {
        otlp: Some(super::otlp_flags(args)),
        ..crate::settings::Overrides::default()
    })?;
    let Some(config) = settings.otlp else {
        anyhow::bail!(
            "traces export --format otlp: no endpoint; give --otlp-endpoint URL or set \
             {} (or {})",
            crate::settings::OTEL_ENDPOINT,
            crate::settings::OTEL_TRACES_ENDPOINT
        );
    };
    let sender = otlp::Sender::new(&config)?;
    let runtime = super::runtime(super::Threads::Workers)?;
    let mut after = 0;
    let mut sent = 0u64;
    // One buffer for every batch: a sent batch's comes back to its `Batch`.
    let mut batch = otlp::Batch::default();
    loop {
        // Read on this thread (SQLite never runs on the runtime), send on the runtime.
        let rows = db.interactions_after(after, otlp::BATCH_SPANS)?;
        let Some((last, _, _)) = rows.last() else {
            break;
        };
        after = *last;
        for (_, cassette, interaction) in &rows {
            batch.push(
                otlp::span::Source {
                    cassette,
                    interaction,
                    end_unix_nano: otlp::recorded_end(interaction),
                    replay: None,
                },
                config.content,
            );
        }
        let count = batch.len() as u64;
        let rejected = runtime
            .block_on(sender.send(&mut batch, None, None))
            .with_context(|| {
                format!("traces export --format otlp: stopped after {sent} span(s)")
            })?;
        if rejected > 0 {
            anyhow::bail!(
                "OTLP export to {}: the endpoint rejected {rejected} of {count} span(s) \
                 (after {sent} were sent)",
                config.shown_url()
            );
        }
        sent += count;
    }
    writeln!(
        globals.printer.stderr(),
        "traces export: {sent} span(s) sent to {}",
        config.shown_url()
    )?;
    Ok(())
}

/// The matcher of a `--cassette GLOB` flag.
pub(crate) fn cassette_glob(glob: Option<&str>) -> anyhow::Result<Option<globset::GlobMatcher>> {
    let Some(glob) = glob else {
        return Ok(None);
    };
    Ok(Some(
        globset::Glob::new(glob)
            .map_err(|e| anyhow::anyhow!("--cassette {glob}: {e}"))?
            .compile_matcher(),
    ))
}

/// The RFC 3339 time `age` ago.
pub(crate) fn cutoff(age: std::time::Duration) -> anyhow::Result<String> {
    let age = chrono::Duration::from_std(age).context("duration out of range")?;
    let when = chrono::Utc::now()
        .checked_sub_signed(age)
        .context("duration out of range")?;
    Ok(crate::cassette::timestamp(when))
}

fn trace_table(printer: &crate::output::Printer, traces: &[Trace]) -> String {
    let rows = traces
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.recorded_at.clone(),
                format!("{}#{}", t.cassette, t.interaction_id),
                t.model.clone().unwrap_or_else(|| "-".into()),
                t.status.to_string(),
                cell(t.latency_ms),
                format!("{}/{}", cell(t.input_tokens), cell(t.output_tokens)),
                one_line(&t.response, 40),
            ]
        })
        .collect();
    printer.table(
        &[
            "id",
            "seen",
            "source",
            "interaction",
            "model",
            "status",
            "ms",
            "tokens in/out",
            "response",
        ],
        rows,
    )
}

fn print_trace(
    out: &mut impl std::io::Write,
    trace: &Trace,
    request: &serde_json::Value,
    decisions: &[Decision],
    redactions: usize,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "trace {} {}#{}",
        trace.id, trace.cassette, trace.interaction_id
    )?;
    writeln!(out, "  recorded  {}", trace.recorded_at)?;
    if trace.replays > 0 {
        writeln!(
            out,
            "  replayed  {} time(s), last at {}",
            trace.replays,
            trace.last_replayed.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(
        out,
        "  request   {} {} {} ({})",
        trace.method, trace.upstream, trace.path, trace.provider
    )?;
    writeln!(
        out,
        "  response  {} in {} ms (first byte {} ms)",
        trace.status,
        cell(trace.latency_ms),
        cell(trace.ttfb_ms)
    )?;
    writeln!(
        out,
        "  model     {}, tokens in {} / out {}",
        trace.model.as_deref().unwrap_or("-"),
        cell(trace.input_tokens),
        cell(trace.output_tokens)
    )?;
    let scope: Vec<String> = [
        ("organization", &trace.organization),
        ("service", &trace.service),
        ("session", &trace.session),
        ("step", &trace.step),
        ("parent step", &trace.parent_step),
    ]
    .iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
    .collect();
    if !scope.is_empty() {
        writeln!(out, "  scope     {}", scope.join(", "))?;
    }
    if redactions > 0 {
        writeln!(
            out,
            "  redacted  {redactions} value(s) before it was stored"
        )?;
    }
    if !decisions.is_empty() {
        // Never a value: the decision names where the match was and what kind it was.
        writeln!(out, "\ndecisions:")?;
        for d in decisions {
            writeln!(
                out,
                "  {}@{}/{}: {} ({}), {} at {}, {}",
                d.policy, d.version, d.rule, d.action, d.severity, d.entity, d.path, d.outcome
            )?;
        }
    }
    writeln!(out, "\nprompt:\n{}", indent(&trace.prompt))?;
    writeln!(out, "\nresponse:\n{}", indent(&trace.response))?;
    if let Some(body) = request.pointer("/body/json") {
        writeln!(
            out,
            "\nrequest body:\n{}",
            indent(&serde_json::to_string_pretty(body)?)
        )?;
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn sessions(globals: &Globals, command: SessionsCommand) -> anyhow::Result<Exit> {
    let db = open(globals)?;
    let printer = &globals.printer;
    match command {
        SessionsCommand::List(args) => {
            let sessions = db.sessions()?;
            match args.format {
                OutputFormat::Json => {
                    printer.json(&json!({"version": JSON_VERSION, "sessions": sessions}))?
                }
                OutputFormat::Text => {
                    let rows = sessions
                        .iter()
                        .map(|s| {
                            vec![
                                s.session.clone(),
                                s.traces.to_string(),
                                s.first.chars().take(19).collect(),
                                s.last.chars().take(19).collect(),
                                format!("{}/{}", s.input_tokens, s.output_tokens),
                            ]
                        })
                        .collect();
                    let table = printer.table(
                        &["session", "traces", "first", "last", "tokens in/out"],
                        rows,
                    );
                    printer.stdout().write_all(table.as_bytes())?;
                }
            }
            Ok(Exit::Success)
        }
        SessionsCommand::Show(args) => {
            let traces = db.session(&args.id)?;
            if traces.is_empty() {
                anyhow::bail!(
                    "no session {:?} in {} (see `traceforge sessions list`)",
                    args.id,
                    db.path().display()
                );
            }
            printer
                .stdout()
                .write_all(render_session(&args.id, &traces).as_bytes())?;
            Ok(Exit::Success)
        }
    }
}

/// The session as a tree of steps; traces without a step id are listed after it.
fn render_session(id: &str, traces: &[Trace]) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let mut by_step: BTreeMap<&str, Vec<&Trace>> = BTreeMap::new();
    let mut pairs = Vec::new();
    let mut loose = Vec::new();
    for trace in traces {
        match &trace.step {
            Some(step) => {
                pairs.push((step.clone(), trace.parent_step.clone()));
                by_step.entry(step).or_default().push(trace);
            }
            None => loose.push(trace),
        }
    }
    let tree = query::step_tree(&pairs);
    let mut out = String::new();
    let tokens: i64 = traces
        .iter()
        .map(|t| t.input_tokens.unwrap_or(0) + t.output_tokens.unwrap_or(0))
        .sum();
    let _ = writeln!(
        out,
        "session {id}: {} trace(s), {} step(s), {tokens} tokens",
        traces.len(),
        by_step.len()
    );
    let describe = |step: &str| -> String {
        let calls = by_step.get(step).cloned().unwrap_or_default();
        let parts: Vec<String> = calls
            .iter()
            .map(|t| {
                format!(
                    "{} {} ms {}/{} tok",
                    t.model.as_deref().unwrap_or("-"),
                    cell(t.latency_ms),
                    cell(t.input_tokens),
                    cell(t.output_tokens)
                )
            })
            .collect();
        format!("step {step}: {}", parts.join("; "))
    };
    /// Draws `step` and, the first time it is met, its children; a join (or a cycle) met again
    /// is drawn as a reference only.
    #[expect(clippy::too_many_arguments, reason = "a recursive drawing helper")]
    fn walk(
        step: &str,
        prefix: &str,
        last: bool,
        root: bool,
        tree: &query::StepTree,
        describe: &dyn Fn(&str) -> String,
        drawn: &mut std::collections::BTreeSet<String>,
        out: &mut String,
    ) {
        let (branch, next) = match (root, last) {
            (true, _) => ("", String::new()),
            (false, true) => ("└─ ", format!("{prefix}   ")),
            (false, false) => ("├─ ", format!("{prefix}│  ")),
        };
        if !drawn.insert(step.to_string()) {
            let _ = writeln!(out, "{prefix}{branch}step {step} (joins here; shown above)");
            return;
        }
        let _ = writeln!(out, "{prefix}{branch}{}", describe(step));
        let children = tree.children.get(step).cloned().unwrap_or_default();
        for (i, child) in children.iter().enumerate() {
            let last = i + 1 == children.len();
            walk(child, &next, last, false, tree, describe, drawn, out);
        }
    }
    let mut drawn = std::collections::BTreeSet::new();
    for root in &tree.roots {
        walk(root, "", true, true, &tree, &describe, &mut drawn, &mut out);
    }
    for (step, parent) in &tree.dangling {
        let _ = writeln!(
            out,
            "warning: step {step} names parent step {parent}, which is not in this session"
        );
    }
    for cycle in &tree.cycles {
        let _ = writeln!(
            out,
            "warning: parent steps form a cycle: {} → {}",
            cycle.join(" → "),
            cycle[0]
        );
    }
    if !loose.is_empty() {
        let _ = writeln!(out, "{} trace(s) without a step id", loose.len());
    }
    out
}
