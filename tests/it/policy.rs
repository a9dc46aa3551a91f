//! `traceforge policy check|list|test` over the fixture policies (fixtures/policies/) and a
//! fixture cassette set (fixtures/policy-cassettes/): every format snapshotted, every exit
//! code, the emergency switch under CI, and bad policies as one line naming file and line.

use std::path::{Path, PathBuf};

use crate::common::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = traceforge_command();
    command.current_dir(root()).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CHECK: &[&str] = &[
    "policy",
    "check",
    "--policies",
    "fixtures/policies",
    "--cassettes",
    "fixtures/policy-cassettes",
];

#[test]
fn policy_check_prints_every_format_and_fails_at_the_threshold() {
    for format in ["text", "json", "junit", "markdown"] {
        let mut args = CHECK.to_vec();
        args.extend(["--format", format]);
        let (code, stdout, stderr) = run(&args, &[]);
        assert_eq!(code, Some(1), "{format}: {stderr}");
        // Never the value: the e-mail, the refund promise, the competitor.
        for value in ["dana", "reyes@", "full refund", "Globex"] {
            assert!(!stdout.contains(value), "{format}: {value} in {stdout}");
        }
        insta::assert_snapshot!(format!("policy_check_{format}"), stdout);
        assert!(
            stderr.contains("policy check: 4 finding(s) at or above high (6 in all) in 4 interaction(s) of 1 cassette(s), 3 policies"),
            "{stderr}"
        );
    }
    let mut args = CHECK.to_vec();
    args.extend(["--fail-on", "critical"]);
    assert_eq!(run(&args, &[]).0, Some(1));
    let (code, stdout, _) = run(
        &[CHECK, &["--fail-on", "critical", "support"]].concat(),
        &[],
    );
    assert_eq!(code, Some(1), "{stdout}");
    // The example cassettes only break a warn-level, medium rule.
    let (code, stdout, _) = run(
        &[
            "policy",
            "check",
            "--policies",
            "fixtures/policies",
            "--cassettes",
            "cassettes",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    // No policies at all: nothing to find.
    let (code, _, stderr) = run(
        &[
            "policy",
            "check",
            "--policies",
            "no-such-dir",
            "--cassettes",
            "cassettes",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn the_emergency_switch_cannot_turn_the_gate_green_under_ci() {
    let env = [
        ("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT", "true"),
        ("CI", "true"),
    ];
    let (code, stdout, stderr) = run(CHECK, &env);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("--allow-disabled"), "{stderr}");
    let (code, _, _) = run(&[CHECK, &["--allow-disabled"]].concat(), &env);
    assert_eq!(code, Some(1));
    // Outside CI the switch does not change what a check finds.
    let (code, _, _) = run(CHECK, &env[..1]);
    assert_eq!(code, Some(1));
    let (code, _, stderr) = run(CHECK, &[("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT", "maybe")]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT: expected true or false"),
        "{stderr}"
    );
}

#[test]
fn policy_list_and_policy_test() {
    let (code, stdout, _) = run(
        &[
            "policy",
            "list",
            "--policies",
            "fixtures/policies",
            "--org",
            "org-acme",
            "--service",
            "support-bot",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, Some(0));
    let list: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list["version"], 1);
    let rules: Vec<String> = list["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["policy"].as_str().unwrap(),
                r["rule"].as_str().unwrap()
            )
        })
        .collect();
    // The service's house-style rule replaces the global one it may relax.
    assert_eq!(
        rules,
        [
            "acme-pii/no-pii",
            "acme-pii/token-cap",
            "acme-pii/scoped",
            "support-rules/refunds",
            "support-rules/competitors",
            "support-rules/house-style",
            "global-safety/no-secrets",
            "global-safety/approved-models"
        ]
    );

    let (code, stdout, stderr) = run(&["policy", "test", "--policies", "fixtures/policies"], &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.matches("PASS ").count(), 3, "{stdout}");

    // A case that expects the wrong thing fails and says what differed.
    let work = tempfile::tempdir().unwrap();
    copy_dir(&root().join("fixtures/policies"), work.path());
    std::fs::write(
        work.path().join("tests/wrong.yaml"),
        "name: wrong\nrequest: {model: gpt-3.5-turbo}\nexpect:\n  - {policy: global-safety, rule: no-secrets, action: block}\n",
    )
    .unwrap();
    let (code, stdout, _) = run(
        &[
            "policy",
            "test",
            "--policies",
            work.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(stdout.contains("FAIL wrong"), "{stdout}");
    assert!(
        stdout.contains("expected, not made: global-safety/no-secrets block"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "made, not expected: global-safety/approved-models block (model in request.body.model)"
        ),
        "{stdout}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_bad_policy_stops_every_command_with_one_line() {
    let work = tempfile::tempdir().unwrap();
    copy_dir(&root().join("fixtures/policies"), work.path());
    let dir = work.path().to_str().unwrap();
    for (file, text, expected) in [
        ("global/bad.json", "{\"id\": \"bad\",\n \"rules\": [}", "global/bad.json:2:12:"),
        ("global/bad.yaml", "id: bad\nrules:\n  - id: r\n    type: regex\n    severity: low\n    action: warn\n    patterns: ['(x']\n", "global/bad.yaml:3:5: rule `r`: pattern 0 `(x` is not a valid regex: unclosed group"),
        ("global/bad.json", r#"{"id": "bad", "rules": [{"id": "t", "type": "blocked-terms", "severity": "low", "action": "warn", "terms_file": "gone.txt"}]}"#, "cannot read terms file"),
        ("organizations/org-acme/services/support-bot/lax.json", r#"{"id": "lax", "rules": [{"id": "no-secrets", "type": "no-secrets", "severity": "low", "action": "warn"}]}"#, "relaxes rule `no-secrets`"),
    ] {
        let path = work.path().join(file);
        std::fs::write(&path, text).unwrap();
        for command in [&["policy", "check", "--cassettes", "cassettes"][..], &["policy", "list"], &["policy", "test"]] {
            let args = [command, &["--policies", dir]].concat();
            let (code, stdout, stderr) = run(&args, &[]);
            assert_eq!(code, Some(2), "{args:?}: {stderr}");
            assert!(stdout.is_empty(), "{stdout}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(expected), "{expected}\n{stderr}");
        }
        std::fs::remove_file(&path).unwrap();
    }
}
