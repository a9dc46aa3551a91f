//! `traceforge diff BASELINE CANDIDATE`: the diff rules from `traceforge.yaml` with the flags
//! applied on top, the comparison, and the report on stdout in the chosen format. Exit 0 when
//! nothing changed, 1 when anything changed, is missing or is new, 2 on an error.

use std::io::Write as _;

use anyhow::Context as _;

use super::Globals;
use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::render::{self, TextStyle};
use crate::settings::Overrides;
use crate::Exit;

pub(crate) fn run(globals: &Globals, args: DiffArgs) -> anyhow::Result<Exit> {
    let settings = globals.settings(Overrides {
        diff_text: args.text.as_deref(),
        diff_tolerances: &args.tolerances,
        diff_ignore: &args.ignore,
        ..Overrides::default()
    })?;
    let rules = settings.diff;
    let report = crate::diff::run(
        &args.baseline,
        &args.candidate,
        &rules,
        &settings.match_rules,
    )?;
    for (side, path) in [("baseline", &args.baseline), ("candidate", &args.candidate)] {
        let empty = report.cassettes.iter().all(|c| match side {
            "baseline" => c.baseline.is_none(),
            _ => c.candidate.is_none(),
        });
        if empty && path.is_dir() {
            writeln!(
                globals.printer.stderr(),
                "traceforge diff: warning: the {side} {} holds no cassettes (*.yaml)",
                path.display()
            )?;
        }
    }
    let output = match args.format {
        DiffFormat::Text => render::text(
            &report,
            TextStyle {
                color: globals.printer.color(),
                boxed: globals.printer.stdout_is_terminal(),
            },
        ),
        DiffFormat::Json => {
            let mut text = serde_json::to_string_pretty(&render::json(&report, &rules))?;
            text.push('\n');
            text
        }
        DiffFormat::Junit => render::junit(&report),
        DiffFormat::Markdown => render::markdown(&report, args.max_bytes),
    };
    let mut out = globals.printer.stdout();
    out.write_all(output.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the report")?;
    Ok(match report.totals().differs() {
        true => Exit::CheckFailed,
        false => Exit::Success,
    })
}
