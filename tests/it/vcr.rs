//! End to end: the real binary records traffic from the in-process mock LLM, then replays it with
//! the mock stopped; and every documented fault and bad input along the way.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

fn chat(content: &str, stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": content}]})
}

fn record_args<'a>(dir: &'a str, mock: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "vcr".into(),
        "record".into(),
        "--cassettes".into(),
        dir.into(),
        "--upstream".into(),
        format!("openai={mock}"),
        "--upstream".into(),
        format!("anthropic={mock}"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The usual set-up: the mock LLM, and `vcr record` in front of it writing to `work/c`.
struct Recording {
    rt: tokio::runtime::Runtime,
    work: tempfile::TempDir,
    dir: std::path::PathBuf,
    mock: traceforge::server::Running,
    recorder: ProxyProcess,
}

impl Recording {
    fn start() -> Recording {
        let rt = runtime();
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("c");
        let mock = rt.block_on(start_mock(MockConfig::default()));
        let recorder = start(
            work.path(),
            &record_args(dir.to_str().unwrap(), &format!("http://{}", mock.addr), &[]),
        );
        Recording {
            rt,
            work,
            dir,
            mock,
            recorder,
        }
    }
}

/// `vcr replay --cassettes DIR` as a server.
fn start_replay(cwd: &Path, dir: &str) -> ProxyProcess {
    ProxyProcess::start(cwd, &["vcr", "replay", "--cassettes", dir])
}

fn start(cwd: &Path, args: &[String]) -> ProxyProcess {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ProxyProcess::start(cwd, &args)
}

/// The requests of the issue's proof: every API, plain and streamed, with tools.
fn api_matrix() -> Vec<(&'static str, &'static str, Value)> {
    let weather_openai = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let weather_anthropic = json!([{"name": "get_weather", "description": "weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    vec![
        (
            "openai chat plain",
            "/openai/v1/chat/completions",
            chat("Say hello", false),
        ),
        (
            "openai chat streamed",
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Stream a haiku"}]}),
        ),
        (
            "openai chat tool call",
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": weather_openai}),
        ),
        (
            "openai chat tool call streamed",
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Weather in Rome?"}], "tools": weather_openai}),
        ),
        (
            "openai responses streamed",
            "/openai/v1/responses",
            json!({"model": "gpt-4o-mini", "stream": true, "input": "Tell me about replay"}),
        ),
        (
            "anthropic plain",
            "/anthropic/v1/messages",
            json!({"model": "claude-3-5-haiku-latest", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi Claude"}]}),
        ),
        (
            "anthropic streamed tool use",
            "/anthropic/v1/messages",
            json!({"model": "claude-3-5-haiku-latest", "max_tokens": 100, "stream": true, "messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": weather_anthropic}),
        ),
    ]
}

#[test]
fn record_then_replay_offline_gives_clients_the_same_responses() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let cassettes = work.path().join("cassettes");
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);

    let recorder = start(
        work.path(),
        &record_args(cassettes.to_str().unwrap(), &mock_url, &[]),
    );
    let mut recorded = Vec::new();
    for (label, path, body) in api_matrix() {
        let received = rt.block_on(post(
            &recorder.url(path),
            &body,
            &[("authorization", "Bearer sk-test-0123456789abcdefghij")],
        ));
        assert_eq!(received.status, 200, "{label}: {received:?}");
        recorded.push(received);
    }
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(stopped.stderr.contains("7 recorded"), "{}", stopped.stderr);
    rt.block_on(mock.stop());

    // The upstream is gone: replay must answer everything from the cassette.
    let replayer = start_replay(work.path(), cassettes.to_str().unwrap());
    for ((label, path, body), before) in api_matrix().into_iter().zip(&recorded) {
        let after = rt.block_on(post(&replayer.url(path), &body, &[]));
        assert_eq!(after.status, before.status, "{label}");
        assert_eq!(after.content_type, before.content_type, "{label}");
        match (&before.payload, &after.payload) {
            (Payload::Events(a), Payload::Events(b)) => {
                assert_eq!(untimed(a), untimed(b), "{label}")
            }
            (a, b) => assert_eq!(a, b, "{label}"),
        }
    }
    // The streamed tool calls really carried tool calls (not just matching bytes).
    let anthropic_tool = traceforge::provider::assemble(&recorded[6].as_response());
    assert_eq!(anthropic_tool.tool_calls[0].name, "get_weather");
    let openai_tool = traceforge::provider::assemble(&recorded[3].as_response());
    assert_eq!(openai_tool.tool_calls[0].name, "get_weather");
    let stopped = replayer.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("7 replayed, 0 missed"),
        "{}",
        stopped.stderr
    );

    // Secrets never reached the file, and bodies are data, not strings.
    let text = std::fs::read_to_string(cassettes.join("default.yaml")).unwrap();
    assert!(!text.contains("sk-test-0123456789abcdefghij"));
    assert!(text.contains("authorization: REDACTED"));
    let cassette = cassette(&cassettes.join("default.yaml"));
    assert_eq!(cassette.interactions.len(), 7);
    let streamed = &cassette.interactions[1];
    assert!(streamed.response.stream.as_ref().unwrap().len() > 3);
    assert!(!streamed.response.incomplete);
    assert!(streamed.usage.as_ref().unwrap().output_tokens.is_some());
    assert!(streamed.timing.is_some());
}

#[test]
fn a_replay_miss_explains_itself_and_fails_the_run() {
    let Recording {
        rt,
        work,
        dir,
        mock: _mock,
        recorder,
    } = Recording::start();
    rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("What is the refund policy?", false),
        &[],
    ));
    rt.block_on(post(&recorder.url("/anthropic/v1/messages"), &json!({"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}), &[]));
    assert!(recorder.stop().status.success());

    let replayer = start_replay(work.path(), dir.to_str().unwrap());
    let miss = rt.block_on(post(
        &replayer.url("/openai/v1/chat/completions"),
        &chat("What is the return policy?", false),
        &[],
    ));
    assert_eq!(miss.status, 404);
    let message = miss.json()["error"]["message"].as_str().unwrap();
    assert!(message.contains("cassette \"default\""), "{message}");
    assert!(
        message.contains("nearest recorded is interaction 1"),
        "{message}"
    );
    assert!(message.contains("$.messages[0].content"), "{message}");
    // Anthropic clients get Anthropic's error shape.
    let miss = rt.block_on(post(&replayer.url("/anthropic/v1/messages"), &json!({"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "bye"}]}), &[]));
    assert_eq!(miss.status, 404);
    assert_eq!(miss.json()["type"], "error");
    assert_eq!(miss.json()["error"]["type"], "not_found_error");

    let stopped = replayer.stop();
    assert_eq!(stopped.status.code(), Some(1), "{}", stopped.stderr);
    let report = &stopped.stderr;
    assert!(
        report.contains("replay miss in cassette \"default\""),
        "{report}"
    );
    assert!(report.contains("$.messages[0].content: recorded \"What is the refund policy?\" → requested \"What is the return policy?\""), "{report}");
    assert!(
        report.contains("-      \"content\": \"What is the refund policy?\""),
        "{report}"
    );
    assert!(
        report.contains("+      \"content\": \"What is the return policy?\""),
        "{report}"
    );
    assert!(report.contains("2 missed"), "{report}");
}

#[test]
fn identical_requests_replay_in_order_then_miss_unless_repeats_are_allowed() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    // Two recordings of the same request with different answers, written by hand.
    let body = chat("same", false);
    let interaction = |id: u64, answer: &str| {
        json!({"id": id, "recorded_at": "2026-01-01T00:00:00Z",
               "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions", "body": {"json": body}},
               "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"answer": answer}}}})
    };
    let doc = json!({"version": 1, "cassette": "default", "interactions": [interaction(1, "first"), interaction(2, "second")]});
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("default.yaml"),
        serde_json::to_string(&doc).unwrap(),
    )
    .unwrap();

    for (allow, third) in [(false, 404), (true, 200)] {
        let mut args: Vec<String> = vec![
            "vcr".into(),
            "replay".into(),
            "--cassettes".into(),
            dir.to_str().unwrap().into(),
        ];
        if allow {
            args.push("--allow-repeats".into());
        }
        let replayer = start(work.path(), &args);
        let url = replayer.url("/openai/v1/chat/completions");
        assert_eq!(
            rt.block_on(post(&url, &body, &[])).json()["answer"],
            "first"
        );
        assert_eq!(
            rt.block_on(post(&url, &body, &[])).json()["answer"],
            "second"
        );
        let again = rt.block_on(post(&url, &body, &[]));
        assert_eq!(again.status, third);
        if allow {
            assert_eq!(again.json()["answer"], "second");
        } else {
            let message = again.json()["error"]["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(message.contains("--allow-repeats"), "{message}");
        }
        replayer.stop();
    }
}

#[test]
fn bad_routes_names_and_bodies_get_clear_errors() {
    let Recording {
        rt,
        work,
        dir,
        mock,
        recorder,
    } = Recording::start();

    let unknown = rt.block_on(post(&recorder.url("/gemini/v1/x"), &json!({}), &[]));
    assert_eq!(unknown.status, 404);
    let message = unknown.json()["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("known upstreams: anthropic, openai"),
        "{message}"
    );

    for bad in ["../escape", "/etc/passwd", "a//b", "sp ace"] {
        let response = rt.block_on(post(
            &recorder.url("/openai/v1/chat/completions"),
            &chat("x", false),
            &[("x-traceforge-cassette", bad)],
        ));
        assert_eq!(response.status, 400, "{bad}");
        assert!(
            response.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid cassette name"),
            "{bad}"
        );
    }
    assert!(!work.path().join("escape.yaml").exists());

    // A body that is not JSON is forwarded, recorded as text, and replays.
    let text = rt.block_on(post_raw(
        &recorder.url("/openai/v1/chat/completions"),
        b"this is not json".to_vec(),
        &[],
    ));
    assert_eq!(
        text.status, 400,
        "the mock rejects it in the provider's shape: {text:?}"
    );
    // Per-request cassettes land in their own files.
    let nested = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("nested", false),
        &[("x-traceforge-cassette", "flows/refund")],
    ));
    assert_eq!(nested.status, 200);
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let default = cassette(&dir.join("default.yaml"));
    assert_eq!(default.interactions.len(), 1);
    assert_eq!(
        default.interactions[0].request.body,
        Some(traceforge::cassette::Body::Text("this is not json".into()))
    );
    assert_eq!(
        cassette(&dir.join("flows/refund.yaml")).interactions.len(),
        1
    );

    rt.block_on(mock.stop());
    let replayer = start_replay(work.path(), dir.to_str().unwrap());
    let again = rt.block_on(post_raw(
        &replayer.url("/openai/v1/chat/completions"),
        b"this is not json".to_vec(),
        &[],
    ));
    assert_eq!(again, text);
    let stopped = replayer.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
}

#[test]
fn a_signal_right_after_the_ready_file_appears_stops_cleanly() {
    // The handlers are installed before the ready file is written; otherwise Ctrl-C or SIGTERM
    // sent as soon as a script sees the file would kill the server without flushing cassettes.
    let work = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 3] = [
        &[
            "vcr",
            "record",
            "--cassettes",
            "c",
            "--upstream",
            "openai=http://127.0.0.1:9",
        ],
        &["vcr", "replay", "--cassettes", "c"],
        &["mock-llm"],
    ];
    for round in 0..4 {
        for args in commands {
            let signal = [libc::SIGINT, libc::SIGTERM][round % 2];
            let mut process = ProxyProcess::start(work.path(), args);
            let stopped = process.signal(signal);
            assert!(
                stopped.status.success(),
                "{args:?} after signal {signal}: {:?}\n{}",
                stopped.status,
                stopped.stderr
            );
        }
    }
}

#[test]
fn a_malformed_cassette_is_named_with_its_position_and_others_still_replay() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.yaml"),
        "version: 1\ncassette: broken\ninteractions:\n  - id: [1\n",
    )
    .unwrap();
    let good = json!({"version": 1, "cassette": "default", "interactions": [{"id": 1, "recorded_at": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions", "body": {"json": chat("ok", false)}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"ok": true}}}}]});
    std::fs::write(
        dir.join("default.yaml"),
        serde_json::to_string(&good).unwrap(),
    )
    .unwrap();

    let replayer = start_replay(work.path(), dir.to_str().unwrap());
    let ok = rt.block_on(post(
        &replayer.url("/openai/v1/chat/completions"),
        &chat("ok", false),
        &[],
    ));
    assert_eq!(ok.json()["ok"], true);
    let broken = rt.block_on(post(
        &replayer.url("/openai/v1/chat/completions"),
        &chat("ok", false),
        &[("x-traceforge-cassette", "broken")],
    ));
    assert_eq!(broken.status, 500);
    let message = broken.json()["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("broken.yaml:4:9:"),
        "names file and line: {message}"
    );
    let stopped = replayer.stop();
    assert!(
        stopped.stderr.contains("broken.yaml:4:9:"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn unreachable_and_slow_upstreams_get_502_and_504_and_the_run_goes_on() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let mock = rt.block_on(start_mock(MockConfig::default()));
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let args = record_args(
        dir.to_str().unwrap(),
        &format!("http://{}", mock.addr),
        &[
            "--upstream",
            &format!("dead=http://{closed}"),
            "--upstream-timeout",
            "300ms",
        ],
    );
    let recorder = start(work.path(), &args);

    let dead = rt.block_on(post(
        &recorder.url("/dead/v1/chat/completions"),
        &chat("x", false),
        &[],
    ));
    assert_eq!(dead.status, 502);
    assert!(dead.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
    let slow = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("slow", false),
        &[("x-mock-stall-ms", "3000")],
    ));
    assert_eq!(slow.status, 504);
    assert!(slow.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not answer in time"));
    let fine = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("fine", false),
        &[],
    ));
    assert_eq!(fine.status, 200);
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("2 upstream error(s)"),
        "{}",
        stopped.stderr
    );
    assert_eq!(
        cassette(&dir.join("default.yaml")).interactions.len(),
        1,
        "errors are not recorded"
    );
}

#[test]
fn a_client_that_disconnects_mid_stream_leaves_nothing_half_written() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let mock = rt.block_on(start_mock(MockConfig {
        first_event_delay: Duration::from_millis(10),
        event_delay: Duration::from_millis(150),
    }));
    let recorder = start(
        work.path(),
        &record_args(dir.to_str().unwrap(), &format!("http://{}", mock.addr), &[]),
    );
    rt.block_on(async {
        let response = reqwest::Client::new()
            .post(recorder.url("/openai/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(chat("a long streamed answer please", true).to_string())
            .send()
            .await
            .unwrap();
        let mut response = response;
        let first = response.chunk().await.unwrap();
        assert!(first.is_some());
        drop(response);
        // Give the proxy time to notice on its next write.
        tokio::time::sleep(Duration::from_millis(800)).await;
    });
    let complete = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("short", true),
        &[],
    ));
    assert_eq!(complete.status, 200);
    let stopped = recorder.stop();
    assert!(
        stopped.stderr.contains("1 aborted by the client"),
        "{}",
        stopped.stderr
    );
    let cassette = cassette(&dir.join("default.yaml"));
    assert_eq!(
        cassette.interactions.len(),
        1,
        "only the complete stream is recorded"
    );
    assert!(!cassette.interactions[0].response.incomplete);
}

#[test]
fn sigkill_mid_record_leaves_the_previous_complete_cassette() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let mock = rt.block_on(start_mock(MockConfig {
        first_event_delay: Duration::ZERO,
        event_delay: Duration::from_millis(100),
    }));
    let mut recorder = start(
        work.path(),
        &record_args(dir.to_str().unwrap(), &format!("http://{}", mock.addr), &[]),
    );
    assert_eq!(
        rt.block_on(post(
            &recorder.url("/openai/v1/chat/completions"),
            &chat("first", false),
            &[]
        ))
        .status,
        200
    );
    let path = dir.join("default.yaml");
    // The first interaction reaches the disk shortly after it completes.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "cassette never written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = std::fs::read(&path).unwrap();
    rt.block_on(async {
        let mut response = reqwest::Client::new()
            .post(recorder.url("/openai/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(chat("a stream that will be cut", true).to_string())
            .send()
            .await
            .unwrap();
        let _ = response.chunk().await;
    });
    recorder.signal(libc::SIGKILL);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(cassette(&path).interactions.len(), 1);
}

#[test]
fn concurrent_clients_recording_into_one_cassette_lose_nothing() {
    let Recording {
        rt,
        work: _work,
        dir,
        mock: _mock,
        recorder,
    } = Recording::start();
    let url = recorder.url("/openai/v1/chat/completions");
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..24 {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                post(&url, &chat(&format!("question {i}"), i % 2 == 0), &[])
                    .await
                    .status
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let cassette = cassette(&dir.join("default.yaml"));
    assert_eq!(cassette.interactions.len(), 24);
    let mut ids: Vec<u64> = cassette.interactions.iter().map(|i| i.id).collect();
    ids.sort();
    assert_eq!(ids, (1..=24).collect::<Vec<_>>());
}

#[test]
fn compressed_upstream_bodies_are_stored_decoded_and_replayed_plain() {
    let Recording {
        rt,
        work,
        dir,
        mock,
        recorder,
    } = Recording::start();
    let recorded = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("zip it", false),
        &[("x-mock-gzip", "1")],
    ));
    assert_eq!(recorded.status, 200);
    assert!(recorded.json()["choices"].is_array());
    recorder.stop();
    let cassette = cassette(&dir.join("default.yaml"));
    let response = &cassette.interactions[0].response;
    assert!(
        response.body.as_ref().unwrap().as_json().is_some(),
        "stored as JSON data"
    );
    assert!(!response.headers.contains_key("content-encoding"));
    rt.block_on(mock.stop());

    let replayer = start_replay(work.path(), dir.to_str().unwrap());
    let replayed = rt.block_on(async {
        let response = reqwest::Client::new()
            .post(replayer.url("/openai/v1/chat/completions"))
            .header("content-type", "application/json")
            .header("accept-encoding", "gzip")
            .body(chat("zip it", false).to_string())
            .send()
            .await
            .unwrap();
        assert!(
            response.headers().get("content-encoding").is_none(),
            "identity encoding"
        );
        serde_json::from_slice::<Value>(&response.bytes().await.unwrap()).unwrap()
    });
    assert_eq!(&replayed, recorded.json());
}

#[test]
fn a_truncated_stream_is_recorded_incomplete_and_verify_reports_it() {
    let Recording {
        rt,
        work: _work,
        dir,
        mock: _mock,
        recorder,
    } = Recording::start();
    let cut = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("cut me", true),
        &[("x-mock-truncate", "2")],
    ));
    assert_eq!(cut.events().len(), 2);
    let stopped = recorder.stop();
    assert!(
        stopped.stderr.contains("1 incomplete stream(s)"),
        "{}",
        stopped.stderr
    );
    let cassette = cassette(&dir.join("default.yaml"));
    assert!(cassette.interactions[0].response.incomplete);

    let verify = traceforge_command()
        .args(["vcr", "verify", "--cassettes", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        stdout.contains("default.yaml: interaction 1: stream recorded incomplete"),
        "{stdout}"
    );
}

#[test]
fn scope_headers_are_recorded_and_not_forwarded() {
    let Recording {
        rt,
        work: _work,
        dir,
        mock: _mock,
        recorder,
    } = Recording::start();
    let headers = [
        ("x-traceforge-organization-id", "acme"),
        ("x-traceforge-service-id", "support"),
        ("x-traceforge-session-id", "s-1"),
        ("x-traceforge-step-id", "3"),
        ("x-traceforge-parent-step-id", "2"),
    ];
    rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("scoped", false),
        &headers,
    ));
    recorder.stop();
    let interaction = &cassette(&dir.join("default.yaml")).interactions[0];
    assert_eq!(interaction.scope.organization.as_deref(), Some("acme"));
    assert_eq!(interaction.scope.session.as_deref(), Some("s-1"));
    assert_eq!(interaction.scope.parent_step.as_deref(), Some("2"));
    assert!(interaction
        .request
        .headers
        .keys()
        .all(|h| !h.starts_with("x-traceforge")));
}

#[test]
fn record_modes_follow_vcrpy() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let dir_s = dir.to_str().unwrap().to_string();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let url = |p: &ProxyProcess| p.url("/openai/v1/chat/completions");
    let count = || cassette(&dir.join("default.yaml")).interactions.len();

    // once: records while the cassette does not exist...
    let p = start(
        work.path(),
        &record_args(&dir_s, &mock_url, &["--mode", "once"]),
    );
    assert_eq!(
        rt.block_on(post(&url(&p), &chat("a", false), &[])).status,
        200
    );
    assert!(p.stop().status.success());
    assert_eq!(count(), 1);
    // ...then replays it and refuses anything new.
    let p = start(
        work.path(),
        &record_args(&dir_s, &mock_url, &["--mode", "once"]),
    );
    assert_eq!(
        rt.block_on(post(&url(&p), &chat("a", false), &[])).status,
        200
    );
    assert_eq!(
        rt.block_on(post(&url(&p), &chat("b", false), &[])).status,
        404
    );
    let stopped = p.stop();
    assert_eq!(stopped.status.code(), Some(1), "{}", stopped.stderr);
    assert_eq!(count(), 1);

    // new-episodes: replays "a", records "b".
    let p = start(
        work.path(),
        &record_args(&dir_s, &mock_url, &["--mode", "new-episodes"]),
    );
    rt.block_on(post(&url(&p), &chat("a", false), &[]));
    rt.block_on(post(&url(&p), &chat("b", false), &[]));
    let stopped = p.stop();
    assert!(
        stopped.stderr.contains("1 recorded, 1 replayed"),
        "{}",
        stopped.stderr
    );
    assert_eq!(count(), 2);

    // all: forwards everything and rewrites the cassette with this run only.
    let p = start(
        work.path(),
        &record_args(&dir_s, &mock_url, &["--mode", "all"]),
    );
    rt.block_on(post(&url(&p), &chat("c", false), &[]));
    assert!(p.stop().stderr.contains("1 recorded, 0 replayed"));
    let c = cassette(&dir.join("default.yaml"));
    assert_eq!(c.interactions.len(), 1);
    assert_eq!(c.interactions[0].id, 1);
}

#[test]
fn recording_in_ci_needs_an_explicit_mode() {
    let output = traceforge_command()
        .args(["vcr", "record", "--", "true"])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: vcr record: CI is set"),
        "{stderr}"
    );
}

#[test]
fn a_wrapped_command_gets_the_proxy_environment_and_its_exit_status_wins() {
    let work = tempfile::tempdir().unwrap();
    let env_file = work.path().join("env.txt");
    let script = format!(
        "echo \"$OPENAI_BASE_URL $ANTHROPIC_BASE_URL $TRACEFORGE_PROXY_URL $OPENAI_API_KEY\" > {}; exit 3",
        env_file.display()
    );
    let output = traceforge_command()
        .current_dir(work.path())
        .args([
            "vcr",
            "replay",
            "--cassettes",
            "c",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let env = std::fs::read_to_string(&env_file).unwrap();
    let parts: Vec<&str> = env.split_whitespace().collect();
    assert!(
        parts[0].starts_with("http://127.0.0.1:") && parts[0].ends_with("/openai/v1"),
        "{env}"
    );
    assert!(parts[1].ends_with("/anthropic"), "{env}");
    assert!(parts[2].starts_with("http://127.0.0.1:"), "{env}");
    assert_eq!(parts[3], "traceforge-replay");

    // The command passes but a request missed: the run fails with 1.
    let output = traceforge_command()
        .current_dir(work.path())
        .args(["vcr", "replay", "--cassettes", "c", "--", "sh", "-c"])
        .arg("curl -s -o /dev/null -X POST -d '{}' \"$OPENAI_BASE_URL/chat/completions\"")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 missed"), "{stderr}");
    assert!(
        stderr.contains("there is no cassette file at c/default.yaml"),
        "{stderr}"
    );
}

#[test]
fn replay_answers_for_upstreams_that_only_the_recording_knew() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let args = record_args(
        dir.to_str().unwrap(),
        "http://127.0.0.1:9",
        &["--upstream", &format!("ollama=http://{}", mock.addr)],
    );
    let recorder = start(work.path(), &args);
    let recorded = rt.block_on(post(
        &recorder.url("/ollama/v1/chat/completions"),
        &chat("local model", false),
        &[],
    ));
    assert_eq!(recorded.status, 200);
    recorder.stop();
    rt.block_on(mock.stop());
    let replayer = start_replay(work.path(), dir.to_str().unwrap());
    let replayed = rt.block_on(post(
        &replayer.url("/ollama/v1/chat/completions"),
        &chat("local model", false),
        &[],
    ));
    assert_eq!(replayed, recorded);
    assert!(replayer.stop().status.success());
}

#[test]
fn oversized_request_bodies_are_refused_with_413() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let replayer = start_replay(work.path(), "c");
    let huge = vec![b'x'; traceforge::proxy::MAX_REQUEST_BODY + 1];
    let response = rt.block_on(post_raw(
        &replayer.url("/openai/v1/chat/completions"),
        huge,
        &[],
    ));
    assert_eq!(response.status, 413);
    assert!(response.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("larger than 32 MiB"));
    replayer.stop();
}

#[test]
fn sigterm_reaches_the_wrapped_command_and_its_status_is_returned() {
    let work = tempfile::tempdir().unwrap();
    let started = work.path().join("started");
    let script = format!(
        "trap 'exit 7' TERM; touch {}; while true; do sleep 0.05; done",
        started.display()
    );
    let mut child = traceforge_command()
        .current_dir(work.path())
        .args([
            "vcr",
            "replay",
            "--cassettes",
            "c",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    assert_eq!(child.wait().unwrap().code(), Some(7));
}

#[test]
fn https_upstreams_are_verified_against_ssl_cert_file() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let config = std::sync::Arc::new(MockConfig::default());
    let (addr, upstream) = rt.block_on(start_tls(Default::default(), move |request| {
        traceforge::mock::handle(config.clone(), request)
    }));
    let upstream_arg = format!("openai=https://{addr}");
    let args = |dir: &'static str| {
        [
            "vcr",
            "record",
            "--cassettes",
            dir,
            "--upstream",
            upstream_arg.as_str(),
        ]
    };
    let ca = tls_fixture("ca.pem");

    // Trusted through SSL_CERT_FILE: recorded.
    let recorder =
        ProxyProcess::start_with_env(work.path(), &args("trusted"), &[("SSL_CERT_FILE", &ca)]);
    let answer = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("over tls", false),
        &[],
    ));
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let recorded = cassette(&work.path().join("trusted/default.yaml"));
    assert_eq!(recorded.interactions.len(), 1);

    // The bundled roots do not know the test CA: a 502 that says why.
    let recorder = ProxyProcess::start(work.path(), &args("untrusted"));
    let answer = rt.block_on(post(
        &recorder.url("/openai/v1/chat/completions"),
        &chat("over tls", false),
        &[],
    ));
    assert_eq!(answer.status, 502);
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("could not be reached"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    recorder.stop();

    // An SSL_CERT_FILE without certificates stops the proxy before it listens.
    let key = tls_fixture("server.key");
    let output = traceforge_command()
        .current_dir(work.path())
        .args(args("bad"))
        .env("SSL_CERT_FILE", &key)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "error: SSL_CERT_FILE={}: no PEM certificates in the file",
            key.display()
        )),
        "{stderr}"
    );
    upstream.abort();
}

#[test]
fn numbers_come_back_exactly_as_the_client_saw_them() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let answer = r#"{"id":12345678901234567890123,"p":0.1000000000000000000001,"n":42}"#;
    let upstream = rt.block_on(async {
        let listener = traceforge::server::bind("127.0.0.1:0").await.unwrap();
        traceforge::server::Running::spawn(listener, move |_request| async move {
            let mut response =
                http::Response::new(traceforge::server::ResponseBody::full(answer.as_bytes()));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            response
        })
        .unwrap()
    });
    let upstream_url = format!("http://{}", upstream.addr);
    let dir = work.path().join("c");
    let dir = dir.to_str().unwrap();
    let request = r#"{"model":"m","seed":98765432109876543210987}"#;
    let send = |url: String| async move {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(request)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap())
    };
    let args = record_args(dir, &upstream_url, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let recorder = ProxyProcess::start(work.path(), &args);
    let (status, body) = rt.block_on(send(recorder.url("/openai/v1/chat/completions")));
    assert_eq!((status, &body[..]), (200, answer.as_bytes()));
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(upstream.stop());

    let replayer = ProxyProcess::start(work.path(), &["vcr", "replay", "--cassettes", dir]);
    let (status, body) = rt.block_on(send(replayer.url("/openai/v1/chat/completions")));
    assert_eq!(
        (status, &body[..]),
        (200, answer.as_bytes()),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let stopped = replayer.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
}

#[test]
fn a_response_the_client_received_whole_survives_a_sigkill() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let dir = work.path().join("c");
    let dir = dir.to_str().unwrap();
    for mode in ["new-episodes", "all"] {
        let args = record_args(dir, &mock_url, &["--mode", mode, "--cassette", mode]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut recorder = ProxyProcess::start(work.path(), &args);
        let url = recorder.url("/openai/v1/chat/completions");
        let plain = rt.block_on(post(&url, &chat("kept plain", false), &[]));
        let streamed = rt.block_on(post(&url, &chat("kept streamed", true), &[]));
        assert_eq!((plain.status, streamed.status), (200, 200));
        // Well inside the batched write's delay: only the journal has them.
        let killed = recorder.signal(libc::SIGKILL);
        assert!(!killed.status.success());
        let file = work.path().join(format!("c/{mode}.yaml"));
        let journal = work.path().join(format!("c/.{mode}.yaml.journal"));
        assert!(journal.exists(), "{mode}: the journal is left behind");

        // Readers see both interactions without anyone rewriting the cassette.
        let listed = traceforge_command()
            .args(["vcr", "list", "--format", "json", "--cassettes", dir])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&listed.stdout).unwrap();
        let entry = doc["cassettes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == mode)
            .unwrap_or_else(|| panic!("{mode}: {doc}"));
        assert_eq!(entry["interactions"], 2, "{mode}: {doc}");

        // The next recording run merges the journal into the cassette on disk first.
        let args = record_args(
            dir,
            &mock_url,
            &["--mode", "new-episodes", "--cassette", mode],
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let recorder = ProxyProcess::start(work.path(), &args);
        let again = rt.block_on(post(
            &recorder.url("/openai/v1/chat/completions"),
            &chat("kept plain", false),
            &[],
        ));
        assert_eq!(
            again.payload, plain.payload,
            "{mode}: replayed from the journal"
        );
        let stopped = recorder.stop();
        assert!(stopped.status.success(), "{}", stopped.stderr);
        assert!(!journal.exists(), "{mode}: recovered and removed");
        let on_disk = cassette(&file);
        assert_eq!(on_disk.interactions.len(), 2, "{mode}");
    }
    // The recovering runs also wrote the rows the killed runs may not have reached.
    let check = traceforge_command()
        .current_dir(work.path())
        .args(["db", "check", "--cassettes", "c"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    rt.block_on(mock.stop());
}

/// Sends `GET PATH` as written (an HTTP client library would resolve `..` itself first) and
/// returns the status and body of the answer.
fn raw_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_string();
    (status, body)
}

#[test]
fn dot_segments_in_a_request_path_never_leave_the_upstream_base_path() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    // An upstream that answers everything and remembers which paths it was asked for.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let upstream = rt.block_on(async {
        let listener = traceforge::server::bind("127.0.0.1:0").await.unwrap();
        let seen = seen.clone();
        traceforge::server::Running::spawn(listener, move |request| {
            seen.lock().unwrap().push(request.uri().to_string());
            async { traceforge::server::json_response(200, &json!({"ok": true})) }
        })
        .unwrap()
    });
    let recorder = ProxyProcess::start(
        work.path(),
        &[
            "vcr",
            "record",
            "--cassettes",
            "c",
            "--upstream",
            &format!("svc=http://{}/deployments/x", upstream.addr),
        ],
    );
    for path in [
        "/svc/../../admin",
        "/svc/v1/../../../admin",
        "/svc/%2e%2e/%2E%2E/admin",
        "/svc/.%2e/admin",
        "/svc/v1/..%2f..%2f..%2fadmin",
        "/svc/..;/..;/admin",
        "/svc/./v1/models",
        "/svc/v1/%2E/models",
    ] {
        let (status, body) = raw_get(&recorder.addr, path);
        assert_eq!(status, 400, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("'.' or '..' segment"), "{path}: {message}");
    }
    // Ordinary paths still reach the upstream, below its base path.
    let (status, body) = raw_get(&recorder.addr, "/svc/v1/models?x=1");
    assert_eq!(status, 200, "{body}");
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(*seen.lock().unwrap(), ["/deployments/x/v1/models?x=1"]);
    rt.block_on(upstream.stop());
}

#[test]
fn a_cassette_name_cannot_turn_another_cassettes_file_into_a_directory() {
    let Recording {
        rt,
        work: _work,
        dir,
        mock: _mock,
        recorder,
    } = Recording::start();
    let url = recorder.url("/openai/v1/chat/completions");
    let send = |name: &str| {
        rt.block_on(post(
            &url,
            &chat(&format!("for {name}"), false),
            &[("x-traceforge-cassette", name)],
        ))
    };
    // `one` is the file one.yaml and `one.yaml/b` would need a directory one.yaml: whichever
    // comes first, the second would be answered and never written. The same for the pending
    // file of `three`.
    let order: [(&str, &str); 3] = [
        ("one", "one.yaml/b"),
        ("two.yaml/b", "two"),
        ("three.YAML.pending/b", "three"),
    ];
    for (first, second) in order {
        for name in [first, second] {
            let answer = send(name);
            if name.contains('/') {
                assert_eq!(answer.status, 400, "{name}: {:?}", answer.payload);
                let message = answer.json()["error"]["message"].as_str().unwrap();
                assert!(
                    message.contains("only the last segment may end in .yaml"),
                    "{message}"
                );
            } else {
                assert_eq!(answer.status, 200, "{name}: {:?}", answer.payload);
            }
        }
    }
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    for name in ["one", "two", "three"] {
        let path = dir.join(format!("{name}.yaml"));
        assert_eq!(cassette(&path).interactions.len(), 1, "{name}");
    }
    assert!(!dir.join("three.YAML.pending").exists());
}

#[test]
fn a_password_in_an_upstream_url_is_never_shown() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let recorder = ProxyProcess::start(
        work.path(),
        &[
            "vcr",
            "record",
            "--cassettes",
            "c",
            "--upstream",
            &format!("dead=http://alice:hunter2-pw@{closed}/base"),
        ],
    );
    let answer = rt.block_on(post(
        &recorder.url("/dead/v1/chat/completions?key=AIzaSyTESTKEY0123456789"),
        &chat("x", false),
        &[],
    ));
    assert_eq!(answer.status, 502);
    let message = answer.json()["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "(http://alice:***@{closed}/base/v1/chat/completions?key=REDACTED)"
        )),
        "{message}"
    );
    let stopped = recorder.stop();
    for (what, text) in [("error body", message), ("stderr", &stopped.stderr)] {
        for secret in ["hunter2-pw", "AIzaSyTESTKEY0123456789"] {
            assert!(!text.contains(secret), "{secret} in the {what}: {text}");
        }
    }
    assert!(stopped.stderr.contains("alice:***@"), "{}", stopped.stderr);
}

/// The scratch files of rebuilds in `dir`.
fn rebuild_scratch(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".traces-"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_rebuild_clears_the_scratch_files_of_rebuilds_that_were_killed() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    std::fs::create_dir_all(&dir).unwrap();
    // Enough cassettes that a rebuild takes a while: it is killed part-way.
    for n in 0..300 {
        let interactions: Vec<Value> = (1..=5)
            .map(|id| {
                json!({"id": id, "recorded_at": "2026-01-01T00:00:00Z",
                "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                            "body": {"json": chat(&format!("question {n}.{id} about refunds"), false)}},
                "response": {"status": 200, "headers": {"content-type": "application/json"},
                             "body": {"json": {"answer": format!("answer {n}.{id}")}}}})
            })
            .collect();
        let doc = json!({"version": 1, "cassette": format!("c{n}"), "interactions": interactions});
        std::fs::write(dir.join(format!("c{n}.yaml")), doc.to_string()).unwrap();
    }
    let rebuild = || {
        let mut command = traceforge_command();
        command
            .current_dir(work.path())
            .args([
                "vcr",
                "rebuild-from-cassettes",
                "--cassettes",
                "c",
                "--db",
                "t.db",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };
    let mut kills = 0;
    for _ in 0..20 {
        let before = rebuild_scratch(work.path());
        let mut child = rebuild().spawn().unwrap();
        // Killed as soon as a scratch database of its own exists (unless it already finished).
        while rebuild_scratch(work.path())
            .iter()
            .all(|name| before.contains(name))
        {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        if !child.wait().unwrap().success() {
            kills += 1;
        }
        if kills == 3 {
            break;
        }
    }
    assert_eq!(kills, 3, "rebuilds finished before they could be killed");
    // Each rebuild clears what the one killed before it left; the last one's files are here.
    assert!(!rebuild_scratch(work.path()).is_empty());
    let finished = rebuild().status().unwrap();
    assert!(finished.success());
    assert_eq!(rebuild_scratch(work.path()), Vec::<String>::new());
}

#[test]
fn cassettes_are_created_as_the_umask_says_and_keep_their_mode_when_rewritten() {
    use std::os::unix::fs::PermissionsExt as _;
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let args = record_args(dir.to_str().unwrap(), &format!("http://{}", mock.addr), &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mode = |name: &str| {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode();
        format!("{:o}", mode & 0o7777)
    };
    let record = |umask: libc::mode_t, cassette: &str, content: &str| {
        let recorder = ProxyProcess::start_with_umask(work.path(), &args, umask);
        let answer = rt.block_on(post(
            &recorder.url("/openai/v1/chat/completions"),
            &chat(content, false),
            &[("x-traceforge-cassette", cassette)],
        ));
        assert_eq!(answer.status, 200);
        let stopped = recorder.stop();
        assert!(stopped.status.success(), "{}", stopped.stderr);
    };

    // New cassettes: 0666 less the umask, as an editor or `touch` would make them.
    record(0o027, "private", "first");
    assert_eq!(mode("private.yaml"), "640");
    record(0o002, "shared", "first");
    assert_eq!(mode("shared.yaml"), "664");

    // A cassette the user gave a mode of their own keeps it when it is rewritten.
    std::fs::set_permissions(
        dir.join("shared.yaml"),
        std::fs::Permissions::from_mode(0o604),
    )
    .unwrap();
    record(0o077, "shared", "second");
    assert_eq!(cassette(&dir.join("shared.yaml")).interactions.len(), 2);
    assert_eq!(mode("shared.yaml"), "604");
}

#[test]
fn a_proxy_out_of_file_descriptors_serves_again_once_connections_close() {
    let work = tempfile::tempdir().unwrap();
    let limit = 64;
    let replayer = ProxyProcess::start_with_open_files(
        work.path(),
        &["vcr", "replay", "--cassettes", "c"],
        limit,
        limit,
    );
    let open = || {
        std::fs::read_dir(format!("/proc/{}/fd", replayer.pid()))
            .unwrap()
            .count()
    };
    // Silent clients take every descriptor the proxy may have; the rest wait in the backlog.
    let silent: Vec<std::net::TcpStream> = (0..limit + 16)
        .map(|_| std::net::TcpStream::connect(&replayer.addr).unwrap())
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while open() < limit as usize {
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy never ran out of descriptors"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Accepting fails now (EMFILE); once the clients go, the proxy must accept and answer again.
    drop(silent);
    let (status, body) = raw_get(&replayer.addr, "/openai/v1/models");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("traceforge_replay_miss"), "{body}");
    let stopped = replayer.stop();
    assert!(stopped.stderr.contains("1 missed"), "{}", stopped.stderr);
}

#[test]
fn concurrent_first_requests_after_a_killed_run_lose_nothing_to_a_second_kill() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let dir = work.path().join("c");
    let dir = dir.to_str().unwrap();
    let args = record_args(dir, &mock_url, &["--mode", "new-episodes"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut acknowledged = Vec::new();
    for round in 0..3 {
        let mut recorder = ProxyProcess::start(work.path(), &args);
        let url = recorder.url("/openai/v1/chat/completions");
        // Every request of the round is among the first the run gets for the cassette, so they
        // all race to open it (and recover the journal the previous round left).
        let prompts: Vec<String> = (0..16).map(|i| format!("round {round} call {i}")).collect();
        let bodies: Vec<Value> = prompts.iter().map(|p| chat(p, false)).collect();
        let statuses = rt.block_on(async {
            let sends = bodies.iter().map(|body| post(&url, body, &[]));
            futures_util::future::join_all(sends).await
        });
        assert!(statuses.iter().all(|r| r.status == 200));
        acknowledged.extend(prompts);
        recorder.signal(libc::SIGKILL);
    }
    let recorded = traceforge::cassette::files::load(&work.path().join("c/default.yaml")).unwrap();
    let prompts: Vec<String> = recorded
        .interactions
        .iter()
        .map(|i| {
            let body = i.request.body.as_ref().and_then(|b| b.as_json()).unwrap();
            body["messages"][0]["content"].as_str().unwrap().to_string()
        })
        .collect();
    for prompt in &acknowledged {
        assert!(prompts.contains(prompt), "{prompt} was lost: {prompts:?}");
    }
    rt.block_on(mock.stop());
}

#[test]
fn a_proxy_raises_its_soft_open_files_limit_so_idle_clients_cannot_starve_it() {
    let work = tempfile::tempdir().unwrap();
    // The soft limit most shells start with is 1,024 and the hard one far higher; here 64 and
    // 4,096, so that 200 silent clients would take every descriptor of a proxy that kept 64.
    let replayer = ProxyProcess::start_with_open_files(
        work.path(),
        &["vcr", "replay", "--cassettes", "c"],
        64,
        4096,
    );
    let silent: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(&replayer.addr).unwrap())
        .collect();
    let open = || {
        std::fs::read_dir(format!("/proc/{}/fd", replayer.pid()))
            .unwrap()
            .count()
    };
    wait_for("the proxy to hold every silent connection", || open() > 200);
    // Answered now, not after the silent clients' header timeout.
    let (status, body) = raw_get(&replayer.addr, "/openai/v1/models");
    assert_eq!(status, 404, "{body}");
    drop(silent);
    let stopped = replayer.stop();
    assert!(stopped.stderr.contains("1 missed"), "{}", stopped.stderr);
}
