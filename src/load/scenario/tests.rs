//! The scenario file end to end: text in, a [`Plan`] or a one-line located error out.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::load::metrics::{Aggregation, Metric};

fn options() -> ParseOptions {
    ParseOptions {
        vars: BTreeMap::from([("TARGET".to_string(), "http://127.0.0.1:9".to_string())]),
        ..ParseOptions::default()
    }
}

fn parse_text(text: &str) -> Result<Plan, String> {
    parse(Path::new("s.yaml"), text, &options()).map_err(|e| e.to_string())
}

const PINNED: &str = r#"
scenarios:
  chat:
    executor: constant-vus
    vus: 4
    duration: 30s
    request:
      method: POST
      url: "${TARGET}/v1/chat/completions"
      headers: {content-type: application/json}
      body: {model: gpt-4o-mini, stream: true, messages: [{role: user, content: hello}]}
    checks:
      - {name: "status is 200", status: 200}
thresholds:
  http_req_duration: ["p(95)<500"]
"#;

#[test]
fn https_requests_get_a_tls_configuration_and_http_ones_none() {
    let plain = parse_text("vus: 1\nduration: 1s\nrequest: {url: \"http://h/\"}\n").unwrap();
    assert!(plain.tls.is_none());
    let secure = parse_text(
        "vus: 1\nduration: 1s\nrequests: [{url: \"http://h/\"}, {url: \"https://h/\"}]\n",
    )
    .unwrap();
    assert!(secure.tls.is_some());
    assert_eq!(
        secure.scenarios[0].requests[1].url.port_or_known_default(),
        Some(443)
    );
    let insecure = parse_text(
        "insecureSkipTLSVerify: true\nvus: 1\nduration: 1s\nrequest: {url: \"https://[::1]:8443/\"}\n",
    )
    .unwrap();
    assert!(insecure.tls.is_some());
}

#[test]
fn the_pinned_shape_parses() {
    let plan = parse_text(PINNED).unwrap();
    assert_eq!(plan.scenarios.len(), 1);
    let chat = &plan.scenarios[0];
    assert_eq!(chat.name, "chat");
    assert_eq!(
        chat.executor,
        Executor::ConstantVus {
            vus: 4,
            duration: Duration::from_secs(30)
        }
    );
    assert_eq!(chat.graceful_stop, Duration::from_secs(30));
    let request = &chat.requests[0];
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(
        request.url.as_str(),
        "http://127.0.0.1:9/v1/chat/completions"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["messages"][0]["content"], "hello");
    assert_eq!(body["stream"], true);
    assert_eq!(chat.checks[0].name, "status is 200");
    assert_eq!(plan.thresholds[0].selector.metric, Metric::HttpReqDuration);
    assert_eq!(plan.thresholds[0].thresholds[0].source, "p(95)<500");
}

#[test]
fn every_executor_and_the_shortcuts_parse() {
    let text = r#"
request: {url: "${TARGET}/x"}
scenarios:
  a: {executor: ramping-vus, startVUs: 0, stages: [{duration: 1s, target: 4}, {duration: 2s, target: 0}], gracefulRampDown: 0s}
  b: {executor: constant-arrival-rate, rate: 50, timeUnit: 1s, duration: 3s, preAllocatedVUs: 10, maxVUs: 20, startTime: 1s, gracefulStop: 5s, tags: {tier: gold}}
  c: {executor: ramping-arrival-rate, startRate: 5, timeUnit: 500ms, stages: [{duration: 1s, target: 20}], preAllocatedVUs: 4}
  d: {executor: per-vu-iterations, vus: 2, iterations: 3}
"#;
    let plan = parse_text(text).unwrap();
    let names: Vec<&str> = plan.scenarios.iter().map(|s| s.executor.name()).collect();
    assert_eq!(
        names,
        [
            "ramping-vus",
            "constant-arrival-rate",
            "ramping-arrival-rate",
            "per-vu-iterations"
        ]
    );
    assert_eq!(plan.scenarios[1].start_time, Duration::from_secs(1));
    assert_eq!(plan.scenarios[1].tags["tier"], "gold");
    assert_eq!(plan.scenarios[2].executor.max_vus(), 4);
    assert_eq!(
        plan.scenarios[3].executor,
        Executor::PerVuIterations {
            vus: 2,
            iterations: 3,
            max_duration: Duration::from_secs(600)
        }
    );

    let plan = parse_text("vus: 3\nduration: 2s\nrequest: {url: \"${TARGET}/\"}\n").unwrap();
    assert_eq!(plan.scenarios[0].name, "default");
    assert_eq!(
        plan.scenarios[0].executor,
        Executor::ConstantVus {
            vus: 3,
            duration: Duration::from_secs(2)
        }
    );
    let plan = parse_text("stages: [{duration: 1s, target: 2}]\nrequest: {url: \"${TARGET}/\"}\n")
        .unwrap();
    assert_eq!(plan.scenarios[0].executor.name(), "ramping-vus");
}

#[test]
fn bad_scenarios_name_line_column_and_field() {
    let cases: &[(&str, &str)] = &[
        (
            "scenarios:\n  chat:\n    executor: constant-vus\n    vuz: 4\n",
            "s.yaml:4:5: scenarios.chat: unknown field `vuz`",
        ),
        (
            "scenarios:\n  chat:\n    executor: shared-iterations\n",
            "s.yaml:3:15: scenarios.chat.executor: unknown variant `shared-iterations`",
        ),
        (
            "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 30x\n",
            "s.yaml:4:15: scenarios.chat.duration: duration \"30x\" has unknown unit",
        ),
        (
            "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 30\n",
            "s.yaml:4:15: scenarios.chat.duration: duration 30 needs a unit",
        ),
        (
            "request: {url: \"${TARGET}/\"}\nscenarios:\n  chat:\n    executor: constant-vus\n    duration: 1s\n    stages: []\n",
            "s.yaml:6:5: scenarios.chat.stages: executor constant-vus does not take `stages`",
        ),
        (
            "request: {url: \"${TARGET}/\"}\nscenarios:\n  chat:\n    executor: constant-arrival-rate\n    duration: 1s\n    rate: 5\n",
            "s.yaml:3:3: scenarios.chat.preAllocatedVUs: executor constant-arrival-rate needs `preAllocatedVUs`",
        ),
        (
            "request: {url: \"${NOPE}/\"}\nvus: 1\nduration: 1s\n",
            "s.yaml:1:17: request.url: ${NOPE} is not set",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_req_duration: [\"p(95)<<500\"]\n",
            "s.yaml:5:23: thresholds.http_req_duration[0]: invalid threshold \"p(95)<<500\", column 7: expected a number",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_req_duration: [\"rate<0.1\"]\n",
            "s.yaml:5:24: thresholds: http_req_duration: \"rate<0.1\": a trend metric has no `rate`",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nthresholds:\n  http_req_durationz: [\"p(95)<1\"]\n",
            "s.yaml:5:3: thresholds: invalid threshold metric \"http_req_durationz\", column 1: no metric named",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\", bogus: 1}\n",
            "s.yaml:3:30: request: unknown field `bogus`",
        ),
        (
            "vus: 1\nduration: 1s\n",
            "scenario \"default\" has nothing to send",
        ),
        (
            "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 1s\n    request: {url: \"ftp://x/\"}\n",
            "scenarios.chat.request.url: \"ftp://x/\": scheme \"ftp\" is not http or https",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\nchecks:\n  - {status: 200, body_contains: x}\n",
            "s.yaml:5:3: checks.0: a check needs exactly one of",
        ),
        ("vus: [1\n", "s.yaml:"),
    ];
    for (text, expected) in cases {
        let error = parse_text(text).expect_err(text);
        assert!(
            error.contains(expected),
            "for\n{text}\nexpected {expected:?}\n     got {error:?}"
        );
        assert!(!error.contains('\n'), "one line: {error}");
    }
}

#[test]
fn variables_substitute_with_defaults_and_escapes() {
    let text = "vus: 1\nduration: 1s\nrequest:\n  url: \"${TARGET}/${PATH:-v1}/x?a=$${LITERAL}\"\n  headers: {authorization: \"Bearer ${TARGET}\"}\n";
    let plan = parse_text(text).unwrap();
    let request = &plan.scenarios[0].requests[0];
    assert_eq!(request.url.as_str(), "http://127.0.0.1:9/v1/x?a=${LITERAL}");
    assert_eq!(
        request.headers["authorization"],
        "Bearer http://127.0.0.1:9"
    );
    assert_eq!(request.method, http::Method::GET);
}

#[test]
fn thresholds_collect_submetrics_and_percentiles() {
    let text = r#"
vus: 1
duration: 1s
request: {url: "${TARGET}/"}
thresholds:
  http_req_duration: ["p(99.9)<500", {threshold: "p(95)<100", abortOnFail: true, delayAbortEval: 10s}]
  "http_req_duration{scenario:default}": ["avg<100"]
  http_req_failed: ["rate<0.1"]
  checks: ["rate>0.99"]
"#;
    let plan = parse_text(text).unwrap();
    assert_eq!(plan.thresholds.len(), 4);
    assert_eq!(plan.layout.submetrics.len(), 1);
    let long = &plan.thresholds[0].thresholds[1];
    assert!(long.abort_on_fail);
    assert_eq!(long.delay_abort_eval, Duration::from_secs(10));
    assert!(plan.trend_stats.contains(&Aggregation::Percentile(99.9)));
}

#[test]
fn out_of_range_values_name_the_key_and_the_limit() {
    let cases: &[(&str, &str)] = &[
        (
            "vus: 1\nduration: 200000000000000d\nrequest: {url: \"${TARGET}/\"}\n",
            "s.yaml:2:11: duration: duration \"200000000000000d\" is longer than 365d, the limit",
        ),
        (
            "scenarios:\n  chat:\n    executor: constant-vus\n    duration: 1s\n    gracefulStop: 200000000000000d\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:5:19: scenarios.chat.gracefulStop: duration \"200000000000000d\" is longer than 365d",
        ),
        (
            "vus: 1\nduration: 1s\nrequest: {url: \"${TARGET}/\", timeout: 366d}\n",
            "s.yaml:3:39: request.timeout: duration \"366d\" is longer than 365d",
        ),
        (
            "stages: [{duration: 1s, target: 1}, {duration: 9000h, target: 0}]\nrequest: {url: \"${TARGET}/\"}\n",
            "s.yaml:1:48: stages[1].duration: duration \"9000h\" is longer than 365d",
        ),
        (
            "vus: 1000000\nduration: 2s\nrequest: {url: \"${TARGET}/\"}\n",
            "s.yaml:1:1: vus: `vus` must be at most 100000 VUs (it is 1000000)",
        ),
        (
            "scenarios:\n  a:\n    executor: per-vu-iterations\n    vus: 100001\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:4:5: scenarios.a.vus: `vus` must be at most 100000 VUs (it is 100001)",
        ),
        (
            "scenarios:\n  a:\n    executor: constant-arrival-rate\n    rate: 1\n    duration: 1s\n    preAllocatedVUs: 1\n    maxVUs: 1000000000\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:7:5: scenarios.a.maxVUs: `maxVUs` must be at most 100000 VUs (it is 1000000000)",
        ),
        (
            "scenarios:\n  a:\n    executor: ramping-arrival-rate\n    stages: [{duration: 1s, target: 1}]\n    preAllocatedVUs: 1000000000\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:5:5: scenarios.a.preAllocatedVUs: `preAllocatedVUs` must be at most 100000 VUs",
        ),
        (
            "scenarios:\n  a:\n    executor: ramping-vus\n    startVUs: 200000\n    stages: [{duration: 1s, target: 1}]\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:4:5: scenarios.a.startVUs: `startVUs` must be at most 100000 VUs",
        ),
        (
            "scenarios:\n  a:\n    executor: ramping-vus\n    stages:\n      - {duration: 1s, target: 1}\n      - {duration: 1s, target: 200000}\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:6:24: scenarios.a.stages.1.target: a stage's `target` must be at most 100000 VUs (it is 200000)",
        ),
        (
            "request: {url: \"${TARGET}/\"}\nscenarios:\n  a: {executor: constant-vus, vus: 60000, duration: 1s}\n  b: {executor: constant-vus, vus: 60000, duration: 1s}\n",
            "s.yaml:2:1: scenarios: the scenarios use 120000 VUs together; at most 100000 in one test",
        ),
        (
            "scenarios:\n  a:\n    executor: constant-arrival-rate\n    rate: 1000000000000\n    duration: 1s\n    preAllocatedVUs: 1\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:4:5: scenarios.a.rate: `rate` must be at most 100000 iterations per second (it is 1000000000000 per 1s)",
        ),
        (
            "scenarios:\n  a:\n    executor: constant-arrival-rate\n    rate: 1000\n    timeUnit: 1ms\n    duration: 1s\n    preAllocatedVUs: 1\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:4:5: scenarios.a.rate: `rate` must be at most 100000 iterations per second (it is 1000 per 1ms)",
        ),
        (
            "scenarios:\n  a:\n    executor: ramping-arrival-rate\n    startRate: 200000\n    stages: [{duration: 1s, target: 1}]\n    preAllocatedVUs: 1\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:4:5: scenarios.a.startRate: `startRate` must be at most 100000 iterations per second",
        ),
        (
            "scenarios:\n  a:\n    executor: ramping-arrival-rate\n    stages:\n      - {duration: 1s, target: 1000000000000}\n    preAllocatedVUs: 1\n    request: {url: \"${TARGET}/\"}\n",
            "s.yaml:5:24: scenarios.a.stages.0.target: a stage's `target` must be at most 100000 iterations per second",
        ),
    ];
    for (text, expected) in cases {
        let error = parse_text(text).expect_err(text);
        assert!(
            error.contains(expected),
            "for\n{text}\nexpected {expected:?}\n     got {error:?}"
        );
        assert!(!error.contains('\n'), "one line: {error}");
    }
    // The limits themselves are allowed.
    let plan =
        parse_text("vus: 1\nduration: 365d\nrequest: {url: \"${TARGET}/\", timeout: 365d}\n")
            .unwrap();
    assert_eq!(
        plan.scenarios[0].executor.duration(),
        Duration::from_secs(365 * 86400)
    );
    let plan = parse_text("vus: 100000\nduration: 1s\nrequest: {url: \"${TARGET}/\"}\n").unwrap();
    assert_eq!(plan.scenarios[0].executor.max_vus(), 100_000);
    let plan = parse_text(
        "scenarios:\n  a: {executor: constant-arrival-rate, rate: 6000000, timeUnit: 1m, duration: 1s, preAllocatedVUs: 1}\nrequest: {url: \"${TARGET}/\"}\n",
    )
    .unwrap();
    assert_eq!(plan.scenarios[0].executor.name(), "constant-arrival-rate");
}
