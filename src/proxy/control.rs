//! The control API a test framework drives, under `/_traceforge/v1/`: which cassette requests
//! without an `X-TraceForge-Cassette` header go to, and with which match fields (so the pytest
//! plugin gives every test its own cassette without the test's code changing), and the replay
//! misses reported since a point (so the test that caused one fails showing the report). It only
//! switches what the proxy already has per request; it never forwards anything and never
//! reveals more than the miss reports already printed on stderr.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::Proxy;
use crate::cassette::matcher::{Field, MatchRules};
use crate::cassette::CassetteName;
use crate::server::{json_response, HttpResponse};

/// Every control path starts with this.
pub const PREFIX: &str = crate::server::HANDLER_PREFIX;

const CASSETTE: &str = "/_traceforge/v1/cassette";
const MISSES: &str = "/_traceforge/v1/misses";

/// Miss reports kept for `GET misses`; older ones are counted as dropped.
const KEPT: usize = 1000;

/// The largest control request body (a cassette name and a few fields).
const MAX_BODY: usize = 64 * 1024;

/// The replay misses of this run, numbered from 0 in the order they were reported.
#[derive(Default)]
pub(super) struct MissLog {
    inner: Mutex<Misses>,
}

#[derive(Default)]
struct Misses {
    /// The number the next miss gets.
    next: u64,
    kept: VecDeque<Missed>,
}

struct Missed {
    seq: u64,
    cassette: String,
    report: String,
}

impl MissLog {
    /// Keeps a miss report (as printed on stderr) for `GET misses`.
    pub fn push(&self, cassette: &CassetteName, report: String) {
        let mut misses = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let seq = misses.next;
        misses.next += 1;
        if misses.kept.len() == KEPT {
            misses.kept.pop_front();
        }
        misses.kept.push_back(Missed {
            seq,
            cassette: cassette.to_string(),
            report,
        });
    }

    /// The number the next miss will get.
    fn next(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).next
    }

    /// The misses numbered `since` and later, as the JSON answer of `GET misses`.
    fn since(&self, since: u64) -> serde_json::Value {
        let misses = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let oldest = misses.kept.front().map_or(misses.next, |m| m.seq);
        let listed: Vec<serde_json::Value> = misses
            .kept
            .iter()
            .filter(|m| m.seq >= since)
            .map(|m| json!({"seq": m.seq, "cassette": m.cassette, "report": m.report}))
            .collect();
        json!({
            "version": 1,
            "next": misses.next,
            "dropped": oldest.saturating_sub(since),
            "misses": listed,
        })
    }
}

/// The body of `PUT /_traceforge/v1/cassette`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Select {
    cassette: String,
    /// Match fields for this cassette (as `--match` takes them); absent: the run's.
    #[serde(default, rename = "match")]
    match_fields: Option<Vec<String>>,
}

/// Answers a request under [`PREFIX`].
pub(super) async fn handle(proxy: Arc<Proxy>, request: http::Request<Incoming>) -> HttpResponse {
    let (parts, body) = request.into_parts();
    match (parts.method.as_str(), parts.uri.path()) {
        ("GET", CASSETTE) => json_response(200, &selected(&proxy)),
        ("PUT", CASSETTE) => {
            let bytes = match super::read_body(http_body_util::Limited::new(body, MAX_BODY), IDLE)
                .await
            {
                Ok(bytes) => bytes,
                Err(_) => return error(400, "the request body could not be read (at most 64 KiB)"),
            };
            match select(&proxy, &bytes) {
                Ok(()) => json_response(200, &selected(&proxy)),
                Err(message) => error(400, &message),
            }
        }
        ("GET", MISSES) => {
            let since = parts
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .find_map(|pair| pair.strip_prefix("since="));
            let since = match since.map(str::parse::<u64>) {
                None => 0,
                Some(Ok(since)) => since,
                Some(Err(_)) => return error(400, "`since` must be a miss number (0 or more)"),
            };
            json_response(200, &proxy.misses.since(since))
        }
        (_, CASSETTE | MISSES) => error(405, "method not allowed here"),
        (_, path) => error(
            404,
            &format!(
                "no control endpoint {path:?}; there are PUT and GET {CASSETTE} and GET {MISSES}"
            ),
        ),
    }
}

/// How long a control request body may pause.
const IDLE: Duration = Duration::from_secs(10);

/// Applies a `PUT cassette` body, or says what is wrong with it.
fn select(proxy: &Proxy, bytes: &[u8]) -> Result<(), String> {
    let select: Select = serde_json::from_slice(bytes)
        .map_err(|e| format!("expected {{\"cassette\": NAME, \"match\": [FIELD, …]}}: {e}"))?;
    let name = CassetteName::parse(&select.cassette).map_err(|e| e.to_string())?;
    let rules = match select.match_fields {
        None => None,
        Some(fields) if fields.is_empty() => {
            return Err("`match` needs at least one field".to_string())
        }
        Some(fields) => {
            let fields = fields
                .iter()
                .map(|f| Field::parse(f))
                .collect::<Result<Vec<_>, _>>()?;
            Some(MatchRules {
                fields,
                ..proxy.config.match_rules.clone()
            })
        }
    };
    proxy.cassettes.set_rules(&name, rules);
    *proxy
        .default_cassette
        .write()
        .unwrap_or_else(|e| e.into_inner()) = name;
    Ok(())
}

/// The answer of `GET` and `PUT cassette`: the cassette requests without a header go to,
/// where cassettes are written, and the number the next miss will get.
fn selected(proxy: &Proxy) -> serde_json::Value {
    let dir = proxy.cassettes.dir();
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    json!({
        "version": 1,
        "cassette": proxy.default_cassette().as_str(),
        "cassettes_dir": dir.display().to_string(),
        "misses": proxy.misses.next(),
    })
}

fn error(status: u16, message: &str) -> HttpResponse {
    json_response(
        status,
        &json!({"error": {"message": format!("traceforge control: {message}"), "type": "traceforge_control"}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_are_listed_from_a_number_and_old_ones_counted_as_dropped() {
        let log = MissLog::default();
        let name = CassetteName::parse("t/one").unwrap();
        assert_eq!(log.since(0)["next"], 0);
        for i in 0..KEPT + 5 {
            log.push(&name, format!("report {i}\n"));
        }
        assert_eq!(log.next(), (KEPT + 5) as u64);
        let recent = log.since((KEPT + 3) as u64);
        assert_eq!(recent["dropped"], 0);
        let listed = recent["misses"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["seq"], KEPT + 3);
        assert_eq!(listed[0]["cassette"], "t/one");
        assert_eq!(listed[1]["report"], format!("report {}\n", KEPT + 4));
        let all = log.since(0);
        assert_eq!(all["dropped"], 5);
        assert_eq!(all["misses"].as_array().unwrap().len(), KEPT);
        assert_eq!(log.since(u64::MAX)["misses"], json!([]));
    }
}
