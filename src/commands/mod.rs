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
        log_format: cli.log_format,
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
        Command::MockLlm(args) => mock_llm::run(&globals, args),
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
    /// With `json`, a server's status lines (listening, the summary) are log events too, so
    /// its stderr is JSON lines only.
    pub log_format: crate::cli::LogFormat,
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

/// How many threads a command's runtime runs its tasks on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// A worker per CPU, tasks stolen between them: throughput (`vcr replay`, mock-llm, load).
    Workers,
    /// The calling thread only: latency. A request `vcr record` forwards passes through three
    /// tasks (the client's connection, the upstream's, the relay between them), and on workers
    /// each hand-over can wake another thread and wait for a core: on the 2-core benchmark
    /// machine that was half the time a streamed answer's first byte spent in the proxy
    /// (`benches/replay.sh record`, DESIGN.md §10). Blocking work still goes to
    /// `spawn_blocking` and the writer threads.
    One,
}

/// The one place a tokio runtime is built. Every command that builds one serves or opens
/// connections, so this is also where the open-files limit is raised.
pub(crate) fn runtime(threads: Threads) -> anyhow::Result<tokio::runtime::Runtime> {
    crate::server::raise_open_files_limit();
    let mut builder = match threads {
        Threads::Workers => tokio::runtime::Builder::new_multi_thread(),
        Threads::One => tokio::runtime::Builder::new_current_thread(),
    };
    Ok(builder.enable_all().build()?)
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

    /// Resolves at the next Ctrl-C or SIGTERM, with its number.
    pub(crate) async fn received(&mut self) -> i32 {
        async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => libc::SIGINT,
            () = next(&mut self.terminate) => libc::SIGTERM,
        }
    }

    /// Hands the signals to a task for the rest of the run: the first turns `readyz` to 503
    /// (and resolves the returned future, the cue to start draining when no command is
    /// wrapped); a signal that arrives once the drain has begun ends the process at once. A
    /// wrapped command decides for itself what its signals mean, so while it runs they only
    /// mark the server draining; the drain begins when it exits.
    pub(crate) fn watch(
        mut self,
        lifecycle: std::sync::Arc<crate::server::Lifecycle>,
        wrapped: bool,
    ) -> impl std::future::Future<Output = ()> {
        let (first, mut first_seen) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let signal = self.received().await;
                let draining = match wrapped {
                    true => lifecycle.is_stopping(),
                    false => !lifecycle.is_ready(),
                };
                lifecycle.begin_drain();
                first.send_replace(true);
                if draining {
                    exit_now(signal);
                }
            }
        });
        async move {
            let _ = first_seen.wait_for(|seen| *seen).await;
        }
    }
}

/// Ends the process now with 128 + `signal`, as a shell reports a death by signal: the user
/// asked twice. Nothing is lost or left half-written: every interaction whose client got its
/// response is in its cassette's journal, which the next run merges, and cassettes are only
/// ever replaced whole by a rename. The one `process::exit` below `main`, because the stop
/// it cuts short is still running on the main task.
fn exit_now(signal: i32) -> ! {
    tracing::warn!(
        "{} again while draining; exiting now (completed interactions are in the cassette \
         journals)",
        if signal == libc::SIGINT {
            "interrupted"
        } else {
            "terminated"
        }
    );
    // `process::exit` runs no destructors: the log's writer thread must empty its queue first.
    crate::telemetry::logs::flush();
    std::process::exit(128 + signal)
}

/// What every serving command (`vcr record`, `vcr replay`, `mock-llm`) shares: the drain
/// timeout and the lifecycle its servers see, and the `--metrics-listen` server.
pub(crate) struct Serving {
    pub options: crate::server::Options,
    metrics: Option<crate::server::Running>,
}

impl Serving {
    /// Parses `--drain-timeout`, and binds and announces `--metrics-listen` (on stderr, and in
    /// `--metrics-ready-file`). Call after [`StopSignal::install`] and before the main ready
    /// file is written, so a script that waits for that file finds this one too.
    pub(crate) async fn start(
        printer: &crate::output::Printer,
        who: &str,
        args: &crate::cli::ServeArgs,
        lifecycle: std::sync::Arc<crate::server::Lifecycle>,
    ) -> anyhow::Result<Serving> {
        use std::io::Write as _;
        let drain_timeout = crate::duration::parse(&args.drain_timeout)
            .map_err(|e| anyhow::anyhow!("--drain-timeout: {e}"))?;
        let options = crate::server::Options {
            drain_timeout,
            lifecycle,
            ..crate::server::Options::default()
        };
        let metrics = match &args.metrics_listen {
            None => None,
            Some(addr) => {
                let listener = crate::server::bind_flag("--metrics-listen", addr).await?;
                let bound = listener.local_addr()?;
                // Its own stop, after the main server's drain and the flush: it answers
                // readyz (503) and metrics throughout.
                let running = crate::server::Running::spawn_on(
                    listener,
                    crate::server::ops_only,
                    options.clone(),
                )?;
                crate::server::announce_flag(
                    "--metrics-ready-file",
                    args.metrics_ready_file.as_deref(),
                    bound,
                )?;
                writeln!(
                    printer.stderr(),
                    "{who}: metrics on http://{bound}{}metrics",
                    crate::server::OPS_PREFIX
                )?;
                Some(running)
            }
        };
        Ok(Serving { options, metrics })
    }

    /// Stops the metrics server (the last thing a serving command does).
    pub(crate) async fn finish(self) {
        if let Some(metrics) = self.metrics {
            metrics.stop().await;
        }
    }
}
