//! The command line itself: the clap tree is valid, generated completions and man pages match
//! the committed ones, and bad flags and files get one-line errors naming what is wrong.

use std::path::Path;

use crate::common::traceforge_command;
use clap::CommandFactory as _;

#[test]
fn the_clap_tree_is_consistent() {
    traceforge::cli::Cli::command().debug_assert();
}

/// Compares generated text with the committed file, or rewrites it when
/// `TRACEFORGE_UPDATE_GENERATED=1`.
fn check_generated(path: &Path, generated: &str, stale: &mut Vec<String>) {
    if std::env::var_os("TRACEFORGE_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, generated).unwrap();
        return;
    }
    if std::fs::read_to_string(path).ok().as_deref() != Some(generated) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn committed_completions_and_man_pages_match_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for shell in traceforge::generated::SHELLS {
        let path = root
            .join("completions")
            .join(traceforge::generated::completion_file(shell));
        check_generated(&path, &traceforge::generated::completion(shell), &mut stale);
    }
    let pages = traceforge::generated::man_pages();
    assert!(pages
        .iter()
        .any(|(name, _)| name == "traceforge-vcr-record.1"));
    for (name, text) in &pages {
        check_generated(&root.join("man").join(name), text, &mut stale);
    }
    assert!(
        stale.is_empty(),
        "generated files are out of date: {stale:?}\nrun: TRACEFORGE_UPDATE_GENERATED=1 cargo test --test it cli::"
    );
}

#[test]
fn completions_command_prints_a_script() {
    let output = traceforge_command()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let script = String::from_utf8_lossy(&output.stdout);
    assert!(
        script.contains("traceforge__subcmd__vcr__subcmd__record"),
        "bash completion covers subcommands"
    );
}

fn run(args: &[&str], cwd: &Path) -> (Option<i32>, String, String) {
    let output = traceforge_command()
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_flags_and_config_files_name_the_problem_and_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["vcr", "record", "--upstream", "nonsense", "--", "true"],
            "error: --upstream nonsense: expected NAME=URL",
        ),
        (
            &["vcr", "record", "--upstream", "x=ftp://h", "--", "true"],
            "must be http or https",
        ),
        (
            &["vcr", "record", "--upstream-timeout", "soon", "--", "true"],
            "error: --upstream-timeout: duration \"soon\"",
        ),
        (
            &["vcr", "replay", "--cassette", "../up", "--", "true"],
            "error: --cassette: invalid cassette name \"../up\"",
        ),
        (
            &["vcr", "replay", "--match", "method,colour", "--", "true"],
            "error: --match method,colour: unknown match field \"colour\"",
        ),
        (
            &["vcr", "replay", "--listen", "localhost", "--", "true"],
            "error: --listen localhost:",
        ),
        (
            &["mock-llm", "--event-delay", "5"],
            "error: --event-delay: duration \"5\" needs a unit",
        ),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = run(args, work.path());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{stderr}"
        );
    }

    std::fs::write(
        work.path().join("traceforge.yaml"),
        "cassettes: c\nupstream: {}\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["vcr", "list"], work.path());
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: traceforge.yaml:2:1: unknown field `upstream`"),
        "{stderr}"
    );
}

#[test]
fn verify_names_file_and_interaction_for_secrets_and_malformed_files() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("leaky.yaml"),
        "version: 1\ncassette: leaky\ninteractions:\n- id: 4\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    upstream: openai\n    path: /v1/x\n    headers: {authorization: Bearer sk-live-abcdefghijklmnopqrstuvwx}\n  response:\n    status: 200\n",
    )
    .unwrap();
    std::fs::write(dir.join("mangled.yaml"), "version: 1\ncassette: [\n").unwrap();
    let (code, stdout, _) = run(&["vcr", "verify", "--cassettes", "c"], work.path());
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(
            "leaky.yaml: interaction 4: unprotected credential in request.headers.authorization"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("mangled.yaml:2:"), "{stdout}");

    // A stream cut before its terminal event, without the file saying `incomplete`, and a
    // status no HTTP response can have.
    let interaction = |id: u32, status: u16, response: &str| {
        format!(
            "- id: {id}\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    upstream: openai\n    path: /v1/chat/completions\n  response:\n    status: {status}\n{response}"
        )
    };
    let stream = "    stream:\n    - at_ms: 1\n      data:\n        json: {choices: [{delta: {content: Hel}}]}\n";
    let done = "    - at_ms: 2\n      data:\n        text: '[DONE]'\n";
    std::fs::create_dir_all(work.path().join("d")).unwrap();
    std::fs::write(
        work.path().join("d/cut.yaml"),
        format!(
            "version: 1\ncassette: cut\ninteractions:\n{}{}",
            interaction(1, 200, &format!("{stream}{done}")),
            interaction(2, 200, stream)
        ),
    )
    .unwrap();
    std::fs::write(
        work.path().join("d/zero.yaml"),
        format!(
            "version: 1\ncassette: zero\ninteractions:\n{}",
            interaction(1, 0, "")
        ),
    )
    .unwrap();
    let (code, stdout, _) = run(&["vcr", "verify", "--cassettes", "d"], work.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("cut.yaml: interaction 2: stream recorded incomplete"),
        "{stdout}"
    );
    assert!(!stdout.contains("interaction 1: stream"), "{stdout}");
    assert!(
        stdout.contains("zero.yaml: interaction 1: response status 0 is not an HTTP status"),
        "{stdout}"
    );

    let (code, stdout, _) = run(
        &["vcr", "list", "--cassettes", "c", "--format", "json"],
        work.path(),
    );
    assert_eq!(code, Some(1), "a broken cassette makes list fail");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["cassettes"][0]["name"], "leaky");
    assert_eq!(doc["cassettes"][0]["interactions"], 1);
    assert!(doc["cassettes"][1]["error"]
        .as_str()
        .unwrap()
        .contains("mangled.yaml:2:"));
}

#[test]
fn show_prints_a_readable_cassette() {
    let work = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vcrpy/openllmetry/anthropic_test_anthropic_tools_streaming_legacy.yaml");
    let (code, _, stderr) = run(
        &[
            "vcr",
            "import",
            "--from",
            "vcrpy",
            "--cassettes",
            "c",
            "--cassette",
            "tools",
            fixture.to_str().unwrap(),
        ],
        work.path(),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, _) = run(&["vcr", "show", "tools", "--cassettes", "c"], work.path());
    assert_eq!(code, Some(0));
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_replay_miss_report_reads_well() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    std::fs::create_dir_all(&dir).unwrap();
    let cassette = serde_json::json!({"version": 1, "cassette": "refunds", "interactions": [{
        "id": 1, "recorded_at": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions", "body": {"json": {
            "model": "gpt-4o-mini", "temperature": 0, "messages": [{"role": "user", "content": "What is the refund policy?"}]}}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"ok": true}}}}]});
    std::fs::write(dir.join("refunds.yaml"), cassette.to_string()).unwrap();
    let body = r#"{"model": "gpt-4o-mini", "temperature": 0.5, "messages": [{"role": "user", "content": "What is the return policy?"}]}"#;
    let output = traceforge_command()
        .current_dir(work.path())
        .args(["vcr", "replay", "--cassettes", "c", "--cassette", "refunds", "--", "sh", "-c"])
        .arg(format!("curl -s -o /dev/null -H 'content-type: application/json' -d '{body}' \"$OPENAI_BASE_URL/chat/completions\""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    insta::with_settings!({filters => vec![(r"\(c/refunds.yaml\)", "(CASSETTES/refunds.yaml)")]}, {
        insta::assert_snapshot!(stderr);
    });
}

/// Runs traceforge with its stdout on a pipe whose reader is already gone, as in
/// `traceforge … | head -1` once `head` has exited.
fn run_into_closed_pipe(args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = traceforge_command()
        .args(args)
        .current_dir(cwd)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_every_printing_command_quietly() {
    let work = tempfile::tempdir().unwrap();
    let keep = work.path().join("demo");
    let (code, _, stderr) = run(&["demo", "--keep", keep.to_str().unwrap()], work.path());
    assert_eq!(code, Some(0), "{stderr}");
    let db = keep.join("traces.db");
    let db = db.to_str().unwrap();
    let cassettes = keep.to_str().unwrap();
    let commands: &[&[&str]] = &[
        &["traces", "list", "--db", db],
        &["traces", "list", "--db", db, "--format", "json"],
        &["traces", "export", "--db", db],
        &["traces", "search", "weather", "--db", db],
        &["sessions", "list", "--db", db],
        &["db", "stats", "--db", db],
        &["db", "check", "--db", db],
        &["pii", "audit", "--db", db, "--format", "json"],
        &["vcr", "list", "--cassettes", cassettes],
        &["vcr", "show", "demo", "--cassettes", cassettes],
        &["completions", "bash"],
        &["demo"],
    ];
    for args in commands {
        let (code, stderr) = run_into_closed_pipe(args, work.path());
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn flags_beat_the_environment_which_beats_traceforge_yaml() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "cassettes: from-file\ndb: from-file.db\n",
    )
    .unwrap();
    let tf = |args: &[&str], env: &[(&str, &str)]| {
        let output = traceforge_command()
            .args(args)
            .current_dir(work.path())
            .envs(env.iter().copied())
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    };
    // The file alone.
    assert!(tf(&["vcr", "list"], &[]).contains("no cassettes in from-file"));
    assert!(tf(&["db", "check"], &[]).contains("from-file.db: missing"));
    // The environment over the file.
    let env = [
        ("TRACEFORGE_CASSETTES", "from-env"),
        ("TRACEFORGE_DB", "from-env.db"),
    ];
    assert!(tf(&["vcr", "list"], &env).contains("no cassettes in from-env"));
    assert!(tf(&["db", "check"], &env).contains("from-env.db: missing"));
    // A flag over both.
    assert!(tf(&["vcr", "list", "--cassettes", "from-flag"], &env)
        .contains("no cassettes in from-flag"));
    assert!(tf(&["db", "check", "--db", "from-flag.db"], &env).contains("from-flag.db: missing"));
    // TRACEFORGE_CONFIG picks another file, which then loses to the environment in turn.
    std::fs::write(work.path().join("other.yaml"), "cassettes: from-other\n").unwrap();
    assert!(tf(&["vcr", "list"], &[("TRACEFORGE_CONFIG", "other.yaml")])
        .contains("no cassettes in from-other"));
    assert!(tf(
        &["vcr", "list"],
        &[
            ("TRACEFORGE_CONFIG", "other.yaml"),
            ("TRACEFORGE_CASSETTES", "from-env")
        ]
    )
    .contains("no cassettes in from-env"));
}

#[test]
fn an_error_says_its_cause_once() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("not-a-dir"), "").unwrap();
    let cases: &[&[&str]] = &[
        &["vcr", "import", "--from", "vcrpy", "missing.yaml"],
        &["--config", "missing.yaml", "vcr", "list"],
        &["vcr", "list", "--cassettes", "not-a-dir"],
        &["traces", "list", "--db", "not-a-dir/traces.db"],
        &["diff", "missing-a.yaml", "missing-b.yaml"],
        &["vcr", "replay", "--", "/nonexistent/program"],
    ];
    for args in cases {
        let (code, _, stderr) = run(args, work.path());
        assert_ne!(code, Some(0), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        let error = lines
            .iter()
            .position(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{args:?}: no error line in {stderr}"));
        let causes: Vec<&str> = lines[error + 1..]
            .iter()
            .filter_map(|l| l.strip_prefix("Caused by: "))
            .collect();
        for cause in &causes {
            assert_eq!(
                stderr.matches(cause).count(),
                1,
                "{args:?}: the cause {cause:?} is said twice:\n{stderr}"
            );
        }
    }
    let (_, _, stderr) = run(
        &["vcr", "import", "--from", "vcrpy", "missing.yaml"],
        work.path(),
    );
    assert!(
        stderr.starts_with("error: cannot read missing.yaml\nCaused by: No such file"),
        "{stderr}"
    );
}
