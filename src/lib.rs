//! traceforge: record, replay, diff and load-test LLM API traffic through a local proxy.
//!
//! Dependencies point one way: `commands` → `proxy`/`mock`/`load`/`diff`/`import` →
//! `cassette`/`provider` → `sensitive` (which depends on nothing of ours). `settings` and
//! `output` serve `commands`; `yaml` is a leaf. `telemetry` (the log, one event per request) is
//! used by `server` and `proxy` and knows nothing of either. Only `proxy`, `mock`, `load` and
//! `server` are async; the runtime is built in one place (`commands::runtime`).

pub mod cassette;
pub mod cli;
mod commands;
pub mod diff;
pub mod duration;
pub mod exit;
pub mod generated;
pub mod import;
pub mod load;
pub mod markup;
pub mod mock;
pub mod output;
mod per_thread;
pub mod policy;
pub mod priority;
pub mod provider;
pub mod proxy;
pub mod sensitive;
pub mod server;
pub mod settings;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod test_rng;
pub mod tls;
pub mod yaml;

use std::io::Write as _;

use clap::Parser as _;

pub use exit::Exit;

/// An error and its causes on one line, `: `-separated (hyper's and reqwest's errors keep the
/// useful part, such as "connection refused", in a cause).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Parses the command line, runs the command and renders any error: `error: …` then one
/// `Caused by:` line per cause. Returns the documented exit code.
pub fn main() -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Success
                }
                _ => Exit::Usage,
            }
            .into();
        }
    };
    let logs = telemetry::logs::LogConfig::resolve(
        cli.log_format,
        std::env::var_os(telemetry::logs::LOG_VARIABLE),
        cli.verbose,
        cli.quiet,
    )
    .and_then(|config| telemetry::logs::install(&config));
    let _logs = match logs {
        Ok(guard) => guard,
        Err(error) => {
            // Written, not `eprintln!`: a closed stderr must not turn the error into a panic.
            let _ = writeln!(std::io::stderr(), "error: {}", error_chain(&error));
            return Exit::Usage.into();
        }
    };
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(error) => {
            if output::is_broken_pipe(&error) {
                return Exit::Success.into();
            }
            telemetry::logs::flush();
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {error}");
            for cause in error.chain().skip(1) {
                let _ = writeln!(stderr, "Caused by: {cause}");
            }
            Exit::Usage.into()
        }
    }
}
