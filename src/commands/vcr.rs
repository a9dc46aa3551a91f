//! `vcr record` and `vcr replay`: resolve settings, start the proxy, run the wrapped command (or
//! serve until Ctrl-C), flush cassettes, print the summary, and pick the exit code.

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::Context as _;

use super::Globals;
use crate::cli::{LogFormat, ProxyArgs, RecordArgs, RecordMode, ReplayArgs};
use crate::proxy::{child, Mode, Proxy, Summary, TracesReport};
use crate::settings::{Overrides, ProxyRun, Settings};
use crate::{server, Exit};

pub(crate) fn record(globals: &Globals, args: RecordArgs) -> anyhow::Result<Exit> {
    let mode = match args.mode {
        Some(mode) => mode,
        None if in_ci() => anyhow::bail!(
            "vcr record: CI is set, so recording needs an explicit --mode \
             (once, new-episodes, all or none); in CI you usually want `vcr replay`"
        ),
        None => RecordMode::NewEpisodes,
    };
    let mode = match mode {
        RecordMode::Once => Mode::Once,
        RecordMode::NewEpisodes => Mode::NewEpisodes,
        RecordMode::All => Mode::All,
        RecordMode::None => Mode::None,
    };
    let settings = proxy_settings(globals, &args.proxy, &args.upstreams)?;
    let config = settings.proxy(ProxyRun {
        mode,
        cassette: &args.proxy.cassette,
        allow_repeats: args.allow_repeats,
        upstream_timeout: args.upstream_timeout.as_deref(),
        traces: !args.proxy.no_traces,
        pending: args.pending,
    })?;
    run(globals, &settings, config, &args.proxy, "record")
}

pub(crate) fn replay(globals: &Globals, args: ReplayArgs) -> anyhow::Result<Exit> {
    let settings = proxy_settings(globals, &args.proxy, &[])?;
    let config = settings.proxy(ProxyRun {
        mode: Mode::None,
        cassette: &args.proxy.cassette,
        allow_repeats: args.allow_repeats,
        upstream_timeout: None,
        traces: !args.proxy.no_traces,
        pending: false,
    })?;
    run(globals, &settings, config, &args.proxy, "replay")
}

/// Replay serves for throughput; every mode that forwards, for latency (see [`super::Threads`]).
fn threads(mode: Mode) -> super::Threads {
    match mode {
        Mode::None => super::Threads::Workers,
        Mode::Once | Mode::NewEpisodes | Mode::All => super::Threads::One,
    }
}

/// `CI` set to anything but empty, `0` or `false`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

fn proxy_settings(
    globals: &Globals,
    args: &ProxyArgs,
    upstreams: &[String],
) -> anyhow::Result<Settings> {
    globals.settings(Overrides {
        cassettes: args.cassettes.as_deref(),
        upstreams,
        match_fields: &args.match_fields,
        policies: args.policies.as_deref(),
        otlp: Some(super::otlp_flags(&args.otlp)),
        ..Overrides::default()
    })
}

fn run(
    globals: &Globals,
    settings: &Settings,
    config: crate::proxy::ProxyConfig,
    args: &ProxyArgs,
    verb: &str,
) -> anyhow::Result<Exit> {
    let printer = &globals.printer;
    let json_log = globals.log_format == LogFormat::Json;
    let mode = config.mode;
    let pending = config.pending;
    if let Some(enforcer) = &config.policies {
        if enforcer.enforcement() == crate::policy::enforce::Enforcement::Disabled {
            let count = enforcer.set().policies().len();
            let warning = format!(
                "{} is set: {count} polic{} evaluated and recorded, but nothing is blocked or \
                 rewritten",
                crate::settings::DISABLE_POLICY_ENFORCEMENT,
                if count == 1 { "y is" } else { "ies are" }
            );
            match json_log {
                true => tracing::warn!("{warning}"),
                false => writeln!(printer.important(), "traceforge: warning: {warning}")?,
            }
        }
    }
    let runtime = super::runtime(threads(mode))?;
    let (summary, child_exit, flush_errors, traces, otlp) = runtime.block_on(async {
        let proxy = Proxy::new(config)?;
        if mode == Mode::None {
            let preloader = proxy.clone();
            tokio::task::spawn_blocking(move || preloader.preload())
                .await
                .context("loading cassettes")??;
        }
        let listener = server::bind(&args.listen).await?;
        let addr = listener.local_addr()?;
        let stop = super::StopSignal::install();
        let who = format!("traceforge vcr {verb}");
        let serving = super::Serving::start(printer, &who, &args.serve, proxy.lifecycle()).await?;
        server::announce(args.ready_file.as_deref(), addr)?;
        let env = child_env(&format!("http://{addr}"), mode == Mode::None);

        let handler_proxy = proxy.clone();
        let server = server::Running::spawn_on(
            listener,
            move |request| handler_proxy.clone().handle(request),
            serving.options.clone(),
        )?;

        let stopped = stop.watch(proxy.lifecycle(), !args.command.is_empty());
        let child_exit = if args.command.is_empty() && json_log {
            tracing::info!(url = %format!("http://{addr}"), "listening");
            stopped.await;
            None
        } else if args.command.is_empty() {
            let mut status = printer.stderr();
            writeln!(status, "{who}: listening on http://{addr} (Ctrl-C to stop)")?;
            for (name, value) in &env {
                writeln!(status, "export {name}={value}")?;
            }
            stopped.await;
            None
        } else {
            Some(child::run(&args.command, &env).await?)
        };
        server.stop().await;
        let otlp = proxy.finish_otlp().await;
        let flusher = proxy.clone();
        let (flush_errors, traces) =
            tokio::task::spawn_blocking(move || (flusher.flush_all(), flusher.finish_traces()))
                .await
                .unwrap_or_default();
        serving.finish().await;
        anyhow::Ok((proxy.summary(), child_exit, flush_errors, traces, otlp))
    })?;

    if json_log {
        log_summary(&summary, traces.as_ref(), &flush_errors);
        if let Some(otlp) = &otlp {
            tracing::info!(
                exported = otlp.counts.exported,
                dropped = otlp.counts.dropped,
                not_delivered = otlp.counts.failed,
                "otlp"
            );
        }
    } else {
        // The log's last lines (a miss report, say) come out above the summary.
        crate::telemetry::logs::flush();
        let mut report = match summary.total().missed > 0 {
            true => printer.important(),
            false => printer.stderr(),
        };
        write!(report, "{}", render_summary(verb, &summary))?;
        if let Some(traces) = &traces {
            writeln!(report, "{}", render_traces(traces))?;
        }
        if let Some(otlp) = &otlp {
            writeln!(report, "{}", render_otlp(otlp))?;
        }
        for error in &flush_errors {
            writeln!(printer.important(), "error: {error}")?;
        }
    }
    if pending {
        let recorded: Vec<&str> = summary
            .cassettes
            .iter()
            .filter(|(_, counts)| counts.recorded > 0)
            .map(|(name, _)| name.as_str())
            .collect();
        super::review::settle_recorded(printer, settings, &recorded, json_log);
    }
    let missed = summary.total().missed > 0 && mode.is_strict();
    Ok(match child_exit {
        Some(exit) if exit.code() != 0 => Exit::Child(exit.code()),
        _ if !flush_errors.is_empty() => Exit::Usage,
        _ if missed => Exit::CheckFailed,
        _ => Exit::Success,
    })
}

/// The environment the wrapped command gets. In replay, SDKs that refuse to start without an
/// API key get a placeholder (never sent anywhere: nothing is forwarded).
fn child_env(base: &str, replay: bool) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        ("OPENAI_BASE_URL".to_string(), format!("{base}/openai/v1")),
        (
            "ANTHROPIC_BASE_URL".to_string(),
            format!("{base}/anthropic"),
        ),
        ("TRACEFORGE_PROXY_URL".to_string(), base.to_string()),
    ]);
    if replay {
        for key in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"] {
            if std::env::var_os(key).is_none() {
                env.insert(key.to_string(), "traceforge-replay".to_string());
            }
        }
    }
    env
}

/// The one-screen end-of-run summary, per cassette.
fn render_summary(verb: &str, summary: &Summary) -> String {
    use std::fmt::Write as _;
    let total = summary.total();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "traceforge vcr {verb}: {} cassette(s), {} recorded, {} replayed, {} missed",
        summary.cassettes.len(),
        total.recorded,
        total.replayed,
        total.missed
    );
    if !summary.cassettes.is_empty() {
        let width = summary
            .cassettes
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0)
            .max("cassette".len());
        let _ = writeln!(out, "  {:<width$}  recorded  replayed  missed", "cassette");
        for (name, c) in &summary.cassettes {
            let mut notes = Vec::new();
            if c.incomplete > 0 {
                notes.push(format!("{} incomplete stream(s)", c.incomplete));
            }
            if c.aborted > 0 {
                notes.push(format!("{} aborted by the client", c.aborted));
            }
            if c.upstream_errors > 0 {
                notes.push(format!("{} upstream error(s)", c.upstream_errors));
            }
            if c.blocked > 0 {
                notes.push(format!("{} blocked by policy", c.blocked));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join(", "))
            };
            let _ = writeln!(
                out,
                "  {name:<width$}  {:>8}  {:>8}  {:>6}{notes}",
                c.recorded, c.replayed, c.missed
            );
        }
    }
    for error in &summary.unreadable {
        let _ = writeln!(out, "  unreadable: {error}");
    }
    out
}

/// The end-of-run summary as log events, for `--log-format json`: one per cassette, then the
/// totals (a warning when anything missed), then each write that failed.
fn log_summary(summary: &Summary, traces: Option<&TracesReport>, flush_errors: &[String]) {
    for (name, c) in &summary.cassettes {
        tracing::info!(
            cassette = %name,
            recorded = c.recorded,
            replayed = c.replayed,
            missed = c.missed,
            incomplete = c.incomplete,
            aborted = c.aborted,
            upstream_errors = c.upstream_errors,
            blocked = c.blocked,
            "cassette summary"
        );
    }
    for error in &summary.unreadable {
        tracing::error!("unreadable: {error}");
    }
    let total = summary.total();
    let traces_written = traces.map(|t| t.report.written);
    let traces_dropped = traces.map(|t| t.report.dropped);
    if total.missed > 0 {
        tracing::warn!(
            cassettes = summary.cassettes.len(),
            recorded = total.recorded,
            replayed = total.replayed,
            missed = total.missed,
            traces_written,
            traces_dropped,
            "summary"
        );
    } else {
        tracing::info!(
            cassettes = summary.cassettes.len(),
            recorded = total.recorded,
            replayed = total.replayed,
            missed = total.missed,
            traces_written,
            traces_dropped,
            "summary"
        );
    }
    for error in flush_errors {
        tracing::error!("{error}");
    }
}

/// One line on what became of the run's spans.
fn render_otlp(otlp: &crate::telemetry::otlp::Report) -> String {
    let counts = otlp.counts;
    let mut line = format!("otlp: {} span(s) exported to {}", counts.exported, otlp.url);
    if counts.dropped > 0 || counts.failed > 0 {
        line.push_str(&format!(
            " ({} dropped with the queue full, {} not delivered)",
            counts.dropped, counts.failed
        ));
    }
    line
}

/// One line on what became of the run's traces.
fn render_traces(traces: &TracesReport) -> String {
    let report = &traces.report;
    let mut line = format!(
        "traces: {} written to {}",
        report.written,
        traces.db.display()
    );
    if report.dropped > 0 {
        line.push_str(&format!(
            ", {} skipped while the database was failing (see above)",
            report.dropped
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::runtime::RuntimeFlavor;

    #[test]
    fn recording_serves_on_one_thread_and_replay_on_workers() {
        for (mode, flavor) in [
            (Mode::Once, RuntimeFlavor::CurrentThread),
            (Mode::NewEpisodes, RuntimeFlavor::CurrentThread),
            (Mode::All, RuntimeFlavor::CurrentThread),
            (Mode::None, RuntimeFlavor::MultiThread),
        ] {
            let runtime = super::super::runtime(threads(mode)).unwrap();
            let built =
                runtime.block_on(async { tokio::runtime::Handle::current().runtime_flavor() });
            assert_eq!(built, flavor, "{mode:?}");
        }
    }
}
