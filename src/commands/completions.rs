//! `traceforge completions SHELL`: the completion script on stdout.

use crate::cli::CompletionsArgs;
use crate::Exit;

pub(crate) fn run(args: CompletionsArgs) -> anyhow::Result<Exit> {
    let script = crate::generated::completion(args.shell);
    use std::io::Write as _;
    std::io::stdout().write_all(script.as_bytes())?;
    Ok(Exit::Success)
}
