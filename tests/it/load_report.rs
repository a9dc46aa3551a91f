//! `traceforge load`'s outputs for people: the self-contained HTML report (opened in headless
//! Chromium with no network when it is installed, and required when
//! `TRACEFORGE_REQUIRE_CHROMIUM=1`), the Markdown summary, and the run history in the trace
//! database (`load history`), all against the mock LLM on 127.0.0.1:0.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use traceforge::mock::MockConfig;
use traceforge::server::Running;

use crate::common::{runtime, start_mock, stderr, stdout, traceforge_command};

/// The mock LLM (streamed answers with a small delay, so TTFT has samples) and a scratch dir.
struct Mock {
    rt: tokio::runtime::Runtime,
    server: Option<Running>,
    dir: tempfile::TempDir,
    target: String,
}

impl Mock {
    fn start() -> Mock {
        let rt = runtime();
        let server = rt.block_on(start_mock(MockConfig::default()));
        Mock {
            target: format!("http://{}", server.addr),
            server: Some(server),
            rt,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `traceforge --db DIR/traces.db load DIR/NAME --target MOCK ARGS…`, with `scenario`
    /// written to `DIR/NAME` first.
    fn load(&self, name: &str, scenario: &str, args: &[&str]) -> std::process::Output {
        std::fs::write(self.path(name), scenario).unwrap();
        traceforge_command()
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(self.path("traces.db"))
            .arg("load")
            .arg(self.path(name))
            .args(["--target", &self.target])
            .args(args)
            .output()
            .unwrap()
    }

    fn history(&self, args: &[&str]) -> std::process::Output {
        traceforge_command()
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(self.path("traces.db"))
            .args(["load", "history"])
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.stop());
        }
    }
}

fn explain(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

/// Streams for a few seconds (so the timeline has several points), with a check whose name
/// carries markup (the file name does too).
const STREAMED: &str = r#"
scenarios:
  chat:
    executor: constant-vus
    vus: 2
    duration: 3s
    request:
      method: POST
      url: "${TARGET}/v1/chat/completions"
      headers: {content-type: application/json}
      body: {model: gpt-4o-mini, stream: true, messages: [{role: user, content: hello}]}
    checks:
      - {name: "<script>alert('check')</script>", status: 200}
thresholds:
  http_req_duration: ["p(95)<60000"]
  http_req_failed: ["rate<0.5"]
"#;

#[test]
fn the_html_report_is_self_contained_escaped_and_draws_its_charts() {
    let mock = Mock::start();
    let report = mock.path("report.html");
    let out = mock.load(
        "<script>alert('file')<script>.yaml",
        STREAMED,
        &["--report", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let html = std::fs::read_to_string(&report).unwrap();

    // Nothing is fetched: no external resource of any kind, and a policy that forbids it.
    let lower = html.to_lowercase();
    for needle in [
        "src=",
        "href=",
        "@import",
        "fetch(",
        "url(",
        "<link",
        "<img",
        "<iframe",
        "xmlhttprequest",
    ] {
        assert!(!lower.contains(needle), "the report references {needle}");
    }
    for scheme in ["http://", "https://"] {
        for (at, _) in lower.match_indices(scheme) {
            assert!(
                lower[..at].ends_with("<code>") && lower[at..].starts_with("http://127.0.0.1:"),
                "a URL outside the target line at byte {at}"
            );
        }
    }
    assert!(html.contains("default-src 'none'"));
    // The planted markup is text: the only script is the report's own.
    assert_eq!(lower.matches("<script").count(), 1, "{html}");
    assert!(html.contains("&lt;script&gt;alert('check')&lt;/script&gt;"));
    assert!(html.contains("&lt;script&gt;alert('file')&lt;script&gt;.yaml"));

    // The charts are there server-side, each with several points.
    for id in ["rate", "latency", "ttft", "failures"] {
        let start = html
            .find(&format!("id=\"chart-{id}\""))
            .unwrap_or_else(|| panic!("no {id} chart"));
        let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
        let points = svg
            .split("points=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert!(
            points.split_whitespace().count() > 1,
            "{id}: {points:?} has one point"
        );
    }
    assert!(html.contains("http_req_duration") && html.contains("p(95)&lt;60000"));
    assert!(html.contains("✓ all 2 thresholds passed"), "{html}");

    let Some(dom) = chromium_dom(&report) else {
        return;
    };
    // The inline script ran in the browser and counted what the browser parsed.
    let attribute = |name: &str| -> u64 {
        let at = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} in the DOM:\n{dom}"));
        dom[at + name.len() + 2..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(attribute("data-rendered-charts") >= 4, "{dom}");
    assert!(attribute("data-rendered-points") > 8, "{dom}");
    let latency = &dom[dom.find("id=\"chart-latency\"").unwrap()..];
    let latency = &latency[..latency.find("</svg>").unwrap()];
    let rendered: Vec<u64> = latency
        .match_indices("<polyline")
        .map(|(at, _)| {
            let tag = &latency[at..at + latency[at..].find('>').unwrap()];
            let value = tag.split("data-rendered=\"").nth(1).expect(tag);
            value.split('"').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(rendered.len(), 4, "p50, p90, p95, p99: {latency}");
    assert!(rendered.iter().all(|n| *n > 1), "{rendered:?}");
}

/// The page as headless Chromium sees it after its script ran, with every host name
/// unresolvable (so a fetch could not succeed); `None` when Chromium is not installed, unless
/// `TRACEFORGE_REQUIRE_CHROMIUM=1`.
fn chromium_dom(page: &Path) -> Option<String> {
    let binary = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(binary) = binary else {
        assert!(
            std::env::var("TRACEFORGE_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "TRACEFORGE_REQUIRE_CHROMIUM=1 but no chromium on PATH"
        );
        eprintln!("skipped: no chromium on PATH");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .env("HOME", profile.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

const ITERATIONS: &str = r#"
scenarios:
  once:
    executor: per-vu-iterations
    vus: 1
    iterations: ${N}
    request:
      method: POST
      url: "${TARGET}/v1/chat/completions"
      headers: {content-type: application/json}
      body: {model: gpt-4o-mini, messages: [{role: user, content: hello}]}
"#;

#[test]
fn three_runs_appear_in_order_in_load_history() {
    let mock = Mock::start();
    for n in ["1", "2", "3"] {
        let out = mock.load("steady.yaml", &ITERATIONS.replace("${N}", n), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    }
    // Another scenario's run stays out of a filtered history.
    let out = mock.load("other.yaml", &ITERATIONS.replace("${N}", "1"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let json = mock.history(&["steady.yaml", "--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", explain(&json));
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["metrics"],
        serde_json::json!([
            "rps",
            "error_rate",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "ttft_p50_ms",
            "ttft_p95_ms"
        ])
    );
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(
        runs.iter()
            .map(|r| r["requests"].as_u64())
            .collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3)]
    );
    let mut keys: Vec<&str> = runs[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![
            "duration_ms",
            "error_rate",
            "git_commit",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "passed",
            "requests",
            "rps",
            "scenario",
            "started_at",
            "thresholds",
            "thresholds_failed",
            "ttft_p50_ms",
            "ttft_p95_ms"
        ]
    );
    assert!(runs.iter().all(|r| r["scenario"] == "steady.yaml"));
    assert!(
        runs.iter().all(|r| r["git_commit"].is_null()),
        "not a git work tree"
    );
    assert!(runs
        .windows(2)
        .all(|w| w[0]["started_at"].as_str() <= w[1]["started_at"].as_str()));
    assert!(runs[2]["p95_ms"].as_f64().unwrap() > 0.0);

    let last = mock.history(&["--format", "json", "--last", "2"]);
    let last: Value = serde_json::from_slice(&last.stdout).unwrap();
    let scenarios: Vec<&str> = last["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(scenarios, vec!["steady.yaml", "other.yaml"]);

    let table = mock.history(&["steady.yaml"]);
    assert_eq!(table.status.code(), Some(0), "{}", explain(&table));
    let text = stdout(&table);
    // One line per run, oldest first: the requests column reads 1, 2, 3.
    let requests: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("steady.yaml") && l.contains('/'))
        .take(3)
        .map(|l| l.split_whitespace().nth(3).unwrap())
        .collect();
    assert_eq!(requests, vec!["1", "2", "3"], "{text}");
    // Per metric, a trend with a sparkline over the three runs.
    let rps = text
        .lines()
        .find(|l| l.contains("requests/s") && l.contains("steady.yaml") && l.contains(" 3 "))
        .unwrap_or_else(|| panic!("{text}"));
    let spark: String = rps.chars().filter(|c| ('▁'..='█').contains(c)).collect();
    assert_eq!(spark.chars().count(), 3, "{rps}");

    // The report of a later run draws the history trend.
    let report = mock.path("report.html");
    let out = mock.load(
        "steady.yaml",
        &ITERATIONS.replace("${N}", "2"),
        &["--report", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("4 runs,"), "{html}");
    let trend = &html[html.find("id=\"chart-history-p95_ms\"").unwrap()..];
    let points = trend
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(points.split_whitespace().count(), 4, "{points}");

    // --no-history leaves the database as it was.
    let out = mock.load(
        "steady.yaml",
        &ITERATIONS.replace("${N}", "1"),
        &["--no-history"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let json = mock.history(&["steady.yaml", "--format", "json"]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 4);
}

#[test]
fn the_markdown_summary_reads_well_and_goes_to_the_step_summary() {
    let mock = Mock::start();
    let summary = mock.path("step-summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let scenario = format!(
        "{}{}",
        ITERATIONS.replace("${N}", "5"),
        r#"    checks:
      - {name: "status is 200", status: 200}
      - {name: "says | hello", body_contains: "hello"}
thresholds:
  http_req_duration: ["p(95)<60000"]
  "http_req_duration{scenario:once}": ["max<60000"]
  http_req_failed: ["rate<0.01"]
"#
    );
    let out = mock.load(
        "steady.yaml",
        &scenario,
        &[
            "--format",
            "markdown",
            "--summary-markdown",
            summary.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let markdown = stdout(&out);
    let file = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(file, format!("# earlier step\n{markdown}"), "appended");
    insta::with_settings!({filters => vec![
        (r"`/[^`]*/steady.yaml`", "`[DIR]/steady.yaml`"),
        (r"ran [0-9.ms]+", "ran [TIME]"),
        (r"[0-9]+(\.[0-9]+)?(ms|µs|s)\b", "[TIME]"),
        (r"(?m)^\| 5 \| [0-9.]+ \|", "| 5 | [RATE] |"),
    ]}, {
        insta::assert_snapshot!(markdown);
    });

    // A tight budget keeps the headline and says how to see the rest.
    let out = mock.load(
        "steady.yaml",
        &ITERATIONS.replace("${N}", "5"),
        &["--format", "markdown", "--max-bytes", "700", "--no-history"],
    );
    let cut = stdout(&out);
    assert!(cut.len() <= 700, "{}", cut.len());
    assert!(cut.contains("| requests |"), "{cut}");
}

#[test]
fn an_unwritable_report_names_the_flag_and_keeps_the_other_outputs() {
    let mock = Mock::start();
    let blocker = mock.path("not-a-dir");
    std::fs::write(&blocker, "a file").unwrap();
    let report = blocker.join("report.html");
    let export = mock.path("summary.json");
    let markdown = mock.path("summary.md");
    let out = mock.load(
        "steady.yaml",
        &ITERATIONS.replace("${N}", "2"),
        &[
            "--report",
            report.to_str().unwrap(),
            "--summary-export",
            export.to_str().unwrap(),
            "--summary-markdown",
            markdown.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: --report ") && first.contains("not-a-dir"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("http_req_duration"),
        "the summary was printed"
    );
    assert!(
        export.exists() && markdown.exists(),
        "the other outputs were written"
    );
    let history = mock.history(&["--format", "json"]);
    let history: Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(
        history["runs"].as_array().unwrap().len(),
        1,
        "and the history"
    );
}
