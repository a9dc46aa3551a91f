//! `traceforge diff` end to end: the real binary on cassettes written by hand, recorded from the
//! mock LLM and imported from a real vcrpy fixture; every output format is snapshotted for each
//! kind of change, and bad input gets one `error:` line and exit 2.

use std::path::Path;

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

const FORMATS: [&str; 4] = ["text", "json", "junit", "markdown"];

/// Runs `traceforge ARGS` in `cwd`; returns the exit code, stdout and stderr.
fn run(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
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

/// Writes a cassette through the library, so it has the real on-disk layout.
fn save(dir: &Path, name: &str, interactions: Vec<Value>) {
    let interactions: Vec<Value> = interactions
        .into_iter()
        .enumerate()
        .map(|(i, mut interaction)| {
            interaction["id"] = json!(i + 1);
            interaction
        })
        .collect();
    let cassette = serde_json::from_value(
        json!({"version": 1, "cassette": name, "interactions": interactions}),
    )
    .unwrap();
    let path = dir.join(format!("{name}.yaml"));
    traceforge::cassette::files::save(&path, &cassette).unwrap();
}

fn interaction(
    upstream: &str,
    path: &str,
    request: Value,
    response: Value,
    total_ms: u64,
) -> Value {
    json!({
        "id": 0, "recorded_at": "2026-03-01T10:00:00Z",
        "request": {"method": "POST", "upstream": upstream, "path": path,
                    "headers": {"authorization": "REDACTED", "content-type": "application/json"},
                    "body": {"json": request}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": response}},
        "timing": {"ttfb_ms": total_ms, "total_ms": total_ms},
    })
}

fn question(text: &str) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
}

/// An OpenAI Chat completion with `content`, optional tool calls and token counts.
fn chat_answer(content: Option<&str>, tool_calls: Option<Value>, output_tokens: u64) -> Value {
    let mut message = json!({"role": "assistant", "content": content});
    if let Some(calls) = &tool_calls {
        message["tool_calls"] = calls.clone();
    }
    json!({
        "id": "chatcmpl-AbC123", "object": "chat.completion", "created": 1767261600,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "message": message, "logprobs": null,
                     "finish_reason": if tool_calls.is_some() { "tool_calls" } else { "stop" }}],
        "usage": {"prompt_tokens": 12, "completion_tokens": output_tokens, "total_tokens": 12 + output_tokens},
    })
}

fn weather_call(id: &str, arguments: &str) -> Value {
    json!([{"id": id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}])
}

fn refund(answer: &str, output_tokens: u64) -> Value {
    interaction(
        "openai",
        "/v1/chat/completions",
        question("What is the refund window?"),
        chat_answer(Some(answer), None, output_tokens),
        420,
    )
}

fn weather(arguments: &str) -> Value {
    interaction(
        "openai",
        "/v1/chat/completions",
        question("Weather in Paris?"),
        chat_answer(None, Some(weather_call("call_Xy12", arguments)), 18),
        610,
    )
}

fn anthropic_hello() -> Value {
    interaction(
        "anthropic",
        "/v1/messages",
        json!({"model": "claude-3-5-haiku-latest", "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello"}]}),
        json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
               "content": [{"type": "text", "text": "Hello! How can I help?"}],
               "stop_reason": "end_turn", "usage": {"input_tokens": 9, "output_tokens": 8}}),
        300,
    )
}

fn responses_summary() -> Value {
    interaction(
        "openai",
        "/v1/responses",
        json!({"model": "gpt-4o-mini", "input": "Summarise the order"}),
        json!({"id": "resp_1", "object": "response", "created_at": 1767261600, "status": "completed",
               "model": "gpt-4o-mini-2024-07-18",
               "output": [{"id": "msg_1", "type": "message", "role": "assistant",
                           "content": [{"type": "output_text", "text": "Two items, shipped today.", "annotations": []}]}],
               "usage": {"input_tokens": 6, "output_tokens": 6}}),
        350,
    )
}

/// A scenario: baseline and candidate directories (and maybe a config) in a fresh work dir.
struct Scenario {
    work: tempfile::TempDir,
}

impl Scenario {
    fn new(
        baseline: Vec<(&str, Vec<Value>)>,
        candidate: Vec<(&str, Vec<Value>)>,
        config: Option<&str>,
    ) -> Scenario {
        let work = tempfile::tempdir().unwrap();
        for (dir, cassettes) in [("base", baseline), ("cand", candidate)] {
            let dir = work.path().join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, interactions) in cassettes {
                save(&dir, name, interactions);
            }
        }
        if let Some(config) = config {
            std::fs::write(work.path().join("traceforge.yaml"), config).unwrap();
        }
        Scenario { work }
    }

    fn diff(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let mut args = vec!["diff", "base", "cand"];
        args.extend_from_slice(extra);
        run(self.work.path(), &args)
    }

    /// Snapshots every format under `name_FORMAT` and checks each exits with `code`.
    fn snapshot_all(&self, name: &str, code: i32) {
        for format in FORMATS {
            let (status, stdout, stderr) = self.diff(&["--format", format]);
            assert_eq!(status, Some(code), "{name} {format}: {stderr}\n{stdout}");
            assert!(stderr.is_empty(), "{name} {format}: {stderr}");
            if format == "json" {
                let doc: Value = serde_json::from_str(&stdout).unwrap();
                assert_eq!(doc["version"], 1);
                assert_eq!(doc["changed"], code == 1);
            }
            insta::assert_snapshot!(format!("{name}_{format}"), stdout);
        }
    }
}

#[test]
fn a_changed_answer() {
    let scenario = Scenario::new(
        vec![(
            "support/refunds",
            vec![refund(
                "You can ask for a refund within 30 days of delivery.",
                12,
            )],
        )],
        vec![(
            "support/refunds",
            vec![refund(
                "You can ask for a refund within 14 days of delivery.",
                12,
            )],
        )],
        None,
    );
    scenario.snapshot_all("changed_answer", 1);
}

#[test]
fn a_changed_tool_call_argument() {
    let scenario = Scenario::new(
        vec![(
            "weather",
            vec![
                weather(r#"{"city": "Paris", "unit": "celsius"}"#),
                anthropic_hello(),
            ],
        )],
        vec![(
            "weather",
            vec![
                weather(r#"{"unit":"fahrenheit","city":"Paris"}"#),
                anthropic_hello(),
            ],
        )],
        None,
    );
    scenario.snapshot_all("changed_tool_argument", 1);
}

#[test]
fn a_new_and_a_missing_interaction() {
    let scenario = Scenario::new(
        vec![
            (
                "flows",
                vec![refund("Within 30 days.", 4), anthropic_hello()],
            ),
            ("retired", vec![refund("Within 30 days.", 4)]),
        ],
        vec![(
            "flows",
            vec![refund("Within 30 days.", 4), responses_summary()],
        )],
        None,
    );
    scenario.snapshot_all("new_and_missing", 1);
}

const TOKEN_TOLERANCE: &str = "diff:\n  tolerance:\n    output_tokens: 10%|20\n";

#[test]
fn a_token_increase_inside_the_tolerance() {
    let answer = "You can ask for a refund within 30 days of delivery.";
    let scenario = Scenario::new(
        vec![("support/refunds", vec![refund(answer, 200)])],
        vec![("support/refunds", vec![refund(answer, 215)])],
        Some(TOKEN_TOLERANCE),
    );
    scenario.snapshot_all("tokens_within_tolerance", 0);
}

#[test]
fn a_token_increase_outside_the_tolerance() {
    let answer = "You can ask for a refund within 30 days of delivery.";
    let scenario = Scenario::new(
        vec![("support/refunds", vec![refund(answer, 200)])],
        vec![("support/refunds", vec![refund(answer, 260)])],
        Some(TOKEN_TOLERANCE),
    );
    scenario.snapshot_all("tokens_outside_tolerance", 1);
    // The flag overrides the file.
    let (code, stdout, _) = scenario.diff(&["--tolerance", "output_tokens=50%"]);
    assert_eq!(code, Some(0), "{stdout}");
}

/// Every request of the API matrix through the proxy into `dir`, including two-turn tool
/// conversations whose second request sends the first answer's tool-call id back.
fn record_matrix(rt: &tokio::runtime::Runtime, work: &Path, dir: &str) {
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let recorder = ProxyProcess::start(
        work,
        &[
            "vcr",
            "record",
            "--mode",
            "all",
            "--cassettes",
            dir,
            "--upstream",
            &format!("openai={mock_url}"),
            "--upstream",
            &format!("anthropic={mock_url}"),
        ],
    );
    let chat_url = recorder.url("/openai/v1/chat/completions");
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let post_ok = |url: &str, body: &Value, cassette: &str| {
        let received = rt.block_on(post(url, body, &[("x-traceforge-cassette", cassette)]));
        assert_eq!(received.status, 200, "{received:?}");
        received
    };
    post_ok(
        &chat_url,
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}),
        "chat",
    );
    post_ok(
        &chat_url,
        &json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Stream a haiku about tests"}]}),
        "chat",
    );
    let ask = json!([{"role": "user", "content": "Weather in Rome?"}]);
    let first = post_ok(
        &chat_url,
        &json!({"model": "gpt-4o-mini", "messages": ask, "tools": tools}),
        "tools",
    );
    let call = first.json()["choices"][0]["message"]["tool_calls"][0].clone();
    let id = call["id"].as_str().unwrap().to_string();
    post_ok(
        &chat_url,
        &json!({"model": "gpt-4o-mini", "tools": tools, "messages": [
        ask[0], {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": id, "content": "Sunny, 24 degrees"}]}),
        "tools",
    );

    let messages_url = recorder.url("/anthropic/v1/messages");
    let anthropic_tools = json!([{"name": "get_weather", "description": "weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let ask = json!({"role": "user", "content": "Weather in Oslo?"});
    let first = post_ok(
        &messages_url,
        &json!({"model": "claude-3-5-haiku-latest", "max_tokens": 200, "stream": true, "messages": [ask], "tools": anthropic_tools}),
        "anthropic",
    );
    let assembled = first.as_response();
    let tool_use = assembled
        .stream
        .iter()
        .flatten()
        .filter_map(|e| e.data.as_json())
        .find_map(|v| {
            (v["content_block"]["type"] == "tool_use").then(|| v["content_block"].clone())
        })
        .unwrap();
    let input = serde_json::from_str::<Value>(
        &traceforge::provider::assemble(&assembled).tool_calls[0].arguments,
    )
    .unwrap();
    post_ok(
        &messages_url,
        &json!({"model": "claude-3-5-haiku-latest", "max_tokens": 200, "stream": true, "tools": anthropic_tools, "messages": [
        ask,
        {"role": "assistant", "content": [{"type": "tool_use", "id": tool_use["id"], "name": "get_weather", "input": input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "Snow, -3 degrees"}]}]}),
        "anthropic",
    );
    post_ok(
        &recorder.url("/openai/v1/responses"),
        &json!({"model": "gpt-4o-mini", "stream": true, "input": "Tell me about replay"}),
        "responses",
    );
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
}

/// Rewrites what differs between two recordings of the same behaviour: every id the mock
/// derives (consistently, so a tool-call id a later request sends back changes with it),
/// `created`, the fingerprint, request ids, dates; and pins timings so snapshots are stable.
fn rerecorded(text: &str, candidate: bool) -> String {
    let ids = regex::Regex::new(r"(mock[_-])([0-9a-f]{24})").unwrap();
    let created = regex::Regex::new(r"(created(?:_at)?: )(\d+)").unwrap();
    let times = regex::Regex::new(r"(at_ms|ttfb_ms|total_ms): \d+").unwrap();
    let recorded_at = regex::Regex::new(r"recorded_at: \S+").unwrap();
    let (ms, at) = if candidate {
        ("130", "recorded_at: 2026-03-02T09:30:00Z")
    } else {
        ("120", "recorded_at: 2026-03-01T10:00:00Z")
    };
    let text = times.replace_all(text, format!("$1: {ms}").as_str());
    let text = recorded_at.replace_all(&text, at);
    if !candidate {
        return text.into_owned();
    }
    let text = ids.replace_all(&text, |c: &regex::Captures<'_>| {
        format!("{}{}", &c[1], c[2].chars().rev().collect::<String>())
    });
    let text = created.replace_all(&text, |c: &regex::Captures<'_>| {
        format!("{}{}", &c[1], c[2].parse::<u64>().unwrap() + 86_400)
    });
    text.replace("fp_mock", "fp_8e3d1b0f72")
}

#[test]
fn two_runs_that_differ_only_in_volatile_fields_are_the_same() {
    let rt = runtime();
    let work = tempfile::tempdir().unwrap();
    record_matrix(&rt, work.path(), "recorded");
    for (dir, candidate) in [("base", false), ("cand", true)] {
        for (name, path) in
            traceforge::cassette::files::list(&work.path().join("recorded")).unwrap()
        {
            let text = rerecorded(&std::fs::read_to_string(&path).unwrap(), candidate);
            let mut cassette = traceforge::cassette::files::parse(&path, &text).unwrap();
            // Headers are transport: a new date or rate limit is no change.
            for interaction in &mut cassette.interactions {
                let headers = &mut interaction.response.headers;
                let (date, remaining) = match candidate {
                    true => ("Mon, 02 Mar 2026 09:30:00 GMT", "149990"),
                    false => ("Sun, 01 Mar 2026 10:00:00 GMT", "149000"),
                };
                headers.insert("date".into(), date.into());
                headers.insert("x-ratelimit-remaining-tokens".into(), remaining.into());
            }
            let target = work.path().join(dir).join(format!("{name}.yaml"));
            traceforge::cassette::files::save(&target, &cassette).unwrap();
        }
    }
    let base = std::fs::read_to_string(work.path().join("base/tools.yaml")).unwrap();
    let cand = std::fs::read_to_string(work.path().join("cand/tools.yaml")).unwrap();
    assert_ne!(base, cand);
    // The second turn sends the (changed) tool-call id back, yet pairs by request.
    let id = regex::Regex::new(r"call_mock_[0-9a-f]{24}").unwrap();
    let base_id = id.find(&base).unwrap().as_str();
    let cand_id = id.find(&cand).unwrap().as_str();
    assert_ne!(base_id, cand_id);
    assert_eq!(base.matches(base_id).count(), cand.matches(cand_id).count());
    assert!(
        base.matches(base_id).count() >= 3,
        "response, and twice in the next request"
    );

    let scenario = Scenario { work };
    scenario.snapshot_all("volatile_only", 0);
    let (_, stdout, _) = scenario.diff(&["--format", "json"]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["interactions"], 7);
    for interaction in doc["interactions"].as_array().unwrap() {
        assert_eq!(interaction["paired_by"], "request", "{interaction}");
    }
}

#[test]
fn a_real_vcrpy_stream_with_one_word_and_one_tool_argument_edited() {
    let work = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vcrpy/openllmetry/anthropic_test_anthropic_tools_streaming_legacy.yaml");
    let (code, _, stderr) = run(
        work.path(),
        &[
            "vcr",
            "import",
            "--from",
            "vcrpy",
            "--cassettes",
            "base",
            "--cassette",
            "weather-and-time",
            fixture.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let original = std::fs::read_to_string(work.path().join("base/weather-and-time.yaml")).unwrap();
    // One word of the streamed answer, and one argument of the first tool call's streamed JSON.
    let edited = original
        .replacen(
            "text: ' help you with that information'",
            "text: ' assist you with that information'",
            1,
        )
        .replacen(
            r#"partial_json: ': "celsius"}'"#,
            r#"partial_json: ': "fahrenheit"}'"#,
            1,
        );
    assert_eq!(
        similar::TextDiff::from_lines(&original, &edited)
            .ops()
            .iter()
            .filter(|op| op.tag() != similar::DiffTag::Equal)
            .count(),
        2,
        "exactly two lines of the stream were edited"
    );
    std::fs::create_dir_all(work.path().join("cand")).unwrap();
    std::fs::write(work.path().join("cand/weather-and-time.yaml"), edited).unwrap();

    let (code, stdout, stderr) = run(
        work.path(),
        &[
            "diff",
            "base/weather-and-time.yaml",
            "cand/weather-and-time.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        doc["summary"],
        json!({"interactions": 1, "same": 0, "changed": 1, "missing": 0, "new": 0})
    );
    let changes = doc["interactions"][0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{changes:#?}");
    assert_eq!(changes[0]["kind"], "text");
    assert!(changes[0]["diff"].as_str().unwrap().contains("[-help-]"));
    assert!(changes[0]["diff"].as_str().unwrap().contains("{+assist+}"));
    assert_eq!(changes[1]["kind"], "tool_call");
    assert_eq!(changes[1]["candidate"]["name"], "get_weather");
    assert_eq!(
        changes[1]["arguments"],
        json!([{"path": "$.unit", "baseline": "celsius", "candidate": "fahrenheit"}])
    );

    let (code, stdout, _) = run(work.path(), &["diff", "base", "cand"]);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!("vcrpy_stream_edited_text", stdout);
}

#[test]
fn a_changed_prompt_is_paired_by_position_and_shows_the_request_change() {
    let mut changed = refund("You can ask for a refund within 30 days of delivery.", 12);
    changed["request"]["body"]["json"]["messages"][0]["content"] =
        json!("What is the return window?");
    let scenario = Scenario::new(
        vec![(
            "support/refunds",
            vec![refund(
                "You can ask for a refund within 30 days of delivery.",
                12,
            )],
        )],
        vec![("support/refunds", vec![changed])],
        None,
    );
    let (code, stdout, _) = scenario.diff(&[]);
    assert_eq!(code, Some(0), "the answer is the same: {stdout}");
    let (_, stdout, _) = scenario.diff(&["--format", "json"]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let entry = &doc["interactions"][0];
    assert_eq!(entry["paired_by"], "position");
    assert_eq!(entry["request_changes"][0]["path"], "$.messages[0].content");
    assert_eq!(
        entry["request_changes"][0]["candidate"],
        "\"What is the return window?\""
    );
}

#[test]
fn text_rules_and_ignored_paths_change_what_counts() {
    let scenario = Scenario::new(
        vec![(
            "support/refunds",
            vec![refund(
                "Refunds are possible\nwithin 30 days of delivery, always.",
                12,
            )],
        )],
        vec![(
            "support/refunds",
            vec![refund(
                "Refunds are possible  within 30 days of delivery, always. ",
                12,
            )],
        )],
        None,
    );
    assert_eq!(scenario.diff(&[]).0, Some(1));
    let (code, stdout, _) = scenario.diff(&["--text", "whitespace"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("within the text rule: differs only in whitespace"),
        "{stdout}"
    );
    std::fs::write(
        scenario.work.path().join("traceforge.yaml"),
        "diff:\n  text: similarity>=0.8\n",
    )
    .unwrap();
    let (code, stdout, _) = scenario.diff(&[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("within the text rule: similarity 0."),
        "{stdout}"
    );

    // A response traceforge does not read as model output is compared as data, minus what is
    // volatile and what the user ignores.
    let embedding = |vector: Value, id: &str| {
        interaction(
            "openai",
            "/v1/embeddings",
            json!({"model": "text-embedding-3-small", "input": "refund"}),
            json!({"id": id, "object": "list", "model": "text-embedding-3-small", "data": [{"object": "embedding", "index": 0, "embedding": vector}], "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
            90,
        )
    };
    let scenario = Scenario::new(
        vec![("embeddings", vec![embedding(json!([0.125, -0.5]), "e-1")])],
        vec![("embeddings", vec![embedding(json!([0.126, -0.5]), "e-2")])],
        None,
    );
    let (code, stdout, _) = scenario.diff(&[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("$.data[0].embedding[0]: 0.125 → 0.126"),
        "{stdout}"
    );
    assert!(!stdout.contains("e-1"), "ids are volatile: {stdout}");
    let (code, stdout, _) = scenario.diff(&["--ignore", "$.data[*].embedding"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn markdown_is_cut_to_its_budget_with_a_note() {
    let many: Vec<Value> = (0..60)
        .map(|i| {
            refund(
                &format!(
                    "Answer number {i} is long enough to matter: {}",
                    "word ".repeat(60)
                ),
                70,
            )
        })
        .collect();
    let changed: Vec<Value> = (0..60)
        .map(|i| {
            refund(
                &format!(
                    "Answer number {i} is long enough to matter! {}",
                    "word ".repeat(60)
                ),
                70,
            )
        })
        .collect();
    let scenario = Scenario::new(vec![("many", many)], vec![("many", changed)], None);
    let (code, stdout, _) = scenario.diff(&["--format", "markdown", "--max-bytes", "6000"]);
    assert_eq!(code, Some(1));
    assert!(stdout.len() <= 6000, "{}", stdout.len());
    assert!(
        stdout.contains("This report was cut to fit GitHub's size limits"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| **total** | 0 | 60 | 0 | 0 |"),
        "{stdout}"
    );
}

#[test]
fn bad_input_names_the_file_or_flag_and_exits_2() {
    let scenario = Scenario::new(
        vec![("a", vec![anthropic_hello()])],
        vec![("a", vec![anthropic_hello()])],
        None,
    );
    let work = scenario.work.path();
    std::fs::write(
        work.join("broken.yaml"),
        "version: 1\ncassette: broken\ninteractions:\n- id: 1\n  recorded_at: [\n",
    )
    .unwrap();
    std::fs::create_dir_all(work.join("cand-broken")).unwrap();
    std::fs::copy(work.join("broken.yaml"), work.join("cand-broken/a.yaml")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["diff", "nowhere", "cand"],
            "error: nowhere: no such file or directory",
        ),
        (
            &["diff", "base", "cand/a.yaml"],
            "error: base is a directory but cand/a.yaml is a file",
        ),
        (
            &["diff", "base/a.yaml", "broken.yaml"],
            "error: broken.yaml:5:16: interactions[0].recorded_at: invalid type",
        ),
        (
            &["diff", "base", "cand-broken"],
            "error: cand-broken/a.yaml:5:16:",
        ),
        (
            &["diff", "base", "cand", "--tolerance", "output_tokens=lots"],
            "error: --tolerance output_tokens=lots: tolerance \"lots\"",
        ),
        (
            &["diff", "base", "cand", "--tolerance", "speed=5%"],
            "error: --tolerance speed=5%: unknown tolerance \"speed\"",
        ),
        (
            &["diff", "base", "cand", "--tolerance", "latency=50"],
            "error: --tolerance latency=50: tolerance \"50\": duration \"50\" needs a unit",
        ),
        (
            &["diff", "base", "cand", "--text", "fuzzy"],
            "error: --text: text rule \"fuzzy\"",
        ),
        (
            &["diff", "base", "cand", "--ignore", "id"],
            "error: --ignore: JSON path \"id\" must start with `$`",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = run(work, args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{stderr}"
        );
        assert!(stdout.is_empty(), "{args:?}: no partial report: {stdout}");
    }
    let configs = [
        ("diff:\n  tolerance:\n    output_tokens: 10%|lots\n", "error: traceforge.yaml:3:20: diff.tolerance.output_tokens: tolerance \"10%|lots\""),
        ("diff:\n  ignore:\n  - $.id\n  - metadata\n", "error: traceforge.yaml:4:5: diff.ignore[1]: JSON path \"metadata\" must start with `$`"),
        ("diff:\n  text: similarity>=1.5\n", "error: traceforge.yaml:2:9: diff.text: text rule \"similarity>=1.5\""),
        ("diff:\n  tolerances: {}\n", "error: traceforge.yaml:2:3: diff: unknown field `tolerances`"),
    ];
    for (config, expected) in configs {
        std::fs::write(work.join("traceforge.yaml"), config).unwrap();
        let (code, _, stderr) = run(work, &["diff", "base", "cand"]);
        assert_eq!(code, Some(2), "{config}: {stderr}");
        assert!(stderr.starts_with(expected), "{config}: {stderr}");
    }
}

#[test]
fn empty_directories_compare_as_no_change_with_a_warning() {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("a")).unwrap();
    std::fs::create_dir_all(work.path().join("b")).unwrap();
    let (code, stdout, stderr) = run(work.path(), &["diff", "a", "b"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("no behaviour change: 0 same (0 interactions)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: the baseline a holds no cassettes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: the candidate b holds no cassettes"),
        "{stderr}"
    );
}
