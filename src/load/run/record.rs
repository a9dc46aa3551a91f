//! One iteration and everything it records: send the VU's next request, evaluate the checks,
//! then add every sample to the recorder's shard (the HTTP timings, the LLM stream numbers, data,
//! checks and iteration metrics, routed to the submetrics) and, with `--out`, hand the same
//! samples to the NDJSON writer. What the numbers mean is stated in `metrics`' formulas.

use std::time::{Duration, Instant};

use super::checks::{passes, LazyBody};
use super::ndjson::Point;
use super::vu::{Ctx, Vu};
use crate::load::client::Exchange;
use crate::load::metrics::Metric;

/// One iteration: a request, its checks, and every sample recorded.
pub(super) async fn iteration(ctx: &Ctx, vu: &mut Vu, intended: Option<Instant>) {
    let which = vu.next_request;
    vu.next_request = (which + 1) % ctx.prepared.len();
    let begin = Instant::now();
    let exchange = vu
        .client
        .send(&ctx.prepared[which], intended, ctx.keep_body)
        .await;
    let checks = &ctx.scenario().checks;
    let mut body = LazyBody::new(&exchange);
    let results: Vec<bool> = checks
        .iter()
        .map(|check| passes(check, &exchange, &mut body))
        .collect();
    let end = Instant::now();
    let iteration_duration = end.saturating_duration_since(intended.unwrap_or(begin));
    record(
        ctx,
        vu.id,
        which,
        &exchange,
        &results,
        iteration_duration,
        end,
    );
    ctx.count_iteration(vu, end);
    if let Some(out) = &ctx.out {
        out.send(points(
            ctx,
            which,
            &exchange,
            &results,
            iteration_duration,
            end,
        ))
        .await;
    }
}

/// k6's default expected statuses: 200–399.
fn expected(status: u16) -> bool {
    (200..400).contains(&status)
}

/// The LLM numbers of one streamed exchange.
struct LlmSample<'a> {
    ttft: Option<Duration>,
    gaps: &'a [Duration],
    tokens: u64,
    tpot: Option<Duration>,
}

fn llm(exchange: &Exchange) -> Option<LlmSample<'_>> {
    let stream = exchange.stream.as_ref()?;
    let ttft = stream
        .first_output
        .map(|first| first.saturating_duration_since(exchange.origin));
    let tokens = stream.tokens();
    let tpot = match ttft {
        Some(ttft) if tokens >= 2 => Some(
            exchange.duration.saturating_sub(ttft) / (tokens - 1).min(u64::from(u32::MAX)) as u32,
        ),
        _ => None,
    };
    Some(LlmSample {
        ttft,
        gaps: &stream.gaps,
        tokens,
        tpot,
    })
}

fn record(
    ctx: &Ctx,
    vu: usize,
    which: usize,
    exchange: &Exchange,
    checks: &[bool],
    iteration_duration: Duration,
    end: Instant,
) {
    let at = ctx.recorder.offset(end);
    let routes = &ctx.request_routes[which];
    let status = exchange.status;
    let ok = expected(status);
    ctx.recorder.with(vu, |s| {
        let answered = exchange.error.is_none();
        let ttft = answered
            .then(|| llm(exchange).and_then(|sample| sample.ttft))
            .flatten();
        s.timeline
            .request(at, answered.then_some(exchange.duration), ttft, !ok);
        s.count(Metric::HttpReqs, routes, status, ok, 1);
        s.rate(Metric::HttpReqFailed, routes, status, ok, !ok);
        if let Some(error) = &exchange.error {
            s.error(error);
        } else {
            s.trend(
                Metric::HttpReqDuration,
                routes,
                status,
                ok,
                exchange.duration,
            );
            s.trend(Metric::HttpReqBlocked, routes, status, ok, exchange.blocked);
            s.trend(
                Metric::HttpReqConnecting,
                routes,
                status,
                ok,
                exchange.connecting,
            );
            s.trend(
                Metric::HttpReqTlsHandshaking,
                routes,
                status,
                ok,
                exchange.tls_handshaking,
            );
            s.trend(Metric::HttpReqSending, routes, status, ok, exchange.sending);
            s.trend(Metric::HttpReqWaiting, routes, status, ok, exchange.waiting);
            s.trend(
                Metric::HttpReqReceiving,
                routes,
                status,
                ok,
                exchange.receiving,
            );
        }
        s.count(Metric::DataSent, routes, status, ok, exchange.bytes_sent);
        s.count(
            Metric::DataReceived,
            routes,
            status,
            ok,
            exchange.bytes_received,
        );
        if exchange.error.is_none() {
            if let Some(sample) = llm(exchange) {
                if let Some(ttft) = sample.ttft {
                    s.trend(Metric::LlmTtft, routes, status, ok, ttft);
                }
                for gap in sample.gaps {
                    s.trend(Metric::LlmItl, routes, status, ok, *gap);
                }
                s.count(Metric::LlmOutputTokens, routes, status, ok, sample.tokens);
                if let Some(tpot) = sample.tpot {
                    s.trend(Metric::LlmTpot, routes, status, ok, tpot);
                }
            }
        }
        let first = ctx.scenario().first_check;
        for (k, passed) in checks.iter().enumerate() {
            s.check(first + k, &ctx.check_routes[k], *passed);
        }
        s.count(Metric::Iterations, &ctx.iteration_routes, 0, true, 1);
        s.trend(
            Metric::IterationDuration,
            &ctx.iteration_routes,
            0,
            true,
            iteration_duration,
        );
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn points(
    ctx: &Ctx,
    which: usize,
    exchange: &Exchange,
    checks: &[bool],
    iteration_duration: Duration,
    end: Instant,
) -> Vec<Point> {
    let tags = &ctx.request_tags[which];
    let extra = vec![
        ("status", exchange.status.to_string()),
        ("expected_response", expected(exchange.status).to_string()),
    ];
    let point = |metric, value| Point {
        metric,
        value,
        at: end,
        tags: tags.clone(),
        extra: extra.clone(),
    };
    let mut points = vec![
        point(Metric::HttpReqs, 1.0),
        point(
            Metric::HttpReqFailed,
            f64::from(u8::from(!expected(exchange.status))),
        ),
    ];
    if exchange.error.is_none() {
        points.extend([
            point(Metric::HttpReqDuration, ms(exchange.duration)),
            point(Metric::HttpReqBlocked, ms(exchange.blocked)),
            point(Metric::HttpReqConnecting, ms(exchange.connecting)),
            point(Metric::HttpReqTlsHandshaking, ms(exchange.tls_handshaking)),
            point(Metric::HttpReqSending, ms(exchange.sending)),
            point(Metric::HttpReqWaiting, ms(exchange.waiting)),
            point(Metric::HttpReqReceiving, ms(exchange.receiving)),
        ]);
        if let Some(sample) = llm(exchange) {
            if let Some(ttft) = sample.ttft {
                points.push(point(Metric::LlmTtft, ms(ttft)));
            }
            points.extend(sample.gaps.iter().map(|g| point(Metric::LlmItl, ms(*g))));
            points.push(point(Metric::LlmOutputTokens, sample.tokens as f64));
            if let Some(tpot) = sample.tpot {
                points.push(point(Metric::LlmTpot, ms(tpot)));
            }
        }
    }
    points.push(point(Metric::DataSent, exchange.bytes_sent as f64));
    points.push(point(Metric::DataReceived, exchange.bytes_received as f64));
    for (check, passed) in ctx.scenario().checks.iter().zip(checks) {
        points.push(Point {
            metric: Metric::Checks,
            value: f64::from(u8::from(*passed)),
            at: end,
            tags: ctx.iteration_tags.clone(),
            extra: vec![("check", check.name.clone())],
        });
    }
    points.push(Point {
        metric: Metric::Iterations,
        value: 1.0,
        at: end,
        tags: ctx.iteration_tags.clone(),
        extra: Vec::new(),
    });
    points.push(Point {
        metric: Metric::IterationDuration,
        value: ms(iteration_duration),
        at: end,
        tags: ctx.iteration_tags.clone(),
        extra: Vec::new(),
    });
    points
}
