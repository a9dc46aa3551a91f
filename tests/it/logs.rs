//! Structured logs (issue 13, item 2): `--log-format json` writes one JSON object per line on
//! stderr and one `request` event per request, whose id is the `x-traceforge-request-id` the
//! client got; an e-mail, a card number and a key sent in the path, query, headers and body
//! appear nowhere in the log; `-v` shows the events in text; a bad `TRACEFORGE_LOG` or
//! `--log-format` is one error line and exit 2.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

/// Planted in requests; none may reach the log. The card passes Luhn and is no published
/// test number; the domain is no documentation domain; the key is made from pieces so no
/// secret scanner flags this file.
const EMAIL: &str = "jane.doe@acme-corp.io";
const CARD: &str = "4539148803436467";

fn key() -> String {
    format!(
        "{}{}",
        ["sk-", "proj-"].concat(),
        "Zq7Xw2Lm9Pv4Tn6Rb8Kc3Hd5Jf1Gs0Ay"
    )
}

/// What a client got: status, the request id header, the body.
#[derive(Debug)]
struct Answer {
    status: u16,
    id: String,
    body: String,
}

/// Sends a request; with `first_chunk_only`, reads one piece of the body and hangs up.
async fn send(
    url: &str,
    body: &Value,
    headers: &[(&str, String)],
    first_chunk_only: bool,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let ids = response.headers().get_all("x-traceforge-request-id");
    assert!(ids.iter().count() <= 1, "one request id: {ids:?}");
    let id = ids
        .iter()
        .next()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = if first_chunk_only {
        let first = response.chunk().await.unwrap().unwrap_or_default();
        drop(response);
        String::from_utf8_lossy(&first).into_owned()
    } else {
        response.text().await.unwrap()
    };
    Answer { status, id, body }
}

fn chat(model: &str, content: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": content}]})
}

/// Every stderr line parsed as JSON (failing on any line that is not), and the `request`
/// events by id.
fn events(stderr: &str) -> (Vec<Value>, BTreeMap<String, Value>) {
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
        })
        .collect();
    let mut requests = BTreeMap::new();
    for line in &lines {
        for field in ["timestamp", "level", "target", "message"] {
            assert!(line[field].is_string(), "{field} missing: {line}");
        }
        if line["message"] == "request" && line["target"] == "traceforge::request" {
            let id = line["request_id"].as_str().unwrap().to_string();
            assert!(
                requests.insert(id.clone(), line.clone()).is_none(),
                "two events for {id}: {stderr}"
            );
        }
    }
    (lines, requests)
}

/// A client that hangs up while its request waits for the upstream's answer has one event,
/// `client-gone`, with no status (the request was never answered) and where it was going.
#[test]
fn a_client_gone_before_the_answer_has_one_client_gone_event() {
    use std::io::{Read as _, Write as _};
    // An upstream that takes the connection and never answers; it says when the request
    // has reached it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("openai=http://{}", silent.local_addr().unwrap());
    let (arrived, arrival) = std::sync::mpsc::channel();
    let held = std::thread::spawn(move || {
        let (mut stream, _) = silent.accept().unwrap();
        let (mut seen, mut chunk) = (Vec::new(), [0u8; 4096]);
        while let Ok(n @ 1..) = stream.read(&mut chunk) {
            seen.extend_from_slice(&chunk[..n]);
            if seen.windows(7).any(|w| w == b"\"hello\"") {
                let _ = arrived.send(std::time::Instant::now());
            }
        }
    });
    let work = tempfile::tempdir().unwrap();
    let recorder = json_recorder(work.path(), "gone", &["--upstream", &upstream]);
    let body = chat("gpt-4o-mini", "hello", false).to_string();
    let mut client = std::net::TcpStream::connect(&recorder.addr).unwrap();
    let sent = std::time::Instant::now();
    write!(
        client,
        "POST /openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // The request reached the upstream: it is waiting for the answer.
    let reached = arrival.recv_timeout(Duration::from_secs(30)).unwrap();
    drop(client);
    let gone = std::time::Instant::now();
    wait_for("the hang-up to be reported", || {
        recorder.stderr_so_far().contains("client-gone")
    });
    let reported = sent.elapsed();
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let (_, requests) = events(&stopped.stderr);
    assert_eq!(requests.len(), 1, "{}", stopped.stderr);
    let event = requests.values().next().unwrap();
    assert_eq!(event["outcome"], "client-gone", "{event}");
    assert_eq!(event["method"], "POST", "{event}");
    assert!(event.get("status").is_none(), "{event}");
    // Where the request was going, as known before the wait began.
    assert_eq!(event["path"], "/openai/v1/chat/completions", "{event}");
    assert_eq!(event["upstream"], "openai", "{event}");
    assert_eq!(event["provider"], "openai", "{event}");
    assert_eq!(event["mode"], "new-episodes", "{event}");
    assert_eq!(event["cassette"], "gone", "{event}");
    // It lasted from before the upstream had the request until the hang-up, at least, and
    // no longer than the client saw.
    let duration_ms = event["duration_ms"].as_f64().unwrap();
    let (least, most) = ((gone - reached).as_secs_f64(), reported.as_secs_f64());
    assert!(
        duration_ms >= least * 1000.0 - 0.001 && duration_ms <= most * 1000.0,
        "{event}: not within {least} s .. {most} s"
    );
    drop(held);
}

/// `vcr record` into cassette `name` of `c` with JSON logs at `info`, and `args`.
fn json_recorder(cwd: &Path, name: &str, args: &[&str]) -> ProxyProcess {
    let mut all = vec![
        "vcr",
        "record",
        "--log-format",
        "json",
        "--cassettes",
        "c",
        "--cassette",
        name,
    ];
    all.extend_from_slice(args);
    ProxyProcess::start_with_env(cwd, &all, &[("TRACEFORGE_LOG", Path::new("info"))])
}

/// A port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn assert_clean(stderr: &str) {
    let key = key();
    for planted in [
        EMAIL,
        CARD,
        key.as_str(),
        &key[8..24],
        "jane.doe",
        "acme-corp",
    ] {
        assert!(
            !stderr.contains(planted),
            "{planted:?} is in the log:\n{stderr}"
        );
    }
}

#[test]
fn json_logs_have_one_event_per_request_with_its_id_and_nothing_planted() {
    let rt = runtime();
    // Streams take a few milliseconds per event, so a client can hang up in the middle.
    let mock = rt.block_on(start_mock(MockConfig {
        first_event_delay: Duration::ZERO,
        event_delay: Duration::from_millis(20),
    }));
    let work = tempfile::tempdir().unwrap();
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let openai = format!("openai=http://{}", mock.addr);
    let dead = format!("dead=http://127.0.0.1:{}", closed_port());
    let info = Path::new("info");
    let recorder = json_recorder(
        work.path(),
        "logs",
        &[
            "--upstream",
            &openai,
            "--upstream",
            &dead,
            "--policies",
            policies.to_str().unwrap(),
        ],
    );
    let url = |path: &str| recorder.url(path);
    let key = key();
    let planted_headers = vec![
        ("authorization", format!("Bearer {key}")),
        ("x-note", format!("{EMAIL} {CARD} {key}")),
        ("x-card", CARD.to_string()),
    ];
    let planted_query = format!("?user={EMAIL}&card={CARD}&api_key={key}&note=hi");
    let chat_path = "/openai/v1/chat/completions";
    let (normal, stream, gone, blocked, secret, pii, unreachable) = rt.block_on(async {
        let normal = send(
            &url(chat_path),
            &chat("gpt-4o-mini", "hello", false),
            &[],
            false,
        )
        .await;
        let stream = send(
            &url(chat_path),
            &chat("gpt-4o-mini", "hello", true),
            &[],
            false,
        )
        .await;
        let gone = send(
            &url(chat_path),
            &chat("gpt-4o-mini", "a long answer please, word by word", true),
            &[],
            true,
        )
        .await;
        // Not an approved model in fixtures/policies: blocked.
        let blocked = send(
            &url(chat_path),
            &chat("gpt-3.5-turbo", "hi", false),
            &[],
            false,
        )
        .await;
        // Everything planted, the key in the body too: no-secrets blocks it.
        let secret = send(
            &format!("{}/{EMAIL}{planted_query}", url(chat_path)),
            &chat(
                "gpt-4o-mini",
                &format!("mail {EMAIL}, card {CARD}, key {key}"),
                false,
            ),
            &planted_headers,
            false,
        )
        .await;
        // PII (no key) in path, query and body: forwarded and recorded.
        let pii = send(
            &format!(
                "{}{}",
                url(chat_path),
                &format!("?user={EMAIL}&card={CARD}")
            ),
            &chat("gpt-4o-mini", &format!("mail {EMAIL}, card {CARD}"), false),
            &[("x-note", format!("{EMAIL} {CARD}"))],
            false,
        )
        .await;
        let unreachable = send(
            &url("/dead/v1/chat/completions"),
            &chat("gpt-4o-mini", "hello", false),
            &[],
            false,
        )
        .await;
        (normal, stream, gone, blocked, secret, pii, unreachable)
    });
    assert_eq!(normal.status, 200, "{normal:?}");
    assert_eq!(stream.status, 200, "{stream:?}");
    assert!(stream.body.contains("[DONE]"), "{stream:?}");
    assert_eq!(gone.status, 200, "{gone:?}");
    assert_eq!(blocked.status, 400, "{blocked:?}");
    assert_eq!(secret.status, 400, "{secret:?}");
    assert_eq!(pii.status, 200, "{pii:?}");
    assert_eq!(unreachable.status, 502, "{unreachable:?}");
    // The proxy learns of the hang-up when it next writes to that client.
    wait_for("the hang-up to be noticed", || {
        recorder.stderr_so_far().contains("client disconnected")
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_clean(&stopped.stderr);
    let (lines, requests) = events(&stopped.stderr);
    let answers = [
        &normal,
        &stream,
        &gone,
        &blocked,
        &secret,
        &pii,
        &unreachable,
    ];
    let ids: Vec<&str> = answers.iter().map(|a| a.id.as_str()).collect();
    assert!(ids.iter().all(|id| id.len() == 16), "{ids:?}");
    assert_eq!(
        requests.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut sorted = ids.clone();
            sorted.sort();
            sorted
        },
        "one event per request, with the id the client got"
    );
    let event = |answer: &Answer| requests[&answer.id].clone();

    for answer in answers {
        let e = event(answer);
        assert_eq!(e["level"], "INFO", "{e}");
        assert_eq!(e["method"], "POST", "{e}");
        assert_eq!(e["mode"], "new-episodes", "{e}");
        assert_eq!(e["cassette"], "logs", "{e}");
        assert_eq!(e["status"], answer.status, "{e}");
        assert!(e["duration_ms"].as_f64().unwrap() > 0.0, "{e}");
        assert!(!e["path"].as_str().unwrap().contains('?'), "{e}");
    }
    let e = event(&normal);
    assert_eq!(e["path"], chat_path, "{e}");
    assert_eq!(e["upstream"], "openai", "{e}");
    assert_eq!(e["provider"], "openai", "{e}");
    assert_eq!(e["match"], "forwarded", "{e}");
    assert_eq!(e["outcome"], "complete", "{e}");
    assert!(e["ttfb_ms"].as_f64().unwrap() <= e["duration_ms"].as_f64().unwrap());
    // The mock's answer calls itself deterministic: the house-style rule warns about it.
    assert!(normal.body.contains("deterministic"), "{normal:?}");
    assert_eq!(e["policy_action"], "warn", "{e}");
    assert_eq!(e["policy_rule"], "house-style", "{e}");

    let e = event(&stream);
    assert_eq!(e["outcome"], "complete", "{e}");
    // Emitted when the stream ended, not when its headers went out.
    assert!(e["ttfb_ms"].as_f64().unwrap() < e["duration_ms"].as_f64().unwrap());

    assert_eq!(event(&gone)["outcome"], "client-gone");

    for (answer, rule) in [(&blocked, "approved-models"), (&secret, "no-secrets")] {
        let e = event(answer);
        assert_eq!(e["policy_action"], "block", "{e}");
        assert_eq!(e["policy_id"], "global-safety", "{e}");
        assert_eq!(e["policy_rule"], rule, "{e}");
        assert_eq!(e["outcome"], "complete", "{e}");
    }
    // The planted path segment is shown as the cassette stores it.
    assert_eq!(event(&secret)["path"], format!("{chat_path}/%3CEMAIL%3E"));
    assert_eq!(event(&pii)["path"], chat_path);

    let e = event(&unreachable);
    assert_eq!(e["upstream"], "dead", "{e}");
    assert_eq!(e["outcome"], "upstream-error", "{e}");

    // The notes about requests carry their ids; the server's status lines are JSON too.
    let note = |text: &str| {
        lines
            .iter()
            .find(|l| l["message"].as_str().unwrap().contains(text))
            .unwrap_or_else(|| panic!("no {text:?} in {}", stopped.stderr))
            .clone()
    };
    let b = note("blocked by policy `global-safety` rule `approved-models`");
    assert_eq!(b["level"], "WARN");
    assert_eq!(b["request_id"], blocked.id.as_str());
    assert_eq!(note("client disconnected")["request_id"], gone.id.as_str());
    let u = note("upstream dead");
    assert_eq!(u["level"], "ERROR");
    assert_eq!(u["request_id"], unreachable.id.as_str());
    assert!(note("listening")["url"].is_string());
    assert_eq!(note("summary")["recorded"], 3);

    // Replay: a hit and a miss, the miss planted with PII; its report stays out of JSON.
    let replayer = ProxyProcess::start_with_env(
        work.path(),
        &[
            "vcr",
            "replay",
            "--log-format",
            "json",
            "--cassettes",
            "c",
            "--cassette",
            "logs",
        ],
        &[("TRACEFORGE_LOG", info)],
    );
    let (hit, miss) = rt.block_on(async {
        let hit = send(
            &replayer.url(chat_path),
            &chat("gpt-4o-mini", "hello", false),
            &[],
            false,
        )
        .await;
        let miss = send(
            &replayer.url(&format!("{chat_path}?user={EMAIL}")),
            &chat(
                "gpt-4o-mini",
                &format!("never sent: {EMAIL} {CARD} {key}"),
                false,
            ),
            &planted_headers,
            false,
        )
        .await;
        (hit, miss)
    });
    assert_eq!(hit.status, 200, "{hit:?}");
    assert_eq!(miss.status, 404, "{miss:?}");
    let stopped = replayer.stop();
    assert_eq!(stopped.status.code(), Some(1), "{}", stopped.stderr);
    assert_clean(&stopped.stderr);
    let (lines, requests) = events(&stopped.stderr);
    assert_eq!(requests.len(), 2, "{}", stopped.stderr);
    assert_eq!(requests[&hit.id]["match"], "hit");
    assert_eq!(requests[&hit.id]["mode"], "none");
    assert_eq!(requests[&miss.id]["match"], "miss");
    assert_eq!(requests[&miss.id]["status"], 404);
    let report = lines
        .iter()
        .find(|l| l["message"] == "replay miss in cassette \"logs\"")
        .unwrap_or_else(|| panic!("{}", stopped.stderr));
    assert_eq!(report["level"], "WARN");
    assert_eq!(report["request_id"], miss.id.as_str());
    assert!(report.get("report").is_none(), "{report}");
    rt.block_on(mock.stop());
}

/// The policies' verdict on an answer is only known once it has all come (a stream is
/// checked as it passes): the request's event still names it, recorded and replayed, and the
/// strongest decision wins (a `redact` over a `warn`).
#[test]
fn the_request_event_names_the_policy_decision_about_the_answer() {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let work = tempfile::tempdir().unwrap();
    let policies = global_policy_dir(
        "answers",
        json!([
            {"id": "competitors", "type": "blocked-terms", "severity": "medium",
             "applies_to": "response", "action": "redact", "terms": ["Globex"]},
            {"id": "small-talk", "type": "blocked-terms", "severity": "low",
             "applies_to": "response", "action": "warn", "terms": ["weather"]}
        ]),
    );
    let openai = format!("openai=http://{}", mock.addr);
    let chat_path = "/openai/v1/chat/completions";
    let prompts = [
        ("Compare Globex with us", Some(("redact", "competitors"))),
        ("Is the weather fine", Some(("warn", "small-talk"))),
        ("Globex and the weather", Some(("redact", "competitors"))),
        ("hello", None),
    ];
    for mode in ["record", "replay"] {
        let mut args = vec!["vcr", mode, "--log-format", "json", "--cassettes", "c"];
        args.extend(["--policies", policies.path().to_str().unwrap()]);
        if mode == "record" {
            args.extend(["--upstream", &openai]);
        }
        let proxy = ProxyProcess::start_with_env(
            work.path(),
            &args,
            &[("TRACEFORGE_LOG", Path::new("info"))],
        );
        let answers = rt.block_on(async {
            let mut answers = Vec::new();
            for (prompt, _) in prompts {
                for stream in [false, true] {
                    let body = chat("gpt-4o-mini", prompt, stream);
                    answers.push(send(&proxy.url(chat_path), &body, &[], false).await);
                }
            }
            answers
        });
        let stopped = proxy.stop();
        assert!(stopped.status.success(), "{mode}: {}", stopped.stderr);
        let (_, requests) = events(&stopped.stderr);
        let expected = prompts.iter().flat_map(|(_, e)| [e, e]);
        for (answer, expected) in answers.iter().zip(expected) {
            assert_eq!(answer.status, 200, "{mode}: {answer:?}");
            assert!(!answer.body.contains("Globex"), "{mode}: {answer:?}");
            let e = &requests[&answer.id];
            match expected {
                Some((action, rule)) => {
                    assert_eq!(e["policy_action"], *action, "{mode}: {e}");
                    assert_eq!(e["policy_rule"], *rule, "{mode}: {e}");
                    assert_eq!(e["policy_id"], "answers", "{mode}: {e}");
                }
                None => assert!(e.get("policy_action").is_none(), "{mode}: {e}"),
            }
        }
    }
    rt.block_on(mock.stop());
}

#[test]
fn verbose_text_logs_a_line_per_request_and_the_default_does_not() {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let work = tempfile::tempdir().unwrap();
    let openai = format!("openai=http://{}", mock.addr);
    let args = ["vcr", "record", "--cassettes", "c", "--upstream", &openai];
    for verbose in [false, true] {
        let mut args = args.to_vec();
        if verbose {
            args.push("-v");
        }
        let recorder = ProxyProcess::start(work.path(), &args);
        let answer = rt.block_on(send(
            &recorder.url("/openai/v1/chat/completions"),
            &chat("gpt-4o-mini", "hello", false),
            &[],
            false,
        ));
        assert_eq!(answer.status, 200);
        let stopped = recorder.stop();
        assert!(stopped.status.success(), "{}", stopped.stderr);
        let lines: Vec<&str> = stopped
            .stderr
            .lines()
            .filter(|l| l.starts_with("traceforge: request "))
            .collect();
        if verbose {
            assert_eq!(lines.len(), 1, "{}", stopped.stderr);
            assert!(
                lines[0].starts_with(&format!(
                    "traceforge: request request_id={} method=POST path=/openai/v1/chat/completions",
                    answer.id
                )),
                "{}",
                lines[0]
            );
            assert!(
                lines[0].contains(" status=200 outcome=complete "),
                "{}",
                lines[0]
            );
        } else {
            assert!(lines.is_empty(), "{}", stopped.stderr);
            assert!(stopped
                .stderr
                .starts_with("traceforge vcr record: listening on"));
        }
    }
    rt.block_on(mock.stop());
}

#[test]
fn a_bad_log_filter_or_format_is_one_error_line_and_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let bad_filter = traceforge_command()
        .current_dir(work.path())
        .env("TRACEFORGE_LOG", "info,traceforge=loud")
        .args(["vcr", "list"])
        .output()
        .unwrap();
    assert_eq!(bad_filter.status.code(), Some(2));
    let text = stderr(&bad_filter);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("error: TRACEFORGE_LOG=\"info,traceforge=loud\": not a log filter"),
        "{text}"
    );

    let bad_format = tf(work.path(), &["--log-format", "xml", "vcr", "list"]);
    assert_eq!(bad_format.status.code(), Some(2));
    assert!(
        stderr(&bad_format).contains("--log-format"),
        "{}",
        stderr(&bad_format)
    );

    let bad_env = traceforge_command()
        .current_dir(work.path())
        .env("TRACEFORGE_LOG_FORMAT", "xml")
        .args(["vcr", "list"])
        .output()
        .unwrap();
    assert_eq!(bad_env.status.code(), Some(2));
    assert!(
        stderr(&bad_env).contains("--log-format"),
        "{}",
        stderr(&bad_env)
    );
}
