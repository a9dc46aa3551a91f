//! `--out FILE.ndjson`: every metric sample as one JSON object per line, in k6's JSON output
//! format (`{"type":"Metric",…}` declarations, then `{"type":"Point","metric":…,"data":{"time",
//! "value","tags"}}`). Virtual users hand batches to a bounded channel; one plain thread writes
//! them through a buffer, so file I/O never runs on the async workers and a slow disk slows the
//! test down instead of growing memory.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::load::metrics::Metric;
use crate::load::thresholds::ThresholdSet;

/// Batches in flight before senders wait.
const CHANNEL_BATCHES: usize = 1024;

/// One sample.
#[derive(Debug, Clone)]
pub struct Point {
    pub metric: Metric,
    pub value: f64,
    pub at: Instant,
    /// Tags shared by every sample of a request template or scenario.
    pub tags: Arc<BTreeMap<String, String>>,
    /// Tags known per sample (`status`, `check`, …).
    pub extra: Vec<(&'static str, String)>,
}

/// Why the output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("--out {path}: cannot write it")]
pub struct OutError {
    path: PathBuf,
    #[source]
    error: std::io::Error,
}

/// The sending side, cloned into every virtual user.
#[derive(Clone)]
pub struct Out {
    sender: mpsc::Sender<Vec<Point>>,
}

/// The writer thread; [`Writer::finish`] waits for it.
pub struct Writer {
    thread: std::thread::JoinHandle<Result<(), OutError>>,
}

impl Out {
    /// Creates the file, writes the metric declarations and starts the writer thread.
    pub fn create(path: &Path, thresholds: &[ThresholdSet]) -> Result<(Out, Writer), OutError> {
        let error = |error| OutError {
            path: path.to_path_buf(),
            error,
        };
        let file = std::fs::File::create(path).map_err(error)?;
        let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file);
        for metric in Metric::ALL {
            let thresholds: Vec<&str> = thresholds
                .iter()
                .filter(|set| set.selector.metric == metric && set.selector.tags.is_empty())
                .flat_map(|set| set.thresholds.iter().map(|t| t.source.as_str()))
                .collect();
            let line = json!({
                "type": "Metric",
                "data": {
                    "name": metric.name(),
                    "type": metric.kind().name(),
                    "contains": metric.contains(),
                    "thresholds": thresholds,
                    "submetrics": null,
                },
                "metric": metric.name(),
            });
            writeln!(writer, "{line}").map_err(error)?;
        }
        let (sender, mut receiver) = mpsc::channel::<Vec<Point>>(CHANNEL_BATCHES);
        let path = path.to_path_buf();
        let clock = Clock::now();
        let thread = std::thread::Builder::new()
            .name("traceforge-load-out".into())
            .spawn(move || {
                let error = |error| OutError {
                    path: path.clone(),
                    error,
                };
                while let Some(batch) = receiver.blocking_recv() {
                    for point in batch {
                        writeln!(writer, "{}", render(&point, &clock)).map_err(error)?;
                    }
                }
                writer.flush().map_err(error)
            })
            .map_err(error)?;
        Ok((Out { sender }, Writer { thread }))
    }

    /// Queues samples; waits when the writer is behind. A failed writer drops them (its error
    /// is reported by [`Writer::finish`]).
    pub async fn send(&self, batch: Vec<Point>) {
        if !batch.is_empty() {
            let _ = self.sender.send(batch).await;
        }
    }
}

impl Writer {
    /// Waits until everything sent before every [`Out`] was dropped is written.
    pub fn finish(self) -> Result<(), OutError> {
        self.thread.join().unwrap_or_else(|_| {
            Err(OutError {
                path: PathBuf::from("(output)"),
                error: std::io::Error::other("the writer thread panicked"),
            })
        })
    }
}

/// Wall-clock time for a monotonic instant, fixed once so times never jump with the clock.
struct Clock {
    instant: Instant,
    system: SystemTime,
}

impl Clock {
    fn now() -> Clock {
        Clock {
            instant: Instant::now(),
            system: SystemTime::now(),
        }
    }

    fn time(&self, at: Instant) -> String {
        let system = if at >= self.instant {
            self.system + (at - self.instant)
        } else {
            self.system - (self.instant - at)
        };
        chrono::DateTime::<chrono::Utc>::from(system)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

fn render(point: &Point, clock: &Clock) -> Value {
    let mut tags = serde_json::Map::new();
    for (k, v) in point.tags.iter() {
        tags.insert(k.clone(), Value::String(v.clone()));
    }
    for (k, v) in &point.extra {
        tags.insert((*k).to_string(), Value::String(v.clone()));
    }
    let mut sorted: Vec<(String, Value)> = tags.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    json!({
        "metric": point.metric.name(),
        "type": "Point",
        "data": {
            "time": clock.time(point.at),
            "value": point.value,
            "tags": Value::Object(sorted.into_iter().collect()),
        },
    })
}
