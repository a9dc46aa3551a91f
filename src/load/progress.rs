//! The live display while a test runs: one indicatif line per scenario with its VUs,
//! iterations, elapsed/total time and the current request rate. Only on a terminal (stderr)
//! and never with `--quiet`; otherwise nothing is drawn.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::run::ScenarioState;
use super::units::duration_text;

const REFRESH: Duration = Duration::from_millis(250);

/// Draws the progress lines until dropped.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    bars: MultiProgress,
}

impl Progress {
    /// Starts drawing for `scenarios` (call inside the runtime).
    pub fn start(scenarios: Vec<Arc<ScenarioState>>) -> Progress {
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        let width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let style = ProgressStyle::with_template("{prefix} [{bar:24}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let lines: Vec<(Arc<ScenarioState>, ProgressBar)> = scenarios
            .into_iter()
            .map(|state| {
                let total = (state.start_time + state.duration).as_millis() as u64;
                let bar = bars.add(ProgressBar::new(total.max(1)));
                bar.set_style(style.clone());
                bar.set_prefix(format!("{:width$}", state.name));
                (state, bar)
            })
            .collect();
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let mut last: Vec<(Instant, u64)> = vec![(started, 0); lines.len()];
            let mut ticks = tokio::time::interval(REFRESH);
            loop {
                ticks.tick().await;
                for ((state, bar), last) in lines.iter().zip(&mut last) {
                    let now = Instant::now();
                    let iterations = state.iterations.load(Ordering::Relaxed);
                    let seconds = now.duration_since(last.0).as_secs_f64().max(1e-3);
                    let rate = (iterations - last.1) as f64 / seconds;
                    *last = (now, iterations);
                    let elapsed = started.elapsed();
                    bar.set_position(elapsed.as_millis() as u64);
                    let status = if state.finished.load(Ordering::Relaxed) {
                        "done".to_string()
                    } else if state.started.get().is_none() {
                        "waiting".to_string()
                    } else {
                        format!("{rate:.0} req/s")
                    };
                    bar.set_message(format!(
                        "{}/{} VUs  {} iterations  {}/{}  {status}",
                        state.active.load(Ordering::Relaxed),
                        state.allocated.load(Ordering::Relaxed),
                        iterations,
                        duration_text(elapsed),
                        duration_text(state.start_time + state.duration),
                    ));
                }
            }
        });
        Progress { task, bars }
    }

    /// Stops drawing and clears the lines.
    pub fn finish(self) {
        self.task.abort();
        let _ = self.bars.clear();
    }
}
