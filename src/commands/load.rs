//! `traceforge load SCENARIO.yaml`: resolve the `${VARS}` (process environment, then
//! `--target`/`--replay`, then `--env`), parse the scenario, start the in-process replay server
//! when asked, run the test with a progress line per scenario, then judge thresholds and the
//! baseline, print the summary (text or Markdown), record the run in the trace database's
//! history, write the exports (JSON, baseline, Markdown, the HTML report), and pick the exit
//! code: 0 passed, 99 a threshold or the baseline failed, 2 a bad scenario or flag (or an
//! output that could not be written, after every other output was), 130 interrupted. Also
//! `load history`: the recorded runs as trend tables or JSON.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;

use super::Globals;
use crate::cli::{LoadArgs, LoadCommand, LoadFormat, LoadHistoryArgs, LoadLatency, OutputFormat};
use crate::load::baseline::{self, Baseline};
use crate::load::history;
use crate::load::progress::Progress;
use crate::load::report::{Environment, Report, ScenarioResult};
use crate::load::run::{Engine, Out};
use crate::load::scenario::{self, CassetteTarget, ParseOptions};
use crate::load::summary;
use crate::proxy::{Mode, Proxy};
use crate::server::{self, Running};
use crate::settings::{Overrides, ProxyRun};
use crate::store::load_runs::LoadRun;
use crate::store::TraceDb;
use crate::tls;
use crate::Exit;

/// How many of a scenario's recorded runs the report's and the Markdown's trend show.
const TREND_RUNS: usize = 20;

pub(crate) fn run(globals: &Globals, args: LoadArgs) -> anyhow::Result<Exit> {
    if let Some(LoadCommand::History(history)) = args.command {
        return show_history(globals, &history);
    }
    let Some(scenario_path) = args.scenario.clone() else {
        anyhow::bail!("traceforge load needs a SCENARIO.yaml (or `load history`)");
    };
    let printer = &globals.printer;
    let started_at = crate::cassette::now();
    let max_regression = baseline::parse_max_regression(&args.max_regression)
        .map_err(|e| anyhow::anyhow!("--max-regression: {e}"))?;
    let saved = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let mut flags = Vec::new();
    for pair in &args.env {
        let (name, value) = pair
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| anyhow::anyhow!("--env {pair}: expected NAME=VALUE"))?;
        flags.push((name.to_string(), value.to_string()));
    }
    if let Some(target) = &args.target {
        let parsed = url::Url::parse(target)
            .map_err(|e| anyhow::anyhow!("--target {target}: not a URL: {e}"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https"),
            "--target {target}: not an http:// or https:// URL"
        );
    }
    let replay_settings = match &args.replay {
        Some(dir) => {
            anyhow::ensure!(
                dir.is_dir(),
                "--replay {}: not a directory of cassettes",
                dir.display()
            );
            Some(globals.settings_with_cassettes(Some(dir))?)
        }
        None => None,
    };

    let runtime = super::runtime(super::Threads::Workers)?;
    let workers = super::load_workers()?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let (plan, outcome, out_result) = runtime.block_on(async {
        let mut vars: BTreeMap<String, String> = std::env::vars().collect();
        let mut cassette_target = None;
        let mut replay = None;
        if let Some(settings) = &replay_settings {
            let listener = server::bind("127.0.0.1:0").await?;
            let base = format!("http://{}", listener.local_addr()?);
            vars.insert("TARGET".into(), format!("{base}/openai"));
            vars.insert("OPENAI_BASE_URL".into(), format!("{base}/openai/v1"));
            vars.insert("ANTHROPIC_BASE_URL".into(), format!("{base}/anthropic"));
            vars.insert("TRACEFORGE_PROXY_URL".into(), base.clone());
            cassette_target = Some(CassetteTarget::Replay(base));
            replay = Some((listener, settings.clone()));
        } else if let Some(target) = &args.target {
            let target = target.trim_end_matches('/').to_string();
            vars.insert("TARGET".into(), target.clone());
            cassette_target = Some(CassetteTarget::Upstream(target));
        }
        vars.extend(flags);
        let options = ParseOptions {
            vars,
            cassette_target,
            cert_file: tls::cert_file(),
        };
        let path = scenario_path.clone();
        let plan = tokio::task::spawn_blocking(move || scenario::load(&path, &options))
            .await
            .context("reading the scenario")??;

        let replay = match replay {
            Some((listener, settings)) => {
                let proxy = Proxy::new(settings.proxy(ProxyRun {
                    mode: Mode::None,
                    cassette: "default",
                    // A load test repeats every request.
                    allow_repeats: true,
                    upstream_timeout: None,
                    traces: false,
                    pending: false,
                })?)?;
                let preloader = proxy.clone();
                tokio::task::spawn_blocking(move || preloader.preload())
                    .await
                    .context("loading cassettes")??;
                proxy.replay_with_recorded_latency(args.latency == LoadLatency::Recorded);
                let handler = proxy.clone();
                Some(Running::spawn(listener, move |request| {
                    handler.clone().handle(request)
                })?)
            }
            None => None,
        };

        let (out, writer) = match &args.out {
            Some(path) => {
                let (out, writer) = Out::create(path, &plan.thresholds)?;
                (Some(out), Some(writer))
            }
            None => (None, None),
        };
        let engine = Engine::new(plan.clone(), out, workers.handles());
        let progress = printer
            .shows_progress()
            .then(|| Progress::start(engine.scenarios()));
        let stopper = engine.stopper();
        let flag = interrupted.clone();
        let mut stop = super::StopSignal::install();
        let signal = tokio::spawn(async move {
            stop.received().await;
            flag.store(true, Ordering::Relaxed);
            stopper.stop();
        });
        let outcome = engine.run().await;
        signal.abort();
        if let Some(progress) = progress {
            progress.finish();
        }
        if let Some(replay) = replay {
            replay.stop().await;
        }
        let out_result = match writer {
            Some(writer) => tokio::task::spawn_blocking(move || writer.finish())
                .await
                .unwrap_or(Ok(())),
            None => Ok(()),
        };
        anyhow::Ok((plan, outcome, out_result))
    })?;
    drop(workers);
    drop(runtime);

    let scenarios = outcome
        .scenarios
        .iter()
        .zip(&plan.scenarios)
        .map(|(state, scenario)| ScenarioResult {
            name: state.name.clone(),
            executor: state.executor.to_string(),
            description: state.description.clone(),
            iterations: state.iterations.load(Ordering::Relaxed),
            dropped: state.dropped.load(Ordering::Relaxed),
            max_vus: scenario.executor.max_vus(),
        })
        .collect();
    let scenario_file = scenario_path.display().to_string();
    let mut report = Report::new(
        &plan,
        scenario_file.clone(),
        outcome.series,
        outcome.elapsed,
        scenarios,
    );
    report.aborted = outcome.aborted;
    report.interrupted = interrupted.load(Ordering::Relaxed);
    let target = match (&args.replay, &args.target) {
        (Some(dir), _) => Some(format!("replay {}", dir.display())),
        (None, Some(url)) => Some(url.clone()),
        (None, None) => None,
    };
    report.target = target.clone();
    let scenario_name = file_name(&scenario_path);
    let environment = Environment::current(&scenario_name, target);
    if let (Some(saved), Some(path)) = (&saved, &args.baseline) {
        report.baseline = Some(saved.compare(path, &report, &environment, max_regression));
    }

    // The history first: the Markdown and the report show this run's place in it.
    let runs = record_history(globals, &args, &report, &scenario_name, started_at);
    let markdown = (args.format == LoadFormat::Markdown || args.summary_markdown.is_some())
        .then(|| crate::load::markdown::markdown(&report, &runs, args.max_bytes));

    let summary_text = match (&args.format, &markdown) {
        (LoadFormat::Markdown, Some(markdown)) => markdown.clone(),
        _ => {
            let table = *printer;
            summary::text(&report, &move |header: &[&str], rows| {
                table.table(header, rows)
            })
        }
    };
    if report.passed() && args.format == LoadFormat::Text {
        printer.summary().write_all(summary_text.as_bytes())?;
    } else {
        printer.stdout().write_all(summary_text.as_bytes())?;
    }
    // Every output is attempted; the first that failed is the error, after the others.
    let mut failures: Vec<anyhow::Error> = Vec::new();
    if let Some(path) = &args.summary_export {
        let written = serde_json::to_string_pretty(&summary::json(&report))
            .map_err(anyhow::Error::from)
            .and_then(|mut text| {
                text.push('\n');
                Ok(crate::cassette::files::write_atomically(
                    path,
                    text.as_bytes(),
                )?)
            })
            .with_context(|| format!("--summary-export {}", path.display()));
        failures.extend(written.err());
    }
    if let Some(path) = &args.save_baseline {
        if report.interrupted || report.aborted.is_some() {
            writeln!(
                printer.important(),
                "traceforge load: not saving the baseline {}: the run did not finish",
                path.display()
            )?;
        } else if let Err(e) = Baseline::from_report(&report, environment).save(path) {
            failures.push(e.into());
        }
    }
    if let (Some(path), Some(markdown)) = (&args.summary_markdown, &markdown) {
        let written = append(path, markdown.as_bytes())
            .with_context(|| format!("--summary-markdown {}", path.display()));
        failures.extend(written.err());
    }
    if let Some(path) = &args.report {
        let page = crate::load::html::html(&report, &runs);
        let written = crate::cassette::files::write_atomically(path, page.as_bytes())
            .with_context(|| format!("--report {}", path.display()));
        failures.extend(written.err());
    }
    if let Some(first) = failures.into_iter().next() {
        out_result?;
        return Err(first);
    }
    out_result?;
    Ok(if report.interrupted {
        Exit::Interrupted
    } else if report.passed() {
        Exit::Success
    } else {
        Exit::ThresholdFailed
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Records the finished run in the trace database and returns the scenario's recent runs,
/// this one last. Best effort: a database that cannot be written costs a warning, never the
/// run's verdict. An interrupted run is not recorded (its numbers cover part of a test).
fn record_history(
    globals: &Globals,
    args: &LoadArgs,
    report: &Report,
    scenario: &str,
    started_at: String,
) -> Vec<LoadRun> {
    let this = history::summary_of(report, scenario, git_commit(), started_at);
    let db_path = match globals.settings(Overrides::default()) {
        Ok(settings) => settings.db,
        Err(error) => {
            warn(globals, "not recorded in the load history", &error);
            return vec![this];
        }
    };
    let stored = || -> anyhow::Result<Vec<LoadRun>> {
        if args.no_history || report.interrupted {
            if !db_path.exists() {
                return Ok(Vec::new());
            }
            let mut runs =
                TraceDb::open_existing(&db_path)?.load_runs(Some(scenario), TREND_RUNS)?;
            if runs.len() >= TREND_RUNS {
                runs.remove(0);
            }
            runs.push(this.clone());
            return Ok(runs);
        }
        let db = TraceDb::open(&db_path)?;
        db.add_load_run(&this)?;
        Ok(db.load_runs(Some(scenario), TREND_RUNS)?)
    };
    match stored() {
        Ok(runs) if !runs.is_empty() => runs,
        Ok(_) => vec![this],
        Err(error) => {
            warn(globals, "not recorded in the load history", &error);
            vec![this]
        }
    }
}

fn warn(globals: &Globals, what: &str, error: &anyhow::Error) {
    let _ = writeln!(
        globals.printer.important(),
        "traceforge load: warning: {what}: {}",
        crate::error_chain(error.as_ref())
    );
}

/// `git rev-parse HEAD` here, when this is a git work tree with a commit (and git is
/// installed); `None` otherwise, silently.
fn git_commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(commit)
}

/// Appends `bytes` to `path`, creating it: a step summary file collects every step's output.
fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

/// `traceforge load history [SCENARIO]`.
fn show_history(globals: &Globals, args: &LoadHistoryArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings(Overrides::default())?;
    let runs = if settings.db.exists() {
        TraceDb::open_existing(&settings.db)?.load_runs(args.scenario.as_deref(), args.last)?
    } else {
        Vec::new()
    };
    let printer = &globals.printer;
    match args.format {
        OutputFormat::Json => printer.json(&history::json(&runs))?,
        OutputFormat::Text => {
            if runs.is_empty() {
                writeln!(
                    printer.stderr(),
                    "no load runs recorded{} in {} (every `traceforge load` run adds one)",
                    args.scenario
                        .as_deref()
                        .map(|s| format!(" for {s}"))
                        .unwrap_or_default(),
                    settings.db.display()
                )?;
                return Ok(Exit::Success);
            }
            let rows = runs
                .iter()
                .map(|r| {
                    vec![
                        r.started_at.clone(),
                        r.scenario.clone(),
                        r.git_commit
                            .as_deref()
                            .map(|c| c.chars().take(10).collect())
                            .unwrap_or_else(|| "-".into()),
                        r.requests.to_string(),
                        history::TREND_METRICS[0].unit.text(r.rps),
                        crate::output::cell(
                            r.p95_ms.map(|v| history::TREND_METRICS[3].unit.text(v)),
                        ),
                        if r.passed { "✓" } else { "✗" }.to_string(),
                    ]
                })
                .collect();
            let mut out = printer.stdout();
            out.write_all(
                printer
                    .table(
                        &[
                            "started", "scenario", "commit", "requests", "req/s", "p95", "passed",
                        ],
                        rows,
                    )
                    .as_bytes(),
            )?;
            out.write_all(b"\n")?;
            out.write_all(
                printer
                    .table(&history::TABLE_HEADER, history::table_rows(&runs))
                    .as_bytes(),
            )?;
            out.flush()?;
        }
    }
    Ok(Exit::Success)
}
