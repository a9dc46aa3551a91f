//! OTLP export end to end: a real receiver (tests/it/otlp_receiver.py, which decodes with the
//! official `opentelemetry-proto` package) gets one GenAI span per interaction from `vcr
//! record`, with the session's step DAG as parent links; content only with `--otlp-content`
//! and only as stored (masked); a replay the policies block exports none; an unreachable
//! endpoint costs a counted drop and one warning;
//! `traces export --format otlp` backfills a database with the same ids.
//!
//! Needs `pip install opentelemetry-proto`. Without it the tests say so and pass, unless
//! `TRACEFORGE_REQUIRE_SDKS` is set (as `.ci/run` does).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

const EMAIL: &str = "quillon.marveaux@example-mail.net";
const KEY: &str = "sk-proj-Zq8vR2mX4tB6nY1cK3pL5wH7jD9fG0sA2eU4iO6";

fn receiver_available() -> bool {
    let available = Command::new("python3")
        .args([
            "-c",
            "from opentelemetry.proto.collector.trace.v1 import trace_service_pb2",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("TRACEFORGE_REQUIRE_SDKS").is_none(),
            "TRACEFORGE_REQUIRE_SDKS is set but the opentelemetry-proto package is missing"
        );
        eprintln!("SKIPPED: opentelemetry-proto not installed (pip install opentelemetry-proto)");
    }
    available
}

/// The Python receiver, killed on drop.
struct Receiver {
    child: Child,
    out: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start(extra: &[&str]) -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("spans.jsonl");
        let port_file = dir.path().join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/otlp_receiver.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(&out)
            .arg(&port_file)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut receiver = Receiver {
            child,
            out,
            port: 0,
            _dir: dir,
        };
        wait_for("the receiver to listen", || {
            std::fs::read_to_string(&port_file).is_ok_and(|p| !p.is_empty())
        });
        receiver.port = std::fs::read_to_string(&port_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        receiver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn lines(path: &Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn spans(&self) -> Vec<Value> {
        Receiver::lines(&self.out)
    }

    fn requests(&self) -> Vec<Value> {
        Receiver::lines(&self.out.with_extension("jsonl.requests"))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Records a session (step `plan`, then `search` streamed and `answer` on Anthropic, both
/// children of `plan`) through `vcr record ARGS` in `work`, with `env`; returns its stderr.
fn record_session(work: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    run_session(work, "record", args, env)
}

/// [`record_session`] through `vcr VERB` (`record` or `replay`).
fn run_session(work: &Path, verb: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut all = vec![
        "vcr".to_string(),
        verb.into(),
        "--cassettes".into(),
        "c".into(),
        "--db".into(),
        "t.db".into(),
    ];
    if verb == "record" {
        for upstream in ["openai", "anthropic"] {
            all.push("--upstream".into());
            all.push(format!("{upstream}={mock_url}"));
        }
    }
    all.extend(args.iter().map(|a| a.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let env_paths: Vec<(&str, PathBuf)> = env.iter().map(|(k, v)| (*k, PathBuf::from(v))).collect();
    let env_refs: Vec<(&str, &Path)> = env_paths.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let proxy = ProxyProcess::start_with_env(work, &all, &env_refs);
    let steps = [
        (
            "plan",
            None,
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "max_tokens": 64, "temperature": 0.2, "messages": [
                {"role": "system", "content": "You plan."},
                {"role": "user", "content": format!("Mail {EMAIL} with key {KEY} a refund plan")}
            ]}),
        ),
        (
            "search",
            Some("plan"),
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "stream": true, "messages": [
                {"role": "user", "content": "Search the refund rules"}
            ]}),
        ),
        (
            "answer",
            Some("plan"),
            "/anthropic/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [
                {"role": "user", "content": "Write the answer"}
            ]}),
        ),
    ];
    for (step, parent, path, body) in steps {
        let mut headers = vec![
            ("x-traceforge-session-id", "sess-7"),
            ("x-traceforge-organization-id", "acme"),
            ("x-traceforge-service-id", "support"),
            ("x-traceforge-step-id", step),
            ("x-traceforge-cassette", "flow"),
        ];
        if let Some(parent) = parent {
            headers.push(("x-traceforge-parent-step-id", parent));
        }
        let received = rt.block_on(post(&proxy.url(path), &body, &headers));
        assert_eq!(received.status, 200, "{path}: {received:?}");
    }
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    stopped.stderr
}

fn by_step(spans: &[Value]) -> std::collections::BTreeMap<String, Value> {
    spans
        .iter()
        .map(|s| {
            let step = s["attributes"]["traceforge.step.id"]
                .as_str()
                .unwrap()
                .to_string();
            (step, s.clone())
        })
        .collect()
}

#[test]
fn one_genai_span_per_interaction_with_the_step_dag_and_then_a_backfill_with_the_same_ids() {
    if !receiver_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("traceforge.yaml"), "pii:\n  mode: mask\n").unwrap();
    let receiver = Receiver::start(&[]);
    let endpoint = receiver.url();
    let recorded = record_session(
        work.path(),
        &["--otlp-endpoint", &endpoint],
        &[
            ("OTEL_SERVICE_NAME", "refund-bot"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Basic%20c2VjcmV0LXRva2Vu, x-tenant=t1",
            ),
        ],
    );
    assert!(
        recorded.contains(&format!("otlp: 3 span(s) exported to {endpoint}/v1/traces")),
        "{recorded}"
    );
    assert!(
        !recorded.contains("c2VjcmV0"),
        "header values are never logged: {recorded}"
    );

    let spans = receiver.spans();
    assert_eq!(spans.len(), 3, "one span per interaction: {spans:#?}");
    let requests = receiver.requests();
    assert!(requests.iter().all(|r| r["path"] == "/v1/traces"
        && r["content_type"] == "application/x-protobuf"
        && r["authorization"] == "Basic c2VjcmV0LXRva2Vu"
        && r["x_tenant"] == "t1"));
    let steps = by_step(&spans);
    let (plan, search, answer) = (&steps["plan"], &steps["search"], &steps["answer"]);
    for span in [plan, search, answer] {
        assert_eq!(span["resource"]["service.name"], "refund-bot");
        assert_eq!(span["scope"], "traceforge");
        assert_eq!(span["kind"], 3, "CLIENT");
        assert_eq!(span["trace_id"], plan["trace_id"], "one trace per session");
        let a = &span["attributes"];
        assert_eq!(a["gen_ai.conversation.id"], "sess-7");
        assert_eq!(a["gen_ai.operation.name"], "chat");
        assert_eq!(a["traceforge.organization.id"], "acme");
        assert_eq!(a["traceforge.service.id"], "support");
        assert_eq!(a["traceforge.cassette"], "flow");
        assert_eq!(a["http.response.status_code"], 200);
        assert!(a["gen_ai.response.model"].is_string(), "{a}");
        assert!(
            a["gen_ai.response.finish_reasons"]
                .as_array()
                .unwrap()
                .len()
                == 1,
            "{a}"
        );
        assert!(
            a.get("gen_ai.input.messages").is_none(),
            "no content without --otlp-content"
        );
        assert!(a.get("gen_ai.output.messages").is_none());
        assert!(a.get("error.type").is_none());
        assert!(span["end"].as_u64().unwrap() >= span["start"].as_u64().unwrap());
    }
    for span in [plan, answer] {
        let a = &span["attributes"];
        assert!(a["gen_ai.usage.input_tokens"].as_i64().unwrap() > 0, "{a}");
        assert!(a["gen_ai.usage.output_tokens"].as_i64().unwrap() > 0, "{a}");
    }
    assert_eq!(plan["name"], "chat gpt-4o-mini");
    assert_eq!(answer["name"], "chat claude-haiku-4-5");
    assert_eq!(plan["attributes"]["gen_ai.provider.name"], "openai");
    assert_eq!(answer["attributes"]["gen_ai.provider.name"], "anthropic");
    assert_eq!(plan["attributes"]["gen_ai.request.max_tokens"], 64);
    assert_eq!(plan["attributes"]["gen_ai.request.temperature"], 0.2);
    assert_eq!(search["attributes"]["gen_ai.request.stream"], true);
    assert!(search["attributes"]["gen_ai.response.id"].is_string());
    assert_eq!(plan["parent_span_id"], "");
    assert_eq!(search["parent_span_id"], plan["span_id"]);
    assert_eq!(answer["parent_span_id"], plan["span_id"]);
    assert_ne!(search["span_id"], answer["span_id"]);

    // The database backfilled into a second receiver: the same spans, ids included.
    let backfill = Receiver::start(&[]);
    let output = tf(
        work.path(),
        &[
            "traces",
            "export",
            "--db",
            "t.db",
            "--format",
            "otlp",
            "--otlp-endpoint",
            &backfill.url(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("traces export: 3 span(s) sent to"),
        "{}",
        stderr(&output)
    );
    let again = by_step(&backfill.spans());
    assert_eq!(again.len(), 3);
    for (step, span) in &steps {
        let other = &again[step];
        for key in ["trace_id", "span_id", "parent_span_id", "name"] {
            assert_eq!(other[key], span[key], "{step} {key}");
        }
        assert_eq!(
            other["resource"]["service.name"], "traceforge",
            "the default name"
        );
    }

    // A replay run exports its answers too: a trace of its own, linked the same way.
    let replay = Receiver::start(&[]);
    let replayed = run_session(
        work.path(),
        "replay",
        &["--otlp-endpoint", &replay.url()],
        &[],
    );
    assert!(replayed.contains("otlp: 3 span(s) exported"), "{replayed}");
    let again = by_step(&replay.spans());
    assert_eq!(again.len(), 3);
    assert_ne!(again["plan"]["trace_id"], plan["trace_id"]);
    assert_eq!(again["search"]["parent_span_id"], again["plan"]["span_id"]);
    assert_eq!(again["answer"]["attributes"]["traceforge.replayed"], true);
    assert_eq!(
        again["answer"]["attributes"]["gen_ai.conversation.id"],
        "sess-7"
    );

    // A receiver that refuses: a clear error and a failing exit.
    let refusing = Receiver::start(&["--status", "400"]);
    let output = tf(
        work.path(),
        &[
            "traces",
            "export",
            "--db",
            "t.db",
            "--format",
            "otlp",
            "--otlp-endpoint",
            &refusing.url(),
        ],
    );
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("stopped after 0 span(s)"), "{text}");
    assert!(
        text.contains("refused the spans: HTTP 400: refused by the test receiver"),
        "{text}"
    );
}

#[test]
fn content_goes_out_only_when_asked_and_only_as_stored() {
    if !receiver_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("traceforge.yaml"), "pii:\n  mode: mask\n").unwrap();
    let receiver = Receiver::start(&[]);
    let stderr = record_session(
        work.path(),
        &["--otlp-content"],
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &format!("{}/v1/traces", receiver.url()),
        )],
    );
    assert!(stderr.contains("otlp: 3 span(s) exported"), "{stderr}");
    let spans = receiver.spans();
    let steps = by_step(&spans);
    let plan = &steps["plan"]["attributes"];
    let input = plan["gen_ai.input.messages"].to_string();
    assert!(input.contains("a refund plan"), "{input}");
    assert!(
        !input.contains(EMAIL) && !input.contains(KEY),
        "masked: {input}"
    );
    assert!(!input.contains("sk-proj-Zq8"), "{input}");
    assert_eq!(
        plan["gen_ai.system_instructions"][0]["content"], "You plan.",
        "{plan}"
    );
    let output = &steps["search"]["attributes"]["gen_ai.output.messages"];
    assert_eq!(output[0]["role"], "assistant", "{output}");
    assert!(!output[0]["parts"][0]["content"]
        .as_str()
        .unwrap()
        .is_empty());
    let all = serde_json::to_string(&spans).unwrap();
    assert!(!all.contains(EMAIL) && !all.contains(KEY));
}

#[test]
fn an_unreachable_endpoint_costs_one_warning_and_counted_spans() {
    let work = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let stderr = record_session(
        work.path(),
        &["--otlp-endpoint", &format!("http://127.0.0.1:{port}")],
        &[],
    );
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("OTLP export"))
        .collect();
    assert_eq!(warnings.len(), 1, "exactly one warning: {stderr}");
    assert!(warnings[0].starts_with("traceforge: warning: "), "{stderr}");
    assert!(
        stderr.contains("otlp: 0 span(s) exported") && stderr.contains("3 not delivered"),
        "{stderr}"
    );
    assert!(stderr.contains("3 recorded"), "{stderr}");
}

#[test]
fn bad_endpoint_and_header_settings_are_one_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let output = tf(
        work.path(),
        &["vcr", "replay", "--otlp-endpoint", "localhost:4318"],
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.starts_with("error: --otlp-endpoint: "), "{text}");

    let output = traceforge_command()
        .current_dir(work.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20hunter2,broken",
        )
        .args(["vcr", "replay"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: OTEL_EXPORTER_OTLP_HEADERS: entry 2 has no '='"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");

    // Other commands never read the variables.
    let output = traceforge_command()
        .current_dir(work.path())
        .env("OTEL_EXPORTER_OTLP_HEADERS", "broken")
        .args(["vcr", "list"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

/// A replay exports the recording's span once the policies let its answer through; a replay
/// they block (the client got a policy error, not the recording) exports none.
#[test]
fn a_replay_the_policies_block_exports_no_span() {
    if !receiver_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let stderr = record_session(work.path(), &[], &[]);
    assert!(stderr.contains("3 recorded"), "{stderr}");
    // The mock quotes the prompt: the `answer` step's answer says "Write the answer".
    let policies = global_policy_dir(
        "answers",
        json!([
            {"id": "no-writing", "type": "blocked-terms", "severity": "high",
             "applies_to": "response", "action": "block", "terms": ["Write the answer"]}
        ]),
    );
    let receiver = Receiver::start(&[]);
    let endpoint = receiver.url();
    let args = [
        "vcr",
        "replay",
        "--cassettes",
        "c",
        "--db",
        "t.db",
        "--policies",
        policies.path().to_str().unwrap(),
        "--otlp-endpoint",
        &endpoint,
    ];
    let proxy = ProxyProcess::start(work.path(), &args);
    let rt = runtime();
    let mut statuses = Vec::new();
    for (step, path, body) in [
        (
            "search",
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "stream": true, "messages": [
                {"role": "user", "content": "Search the refund rules"}]}),
        ),
        (
            "answer",
            "/anthropic/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [
                {"role": "user", "content": "Write the answer"}]}),
        ),
    ] {
        let headers = [
            ("x-traceforge-session-id", "sess-7"),
            ("x-traceforge-organization-id", "acme"),
            ("x-traceforge-service-id", "support"),
            ("x-traceforge-step-id", step),
            ("x-traceforge-parent-step-id", "plan"),
            ("x-traceforge-cassette", "flow"),
        ];
        statuses.push(rt.block_on(post(&proxy.url(path), &body, &headers)).status);
    }
    assert_eq!(statuses, [200, 400]);
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("otlp: 1 span(s) exported"),
        "{}",
        stopped.stderr
    );
    let spans = receiver.spans();
    let steps: Vec<&str> = spans
        .iter()
        .map(|s| s["attributes"]["traceforge.step.id"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["search"], "{spans:?}");
}
