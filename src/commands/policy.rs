//! `traceforge policy check|list|test`: glue from settings to [`crate::policy`].

use std::io::Write as _;

use serde_json::json;

use super::inspect::targets;
use super::Globals;
use crate::cli::{FailOn, OutputFormat, PolicyCommand, PolicyFormat};
use crate::policy::{check, testing, Severity};
use crate::settings::{Overrides, DISABLE_POLICY_ENFORCEMENT};
use crate::Exit;

pub(crate) fn run(globals: &Globals, command: PolicyCommand) -> anyhow::Result<Exit> {
    match command {
        PolicyCommand::Check(args) => {
            let settings = globals.settings(Overrides {
                cassettes: args.cassettes.as_deref(),
                policies: args.policies.as_deref(),
                ..Overrides::default()
            })?;
            // An emergency at the proxy must not turn the gate green.
            if settings.policy_enforcement_disabled
                && std::env::var_os("CI").is_some()
                && !args.allow_disabled
            {
                anyhow::bail!(
                    "{DISABLE_POLICY_ENFORCEMENT} is set under CI: policy check refuses to pass \
                     a gate while enforcement is switched off (--allow-disabled to check anyway)"
                );
            }
            let policies = settings.policy_set()?;
            let cassettes = targets(&settings.cassettes, &args.names)?;
            let fail_on = match args.fail_on {
                FailOn::Low => Severity::Low,
                FailOn::Medium => Severity::Medium,
                FailOn::High => Severity::High,
                FailOn::Critical => Severity::Critical,
            };
            let report = check::check(&policies, &cassettes, fail_on);
            let mut out = globals.printer.stdout();
            match args.format {
                PolicyFormat::Text => write!(out, "{}", check::text(&report))?,
                PolicyFormat::Json => {
                    drop(out);
                    globals.printer.json(&check::json(&report))?;
                    out = globals.printer.stdout();
                }
                PolicyFormat::Junit => write!(out, "{}", check::junit(&report))?,
                PolicyFormat::Markdown => {
                    write!(out, "{}", check::markdown(&report, args.max_bytes))?
                }
            }
            drop(out);
            for error in &report.unreadable {
                writeln!(globals.printer.important(), "error: {error}")?;
            }
            writeln!(
                globals.printer.stderr(),
                "policy check: {}",
                check::headline(&report)
            )?;
            Ok(if !report.unreadable.is_empty() {
                Exit::Usage
            } else if report.failing() > 0 {
                Exit::CheckFailed
            } else {
                Exit::Success
            })
        }
        PolicyCommand::List(args) => {
            let settings = globals.settings(Overrides {
                policies: args.policies.as_deref(),
                ..Overrides::default()
            })?;
            let policies = settings.policy_set()?;
            let effective = policies.effective(args.org.as_deref(), args.service.as_deref());
            match args.format {
                OutputFormat::Json => {
                    let rules: Vec<serde_json::Value> = effective
                        .iter()
                        .map(|(p, r)| {
                            json!({
                                "policy": p.id, "version": p.version, "scope": p.scope.name(),
                                "priority": p.priority, "enforce_at_proxy": p.enforce_at_proxy,
                                "rule": r.id, "type": r.kind.name(), "action": r.action.name(),
                                "severity": r.severity.name(),
                                "applies_to": match (r.applies_to.request(), r.applies_to.response()) {
                                    (true, true) => "both",
                                    (true, false) => "request",
                                    _ => "response",
                                },
                                "file": p.file.display().to_string(),
                            })
                        })
                        .collect();
                    globals
                        .printer
                        .json(&json!({"version": 1, "rules": rules}))?;
                }
                OutputFormat::Text => {
                    let rows: Vec<Vec<String>> = effective
                        .iter()
                        .map(|(p, r)| {
                            vec![
                                p.priority.to_string(),
                                format!("{}/{}", p.id, r.id),
                                r.kind.name().to_string(),
                                r.action.name().to_string(),
                                r.severity.name().to_string(),
                                if p.enforce_at_proxy { "proxy" } else { "check" }.to_string(),
                                p.file.display().to_string(),
                            ]
                        })
                        .collect();
                    if rows.is_empty() {
                        writeln!(
                            globals.printer.stderr(),
                            "no policies apply (policy directory {})",
                            settings.policy_dir().display()
                        )?;
                    } else {
                        let table = globals.printer.table(
                            &[
                                "priority",
                                "policy/rule",
                                "type",
                                "action",
                                "severity",
                                "enforced",
                                "file",
                            ],
                            rows,
                        );
                        writeln!(globals.printer.stdout(), "{table}")?;
                    }
                }
            }
            Ok(Exit::Success)
        }
        PolicyCommand::Test(args) => {
            let settings = globals.settings(Overrides {
                policies: args.policies.as_deref(),
                ..Overrides::default()
            })?;
            let policies = settings.policy_set()?;
            let results = testing::run(&policies, &settings.policy_dir().join("tests"))?;
            let mut out = globals.printer.stdout();
            let mut failed = 0;
            for result in &results {
                if result.passed() {
                    writeln!(out, "PASS {} ({})", result.name, result.file.display())?;
                    continue;
                }
                failed += 1;
                writeln!(out, "FAIL {} ({})", result.name, result.file.display())?;
                for missing in &result.missing {
                    writeln!(out, "  expected, not made: {missing}")?;
                }
                for unexpected in &result.unexpected {
                    writeln!(out, "  made, not expected: {unexpected}")?;
                }
            }
            drop(out);
            writeln!(
                globals.printer.stderr(),
                "policy test: {} passed, {failed} failed",
                results.len() - failed
            )?;
            Ok(if failed > 0 {
                Exit::CheckFailed
            } else {
                Exit::Success
            })
        }
    }
}
