//! Counts N requests into traceforge's metrics registry the way the proxy does (a request
//! counter, duration and upstream histograms, tokens over 200 model names, sessions over 10,000
//! ids, PII and policy counts), then times rendering `/_traceforge/metrics` and reports the
//! process's memory: the scrape cost and RSS must not grow with N (benches/ops.sh).
//!
//! Usage: metrics_scrape REQUESTS [THREADS]
//! Prints one JSON object: requests, threads, count_ns_per_request (wall) and
//! count_cpu_ns_per_request (CPU, the figure that holds on a busy machine), render_ms (median, p99,
//! max of 200 renders), exposition_bytes, series lines, rss_kb, peak_rss_kb.

use std::time::{Duration, Instant};

use traceforge::telemetry::metrics::{self, status_class};

fn main() {
    let mut args = std::env::args().skip(1);
    let requests: u64 = args
        .next()
        .and_then(|n| n.replace('_', "").parse().ok())
        .expect("usage: metrics_scrape REQUESTS [THREADS]");
    let threads: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(2);
    let models: Vec<String> = (0..200).map(|i| format!("model-{i}")).collect();
    let sessions: Vec<String> = (0..10_000).map(|i| format!("session-{i:05}")).collect();
    let started = Instant::now();
    let cpu_before = cpu_time();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let (models, sessions) = (&models, &sessions);
            scope.spawn(move || {
                let m = metrics::global();
                let mut i = thread;
                while i < requests {
                    count_one(m, i, models, sessions);
                    i += threads;
                }
            });
        }
    });
    let counting = started.elapsed();
    let counting_cpu = cpu_time().saturating_sub(cpu_before);
    let m = metrics::global();
    let mut renders = Vec::with_capacity(200);
    let mut text = String::new();
    for _ in 0..200 {
        let at = Instant::now();
        text = m.render();
        renders.push(at.elapsed());
    }
    renders.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("traceforge_proxy_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    assert_eq!(total as u64, requests, "every request counted once");
    println!(
        "{}",
        serde_json::json!({
            "requests": requests,
            "threads": threads,
            "count_ns_per_request": counting.as_nanos() as f64 / requests.max(1) as f64,
            "count_cpu_ns_per_request": counting_cpu.as_nanos() as f64 / requests.max(1) as f64,
            "render_ms_median": ms(renders[renders.len() / 2]),
            "render_ms_p99": ms(renders[renders.len() * 99 / 100]),
            "render_ms_max": ms(renders[renders.len() - 1]),
            "exposition_bytes": text.len(),
            "series_lines": text.lines().filter(|l| !l.starts_with('#')).count(),
            "rss_kb": field("VmRSS:"),
            "peak_rss_kb": field("VmHWM:"),
        })
    );
}

/// CPU time of the whole process so far (user + system): on a busy machine, wall time
/// measures the neighbours.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// What the proxy counts for one replayed or recorded request (see `proxy::observe`).
fn count_one(m: &metrics::Metrics, i: u64, models: &[String], sessions: &[String]) {
    let upstream = m
        .upstreams
        .admit(["openai", "anthropic", "ollama"][(i % 3) as usize]);
    let provider = if i % 3 == 1 { "anthropic" } else { "openai" };
    let mode = if i.is_multiple_of(4) {
        "record"
    } else {
        "replay"
    };
    let status = if i.is_multiple_of(50) { 404 } else { 200 };
    m.requests
        .inc(&[upstream, provider, mode, status_class(status)]);
    m.request_duration
        .observe(&[mode], Duration::from_micros(200 + i % 5_000));
    if mode == "record" {
        m.upstream_ttfb
            .observe(&[upstream], Duration::from_millis(20 + i % 400));
    }
    m.count_tokens(
        Some(&models[(i % models.len() as u64) as usize]),
        Some(12),
        Some(40),
    );
    m.sessions
        .saw(&sessions[(i % sessions.len() as u64) as usize]);
    if i.is_multiple_of(10) {
        m.pii_redactions.inc(&[m.entities.admit("email")]);
        m.policy_violations.inc(&["high", "warn"]);
    }
    if i.is_multiple_of(50) {
        m.replay_misses.inc();
    }
}
