//! `traceforge completions SHELL`: the completion script on stdout.

use crate::cli::CompletionsArgs;
use crate::output::Printer;
use crate::Exit;

pub(crate) fn run(printer: &Printer, args: CompletionsArgs) -> anyhow::Result<Exit> {
    let script = crate::generated::completion(args.shell);
    use std::io::Write as _;
    printer.stdout().write_all(script.as_bytes())?;
    Ok(Exit::Success)
}
