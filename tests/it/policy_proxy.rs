//! Policies at the proxy (issue 12's proof), through the official openai and anthropic SDKs:
//! a blocked request raises `BadRequestError` after one attempt and never reaches the
//! upstream; a stream cut by a policy ends cleanly with the provider's filtered finish and no
//! part of the blocked term; `redact` rewrites in place; replay applies the policies to what
//! was recorded without them; `enforce_at_proxy: false` and the emergency switch change nothing
//! but are recorded; the scope headers pick organization and service policies.
//!
//! What the upstream received is seen through a second recording proxy in front of the mock
//! (the mock keeps no request log). The SDK tests need `pip install openai anthropic`; without
//! them they say so and pass, unless `TRACEFORGE_REQUIRE_SDKS` is set (as in `python_sdk.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

fn sdks_installed() -> bool {
    let installed = Command::new("python3")
        .args(["-c", "import openai, anthropic"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var_os("TRACEFORGE_REQUIRE_SDKS").is_none(),
            "TRACEFORGE_REQUIRE_SDKS is set but `python3 -c 'import openai, anthropic'` fails"
        );
        eprintln!("SKIPPED: python SDKs not installed (pip install openai anthropic)");
    }
    installed
}

/// A mock whose streams arrive event by event (one word, or 16 characters, each), so a
/// two-word term or a long word reaches the proxy split across network reads.
async fn paced_mock() -> traceforge::server::Running {
    start_mock(MockConfig {
        first_event_delay: Duration::ZERO,
        event_delay: Duration::from_millis(3),
    })
    .await
}

/// A fake GitHub token made at run time from pieces, so no secret scanner flags this file.
fn fake_key() -> String {
    let random: String = (0..36)
        .map(|i| char::from(b'a' + ((i * 7 + 3) % 26) as u8))
        .collect();
    format!("{}{random}", ["gh", "p_"].concat())
}

/// An upstream behind a recording proxy, so what it received can be counted.
struct Observer {
    dir: tempfile::TempDir,
    proxy: ProxyProcess,
}

impl Observer {
    fn start(mock_url: &str) -> Observer {
        let dir = tempfile::tempdir().unwrap();
        let openai = format!("openai={mock_url}");
        let anthropic = format!("anthropic={mock_url}");
        let args = [
            "vcr",
            "record",
            "--cassettes",
            "seen",
            "--no-traces",
            "--upstream",
            &openai,
            "--upstream",
            &anthropic,
        ];
        let proxy = ProxyProcess::start(dir.path(), &args);
        Observer { dir, proxy }
    }

    fn upstream_args(&self) -> Vec<String> {
        vec![
            "--upstream".into(),
            format!("openai={}", self.proxy.url("/openai")),
            "--upstream".into(),
            format!("anthropic={}", self.proxy.url("/anthropic")),
        ]
    }

    /// Stops it and returns the requests it received: the first user message of each.
    fn received(self) -> Vec<String> {
        let stopped = self.proxy.stop();
        assert!(stopped.status.success(), "{}", stopped.stderr);
        interactions(&self.dir.path().join("seen"))
            .iter()
            .map(|i| {
                i.request
                    .body
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// Every interaction of every cassette in `dir`.
fn interactions(dir: &Path) -> Vec<traceforge::cassette::Interaction> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .flat_map(|p| cassette(p).interactions)
        .collect()
}

/// The proxy under test: `vcr MODE --policies DIR` with `args` after it.
fn start_proxy(
    work: &Path,
    mode: &str,
    policies: &Path,
    args: &[String],
    env: &[(&str, &Path)],
) -> ProxyProcess {
    let mut all: Vec<&str> = vec!["vcr", mode, "--cassettes", "c", "--cassette", "p"];
    all.extend(["--policies", policies.to_str().unwrap()]);
    all.extend(args.iter().map(String::as_str));
    ProxyProcess::start_with_env(work, &all, env)
}

/// One SDK call: `api` decides the SDK (see tests/it/sdk/policy_clients.py).
fn call(name: &str, api: &str, model: &str, prompt: &str) -> Value {
    let sdk = if api.starts_with("messages") {
        "anthropic"
    } else {
        "openai"
    };
    json!({"name": name, "sdk": sdk, "api": api, "model": model, "prompt": prompt, "headers": {}})
}

fn with_headers(mut call: Value, headers: &[(&str, &str)]) -> Value {
    for (name, value) in headers {
        call["headers"][*name] = json!(value);
    }
    call
}

/// Runs the calls through the SDKs against `proxy`; their results by name.
fn run_sdk(proxy: &ProxyProcess, calls: &[Value]) -> BTreeMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let calls: Vec<Value> = calls
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["base"] = json!(if c["sdk"] == "openai" {
                proxy.url("/openai/v1")
            } else {
                proxy.url("/anthropic")
            });
            c
        })
        .collect();
    let input = dir.path().join("calls.json");
    let output = dir.path().join("results.json");
    std::fs::write(&input, serde_json::to_vec(&calls).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/sdk/policy_clients.py");
    let ran = Command::new("python3")
        .arg(script)
        .arg(&input)
        .arg(&output)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "policy_clients.py: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let results: BTreeMap<String, Value> =
        serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    assert_eq!(results.len(), calls.len());
    results
}

/// Asserts that a call raised `BadRequestError` after one attempt, naming policy, rule and
/// path, and never `value`.
fn assert_blocked(
    results: &BTreeMap<String, Value>,
    name: &str,
    rule: &str,
    path: &str,
    value: &str,
) {
    let r = &results[name];
    assert_eq!(r["error"], "BadRequestError", "{name}: {r}");
    assert_eq!(r["status"], 400, "{name}: {r}");
    assert_eq!(r["attempts"], 1, "{name}: the SDK retried: {r}");
    let message = r["message"].as_str().unwrap();
    for part in ["policy `", rule, path] {
        assert!(message.contains(part), "{name}: {part:?} in {message}");
    }
    assert!(
        !message.contains(value),
        "{name}: the value leaked: {message}"
    );
}

/// Asserts that a call ended cleanly with `finish` and its text holds no piece of `term`.
fn assert_cut(results: &BTreeMap<String, Value>, name: &str, finish: &str, term: &str) {
    let r = &results[name];
    assert_eq!(r["error"], Value::Null, "{name}: {r}");
    assert_eq!(r["attempts"], 1, "{name}: {r}");
    assert_eq!(r["finish"], finish, "{name}: {r}");
    let text = r["text"].as_str().unwrap().to_lowercase();
    assert!(
        text.starts_with("mock answer to:"),
        "{name}: what came before the term is sent: {r}"
    );
    // No word of the term, nor its first three letters.
    for word in term.split(' ') {
        let word = word.to_lowercase();
        assert!(!text.contains(&word[..3]), "{name}: {word} leaked: {r}");
    }
}

fn assert_ok(results: &BTreeMap<String, Value>, name: &str) -> String {
    let r = &results[name];
    assert_eq!(r["error"], Value::Null, "{name}: {r}");
    assert_eq!(r["attempts"], 1, "{name}: {r}");
    r["text"].as_str().unwrap().to_string()
}

const ALL_STREAMS: [&str; 4] = [
    "chat_stream",
    "responses_stream",
    "messages_stream",
    "messages_raw_stream",
];

fn model_for(api: &str) -> &'static str {
    if api.starts_with("messages") {
        "claude-haiku-4-5"
    } else {
        "gpt-4o-mini"
    }
}

/// The finish reason a provider's filter gives a stream of `api`.
fn filtered_finish(api: &str) -> &'static str {
    if api.starts_with("messages") {
        "refusal"
    } else {
        "content_filter"
    }
}

#[test]
fn sdk_blocked_requests_raise_bad_request_after_one_attempt_and_never_reach_the_upstream() {
    if !sdks_installed() {
        return;
    }
    let policies = global_policy_dir(
        "safety",
        json!([
            {"id": "approved-models", "type": "allowed-models", "severity": "high",
             "applies_to": "request", "action": "block", "models": ["gpt-4o*", "claude-*"]},
            {"id": "no-secrets", "type": "no-secrets", "severity": "critical",
             "applies_to": "both", "action": "block"}
        ]),
    );
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let observer = Observer::start(&format!("http://{}", mock.addr));
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(
        work.path(),
        "record",
        policies.path(),
        &observer.upstream_args(),
        &[],
    );
    let key = fake_key();
    let secret = format!("deploy with {key} today");
    let results = run_sdk(
        &proxy,
        &[
            call("openai_model", "chat", "gpt-3.5-turbo", "hello there"),
            call(
                "openai_model_stream",
                "chat_stream",
                "gpt-3.5-turbo",
                "hello",
            ),
            call(
                "openai_secret_stream",
                "chat_stream",
                "gpt-4o-mini",
                &secret,
            ),
            call("responses_secret", "responses", "gpt-4o-mini", &secret),
            call(
                "responses_model_stream",
                "responses_stream",
                "o1-mini",
                "hi",
            ),
            call("anthropic_secret", "messages", "claude-haiku-4-5", &secret),
            call(
                "anthropic_model_stream",
                "messages_stream",
                "gemini-pro",
                "hi",
            ),
            call(
                "anthropic_secret_raw",
                "messages_raw_stream",
                "claude-haiku-4-5",
                &secret,
            ),
            call("allowed", "chat", "gpt-4o-mini", "hello there"),
        ],
    );
    for (name, model) in [
        ("openai_model", "gpt-3.5-turbo"),
        ("openai_model_stream", "gpt-3.5-turbo"),
        ("responses_model_stream", "o1-mini"),
        ("anthropic_model_stream", "gemini-pro"),
    ] {
        assert_blocked(&results, name, "approved-models", "model", model);
    }
    for name in [
        "openai_secret_stream",
        "responses_secret",
        "anthropic_secret",
        "anthropic_secret_raw",
    ] {
        assert_blocked(&results, name, "no-secrets", "request.body", &key);
        // Not even a piece of its random part.
        assert!(!results[name]["message"]
            .as_str()
            .unwrap()
            .contains(&key[4..16]));
    }
    assert!(assert_ok(&results, "allowed").contains("hello there"));

    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(!stopped.stderr.contains(&key), "{}", stopped.stderr);
    // Whoever runs the proxy sees what was blocked, and the summary counts it.
    assert!(
        stopped.stderr.contains("traceforge: blocked by policy `"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains(" blocked by policy)"),
        "{}",
        stopped.stderr
    );
    // The upstream saw the allowed request and nothing else.
    let received = observer.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].contains("hello there"), "{received:?}");
    rt.block_on(mock.stop());
}

/// Block rules on answers: a two-word term (split across events) and a long word (split
/// inside itself by the mock's 16-character pieces).
fn answer_blocks(enforce: bool) -> Value {
    global(
        "answers",
        enforce,
        json!([
            {"id": "competitor", "type": "blocked-terms", "severity": "high",
             "applies_to": "response", "action": "block",
             "terms": ["Umbrella Corp", "Xylophonecorporation"]}
        ]),
    )
}

#[test]
fn sdk_streams_cut_by_a_policy_end_with_the_providers_filtered_finish() {
    if !sdks_installed() {
        return;
    }
    let policies = policy_dir(&[("global/answers.json", answer_blocks(true))]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let work = tempfile::tempdir().unwrap();
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let prompts = [
        ("two_words", "Ask umbrella corp about the weather"),
        ("long_word", "Ask Xylophonecorporation about the weather"),
    ];
    let mut calls = Vec::new();
    for (kind, prompt) in prompts {
        for api in ALL_STREAMS {
            calls.push(call(&format!("{api}_{kind}"), api, model_for(api), prompt));
        }
        calls.push(call(&format!("chat_{kind}"), "chat", "gpt-4o-mini", prompt));
        calls.push(call(
            &format!("messages_{kind}"),
            "messages",
            "claude-haiku-4-5",
            prompt,
        ));
    }
    calls.push(call(
        "clean",
        "chat_stream",
        "gpt-4o-mini",
        "Ask about the weather",
    ));
    let results = run_sdk(&proxy, &calls);
    for (kind, prompt) in prompts {
        let term = if kind == "two_words" {
            "Umbrella Corp"
        } else {
            "Xylophonecorporation"
        };
        for api in ALL_STREAMS {
            assert_cut(
                &results,
                &format!("{api}_{kind}"),
                filtered_finish(api),
                term,
            );
        }
        // A non-streamed answer that breaks a block rule is replaced by the error.
        for api in ["chat", "messages"] {
            let name = format!("{api}_{kind}");
            assert_blocked(&results, &name, "competitor", "response.body", &term[..5]);
        }
        let _ = prompt;
    }
    let clean = assert_ok(&results, "clean");
    assert!(clean.contains("weather"), "{clean}");
    assert_eq!(results["clean"]["finish"], "stop");

    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    // The interactions are recorded as the upstream sent them, with the decisions.
    let recorded = interactions(&work.path().join("c"));
    assert_eq!(recorded.len(), calls.len(), "{}", stopped.stderr);
    let cut = recorded
        .iter()
        .filter(|i| {
            i.decisions
                .iter()
                .any(|d| d.rule == "competitor" && d.action == "block" && d.outcome == "applied")
        })
        .count();
    assert_eq!(cut, calls.len() - 1);
    rt.block_on(mock.stop());
}

#[test]
fn sdk_redact_rewrites_answers_in_place_streamed_and_not() {
    if !sdks_installed() {
        return;
    }
    let policies = global_policy_dir(
        "names",
        json!([
            {"id": "competitors", "type": "blocked-terms", "severity": "medium",
             "applies_to": "response", "action": "redact",
             "terms": ["Globex", "Initech Systems"]}
        ]),
    );
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let work = tempfile::tempdir().unwrap();
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let prompt = "Compare Globex with initech systems for me";
    let apis = [
        "chat",
        "chat_stream",
        "responses",
        "responses_stream",
        "messages",
        "messages_stream",
        "messages_raw_stream",
    ];
    let calls: Vec<Value> = apis
        .iter()
        .map(|api| call(api, api, model_for(api), prompt))
        .collect();
    let results = run_sdk(&proxy, &calls);
    for api in apis {
        let text = assert_ok(&results, api);
        assert!(
            text.starts_with("Mock answer to: Compare <REDACTED> with <REDACTED> for me"),
            "{api}: {text}"
        );
        let lower = text.to_lowercase();
        assert!(
            !lower.contains("globex") && !lower.contains("initech"),
            "{api}: {text}"
        );
        let finish = &results[api]["finish"];
        assert!(
            ["stop", "end_turn", "completed"].contains(&finish.as_str().unwrap_or("")),
            "{api}: {finish}"
        );
    }
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let recorded = interactions(&work.path().join("c"));
    assert_eq!(recorded.len(), apis.len());
    for interaction in &recorded {
        assert!(
            interaction
                .decisions
                .iter()
                .any(|d| d.rule == "competitors" && d.action == "redact" && d.outcome == "applied"),
            "{:?}",
            interaction.decisions
        );
    }
    rt.block_on(mock.stop());
}

#[test]
fn sdk_replay_applies_the_policies_to_answers_recorded_without_them() {
    if !sdks_installed() {
        return;
    }
    let none = policy_dir(&[]);
    let policies = policy_dir(&[
        ("global/answers.json", answer_blocks(true)),
        (
            "global/names.json",
            global(
                "names",
                true,
                json!([{"id": "weather", "type": "blocked-terms", "severity": "low",
                        "applies_to": "response", "action": "redact", "terms": ["weather"]}]),
            ),
        ),
    ]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let work = tempfile::tempdir().unwrap();
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let blocked = "Ask Umbrella Corp about the weather";
    let mut calls = Vec::new();
    for api in ALL_STREAMS.iter().chain(&["chat", "messages"]) {
        calls.push(call(api, api, model_for(api), blocked));
    }
    calls.push(call(
        "clean",
        "chat_stream",
        "gpt-4o-mini",
        "Is the weather fine",
    ));
    let recorder = start_proxy(work.path(), "record", none.path(), &upstreams, &[]);
    let recorded = run_sdk(&recorder, &calls);
    for api in ALL_STREAMS {
        assert!(
            assert_ok(&recorded, api).contains("Umbrella Corp"),
            "recorded without policies: {api}"
        );
    }
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());

    // Mock stopped: replay answers from the cassette, through the policies.
    let replayer = start_proxy(work.path(), "replay", policies.path(), &[], &[]);
    let replayed = run_sdk(&replayer, &calls);
    for api in ALL_STREAMS {
        assert_cut(&replayed, api, filtered_finish(api), "Umbrella Corp");
    }
    for api in ["chat", "messages"] {
        assert_blocked(&replayed, api, "competitor", "response.body", "Umbrella");
    }
    let clean = assert_ok(&replayed, "clean");
    assert!(clean.contains("Is the <REDACTED> fine"), "{clean}");
    let stopped = replayer.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    // Every request was answered from the cassette, cut or not.
    assert!(
        stopped
            .stderr
            .contains(&format!("{} replayed, 0 missed", calls.len())),
        "{}",
        stopped.stderr
    );
}

#[test]
fn sdk_policies_not_enforced_at_the_proxy_change_nothing_but_are_recorded() {
    if !sdks_installed() {
        return;
    }
    let mut models = global(
        "models",
        false,
        json!([{"id": "approved-models", "type": "allowed-models", "severity": "high",
                "applies_to": "request", "action": "block", "models": ["gpt-4o*"]}]),
    );
    models["id"] = json!("models");
    let policies = policy_dir(&[
        ("global/answers.json", answer_blocks(false)),
        ("global/models.json", models),
    ]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let observer = Observer::start(&format!("http://{}", mock.addr));
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(
        work.path(),
        "record",
        policies.path(),
        &observer.upstream_args(),
        &[],
    );
    let prompt = "Ask Umbrella Corp about the weather";
    let results = run_sdk(
        &proxy,
        &[
            call("chat_stream", "chat_stream", "gpt-3.5-turbo", prompt),
            call("messages", "messages", "claude-haiku-4-5", prompt),
        ],
    );
    for name in ["chat_stream", "messages"] {
        assert!(assert_ok(&results, name).contains("Umbrella Corp about the weather"));
        assert!(
            results[name]["policy_headers"][0].is_null(),
            "{}",
            results[name]
        );
    }
    assert_eq!(results["chat_stream"]["finish"], "stop");
    assert_eq!(results["messages"]["finish"], "end_turn");
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(observer.received().len(), 2);
    let recorded = interactions(&work.path().join("c"));
    assert_eq!(recorded.len(), 2);
    for interaction in &recorded {
        let decisions: Vec<(&str, &str)> = interaction
            .decisions
            .iter()
            .map(|d| (d.rule.as_str(), d.outcome.as_str()))
            .collect();
        assert!(
            decisions.contains(&("competitor", "evaluated")),
            "{decisions:?}"
        );
        assert!(
            decisions.iter().all(|(_, outcome)| *outcome == "evaluated"),
            "{decisions:?}"
        );
    }
    let chat = recorded
        .iter()
        .find(|i| i.request.path.contains("chat"))
        .unwrap();
    assert!(
        chat.decisions
            .iter()
            .any(|d| d.rule == "approved-models" && d.outcome == "evaluated"),
        "{:?}",
        chat.decisions
    );
    rt.block_on(mock.stop());
}

#[test]
fn sdk_emergency_switch_changes_no_traffic_records_decisions_and_marks_every_response() {
    if !sdks_installed() {
        return;
    }
    let policies = policy_dir(&[
        ("global/answers.json", answer_blocks(true)),
        (
            "global/models.json",
            global(
                "models",
                true,
                json!([{"id": "approved-models", "type": "allowed-models", "severity": "high",
                        "applies_to": "request", "action": "block", "models": ["gpt-4o*"]}]),
            ),
        ),
    ]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let observer = Observer::start(&format!("http://{}", mock.addr));
    let work = tempfile::tempdir().unwrap();
    let switch = [("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT", Path::new("true"))];
    let proxy = start_proxy(
        work.path(),
        "record",
        policies.path(),
        &observer.upstream_args(),
        &switch,
    );
    wait_for("the warning", || {
        proxy
            .stderr_so_far()
            .contains("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT is set")
    });
    let prompt = "Ask Umbrella Corp about the weather";
    let results = run_sdk(
        &proxy,
        &[
            call("blocked_model", "chat", "gpt-3.5-turbo", "hello there"),
            call("chat_stream", "chat_stream", "gpt-4o-mini", prompt),
            call(
                "messages_stream",
                "messages_stream",
                "claude-haiku-4-5",
                prompt,
            ),
            call("chat", "chat", "gpt-4o-mini", prompt),
        ],
    );
    assert!(assert_ok(&results, "blocked_model").contains("hello there"));
    for name in ["chat_stream", "messages_stream", "chat"] {
        assert!(
            assert_ok(&results, name).contains("Umbrella Corp about the weather"),
            "{}",
            results[name]
        );
    }
    assert_eq!(results["chat_stream"]["finish"], "stop");
    assert_eq!(results["messages_stream"]["finish"], "end_turn");
    for (name, r) in &results {
        assert_eq!(r["policy_headers"], json!(["disabled"]), "{name}: {r}");
    }
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(observer.received().len(), 4);
    let recorded = interactions(&work.path().join("c"));
    assert_eq!(recorded.len(), 4);
    let outcomes: Vec<(String, String)> = recorded
        .iter()
        .flat_map(|i| &i.decisions)
        .map(|d| (d.rule.clone(), d.outcome.clone()))
        .collect();
    assert!(
        outcomes.contains(&("approved-models".into(), "disabled".into())),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|(r, _)| r == "competitor").count(),
        3,
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|(_, o)| o == "disabled"),
        "{outcomes:?}"
    );
    rt.block_on(mock.stop());

    // Replay under the switch: answers unchanged, every response marked.
    let replayer = start_proxy(work.path(), "replay", policies.path(), &[], &switch);
    let replayed = run_sdk(
        &replayer,
        &[
            call("chat_stream", "chat_stream", "gpt-4o-mini", prompt),
            call("missed", "chat", "gpt-4o-mini", "never recorded"),
        ],
    );
    assert!(assert_ok(&replayed, "chat_stream").contains("Umbrella Corp"));
    assert_eq!(replayed["missed"]["policy_headers"], json!(["disabled"]));
    assert_eq!(
        replayed["chat_stream"]["policy_headers"],
        json!(["disabled"])
    );
    drop(replayer);

    // The switch is no way around a broken policy file.
    std::fs::write(
        policies.path().join("global/broken.json"),
        "{\"id\": \"broken\",\n \"rules\": [}\n",
    )
    .unwrap();
    let failed = traceforge_command()
        .current_dir(work.path())
        .env("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT", "true")
        .args(["vcr", "record", "--cassettes", "c", "--policies"])
        .arg(policies.path())
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    let err = stderr(&failed);
    let line = err
        .lines()
        .find(|l| l.contains("broken.json"))
        .unwrap_or_else(|| panic!("no line names the file: {err}"));
    assert!(line.contains(":2"), "the line is named: {err}");
}

#[test]
fn sdk_scope_headers_select_organization_and_service_policies() {
    if !sdks_installed() {
        return;
    }
    let policies = policy_dir(&[
        (
            "organizations/org-acme/answers.json",
            json!({"id": "acme-answers", "version": "2.0.0", "scope": "organization",
                   "organization_id": "org-acme", "enforce_at_proxy": true, "priority": 200,
                   "rules": [{"id": "competitor", "type": "blocked-terms", "severity": "high",
                              "applies_to": "response", "action": "block",
                              "terms": ["Umbrella Corp"]}]}),
        ),
        (
            "organizations/org-acme/services/support-bot/models.json",
            json!({"id": "support-models", "version": "1.0.0", "scope": "service",
                   "organization_id": "org-acme", "service_id": "support-bot",
                   "enforce_at_proxy": true, "priority": 150,
                   "rules": [{"id": "haiku-only", "type": "allowed-models", "severity": "high",
                              "applies_to": "request", "action": "block",
                              "models": ["claude-haiku-*"]}]}),
        ),
    ]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let prompt = "Ask Umbrella Corp about the weather";
    let acme = [("X-TraceForge-Organization-ID", "org-acme")];
    let bot = [
        ("X-TraceForge-Organization-ID", "org-acme"),
        ("X-TraceForge-Service-ID", "support-bot"),
    ];
    let other = [
        ("X-TraceForge-Organization-ID", "org-other"),
        ("X-TraceForge-Service-ID", "support-bot"),
    ];
    let results = run_sdk(
        &proxy,
        &[
            call("unscoped", "chat_stream", "gpt-4o-mini", prompt),
            with_headers(
                call("other", "messages_stream", "claude-sonnet-4-5", prompt),
                &other,
            ),
            with_headers(
                call("acme_stream", "chat_stream", "gpt-4o-mini", prompt),
                &acme,
            ),
            with_headers(
                call(
                    "acme_messages",
                    "messages_stream",
                    "claude-haiku-4-5",
                    prompt,
                ),
                &acme,
            ),
            with_headers(
                call("bot_model", "messages", "claude-sonnet-4-5", "hi"),
                &bot,
            ),
            with_headers(
                call("bot_ok", "messages", "claude-haiku-4-5", "hi there"),
                &bot,
            ),
            with_headers(
                call("acme_model", "messages", "claude-sonnet-4-5", "hi there"),
                &acme,
            ),
        ],
    );
    for name in ["unscoped", "other"] {
        assert!(
            assert_ok(&results, name).contains("Umbrella Corp"),
            "{name}"
        );
    }
    assert_cut(&results, "acme_stream", "content_filter", "Umbrella Corp");
    assert_cut(&results, "acme_messages", "refusal", "Umbrella Corp");
    assert_blocked(
        &results,
        "bot_model",
        "haiku-only",
        "model",
        "claude-sonnet",
    );
    assert!(assert_ok(&results, "bot_ok").contains("hi there"));
    // The service's rule is not the organization's.
    assert!(assert_ok(&results, "acme_model").contains("hi there"));
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
}

#[test]
fn sdk_requests_reach_the_upstream_redacted_and_capped() {
    if !sdks_installed() {
        return;
    }
    let policies = global_policy_dir(
        "requests",
        json!([
            {"id": "codenames", "type": "blocked-terms", "severity": "medium",
             "applies_to": "request", "action": "redact", "terms": ["Project Bluebird"]},
            {"id": "token-cap", "type": "max-tokens", "severity": "low",
             "applies_to": "request", "action": "redact", "max": 50}
        ]),
    );
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let observer = Observer::start(&format!("http://{}", mock.addr));
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(
        work.path(),
        "record",
        policies.path(),
        &observer.upstream_args(),
        &[],
    );
    let prompt = "Status of project bluebird please";
    let calls = [
        call("chat_stream", "chat_stream", "gpt-4o-mini", prompt),
        call("messages", "messages", "claude-haiku-4-5", prompt),
    ];
    let results = run_sdk(&proxy, &calls);
    for name in ["chat_stream", "messages"] {
        let text = assert_ok(&results, name);
        assert!(
            text.contains("Status of <REDACTED> please"),
            "{name}: {text}"
        );
    }
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let received = observer.received();
    assert_eq!(received.len(), 2, "{received:?}");
    for body in &received {
        assert!(!body.to_lowercase().contains("bluebird"), "{body}");
        assert!(body.contains("<REDACTED>"), "{body}");
    }
    // The Anthropic SDK asked for 200 tokens; the upstream was asked for 50.
    let messages: Value = serde_json::from_str(
        received
            .iter()
            .find(|b| b.contains("claude"))
            .expect("the anthropic request"),
    )
    .unwrap();
    assert_eq!(messages["max_tokens"], 50, "{messages}");
    rt.block_on(mock.stop());

    // Replay rewrites the requests the same way before matching them.
    let replayer = start_proxy(work.path(), "replay", policies.path(), &[], &[]);
    let replayed = run_sdk(&replayer, &calls);
    for name in ["chat_stream", "messages"] {
        assert_eq!(assert_ok(&replayed, name), assert_ok(&results, name));
    }
    let stopped = replayer.stop();
    assert!(
        stopped.stderr.contains("2 replayed, 0 missed"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn sdk_an_answer_over_the_output_token_cap_is_blocked_live_and_on_replay() {
    if !sdks_installed() {
        return;
    }
    let none = policy_dir(&[]);
    let policies = global_policy_dir(
        "caps",
        json!([{"id": "short-answers", "type": "max-tokens", "severity": "high",
                    "applies_to": "response", "action": "block", "max": 3}]),
    );
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let calls = [
        call("chat", "chat", "gpt-4o-mini", "hello there"),
        call("messages", "messages", "claude-haiku-4-5", "hello there"),
    ];
    // Live: the mock's answers run to about ten words.
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let live = run_sdk(&proxy, &calls);
    for name in ["chat", "messages"] {
        assert_blocked(&live, name, "short-answers", "output_tokens", "hello there");
    }
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);

    // Recorded without the policy, replayed with it.
    let work = tempfile::tempdir().unwrap();
    let recorder = start_proxy(work.path(), "record", none.path(), &upstreams, &[]);
    let recorded = run_sdk(&recorder, &calls);
    assert!(assert_ok(&recorded, "chat").contains("hello there"));
    assert!(recorder.stop().status.success());
    let replayer = start_proxy(work.path(), "replay", policies.path(), &[], &[]);
    let replayed = run_sdk(&replayer, &calls);
    for name in ["chat", "messages"] {
        assert_blocked(
            &replayed,
            name,
            "short-answers",
            "output_tokens",
            "hello there",
        );
    }
    drop(replayer);
    rt.block_on(mock.stop());
}

#[test]
fn sdk_secrets_and_personal_data_in_streamed_answers_are_cut_and_redacted() {
    if !sdks_installed() {
        return;
    }
    let policies = global_policy_dir(
        "leaks",
        json!([
            {"id": "no-secrets", "type": "no-secrets", "severity": "critical",
             "applies_to": "response", "action": "block"},
            {"id": "no-email", "type": "no-pii", "severity": "high", "entities": ["email"],
             "applies_to": "response", "action": "redact"}
        ]),
    );
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let key = fake_key();
    let email = "zorblax.quintana@northwind-mail.com";
    let mut calls = Vec::new();
    for api in ALL_STREAMS {
        calls.push(call(
            &format!("{api}_key"),
            api,
            model_for(api),
            &format!("Use {key} now"),
        ));
        calls.push(call(
            &format!("{api}_email"),
            api,
            model_for(api),
            &format!("Mail {email} today"),
        ));
    }
    let results = run_sdk(&proxy, &calls);
    for api in ALL_STREAMS {
        let name = format!("{api}_key");
        let r = &results[&name];
        assert_eq!(r["error"], Value::Null, "{name}: {r}");
        assert_eq!(r["finish"], filtered_finish(api), "{name}: {r}");
        let text = r["text"].as_str().unwrap();
        assert!(text.starts_with("Mock answer to: Use"), "{name}: {r}");
        // The key arrives in 16-character pieces; none of it is sent.
        assert!(!text.contains("ghp"), "{name}: {r}");
        for piece in key.as_bytes().chunks(6) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!text.contains(piece), "{name}: {piece} leaked: {r}");
        }
        let name = format!("{api}_email");
        let text = assert_ok(&results, &name);
        assert!(text.contains("Mail <EMAIL> today"), "{name}: {text}");
        assert!(
            !text.contains("zorblax") && !text.contains("northwind"),
            "{name}: {text}"
        );
    }
    assert!(proxy.stop().status.success());
    rt.block_on(mock.stop());
}

#[test]
fn decisions_are_in_the_trace_database_and_shown_by_traces_show() {
    let policies = policy_dir(&[("global/answers.json", answer_blocks(true))]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let body = json!({"model": "gpt-4o-mini", "stream": true,
                      "messages": [{"role": "user", "content": "Ask Umbrella Corp about it"}]});
    let received = rt.block_on(post(&proxy.url("/openai/v1/chat/completions"), &body, &[]));
    assert_eq!(received.status, 200);
    let stopped = proxy.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
    let recorded = interactions(&work.path().join("c"));
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].decisions.iter().any(|d| d.rule == "competitor"));
    let show = tf(work.path(), &["traces", "show", "p#1"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(
        text.contains("answers") && text.contains("competitor"),
        "{text}"
    );
}

#[test]
fn sdk_required_scope_blocks_unscoped_requests_and_a_cut_at_the_first_word_sends_no_text() {
    if !sdks_installed() {
        return;
    }
    let policies = policy_dir(&[
        (
            "global/scope.json",
            global(
                "scope",
                true,
                json!([{"id": "scoped", "type": "required-scope", "severity": "high",
                        "applies_to": "request", "action": "block"}]),
            ),
        ),
        (
            "organizations/org-start/answers.json",
            json!({"id": "start", "version": "1.0.0", "scope": "organization",
                   "organization_id": "org-start", "enforce_at_proxy": true, "priority": 10,
                   "rules": [{"id": "opening", "type": "blocked-terms", "severity": "high",
                              "applies_to": "response", "action": "block",
                              "terms": ["Mock answer"]}]}),
        ),
    ]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let observer = Observer::start(&format!("http://{}", mock.addr));
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(
        work.path(),
        "record",
        policies.path(),
        &observer.upstream_args(),
        &[],
    );
    let scoped = [
        ("X-TraceForge-Organization-ID", "org-start"),
        ("X-TraceForge-Service-ID", "svc"),
    ];
    let mut calls = vec![
        call("unscoped_chat", "chat_stream", "gpt-4o-mini", "hello"),
        call("unscoped_messages", "messages", "claude-haiku-4-5", "hello"),
        with_headers(
            call("responses", "responses", "gpt-4o-mini", "hello"),
            &scoped,
        ),
    ];
    for api in ALL_STREAMS {
        calls.push(with_headers(
            call(api, api, model_for(api), "hello"),
            &scoped,
        ));
    }
    let results = run_sdk(&proxy, &calls);
    for name in ["unscoped_chat", "unscoped_messages"] {
        assert_blocked(&results, name, "scoped", "required-scope", "hello");
    }
    assert_blocked(
        &results,
        "responses",
        "opening",
        "response.body",
        "Mock answer",
    );
    for api in ALL_STREAMS {
        let r = &results[api];
        assert_eq!(r["error"], Value::Null, "{api}: {r}");
        assert_eq!(r["finish"], filtered_finish(api), "{api}: {r}");
        assert_eq!(r["text"], "", "{api}: {r}");
    }
    assert!(proxy.stop().status.success());
    assert_eq!(observer.received().len(), 5);
    rt.block_on(mock.stop());
}

#[test]
fn sdk_a_blocked_term_in_streamed_tool_arguments_cuts_the_stream() {
    if !sdks_installed() {
        return;
    }
    let policies = policy_dir(&[("global/answers.json", answer_blocks(true))]);
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec![
        "--upstream".to_string(),
        format!("openai={mock_url}"),
        "--upstream".to_string(),
        format!("anthropic={mock_url}"),
    ];
    let work = tempfile::tempdir().unwrap();
    let proxy = start_proxy(work.path(), "record", policies.path(), &upstreams, &[]);
    let mut calls = Vec::new();
    for (api, prompt) in [
        ("chat_stream", "the Umbrella Corp"),
        ("messages_stream", "the Umbrella Corp"),
        ("messages_raw_stream", "the Umbrella Corp"),
        ("chat_stream", "the Initech Systems"),
    ] {
        let mut c = call(&format!("{api}: {prompt}"), api, model_for(api), prompt);
        c["tools"] = json!(true);
        calls.push(c);
    }
    let results = run_sdk(&proxy, &calls);
    // The mock calls the tool with the prompt as its query, 8 characters per delta.
    let clean = &results["chat_stream: the Initech Systems"];
    assert_eq!(clean["finish"], "tool_calls", "{clean}");
    assert!(
        clean["tool_args"]
            .as_str()
            .unwrap()
            .contains("Initech Systems"),
        "{clean}"
    );
    for api in ["chat_stream", "messages_stream", "messages_raw_stream"] {
        let name = format!("{api}: the Umbrella Corp");
        let r = &results[&name];
        assert_eq!(r["error"], Value::Null, "{name}: {r}");
        assert_eq!(r["finish"], filtered_finish(api), "{name}: {r}");
        let args = r["tool_args"].as_str().unwrap().to_lowercase();
        assert!(
            !args.contains("umb") && !args.contains("corp"),
            "{name}: {r}"
        );
    }
    assert!(proxy.stop().status.success());
    rt.block_on(mock.stop());
}

#[test]
fn the_emergency_switch_is_loud_even_with_no_policies() {
    let rt = runtime();
    let mock = rt.block_on(paced_mock());
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = vec!["--upstream".to_string(), format!("openai={mock_url}")];
    let none = policy_dir(&[]);
    let work = tempfile::tempdir().unwrap();
    let switch = [("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT", Path::new("yes"))];
    let proxy = start_proxy(work.path(), "record", none.path(), &upstreams, &switch);
    wait_for("the warning", || {
        proxy
            .stderr_so_far()
            .contains("TRACEFORGE_DISABLE_POLICY_ENFORCEMENT is set")
    });
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let url = proxy.url("/openai/v1/chat/completions");
    let answer = rt
        .block_on(
            reqwest::Client::new()
                .post(url)
                .body(body.to_string())
                .send(),
        )
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-traceforge-policy"], "disabled");
    assert!(proxy.stop().status.success());
    rt.block_on(mock.stop());
}
