//! `traceforge load`: k6-style load tests written as YAML (DESIGN.md §7). The [`scenario`]
//! file becomes a plan; [`run`] executes it on tokio with the lean HTTP/1.1 [`client`],
//! recording into HDR-histogram [`metrics`] and, with `--out`, streaming samples as NDJSON;
//! [`thresholds`] in k6's grammar judge the result; the finished run is a [`report`], which
//! [`summary`] renders (text and k6's JSON), [`html`] and [`markdown`] render for people and
//! pull requests, [`history`] summarises for the trace database, and [`baseline`] saves and
//! compares; [`progress`] shows one line per scenario on a terminal.
//!
//! Dependencies point one way, with no circles: `units` (how numbers read) ← `metrics` ←
//! `thresholds` ← `scenario` ← `client` ← `run` ← `progress`; `report` (data) ← `summary`,
//! `baseline` (rendering and storing it, neither importing the other); `summary`, `history` ←
//! `html`, `markdown` (which share the summary's wording and the history's trend metrics).
//!
//! This module and `proxy` are the async ones; it never builds a runtime (`commands` does),
//! never prints except through [`progress`], and never exits the process.

pub mod baseline;
pub mod client;
pub mod history;
pub mod html;
pub mod markdown;
pub mod metrics;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod summary;
pub mod thresholds;
pub(crate) mod units;
