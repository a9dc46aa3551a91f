//! The GitHub Actions workflows in `examples/github-actions/`: every step's `run:` commands,
//! executed in order with bash as the runner would (`-eo pipefail`, the workflow's `env`, a
//! step summary file, `RUNNER_TEMP`, `GITHUB_BASE_REF`), against a scratch git project made of
//! this repository's example cassettes and `cassettes/calls.py` as its test suite, with the
//! real `traceforge` first on `PATH`. Steps whose `id` starts with `install-` (installing
//! traceforge or Python packages) and `uses:` steps are the runner's business and skipped. So
//! the copy-paste workflows cannot drift from the CLI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml::Value;

use crate::common::bin;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github-actions")
}

/// A scratch project: the example cassettes and their calls committed to git on `main` (also
/// as `origin/main`, the base branch), the load scenario in `load/`, and a runner directory.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_dir(&root.join("cassettes"), &dir.path().join("cassettes"));
        std::fs::create_dir_all(dir.path().join("load")).unwrap();
        std::fs::copy(
            examples().join("scenario.yaml"),
            dir.path().join("load/scenario.yaml"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("runner")).unwrap();
        std::fs::write(dir.path().join(".gitignore"), "runner/\n.traceforge/\n").unwrap();
        let project = Project { dir };
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["add", "-A"],
            &[
                "-c",
                "user.name=ci",
                "-c",
                "user.email=ci@example.com",
                "commit",
                "-qm",
                "base",
            ],
            &["update-ref", "refs/remotes/origin/main", "HEAD"],
        ] {
            let out = Command::new("git")
                .args(args)
                .current_dir(project.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        }
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.path().join("runner/summary.md")).unwrap_or_default()
    }

    /// Runs every `run:` step of `workflow` in order; stops at the first failing one and
    /// returns each step's name and output.
    fn run(&self, workflow: &str, overrides: &[(&str, &str)]) -> Vec<(String, Output)> {
        let text = std::fs::read_to_string(examples().join(workflow)).unwrap();
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        let mut env = BTreeMap::new();
        if let Some(map) = doc.get("env").and_then(Value::as_mapping) {
            for (k, v) in map {
                env.insert(scalar(k), scalar(v));
            }
        }
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let mut results = Vec::new();
        let jobs = doc.get("jobs").and_then(Value::as_mapping).unwrap();
        for (_, job) in jobs {
            let steps = job.get("steps").and_then(Value::as_sequence).unwrap();
            for step in steps {
                let Some(script) = step.get("run").and_then(Value::as_str) else {
                    continue;
                };
                let id = step.get("id").and_then(Value::as_str).unwrap_or_default();
                if id.starts_with("install-") {
                    continue;
                }
                let name = step
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(script)
                    .to_string();
                let out = self.bash(script, &env);
                let failed = !out.status.success();
                results.push((name, out));
                if failed {
                    return results;
                }
            }
        }
        results
    }

    /// `script` under bash as GitHub's runner runs a `run:` step.
    fn bash(&self, script: &str, env: &BTreeMap<String, String>) -> Output {
        let bin_dir = bin().parent().unwrap().to_path_buf();
        let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        let mut command = Command::new("bash");
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            if text.starts_with("TRACEFORGE_") || text.starts_with("OTEL_") {
                command.env_remove(&name);
            }
        }
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(self.path())
            .env("PATH", path)
            .env("CI", "true")
            .env("GITHUB_STEP_SUMMARY", self.path().join("runner/summary.md"))
            .env("RUNNER_TEMP", self.path().join("runner"))
            .env("GITHUB_BASE_REF", "main")
            .envs(env)
            .output()
            .unwrap()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap().trim().to_string(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every step ran and passed.
fn assert_all_passed(results: &[(String, Output)], steps: usize) {
    let explain = results
        .iter()
        .map(|(name, out)| {
            format!(
                "== {name}: {:?}\n{}{}",
                out.status.code(),
                text(&out.stdout),
                text(&out.stderr)
            )
        })
        .collect::<String>();
    assert_eq!(results.len(), steps, "{explain}");
    assert!(results.iter().all(|(_, o)| o.status.success()), "{explain}");
}

#[test]
fn the_replay_workflow_passes_on_the_cassettes_and_fails_on_a_miss() {
    let project = Project::new();
    let calls = [("TEST_COMMAND", "python3 cassettes/calls.py")];
    assert_all_passed(&project.run("replay-tests.yml", &calls), 2);

    // An edited prompt is a request no cassette holds: the job fails, saying so.
    let edited = std::fs::read_to_string(project.path().join("cassettes/calls.py"))
        .unwrap()
        .replace("What is a cassette in VCR testing?", "What is a tape?");
    std::fs::write(project.path().join("edited.py"), edited).unwrap();
    let results = project.run("replay-tests.yml", &[("TEST_COMMAND", "python3 edited.py")]);
    let (name, last) = results.last().unwrap();
    assert_eq!(name, "Run the tests against the cassettes");
    assert_ne!(last.status.code(), Some(0));
    assert!(
        text(&last.stderr).to_lowercase().contains("miss"),
        "{}",
        text(&last.stderr)
    );
}

#[test]
fn the_diff_workflow_summarises_a_changed_answer_and_checks_policies() {
    let project = Project::new();
    let chat = project.path().join("cassettes/openai/chat.yaml");
    let changed = std::fs::read_to_string(&chat).unwrap().replace(
        "Mock answer to: What is a cassette",
        "A changed answer to: What is a cassette",
    );
    std::fs::write(&chat, changed).unwrap();
    assert_all_passed(&project.run("behaviour-diff.yml", &[]), 3);
    let summary = project.summary();
    assert!(
        summary.contains("## traceforge diff: behaviour changed"),
        "{summary}"
    );
    assert!(
        summary.contains("### Changed: `openai/chat` #1"),
        "{summary}"
    );
    assert!(!summary.contains("policy check"), "no policies: {summary}");

    // A fresh runner for the second run: no base checkout, an empty summary.
    let out = project.bash(
        "git worktree remove --force \"$RUNNER_TEMP/base\" && rm \"$GITHUB_STEP_SUMMARY\"",
        &BTreeMap::new(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policies = project.path().join(".traceforge/policies/global");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("models.json"),
        r#"{"id": "models", "name": "Approved models", "version": "1.0.0", "scope": "global",
            "rules": [{"id": "approved", "type": "allowed-models", "severity": "high",
                       "description": "Approved model families", "applies_to": "request",
                       "action": "block", "models": ["gpt-4o*", "claude-*"]}]}"#,
    )
    .unwrap();
    assert_all_passed(&project.run("behaviour-diff.yml", &[]), 3);
    let summary = project.summary();
    assert!(
        summary.contains("## traceforge policy check: passed"),
        "{summary}"
    );
}

#[test]
fn the_load_workflow_gates_on_the_baseline_and_leaves_the_report() {
    let project = Project::new();
    // The baseline, made by the command the workflow's comment gives.
    let workflow = std::fs::read_to_string(examples().join("load-test.yml")).unwrap();
    let make_baseline = workflow
        .lines()
        .find_map(|l| {
            l.trim_start_matches('#')
                .trim()
                .strip_prefix("traceforge load ")
        })
        .map(|rest| format!("traceforge load {rest}"))
        .unwrap();
    let out = project.bash(&make_baseline, &BTreeMap::new());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(project.path().join("load/baseline.json").exists());

    // A shared test machine is noisier than the gate's 20%: the gate's logic is tested in
    // load.rs; here the commands must run and produce what the next steps upload.
    let results = project.run("load-test.yml", &[("MAX_REGRESSION", "1000%")]);
    assert_all_passed(&results, 1);
    let summary = project.summary();
    assert!(
        summary.contains("## traceforge load `load/scenario.yaml`: passed"),
        "{summary}"
    );
    assert!(summary.contains("### Baseline"), "{summary}");
    // What the upload step names exists.
    let doc: Value = serde_yaml::from_str(&workflow).unwrap();
    let upload = doc["jobs"]["load"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| {
            s.get("uses")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .unwrap();
    let artifact = upload["with"]["path"].as_str().unwrap();
    let html = std::fs::read_to_string(project.path().join(artifact)).unwrap();
    assert!(html.contains("id=\"chart-latency\""));
}
