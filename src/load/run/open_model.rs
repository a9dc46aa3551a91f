//! The open-model executors: `constant-arrival-rate` and `ramping-arrival-rate` start
//! iterations on a schedule computed from the rate, whatever the responses do. Each start is
//! released by the [`Pacer`] thread at its time and handed to an idle VU (allocating up to
//! `maxVUs`) or counted in `dropped_iterations`; its latencies are measured from its intended
//! start, so a stalled server shows in the percentiles (no coordinated omission).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::ndjson::Point;
use super::record::iteration;
use super::vu::{lock, stopped, Ctx, Vu};
use crate::load::metrics::Metric;
use crate::load::scenario::Stage;

/// Iteration start times of `ramping-arrival-rate`: the rate (iterations per second) moves
/// linearly through each stage, and iteration n starts when the integral of the rate reaches n.
pub(super) struct RampingSchedule {
    /// (duration in s, rate at start, rate at end), per stage.
    stages: Vec<(f64, f64, f64)>,
    stage: usize,
    stage_start: f64,
    done_before: f64,
    next: u64,
}

impl RampingSchedule {
    pub(super) fn new(start_rate: u64, time_unit: Duration, stages: &[Stage]) -> RampingSchedule {
        let unit = time_unit.as_secs_f64();
        let mut rate = start_rate as f64 / unit;
        let stages = stages
            .iter()
            .map(|s| {
                let to = s.target as f64 / unit;
                let stage = (s.duration.as_secs_f64(), rate, to);
                rate = to;
                stage
            })
            .collect();
        RampingSchedule {
            stages,
            stage: 0,
            stage_start: 0.0,
            done_before: 0.0,
            next: 0,
        }
    }
}

impl Iterator for RampingSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let want = (self.next + 1) as f64;
        loop {
            let &(d, r0, r1) = self.stages.get(self.stage)?;
            let area = (r0 + r1) / 2.0 * d;
            if self.done_before + area >= want - 1e-9 && area > 0.0 {
                let a = want - self.done_before;
                let slope = (r1 - r0) / d;
                let t = if slope.abs() < 1e-12 {
                    a / r0
                } else {
                    (-r0 + (r0 * r0 + 2.0 * slope * a).max(0.0).sqrt()) / slope
                };
                self.next += 1;
                return Some(Duration::from_secs_f64(
                    (self.stage_start + t.clamp(0.0, d)).max(0.0),
                ));
            }
            self.done_before += area;
            self.stage_start += d;
            self.stage += 1;
        }
    }
}

/// The arrival-rate executors: start an iteration at each scheduled time before `duration`
/// on an idle VU, allocating new ones up to `max_vus`, or drop it.
pub(super) async fn open_model(
    ctx: Arc<Ctx>,
    start: Instant,
    duration: Duration,
    schedule: impl Iterator<Item = Duration> + Send + 'static,
    pre_allocated: u64,
    max_vus: u64,
) {
    let end = start + duration;
    let hard = end + ctx.scenario().graceful_stop;
    let idle: Arc<Mutex<Vec<Vu>>> = Arc::new(Mutex::new(
        (0..pre_allocated).map(|_| ctx.new_vu()).collect(),
    ));
    // Arrival-rate VUs stay active for the whole scenario, as in k6.
    ctx.activate(pre_allocated, true);
    let mut allocated = pre_allocated;
    let mut tasks = JoinSet::new();
    let mut stop = ctx.stop.clone();
    // A zero-valued sample: this scenario can drop iterations, so the metric exists.
    ctx.recorder.with(0, |s| {
        s.count(Metric::DroppedIterations, &ctx.iteration_routes, 0, true, 0)
    });
    let mut due = match Pacer::start(start, end, schedule) {
        Ok(pacer) => pacer,
        Err(e) => {
            tracing::error!("cannot start the arrival-rate pacing thread: {e}");
            ctx.deactivate(allocated, false);
            return;
        }
    };
    loop {
        let intended = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            intended = due.starts.recv() => match intended {
                Some(intended) => intended,
                None => break,
            },
        };
        while tasks.try_join_next().is_some() {}
        let vu = lock(&idle).pop();
        let vu = match vu {
            Some(vu) => vu,
            None if allocated < max_vus => {
                allocated += 1;
                ctx.activate(1, true);
                ctx.new_vu()
            }
            None => {
                ctx.state.dropped.fetch_add(1, Ordering::Relaxed);
                ctx.recorder.with(0, |s| {
                    s.count(Metric::DroppedIterations, &ctx.iteration_routes, 0, true, 1)
                });
                if let Some(out) = &ctx.out {
                    out.send(vec![Point {
                        metric: Metric::DroppedIterations,
                        value: 1.0,
                        at: intended,
                        tags: ctx.iteration_tags.clone(),
                        extra: Vec::new(),
                    }])
                    .await;
                }
                continue;
            }
        };
        let task_ctx = ctx.clone();
        let idle = idle.clone();
        ctx.spawn_for(vu.id, &mut tasks, async move {
            let ctx = task_ctx;
            let mut vu = vu;
            let mut stop = ctx.stop.clone();
            tokio::select! {
                biased;
                () = stopped(&mut stop) => return,
                () = iteration(&ctx, &mut vu, Some(intended)) => {}
            }
            lock(&idle).push(vu);
        });
    }
    let drained = tokio::time::timeout_at(hard.into(), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    ctx.deactivate(allocated, false);
}

/// Releases the scheduled starts of an open-model scenario at their times, from a thread of its
/// own. tokio's timer ticks in whole milliseconds: sleeping on it would start iterations up to
/// 1 ms late and in bunches, and since their latency is measured from the intended start (no
/// coordinated omission), that lateness would be reported as the target's. A thread sleeping
/// on the OS clock, with its timer slack lowered, is late by microseconds.
struct Pacer {
    starts: tokio::sync::mpsc::UnboundedReceiver<Instant>,
    /// Dropped with the pacer: wakes the thread from its sleep so it ends at once.
    _stop: std::sync::mpsc::Sender<()>,
}

impl Pacer {
    fn start(
        start: Instant,
        end: Instant,
        schedule: impl Iterator<Item = Duration> + Send + 'static,
    ) -> std::io::Result<Pacer> {
        let (send, starts) = tokio::sync::mpsc::unbounded_channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("traceforge-pacer".into())
            .spawn(move || {
                #[cfg(target_os = "linux")]
                // SAFETY: sets this thread's timer slack (1 µs instead of 50 µs); no pointers.
                unsafe {
                    libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0);
                }
                for offset in schedule {
                    let intended = start + offset;
                    if intended >= end {
                        break;
                    }
                    let wait = intended.saturating_duration_since(Instant::now());
                    if !wait.is_zero() {
                        match stopped.recv_timeout(wait) {
                            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                            _ => break,
                        }
                    }
                    if send.send(intended).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Pacer {
            starts,
            _stop: stop,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pacer_releases_every_start_in_order_and_never_early() {
        let start = Instant::now();
        let end = start + Duration::from_millis(50);
        // 100 µs apart, and the schedule runs past `end`: only the ones before it come out.
        let schedule = (0u64..).map(|i| Duration::from_micros(i * 100));
        let mut pacer = Pacer::start(start, end, schedule).unwrap();
        let mut released = Vec::new();
        while let Some(intended) = pacer.starts.recv().await {
            // Released at or after its time, never before.
            assert!(Instant::now() >= intended);
            released.push(intended.duration_since(start));
        }
        let expected: Vec<Duration> = (0..500).map(|i| Duration::from_micros(i * 100)).collect();
        assert_eq!(released, expected);
    }

    #[tokio::test]
    async fn dropping_the_pacer_ends_its_thread_mid_sleep() {
        let start = Instant::now();
        // One start now, the next in an hour.
        let schedule = [Duration::ZERO, Duration::from_secs(3600)].into_iter();
        let mut pacer = Pacer::start(start, start + Duration::from_secs(7200), schedule).unwrap();
        assert!(pacer.starts.recv().await.is_some());
        let Pacer { starts, _stop } = pacer;
        drop(_stop);
        // The thread wakes, sees the stop and closes the channel instead of sleeping an hour.
        let mut starts = starts;
        let closed = tokio::time::timeout(Duration::from_secs(10), starts.recv()).await;
        assert_eq!(closed.ok(), Some(None));
    }

    #[test]
    fn ramping_arrival_schedule_integrates_the_rate() {
        // 0 → 10/s over 2 s: 10 iterations; then 10/s for 1 s: 10 more.
        let stages = [
            Stage {
                duration: Duration::from_secs(2),
                target: 10,
            },
            Stage {
                duration: Duration::from_secs(1),
                target: 10,
            },
        ];
        let times: Vec<Duration> =
            RampingSchedule::new(0, Duration::from_secs(1), &stages).collect();
        assert_eq!(times.len(), 20);
        // N(t) = 2.5 t² in the first stage: the 10th iteration at 2 s, the 1st at √0.4 s.
        assert!((times[0].as_secs_f64() - 0.4f64.sqrt()).abs() < 1e-6);
        assert!((times[9].as_secs_f64() - 2.0).abs() < 1e-6);
        assert!((times[19].as_secs_f64() - 3.0).abs() < 1e-6);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        // A per-minute time unit scales the rate down.
        let per_minute: Vec<Duration> = RampingSchedule::new(
            60,
            Duration::from_secs(60),
            &[Stage {
                duration: Duration::from_secs(3),
                target: 60,
            }],
        )
        .collect();
        assert_eq!(per_minute.len(), 3);
    }
}
