//! Running a plan: k6's executors on tokio. Closed-model executors (`constant-vus`,
//! `ramping-vus`, `per-vu-iterations`) loop each virtual user through iterations, a new one as
//! soon as the last ends. Open-model executors (`constant-arrival-rate`,
//! `ramping-arrival-rate`) start iterations on a schedule computed from the rate, whatever the
//! responses do: an iteration is handed to an idle VU (allocating up to `maxVUs`) or counted in
//! `dropped_iterations`, and its latencies are measured from its intended start, so a stalled
//! server shows in the percentiles instead of silently slowing the load (no coordinated
//! omission).
//!
//! One iteration sends one request (round-robin over the scenario's requests) and evaluates the
//! scenario's checks. At a scenario's end, running iterations get `gracefulStop` to finish and
//! are then interrupted (their samples are dropped, as k6 drops interrupted iterations');
//! ramping down, `gracefulRampDown`. Stopping (Ctrl-C, `abortOnFail`) interrupts at once.
//!
//! Layered one way, one executor family per file as in k6: `ndjson` (the `--out` writer) and
//! `checks` ← `vu` (what a scenario's VUs share) ← `record` (one iteration and its samples) ←
//! `closed_model`, `open_model` (with its pacer) ← `engine`; `workers` holds the threads the VUs
//! run on. It never builds a runtime (`commands` does). This file only re-exports.

mod checks;
mod closed_model;
mod engine;
mod ndjson;
mod open_model;
mod record;
mod vu;
mod workers;

pub use engine::{Engine, Outcome, Stopper};
pub use ndjson::{Out, OutError, Point, Writer};
pub use vu::ScenarioState;
pub use workers::Workers;
