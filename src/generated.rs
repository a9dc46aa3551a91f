//! Shell completions and man pages generated from the clap tree. Both are committed under
//! `completions/` and `man/`; a test regenerates them and fails when they drift (set
//! `TRACEFORGE_UPDATE_GENERATED=1` to rewrite them).

use clap::CommandFactory as _;

use crate::cli::Cli;

/// The shells completions are committed for.
pub const SHELLS: [clap_complete::Shell; 4] = [
    clap_complete::Shell::Bash,
    clap_complete::Shell::Zsh,
    clap_complete::Shell::Fish,
    clap_complete::Shell::Elvish,
];

/// The completion script for `shell`.
pub fn completion(shell: clap_complete::Shell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "traceforge", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The file name completions for `shell` are committed under.
pub fn completion_file(shell: clap_complete::Shell) -> String {
    match shell {
        clap_complete::Shell::Bash => "traceforge.bash".into(),
        clap_complete::Shell::Zsh => "_traceforge".into(),
        clap_complete::Shell::Fish => "traceforge.fish".into(),
        clap_complete::Shell::Elvish => "traceforge.elv".into(),
        other => format!("traceforge.{other}"),
    }
}

/// Every man page: `(file name, roff text)`, one per command and subcommand.
pub fn man_pages() -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut command = Cli::command();
    command.build();
    collect(&command, "traceforge", &mut pages);
    pages
}

fn collect(command: &clap::Command, name: &str, pages: &mut Vec<(String, String)>) {
    let mut out = Vec::new();
    let page = command.clone().name(name.to_string());
    if clap_mangen::Man::new(page).render(&mut out).is_ok() {
        pages.push((
            format!("{name}.1"),
            String::from_utf8_lossy(&out).into_owned(),
        ));
    }
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        collect(sub, &format!("{name}-{}", sub.get_name()), pages);
    }
}
