//! `traceforge load`: k6-style load tests written as YAML (DESIGN.md §7). The [`scenario`]
//! file becomes a plan; [`executors`] run it on tokio with the lean HTTP/1.1 [`client`],
//! recording into HDR-histogram [`metrics`]; [`thresholds`] in k6's grammar judge the result;
//! [`summary`] renders it (text and k6's JSON), [`baseline`] saves and compares runs, [`output`]
//! streams samples as NDJSON and [`progress`] shows one line per scenario on a terminal.
//!
//! This module and `proxy` are the async ones; it never builds a runtime (`commands` does),
//! never prints except through [`progress`], and never exits the process.

pub mod baseline;
pub mod client;
pub mod executors;
pub mod metrics;
pub mod output;
pub mod progress;
pub mod report;
pub mod scenario;
pub mod summary;
pub mod thresholds;
pub(crate) mod units;
