//! The pytest plugin (`integrations/pytest`), driven by real pytest runs of its sample suite
//! (`integrations/pytest/tests/sample`: the official openai and anthropic SDKs, unchanged)
//! against the mock LLM: one cassette per test when recording, replay with the mock stopped,
//! an edited prompt failing exactly its test with the miss report, the same under
//! `pytest -n 2`, Ctrl-C, and no traceforge process left behind (checked by pid).
//!
//! Needs `pip install pytest pytest-xdist openai anthropic` (and the plugin, though without it
//! the checkout's source is loaded with `-p`). Without them the tests say so and pass, unless
//! `TRACEFORGE_REQUIRE_SDKS` is set (as `.ci/run` does). The plugin's code always comes from
//! this checkout (`PYTHONPATH`), even when an older copy is installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::*;
use traceforge::mock::MockConfig;

fn plugin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/pytest")
}

/// Whether pytest, xdist and the SDKs can be imported; fails when they must be.
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pytest, xdist, openai, anthropic"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("TRACEFORGE_REQUIRE_SDKS").is_none(),
            "TRACEFORGE_REQUIRE_SDKS is set but `python3 -c 'import pytest, xdist, openai, \
             anthropic'` fails (pip install pytest pytest-xdist openai anthropic)"
        );
        eprintln!("SKIPPED: pytest, pytest-xdist or the SDKs are not installed");
    }
    ok
}

/// Whether the plugin is installed (its `pytest11` entry point exists), so pytest loads it
/// by itself; otherwise tests load it with `-p`.
fn plugin_installed() -> bool {
    let check = "import importlib.metadata as m, sys; \
                 sys.exit(0 if any(e.value.startswith('pytest_traceforge') \
                 for e in m.entry_points(group='pytest11')) else 1)";
    Command::new("python3")
        .args(["-c", check])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `python3 -m pytest` in `dir` with a clean environment (no `TRACEFORGE_*`, `CI`, `OTEL_*`,
/// `PYTEST_*`), the checkout's plugin and this build's binary.
fn pytest(dir: &Path) -> Command {
    let mut command = Command::new("python3");
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text == "CI"
            || text.starts_with("TRACEFORGE_")
            || text.starts_with("OTEL_")
            || text.starts_with("PYTEST_")
            || text.ends_with("_API_KEY")
            || text.ends_with("_BASE_URL")
        {
            command.env_remove(&name);
        }
    }
    let mut path = plugin_dir().join("src").into_os_string();
    if let Some(old) = std::env::var_os("PYTHONPATH") {
        path.push(":");
        path.push(old);
    }
    command
        .current_dir(dir)
        .env("PYTHONPATH", path)
        .env("TRACEFORGE_BIN", bin())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
        ]);
    if !plugin_installed() {
        command.args(["-p", "pytest_traceforge.plugin"]);
    }
    command
}

/// A copy of the sample suite whose `traceforge.yaml` sends both SDKs to `mock`.
fn project(mock: std::net::SocketAddr) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&plugin_dir().join("tests/sample"), dir.path());
    std::fs::write(
        dir.path().join("traceforge.yaml"),
        format!("upstreams:\n  openai: http://{mock}\n  anthropic: http://{mock}\n"),
    )
    .unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The cassettes one record run of the sample suite writes: one per test that calls an LLM,
/// the marked test's under the name its marker gives. The parameter id with a space and a `/`
/// gets a hash (see `naming.py`), checked by shape.
fn assert_one_cassette_per_test(cassettes: &Path) {
    let mut found = files(cassettes);
    let hashed = found
        .iter()
        .position(|f| f.starts_with("test_chat/test_topics-gift_cards_vouchers-"))
        .map(|i| found.remove(i))
        .unwrap_or_else(|| panic!("no cassette for test_topics[gift cards/vouchers]: {found:?}"));
    let hash = hashed
        .strip_prefix("test_chat/test_topics-gift_cards_vouchers-")
        .and_then(|h| h.strip_suffix(".yaml"))
        .unwrap();
    assert!(
        hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hashed}"
    );
    assert_eq!(
        found,
        [
            "shared/any-question.yaml",
            "test_chat/TestSupport.test_escalate.yaml",
            "test_chat/test_refund.yaml",
            "test_chat/test_stream.yaml",
            "test_chat/test_swallows_errors.yaml",
            "test_chat/test_topics-shipping.yaml",
            "test_messages/test_claude.yaml",
        ]
    );
    let refund = std::fs::read_to_string(cassettes.join("test_chat/test_refund.yaml")).unwrap();
    assert!(
        refund.contains("cassette: test_chat/test_refund"),
        "{refund}"
    );
    assert!(refund.contains("What is the refund policy?"), "{refund}");
    assert!(
        !refund.contains("Escalate"),
        "another test's call: {refund}"
    );
    assert!(
        !refund.contains("sk-test"),
        "API keys never reach a cassette"
    );
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The pids the plugin reports stopping ("traceforge server(s) stopped: pid 1, 2").
fn server_pids(output: &str) -> Vec<i32> {
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix("traceforge server(s) stopped: pid "))
        .unwrap_or_else(|| panic!("no server pids in:\n{output}"));
    line.split(", ")
        .map(|p| p.trim().parse().unwrap())
        .collect()
}

/// Running traceforge processes whose working directory is `dir`.
fn traceforge_processes_in(dir: &Path) -> Vec<i32> {
    let dir = dir.canonicalize().unwrap();
    let binary = bin().canonicalize().unwrap();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cwd = std::fs::read_link(entry.path().join("cwd"));
        let exe = std::fs::read_link(entry.path().join("exe"));
        if cwd.is_ok_and(|c| c == dir) && exe.is_ok_and(|e| e == binary) {
            found.push(pid);
        }
    }
    found
}

/// Every server the plugin started is gone, by the pids it printed and by a scan of /proc.
fn assert_nothing_left_running(output: &str, project: &Path, servers: usize) {
    let pids = server_pids(output);
    assert_eq!(pids.len(), servers, "{output}");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "traceforge server {pid} is still running"
        );
    }
    assert_eq!(traceforge_processes_in(project), Vec::<i32>::new());
}

/// The names of the tests pytest reports as failed, sorted.
fn failed_tests(output: &str) -> Vec<String> {
    let mut failed: Vec<String> = output
        .lines()
        .filter_map(|l| l.strip_prefix("FAILED "))
        .map(|l| l.split(' ').next().unwrap_or(l).to_string())
        .collect();
    failed.sort();
    failed
}

/// Record, replay with the mock stopped, replay after an edit: `extra` is `[]` or
/// `["-n", "2"]`, `servers` how many servers that starts.
fn record_replay_edit(extra: &[&str], servers: usize) {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let project = project(mock.addr);
    let dir = project.path();

    let record = pytest(dir)
        .args(["--traceforge=record"])
        .args(extra)
        .env("OPENAI_API_KEY", "sk-test-recording-key-0123456789")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-recording-key-0123456789")
        .output()
        .unwrap();
    let out = text(&record);
    assert!(record.status.success(), "record failed:\n{out}");
    assert!(out.contains("9 passed, 1 skipped"), "{out}");
    let cassettes = dir.join("cassettes");
    assert!(
        out.contains(&format!(
            "cassettes in {}: ",
            cassettes.canonicalize().unwrap().display()
        )),
        "{out}"
    );
    assert!(out.contains(", 8 recorded, 0 replayed, 0 missed"), "{out}");
    assert_one_cassette_per_test(&cassettes);
    assert_nothing_left_running(&out, dir, servers);
    rt.block_on(mock.stop());

    // Replay with the mock gone and no API key; the mode from the environment, as in CI.
    let replay = pytest(dir)
        .args(extra)
        .env("TRACEFORGE_MODE", "replay")
        .output()
        .unwrap();
    let out = text(&replay);
    assert!(replay.status.success(), "replay failed:\n{out}");
    assert!(out.contains("9 passed, 1 skipped"), "{out}");
    assert!(out.contains(", 0 recorded, 8 replayed, 0 missed"), "{out}");
    assert_nothing_left_running(&out, dir, servers);

    // Two prompts edited: exactly those tests fail, each showing its miss report, also the
    // one that swallows the SDK's error. The flag wins over the environment.
    let test_file = dir.join("tests/test_chat.py");
    let source = std::fs::read_to_string(&test_file).unwrap();
    let edited = source
        .replace("What is the refund policy?", "What is the return policy?")
        .replace("open on Sunday?", "open on Monday?");
    assert_ne!(edited, source);
    std::fs::write(&test_file, edited).unwrap();
    let edited = pytest(dir)
        .args(["--traceforge=replay"])
        .args(extra)
        .env("TRACEFORGE_MODE", "record")
        .output()
        .unwrap();
    let out = text(&edited);
    assert_eq!(edited.status.code(), Some(1), "{out}");
    assert!(out.contains("2 failed, 7 passed, 1 skipped"), "{out}");
    assert_eq!(
        failed_tests(&out),
        [
            "tests/test_chat.py::test_refund",
            "tests/test_chat.py::test_swallows_errors"
        ],
        "{out}"
    );
    for (cassette, recorded, requested) in [
        (
            "test_chat/test_refund",
            "What is the refund policy?",
            "What is the return policy?",
        ),
        (
            "test_chat/test_swallows_errors",
            "Is the store open on Sunday?",
            "Is the store open on Monday?",
        ),
    ] {
        assert!(
            out.contains(&format!(
                "traceforge: replay miss in cassette \"{cassette}\""
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "$.messages[0].content: recorded \"{recorded}\" → requested \"{requested}\""
            )),
            "{out}"
        );
    }
    assert!(out.contains(", 6 replayed, 2 missed"), "{out}");
    assert_nothing_left_running(&out, dir, servers);
}

#[test]
fn one_cassette_per_test_recorded_replayed_and_misses_fail_their_test() {
    if !python_ready() {
        return;
    }
    record_replay_edit(&[], 1);
}

#[test]
fn under_xdist_each_worker_has_its_own_server() {
    if !python_ready() {
        return;
    }
    record_replay_edit(&["-n", "2"], 2);
}

#[test]
fn ctrl_c_writes_the_cassettes_and_leaves_nothing_running() {
    if !python_ready() {
        return;
    }
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let project = project(mock.addr);
    let dir = project.path();
    let waiting = dir.join("waiting");
    let mut command = pytest(dir);
    use std::os::unix::process::CommandExt as _;
    // SAFETY: signal(2) is async-signal-safe and changes only the child. A test run started
    // in the background inherits SIGINT ignored, and Python then never sees Ctrl-C.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let child = command
        .args(["--traceforge=record", "tests/test_wait.py"])
        .env("OPENAI_API_KEY", "sk-test-recording-key-0123456789")
        .env("SAMPLE_WAIT_FILE", &waiting)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the test to record its call", || waiting.exists());
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pytest process this test started and has not reaped.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "interrupted:\n{out}");
    assert!(out.contains("KeyboardInterrupt"), "{out}");
    assert_nothing_left_running(&out, dir, 1);
    let cassette =
        std::fs::read_to_string(dir.join("cassettes/test_wait/test_wait_for_interrupt.yaml"))
            .unwrap();
    assert!(cassette.contains("Before the interrupt"), "{cassette}");
    rt.block_on(mock.stop());
}

#[test]
fn a_missing_binary_or_mode_is_one_usage_error() {
    if !python_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&plugin_dir().join("tests/sample"), dir.path());
    let missing = pytest(dir.path())
        .args(["--traceforge=replay"])
        .env("TRACEFORGE_BIN", dir.path().join("no-such-traceforge"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(4), "{}", text(&missing));
    let expected = format!(
        "ERROR: traceforge: TRACEFORGE_BIN={}: no executable file there",
        dir.path().join("no-such-traceforge").display()
    );
    assert_eq!(err.trim(), expected);

    // Not on PATH either: python3 is run by its full path, with a PATH that has no traceforge.
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let python = PathBuf::from(String::from_utf8_lossy(&python.stdout).trim());
    let mut command = pytest(dir.path());
    let not_on_path = command
        .env_remove("TRACEFORGE_BIN")
        .env("PATH", python.parent().unwrap())
        .env("TRACEFORGE_MODE", "replay")
        .output()
        .unwrap();
    assert_eq!(not_on_path.status.code(), Some(4), "{}", text(&not_on_path));
    assert!(
        String::from_utf8_lossy(&not_on_path.stderr)
            .contains("ERROR: traceforge: the traceforge binary is not on PATH"),
        "{}",
        text(&not_on_path)
    );

    let bad_mode = pytest(dir.path())
        .env("TRACEFORGE_MODE", "recrod")
        .output()
        .unwrap();
    assert_eq!(bad_mode.status.code(), Some(4), "{}", text(&bad_mode));
    assert!(
        String::from_utf8_lossy(&bad_mode.stderr)
            .contains("ERROR: TRACEFORGE_MODE='recrod': expected record, replay or off"),
        "{}",
        text(&bad_mode)
    );
}

#[test]
fn cassette_names_from_node_ids() {
    if !python_ready() {
        return;
    }
    let naming = pytest(&plugin_dir())
        .args(["-q", "tests/test_naming.py"])
        .output()
        .unwrap();
    let out = text(&naming);
    assert!(naming.status.success(), "{out}");
    assert!(out.contains("20 passed"), "{out}");
}

/// A control request to a proxy: status and JSON answer.
async fn control(method: &str, url: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn chat(prompt: &str) -> serde_json::Value {
    serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]})
}

/// What the plugin relies on, without Python: `PUT /_traceforge/v1/cassette` sends requests
/// without a header to that cassette, matched with the fields given; `GET misses` lists the
/// replay misses since a number.
#[test]
fn control_api_picks_the_cassette_and_its_match_fields_and_lists_misses() {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let dir = tempfile::tempdir().unwrap();
    let upstream = format!("openai=http://{}", mock.addr);
    let recording = ProxyProcess::start(
        dir.path(),
        &[
            "vcr",
            "record",
            "--mode",
            "new-episodes",
            "--cassettes",
            "c",
            "--no-traces",
            "--upstream",
            &upstream,
        ],
    );
    let cassette_url = recording.url("/_traceforge/v1/cassette");
    let chat_url = recording.url("/openai/v1/chat/completions");
    rt.block_on(async {
        let (status, answer) =
            control("PUT", &cassette_url, Some(r#"{"cassette": "t/one"}"#)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["cassette"], "t/one");
        assert_eq!(answer["misses"], 0);
        let cassettes_dir = dir.path().canonicalize().unwrap().join("c");
        assert_eq!(answer["cassettes_dir"], cassettes_dir.display().to_string());
        assert_eq!(post(&chat_url, &chat("hello"), &[]).await.status, 200);
        let (status, _) = control(
            "PUT",
            &cassette_url,
            Some(r#"{"cassette": "t/two", "match": ["method", "upstream", "path"]}"#),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(post(&chat_url, &chat("A"), &[]).await.status, 200);
    });
    let stopped = recording.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("2 recorded, 0 replayed"),
        "{}",
        stopped.stderr
    );
    let one = std::fs::read_to_string(dir.path().join("c/t/one.yaml")).unwrap();
    let two = std::fs::read_to_string(dir.path().join("c/t/two.yaml")).unwrap();
    assert!(
        one.contains("hello") && !one.contains("content: A"),
        "{one}"
    );
    assert!(
        two.contains("content: A") && !two.contains("hello"),
        "{two}"
    );
    rt.block_on(mock.stop());

    let replay = ProxyProcess::start(
        dir.path(),
        &["vcr", "replay", "--cassettes", "c", "--no-traces"],
    );
    let cassette_url = replay.url("/_traceforge/v1/cassette");
    let misses_url = replay.url("/_traceforge/v1/misses");
    let chat_url = replay.url("/openai/v1/chat/completions");
    rt.block_on(async {
        let put = |body: &'static str| control("PUT", &cassette_url, Some(body));
        assert_eq!(put(r#"{"cassette": "t/two", "match": "x"}"#).await.0, 400);
        let (_, answer) = put(r#"{"cassette": "t/two", "match": ["method", "path"]}"#).await;
        assert_eq!(answer["cassette"], "t/two");

        let (_, answer) = put(r#"{"cassette": "t/one"}"#).await;
        assert_eq!(answer["misses"], 0);
        assert_eq!(post(&chat_url, &chat("hello"), &[]).await.status, 200);
        assert_eq!(post(&chat_url, &chat("goodbye"), &[]).await.status, 404);
        // The header still wins over the selected cassette (matched by its own fields).
        let header = [("x-traceforge-cassette", "t/two")];
        let other = post(&chat_url, &chat("other"), &header).await;
        assert_eq!(other.status, 200, "{other:?}");

        let (status, misses) = control("GET", &format!("{misses_url}?since=0"), None).await;
        assert_eq!(status, 200, "{misses}");
        assert_eq!(misses["next"], 1);
        assert_eq!(misses["dropped"], 0);
        let list = misses["misses"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{misses}");
        assert_eq!(list[0]["seq"], 0);
        assert_eq!(list[0]["cassette"], "t/one");
        let report = list[0]["report"].as_str().unwrap();
        assert!(
            report.contains("$.messages[0].content: recorded \"hello\" → requested \"goodbye\""),
            "{report}"
        );
        let (_, later) = control("GET", &format!("{misses_url}?since=1"), None).await;
        assert_eq!(later["misses"], serde_json::json!([]));
        assert_eq!(put(r#"{"cassette": "t/one"}"#).await.1["misses"], 1);

        // Fields given again start the cassette's replays over; without them the run's
        // match fields apply and the body counts again.
        put(r#"{"cassette": "t/two", "match": ["method", "upstream", "path"]}"#).await;
        assert_eq!(post(&chat_url, &chat("anything"), &[]).await.status, 200);
        put(r#"{"cassette": "t/two"}"#).await;
        assert_eq!(post(&chat_url, &chat("A"), &[]).await.status, 200);
        assert_eq!(post(&chat_url, &chat("anything"), &[]).await.status, 404);

        let (status, answer) = put(r#"{"cassette": "../x"}"#).await;
        assert_eq!(status, 400);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid cassette name \"../x\""),
            "{answer}"
        );
        assert_eq!(put(r#"{"cassete": "x"}"#).await.0, 400);
        assert_eq!(put(r#"{"cassette": "x", "match": []}"#).await.0, 400);
        assert_eq!(
            control("GET", &format!("{misses_url}?since=-1"), None)
                .await
                .0,
            400
        );
        assert_eq!(control("DELETE", &cassette_url, None).await.0, 405);
        let (status, _) = control("GET", &replay.url("/_traceforge/v1/other"), None).await;
        assert_eq!(status, 404);
    });
    let stopped = replay.stop();
    assert!(stopped.stderr.contains("2 missed"), "{}", stopped.stderr);
}
