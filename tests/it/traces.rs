//! The trace database end to end: the proxy writes every interaction, the query commands read
//! them, and `vcr rebuild-from-cassettes` brings back the same data after the file is lost,
//! truncated, overwritten with garbage, or loses its WAL.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

fn chat(content: &str, stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": content}]})
}

/// A session that fans out from step 1 to steps 2 and 3 and joins at step 4, mixing APIs and
/// streaming, recorded through the real binary into `work/c` with traces in `work/t.db`.
fn record_session(work: &Path) {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let recorder = ProxyProcess::start(
        work,
        &[
            "vcr",
            "record",
            "--cassettes",
            "c",
            "--db",
            "t.db",
            "--upstream",
            &format!("openai={mock_url}"),
            "--upstream",
            &format!("anthropic={mock_url}"),
        ],
    );
    let steps: [(&str, Option<&str>, &str, Value); 5] = [
        (
            "1",
            None,
            "/openai/v1/chat/completions",
            chat("Plan the refund policy answer", false),
        ),
        (
            "2",
            Some("1"),
            "/openai/v1/chat/completions",
            chat("Summarise the refund policy for gold members", true),
        ),
        (
            "3",
            Some("1"),
            "/anthropic/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 200, "stream": true, "messages": [{"role": "user", "content": "Check the shipping rules"}]}),
        ),
        (
            "4",
            Some("2"),
            "/openai/v1/responses",
            json!({"model": "gpt-4o-mini", "input": "Join the answers into one reply"}),
        ),
        (
            "4",
            Some("3"),
            "/openai/v1/chat/completions",
            chat("Join the answers, second parent", false),
        ),
    ];
    for (step, parent, path, body) in steps {
        let mut headers = vec![
            ("x-traceforge-session-id", "s-42"),
            ("x-traceforge-organization-id", "acme"),
            ("x-traceforge-service-id", "support"),
            ("x-traceforge-step-id", step),
        ];
        if let Some(parent) = parent {
            headers.push(("x-traceforge-parent-step-id", parent));
        }
        let cassette = if path.contains("anthropic") {
            "flows/shipping"
        } else {
            "flows/refund"
        };
        headers.push(("x-traceforge-cassette", cassette));
        let received = rt.block_on(post(&recorder.url(path), &body, &headers));
        assert_eq!(received.status, 200, "{path}: {received:?}");
    }
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("traces: 5 written to t.db"),
        "{}",
        stopped.stderr
    );
}

/// The cassette-backed rows of an export, as text lines.
fn recorded_export(work: &Path, db: &str) -> Vec<String> {
    let output = tf(work, &["traces", "export", "--db", db]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 5);
    lines
}

fn rebuild(work: &Path) {
    let output = tf(
        work,
        &[
            "vcr",
            "rebuild-from-cassettes",
            "--cassettes",
            "c",
            "--db",
            "t.db",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("from 2 cassette(s): 5 interaction(s)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_rebuilt_database_answers_like_the_original_whatever_happened_to_it() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    record_session(work);
    let original = recorded_export(work, "t.db");
    assert!(tf(work, &["db", "check", "--db", "t.db"]).status.success());

    // Lost entirely.
    std::fs::remove_file(work.join("t.db")).unwrap();
    let _ = std::fs::remove_file(work.join("t.db-wal"));
    let _ = std::fs::remove_file(work.join("t.db-shm"));
    rebuild(work);
    assert_eq!(recorded_export(work, "t.db"), original);
    // Running it twice gives the same database.
    rebuild(work);
    assert_eq!(recorded_export(work, "t.db"), original);

    // The middle of the file overwritten with garbage: check notices, rebuild repairs. Two
    // pages' worth (16 KiB pages), so a whole page is hit, header included: garbage that only
    // lands in the unused middle of a page is invisible to SQLite's integrity check, and where
    // the middle falls moves with every table the schema adds.
    let mut bytes = std::fs::read(work.join("t.db")).unwrap();
    let middle = bytes.len() / 2;
    for (i, b) in bytes[middle - 16384..middle + 16384].iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    std::fs::write(work.join("t.db"), &bytes).unwrap();
    let check = tf(work, &["db", "check", "--db", "t.db"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("rebuild-from-cassettes"),
        "{}",
        stdout(&check)
    );
    rebuild(work);
    assert_eq!(recorded_export(work, "t.db"), original);

    // Truncated.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(work.join("t.db"))
        .unwrap();
    file.set_len(1000).unwrap();
    drop(file);
    assert_eq!(
        tf(work, &["db", "check", "--db", "t.db"]).status.code(),
        Some(1)
    );
    rebuild(work);
    assert_eq!(recorded_export(work, "t.db"), original);

    // Only the WAL deleted (after a record run left data in it).
    record_session_again_and_drop_wal(work);
    rebuild(work);
    assert_eq!(recorded_export(work, "t.db"), original);
    assert!(tf(work, &["db", "check", "--db", "t.db"]).status.success());
}

/// Replays the session (adding replayed rows through the WAL), then deletes the WAL file.
fn record_session_again_and_drop_wal(work: &Path) {
    let rt = runtime();
    let replayer = ProxyProcess::start(
        work,
        &[
            "vcr",
            "replay",
            "--cassettes",
            "c",
            "--db",
            "t.db",
            "--cassette",
            "flows/refund",
        ],
    );
    let received = rt.block_on(post(
        &replayer.url("/openai/v1/chat/completions"),
        &chat("Plan the refund policy answer", false),
        &[],
    ));
    assert_eq!(received.status, 200);
    // Kill it hard once the replay is committed, so the WAL is not checkpointed away, then
    // lose the WAL.
    let mut replayer = replayer;
    wait_for("the replay to be committed", || {
        db_stats(&work.join("t.db")).is_some_and(|s| s.replays >= 1)
    });
    replayer.signal(libc::SIGKILL);
    let _ = std::fs::remove_file(work.join("t.db-wal"));
    let _ = std::fs::remove_file(work.join("t.db-shm"));
}

#[test]
fn search_list_show_and_sessions_read_the_recorded_traffic() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    record_session(work);

    // A phrase from a streamed response: the mock's answer quotes the prompt.
    let search = tf(
        work,
        &[
            "traces",
            "search",
            "gold members",
            "--db",
            "t.db",
            "--format",
            "json",
        ],
    );
    assert!(search.status.success(), "{}", stderr(&search));
    let doc: Value = serde_json::from_str(&stdout(&search)).unwrap();
    assert_eq!(doc["version"], 1);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{doc}");
    assert_eq!(results[0]["trace"]["interaction_id"], 2);
    assert!(
        results[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("[gold] [members]"),
        "{doc}"
    );

    let text = tf(work, &["traces", "search", "shipping", "--db", "t.db"]);
    assert!(
        stdout(&text).contains("flows/shipping#1"),
        "{}",
        stdout(&text)
    );

    let list = tf(
        work,
        &[
            "traces",
            "list",
            "--db",
            "t.db",
            "--cassette",
            "flows/ref*",
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert_eq!(doc["traces"].as_array().unwrap().len(), 4);
    let list = tf(
        work,
        &[
            "traces",
            "list",
            "--db",
            "t.db",
            "--model",
            "claude-haiku-4-5",
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
    let traces = doc["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0]["organization"], "acme");
    assert_eq!(traces[0]["provider"], "anthropic");
    assert!(traces[0]["output_tokens"].as_i64().unwrap() > 0);
    let list = tf(
        work,
        &[
            "traces", "list", "--db", "t.db", "--org", "nobody", "--format", "json",
        ],
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&list)).unwrap()["traces"],
        json!([])
    );

    let show = tf(work, &["traces", "show", "flows/refund#2", "--db", "t.db"]);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(stdout(&show).contains("Summarise the refund policy for gold members"));
    let missing = tf(work, &["traces", "show", "999", "--db", "t.db"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).starts_with("error: no trace \"999\""),
        "{}",
        stderr(&missing)
    );

    // Replays are counted against the recorded interaction's row, not stored again.
    let rt = runtime();
    let replayer = ProxyProcess::start(
        work,
        &[
            "vcr",
            "replay",
            "--cassettes",
            "c",
            "--db",
            "t.db",
            "--cassette",
            "flows/refund",
            "--allow-repeats",
        ],
    );
    for _ in 0..3 {
        let body = chat("Plan the refund policy answer", false);
        let received = rt.block_on(post(
            &replayer.url("/openai/v1/chat/completions"),
            &body,
            &[],
        ));
        assert_eq!(received.status, 200);
    }
    let stopped = replayer.stop();
    assert!(
        stopped.stderr.contains("traces: 3 written"),
        "{}",
        stopped.stderr
    );
    let list = tf(
        work,
        &["traces", "list", "--db", "t.db", "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
    let traces = doc["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 5, "replays add no rows");
    let replayed: Vec<_> = traces.iter().filter(|t| t["replays"] != 0).collect();
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0]["replays"], 3);
    assert_eq!(replayed[0]["interaction_id"], 1);

    let sessions = tf(work, &["sessions", "list", "--db", "t.db"]);
    assert!(stdout(&sessions).contains("s-42"), "{}", stdout(&sessions));
    let tree = tf(work, &["sessions", "show", "s-42", "--db", "t.db"]);
    assert!(tree.status.success(), "{}", stderr(&tree));
    let tree = stdout(&tree);
    insta::assert_snapshot!(normalise_tree(&tree));
}

/// Latencies vary between runs; everything else in the tree is deterministic.
fn normalise_tree(tree: &str) -> String {
    regex::Regex::new(r"\d+ ms")
        .unwrap()
        .replace_all(tree, "N ms")
        .into_owned()
}

/// `vcr record` (after the `global` flags) with its database at `blocked/t.db`, where
/// `blocked` is a plain file: opening the database fails until the file goes away.
fn record_into_a_blocked_database(
    work: &Path,
    mock: &traceforge::server::Running,
    global: &[&str],
) -> ProxyProcess {
    std::fs::write(work.join("blocked"), "not a directory").unwrap();
    let upstream = format!("openai=http://{}", mock.addr);
    let mut args = global.to_vec();
    args.extend([
        "vcr",
        "record",
        "--cassettes",
        "c",
        "--db",
        "blocked/t.db",
        "--upstream",
        &upstream,
    ]);
    ProxyProcess::start(work, &args)
}

#[test]
fn a_failing_database_is_reported_in_the_json_log_as_json() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let recorder = record_into_a_blocked_database(work, &mock, &["--log-format", "json"]);
    let url = recorder.url("/openai/v1/chat/completions");
    let sent = rt.block_on(post(&url, &chat("while broken", false), &[]));
    assert_eq!(sent.status, 200);
    wait_for("the failure to be reported", || {
        recorder
            .stderr_so_far()
            .contains("the trace database failed")
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    for line in stopped.stderr.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{}", stopped.stderr));
        assert!(event.is_object(), "{line}");
    }
    let failure = stopped
        .stderr
        .lines()
        .find(|l| l.contains("the trace database failed"))
        .unwrap();
    let event: Value = serde_json::from_str(failure).unwrap();
    assert_eq!(event["level"], "WARN", "{failure}");
}

#[test]
fn a_failing_database_never_stops_the_proxy_and_writes_resume_after_the_cooldown() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let recorder = record_into_a_blocked_database(work, &mock, &[]);
    let url = recorder.url("/openai/v1/chat/completions");
    for i in 0..3 {
        assert_eq!(
            rt.block_on(post(&url, &chat(&format!("while broken {i}"), false), &[]))
                .status,
            200
        );
    }
    wait_for("the failure to be reported", || {
        recorder
            .stderr_so_far()
            .contains("the trace database failed")
    });
    std::fs::remove_file(work.join("blocked")).unwrap();
    // Until the breaker's cooldown is over, traces are still skipped; then one is written.
    let db = work.join("blocked/t.db");
    let mut after = 0;
    wait_for("traces to resume after the cooldown", || {
        after += 1;
        let status = rt
            .block_on(post(
                &url,
                &chat(&format!("after the fix {after}"), false),
                &[],
            ))
            .status;
        assert_eq!(status, 200);
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        loop {
            if db_stats(&db).is_some_and(|s| s.traces >= 1) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(
        stopped.stderr.matches("the trace database failed").count(),
        1,
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("rebuild-from-cassettes"),
        "{}",
        stopped.stderr
    );
    let written = db_stats(&db).unwrap().traces;
    assert!(
        stopped
            .stderr
            .contains(&format!("traces: {written} written")),
        "{}",
        stopped.stderr
    );
    // Cassettes were never affected.
    assert_eq!(
        cassette(&work.join("c/default.yaml")).interactions.len(),
        3 + after
    );
    let search = tf(
        work,
        &[
            "traces",
            "search",
            "after the fix",
            "--db",
            "blocked/t.db",
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_str(&stdout(&search)).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), 1);
}

#[test]
fn backup_during_concurrent_load_gives_a_sound_copy_and_loses_nothing() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let recorder = ProxyProcess::start(
        work,
        &[
            "vcr",
            "record",
            "--cassettes",
            "c",
            "--db",
            "t.db",
            "--upstream",
            &format!("openai=http://{}", mock.addr),
        ],
    );
    let url = recorder.url("/openai/v1/chat/completions");
    // Make sure the database exists before the first backup.
    rt.block_on(post(&url, &chat("warm up", false), &[]));
    wait_for("the first trace", || {
        db_stats(&work.join("t.db")).is_some_and(|s| s.traces >= 1)
    });
    let load = {
        let url = url.clone();
        std::thread::spawn(move || {
            let rt = runtime();
            rt.block_on(async {
                let mut tasks = Vec::new();
                for worker in 0..4 {
                    let url = url.clone();
                    tasks.push(tokio::spawn(async move {
                        for i in 0..40 {
                            let body = chat(&format!("load {worker}-{i}"), i % 3 == 0);
                            assert_eq!(post(&url, &body, &[]).await.status, 200);
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
            });
        })
    };
    for n in 0..3 {
        let file = format!("backup-{n}.db");
        let backup = tf(work, &["db", "backup", &file, "--db", "t.db"]);
        assert!(backup.status.success(), "{}", stderr(&backup));
        let check = tf(work, &["db", "check", "--db", &file]);
        assert!(
            check.status.success(),
            "{}{}",
            stdout(&check),
            stderr(&check)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    load.join().unwrap();
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(
        cassette(&work.join("c/default.yaml")).interactions.len(),
        161
    );
    assert!(
        stopped.stderr.contains("traces: 161 written"),
        "{}",
        stopped.stderr
    );
    let backup = tf(work, &["db", "backup", "backup-0.db", "--db", "t.db"]);
    assert_eq!(backup.status.code(), Some(2), "never overwrites");
}

#[test]
fn maintenance_commands_and_their_bad_inputs() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let missing = tf(work, &["traces", "list", "--db", "nope.db"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nope.db: no trace database here"),
        "{}",
        stderr(&missing)
    );
    let check = tf(work, &["db", "check", "--db", "nope.db"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("missing; rebuild it from the cassettes"),
        "{}",
        stdout(&check)
    );

    std::fs::write(work.join("garbage.db"), vec![0x42u8; 8192]).unwrap();
    let check = tf(work, &["db", "check", "--db", "garbage.db"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("damaged; rebuild it"),
        "{}",
        stdout(&check)
    );

    record_session(work);
    let stats = tf(work, &["db", "stats", "--db", "t.db", "--format", "json"]);
    let doc: Value = serde_json::from_str(&stdout(&stats)).unwrap();
    assert_eq!(doc["stats"]["traces"], 5);
    assert_eq!(doc["stats"]["models"]["gpt-4o-mini"], 4);
    assert!(tf(work, &["db", "vacuum", "--db", "t.db"]).status.success());
    let bad = tf(
        work,
        &["db", "prune", "--older-than", "soon", "--db", "t.db"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).starts_with("error: --older-than: duration \"soon\""),
        "{}",
        stderr(&bad)
    );
    assert!(
        tf(work, &["db", "prune", "--older-than", "1d", "--db", "t.db"])
            .status
            .success()
    );
    let stats = tf(work, &["db", "stats", "--db", "t.db", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&stats)).unwrap()["stats"]["traces"],
        5
    );
    // Timestamps have whole seconds: traces recorded this second are not older than "now"
    // until the clock has moved on, so prune until they are gone.
    let mut pruned = 0;
    wait_for("the traces to be older than now", || {
        let prune = tf(work, &["db", "prune", "--older-than", "0s", "--db", "t.db"]);
        assert!(prune.status.success(), "{}", stderr(&prune));
        let text = stderr(&prune);
        let n: usize = text
            .strip_prefix("pruned ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        pruned += n;
        pruned == 5
    });

    // A malformed cassette is skipped with its position, or fatal with --strict.
    std::fs::write(
        work.join("c/broken.yaml"),
        "version: 1\ncassette: broken\ninteractions: {\n",
    )
    .unwrap();
    let lenient = tf(
        work,
        &[
            "vcr",
            "rebuild-from-cassettes",
            "--cassettes",
            "c",
            "--db",
            "t.db",
        ],
    );
    assert!(lenient.status.success(), "{}", stderr(&lenient));
    assert!(
        stderr(&lenient).contains("skipped: c/broken.yaml:"),
        "{}",
        stderr(&lenient)
    );
    let before = std::fs::read(work.join("t.db")).unwrap();
    let strict = tf(
        work,
        &[
            "vcr",
            "rebuild-from-cassettes",
            "--cassettes",
            "c",
            "--db",
            "t.db",
            "--strict",
        ],
    );
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        stderr(&strict).contains("broken.yaml"),
        "{}",
        stderr(&strict)
    );
    assert_eq!(
        std::fs::read(work.join("t.db")).unwrap(),
        before,
        "the old database is untouched"
    );
}

#[test]
fn rows_follow_the_cassette_and_db_check_reports_drift() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{mock}", mock = mock.addr);
    let record = |prompts: &[&str]| {
        let recorder = ProxyProcess::start(
            work,
            &[
                "vcr",
                "record",
                "--mode",
                "all",
                "--cassettes",
                "c",
                "--db",
                "t.db",
                "--upstream",
                &format!("openai={mock_url}"),
            ],
        );
        for prompt in prompts {
            let received = rt.block_on(post(
                &recorder.url("/openai/v1/chat/completions"),
                &chat(prompt, false),
                &[],
            ));
            assert_eq!(received.status, 200);
        }
        let stopped = recorder.stop();
        assert!(stopped.status.success(), "{}", stopped.stderr);
    };
    record(&["one", "two", "three"]);
    assert!(tf(work, &["traces", "show", "default#3", "--db", "t.db"])
        .status
        .success());
    // Recorded again from scratch with fewer requests: the third row goes with the interaction.
    record(&["uno"]);
    let gone = tf(work, &["traces", "show", "default#3", "--db", "t.db"]);
    assert_eq!(gone.status.code(), Some(2), "{}", stdout(&gone));
    let list = tf(
        work,
        &["traces", "list", "--db", "t.db", "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert_eq!(doc["traces"].as_array().unwrap().len(), 1, "{doc}");
    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // A cassette edited by hand: its rows no longer say what it says.
    let path = work.join("c/default.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("id: 1\n", "id: 7\n")).unwrap();
    std::fs::write(
        work.join("c/extra.yaml"),
        "version: 1\ncassette: extra\ninteractions: []\n",
    )
    .unwrap();
    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let out = stdout(&check);
    assert!(
        out.contains("1 row(s) name interactions no cassette holds: default#1"),
        "{out}"
    );
    assert!(
        out.contains("1 interaction(s) have no row: default#7"),
        "{out}"
    );
    assert!(out.contains("out of step with c; rebuild it"), "{out}");
    // The cure.
    assert!(tf(
        work,
        &[
            "vcr",
            "rebuild-from-cassettes",
            "--cassettes",
            "c",
            "--db",
            "t.db"
        ]
    )
    .status
    .success());
    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    rt.block_on(mock.stop());
}

/// A cassette written by hand with the policy decisions the proxy records: a rebuild brings
/// them into the database, `traces show` lists them (and the JSON carries them), `db stats`
/// counts them, and the database still checks clean against its cassettes.
#[test]
fn decisions_recorded_in_a_cassette_are_rebuilt_and_shown() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    std::fs::create_dir_all(work.join("c")).unwrap();
    std::fs::write(
        work.join("c/support.yaml"),
        r#"version: 1
cassette: support
interactions:
- id: 1
  recorded_at: 2026-11-30T01:00:00Z
  request:
    method: POST
    upstream: openai
    path: /v1/chat/completions
    headers:
      content-type: application/json
    body:
      json:
        model: gpt-4o-mini
        messages:
        - role: user
          content: Mail <EMAIL> about the refund
  response:
    status: 400
    headers:
      content-type: application/json
    body:
      json:
        error:
          message: blocked by policy enterprise-pii-policy
  decisions:
  - policy: enterprise-pii-policy
    version: "2.0.0"
    rule: no-pii
    action: block
    severity: critical
    path: request.body.messages[0].content
    entity: email
    outcome: applied
  - policy: competitors
    version: "1.1"
    rule: blocked-terms
    action: warn
    severity: low
    path: response.body.error.message
    entity: term
    outcome: evaluated
- id: 2
  recorded_at: 2026-11-30T01:00:01Z
  request:
    method: POST
    upstream: openai
    path: /v1/chat/completions
    body:
      json:
        model: gpt-4o-mini
        messages:
        - role: user
          content: Where is my parcel?
  response:
    status: 200
    body:
      text: on its way
"#,
    )
    .unwrap();
    let rebuild = tf(
        work,
        &[
            "vcr",
            "rebuild-from-cassettes",
            "--cassettes",
            "c",
            "--db",
            "t.db",
        ],
    );
    assert!(rebuild.status.success(), "{}", stderr(&rebuild));

    let show = tf(work, &["traces", "show", "support#1", "--db", "t.db"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(text.contains("\ndecisions:\n"), "{text}");
    assert!(
        text.contains(
            "  enterprise-pii-policy@2.0.0/no-pii: block (critical), email at \
             request.body.messages[0].content, applied"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  competitors@1.1/blocked-terms: warn (low), term at response.body.error.message, \
             evaluated"
        ),
        "{text}"
    );
    // The decided policy comes first, as recorded.
    assert!(text.find("enterprise-pii-policy@").unwrap() < text.find("competitors@").unwrap());
    let quiet = tf(work, &["traces", "show", "support#2", "--db", "t.db"]);
    assert!(!stdout(&quiet).contains("decisions:"), "{}", stdout(&quiet));

    let json = tf(
        work,
        &[
            "traces",
            "show",
            "support#1",
            "--db",
            "t.db",
            "--format",
            "json",
        ],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["redactions"], 0);
    assert_eq!(
        json["decisions"][0],
        json!({"policy": "enterprise-pii-policy", "version": "2.0.0", "rule": "no-pii",
               "action": "block", "severity": "critical",
               "path": "request.body.messages[0].content", "entity": "email",
               "outcome": "applied"})
    );
    assert_eq!(json["decisions"].as_array().unwrap().len(), 2);

    let stats = tf(work, &["db", "stats", "--db", "t.db", "--format", "json"]);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["stats"]["decisions"], 2);
    assert_eq!(stats["stats"]["redactions"], 0);

    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}
