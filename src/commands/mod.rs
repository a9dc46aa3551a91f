//! One file per subcommand: glue from parsed flags and [`Settings`](crate::settings::Settings)
//! to the modules that do the work. The tokio runtime is built here and only here.

mod completions;
mod db;
mod demo;
mod diff;
mod import;
mod inspect;
mod load;
mod mock_llm;
mod pii;
mod policy;
mod review;
mod traces;
mod vcr;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, VcrCommand};
use crate::settings::{Overrides, Settings};
use crate::Exit;

pub(crate) fn run(cli: Cli) -> anyhow::Result<Exit> {
    let globals = Globals {
        config: cli.config.clone(),
        db: cli.db.clone(),
        pii_key_file: cli.pii_key_file.clone(),
        printer: crate::output::Printer::new(cli.quiet, cli.color),
    };
    match cli.command {
        Command::Vcr(VcrCommand::Record(args)) => vcr::record(&globals, args),
        Command::Vcr(VcrCommand::Replay(args)) => vcr::replay(&globals, args),
        Command::Vcr(VcrCommand::Import(args)) => import::run(&globals, args),
        Command::Vcr(VcrCommand::List(args)) => inspect::list(&globals, args),
        Command::Vcr(VcrCommand::Show(args)) => inspect::show(&globals, args),
        Command::Vcr(VcrCommand::Verify(args)) => inspect::verify(&globals, args),
        Command::Vcr(VcrCommand::RebuildFromCassettes(args)) => db::rebuild(&globals, args),
        Command::Traces(command) => traces::run(&globals, command),
        Command::Sessions(command) => traces::sessions(&globals, command),
        Command::Db(command) => db::run(&globals, command),
        Command::MockLlm(args) => mock_llm::run(&globals.printer, args),
        Command::Demo(args) => demo::run(&globals, args),
        Command::Diff(args) => diff::run(&globals, args),
        Command::Review(args) => review::review(&globals, args),
        Command::Accept(args) => review::accept(&globals, args),
        Command::Reject(args) => review::reject(&globals, args),
        Command::Pending(args) => review::pending(&globals, args),
        Command::Load(args) => load::run(&globals, args),
        Command::Pii(command) => pii::run(&globals, command),
        Command::Policy(command) => policy::run(&globals, command),
        Command::Completions(args) => completions::run(&globals.printer, args),
    }
}

/// Flags that apply to every command.
pub(crate) struct Globals {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub pii_key_file: Option<PathBuf>,
    pub printer: crate::output::Printer,
}

impl Globals {
    /// Settings with this run's global flags (`--config`, `--db`) applied.
    pub fn settings(&self, overrides: Overrides<'_>) -> anyhow::Result<Settings> {
        Ok(Settings::resolve(Overrides {
            config: self.config.as_deref(),
            db: self.db.as_deref(),
            pii_key_file: self.pii_key_file.as_deref(),
            ..overrides
        })?)
    }

    /// Settings for commands whose only own flag is `--cassettes`.
    pub fn settings_with_cassettes(&self, cassettes: Option<&Path>) -> anyhow::Result<Settings> {
        self.settings(Overrides {
            cassettes,
            ..Overrides::default()
        })
    }
}

/// `--otlp-endpoint` and `--otlp-content` as settings take them.
pub(crate) fn otlp_flags(args: &crate::cli::OtlpArgs) -> crate::settings::OtlpFlags<'_> {
    crate::settings::OtlpFlags {
        endpoint: args.otlp_endpoint.as_deref(),
        content: args.otlp_content,
    }
}

/// The one place a tokio runtime is built. Every command that builds one serves or opens
/// connections, so this is also where the open-files limit is raised.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    crate::server::raise_open_files_limit();
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The load generator's workers: one single-threaded runtime per CPU, each on its own thread,
/// so a virtual user and its connection never hop between threads (as `oha` does). They run
/// beside the main [`runtime`], which keeps the scheduling, the progress display and any
/// in-process server; dropping the workers stops them.
pub(crate) fn load_workers() -> anyhow::Result<crate::load::run::Workers> {
    let count = std::thread::available_parallelism().map_or(1, usize::from);
    let mut workers = crate::load::run::Workers::default();
    for i in 0..count {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        workers.add(runtime, &format!("traceforge-load-{i}"))?;
    }
    Ok(workers)
}

/// Ctrl-C and SIGTERM, caught from the moment this is built. Build it before announcing
/// readiness (the ready file, the "listening" line): until then the signals keep their default
/// action, and a script that stops the server as soon as it is ready would kill it without its
/// cassettes being flushed.
pub(crate) struct StopSignal {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignal {
    /// Starts catching the signals; must run inside the tokio runtime.
    pub(crate) fn install() -> StopSignal {
        use tokio::signal::unix::{signal, SignalKind};
        StopSignal {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves at the first Ctrl-C or SIGTERM.
    pub(crate) async fn received(mut self) {
        async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
        }
    }
}
