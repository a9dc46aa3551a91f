//! One file per subcommand: glue from parsed flags and [`Settings`](crate::settings::Settings)
//! to the modules that do the work. The tokio runtime is built here and only here.

mod completions;
mod demo;
mod import;
mod inspect;
mod mock_llm;
mod vcr;

use crate::cli::{Cli, Command, VcrCommand};
use crate::Exit;

pub(crate) fn run(cli: Cli) -> anyhow::Result<Exit> {
    let globals = Globals {
        config: cli.config.clone(),
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Vcr(VcrCommand::Record(args)) => vcr::record(&globals, args),
        Command::Vcr(VcrCommand::Replay(args)) => vcr::replay(&globals, args),
        Command::Vcr(VcrCommand::Import(args)) => import::run(&globals, args),
        Command::Vcr(VcrCommand::List(args)) => inspect::list(&globals, args),
        Command::Vcr(VcrCommand::Show(args)) => inspect::show(&globals, args),
        Command::Vcr(VcrCommand::Verify(args)) => inspect::verify(&globals, args),
        Command::MockLlm(args) => mock_llm::run(args),
        Command::Demo(args) => demo::run(&globals, args),
        Command::Completions(args) => completions::run(args),
    }
}

/// Flags that apply to every command.
pub(crate) struct Globals {
    pub config: Option<std::path::PathBuf>,
    pub quiet: bool,
}

/// The one place a tokio runtime is built.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Resolves when the process receives Ctrl-C or SIGTERM.
pub(crate) async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let terminated = async {
        match &mut terminate {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}
