//! `vcr import --from vcrpy FILE…`: each file becomes the cassette named after its stem.

use std::io::Write as _;

use anyhow::Context as _;

use super::Globals;
use crate::cassette::{files, CassetteName};
use crate::cli::{ImportArgs, ImportFormat};
use crate::import::vcrpy;
use crate::Exit;

pub(crate) fn run(globals: &Globals, args: ImportArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings_with_cassettes(args.cassettes.as_deref())?;
    let redactor = settings.redactor()?;
    if args.cassette.is_some() && args.files.len() > 1 {
        anyhow::bail!(
            "--cassette names one cassette, but {} files were given",
            args.files.len()
        );
    }
    // Check every name and target before writing anything, so a bad argument writes nothing.
    let mut plan = Vec::new();
    for file in &args.files {
        let name = match &args.cassette {
            Some(name) => name.clone(),
            None => file
                .file_stem()
                .and_then(|s| s.to_str())
                .with_context(|| {
                    format!("{}: cannot name a cassette after this file", file.display())
                })?
                .to_string(),
        };
        let name = CassetteName::parse(&name).map_err(|e| match &args.cassette {
            Some(_) => anyhow::anyhow!("--cassette: {e}"),
            None => anyhow::anyhow!("{}: {e} (pass --cassette NAME)", file.display()),
        })?;
        let target = name.path_in(&settings.cassettes);
        if target.exists() && !args.force {
            anyhow::bail!(
                "{}: cassette already exists (pass --force to overwrite)",
                target.display()
            );
        }
        plan.push((file, name, target));
    }
    let mut converted = Vec::new();
    for (file, name, target) in &plan {
        let cassette = match args.from {
            ImportFormat::Vcrpy => vcrpy::import_file(file, name.as_str(), &redactor)?,
        };
        converted.push((cassette, target, file));
    }
    for (cassette, target, file) in converted {
        files::save(target, &cassette)?;
        let incomplete = cassette
            .interactions
            .iter()
            .filter(|i| i.response.incomplete)
            .count();
        let mut line = format!(
            "imported {} → {} ({} interaction(s)",
            file.display(),
            target.display(),
            cassette.interactions.len()
        );
        if incomplete > 0 {
            line.push_str(&format!(", {incomplete} incomplete stream(s)"));
        }
        writeln!(globals.printer.stderr(), "{line})")?;
    }
    Ok(Exit::Success)
}
