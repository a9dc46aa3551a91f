//! Running a [`Plan`]: the [`Engine`] starts each scenario at its `startTime` on its executor,
//! samples the VU gauges, evaluates `abortOnFail` thresholds while the test runs, stops
//! everything on request ([`Stopper`]) and merges the recorder's shards into the [`Outcome`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use super::closed_model::{closed_model, ramping_vus};
use super::ndjson::Out;
use super::open_model::{open_model, RampingSchedule};
use super::vu::{fold, gauge_points, lock, stopped, Ctx, Gauges, ScenarioState};
use crate::load::metrics::{Metric, Recorder, Series};
use crate::load::scenario::{Executor, Plan};
use crate::load::units::{duration_text, number_text};

/// How often the VU gauges are sampled (k6's interval).
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);
/// How often `abortOnFail` thresholds are evaluated (k6's interval).
const ABORT_INTERVAL: Duration = Duration::from_secs(2);

/// What a finished (or stopped) run produced.
pub struct Outcome {
    pub series: Series,
    pub elapsed: Duration,
    /// Why an `abortOnFail` threshold stopped the test.
    pub aborted: Option<String>,
    pub scenarios: Vec<Arc<ScenarioState>>,
}

/// A test about to run, or running.
pub struct Engine {
    plan: Arc<Plan>,
    recorder: Arc<Recorder>,
    gauges: Arc<Gauges>,
    states: Vec<Arc<ScenarioState>>,
    stop: Arc<watch::Sender<bool>>,
    out: Option<Out>,
    workers: Arc<Vec<tokio::runtime::Handle>>,
}

/// Stops a running test from outside (Ctrl-C).
#[derive(Clone)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Engine {
    /// An engine whose virtual users run on `workers` (round-robin), or on the current
    /// runtime when there are none.
    pub fn new(plan: Plan, out: Option<Out>, workers: Vec<tokio::runtime::Handle>) -> Engine {
        let states = plan
            .scenarios
            .iter()
            .map(|s| {
                Arc::new(ScenarioState {
                    name: s.name.clone(),
                    executor: s.executor.name(),
                    description: s.executor.describe(),
                    start_time: s.start_time,
                    duration: s.executor.duration(),
                    active: AtomicU64::new(0),
                    allocated: AtomicU64::new(0),
                    iterations: AtomicU64::new(0),
                    dropped: AtomicU64::new(0),
                    started: OnceLock::new(),
                    finished: AtomicBool::new(false),
                })
            })
            .collect();
        let (stop, _) = watch::channel(false);
        Engine {
            // One shard per worker; without workers, VUs share the caller's threads.
            recorder: Arc::new(Recorder::new(
                plan.layout.clone(),
                if workers.is_empty() { 8 } else { workers.len() },
            )),
            plan: Arc::new(plan),
            gauges: Arc::new(Gauges::default()),
            states,
            stop: Arc::new(stop),
            out,
            workers: Arc::new(workers),
        }
    }

    pub fn scenarios(&self) -> Vec<Arc<ScenarioState>> {
        self.states.clone()
    }

    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Runs every scenario to its end (or until stopped) and returns the merged metrics.
    pub async fn run(self) -> Outcome {
        let started = Instant::now();
        self.recorder.start(started);
        let aborted = Arc::new(Mutex::new(None::<String>));
        let mut background = JoinSet::new();
        // After every scenario's scheduled end, VUs only retire: the summary's gauges keep the
        // VUs the test ran with (as k6's do), while the NDJSON output still shows the teardown.
        let scheduled_end = started
            + self
                .states
                .iter()
                .map(|s| s.start_time + s.duration)
                .max()
                .unwrap_or_default();
        background.spawn(sample_gauges(
            self.gauges.clone(),
            self.out.clone(),
            self.stop.subscribe(),
            scheduled_end,
        ));
        if self
            .plan
            .thresholds
            .iter()
            .any(|set| set.thresholds.iter().any(|t| t.abort_on_fail))
        {
            background.spawn(watch_abort_thresholds(
                self.plan.clone(),
                self.recorder.clone(),
                self.stop.clone(),
                aborted.clone(),
                started,
            ));
        }

        if let Some(out) = &self.out {
            // The starting point of the VU time series.
            out.send(gauge_points(0.0, 0.0)).await;
        }
        let mut scenarios = JoinSet::new();
        let mut next_vu = 0usize;
        for (index, state) in self.states.iter().enumerate() {
            let ctx = Arc::new(Ctx::new(
                self.plan.clone(),
                index,
                self.recorder.clone(),
                self.gauges.clone(),
                state.clone(),
                self.out.clone(),
                self.stop.subscribe(),
                next_vu,
                self.workers.clone(),
            ));
            next_vu += 1_000_000;
            scenarios.spawn(async move {
                let mut stop = ctx.stop.clone();
                let start = started + ctx.scenario().start_time;
                tokio::select! {
                    biased;
                    () = stopped(&mut stop) => {}
                    () = sleep_until(start.into()) => {
                        let _ = ctx.state.started.set(Instant::now());
                        run_executor(ctx.clone()).await;
                    }
                }
                ctx.state.finished.store(true, Ordering::Relaxed);
            });
        }
        while scenarios.join_next().await.is_some() {}
        let elapsed = started.elapsed();
        background.abort_all();
        while background.join_next().await.is_some() {}

        let mut series = self.recorder.snapshot();
        series.set_gauge(Metric::Vus, *lock(&self.gauges.vus));
        series.set_gauge(Metric::VusMax, *lock(&self.gauges.vus_max));
        let aborted = lock(&aborted).clone();
        Outcome {
            series,
            elapsed,
            aborted,
            scenarios: self.states,
        }
    }
}

async fn sample_gauges(
    gauges: Arc<Gauges>,
    out: Option<Out>,
    mut stop: watch::Receiver<bool>,
    scheduled_end: Instant,
) {
    let mut ticks = tokio::time::interval(GAUGE_INTERVAL);
    ticks.tick().await;
    loop {
        tokio::select! {
            () = stopped(&mut stop) => return,
            _ = ticks.tick() => {}
        }
        let active = gauges.active.load(Ordering::Relaxed) as f64;
        let allocated = gauges.allocated.load(Ordering::Relaxed) as f64;
        if Instant::now() < scheduled_end {
            fold(&gauges.vus, active);
            fold(&gauges.vus_max, allocated);
        }
        if let Some(out) = &out {
            out.send(gauge_points(active, allocated)).await;
        }
    }
}

async fn watch_abort_thresholds(
    plan: Arc<Plan>,
    recorder: Arc<Recorder>,
    stop: Arc<watch::Sender<bool>>,
    aborted: Arc<Mutex<Option<String>>>,
    started: Instant,
) {
    let mut ticks = tokio::time::interval(ABORT_INTERVAL);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let elapsed = started.elapsed();
        let series = recorder.snapshot();
        for set in &plan.thresholds {
            let Some(index) = plan.layout.series_of(&set.selector) else {
                continue;
            };
            let aggregate = &series.aggregates[index];
            for threshold in &set.thresholds {
                if !threshold.abort_on_fail || elapsed < threshold.delay_abort_eval {
                    continue;
                }
                // A metric that has no samples yet may still get them: only a value aborts.
                let verdict = threshold.evaluate(aggregate, elapsed);
                if let (false, Some(observed)) = (verdict.ok, verdict.observed) {
                    *lock(&aborted) = Some(format!(
                        "threshold {} on {} failed after {} ({} = {})",
                        threshold.source,
                        set.selector,
                        duration_text(elapsed),
                        threshold.expression.aggregation.label(),
                        number_text(observed, Some(2)),
                    ));
                    let _ = stop.send(true);
                    return;
                }
            }
        }
    }
}

async fn run_executor(ctx: Arc<Ctx>) {
    let start = Instant::now();
    let scenario = ctx.scenario();
    let graceful = scenario.graceful_stop;
    match scenario.executor.clone() {
        Executor::ConstantVus { vus, duration } => {
            closed_model(ctx, vus, start + duration, graceful, None).await
        }
        Executor::PerVuIterations {
            vus,
            iterations,
            max_duration,
        } => closed_model(ctx, vus, start + max_duration, graceful, Some(iterations)).await,
        Executor::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down,
        } => ramping_vus(ctx, start, start_vus, stages, graceful_ramp_down).await,
        Executor::ConstantArrivalRate {
            rate,
            time_unit,
            duration,
            pre_allocated_vus,
            max_vus,
        } => {
            let interval = time_unit.as_secs_f64() / rate as f64;
            let schedule = (0u64..).map(move |i| Duration::from_secs_f64(i as f64 * interval));
            open_model(ctx, start, duration, schedule, pre_allocated_vus, max_vus).await
        }
        Executor::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            pre_allocated_vus,
            max_vus,
        } => {
            let duration = stages.iter().map(|s| s.duration).sum();
            let schedule = RampingSchedule::new(start_rate, time_unit, &stages);
            open_model(ctx, start, duration, schedule, pre_allocated_vus, max_vus).await
        }
    }
}
