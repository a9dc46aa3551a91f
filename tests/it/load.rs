//! `traceforge load` end to end: the real binary against in-process servers on 127.0.0.1:0 (the
//! mock LLM, a server with one scripted 1 s freeze, a server with a settable delay, an https
//! server) and the in-process replay server. Timing claims are checked from what the tool
//! itself reports (the summary JSON, the NDJSON samples), and only as lower bounds the physics
//! guarantees (a sleep never ends early): how late a busy machine runs is for the benchmarks
//! (benches/load.sh) and the schedule's unit tests, never an assertion here.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

use crate::common::{runtime, start_mock, traceforge_command};
use traceforge::server::{self, json_response, Running};

/// What one `traceforge load` run produced.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    summary: Value,
}

/// Writes `scenario` to `dir/scenario.yaml` and runs `traceforge load` on it with `args`,
/// exporting the summary JSON.
fn load(dir: &Path, scenario: &str, args: &[&str]) -> Run {
    load_with_env(dir, scenario, args, &[])
}

/// [`load`] with extra environment variables.
fn load_with_env(dir: &Path, scenario: &str, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let file = dir.join("scenario.yaml");
    std::fs::write(&file, scenario).unwrap();
    let summary = dir.join("summary.json");
    let _ = std::fs::remove_file(&summary);
    let output = traceforge_command()
        .current_dir(dir)
        .arg("load")
        .arg(&file)
        .arg("--summary-export")
        .arg(&summary)
        .args(args)
        .env_remove("TARGET")
        .env_remove("SSL_CERT_FILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        summary: std::fs::read_to_string(&summary)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null),
    }
}

impl Run {
    fn value(&self, metric: &str, stat: &str) -> f64 {
        self.summary["metrics"][metric]["values"][stat]
            .as_f64()
            .unwrap_or_else(|| {
                panic!(
                    "no {metric}.{stat} in the summary\nstdout:\n{}\nstderr:\n{}",
                    self.stdout, self.stderr
                )
            })
    }

    fn explain(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The setup most tests share: a runtime, a server on 127.0.0.1:0 that `--target` points at
/// (stopped when this is dropped) and a scratch directory to run scenarios in.
struct Setup {
    rt: tokio::runtime::Runtime,
    server: Option<Running>,
    dir: tempfile::TempDir,
    target: String,
}

impl Setup {
    fn start<F: Future<Output = Running>>(server: F) -> Setup {
        let rt = runtime();
        let server = rt.block_on(server);
        Setup {
            target: format!("http://{}", server.addr),
            server: Some(server),
            rt,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The [`Scripted`] server, driven by `state`.
    fn scripted(state: &Arc<Scripted>) -> Setup {
        Setup::start(start_scripted(state.clone()))
    }

    /// The mock LLM.
    fn mock(config: MockConfig) -> Setup {
        Setup::start(start_mock(config))
    }

    /// [`load`] in the scratch directory with `--target` this server, then `args`.
    fn load(&self, scenario: &str, args: &[&str]) -> Run {
        let args = [&["--target", self.target.as_str()], args].concat();
        load(self.dir.path(), scenario, &args)
    }

    /// A file in the scratch directory (an NDJSON output, a baseline).
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.stop());
        }
    }
}

/// A server answering `{"ok": true}` after `delay_ms` (settable while running); the request
/// numbered `freeze_at` (1-based, 0 = never) freezes it for one second: that request and every
/// one arriving during the freeze wait until it ends.
#[derive(Default)]
struct Scripted {
    requests: AtomicU64,
    delay_ms: AtomicU64,
    freeze_at: AtomicU64,
    frozen_until: Mutex<Option<tokio::time::Instant>>,
}

async fn start_scripted(state: Arc<Scripted>) -> Running {
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    Running::spawn(
        listener,
        move |request: http::Request<hyper::body::Incoming>| {
            let state = state.clone();
            async move {
                let _ = request.into_body().collect().await;
                let n = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
                let now = tokio::time::Instant::now();
                let wait = {
                    let mut until = state.frozen_until.lock().unwrap();
                    if n == state.freeze_at.load(Ordering::SeqCst) {
                        *until = Some(now + Duration::from_secs(1));
                    }
                    until.filter(|u| *u > now)
                };
                if let Some(until) = wait {
                    tokio::time::sleep_until(until).await;
                }
                let delay = state.delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                json_response(200, &json!({"ok": true}))
            }
        },
    )
    .unwrap()
}

/// `(seconds since the first sample, value)` of every NDJSON point of `metric`, by time.
fn points(path: &Path, metric: &str) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut start = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        if value["type"] != "Point" {
            assert_eq!(value["type"], "Metric", "{line}");
            continue;
        }
        let time =
            chrono::DateTime::parse_from_rfc3339(value["data"]["time"].as_str().unwrap()).unwrap();
        let start = *start.get_or_insert(time);
        if value["metric"] == metric {
            let seconds = (time - start).num_microseconds().unwrap() as f64 / 1e6;
            out.push((seconds, value["data"]["value"].as_f64().unwrap()));
        }
    }
    // Samples are written as they are handed over, not strictly in time order.
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

#[test]
fn streamed_chat_against_the_mock_times_the_first_real_token() {
    // The mock sends a role-only delta at 300 ms, then a text delta every 100 ms.
    let setup = Setup::mock(MockConfig {
        first_event_delay: Duration::from_millis(300),
        event_delay: Duration::from_millis(100),
    });
    let scenario = r#"
scenarios:
  chat:
    executor: per-vu-iterations
    vus: 2
    iterations: 2
    request:
      method: POST
      url: "${TARGET}/v1/chat/completions"
      headers: {content-type: application/json}
      body: {model: gpt-4o-mini, stream: true, stream_options: {include_usage: true}, messages: [{role: user, content: hello}]}
    checks:
      - {name: "status is 200", status: 200}
      - {name: "has text", body_matches: "\\w+"}
thresholds:
  llm_ttft: ["p(95)>=390"]
  checks: ["rate==1"]
"#;
    let run = setup.load(scenario, &[]);
    assert_eq!(run.code, Some(0), "{}", run.explain());
    // The first delta carrying text arrives 400 ms in; the role-only one at 300 ms does not count.
    assert!(run.value("llm_ttft", "min") >= 399.0, "{}", run.explain());
    // One gap can shrink when the event before it was read late, but over a stream they add up
    // to the server's pacing.
    assert!(run.value("llm_itl", "avg") >= 90.0, "{}", run.explain());
    let tokens = run.value("llm_output_tokens", "count");
    assert!(tokens >= 4.0, "usage-reported output tokens: {tokens}");
    let ttft = run.value("llm_ttft", "avg");
    let duration = run.value("http_req_duration", "avg");
    assert!(duration > ttft, "ttft {ttft} inside duration {duration}");
    assert!(
        run.value("llm_tpot", "min") >= 99.0 / 2.0,
        "{}",
        run.explain()
    );
    let metrics = &run.summary["metrics"];
    assert_eq!(metrics["llm_ttft"]["type"], "trend");
    assert_eq!(metrics["llm_ttft"]["contains"], "time");
    assert_eq!(metrics["llm_ttft"]["thresholds"]["p(95)>=390"]["ok"], true);
    assert_eq!(metrics["llm_output_tokens"]["type"], "counter");
    assert_eq!(metrics["http_reqs"]["values"]["count"], 4.0);
    assert_eq!(metrics["iterations"]["values"]["count"], 4.0);
    assert_eq!(run.summary["version"], 1);
    assert!(run.stdout.contains("LLM"), "{}", run.stdout);
    assert!(
        run.stdout.contains("✓ all 2 thresholds passed"),
        "{}",
        run.stdout
    );
}

#[test]
fn open_model_latency_includes_a_stall_from_the_intended_start() {
    let state = Arc::new(Scripted::default());
    state.freeze_at.store(20, Ordering::SeqCst);
    let setup = Setup::scripted(&state);
    let scenario = r#"
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50
    timeUnit: 1s
    duration: 3s
    preAllocatedVUs: 100
    maxVUs: 200
    request: {url: "${TARGET}/"}
"#;
    let run = setup.load(scenario, &[]);
    assert_eq!(run.code, Some(0), "{}", run.explain());
    let count = run.value("http_reqs", "count");
    assert!(
        (140.0..=151.0).contains(&count),
        "{count} iterations scheduled"
    );
    assert_eq!(run.summary["scenarios"]["steady"]["dropped_iterations"], 0);
    // About 50 requests were due during the freeze; each waited until it ended, measured from
    // when it was due: the first ones almost the whole second.
    let p99 = run.value("http_req_duration", "p(99)");
    assert!(p99 >= 900.0, "p99 {p99} ms must show the 1 s stall");
    let p90 = run.value("http_req_duration", "p(90)");
    assert!(
        p90 >= 400.0,
        "p90 {p90} ms: a third of the requests met the stall"
    );
}

#[test]
fn closed_model_vus_each_wait_out_a_stall_once() {
    let state = Arc::new(Scripted::default());
    state.freeze_at.store(50, Ordering::SeqCst);
    let setup = Setup::scripted(&state);
    let out = setup.path("samples.ndjson");
    let scenario = r#"
scenarios:
  loop:
    executor: constant-vus
    vus: 4
    duration: 2s
    request: {url: "${TARGET}/"}
"#;
    let run = setup.load(scenario, &["--out", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.explain());
    // k6's closed model: a VU starts its next iteration only when the last one ended, so during
    // the freeze each of the 4 VUs has exactly one request waiting, and the stall shows in at
    // most 4 samples however long it lasts (the load simply stops: coordinated omission).
    let durations = points(&out, "http_req_duration");
    assert_eq!(durations.len() as f64, run.value("http_reqs", "count"));
    let stalled = durations.iter().filter(|(_, ms)| *ms >= 800.0).count();
    assert!((1..=4).contains(&stalled), "{stalled} stalled samples");
    assert!(run.value("http_req_duration", "max") >= 500.0);
}

#[test]
fn ramping_vus_reach_each_target_on_schedule() {
    let state = Arc::new(Scripted::default());
    state.delay_ms.store(20, Ordering::SeqCst);
    let setup = Setup::scripted(&state);
    let out = setup.path("samples.ndjson");
    let scenario = r#"
scenarios:
  ramp:
    executor: ramping-vus
    startVUs: 0
    stages:
      - {duration: 1s, target: 4}
      - {duration: 1s, target: 4}
      - {duration: 1s, target: 0}
    gracefulRampDown: 0s
    request: {url: "${TARGET}/"}
"#;
    let run = setup.load(scenario, &["--out", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.explain());
    let vus = points(&out, "vus");
    let first_at = |n: f64| {
        vus.iter()
            .find(|(_, v)| *v >= n)
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("never reached {n} VUs: {vus:?}"))
    };
    // One VU every 250 ms up to 4 at 1 s, hold, then down to 0 at 3 s. A timer never fires
    // early (how late it fires on a busy machine is not this test's business: the steps' times
    // are unit-tested in run::closed_model).
    for (n, due) in [(1.0, 0.25), (2.0, 0.5), (4.0, 1.0)] {
        let at = first_at(n);
        assert!(at >= due - 0.02, "{n} VUs at {at}s, due at {due}s: {vus:?}");
    }
    assert_eq!(vus.iter().map(|(_, v)| *v).fold(0.0, f64::max), 4.0);
    let peak = first_at(4.0);
    let down = vus
        .iter()
        .find(|(t, v)| *t > peak && *v == 0.0)
        .map(|(t, _)| *t)
        .expect("ramped down to 0");
    assert!(down >= 2.98, "0 VUs at {down}s, due at 3s: {vus:?}");
    // Between the ramps the VUs held at 4.
    assert!(vus
        .iter()
        .filter(|(t, _)| *t > peak + 0.1 && *t < 1.95)
        .all(|(_, v)| *v == 4.0));
}

#[test]
fn a_failed_threshold_exits_99_and_says_which() {
    let state = Arc::new(Scripted::default());
    state.delay_ms.store(30, Ordering::SeqCst);
    let setup = Setup::scripted(&state);
    let scenario = r#"
vus: 2
duration: 500ms
request: {url: "${TARGET}/"}
checks:
  - {status: 200}
  - {name: "ok is true", json: "$.ok", equals: true}
thresholds:
  http_req_duration: ["p(95)<5"]
  http_req_failed: ["rate<0.1"]
  "checks{check:ok is true}": ["rate==1"]
  llm_ttft: ["p(95)<100"]
"#;
    let run = setup.load(scenario, &[]);
    assert_eq!(run.code, Some(99), "{}", run.explain());
    let duration = &run.summary["metrics"]["http_req_duration"];
    assert_eq!(duration["thresholds"]["p(95)<5"]["ok"], false);
    assert_eq!(
        run.summary["metrics"]["http_req_failed"]["thresholds"]["rate<0.1"]["ok"],
        true
    );
    assert_eq!(
        run.summary["metrics"]["checks{check:ok is true}"]["thresholds"]["rate==1"]["ok"],
        true
    );
    // A metric that got no samples fails its threshold, saying so (k6 would pass it).
    assert_eq!(
        run.summary["metrics"]["llm_ttft"]["thresholds"]["p(95)<100"]["ok"],
        false
    );
    assert!(run.stdout.contains("no samples"), "{}", run.stdout);
    assert!(
        run.stdout.contains("✗ 2 of 4 thresholds failed"),
        "{}",
        run.stdout
    );
    assert_eq!(run.summary["result"]["passed"], false);
}

#[test]
fn abort_on_fail_stops_the_test_early_with_99() {
    let setup = Setup::mock(MockConfig::default());
    // An hour-long schedule: the run ends only because the failing threshold stops it.
    let scenario = r#"
vus: 1
duration: 1h
request:
  url: "${TARGET}/v1/chat/completions"
  headers: {x-mock-status: "500"}
  body: {model: gpt-4o-mini, messages: [{role: user, content: hi}]}
thresholds:
  http_req_failed: [{threshold: "rate<0.5", abortOnFail: true}]
"#;
    let run = setup.load(scenario, &[]);
    assert_eq!(run.code, Some(99), "{}", run.explain());
    let aborted = run.summary["state"]["aborted"].as_str().unwrap_or_default();
    assert!(aborted.contains("rate<0.5"), "{}", run.explain());
    assert!(
        run.stdout.contains("✗ aborted: threshold rate<0.5"),
        "{}",
        run.stdout
    );
    assert_eq!(run.summary["state"]["interrupted"], false);
}

#[test]
fn a_baseline_catches_a_regression_and_passes_an_equal_rerun() {
    let state = Arc::new(Scripted::default());
    state.delay_ms.store(500, Ordering::SeqCst);
    let setup = Setup::scripted(&state);
    let baseline = setup.path("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let scenario = r#"
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 20
    duration: 3s
    preAllocatedVUs: 40
    request: {url: "${TARGET}/"}
"#;
    let first = setup.load(scenario, &["--save-baseline", baseline]);
    assert_eq!(first.code, Some(0), "{}", first.explain());
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(baseline).unwrap()).unwrap();
    assert_eq!(saved["kind"], "traceforge-load-baseline");
    assert!(saved["metrics"]["http_req_duration"]["histogram"].is_string());
    assert!(saved["environment"]["cpus"].as_u64().unwrap() >= 1);

    // The same server again: no regression. The server's 500 ms dwarf a busy machine's
    // scheduling delays, which only add: 50% of it is 250 ms of slack. The regression below
    // is +200%.
    let compare = ["--baseline", baseline, "--max-regression", "50%"];
    let again = setup.load(scenario, &compare);
    assert_eq!(again.code, Some(0), "{}", again.explain());
    assert_eq!(again.summary["baseline"]["regressed"], false);
    assert!(
        again.stdout.contains("✓ no regression beyond 50%"),
        "{}",
        again.stdout
    );

    state.delay_ms.store(1500, Ordering::SeqCst);
    let slower = setup.load(scenario, &compare);
    assert_eq!(slower.code, Some(99), "{}", slower.explain());
    let comparisons = slower.summary["baseline"]["comparisons"]
        .as_array()
        .unwrap();
    let p95 = comparisons
        .iter()
        .find(|c| c["metric"] == "http_req_duration" && c["stat"] == "p(95)")
        .unwrap();
    assert_eq!(p95["regressed"], true);
    assert_eq!(p95["worse_when"], "higher");
    assert!(slower.stdout.contains("BASELINE"), "{}", slower.stdout);
    assert!(
        slower.stdout.contains("✗ regression beyond 50%"),
        "{}",
        slower.stdout
    );
}

#[test]
fn cassettes_replay_through_the_in_process_server_with_recorded_latency() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        r#"
scenarios:
  recorded:
    executor: per-vu-iterations
    vus: 2
    iterations: 2
    from_cassettes: {}
    checks:
      - {{status: 200}}
thresholds:
  checks: ["rate==1"]
"#,
        fixtures.join("cassettes").display()
    );
    let cassettes = fixtures.join("cassettes");
    let run = load(
        dir.path(),
        &scenario,
        &[
            "--replay",
            cassettes.to_str().unwrap(),
            "--latency",
            "recorded",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.explain());
    // The streamed interaction's first text delta was recorded at 230 ms (its role-only
    // delta at 180 ms); the plain one's first byte at 120 ms.
    assert!(run.value("llm_ttft", "min") >= 229.0, "{}", run.explain());
    assert!(
        run.value("http_req_duration", "min") >= 119.0,
        "{}",
        run.explain()
    );
    assert_eq!(run.value("http_reqs", "count"), 4.0);

    // Without recorded latency the same requests are answered too (how much faster is the
    // replay benchmark's business, benches/replay.sh).
    let fast = load(
        dir.path(),
        &scenario,
        &["--replay", cassettes.to_str().unwrap()],
    );
    assert_eq!(fast.code, Some(0), "{}", fast.explain());
    assert_eq!(fast.value("http_reqs", "count"), 4.0);
    assert_eq!(fast.value("checks", "rate"), 1.0);
}

#[test]
fn ctrl_c_prints_the_summary_so_far_and_exits_130() {
    let state = Arc::new(Scripted::default());
    state.delay_ms.store(10, Ordering::SeqCst);
    let setup = Setup::scripted(&state);
    let file = setup.path("scenario.yaml");
    std::fs::write(
        &file,
        "vus: 1\nduration: 60s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_reqs: [\"count>0\"]\n",
    )
    .unwrap();
    let out = setup.path("samples.ndjson");
    let mut child = traceforge_command()
        .current_dir(setup.dir.path())
        .arg("load")
        .arg(&file)
        .args(["--target", &setup.target])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until requests are flowing (the NDJSON output has a request sample); the run's own
    // 60 s schedule bounds the wait.
    while !std::fs::read_to_string(&out)
        .is_ok_and(|t| t.contains("\"http_reqs\",\"type\":\"Point\""))
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended without sending a request"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("interrupted after"), "{stdout}");
    assert!(stdout.contains("http_reqs"), "{stdout}");
}

#[test]
fn bad_scenarios_exit_2_naming_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "scenarios:\n  chat:\n    executor: constant-vus\n    vuz: 4\n",
            "scenario.yaml:4:5: scenarios.chat: unknown field `vuz`",
        ),
        (
            "scenarios:\n  chat:\n    executor: constant-users\n",
            "scenario.yaml:3:15: scenarios.chat.executor: unknown variant `constant-users`, expected one of `constant-vus`",
        ),
        (
            "vus: 1\nduration: 5x\nrequest: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:2:11: duration: duration \"5x\" has unknown unit",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"http://127.0.0.1:9/\"}\nthresholds:\n  http_req_duration: [\"p(95)<=>500\"]\n",
            "scenario.yaml:5:23: thresholds.http_req_duration[0]: invalid threshold \"p(95)<=>500\", column 8: expected a number",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"http://127.0.0.1:9/\"}\nthresholds:\n  http_req_failed: [\"p(95)<1\"]\n",
            "scenario.yaml:5:22: thresholds: http_req_failed: \"p(95)<1\": a rate metric has no `p(95)`",
        ),
        (
            "scenarios:\n  chat:\n    executor: ramping-vus\n    duration: 10s\n    request: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:4:5: scenarios.chat.duration: executor ramping-vus does not take `duration`",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/v1/chat/completions\"}\n",
            "scenario.yaml:3:17: request.url: ${TARGET} is not set (pass --target URL or --replay DIR",
        ),
        ("vus: 1\nduration: 1s\nrequest: [\n", "scenario.yaml:"),
        // Out of range: errors, not a panic (exit 101) or a run that silently does nothing.
        (
            "vus: 1\nduration: 200000000000000d\nrequest: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:2:11: duration: duration \"200000000000000d\" is longer than 365d",
        ),
        (
            "scenarios:\n  a:\n    executor: constant-vus\n    duration: 1s\n    gracefulStop: 200000000000000d\n    request: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:5:19: scenarios.a.gracefulStop: duration \"200000000000000d\" is longer than 365d",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"http://127.0.0.1:9/\", timeout: 200000000000000d}\n",
            "scenario.yaml:3:48: request.timeout: duration \"200000000000000d\" is longer than 365d",
        ),
        (
            "vus: 1000000\nduration: 2s\nrequest: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:1:1: vus: `vus` must be at most 100000 VUs (it is 1000000)",
        ),
        (
            "scenarios:\n  a:\n    executor: constant-arrival-rate\n    rate: 1\n    duration: 1s\n    preAllocatedVUs: 1000000000\n    request: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:6:5: scenarios.a.preAllocatedVUs: `preAllocatedVUs` must be at most 100000 VUs",
        ),
        (
            "scenarios:\n  a:\n    executor: constant-arrival-rate\n    rate: 1000000000000\n    duration: 1s\n    preAllocatedVUs: 1\n    request: {url: \"http://127.0.0.1:9/\"}\n",
            "scenario.yaml:4:5: scenarios.a.rate: `rate` must be at most 100000 iterations per second",
        ),
    ];
    for (text, expected) in cases {
        let run = load(dir.path(), text, &[]);
        assert_eq!(run.code, Some(2), "{text}\n{}", run.explain());
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{}", run.stderr);
        assert!(
            errors[0].contains(expected),
            "for\n{text}\nexpected {expected:?}\n     got {:?}",
            errors[0]
        );
        assert!(run.stdout.is_empty(), "nothing runs: {}", run.stdout);
    }
    let run = load(
        dir.path(),
        "vus: 1\nduration: 1s\nrequest: {url: \"http://127.0.0.1:9/\"}\n",
        &["--max-regression", "lots"],
    );
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("error: --max-regression: \"lots\" is not a percentage"),
        "{}",
        run.stderr
    );
    let good = "vus: 1\nduration: 1s\nrequest: {url: \"http://127.0.0.1:9/\"}\n";
    for (args, expected) in [
        (
            &["--env", "NOEQUALS"][..],
            "error: --env NOEQUALS: expected NAME=VALUE",
        ),
        (&["--latency", "recorded"][..], "--replay <DIR>"),
        (
            &["--target", "http://127.0.0.1:9", "--replay", "."][..],
            "cannot be used with",
        ),
        (
            &["--replay", "no-such-dir"][..],
            "error: --replay no-such-dir: not a directory",
        ),
    ] {
        let run = load(dir.path(), good, args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.explain());
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    let run = load(dir.path(), good, &["--baseline", "missing.json"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("error: cannot access missing.json\nCaused by: No such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_example_scenarios_parse() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let options = traceforge::load::scenario::ParseOptions {
        vars: [
            ("TARGET".to_string(), "http://127.0.0.1:8080".to_string()),
            ("OPENAI_API_KEY".to_string(), "sk-example".to_string()),
        ]
        .into(),
        ..Default::default()
    };
    let mut parsed = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            traceforge::load::scenario::load(&path, &options).unwrap_or_else(|e| panic!("{e}"));
            parsed += 1;
        }
    }
    assert!(parsed >= 5, "{parsed} example scenarios");
}

#[test]
fn https_targets_are_verified_and_their_handshakes_timed() {
    let rt = runtime();
    let handshakes = Arc::new(AtomicU64::new(0));
    let (addr, server) = rt.block_on(crate::common::start_tls(
        handshakes.clone(),
        |request| async {
            let _ = request.into_body().collect().await;
            json_response(200, &json!({"ok": true}))
        },
    ));
    let dir = tempfile::tempdir().unwrap();
    let target = format!("https://{addr}");
    let scenario = r#"
scenarios:
  secure:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    request: {url: "${TARGET}/v1/models"}
    checks:
      - {name: "status is 200", status: 200}
thresholds:
  http_req_failed: ["rate==0"]
"#;

    // Trusted through SSL_CERT_FILE: each VU handshakes once and reuses its connection.
    let ca = crate::common::tls_fixture("ca.pem");
    let run = load_with_env(
        dir.path(),
        scenario,
        &["--target", &target],
        &[("SSL_CERT_FILE", &ca)],
    );
    assert_eq!(run.code, Some(0), "{}", run.explain());
    assert_eq!(run.value("http_reqs", "count"), 10.0);
    assert_eq!(run.value("checks", "rate"), 1.0);
    assert_eq!(handshakes.load(Ordering::SeqCst), 2);
    assert_eq!(run.value("http_req_tls_handshaking", "min"), 0.0);
    assert!(run.value("http_req_tls_handshaking", "max") > 0.0);
    // The wire bytes include the two handshakes (a certificate each) and the records'
    // overhead: well over the ten ~110-byte plaintext responses.
    let plaintext = 10.0 * 110.0;
    assert!(run.value("data_received", "count") > plaintext + 500.0);

    // Not trusted: the bundled roots do not know the test CA.
    let run = load(dir.path(), scenario, &["--target", &target]);
    assert_eq!(run.code, Some(99), "{}", run.explain());
    assert_eq!(run.value("http_req_failed", "rate"), 1.0);
    assert!(
        run.stdout.contains(&format!(
            "TLS handshake with {addr}: invalid peer certificate: UnknownIssuer (trust its CA \
             with SSL_CERT_FILE=ca.pem, or skip verification with `insecureSkipTLSVerify: true`)"
        )),
        "{}",
        run.explain()
    );

    // k6's insecureSkipTLSVerify accepts it.
    let insecure = format!("insecureSkipTLSVerify: true\n{scenario}");
    let run = load(dir.path(), &insecure, &["--target", &target]);
    assert_eq!(run.code, Some(0), "{}", run.explain());
    assert_eq!(run.value("checks", "rate"), 1.0);

    // A CA file with no certificate in it stops the test before it starts.
    let key = crate::common::tls_fixture("server.key");
    let run = load_with_env(
        dir.path(),
        scenario,
        &["--target", &target],
        &[("SSL_CERT_FILE", &key)],
    );
    assert_eq!(run.code, Some(2), "{}", run.explain());
    assert!(
        run.stderr.contains(&format!(
            "error: SSL_CERT_FILE={}: no PEM certificates in the file",
            key.display()
        )),
        "{}",
        run.explain()
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let run = load(
        dir.path(),
        &format!("insecureSkipTLSVerify: maybe\n{scenario}"),
        &["--target", &target],
    );
    assert_eq!(run.code, Some(2), "{}", run.explain());
    assert!(
        run.stderr
            .contains("scenario.yaml:1:24: insecureSkipTLSVerify: "),
        "{}",
        run.explain()
    );
    server.abort();
}
