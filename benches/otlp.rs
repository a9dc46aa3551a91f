//! OTLP export benchmark helper (run by benches/otlp.sh):
//!
//! `otlp sink`          — a fast OTLP/HTTP receiver: decodes every `ExportTraceServiceRequest`
//!                        with the same prost types traceforge sends, counts the spans, and
//!                        answers `GET /count` with the total; prints its address first.
//! `otlp live URL N`    — runs traceforge's live exporter (`telemetry::otlp::Exporter`, the one
//!                        the proxy feeds) on N synthetic chat interactions, offered as fast as
//!                        the queue takes them, and prints spans/s until the last is exported.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use prost::Message as _;
use traceforge::cassette::{Body, Interaction, Request, Response, Scope, Timing};
use traceforge::telemetry::otlp::{self, proto::ExportTraceServiceRequest};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.first().map(String::as_str) {
        Some("sink") => runtime.block_on(sink()),
        Some("live") if args.len() == 3 => {
            let n: u64 = args[2].parse().expect("N is a number");
            runtime.block_on(live(&args[1], n));
        }
        _ => {
            eprintln!("usage: otlp sink | otlp live URL N");
            std::process::exit(2);
        }
    }
}

async fn sink() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let count = count.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let count = count.clone();
                    async move {
                        if request.method() == http::Method::GET {
                            let n = count.load(Ordering::Relaxed).to_string();
                            return Ok::<_, Infallible>(http::Response::new(Full::new(
                                Bytes::from(n),
                            )));
                        }
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let status = match ExportTraceServiceRequest::decode(body) {
                            Ok(message) => {
                                let spans: usize = message
                                    .resource_spans
                                    .iter()
                                    .flat_map(|r| &r.scope_spans)
                                    .map(|s| s.spans.len())
                                    .sum();
                                count.fetch_add(spans as u64, Ordering::Relaxed);
                                200
                            }
                            Err(_) => 400,
                        };
                        let mut response = http::Response::new(Full::new(Bytes::new()));
                        *response.status_mut() =
                            http::StatusCode::from_u16(status).expect("a status");
                        Ok(response)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A chat interaction of a session with a step, like the proxy hands the exporter.
fn interaction(i: u64) -> Interaction {
    Interaction {
        id: i,
        recorded_at: "2026-01-01T00:00:00Z".into(),
        request: Request {
            method: "POST".into(),
            upstream: "openai".into(),
            path: "/v1/chat/completions".into(),
            headers: Default::default(),
            body: Some(Body::Json(serde_json::json!({
                "model": "gpt-4o-mini", "max_tokens": 200,
                "messages": [{"role": "user", "content": format!("question number {i}")}]
            }))),
        },
        response: Response {
            status: 200,
            headers: Default::default(),
            body: Some(Body::Json(serde_json::json!({
                "id": format!("chatcmpl-{i}"), "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"message": {"role": "assistant", "content": "an answer"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 30}
            }))),
            stream: None,
            incomplete: false,
        },
        timing: Some(Timing {
            ttfb_ms: 40,
            total_ms: 120,
        }),
        scope: Scope {
            organization: Some("acme".into()),
            service: Some("support".into()),
            session: Some(format!("session-{}", i / 10)),
            step: Some(format!("step-{}", i % 10)),
            parent_step: (!i.is_multiple_of(10)).then(|| "step-0".to_string()),
        },
        usage: None,
        redactions: Vec::new(),
        decisions: Vec::new(),
    }
}

async fn live(url: &str, n: u64) {
    let config = otlp::ExportConfig {
        url: format!("{}/v1/traces", url.trim_end_matches('/'))
            .parse()
            .expect("a URL"),
        headers: Vec::new(),
        service_name: "otlp-bench".into(),
        content: false,
    };
    let exporter = otlp::Exporter::spawn(config).expect("exporter");
    let items: Vec<Arc<Interaction>> = (0..1000).map(|i| Arc::new(interaction(i))).collect();
    let cassette: Arc<str> = Arc::from("bench");
    let start = Instant::now();
    let mut offered = 0u64;
    while offered < n {
        // Offer no more than the queue holds beyond what was exported, so nothing is dropped
        // and the figure is the exporter's own pace.
        let done = otlp::counters().exported;
        if offered - done < (otlp::QUEUE_CAPACITY as u64) / 2 {
            let item = items[(offered % items.len() as u64) as usize].clone();
            exporter.offer(cassette.clone(), item, false);
            offered += 1;
        } else {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    while otlp::counters().exported + otlp::counters().failed < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let report = exporter.finish().await;
    let counts = otlp::counters();
    println!(
        "{{\"spans\": {n}, \"seconds\": {elapsed:.3}, \"spans_per_s\": {:.0}, \"exported\": {}, \"dropped\": {}, \"failed\": {}, \"report_exported\": {}}}",
        n as f64 / elapsed,
        counts.exported,
        counts.dropped,
        counts.failed,
        report.counts.exported
    );
}
