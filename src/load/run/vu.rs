//! What a scenario's virtual users share and what each one is: the context ([`Ctx`]: the plan,
//! prepared requests, their metric routes and tags, the recorder, the gauges, the NDJSON output,
//! the stop signal and the worker runtimes), a VU ([`Vu`]: its connections and its place in the
//! request list), the live counters the progress display reads ([`ScenarioState`]) and the VU
//! gauges. It schedules nothing: the executors do, iterations are `record`'s.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::ndjson::{Out, Point};
use crate::load::client::{Client, Prepared};
use crate::load::metrics::{GaugeValue, Metric, Recorder, Route};
use crate::load::scenario::{Plan, ScenarioPlan};

/// The longest a closed-model VU keeps finished iterations from the progress display.
const COUNT_INTERVAL: Duration = Duration::from_millis(100);

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
pub(super) struct Gauges {
    pub(super) active: AtomicI64,
    pub(super) allocated: AtomicI64,
    pub(super) vus: Mutex<Option<GaugeValue>>,
    pub(super) vus_max: Mutex<Option<GaugeValue>>,
}

pub(super) fn fold(gauge: &Mutex<Option<GaugeValue>>, value: f64) {
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

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolves once the test is stopped; never if the stop signal is gone.
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

pub(super) fn gauge_points(active: f64, allocated: f64) -> Vec<Point> {
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

/// Everything a scenario's virtual users share.
pub(super) struct Ctx {
    plan: Arc<Plan>,
    index: usize,
    pub(super) prepared: Vec<Prepared>,
    /// Per request template: submetric routes per metric, and the tags of its samples.
    pub(super) request_routes: Vec<Vec<Vec<Route>>>,
    pub(super) request_tags: Vec<Arc<BTreeMap<String, String>>>,
    /// Routes and tags for iteration metrics (the scenario's tags).
    pub(super) iteration_routes: Vec<Vec<Route>>,
    pub(super) iteration_tags: Arc<BTreeMap<String, String>>,
    /// Per check: routes for the `checks` rate.
    pub(super) check_routes: Vec<Vec<Vec<Route>>>,
    pub(super) keep_body: bool,
    next_vu: AtomicUsize,
    pub(super) recorder: Arc<Recorder>,
    pub(super) gauges: Arc<Gauges>,
    pub(super) state: Arc<ScenarioState>,
    pub(super) out: Option<Out>,
    pub(super) stop: watch::Receiver<bool>,
    workers: Arc<Vec<tokio::runtime::Handle>>,
}

impl Ctx {
    #[expect(
        clippy::too_many_arguments,
        reason = "one constructor wiring shared state"
    )]
    pub(super) fn new(
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
    pub(super) fn spawn_for<F>(&self, vu: usize, tasks: &mut JoinSet<()>, work: F)
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

    pub(super) fn scenario(&self) -> &ScenarioPlan {
        &self.plan.scenarios[self.index]
    }

    pub(super) fn new_vu(&self) -> Vu {
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
    pub(super) fn count_iteration(&self, vu: &mut Vu, now: Instant) {
        vu.uncounted += 1;
        if vu.uncounted >= 64
            || now.saturating_duration_since(vu.counted_at) >= COUNT_INTERVAL
            || self.scenario().executor.is_open_model()
        {
            self.flush_iterations(vu);
            vu.counted_at = now;
        }
    }

    pub(super) fn flush_iterations(&self, vu: &mut Vu) {
        self.state
            .iterations
            .fetch_add(std::mem::take(&mut vu.uncounted), Ordering::Relaxed);
    }

    /// VUs became active (and allocated, when `allocate`); folded into the gauges.
    pub(super) fn activate(&self, n: u64, allocate: bool) {
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
    pub(super) fn deactivate(&self, n: u64, ramp_down: bool) {
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
pub(super) struct Vu {
    pub(super) id: usize,
    pub(super) client: Client,
    pub(super) next_request: usize,
    uncounted: u64,
    counted_at: Instant,
}
