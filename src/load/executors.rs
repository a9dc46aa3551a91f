//! Running a [`Plan`]: k6's executors on tokio. Closed-model executors (`constant-vus`,
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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use super::client::{Client, Exchange, Prepared};
use super::metrics::{GaugeValue, Metric, Recorder, Route, Series};
use super::output::{Out, Point};
use super::scenario::{Check, Condition, Executor, Plan, ScenarioPlan, Stage};
use crate::cassette::{Body, Response};
use crate::provider::{self, sse};

/// How often the VU gauges are sampled (k6's interval).
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);
/// The longest a closed-model VU keeps finished iterations from the progress display.
const COUNT_INTERVAL: Duration = Duration::from_millis(100);
/// How often `abortOnFail` thresholds are evaluated (k6's interval).
const ABORT_INTERVAL: Duration = Duration::from_secs(2);

/// A scenario's live counters, for the progress display and the summary.
pub struct ScenarioState {
    pub name: String,
    pub executor: &'static str,
    pub description: String,
    pub start_time: Duration,
    /// How long the executor schedules work (before gracefulStop).
    pub duration: Duration,
    pub active: AtomicU64,
    pub allocated: AtomicU64,
    pub iterations: AtomicU64,
    pub dropped: AtomicU64,
    pub started: OnceLock<Instant>,
    pub finished: AtomicBool,
}

/// The test-wide VU gauges.
#[derive(Default)]
struct Gauges {
    active: AtomicI64,
    allocated: AtomicI64,
    vus: Mutex<Option<GaugeValue>>,
    vus_max: Mutex<Option<GaugeValue>>,
}

fn fold(gauge: &Mutex<Option<GaugeValue>>, value: f64) {
    let mut gauge = gauge.lock().unwrap_or_else(|e| e.into_inner());
    *gauge = Some(match *gauge {
        Some(g) => GaugeValue {
            value,
            min: g.min.min(value),
            max: g.max.max(value),
        },
        None => GaugeValue {
            value,
            min: value,
            max: value,
        },
    });
}

/// Threads each driving a single-threaded runtime that virtual users are spawned onto. The
/// runtimes are built by the caller (`commands`); this only keeps them running until dropped.
#[derive(Default)]
pub struct Workers {
    handles: Vec<tokio::runtime::Handle>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    /// Runs `runtime` on a new thread until the workers are dropped.
    pub fn add(&mut self, runtime: tokio::runtime::Runtime, name: &str) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.handles.push(runtime.handle().clone());
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                runtime.shutdown_background();
            })?;
        self.stops.push(stop);
        self.threads.push(thread);
        Ok(())
    }

    pub fn handles(&self) -> Vec<tokio::runtime::Handle> {
        self.handles.clone()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolves once the test is stopped; never if the stop signal is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
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

fn gauge_points(active: f64, allocated: f64) -> Vec<Point> {
    static NO_TAGS: OnceLock<Arc<BTreeMap<String, String>>> = OnceLock::new();
    let tags = NO_TAGS.get_or_init(Default::default).clone();
    let at = Instant::now();
    vec![
        Point {
            metric: Metric::Vus,
            value: active,
            at,
            tags: tags.clone(),
            extra: Vec::new(),
        },
        Point {
            metric: Metric::VusMax,
            value: allocated,
            at,
            tags,
            extra: Vec::new(),
        },
    ]
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
                        super::units::duration_text(elapsed),
                        threshold.expression.aggregation.label(),
                        super::units::number_text(observed, Some(2)),
                    ));
                    let _ = stop.send(true);
                    return;
                }
            }
        }
    }
}

/// Everything a scenario's virtual users share.
struct Ctx {
    plan: Arc<Plan>,
    index: usize,
    prepared: Vec<Prepared>,
    /// Per request template: submetric routes per metric, and the tags of its samples.
    request_routes: Vec<Vec<Vec<Route>>>,
    request_tags: Vec<Arc<BTreeMap<String, String>>>,
    /// Routes and tags for iteration metrics (the scenario's tags).
    iteration_routes: Vec<Vec<Route>>,
    iteration_tags: Arc<BTreeMap<String, String>>,
    /// Per check: routes for the `checks` rate.
    check_routes: Vec<Vec<Vec<Route>>>,
    keep_body: bool,
    next_vu: AtomicUsize,
    recorder: Arc<Recorder>,
    gauges: Arc<Gauges>,
    state: Arc<ScenarioState>,
    out: Option<Out>,
    stop: watch::Receiver<bool>,
    workers: Arc<Vec<tokio::runtime::Handle>>,
}

impl Ctx {
    #[expect(
        clippy::too_many_arguments,
        reason = "one constructor wiring shared state"
    )]
    fn new(
        plan: Arc<Plan>,
        index: usize,
        recorder: Arc<Recorder>,
        gauges: Arc<Gauges>,
        state: Arc<ScenarioState>,
        out: Option<Out>,
        stop: watch::Receiver<bool>,
        first_vu: usize,
        workers: Arc<Vec<tokio::runtime::Handle>>,
    ) -> Ctx {
        let scenario = &plan.scenarios[index];
        let layout = &plan.layout;
        let mut iteration_tags = scenario.tags.clone();
        iteration_tags.insert("scenario".into(), scenario.name.clone());
        let check_routes = scenario
            .checks
            .iter()
            .map(|check| {
                let mut tags = iteration_tags.clone();
                tags.insert("check".into(), check.name.clone());
                layout.routes(&tags)
            })
            .collect();
        Ctx {
            prepared: scenario.requests.iter().map(Prepared::new).collect(),
            request_routes: scenario
                .requests
                .iter()
                .map(|r| layout.routes(&r.tags(scenario)))
                .collect(),
            request_tags: scenario
                .requests
                .iter()
                .map(|r| Arc::new(r.tags(scenario)))
                .collect(),
            iteration_routes: layout.routes(&iteration_tags),
            iteration_tags: Arc::new(iteration_tags),
            check_routes,
            keep_body: scenario.checks.iter().any(|c| c.condition.needs_body()),
            next_vu: AtomicUsize::new(first_vu),
            recorder,
            gauges,
            state,
            out,
            stop,
            workers,
            plan,
            index,
        }
    }

    /// Spawns a virtual user's work on its worker (by VU id), or here without workers.
    fn spawn_for<F>(&self, vu: usize, tasks: &mut JoinSet<()>, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match self.workers.get(vu % self.workers.len().max(1)) {
            Some(handle) => {
                tasks.spawn_on(work, handle);
            }
            None => {
                tasks.spawn(work);
            }
        }
    }

    fn scenario(&self) -> &ScenarioPlan {
        &self.plan.scenarios[self.index]
    }

    fn new_vu(&self) -> Vu {
        let id = self.next_vu.fetch_add(1, Ordering::Relaxed);
        Vu {
            id,
            client: Client::new(self.plan.tls.clone()),
            // Spread the VUs over the requests so a short test still sends each of them.
            next_request: id % self.prepared.len(),
            uncounted: 0,
            counted_at: Instant::now(),
        }
    }

    /// Counts a finished iteration for the progress display. Closed-model VUs count in
    /// batches (a shared counter touched 100k times a second costs throughput) and flush when
    /// they stop.
    fn count_iteration(&self, vu: &mut Vu, now: Instant) {
        vu.uncounted += 1;
        if vu.uncounted >= 64
            || now.saturating_duration_since(vu.counted_at) >= COUNT_INTERVAL
            || self.scenario().executor.is_open_model()
        {
            self.flush_iterations(vu);
            vu.counted_at = now;
        }
    }

    fn flush_iterations(&self, vu: &mut Vu) {
        self.state
            .iterations
            .fetch_add(std::mem::take(&mut vu.uncounted), Ordering::Relaxed);
    }

    /// VUs became active (and allocated, when `allocate`); folded into the gauges.
    fn activate(&self, n: u64, allocate: bool) {
        self.state.active.fetch_add(n, Ordering::Relaxed);
        let active = self.gauges.active.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
        fold(&self.gauges.vus, active as f64);
        if allocate {
            self.state.allocated.fetch_add(n, Ordering::Relaxed);
            let allocated = self.gauges.allocated.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
            fold(&self.gauges.vus_max, allocated as f64);
        }
        self.gauge_points();
    }

    /// VUs went inactive. Ramp-downs are folded into the gauges; the end of a scenario is not
    /// (k6's summary shows the VUs a test ran with, not the teardown).
    fn deactivate(&self, n: u64, ramp_down: bool) {
        self.state.active.fetch_sub(n, Ordering::Relaxed);
        let active = self.gauges.active.fetch_sub(n as i64, Ordering::Relaxed) - n as i64;
        if ramp_down {
            fold(&self.gauges.vus, active as f64);
        }
        self.gauge_points();
    }

    fn gauge_points(&self) {
        if let Some(out) = &self.out {
            let points = gauge_points(
                self.gauges.active.load(Ordering::Relaxed) as f64,
                self.gauges.allocated.load(Ordering::Relaxed) as f64,
            );
            // Never wait here: activation happens inside the schedule.
            let out = out.clone();
            tokio::spawn(async move { out.send(points).await });
        }
    }
}

/// A virtual user: its connections, the shard it records into (by id) and its place in the
/// scenario's request list.
struct Vu {
    id: usize,
    client: Client,
    next_request: usize,
    uncounted: u64,
    counted_at: Instant,
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

/// `constant-vus` and `per-vu-iterations`: every VU loops until `end` (or its iterations are
/// done); running iterations get `graceful` more.
async fn closed_model(
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

async fn ramping_vus(
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

/// Iteration start times of `ramping-arrival-rate`: the rate (iterations per second) moves
/// linearly through each stage, and iteration n starts when the integral of the rate reaches n.
struct RampingSchedule {
    /// (duration in s, rate at start, rate at end), per stage.
    stages: Vec<(f64, f64, f64)>,
    stage: usize,
    stage_start: f64,
    done_before: f64,
    next: u64,
}

impl RampingSchedule {
    fn new(start_rate: u64, time_unit: Duration, stages: &[Stage]) -> RampingSchedule {
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
async fn open_model(
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
            eprintln!("traceforge: error: cannot start the arrival-rate pacing thread: {e}");
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

/// One iteration: a request, its checks, and every sample recorded.
async fn iteration(ctx: &Ctx, vu: &mut Vu, intended: Option<Instant>) {
    let which = vu.next_request;
    vu.next_request = (which + 1) % ctx.prepared.len();
    let begin = Instant::now();
    let exchange = vu
        .client
        .send(&ctx.prepared[which], intended, ctx.keep_body)
        .await;
    let checks = &ctx.scenario().checks;
    let mut body = LazyBody::new(&exchange);
    let results: Vec<bool> = checks
        .iter()
        .map(|check| passes(check, &exchange, &mut body))
        .collect();
    let end = Instant::now();
    let iteration_duration = end.saturating_duration_since(intended.unwrap_or(begin));
    record(ctx, vu.id, which, &exchange, &results, iteration_duration);
    ctx.count_iteration(vu, end);
    if let Some(out) = &ctx.out {
        out.send(points(
            ctx,
            which,
            &exchange,
            &results,
            iteration_duration,
            end,
        ))
        .await;
    }
}

/// k6's default expected statuses: 200–399.
fn expected(status: u16) -> bool {
    (200..400).contains(&status)
}

/// The LLM numbers of one streamed exchange.
struct LlmSample<'a> {
    ttft: Option<Duration>,
    gaps: &'a [Duration],
    tokens: u64,
    tpot: Option<Duration>,
}

fn llm(exchange: &Exchange) -> Option<LlmSample<'_>> {
    let stream = exchange.stream.as_ref()?;
    let ttft = stream
        .first_output
        .map(|first| first.saturating_duration_since(exchange.origin));
    let tokens = stream.tokens();
    let tpot = match ttft {
        Some(ttft) if tokens >= 2 => Some(
            exchange.duration.saturating_sub(ttft) / (tokens - 1).min(u64::from(u32::MAX)) as u32,
        ),
        _ => None,
    };
    Some(LlmSample {
        ttft,
        gaps: &stream.gaps,
        tokens,
        tpot,
    })
}

fn record(
    ctx: &Ctx,
    vu: usize,
    which: usize,
    exchange: &Exchange,
    checks: &[bool],
    iteration_duration: Duration,
) {
    let routes = &ctx.request_routes[which];
    let status = exchange.status;
    let ok = expected(status);
    ctx.recorder.with(vu, |s| {
        s.count(Metric::HttpReqs, routes, status, ok, 1);
        s.rate(Metric::HttpReqFailed, routes, status, ok, !ok);
        if let Some(error) = &exchange.error {
            s.error(error);
        } else {
            s.trend(
                Metric::HttpReqDuration,
                routes,
                status,
                ok,
                exchange.duration,
            );
            s.trend(Metric::HttpReqBlocked, routes, status, ok, exchange.blocked);
            s.trend(
                Metric::HttpReqConnecting,
                routes,
                status,
                ok,
                exchange.connecting,
            );
            s.trend(
                Metric::HttpReqTlsHandshaking,
                routes,
                status,
                ok,
                exchange.tls_handshaking,
            );
            s.trend(Metric::HttpReqSending, routes, status, ok, exchange.sending);
            s.trend(Metric::HttpReqWaiting, routes, status, ok, exchange.waiting);
            s.trend(
                Metric::HttpReqReceiving,
                routes,
                status,
                ok,
                exchange.receiving,
            );
        }
        s.count(Metric::DataSent, routes, status, ok, exchange.bytes_sent);
        s.count(
            Metric::DataReceived,
            routes,
            status,
            ok,
            exchange.bytes_received,
        );
        if exchange.error.is_none() {
            if let Some(sample) = llm(exchange) {
                if let Some(ttft) = sample.ttft {
                    s.trend(Metric::LlmTtft, routes, status, ok, ttft);
                }
                for gap in sample.gaps {
                    s.trend(Metric::LlmItl, routes, status, ok, *gap);
                }
                s.count(Metric::LlmOutputTokens, routes, status, ok, sample.tokens);
                if let Some(tpot) = sample.tpot {
                    s.trend(Metric::LlmTpot, routes, status, ok, tpot);
                }
            }
        }
        let first = ctx.scenario().first_check;
        for (k, passed) in checks.iter().enumerate() {
            s.check(first + k, &ctx.check_routes[k], *passed);
        }
        s.count(Metric::Iterations, &ctx.iteration_routes, 0, true, 1);
        s.trend(
            Metric::IterationDuration,
            &ctx.iteration_routes,
            0,
            true,
            iteration_duration,
        );
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn points(
    ctx: &Ctx,
    which: usize,
    exchange: &Exchange,
    checks: &[bool],
    iteration_duration: Duration,
    end: Instant,
) -> Vec<Point> {
    let tags = &ctx.request_tags[which];
    let extra = vec![
        ("status", exchange.status.to_string()),
        ("expected_response", expected(exchange.status).to_string()),
    ];
    let point = |metric, value| Point {
        metric,
        value,
        at: end,
        tags: tags.clone(),
        extra: extra.clone(),
    };
    let mut points = vec![
        point(Metric::HttpReqs, 1.0),
        point(
            Metric::HttpReqFailed,
            f64::from(u8::from(!expected(exchange.status))),
        ),
    ];
    if exchange.error.is_none() {
        points.extend([
            point(Metric::HttpReqDuration, ms(exchange.duration)),
            point(Metric::HttpReqBlocked, ms(exchange.blocked)),
            point(Metric::HttpReqConnecting, ms(exchange.connecting)),
            point(Metric::HttpReqTlsHandshaking, ms(exchange.tls_handshaking)),
            point(Metric::HttpReqSending, ms(exchange.sending)),
            point(Metric::HttpReqWaiting, ms(exchange.waiting)),
            point(Metric::HttpReqReceiving, ms(exchange.receiving)),
        ]);
        if let Some(sample) = llm(exchange) {
            if let Some(ttft) = sample.ttft {
                points.push(point(Metric::LlmTtft, ms(ttft)));
            }
            points.extend(sample.gaps.iter().map(|g| point(Metric::LlmItl, ms(*g))));
            points.push(point(Metric::LlmOutputTokens, sample.tokens as f64));
            if let Some(tpot) = sample.tpot {
                points.push(point(Metric::LlmTpot, ms(tpot)));
            }
        }
    }
    points.push(point(Metric::DataSent, exchange.bytes_sent as f64));
    points.push(point(Metric::DataReceived, exchange.bytes_received as f64));
    for (check, passed) in ctx.scenario().checks.iter().zip(checks) {
        points.push(Point {
            metric: Metric::Checks,
            value: f64::from(u8::from(*passed)),
            at: end,
            tags: ctx.iteration_tags.clone(),
            extra: vec![("check", check.name.clone())],
        });
    }
    points.push(Point {
        metric: Metric::Iterations,
        value: 1.0,
        at: end,
        tags: ctx.iteration_tags.clone(),
        extra: Vec::new(),
    });
    points.push(Point {
        metric: Metric::IterationDuration,
        value: ms(iteration_duration),
        at: end,
        tags: ctx.iteration_tags.clone(),
        extra: Vec::new(),
    });
    points
}

/// The response body as checks see it, worked out once: for a stream, the assistant text
/// assembled from its deltas; otherwise the body as text.
struct LazyBody<'a> {
    exchange: &'a Exchange,
    text: Option<String>,
    events: Option<Vec<serde_json::Value>>,
    json: Option<Option<serde_json::Value>>,
}

impl<'a> LazyBody<'a> {
    fn new(exchange: &'a Exchange) -> Self {
        LazyBody {
            exchange,
            text: None,
            events: None,
            json: None,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.exchange.body.as_deref().unwrap_or_default()
    }

    fn text(&mut self) -> &str {
        if self.text.is_none() {
            let text = if self.exchange.is_stream {
                let events = sse::parse_all(self.bytes())
                    .into_iter()
                    .map(|e| e.into_stream_event(0))
                    .collect();
                let response = Response {
                    status: self.exchange.status,
                    headers: Default::default(),
                    body: None,
                    stream: Some(events),
                    incomplete: false,
                };
                provider::assemble(&response).text
            } else {
                String::from_utf8_lossy(self.bytes()).into_owned()
            };
            self.text = Some(text);
        }
        self.text.as_deref().unwrap_or_default()
    }

    /// The JSON documents a path check looks in: the body, or every event of a stream.
    fn documents(&mut self) -> Vec<&serde_json::Value> {
        if self.exchange.is_stream {
            if self.events.is_none() {
                self.events = Some(
                    sse::parse_all(self.bytes())
                        .into_iter()
                        .filter_map(|e| match Body::from_bytes(e.data.as_bytes()) {
                            Body::Json(value) => Some(value),
                            _ => None,
                        })
                        .collect(),
                );
            }
            self.events.iter().flatten().collect()
        } else {
            if self.json.is_none() {
                self.json = Some(serde_json::from_slice(self.bytes()).ok());
            }
            self.json.iter().flatten().collect()
        }
    }
}

fn passes(check: &Check, exchange: &Exchange, body: &mut LazyBody<'_>) -> bool {
    match &check.condition {
        Condition::Status(statuses) => statuses.contains(&exchange.status),
        _ if exchange.error.is_some() => false,
        Condition::BodyContains(text) => body.text().contains(text.as_str()),
        Condition::BodyNotContains(text) => !body.text().contains(text.as_str()),
        Condition::BodyMatches(regex) => regex.is_match(body.text()),
        Condition::Json { path, equals } => body.documents().into_iter().any(|doc| {
            path.select(doc)
                .into_iter()
                .any(|found| equals.as_ref().is_none_or(|want| json_equal(found, want)))
        }),
    }
}

/// Equal as JSON values, with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
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
