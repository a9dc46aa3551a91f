//! Reading a policy directory: `global/`, `organizations/<org>/` and
//! `organizations/<org>/services/<service>/`, each holding `*.json`, `*.yaml` or `*.yml` files.
//! Every problem names its file (and line and column where there is one); a narrower scope that
//! relaxes a broader rule the broader file did not mark `overridable` names both files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file::{Action, PolicyFile, RuleType, Scope};
use super::rules::{Matcher, Rule, SharedSecrets};
use super::{Policy, PolicyError, PolicySet};

/// Where a file sits in the tree: its scope, organization and service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    scope: Scope,
    organization: Option<String>,
    service: Option<String>,
}

/// Loads and compiles every policy under `dir`. A missing directory is an empty set.
///
/// Two parts take nearly all the time: the rules' own matchers (a large term list above all)
/// and the prefilter set of every regex pattern. The second needs only the parsed files, so it
/// compiles on a thread of its own beside the first.
pub fn load(dir: &Path) -> Result<PolicySet, PolicyError> {
    let mut files = Vec::new();
    if dir.is_dir() {
        collect(dir, &mut files)?;
    }
    let mut parsed = Vec::with_capacity(files.len());
    for (path, place) in files {
        let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Read {
            path: path.clone(),
            source,
        })?;
        let file: PolicyFile = parse_as(&path, &text)?;
        parsed.push((path, text, place, file));
    }
    let patterns: Vec<String> = parsed
        .iter()
        .flat_map(|(_, _, _, file)| &file.rules)
        .filter(|r| r.kind == RuleType::Regex)
        .flat_map(|r| r.patterns.iter().flatten().cloned())
        .collect();
    let secrets: SharedSecrets = Arc::default();
    std::thread::scope(|threads| {
        let compiling_prefilter =
            (!patterns.is_empty()).then(|| threads.spawn(|| regex::RegexSet::new(&patterns)));
        let mut policies: Vec<Policy> = Vec::new();
        for (path, text, place, file) in parsed {
            let policy = compile(&path, &text, place, file, &secrets)?;
            if let Some(other) = policies.iter().find(|p| p.id == policy.id) {
                return Err(PolicyError::Conflict {
                    message: format!(
                        "policy id `{}` is used twice: {} and {}",
                        policy.id,
                        other.file.display(),
                        path.display()
                    ),
                });
            }
            policies.push(policy);
        }
        check_overrides(&policies)?;
        number_patterns(&mut policies);
        let regex_prefilter = match compiling_prefilter.map(join) {
            None => None,
            Some(Ok(set)) => Some(set),
            Some(Err(e)) => {
                return Err(PolicyError::Conflict {
                    message: format!("the regex rules' patterns cannot be combined: {e}"),
                })
            }
        };
        policies.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.scope.cmp(&b.scope))
                .then(a.id.cmp(&b.id))
        });
        note_replacements(&mut policies);
        Ok(PolicySet {
            policies,
            regex_prefilter,
        })
    })
}

/// Tells each rule which narrower policies of the (sorted) set replace it where they apply,
/// so that working out the rules in force for a scope compares no ids.
fn note_replacements(policies: &mut [Policy]) {
    let replacing: Vec<Vec<Vec<usize>>> = policies
        .iter()
        .map(|policy| {
            policy
                .rules
                .iter()
                .map(|rule| {
                    (0..policies.len())
                        .filter(|&other| {
                            policies[other].scope > policy.scope
                                && policies[other].rules.iter().any(|r| r.id == rule.id)
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    for (policy, replacing) in policies.iter_mut().zip(replacing) {
        for (rule, by) in policy.rules.iter_mut().zip(replacing) {
            rule.replaced_by = by;
        }
    }
}

/// A compiling thread's result (its panic, should it have one, goes on up).
fn join<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Tells each regex rule where its patterns sit in the set's prefilter, which holds every
/// regex rule's patterns in file order (so that each rule searches only the strings one of its
/// patterns matches).
fn number_patterns(policies: &mut [Policy]) {
    let mut next = 0;
    for policy in policies.iter_mut() {
        for rule in &mut policy.rules {
            let own = rule.matcher.patterns().len();
            if own > 0 {
                rule.pattern_ids = Some((next..next + own).collect());
                next += own;
            }
        }
    }
}

/// The policy files of the tree, sorted, with their place.
fn collect(dir: &Path, out: &mut Vec<(PathBuf, Place)>) -> Result<(), PolicyError> {
    let global = Place {
        scope: Scope::Global,
        organization: None,
        service: None,
    };
    files_in(&dir.join("global"), &global, out)?;
    for (org, org_dir) in subdirs(&dir.join("organizations"))? {
        let place = Place {
            scope: Scope::Organization,
            organization: Some(org.clone()),
            service: None,
        };
        files_in(&org_dir, &place, out)?;
        for (service, service_dir) in subdirs(&org_dir.join("services"))? {
            let place = Place {
                scope: Scope::Service,
                organization: Some(org.clone()),
                service: Some(service),
            };
            files_in(&service_dir, &place, out)?;
        }
    }
    Ok(())
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| PolicyError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PolicyError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, PolicyError> {
    Ok(read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
        .filter(|(name, _)| name != "services")
        .collect())
}

fn files_in(dir: &Path, place: &Place, out: &mut Vec<(PathBuf, Place)>) -> Result<(), PolicyError> {
    for path in documents(dir)? {
        out.push((path, place.clone()));
    }
    Ok(())
}

/// The JSON and YAML files directly in `dir`, sorted (none when it does not exist).
pub(super) fn documents(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    Ok(read_dir(dir)?
        .into_iter()
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"))
        })
        .collect())
}

/// Parses a policy directory's document (a policy, a policy test): JSON by its extension,
/// YAML otherwise, errors at their line and column.
pub(super) fn parse_as<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, PolicyError> {
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(text).map_err(|e| {
            let mut message = e.to_string();
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            PolicyError::Parse(crate::yaml::FileError {
                path: path.to_path_buf(),
                line: Some(e.line()),
                column: Some(e.column()),
                message,
            })
        })
    } else {
        crate::yaml::from_file_text(path, text).map_err(PolicyError::Parse)
    }
}

/// A problem with rule `id` of the file at `path`, placed at the rule's line.
fn at_rule(path: &Path, text: &str, id: &str, message: String) -> PolicyError {
    let (line, column) = locate(text, id);
    PolicyError::Parse(crate::yaml::FileError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    })
}

/// Line and column (from 1) of the first place `value` is written as a whole value, quoted or
/// not, after `"rules"` / `rules:` if the file has that key.
fn locate(text: &str, value: &str) -> (Option<usize>, Option<usize>) {
    let from = text.find("rules").unwrap_or(0);
    let candidates = [
        format!("\"{value}\""),
        format!("'{value}'"),
        format!("id: {value}"),
    ];
    let found = candidates
        .iter()
        .filter_map(|c| text[from..].find(c.as_str()).map(|at| from + at))
        .min();
    match found {
        Some(at) => {
            let line = text[..at].matches('\n').count() + 1;
            let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
            (Some(line), Some(column))
        }
        None => (None, None),
    }
}

fn compile(
    path: &Path,
    text: &str,
    place: Place,
    file: PolicyFile,
    secrets: &SharedSecrets,
) -> Result<Policy, PolicyError> {
    let whole = |message: String| {
        PolicyError::Parse(crate::yaml::FileError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message,
        })
    };
    if let Some(scope) = file.scope {
        if scope != place.scope {
            return Err(whole(format!(
                "policy `{}` says scope {}, but its folder makes it {}",
                file.id,
                scope.name(),
                place.scope.name()
            )));
        }
    }
    for (field, given, folder) in [
        (
            "organization_id",
            &file.organization_id,
            &place.organization,
        ),
        ("service_id", &file.service_id, &place.service),
    ] {
        if let Some(given) = given {
            if folder.as_ref() != Some(given) {
                return Err(whole(format!(
                    "policy `{}` says {field} `{given}`, but its folder says {}",
                    file.id,
                    folder.as_ref().map_or(
                        "none (it is not under that scope)".to_string(),
                        |f| format!("`{f}`")
                    )
                )));
            }
        }
    }
    let mut rules = Vec::with_capacity(file.rules.len());
    for rule in file.rules {
        let problem = |message: String| {
            at_rule(
                path,
                text,
                &rule.id,
                format!("rule `{}`: {message}", rule.id),
            )
        };
        if rules.iter().any(|r: &Rule| r.id == rule.id) {
            return Err(problem(
                "the id is used by an earlier rule of this policy".into(),
            ));
        }
        for given in rule.given() {
            if !rule.kind.parameters().contains(&given) {
                return Err(problem(format!(
                    "`{given}` is not a parameter of rule type {} (it takes: {})",
                    rule.kind.name(),
                    match rule.kind.parameters() {
                        [] => "none".to_string(),
                        names => names.join(", "),
                    }
                )));
            }
        }
        if rule.action == Action::Redact
            && matches!(rule.kind, RuleType::AllowedModels | RuleType::RequiredScope)
        {
            return Err(problem(format!(
                "action redact is not possible for rule type {} (use block or warn)",
                rule.kind.name()
            )));
        }
        let matcher = Matcher::compile(&rule, path, secrets).map_err(problem)?;
        rules.push(Rule {
            id: rule.id,
            kind: rule.kind,
            severity: rule.severity,
            description: rule.description,
            applies_to: rule.applies_to,
            action: rule.action,
            overridable: rule.overridable,
            matcher,
            pattern_ids: None,
            replaced_by: Vec::new(),
        });
    }
    Ok(Policy {
        id: file.id,
        name: file.name,
        version: file.version.unwrap_or_default(),
        scope: place.scope,
        organization: place.organization,
        service: place.service,
        enforce_at_proxy: file.enforce_at_proxy,
        priority: file.priority,
        file: path.to_path_buf(),
        rules,
    })
}

/// A narrower policy's rule with the id of a broader one in its reach replaces it; if it is
/// weaker (a lesser action), the broader rule must say `overridable: true`.
fn check_overrides(policies: &[Policy]) -> Result<(), PolicyError> {
    let mut by_id: BTreeMap<&str, Vec<(&Policy, &Rule)>> = BTreeMap::new();
    for policy in policies {
        for rule in &policy.rules {
            by_id.entry(&rule.id).or_default().push((policy, rule));
        }
    }
    for entries in by_id.values() {
        for (narrow, narrow_rule) in entries {
            for (broad, broad_rule) in entries {
                if !broad.contains(narrow) || broad.scope >= narrow.scope {
                    continue;
                }
                if narrow_rule.action < broad_rule.action && !broad_rule.overridable {
                    return Err(PolicyError::Conflict {
                        message: format!(
                            "{} relaxes rule `{}` of {} ({} → {}), which that rule does not \
                             allow (add `overridable: true` to it to allow it)",
                            narrow.file.display(),
                            narrow_rule.id,
                            broad.file.display(),
                            broad_rule.action.name(),
                            narrow_rule.action.name()
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}
