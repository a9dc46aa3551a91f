//! The baseline workflow end to end: `vcr record --pending` leaves changed cassettes beside
//! their originals (and only those), `pending` lists them, `accept`/`reject` settle them by
//! name, and `review` walks them in a real pseudo-terminal or prints the commands without one.
//!
//! The terminal is driven through Python's standard `pty` module rather than a Rust crate
//! (`rexpect`, `portable-pty`): python3 is already required by the benches and the SDK tests,
//! and a dev-dependency would only buy the same fork-and-read loop.

use std::path::Path;

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

fn run(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = traceforge_command()
        .args(args)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn answered(question: &str, answer: &str) -> Value {
    json!({"version": 1, "cassette": "x", "interactions": [{
        "id": 1, "recorded_at": "2026-03-01T10:00:00Z",
        "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                    "body": {"json": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]}}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}]}}},
    }]})
}

/// `DIR/NAME.yaml` answering `before`, and `DIR/NAME.yaml.pending` answering `after`.
fn pending_pair(dir: &Path, name: &str, before: &str, after: &str) {
    let write = |path: std::path::PathBuf, answer: &str| {
        let mut doc = answered("What is the refund window?", answer);
        doc["cassette"] = json!(name);
        let cassette = serde_json::from_value(doc).unwrap();
        let text = traceforge::cassette::files::render(&cassette).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(dir.join(format!("{name}.yaml")), before);
    write(dir.join(format!("{name}.yaml.pending")), after);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn record_pending_keeps_originals_and_writes_only_changed_cassettes() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let record = |extra: &[&str]| {
        let mut args = vec!["vcr", "record", "--mode", "all", "--cassettes", "c"];
        let upstream = format!("openai={mock_url}");
        args.extend(["--upstream", upstream.as_str()]);
        args.extend_from_slice(extra);
        ProxyProcess::start(work.path(), &args)
    };
    let ask = |proxy: &ProxyProcess, cassette: &str, question: &str| {
        let body =
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]});
        let received = rt.block_on(post(
            &proxy.url("/openai/v1/chat/completions"),
            &body,
            &[("x-traceforge-cassette", cassette)],
        ));
        assert_eq!(received.status, 200);
    };

    let baseline = record(&[]);
    ask(&baseline, "stable", "What is the refund window?");
    ask(&baseline, "drifting", "What is the refund window?");
    assert!(baseline.stop().status.success());
    let dir = work.path().join("c");
    let stable = read(&dir.join("stable.yaml"));
    let drifting = read(&dir.join("drifting.yaml"));

    // Re-record: same prompt for `stable`, a reworded prompt (so another answer) for
    // `drifting`, and a cassette that did not exist before.
    let again = record(&["--pending"]);
    ask(&again, "stable", "What is the refund window?");
    ask(
        &again,
        "drifting",
        "How long is the refund window for damaged goods?",
    );
    ask(&again, "fresh", "Hello there");
    let stopped = again.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);

    // The same with a JSON log: what it says of the pending cassettes is JSON too.
    let json_run = record(&["--pending", "--log-format", "json"]);
    ask(&json_run, "stable", "What is the refund window?");
    let json_stopped = json_run.stop();
    assert!(json_stopped.status.success(), "{}", json_stopped.stderr);
    let messages: Vec<String> = json_stopped
        .stderr
        .lines()
        .map(|line| {
            let object: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
            object["message"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("stable: no behaviour change")),
        "{messages:?}"
    );
    rt.block_on(mock.stop());

    assert_eq!(
        read(&dir.join("stable.yaml")),
        stable,
        "originals are never touched"
    );
    assert_eq!(read(&dir.join("drifting.yaml")), drifting);
    assert!(
        !dir.join("stable.yaml.pending").exists(),
        "no behaviour change, no pending file"
    );
    assert!(dir.join("drifting.yaml.pending").exists());
    assert!(
        dir.join("fresh.yaml").exists(),
        "a new cassette is written normally"
    );
    assert!(!dir.join("fresh.yaml.pending").exists());
    let stderr = &stopped.stderr;
    assert!(stderr.contains("stable: no behaviour change"), "{stderr}");
    assert!(stderr.contains("drifting: behaviour changed: 1 changed (1 interaction); written to c/drifting.yaml.pending"), "{stderr}");
    assert!(
        stderr.contains("1 cassette(s) pending review: run `traceforge review --cassettes c`"),
        "{stderr}"
    );

    let (code, stdout, _) = run(
        work.path(),
        &["pending", "--cassettes", "c", "--format", "json"],
    );
    assert_eq!(code, Some(0));
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["pending"],
        json!([{"name": "drifting", "path": "c/drifting.yaml", "pending": "c/drifting.yaml.pending",
                "original_exists": true, "interactions": 1, "same": 0, "changed": 1, "missing": 0, "new": 0}])
    );
}

#[test]
fn accept_reject_and_pending_settle_cassettes_by_name() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cassettes");
    pending_pair(&dir, "alpha", "Within 30 days.", "Within 14 days.");
    pending_pair(&dir, "flows/beta", "Yes.", "No.");
    pending_pair(&dir, "gamma", "Maybe.", "Perhaps.");
    let alpha_pending = read(&dir.join("alpha.yaml.pending"));
    let beta = read(&dir.join("flows/beta.yaml"));

    let (code, stdout, _) = run(work.path(), &["pending"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("alpha"), "{stdout}");
    assert!(stdout.contains("flows/beta"), "{stdout}");
    assert!(
        stdout.contains("cassettes/flows/beta.yaml.pending"),
        "{stdout}"
    );

    // An unknown name fails before anything changes.
    let (code, _, stderr) = run(work.path(), &["accept", "alpha", "nope"]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("error: cassettes/nope.yaml.pending: no pending cassette \"nope\" (see `traceforge pending`)"), "{stderr}");
    assert!(dir.join("alpha.yaml.pending").exists());
    let (code, _, stderr) = run(work.path(), &["reject", "../escape"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: invalid cassette name \"../escape\""),
        "{stderr}"
    );

    let (code, _, stderr) = run(work.path(), &["accept", "alpha"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("accepted alpha: cassettes/alpha.yaml is the new baseline"),
        "{stderr}"
    );
    assert_eq!(read(&dir.join("alpha.yaml")), alpha_pending);
    assert!(!dir.join("alpha.yaml.pending").exists());

    let (code, _, stderr) = run(work.path(), &["reject", "flows/beta"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(read(&dir.join("flows/beta.yaml")), beta);
    assert!(!dir.join("flows/beta.yaml.pending").exists());

    // No names: everything still pending.
    let (code, _, _) = run(work.path(), &["reject"]);
    assert_eq!(code, Some(0));
    assert!(!dir.join("gamma.yaml.pending").exists());
    let (code, stdout, stderr) = run(work.path(), &["pending", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["pending"],
        json!([])
    );
    let (code, _, stderr) = run(work.path(), &["review"]);
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("no pending cassettes in cassettes"),
        "{stderr}"
    );
}

#[test]
fn review_without_a_terminal_prints_the_diffs_and_the_commands() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    pending_pair(
        &dir,
        "alpha",
        "You can ask for a refund within 30 days.",
        "You can ask for a refund within 14 days.",
    );
    pending_pair(&dir, "beta", "Yes.", "No.");
    let before: Vec<String> = [
        "alpha.yaml",
        "alpha.yaml.pending",
        "beta.yaml",
        "beta.yaml.pending",
    ]
    .iter()
    .map(|f| read(&dir.join(f)))
    .collect();
    let (code, stdout, stderr) = run(work.path(), &["review", "--cassettes", "c"]);
    assert_eq!(
        code,
        Some(1),
        "pending changes fail a non-interactive review: {stderr}"
    );
    insta::assert_snapshot!(stdout);
    let after: Vec<String> = [
        "alpha.yaml",
        "alpha.yaml.pending",
        "beta.yaml",
        "beta.yaml.pending",
    ]
    .iter()
    .map(|f| read(&dir.join(f)))
    .collect();
    assert_eq!(before, after, "nothing changes without a decision");
}

/// Runs `traceforge ARGS` in a pseudo-terminal, typing each comma-separated group of `keys`
/// after the next review prompt appears; returns the exit code and everything shown.
fn in_terminal(cwd: &Path, args: &[&str], keys: &str) -> (i32, String) {
    const DRIVER: &str = r#"
import os, pty, select, sys, time
argv, keys = sys.argv[2:], sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen = b""
def read(wanted_prompts):
    global seen
    deadline = time.time() + 30
    while seen.count(b"[q]uit > ") < wanted_prompts:
        if time.time() > deadline:
            sys.stdout.buffer.write(seen)
            sys.exit("timed out waiting for prompt %d" % wanted_prompts)
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk
for n, group in enumerate(keys.split(","), 1):
    read(n)
    os.write(fd, group.encode())
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(keys)
        .arg(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .output()
        .expect("python3 runs the pseudo-terminal driver");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
    )
}

#[test]
fn review_in_a_terminal_accepts_one_rejects_one_and_skips_one() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    pending_pair(
        &dir,
        "alpha",
        "You can ask for a refund within 30 days.",
        "You can ask for a refund within 14 days.",
    );
    pending_pair(
        &dir,
        "beta",
        "Shipping takes two days.",
        "Shipping takes five days.",
    );
    pending_pair(&dir, "gamma", "Yes.", "No.");
    let alpha_pending = read(&dir.join("alpha.yaml.pending"));
    let beta = read(&dir.join("beta.yaml"));
    let gamma = read(&dir.join("gamma.yaml"));

    // `x` and an arrow key (ESC [ A, whose `A` must not read as accept-all) are ignored; then
    // accept, reject, skip.
    let (code, screen) = in_terminal(
        work.path(),
        &["review", "--cassettes", "c", "--color", "never"],
        "x\u{1b}[Aa,r,s",
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("pending 1/3: alpha"), "{screen}");
    assert!(
        screen.contains("- You can ask for a refund within [-30-] days."),
        "{screen}"
    );
    assert!(
        screen.contains("+ You can ask for a refund within {+14+} days."),
        "{screen}"
    );
    assert!(screen.contains("accepted alpha"), "{screen}");
    assert!(screen.contains("pending 2/3: beta"), "{screen}");
    assert!(screen.contains("rejected beta"), "{screen}");
    assert!(screen.contains("skipped gamma"), "{screen}");
    assert!(
        screen.contains("review: 1 accepted, 1 rejected, 1 skipped"),
        "{screen}"
    );

    assert_eq!(read(&dir.join("alpha.yaml")), alpha_pending);
    assert!(!dir.join("alpha.yaml.pending").exists());
    assert_eq!(read(&dir.join("beta.yaml")), beta);
    assert!(!dir.join("beta.yaml.pending").exists());
    assert_eq!(read(&dir.join("gamma.yaml")), gamma);
    assert!(dir.join("gamma.yaml.pending").exists());

    // The bulk key settles everything left at once; colour is on in a terminal.
    pending_pair(&dir, "delta", "One.", "Two.");
    let (code, screen) = in_terminal(work.path(), &["review", "--cassettes", "c"], "A");
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("\u{1b}["),
        "colour on a terminal: {screen:?}"
    );
    assert!(
        screen.contains("accepted delta") && screen.contains("accepted gamma"),
        "{screen}"
    );
    assert!(!dir.join("gamma.yaml.pending").exists() && !dir.join("delta.yaml.pending").exists());
    assert!(read(&dir.join("gamma.yaml")).contains("No."));
}
