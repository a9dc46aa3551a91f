//! `traceforge load SCENARIO.yaml`: resolve the `${VARS}` (process environment, then
//! `--target`/`--replay`, then `--env`), parse the scenario, start the in-process replay server
//! when asked, run the test with a progress line per scenario, then judge thresholds and the
//! baseline, print the summary, write the exports, and pick the exit code: 0 passed, 99 a
//! threshold or the baseline failed, 2 a bad scenario or flag, 130 interrupted.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;

use super::Globals;
use crate::cli::{LoadArgs, LoadLatency};
use crate::load::baseline::{self, Baseline};
use crate::load::progress::Progress;
use crate::load::report::{Environment, Report, ScenarioResult};
use crate::load::run::{Engine, Out};
use crate::load::scenario::{self, CassetteTarget, ParseOptions};
use crate::load::summary;
use crate::proxy::{Mode, Proxy};
use crate::server::{self, Running};
use crate::settings::ProxyRun;
use crate::tls;
use crate::Exit;

pub(crate) fn run(globals: &Globals, args: LoadArgs) -> anyhow::Result<Exit> {
    let printer = &globals.printer;
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

    let runtime = super::runtime()?;
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
        let path = args.scenario.clone();
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
    let scenario_file = args.scenario.display().to_string();
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
    let environment = Environment::current(&file_name(&args.scenario), target);
    if let (Some(saved), Some(path)) = (&saved, &args.baseline) {
        report.baseline = Some(saved.compare(path, &report, &environment, max_regression));
    }

    let table = *printer;
    let text = summary::text(&report, &move |header: &[&str], rows| {
        table.table(header, rows)
    });
    if report.passed() {
        printer.summary().write_all(text.as_bytes())?;
    } else {
        printer.stdout().write_all(text.as_bytes())?;
    }
    if let Some(path) = &args.summary_export {
        let mut text = serde_json::to_string_pretty(&summary::json(&report))?;
        text.push('\n');
        crate::cassette::files::write_atomically(path, text.as_bytes())
            .with_context(|| format!("--summary-export {}", path.display()))?;
    }
    if let Some(path) = &args.save_baseline {
        if report.interrupted || report.aborted.is_some() {
            writeln!(
                printer.important(),
                "traceforge load: not saving the baseline {}: the run did not finish",
                path.display()
            )?;
        } else {
            Baseline::from_report(&report, environment).save(path)?;
        }
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
