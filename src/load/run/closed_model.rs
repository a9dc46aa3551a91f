//! The closed-model executors: `constant-vus` and `per-vu-iterations` loop every VU through
//! iterations, a new one as soon as the last ends; `ramping-vus` moves the number of active VUs
//! linearly through its stages, one VU at a time, letting a ramped-down VU's iteration finish
//! within `gracefulRampDown`. A stalled server slows them down (k6's coordinated omission).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use super::record::iteration;
use super::vu::{fold, stopped, Ctx, Vu};
use crate::load::scenario::Stage;

/// `constant-vus` and `per-vu-iterations`: every VU loops until `end` (or its iterations are
/// done); running iterations get `graceful` more.
pub(super) async fn closed_model(
    ctx: Arc<Ctx>,
    vus: u64,
    end: Instant,
    graceful: Duration,
    iterations: Option<u64>,
) {
    ctx.activate(vus, true);
    let mut tasks = JoinSet::new();
    for _ in 0..vus {
        let vu = ctx.new_vu();
        let id = vu.id;
        let mut vu = Retiring {
            ctx: ctx.clone(),
            vu,
        };
        // The loop races nothing: the stop signal and the gracefulStop deadline abort the task
        // from outside, so a VU's wake-ups poll only its request.
        ctx.spawn_for(id, &mut tasks, async move {
            let mut done = 0u64;
            while Instant::now() < end && iterations.is_none_or(|n| done < n) {
                iteration(&vu.ctx, &mut vu.vu, None).await;
                done += 1;
            }
        });
    }
    let mut stop = ctx.stop.clone();
    tokio::select! {
        biased;
        () = stopped(&mut stop) => {}
        () = sleep_until((end + graceful).into()) => {}
        () = async { while tasks.join_next().await.is_some() {} } => {}
    }
    // Interrupted iterations are dropped whole: their samples were never recorded.
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

/// A closed-model VU that, however its task ends (done, stopped or aborted), flushes its
/// iteration count and leaves the active VUs.
struct Retiring {
    ctx: Arc<Ctx>,
    vu: Vu,
}

impl Drop for Retiring {
    fn drop(&mut self) {
        self.ctx.flush_iterations(&mut self.vu);
        self.ctx.deactivate(1, false);
    }
}

/// The times, from the scenario start, at which `ramping-vus` changes its VU target: linear
/// within each stage, one VU at a time (k6's steps).
fn ramp_steps(start_vus: u64, stages: &[Stage]) -> Vec<(Duration, u64)> {
    let mut steps = vec![(Duration::ZERO, start_vus)];
    let mut at = Duration::ZERO;
    let mut current = start_vus;
    for stage in stages {
        let diff = stage.target.abs_diff(current);
        if diff > 0 {
            if stage.duration.is_zero() {
                steps.push((at, stage.target));
            } else {
                for k in 1..=diff {
                    let offset = stage.duration.mul_f64(k as f64 / diff as f64);
                    let value = if stage.target > current {
                        current + k
                    } else {
                        current - k
                    };
                    steps.push((at + offset, value));
                }
            }
        }
        at += stage.duration;
        current = stage.target;
    }
    steps
}

pub(super) async fn ramping_vus(
    ctx: Arc<Ctx>,
    start: Instant,
    start_vus: u64,
    stages: Vec<Stage>,
    graceful_ramp_down: Duration,
) {
    let scenario = ctx.scenario();
    let end = start + scenario.executor.duration();
    let hard = end + scenario.graceful_stop;
    let max_vus = scenario.executor.max_vus();
    let steps = ramp_steps(start_vus, &stages);
    let (target, _) = watch::channel(0u64);
    let target = Arc::new(target);

    // All VUs are allocated up front, as k6 does; they become active as the target passes them.
    ctx.state.allocated.fetch_add(max_vus, Ordering::Relaxed);
    let allocated = ctx
        .gauges
        .allocated
        .fetch_add(max_vus as i64, Ordering::Relaxed)
        + max_vus as i64;
    fold(&ctx.gauges.vus_max, allocated as f64);

    let mut tasks = JoinSet::new();
    for index in 0..max_vus {
        let mut targets = target.subscribe();
        let mut vu = ctx.new_vu();
        let id = vu.id;
        let task_ctx = ctx.clone();
        ctx.spawn_for(id, &mut tasks, async move {
            let ctx = task_ctx;
            let mut stop_signal = ctx.stop.clone();
            let stop = stopped(&mut stop_signal);
            let hard = sleep_until(hard.into());
            let ended = sleep_until(end.into());
            tokio::pin!(stop, hard, ended);
            let mut ramp = targets.clone();
            loop {
                // Inactive: wait for the target to include this VU.
                tokio::select! {
                    biased;
                    () = &mut stop => return,
                    () = &mut ended => return,
                    result = targets.wait_for(|t| *t > index) => if result.is_err() { return },
                }
                ctx.activate(1, false);
                // Ramping down lets the running iteration finish within gracefulRampDown.
                let ramp_down = async {
                    if ramp.wait_for(|t| *t <= index).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(graceful_ramp_down).await;
                };
                tokio::pin!(ramp_down);
                let ramped_down = loop {
                    if Instant::now() >= end {
                        break false;
                    }
                    if *targets.borrow() <= index {
                        break true;
                    }
                    tokio::select! {
                        biased;
                        () = &mut stop => break false,
                        () = &mut hard => break false,
                        () = &mut ramp_down => break true,
                        () = iteration(&ctx, &mut vu, None) => {}
                    }
                };
                ctx.flush_iterations(&mut vu);
                ctx.deactivate(1, ramped_down);
                if !ramped_down {
                    return;
                }
            }
        });
    }
    let mut stop = ctx.stop.clone();
    for (offset, value) in steps {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            () = sleep_until((start + offset).into()) => {}
        }
        target.send_replace(value);
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_steps_are_linear_one_vu_at_a_time() {
        let stages = [
            Stage {
                duration: Duration::from_secs(1),
                target: 4,
            },
            Stage {
                duration: Duration::from_secs(1),
                target: 4,
            },
            Stage {
                duration: Duration::from_secs(2),
                target: 2,
            },
        ];
        let steps = ramp_steps(0, &stages);
        let ms: Vec<(u128, u64)> = steps.iter().map(|(d, v)| (d.as_millis(), *v)).collect();
        assert_eq!(
            ms,
            vec![
                (0, 0),
                (250, 1),
                (500, 2),
                (750, 3),
                (1000, 4),
                (3000, 3),
                (4000, 2)
            ]
        );
    }
}
