//! The scenario file: k6's options written as YAML (`scenarios:` with executors, or the
//! shortcut `vus`/`duration`/`stages`), requests given inline or drawn from cassettes, checks,
//! and thresholds. Parsing goes through [`crate::yaml`] with `deny_unknown_fields`, so a typo is
//! an error naming the file, line and column; rules serde cannot express (which executor takes
//! which field, required fields, unset `${VARS}`) are checked afterwards and located in the text
//! by their key. The result is a [`Plan`] the executors run. No async, no network.
//!
//! One concern per file, layered one way: `plan` (what a file becomes) ← `shape` (what serde
//! reads) ← `locate` (placing errors in the text) ← `requests` (templates and checks) ← `build`
//! (scenarios, executors, thresholds). This file only re-exports.

mod build;
mod locate;
mod plan;
mod requests;
mod shape;
#[cfg(test)]
mod tests;

pub use build::{load, parse};
pub use plan::{
    CassetteTarget, Check, Condition, Executor, ParseOptions, Plan, RequestTemplate, ScenarioError,
    ScenarioPlan, Stage, DEFAULT_SCENARIO,
};
