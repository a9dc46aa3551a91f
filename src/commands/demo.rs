//! `traceforge demo`: the whole record → replay loop in a few seconds, with no API key. Starts
//! the mock LLM, records three calls (plain chat, streamed chat, Anthropic tool use) through the
//! proxy, stops the mock, replays the same calls offline, checks every byte matches, and shows
//! what an unrecorded request looks like.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{json, Value};

use super::Globals;
use crate::cassette::{files, CassetteName};
use crate::cli::DemoArgs;
use crate::mock::MockConfig;
use crate::output::Printer;
use crate::provider::{self, sse};
use crate::proxy::{Mode, Proxy};
use crate::server::{self, Running};
use crate::settings::{ProxyRun, Settings};
use crate::Exit;

const CASSETTE: &str = "demo";

/// One call the demo makes.
struct Call {
    label: &'static str,
    path: &'static str,
    body: Value,
}

fn calls() -> Vec<Call> {
    vec![
        Call {
            label: "OpenAI chat, plain",
            path: "/openai/v1/chat/completions",
            body: json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is a cassette in VCR testing?"}]}),
        },
        Call {
            label: "OpenAI chat, streamed",
            path: "/openai/v1/chat/completions",
            body: json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Explain replay in one sentence."}]}),
        },
        Call {
            label: "Anthropic tool use, streamed",
            path: "/anthropic/v1/messages",
            body: json!({
                "model": "claude-3-5-haiku-latest", "max_tokens": 256, "stream": true,
                "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
                "tools": [{"name": "get_weather", "description": "Current weather for a city",
                           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
            }),
        },
    ]
}

pub(crate) fn run(globals: &Globals, args: DemoArgs) -> anyhow::Result<Exit> {
    let temp;
    let dir = match &args.keep {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let cassette_path = CassetteName::parse(CASSETTE)?.path_in(&dir);
    if cassette_path.exists() {
        std::fs::remove_file(&cassette_path).with_context(|| {
            format!(
                "{}: removing the previous demo cassette",
                cassette_path.display()
            )
        })?;
    }
    let printer = &globals.printer;
    let ok = super::runtime(super::Threads::Workers)?.block_on(demo(printer, &dir))?;
    writeln!(printer.stdout())?;
    if args.keep.is_some() {
        writeln!(
            printer.stdout(),
            "The cassette is at {}.",
            cassette_path.display()
        )?;
        writeln!(
            printer.stdout(),
            "Look at it with `traceforge vcr show {CASSETTE} --cassettes {}`.",
            dir.display()
        )?;
    } else {
        writeln!(
            printer.stdout(),
            "(The cassette lived in a temporary directory; `traceforge demo --keep DIR` keeps it.)"
        )?;
    }
    Ok(if ok { Exit::Success } else { Exit::CheckFailed })
}

async fn demo(printer: &Printer, dir: &Path) -> anyhow::Result<bool> {
    let client = reqwest::Client::new();
    let calls = calls();

    let mock_listener = server::bind("127.0.0.1:0").await?;
    let config = Arc::new(MockConfig {
        first_event_delay: Duration::from_millis(30),
        event_delay: Duration::from_millis(5),
    });
    let mock = Running::spawn(mock_listener, move |request| {
        crate::mock::handle(config.clone(), request)
    })?;
    let mock_url = format!("http://{}", mock.addr);
    writeln!(
        printer.stdout(),
        "1. Started the mock LLM at {mock_url} (OpenAI and Anthropic APIs, no key needed)."
    )?;

    let (proxy, running) = start_proxy(dir, Mode::All, &mock_url).await?;
    writeln!(
        printer.stdout(),
        "2. Recording through the proxy at http://{} into {}:",
        running.addr,
        dir.join(format!("{CASSETTE}.yaml")).display()
    )?;
    let mut recorded = Vec::new();
    for call in &calls {
        let (status, bytes) = send(&client, running.addr, call).await?;
        writeln!(
            printer.stdout(),
            "   {:<30} {status}  {}",
            call.label,
            describe(&bytes)
        )?;
        recorded.push(bytes);
    }
    running.stop().await;
    proxy.finish_traces();
    let errors = proxy.flush_all();
    anyhow::ensure!(
        errors.is_empty(),
        "writing the cassette failed: {}",
        errors.join("; ")
    );
    mock.stop().await;
    let cassette = files::load(&dir.join(format!("{CASSETTE}.yaml")))?;
    writeln!(
        printer.stdout(),
        "3. Stopped the mock. The cassette holds {} interactions as readable YAML.",
        cassette.interactions.len()
    )?;

    let (proxy, running) = start_proxy(dir, Mode::None, &mock_url).await?;
    writeln!(
        printer.stdout(),
        "4. Replaying offline from the cassette (the upstream is gone):"
    )?;
    let mut all_same = true;
    for (call, before) in calls.iter().zip(&recorded) {
        let (status, bytes) = send(&client, running.addr, call).await?;
        let same = same_payload(before, &bytes);
        all_same &= same;
        writeln!(
            printer.stdout(),
            "   {:<30} {status}  {}",
            call.label,
            if same {
                "identical to what was recorded"
            } else {
                "DIFFERENT from the recording"
            }
        )?;
    }
    let unrecorded = Call {
        label: "a prompt never recorded",
        path: "/openai/v1/chat/completions",
        body: json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is a cassette in DVD testing?"}]}),
    };
    writeln!(
        printer.stdout(),
        "5. Sending {} (the report on stderr shows why it missed):",
        unrecorded.label
    )?;
    let (status, bytes) = send(&client, running.addr, &unrecorded).await?;
    let message = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    writeln!(printer.stdout(), "   → {status}: {message}")?;
    running.stop().await;
    let traces = proxy.finish_traces().map_or(0, |t| t.report.written);
    let traces_db = dir.join("traces.db");
    writeln!(
        printer.stdout(),
        "6. Every call above is also in the trace database ({traces} replayed + 3 recorded): \
         try `traceforge traces list --db {}` with --keep.",
        traces_db.display()
    )?;
    writeln!(
        printer.stdout(),
        "{}",
        if all_same {
            "Replay matched the recording byte for byte (JSON) and event for event (SSE)."
        } else {
            "Replay did NOT match the recording."
        }
    )?;
    Ok(all_same && status == crate::proxy::MISS_STATUS)
}

async fn start_proxy(
    dir: &Path,
    mode: Mode,
    mock_url: &str,
) -> anyhow::Result<(Arc<Proxy>, Running)> {
    let mut settings = Settings::defaults(dir.to_path_buf(), dir.join("traces.db"));
    for upstream in ["openai", "anthropic"] {
        settings
            .upstreams
            .insert(upstream.to_string(), mock_url.to_string());
    }
    let proxy = Proxy::new(settings.proxy(ProxyRun {
        mode,
        cassette: CASSETTE,
        allow_repeats: false,
        upstream_timeout: None,
        traces: true,
        pending: false,
    })?)?;
    if mode == Mode::None {
        proxy.preload()?;
    }
    let listener = server::bind("127.0.0.1:0").await?;
    let handler = proxy.clone();
    let running = Running::spawn(listener, move |request| handler.clone().handle(request))?;
    Ok((proxy, running))
}

async fn send(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    call: &Call,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let response = client
        .post(format!("http://{addr}{}", call.path))
        .header("authorization", "Bearer sk-demo-not-a-real-key-0000000000")
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(call.body.to_string())
        .send()
        .await
        .with_context(|| format!("{}: request failed", call.label))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?.to_vec();
    Ok((status, bytes))
}

/// What the assistant said, in a few words, from a JSON body or an SSE stream.
fn describe(bytes: &[u8]) -> String {
    let response = as_response(bytes);
    let assembled = provider::assemble(&response);
    let mut parts = Vec::new();
    if let Some(events) = &response.stream {
        parts.push(format!("{} events", events.len()));
    }
    if !assembled.text.is_empty() {
        let text: String = assembled.text.chars().take(48).collect();
        parts.push(format!("\"{text}…\""));
    }
    for call in &assembled.tool_calls {
        parts.push(format!("tool call {}({})", call.name, call.arguments));
    }
    parts.join(", ")
}

fn as_response(bytes: &[u8]) -> crate::cassette::Response {
    let events = sse::parse_all(bytes);
    let is_stream = !events.is_empty() && serde_json::from_slice::<Value>(bytes).is_err();
    crate::cassette::Response {
        status: 200,
        headers: Default::default(),
        body: (!is_stream).then(|| crate::cassette::Body::from_bytes(bytes)),
        stream: is_stream.then(|| events.into_iter().map(|e| e.into_stream_event(0)).collect()),
        incomplete: false,
    }
}

/// Same JSON values, or the same SSE events in the same order.
fn same_payload(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (as_response(a), as_response(b));
    a.body == b.body && a.stream == b.stream
}
