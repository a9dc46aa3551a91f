//! Synthesises the metrics of a 10-minute, 10,000 requests/s streamed load test (6 million
//! requests) through the real recording code (`Series`: the HDR trends, the counters and the
//! per-second timeline) without sending a request, then renders the real `--report` HTML and
//! the Markdown summary from it. Prints the report's size and write time, and the process's
//! resident memory after one and after ten minutes of samples: the timeline's fixed resolution
//! should keep those two close. Driven by benches/load_report.sh.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use traceforge::load::metrics::{Metric, Series};
use traceforge::load::report::{Report, ScenarioResult};
use traceforge::load::scenario::{parse, ParseOptions};

const SCENARIO: &str = r#"
scenarios:
  chat:
    executor: constant-arrival-rate
    rate: 10000
    duration: 10m
    preAllocatedVUs: 2000
    request: {url: "http://127.0.0.1:9/v1/chat/completions", body: {stream: true}}
    checks:
      - {name: "status is 200", status: 200}
thresholds:
  http_req_duration: ["p(95)<500"]
  http_req_failed: ["rate<0.01"]
  llm_ttft: ["p(95)<300"]
"#;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "load-report.html".into());
    let rate: u64 = 10_000;
    let seconds: u64 = 600;
    let plan = parse(Path::new("chat.yaml"), SCENARIO, &ParseOptions::default())?;
    let routes = plan.layout.routes(&BTreeMap::from([(
        "scenario".to_string(),
        "chat".to_string(),
    )]));
    let check_routes = vec![Vec::new(); Metric::ALL.len()];
    let mut series = Series::new(&plan.layout);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let baseline_rss = rss_kib();
    let mut rss_1m = 0;
    let record_started = Instant::now();
    for second in 0..seconds {
        // A slow drift and a spike at minute 7, so the charts have a shape.
        let slow = if (420..440).contains(&second) {
            4.0
        } else {
            1.0
        };
        for i in 0..rate {
            let at = Duration::from_secs(second) + Duration::from_micros(i * 1_000_000 / rate);
            let r = next();
            let failed = r % 100 == 0;
            let status = if failed { 500 } else { 200 };
            let ms = (40.0 + (r >> 8) as f64 % 160.0 + second as f64 / 20.0) * slow;
            let duration = Duration::from_secs_f64(ms / 1000.0);
            let ttft = duration / 4;
            series.count(Metric::HttpReqs, &routes, status, !failed, 1);
            series.rate(Metric::HttpReqFailed, &routes, status, !failed, failed);
            series.trend(Metric::HttpReqDuration, &routes, status, !failed, duration);
            series.trend(Metric::LlmTtft, &routes, status, !failed, ttft);
            series.check(0, &check_routes, !failed);
            series
                .timeline
                .request(at, Some(duration), Some(ttft), failed);
        }
        if second + 1 == 60 {
            rss_1m = rss_kib();
        }
    }
    let rss_10m = rss_kib();
    let recorded = record_started.elapsed();

    let report = Report::new(
        &plan,
        "chat.yaml".into(),
        series,
        Duration::from_secs(seconds),
        vec![ScenarioResult {
            name: "chat".into(),
            executor: "constant-arrival-rate".into(),
            description: "10000 iterations/s for 10m".into(),
            iterations: rate * seconds,
            dropped: 0,
            max_vus: 2000,
        }],
    );
    let history: Vec<_> = (0..20)
        .map(|i| {
            let mut run = traceforge::load::history::summary_of(
                &report,
                "chat.yaml",
                None,
                format!("2026-11-{:02}T10:00:00Z", i + 1),
            );
            run.p95_ms = run.p95_ms.map(|v| v * (1.0 + f64::from(i % 5) / 20.0));
            run
        })
        .collect();

    let started = Instant::now();
    let page = traceforge::load::html::html(&report, &history);
    std::fs::write(&out, page.as_bytes())?;
    let write_time = started.elapsed();
    let started = Instant::now();
    let markdown = traceforge::load::markdown::markdown(&report, &history, 60_000);
    let markdown_time = started.elapsed();

    // Ten more minutes into the same timeline: past its 600-bucket cap it only coarsens, so
    // memory stays where it was at ten minutes.
    let mut report = report;
    for second in seconds..2 * seconds {
        for i in 0..rate {
            let at = Duration::from_secs(second) + Duration::from_micros(i * 1_000_000 / rate);
            let duration = Duration::from_millis(40 + next() % 160);
            report
                .series
                .timeline
                .request(at, Some(duration), Some(duration / 4), false);
        }
    }
    let longer_buckets = report.series.timeline.buckets().len();
    let rss_20m = rss_kib();

    println!(
        "requests synthesised       {} ({} s at {} req/s) in {:.1} s",
        rate * seconds,
        seconds,
        rate,
        recorded.as_secs_f64()
    );
    println!(
        "timeline buckets           {}",
        report.series.timeline.buckets().len()
    );
    println!(
        "report size                {} bytes ({:.3} MB; goal < 2 MB)",
        page.len(),
        page.len() as f64 / 1e6
    );
    println!(
        "report render+write        {:.2} ms (goal < 1000 ms)",
        write_time.as_secs_f64() * 1000.0
    );
    println!(
        "markdown summary           {} bytes in {:.2} ms",
        markdown.len(),
        markdown_time.as_secs_f64() * 1000.0
    );
    println!("rss before samples         {baseline_rss} KiB");
    println!("rss after 1 min of samples {rss_1m} KiB");
    println!("rss after 10 min           {rss_10m} KiB");
    println!(
        "rss growth 1 min -> 10 min {} KiB (ratio {:.3}); per-sample storage would need ~{} MiB",
        rss_10m.saturating_sub(rss_1m),
        rss_10m as f64 / rss_1m.max(1) as f64,
        rate * seconds * 2 * 8 / (1024 * 1024)
    );
    println!(
        "rss after 20 min           {rss_20m} KiB ({longer_buckets} buckets of {} s)",
        report.series.timeline.width().as_secs()
    );
    Ok(())
}
