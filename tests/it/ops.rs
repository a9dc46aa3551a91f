//! Operating traceforge: `/_traceforge/livez|readyz|metrics` on every server,
//! `--metrics-listen`, and the graceful shutdown (`--drain-timeout`, idle connections, a
//! second signal).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use traceforge::mock::MockConfig;

use crate::common::*;

/// Longer than nothing, far shorter than the 30 s header timeout that would otherwise close
/// idle and half-open connections on its own (and so hide a drain that waits for them).
const PROMPT_EXIT: Duration = Duration::from_secs(15);

#[test]
fn idle_and_half_open_connections_do_not_hold_the_drain() {
    let work = tempfile::tempdir().unwrap();
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut process = ProxyProcess::start(work.path(), &["vcr", "replay", "--cassettes", "c"]);
        // One connection that says nothing, one that stops halfway through its headers, and
        // one kept alive after a complete exchange.
        let idle = TcpStream::connect(&process.addr).unwrap();
        let mut half = TcpStream::connect(&process.addr).unwrap();
        half.write_all(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let mut kept = TcpStream::connect(&process.addr).unwrap();
        kept.write_all(b"GET /_traceforge/livez HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut head = [0u8; 9];
        kept.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 ");
        process.send(signal);
        let stopped = process
            .exited_within(PROMPT_EXIT)
            .expect("an idle or half-open connection held the drain");
        assert!(
            stopped.status.success(),
            "{:?}\n{}",
            stopped.status,
            stopped.stderr
        );
        drop((idle, half, kept));
    }
}

/// A finished plain HTTP exchange: status, content type and body.
struct Got {
    status: u16,
    content_type: String,
    body: String,
}

/// `GET path` on a new connection to `addr` (host:port), read to the end.
fn get(addr: &str, path: &str) -> Got {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    Got {
        status,
        content_type,
        body: body.to_string(),
    }
}

/// Samples of a Prometheus text exposition, keyed by name and labels as written
/// (`name{a="b"}`), after checking the format: HELP and TYPE before each family's samples,
/// sample syntax, counters ending in `_total`, histogram buckets rising to `+Inf` = `_count`.
fn parse_exposition(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::collections::{BTreeMap, HashMap};
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped = std::collections::HashSet::new();
    let mut samples = BTreeMap::new();
    // Per histogram series (name + labels without le): (last le, last count).
    let mut buckets: HashMap<String, (f64, f64)> = HashMap::new();
    let valid_name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(valid_name(name), "{line}");
            assert!(helped.insert(name.to_string()), "HELP twice: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            if kind == "counter" {
                assert!(name.ends_with("_total"), "counter without _total: {line}");
            }
            if kind != "histogram" && kind != "summary" {
                for suffix in ["_count", "_sum", "_bucket"] {
                    assert!(
                        !name.ends_with(suffix),
                        "{kind} named like a histogram: {line}"
                    );
                }
            }
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "{line}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect(line)),
            None => (series, ""),
        };
        assert!(valid_name(name), "{line}");
        // Label pairs: name="value" with \\, \" and \n escapes, comma-separated.
        let mut pairs = Vec::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (label, after) = rest.split_once("=\"").expect(line);
            assert!(valid_name(label), "{line}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().expect(line) {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().expect(line).1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => panic!("bad escape \\{c} in {line}"),
                    },
                    (_, c) => value.push(c),
                }
            };
            pairs.push((label.to_string(), value));
            rest = after[end + 1..]
                .strip_prefix(',')
                .unwrap_or(&after[end + 1..]);
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its TYPE: {line}");
        if types[family] == "histogram" {
            let key_labels: Vec<String> = pairs
                .iter()
                .filter(|(l, _)| l != "le")
                .map(|(l, v)| format!("{l}={v:?}"))
                .collect();
            let key = format!("{family}{{{}}}", key_labels.join(","));
            if name.ends_with("_bucket") {
                let le = &pairs.iter().find(|(l, _)| l == "le").expect(line).1;
                let le: f64 = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                if let Some((last_le, last_count)) = buckets.get(&key) {
                    assert!(
                        le > *last_le && value >= *last_count,
                        "buckets not rising: {line}"
                    );
                }
                buckets.insert(key, (le, value));
            } else if name.ends_with("_count") {
                let (le, count) = buckets[&key];
                assert!(
                    le.is_infinite() && count == value,
                    "+Inf bucket != count: {line}"
                );
            }
        }
        samples.insert(series.to_string(), value);
    }
    samples
}

/// Runs `promtool check metrics` on `text` when promtool is installed (.ci/run and
/// benches/ops.sh install it; `TRACEFORGE_REQUIRE_PROMTOOL` makes its absence a failure);
/// returns whether it ran.
fn promtool_check(text: &str) -> bool {
    let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        return false;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

fn chat(content: &str, stream: bool) -> serde_json::Value {
    serde_json::json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": content}],
    })
}

/// A proxy process and the address of its `--metrics-listen` server.
fn start_with_metrics(cwd: &Path, args: &[&str]) -> (ProxyProcess, String) {
    let ready = cwd.join(format!(
        "metrics-ready-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let ready_text = ready.to_str().unwrap().to_string();
    // Before a wrapped command's `--`, if there is one.
    let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
    let mut all: Vec<&str> = args[..split].to_vec();
    all.extend([
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-ready-file",
        &ready_text,
    ]);
    all.extend(&args[split..]);
    let process = ProxyProcess::start(cwd, &all);
    // Written before the main ready file, so it is there now.
    let addr = std::fs::read_to_string(&ready).unwrap();
    (process, addr)
}

#[test]
fn metrics_after_a_mixed_session_equal_the_traffic_sent() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    let dir_text = dir.to_str().unwrap();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let upstream = format!("openai=http://{}", mock.addr);
    let (recorder, metrics) = start_with_metrics(
        work.path(),
        &[
            "vcr",
            "record",
            "--cassettes",
            dir_text,
            "--upstream",
            &upstream,
        ],
    );
    let url = recorder.url("/openai/v1/chat/completions");
    rt.block_on(async {
        let s1 = [("x-traceforge-session-id", "s1")];
        assert_eq!(post(&url, &chat("one", false), &s1).await.status, 200);
        assert_eq!(post(&url, &chat("two", false), &s1).await.status, 200);
        let s2 = [("x-traceforge-session-id", "s2")];
        assert_eq!(post(&url, &chat("three", true), &s2).await.status, 200);
        let unknown = post(&recorder.url("/nowhere/v1/x"), &chat("four", false), &[]).await;
        assert_eq!(unknown.status, 404);
    });
    let scrape = get(&metrics, "/_traceforge/metrics");
    assert_eq!(scrape.status, 200);
    assert_eq!(
        scrape.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let samples = parse_exposition(&scrape.body);
    let value = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{}", scrape.body))
    };
    assert_eq!(
        value(
            r#"traceforge_proxy_requests_total{upstream="openai",provider="openai",mode="record",status_class="2xx"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            r#"traceforge_proxy_requests_total{upstream="nowhere",provider="openai",mode="record",status_class="4xx"}"#
        ),
        1.0
    );
    assert_eq!(
        value(r#"traceforge_proxy_request_duration_seconds_count{mode="record"}"#),
        4.0
    );
    assert_eq!(
        value(r#"traceforge_upstream_ttfb_seconds_count{upstream="openai"}"#),
        3.0
    );
    assert_eq!(value("traceforge_sessions_active"), 2.0);
    assert_eq!(value("traceforge_replay_misses_total"), 0.0);
    assert_eq!(value(r#"traceforge_build_info{version="0.1.0"}"#), 1.0);
    // The metrics address answers nothing else; the main address answers the same endpoints.
    let elsewhere = get(&metrics, "/openai/v1/models");
    assert_eq!(elsewhere.status, 404);
    assert!(elsewhere.body.contains("only serves"), "{}", elsewhere.body);
    let main = get(&recorder.addr, "/_traceforge/metrics");
    assert!(main
        .body
        .contains("# TYPE traceforge_proxy_requests_total counter"));
    // Tokens equal the usage recorded in the cassette.
    wait_for("the cassette", || dir.join("default.yaml").exists());
    let recorded = cassette(&dir.join("default.yaml"));
    assert_eq!(recorded.interactions.len(), 3);
    let (mut input, mut output) = (0, 0);
    for interaction in &recorded.interactions {
        let usage = interaction.usage.as_ref().expect("usage recorded");
        input += usage.input_tokens.unwrap();
        output += usage.output_tokens.unwrap();
    }
    assert!(input > 0 && output > 0);
    let model = recorded.interactions[0]
        .usage
        .as_ref()
        .unwrap()
        .model
        .clone()
        .unwrap();
    assert_eq!(
        value(&format!(
            r#"traceforge_tokens_total{{direction="input",model="{model}"}}"#
        )),
        input as f64
    );
    assert_eq!(
        value(&format!(
            r#"traceforge_tokens_total{{direction="output",model="{model}"}}"#
        )),
        output as f64
    );
    // The trace writer commits within moments; its metrics follow.
    wait_for("a storage commit", || {
        let samples = parse_exposition(&get(&metrics, "/_traceforge/metrics").body);
        samples
            .get("traceforge_storage_write_latency_seconds_count")
            .is_some_and(|n| *n >= 1.0)
            && samples
                .get("traceforge_db_size_bytes")
                .is_some_and(|n| *n > 0.0)
            && samples.get("traceforge_storage_queue_depth") == Some(&0.0)
    });
    // Where promtool is installed it must agree (benches/ops.sh runs it too).
    promtool_check(&get(&metrics, "/_traceforge/metrics").body);
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);

    // Replay: one hit, one miss.
    let (replayer, metrics) =
        start_with_metrics(work.path(), &["vcr", "replay", "--cassettes", dir_text]);
    let url = replayer.url("/openai/v1/chat/completions");
    rt.block_on(async {
        assert_eq!(post(&url, &chat("one", false), &[]).await.status, 200);
        assert_eq!(
            post(&url, &chat("never recorded", false), &[]).await.status,
            404
        );
    });
    let scrape = get(&metrics, "/_traceforge/metrics").body;
    let samples = parse_exposition(&scrape);
    assert_eq!(samples["traceforge_replay_misses_total"], 1.0, "{scrape}");
    assert_eq!(
        samples[r#"traceforge_proxy_requests_total{upstream="openai",provider="openai",mode="replay",status_class="2xx"}"#],
        1.0
    );
    assert_eq!(
        samples[r#"traceforge_proxy_requests_total{upstream="openai",provider="openai",mode="replay",status_class="4xx"}"#],
        1.0
    );
    let first = recorded.interactions[0].usage.as_ref().unwrap();
    assert_eq!(
        samples[&format!(r#"traceforge_tokens_total{{direction="input",model="{model}"}}"#)],
        first.input_tokens.unwrap() as f64
    );
    // The miss fails the replay run, as it always has.
    let stopped = replayer.stop();
    assert_eq!(stopped.status.code(), Some(1), "{}", stopped.stderr);
}

#[test]
fn every_server_answers_livez_readyz_and_metrics_itself() {
    let work = tempfile::tempdir().unwrap();
    for args in [
        &["mock-llm"][..],
        &["vcr", "replay", "--cassettes", "c"][..],
        &[
            "vcr",
            "record",
            "--cassettes",
            "c",
            "--upstream",
            "openai=http://127.0.0.1:9",
        ][..],
    ] {
        let process = ProxyProcess::start(work.path(), args);
        let live = get(&process.addr, "/_traceforge/livez");
        assert_eq!((live.status, live.body.as_str()), (200, "ok\n"), "{args:?}");
        let ready = get(&process.addr, "/_traceforge/readyz");
        assert_eq!(
            (ready.status, ready.body.as_str()),
            (200, "ready\n"),
            "{args:?}"
        );
        let metrics = get(&process.addr, "/_traceforge/metrics");
        assert_eq!(metrics.status, 200);
        parse_exposition(&metrics.body);
        let other = get(&process.addr, "/_traceforge/nothing");
        assert_eq!(other.status, 404, "{args:?}");
        assert!(
            other.body.contains("livez, readyz and metrics"),
            "{}",
            other.body
        );
        let stopped = process.stop();
        assert!(stopped.status.success(), "{args:?}: {}", stopped.stderr);
    }
}

#[test]
fn bad_operations_flags_are_named() {
    let work = tempfile::tempdir().unwrap();
    let output = tf(
        work.path(),
        &["mock-llm", "--metrics-listen", "localhost:x"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("error: --metrics-listen localhost:x: cannot listen there"),
        "{}",
        stderr(&output)
    );
    let output = tf(
        work.path(),
        &["vcr", "replay", "--drain-timeout", "5 parsecs"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("error: --drain-timeout: "),
        "{}",
        stderr(&output)
    );
}

/// A slow stream through a recording proxy: the mock sends an event every `every`.
struct SlowStream {
    rt: tokio::runtime::Runtime,
    work: tempfile::TempDir,
    _mock: traceforge::server::Running,
    recorder: ProxyProcess,
    metrics: String,
}

impl SlowStream {
    fn start(every: Duration, drain_timeout: &str) -> SlowStream {
        let rt = runtime();
        let work = tempfile::tempdir().unwrap();
        let mock = rt.block_on(start_mock(MockConfig {
            first_event_delay: Duration::ZERO,
            event_delay: every,
        }));
        let upstream = format!("openai=http://{}", mock.addr);
        let (recorder, metrics) = start_with_metrics(
            work.path(),
            &[
                "vcr",
                "record",
                "--cassettes",
                "c",
                "--upstream",
                &upstream,
                "--drain-timeout",
                drain_timeout,
            ],
        );
        SlowStream {
            rt,
            work,
            _mock: mock,
            recorder,
            metrics,
        }
    }

    /// Starts a streamed request and returns once its first bytes arrived; the task yields
    /// everything the client received, and whether the body ended cleanly.
    fn stream(&self) -> tokio::task::JoinHandle<(Vec<u8>, bool)> {
        let url = self.recorder.url("/openai/v1/chat/completions");
        let (first, first_seen) = std::sync::mpsc::channel();
        let task = self.rt.spawn(async move {
            let mut response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(chat("a slow stream", true).to_string())
                .send()
                .await
                .unwrap();
            let mut received = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        received.extend_from_slice(&chunk);
                        let _ = first.send(());
                    }
                    Ok(None) => return (received, true),
                    Err(_) => return (received, false),
                }
            }
        });
        first_seen.recv_timeout(Duration::from_secs(30)).unwrap();
        task
    }

    fn readyz(&self) -> u16 {
        get(&self.metrics, "/_traceforge/readyz").status
    }

    fn cassette_dir(&self) -> std::path::PathBuf {
        self.work.path().join("c")
    }
}

#[test]
fn a_signal_lets_a_slow_stream_finish_and_record_whole_while_readyz_says_503() {
    let mut slow = SlowStream::start(Duration::from_millis(150), "60s");
    assert_eq!(slow.readyz(), 200);
    let stream = slow.stream();
    slow.recorder.send(libc::SIGTERM);
    wait_for("readyz to turn 503", || slow.readyz() == 503);
    // The listener is closed: no new connection is taken.
    wait_for("the listener to close", || {
        TcpStream::connect(&slow.recorder.addr).is_err()
    });
    let (received, clean) = slow.rt.block_on(stream).unwrap();
    assert!(clean, "the stream was cut");
    let text = String::from_utf8_lossy(&received);
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let stopped = slow
        .recorder
        .exited_within(Duration::from_secs(30))
        .expect("never exited");
    assert!(
        stopped.status.success(),
        "{:?}\n{}",
        stopped.status,
        stopped.stderr
    );
    let recorded = cassette(&slow.cassette_dir().join("default.yaml"));
    assert_eq!(recorded.interactions.len(), 1);
    assert!(!recorded.interactions[0].response.incomplete);
}

#[test]
fn a_stream_outliving_the_drain_timeout_is_ended_and_recorded_incomplete() {
    // One event, then nothing for a minute.
    let mut slow = SlowStream::start(Duration::from_secs(60), "300ms");
    let stream = slow.stream();
    slow.recorder.send(libc::SIGINT);
    let (received, _) = slow.rt.block_on(stream).unwrap();
    assert!(!String::from_utf8_lossy(&received).contains("[DONE]"));
    let stopped = slow
        .recorder
        .exited_within(Duration::from_secs(30))
        .expect("never exited");
    assert!(
        stopped.status.success(),
        "{:?}\n{}",
        stopped.status,
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("drain deadline"),
        "{}",
        stopped.stderr
    );
    let recorded = cassette(&slow.cassette_dir().join("default.yaml"));
    assert_eq!(recorded.interactions.len(), 1);
    assert!(recorded.interactions[0].response.incomplete);
    assert!(
        stopped.stderr.contains("1 incomplete stream(s)"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn a_second_signal_exits_at_once_and_loses_no_completed_interaction() {
    let mut slow = SlowStream::start(Duration::from_secs(60), "60s");
    let url = slow.recorder.url("/openai/v1/chat/completions");
    let done = slow.rt.block_on(post(&url, &chat("completed", false), &[]));
    assert_eq!(done.status, 200);
    let _stream = slow.stream();
    slow.recorder.send(libc::SIGTERM);
    wait_for("readyz to turn 503", || slow.readyz() == 503);
    slow.recorder.send(libc::SIGINT);
    let stopped = slow
        .recorder
        .exited_within(PROMPT_EXIT)
        .expect("a second signal did not end the drain");
    assert_eq!(stopped.status.code(), Some(130), "{}", stopped.stderr);
    // Nothing half-written: no temporary file left, and what is there reads.
    let dir = slow.cassette_dir();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "left behind: {name}");
    }
    // The completed interaction replays (from the cassette or its journal).
    let replayer = ProxyProcess::start(slow.work.path(), &["vcr", "replay", "--cassettes", "c"]);
    let replayed = slow.rt.block_on(post(
        &replayer.url("/openai/v1/chat/completions"),
        &chat("completed", false),
        &[],
    ));
    assert_eq!(replayed.status, 200, "{:?}", replayed.payload);
    assert_eq!(replayed.payload, done.payload);
    let stopped = replayer.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
}

#[test]
fn with_a_wrapped_command_the_first_signal_turns_readyz_503_and_serving_goes_on_until_it_exits() {
    let work = tempfile::tempdir().unwrap();
    // The command takes its time over SIGTERM: it notes the signal, then waits for `done`.
    let script = "trap 'touch got; while [ ! -f done ]; do sleep 0.02; done; exit 0' TERM; \
                  touch started; while :; do sleep 0.02; done";
    let (mut process, metrics) = start_with_metrics(
        work.path(),
        &[
            "vcr",
            "replay",
            "--cassettes",
            "c",
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(get(&metrics, "/_traceforge/readyz").status, 200);
    // Signalled before its trap is set, the shell would just die.
    wait_for("the command to start", || {
        work.path().join("started").exists()
    });
    process.send(libc::SIGTERM);
    wait_for("the command to get SIGTERM", || {
        work.path().join("got").exists()
    });
    wait_for("readyz to turn 503", || {
        get(&metrics, "/_traceforge/readyz").status == 503
    });
    // The command may still be finishing its work through the proxy.
    assert_eq!(get(&process.addr, "/_traceforge/livez").status, 200);
    std::fs::write(work.path().join("done"), "").unwrap();
    let stopped = process
        .exited_within(Duration::from_secs(30))
        .expect("never exited");
    assert!(
        stopped.status.success(),
        "{:?}\n{}",
        stopped.status,
        stopped.stderr
    );
}

/// An upstream that takes its time: `head_first` sends the status and headers at once and then
/// nothing more; otherwise nothing at all (a non-streamed answer's head comes with the whole
/// answer). Says on `arrived` when a request reached it.
fn stalling_upstream(
    rt: &tokio::runtime::Runtime,
    head_first: bool,
) -> (traceforge::server::Running, std::sync::mpsc::Receiver<()>) {
    let (arrived, arrivals) = std::sync::mpsc::channel::<()>();
    let arrived = std::sync::Arc::new(std::sync::Mutex::new(arrived));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let server = rt
        .block_on(async {
            traceforge::server::Running::spawn(listener, move |_request| {
                let _ = arrived.lock().unwrap().send(());
                async move {
                    if !head_first {
                        std::future::pending::<()>().await;
                    }
                    // The body never comes: its sender is held until the response is dropped.
                    let (sender, receiver) = tokio::sync::mpsc::channel::<bytes::Bytes>(1);
                    tokio::spawn(async move { sender.closed().await });
                    let mut response =
                        http::Response::new(traceforge::server::ResponseBody::Channel(receiver));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    response
                }
            })
        })
        .unwrap();
    (server, arrivals)
}

/// A non-streamed answer still coming at the drain deadline — its head not yet sent, or its
/// body held back for a policy that checks answers whole — ends at the deadline as a 503 in
/// the provider's shape that SDKs do not retry, not as a reset two seconds later; nothing is
/// recorded and the process exits 0.
#[test]
fn a_non_streamed_answer_still_coming_at_the_drain_deadline_is_a_503() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    let policies = global_policy_dir(
        "answers",
        serde_json::json!([
            {"id": "names", "type": "blocked-terms", "severity": "low",
             "applies_to": "response", "action": "redact", "terms": ["Globex"]}
        ]),
    );
    for head_first in [false, true] {
        let (upstream, arrivals) = stalling_upstream(&rt, head_first);
        let openai = format!("openai=http://{}", upstream.addr);
        let mut args = vec!["vcr", "record", "--cassettes", "c", "--upstream", &openai];
        args.extend(["--drain-timeout", "500ms"]);
        if head_first {
            // The answer is checked whole before any of it is sent.
            args.extend(["--policies", policies.path().to_str().unwrap()]);
        }
        let mut recorder = ProxyProcess::start(work.path(), &args);
        let url = recorder.url("/openai/v1/chat/completions");
        let answer = rt.spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(chat("think hard", false).to_string())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry = response.headers().get("x-should-retry").cloned();
            let body: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            (status, retry, body)
        });
        arrivals.recv_timeout(Duration::from_secs(30)).unwrap();
        let signalled = std::time::Instant::now();
        recorder.send(libc::SIGTERM);
        let (status, retry, body) = rt.block_on(answer).unwrap();
        let waited = signalled.elapsed();
        assert_eq!(status, 503, "head first: {head_first}: {body}");
        assert_eq!(body["error"]["code"], "traceforge_shutting_down", "{body}");
        assert_eq!(retry.as_ref().map(|v| v.as_bytes()), Some(&b"false"[..]));
        assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
        let stopped = recorder
            .exited_within(Duration::from_secs(30))
            .expect("never exited");
        assert!(stopped.status.success(), "{}", stopped.stderr);
        assert!(
            stopped.stderr.contains("the drain deadline passed"),
            "{}",
            stopped.stderr
        );
        assert!(!work.path().join("c/default.yaml").exists());
        rt.block_on(upstream.stop());
    }
}
