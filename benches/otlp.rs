//! OTLP export benchmark helper (run by benches/otlp.sh):
//!
//! `otlp sink`          — a fast OTLP/HTTP receiver: decodes every `ExportTraceServiceRequest`
//!                        with the same prost types traceforge sends, counts the spans, and
//!                        answers `GET /count` with the total; prints its address first.
//! `otlp sink --count`  — the same receiver, but it walks the protobuf framing (every tag and
//!                        length of the request, its resource spans and scope spans, refusing a
//!                        malformed one) and counts the spans without decoding their fields: for
//!                        benches/ops.sh, where the receiver shares the proxy's cores. A real
//!                        collector runs elsewhere; a full decode here (~3 us a span on the
//!                        benchmark machine) would be charged to the proxy's throughput.
//! `otlp live URL N`    — runs traceforge's live exporter (`telemetry::otlp::Exporter`, the one
//!                        the proxy feeds) on N synthetic chat interactions, offered as fast as
//!                        the queue takes them, and prints spans/s until the last is exported.
//! `otlp encode N`      — the exporter's CPU per span, without any I/O: encodes N spans from the
//!                        same interactions into batches of `BATCH_SPANS` (`Batch::push`), frames
//!                        each as a request (`Batch::request`, then `Batch::reuse`), and prints
//!                        ns per span for each.

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
        Some("sink") if args.len() == 1 => runtime.block_on(sink(Decode::Full)),
        Some("sink") if args.len() == 2 && args[1] == "--count" => {
            runtime.block_on(sink(Decode::Framing))
        }
        Some("live") if args.len() == 3 => {
            let n: u64 = args[2].parse().expect("N is a number");
            runtime.block_on(live(&args[1], n));
        }
        Some("encode") if args.len() == 2 => encode(args[1].parse().expect("N is a number")),
        _ => {
            eprintln!("usage: otlp sink [--count] | otlp live URL N | otlp encode N");
            std::process::exit(2);
        }
    }
}

/// How much of a request the sink decodes.
#[derive(Debug, Clone, Copy)]
enum Decode {
    /// Every span, with the prost types.
    Full,
    /// The framing only, down to the spans (see [`count_spans`]).
    Framing,
}

async fn sink(decode: Decode) {
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
                        let spans = match decode {
                            Decode::Full => ExportTraceServiceRequest::decode(body).ok().map(|m| {
                                m.resource_spans
                                    .iter()
                                    .flat_map(|r| &r.scope_spans)
                                    .map(|s| s.spans.len() as u64)
                                    .sum()
                            }),
                            Decode::Framing => count_spans(&body),
                        };
                        let status = match spans {
                            Some(spans) => {
                                count.fetch_add(spans, Ordering::Relaxed);
                                200
                            }
                            None => 400,
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

/// The spans of an encoded `ExportTraceServiceRequest`, reading only its framing: field 1 of
/// the request (resource spans), field 2 of each (scope spans), field 2 of each of those (a
/// span). Every other field is skipped by its wire type; `None` when the bytes are not a
/// well-formed message.
fn count_spans(request: &[u8]) -> Option<u64> {
    let mut spans = 0;
    for (field, resource) in fields(request)? {
        if field != 1 {
            continue;
        }
        for (field, scope) in fields(resource?)? {
            if field != 2 {
                continue;
            }
            for (field, span) in fields(scope?)? {
                if field == 2 {
                    span?;
                    spans += 1;
                }
            }
        }
    }
    Some(spans)
}

/// The fields of one message: (number, the bytes of a length-delimited value). Checks the
/// whole message's framing first, so a truncated one is `None` rather than half counted.
#[allow(clippy::type_complexity)]
fn fields(mut bytes: &[u8]) -> Option<Vec<(u64, Option<&[u8]>)>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let tag = varint(&mut bytes)?;
        let skip = match tag & 7 {
            0 => {
                varint(&mut bytes)?;
                0
            }
            1 => 8,
            2 => usize::try_from(varint(&mut bytes)?).ok()?,
            5 => 4,
            _ => return None,
        };
        let (value, rest) = (bytes.get(..skip)?, &bytes[skip..]);
        bytes = rest;
        out.push((tag >> 3, (tag & 7 == 2).then_some(value)));
    }
    Some(out)
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
            let item = &items[(offered % items.len() as u64) as usize];
            exporter.offer(&cassette, item, None);
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

fn encode(n: usize) {
    let items: Vec<Interaction> = (0..1000).map(interaction).collect();
    let (mut build_ns, mut frame_ns, mut bytes) = (0u128, 0u128, 0usize);
    let mut done = 0;
    let mut batch = otlp::Batch::default();
    while done < n {
        let size = otlp::BATCH_SPANS.min(n - done);
        let started = Instant::now();
        batch.clear();
        for i in done..done + size {
            batch.push(
                otlp::span::Source {
                    cassette: "bench",
                    interaction: &items[i % items.len()],
                    end_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                    replay: None,
                },
                false,
            );
        }
        let built = Instant::now();
        let body = std::hint::black_box(batch.request("otlp-bench"));
        frame_ns += built.elapsed().as_nanos();
        build_ns += (built - started).as_nanos();
        bytes += body.len();
        batch.reuse(body);
        done += size;
    }
    println!(
        "{{\"spans\": {n}, \"encode_ns_per_span\": {:.0}, \"request_ns_per_span\": {:.0}, \"bytes_per_span\": {:.0}}}",
        build_ns as f64 / n as f64,
        frame_ns as f64 / n as f64,
        bytes as f64 / n as f64
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use traceforge::telemetry::otlp::proto::{ResourceSpans, ScopeSpans, Span};

    fn request(spans_per_scope: &[usize]) -> Vec<u8> {
        let span = |i: usize| Span {
            name: format!("chat {i}"),
            span_id: vec![i as u8; 8],
            ..Span::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: spans_per_scope
                    .iter()
                    .map(|&n| ScopeSpans {
                        spans: (0..n).map(span).collect(),
                        ..ScopeSpans::default()
                    })
                    .collect(),
                ..ResourceSpans::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn the_framing_count_agrees_with_a_full_decode() {
        for shape in [&[][..], &[1], &[3, 0, 2], &[512]] {
            let bytes = request(shape);
            let decoded = ExportTraceServiceRequest::decode(&bytes[..]).expect("decodes");
            let full: usize = decoded.resource_spans[0]
                .scope_spans
                .iter()
                .map(|s| s.spans.len())
                .sum();
            assert_eq!(count_spans(&bytes), Some(full as u64), "{shape:?}");
        }
    }

    #[test]
    fn a_truncated_or_garbled_request_is_refused_not_half_counted() {
        let bytes = request(&[3, 2]);
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(count_spans(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(count_spans(&[0x0f]), None, "wire type 7 does not exist");
    }
}
