//! The recording and replaying HTTP proxy (DESIGN.md §2–3). One handler routes
//! `/<upstream>/<rest>`, picks the cassette (`--cassette` or the `X-TraceForge-Cassette`
//! header), then either answers from the cassette (`replay`) or forwards upstream and records
//! (`record`), as the record mode decides. Running a wrapped command lives in [`child`]; the
//! control API a test framework uses to pick a cassette per test, in [`control`].

pub mod cassettes;
pub mod child;
pub mod control;
mod keys;
mod observe;
mod policy;
mod record;
mod rendered;
mod replay;
mod restore;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use crate::cassette::matcher::RequestView;
use crate::cassette::redact::Redactor;
use crate::cassette::{vault, Body, CassetteName};
use crate::provider::Provider;
use crate::server::{json_response, HttpResponse};
use crate::store::writer::{Pending, TraceWriter, WriterReport};
use crate::telemetry::logs::REQUEST_TARGET;
use crate::telemetry::request::{Match, RequestFields, RequestId};
use cassettes::{CassetteSet, Counts, Lookup, Miss, OpenCassette, PolicyOutcome, ScopeKey};

pub use replay::MISS_STATUS;

/// The header that picks a cassette per request.
pub const CASSETTE_HEADER: &str = "x-traceforge-cassette";
/// [`CASSETTE_HEADER`], parsed once: looking a header up by `&str` parses the name each time.
static CASSETTE_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(CASSETTE_HEADER);

/// How long a recorded interaction may wait for its cassette to be rewritten, so bursts share
/// one write. It is already safe in the journal, and every reader merges the journal, so this
/// only bounds how far the YAML file lags: each rewrite copies the whole cassette and fsyncs
/// it, and at 200 ms those fsyncs stalled journal appends often enough to push the record
/// p99 past 1 ms (`benches/replay.sh record`).
const FLUSH_DELAY: Duration = Duration::from_secs(2);

/// For every this many bytes a cassette already holds, its rewrites wait another
/// [`FLUSH_DELAY`] (up to [`FLUSH_DELAY_MAX`]): a rewrite copies and fsyncs the whole file, so
/// at a fixed interval a long recording into one cassette rewrote it quadratically (a 15 MB
/// cassette every 2 s). This keeps the rewrites at about 2 MB/s however large it grows.
const FLUSH_BYTES_PER_DELAY: u64 = 4 << 20;
const FLUSH_DELAY_MAX: Duration = Duration::from_secs(60);

/// How long new recordings wait for the rewrite of a cassette that holds `written` bytes.
fn flush_delay(written: u64) -> Duration {
    let steps = 1 + written / FLUSH_BYTES_PER_DELAY;
    FLUSH_DELAY
        .saturating_mul(u32::try_from(steps).unwrap_or(u32::MAX))
        .min(FLUSH_DELAY_MAX)
}

/// Request bodies above this size are refused with 413 rather than held in memory.
pub const MAX_REQUEST_BODY: usize = 32 * 1024 * 1024;

/// vcrpy's record modes (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Record if the cassette does not exist, else replay and refuse new requests.
    Once,
    /// Replay matches, record the rest.
    NewEpisodes,
    /// Always forward; the cassette is rewritten with this run's interactions.
    All,
    /// Replay only.
    None,
}

impl Mode {
    /// Whether a miss in this mode fails the run.
    pub fn is_strict(self) -> bool {
        matches!(self, Mode::None | Mode::Once)
    }

    fn keeps_old(self) -> bool {
        self != Mode::All
    }

    /// The `--mode` value, as the log shows it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Once => "once",
            Mode::NewEpisodes => "new-episodes",
            Mode::All => "all",
            Mode::None => "none",
        }
    }
}

/// Everything the proxy needs, resolved by the command from settings and flags.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub mode: Mode,
    pub cassettes_dir: PathBuf,
    pub default_cassette: CassetteName,
    /// Upstream name → base URL without a trailing slash.
    pub upstreams: BTreeMap<String, String>,
    pub match_rules: crate::cassette::matcher::MatchRules,
    pub redactor: Redactor,
    /// `pii.upstream: pseudonymize`: the provider receives surrogates.
    pub pii_upstream: bool,
    /// Why requests with PII cannot match (pseudonymised cassettes replayed without the key),
    /// for miss reports.
    pub pii_note: Option<String>,
    /// The policies enforced and recorded at this proxy (`None`: there are none).
    pub policies: Option<crate::policy::enforce::Enforcer>,
    pub allow_repeats: bool,
    /// How long an upstream may stay silent (before headers, or between body chunks).
    pub upstream_timeout: Duration,
    /// The trace database every interaction is written to, if any.
    pub traces_db: Option<PathBuf>,
    /// `vcr record --pending`: a cassette that existed before the run is written beside the
    /// original as `NAME.yaml.pending`, never over it.
    pub pending: bool,
    /// Where spans go, one per interaction (`--otlp-endpoint`, `OTEL_EXPORTER_OTLP_*`).
    pub otlp: Option<crate::telemetry::otlp::ExportConfig>,
}

/// A running proxy's shared state.
pub struct Proxy {
    config: ProxyConfig,
    cassettes: Arc<CassetteSet>,
    client: reqwest::Client,
    traces: Option<TraceWriter>,
    /// The span exporter, when spans are exported.
    otlp: Option<crate::telemetry::otlp::Exporter>,
    keys: keys::KeyCache,
    /// Request → what the policies made of it (a test suite sends the same requests again).
    policy_checks: keys::RequestCache<Result<policy::Checked, Box<crate::policy::Finding>>>,
    /// Request path → what the path alone decides (see [`KnownPath`]).
    paths: keys::PathCache<Arc<KnownPath>>,
    /// Cassettes whose load error was already printed.
    reported: Mutex<HashSet<CassetteName>>,
    /// Replay with the recorded timing instead of at once (`load --latency recorded`).
    recorded_latency: std::sync::atomic::AtomicBool,
    /// A journal write failed and was reported (once per run).
    journal_failed: std::sync::atomic::AtomicBool,
    /// The vault's originals, to serve replays as the client received them (with the key).
    revealer: Option<Arc<crate::sensitive::Revealer>>,
    /// A vault write failed and was reported (once per run).
    vault_failed: std::sync::atomic::AtomicBool,
    /// The serving process's stop: recorded streams end themselves at its drain deadline.
    lifecycle: Arc<crate::server::Lifecycle>,
    /// The cassette for requests without a header: `config.default_cassette` until the
    /// control API picks another (one per test).
    default_cassette: RwLock<CassetteName>,
    /// This run's replay misses, for the control API.
    misses: control::MissLog,
}

/// Per-cassette results of a run, for the summary and the exit code.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub cassettes: Vec<(String, Counts)>,
    pub unreadable: Vec<String>,
}

/// What became of this run's traces.
#[derive(Debug, Clone)]
pub struct TracesReport {
    pub db: PathBuf,
    pub report: WriterReport,
}

impl Summary {
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for (_, c) in &self.cassettes {
            total.recorded += c.recorded;
            total.replayed += c.replayed;
            total.missed += c.missed;
            total.incomplete += c.incomplete;
            total.aborted += c.aborted;
            total.upstream_errors += c.upstream_errors;
            total.blocked += c.blocked;
        }
        total
    }
}

impl Proxy {
    pub fn new(config: ProxyConfig) -> anyhow::Result<Arc<Proxy>> {
        let mut client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(config.upstream_timeout))
            .read_timeout(config.upstream_timeout)
            .redirect(reqwest::redirect::Policy::none());
        // SSL_CERT_FILE replaces the bundled roots (a TLS-inspecting proxy, a staging
        // upstream with a private CA), as it does for `traceforge load`.
        if let Some(path) = crate::tls::cert_file() {
            client = client.tls_built_in_root_certs(false);
            for der in crate::tls::pem_certificates(&path)? {
                client = client.add_root_certificate(reqwest::Certificate::from_der(&der)?);
            }
        }
        let client = client.build()?;
        let cassettes = Arc::new(CassetteSet::new(
            config.cassettes_dir.clone(),
            config.match_rules.clone(),
            config.mode != Mode::None,
        ));
        let kind = match config.mode {
            Mode::None => "replay",
            _ => "record",
        };
        let traces = match &config.traces_db {
            Some(db) => {
                crate::telemetry::metrics::global().watch_database(db.clone());
                Some(TraceWriter::spawn(db.clone(), kind)?)
            }
            None => None,
        };
        let otlp = match &config.otlp {
            Some(export) => Some(crate::telemetry::otlp::Exporter::spawn(export.clone())?),
            None => None,
        };
        let protector = config.redactor.protector();
        let revealer = match protector.key() {
            Some(key) => {
                let pairs = vault::open(&config.cassettes_dir, key)?;
                for (surrogate, original) in &pairs {
                    protector.learn(surrogate.clone(), original.clone());
                }
                Some(Arc::new(crate::sensitive::Revealer::new(pairs)))
            }
            None => None,
        };
        Ok(Arc::new(Proxy {
            default_cassette: RwLock::new(config.default_cassette.clone()),
            misses: control::MissLog::default(),
            config,
            cassettes,
            client,
            traces,
            otlp,
            keys: keys::KeyCache::default(),
            policy_checks: keys::RequestCache::default(),
            paths: keys::PathCache::default(),
            reported: Mutex::new(HashSet::new()),
            recorded_latency: std::sync::atomic::AtomicBool::new(false),
            journal_failed: std::sync::atomic::AtomicBool::new(false),
            revealer,
            vault_failed: std::sync::atomic::AtomicBool::new(false),
            lifecycle: Arc::default(),
        }))
    }

    /// Replays every hit with its recorded time to first byte and event offsets.
    pub fn replay_with_recorded_latency(&self, on: bool) {
        self.recorded_latency.store(on, Ordering::Relaxed);
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// The lifecycle to serve this proxy with ([`crate::server::Options::lifecycle`]).
    pub fn lifecycle(&self) -> Arc<crate::server::Lifecycle> {
        self.lifecycle.clone()
    }

    /// Opens every cassette up front (replay), printing any that cannot be read.
    pub fn preload(&self) -> anyhow::Result<usize> {
        for error in self.cassettes.preload()? {
            tracing::warn!(
                "{}; requests for that cassette will fail",
                crate::error_chain(&*error)
            );
        }
        if let Ok(mut reported) = self.reported.lock() {
            reported.extend(self.cassettes.failed().into_iter().map(|(name, _)| name));
        }
        Ok(self.cassettes.loaded_interactions())
    }

    /// The cassette requests without an `X-TraceForge-Cassette` header go to.
    pub fn default_cassette(&self) -> CassetteName {
        self.default_cassette
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Handles one client request. The work starts at the future's first poll, inside the
    /// request's telemetry scope (`telemetry::request::observe`). A request whose body came
    /// with its head and whose cassette is open, as nearly every replayed one, is answered
    /// there and then: its future holds the request and nothing more. The others go on in a
    /// boxed future of their own.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn's future keeps a copy of its arguments besides their moved-from \
                  originals (-Zprint-type-sizes); the block's holds them once"
    )]
    pub fn handle(
        self: Arc<Self>,
        request: http::Request<Incoming>,
    ) -> impl Future<Output = HttpResponse> + Send + 'static {
        async move {
            match self.start(request) {
                Answer::Now(response) => response,
                Answer::Later(later) => later.await,
            }
        }
    }

    /// Answers a request as far as it can without waiting.
    fn start(self: Arc<Self>, request: http::Request<Incoming>) -> Answer {
        if request.uri().path().starts_with(control::PREFIX) {
            return Answer::Later(Box::pin(control::handle(self, request)));
        }
        let path = request.uri().path();
        let known = self
            .paths
            .get(path, || Arc::new(KnownPath::new(&self.config, path)));
        let (session, cassette) = session_and_cassette(request.headers());
        // Metrics: one observation per request (see `observe`).
        let observed = observe::Observed::start(session);
        let cassette = cassette.cloned();
        // The log: what only the proxy knows about the request, for its one event.
        let mut fields = RequestFields {
            mode: Some(self.config.mode.name()),
            ..RequestFields::default()
        };
        let (parts, body) = request.into_parts();
        let begun = match self.begin(parts, cassette, &known, &mut fields) {
            Ok(begun) => begun,
            Err(response) => {
                return Answer::Now(self.finished(&known, observed, fields, *response));
            }
        };
        let mut body = BodyRead::new(body);
        let decided = match body.now() {
            Some(Err(status)) => Decided::Response(body_error(begun.provider, status)),
            Some(Ok(bytes)) => match self.cassettes.opened(&begun.name) {
                Some(opened) => self.proceed(begun, &known, bytes, opened, &mut fields),
                None => return self.later(known, observed, fields, begun, Some(bytes), body),
            },
            None => return self.later(known, observed, fields, begun, None, body),
        };
        match decided {
            Decided::Response(response) => {
                Answer::Now(self.finished(&known, observed, fields, response))
            }
            decided => Answer::Later(Box::pin(async move {
                let response = self.run(decided, &mut fields).await;
                self.finished(&known, observed, fields, response)
            })),
        }
    }

    /// The rest of [`Proxy::start`] for a request that waits: for the rest of its body
    /// (`read` is what had arrived, when all of it had) or for its cassette to load.
    fn later(
        self: Arc<Self>,
        known: Arc<KnownPath>,
        observed: observe::Observed,
        mut fields: RequestFields,
        begun: Begun,
        read: Option<Bytes>,
        body: BodyRead<Incoming>,
    ) -> Answer {
        crate::telemetry::request::note_so_far(&fields);
        Answer::Later(Box::pin(async move {
            let bytes = match read {
                Some(bytes) => Ok(bytes),
                None => body.rest(BODY_READ_TIMEOUT).await,
            };
            let decided = match bytes {
                Err(status) => Decided::Response(body_error(begun.provider, status)),
                Ok(bytes) => {
                    let opened = self.cassettes.open(&begun.name).await;
                    self.proceed(begun, &known, bytes, opened, &mut fields)
                }
            };
            let response = self.run(decided, &mut fields).await;
            self.finished(&known, observed, fields, response)
        }))
    }

    /// The answer [`Proxy::proceed`] decided on, once it is there.
    async fn run(self: &Arc<Self>, decided: Decided, fields: &mut RequestFields) -> HttpResponse {
        if !matches!(decided, Decided::Response(_)) {
            // A client that hangs up while this waits gets an event saying where it went.
            crate::telemetry::request::note_so_far(fields);
        }
        match decided {
            Decided::Response(response) => response,
            Decided::Paced(paced) => paced.await,
            Decided::Forward(cassette, forward) => {
                record::forward(self.clone(), cassette, *forward, fields).await
            }
        }
    }

    /// A request's response as the client gets it, once it is counted and its event noted.
    fn finished(
        &self,
        known: &KnownPath,
        observed: observe::Observed,
        fields: RequestFields,
        mut response: HttpResponse,
    ) -> HttpResponse {
        observed.finish(&known.metrics, response.status());
        crate::telemetry::request::note(fields);
        let disabled = self
            .config
            .policies
            .as_ref()
            .is_some_and(|e| e.enforcement() == crate::policy::enforce::Enforcement::Disabled);
        if disabled {
            response.headers_mut().insert(
                policy::POLICY_HEADER,
                http::HeaderValue::from_static("disabled"),
            );
        }
        response
    }

    /// Where a request goes and which cassette it uses, noting in `fields` what its log event
    /// shows; the answer instead when it can go nowhere.
    fn begin(
        &self,
        parts: http::request::Parts,
        cassette: Option<http::HeaderValue>,
        known: &KnownPath,
        fields: &mut RequestFields,
    ) -> Result<Begun, Box<HttpResponse>> {
        let id = crate::telemetry::request::current_id();
        let reported = crate::telemetry::request::reported();
        if reported {
            fields.path = Some(self.logged_path(known, parts.uri.path()));
        }
        if known.route.is_none() {
            return Err(Box::new(self.unknown_upstream(parts.uri.path())));
        }
        // Replay forwards nothing, so any upstream a cassette was recorded with is fine; the
        // matcher reports a wrong one as a difference.
        if self.config.mode != Mode::None && known.upstream.is_none() {
            return Err(Box::new(self.unknown_upstream(parts.uri.path())));
        }
        let provider = known.provider;
        if known.dot_segment {
            let message = format!(
                "traceforge: request path {:?} has a '.' or '..' segment (perhaps percent-encoded); \
                 such paths are refused so that no request can leave its upstream's base path",
                parts.uri.path()
            );
            return Err(Box::new(json_response(
                400,
                &provider.error_body(400, "traceforge_bad_request", &message),
            )));
        }
        if reported {
            fields.upstream = known.upstream.clone();
        }
        fields.provider = Some(provider.name());

        let name = match cassette {
            None => Ok(self.default_cassette()),
            Some(value) => CassetteName::parse(value.to_str().unwrap_or("\u{fffd}")),
        };
        let name = match name {
            Ok(name) => name,
            Err(e) => {
                let message = format!("traceforge: {CASSETTE_HEADER}: {e}");
                return Err(Box::new(json_response(
                    400,
                    &provider.error_body(400, "traceforge_bad_cassette", &message),
                )));
            }
        };
        Ok(Begun {
            parts,
            provider,
            name,
            id,
            reported,
        })
    }

    /// Answers a request whose body has arrived, from its cassette (`opened`): replayed,
    /// refused, or to be forwarded.
    fn proceed(
        self: &Arc<Self>,
        begun: Begun,
        known: &KnownPath,
        mut bytes: Bytes,
        opened: cassettes::Opened,
        fields: &mut RequestFields,
    ) -> Decided {
        let Begun {
            mut parts,
            provider,
            name,
            id,
            reported,
        } = begun;
        // `begin` let through only paths that route.
        let (upstream, rest) = known
            .route
            .as_ref()
            .map_or(("", "/"), |(u, r)| (&**u, &**r));
        let path: std::borrow::Cow<'_, str> = match parts.uri.query() {
            None => rest.into(),
            Some(query) => format!("{rest}?{query}").into(),
        };
        let path = &*path;
        let cassette = match opened {
            Ok(cassette) => cassette,
            Err(error) => {
                if reported {
                    fields.cassette = Some(name.to_string());
                }
                let first = self
                    .reported
                    .lock()
                    .map(|mut r| r.insert(name.clone()))
                    .unwrap_or(false);
                let error = crate::error_chain(&*error);
                if first {
                    tracing::error!(request_id = id.map(tracing::field::display), "{error}");
                }
                let message = format!("traceforge: cassette \"{name}\" cannot be read: {error}");
                return json_response(
                    500,
                    &provider.error_body(500, "traceforge_bad_cassette", &message),
                )
                .into();
            }
        };
        if reported {
            // Its own string: the cassette's shared label would be a reference count every
            // worker writes.
            fields.cassette = Some(name.into_string());
        }
        // A killed run's last recordings, recovered from its journal: their rows may never
        // have been written, and rows follow the cassette.
        if let Some(traces) = &self.traces {
            for interaction in cassette.take_recovered() {
                traces.send(Pending {
                    cassette: cassette.label.clone(),
                    interaction,
                    replayed_at: None,
                    replays: None,
                    replaces_cassette: false,
                });
            }
        }

        // Policies read the request as the client sent it; a blocked one goes nowhere.
        let mut decisions = Vec::new();
        // The organization and service the policies are chosen by (read once, for the
        // request's check and a replayed answer's).
        let scope_key: ScopeKey = match &self.config.policies {
            Some(_) => (
                policy::scope_header(&parts.headers, 0),
                policy::scope_header(&parts.headers, 1),
            ),
            None => (None, None),
        };
        if let Some(enforcer) = &self.config.policies {
            // What the check reads beyond method, path and body: the scope and the encoding
            // (most requests have none of them, and their key needs no formatting).
            let encoding = parts.headers.get(http::header::CONTENT_ENCODING);
            let extra = match (&scope_key, encoding) {
                ((None, None), None) => String::new(),
                ((organization, service), encoding) => format!(
                    "{}\0{}\0{}\0",
                    organization.as_deref().unwrap_or(""),
                    service.as_deref().unwrap_or(""),
                    encoding.map_or(std::borrow::Cow::Borrowed(""), |v| {
                        String::from_utf8_lossy(v.as_bytes())
                    })
                ),
            };
            let checked =
                self.policy_checks
                    .get(&parts.method, upstream, path, &bytes, &extra, || {
                        policy::check_request(
                            enforcer,
                            &parts.method,
                            upstream,
                            path,
                            &bytes,
                            &parts.headers,
                        )
                    });
            match checked {
                Err(block) => return self.blocked(&cassette, provider, &block, id, fields).into(),
                Ok(checked) => {
                    decisions = checked.decisions;
                    fields.policy = policy::strongest(&decisions).map(policy::logged_decision);
                    if let Some(body) = checked.body {
                        bytes = body;
                        parts.headers.remove(http::header::CONTENT_ENCODING);
                    }
                }
            }
        }

        let mode = self.config.mode;
        let replay_first = match mode {
            Mode::None | Mode::NewEpisodes => true,
            Mode::Once => cassette.existed,
            Mode::All => false,
        };
        let may_record = match mode {
            Mode::None => false,
            Mode::Once => !cassette.existed,
            Mode::NewEpisodes | Mode::All => true,
        };
        // The request as a cassette stores it, when the match key needed it first: protecting
        // a request is most of its cost, so it is done once.
        let mut protected = None;
        if replay_first {
            let key = cassette.with_rules(|rules| {
                self.keys
                    .key(&parts.method, upstream, path, &bytes, &rules.tag, || {
                        let stored = self.stored(path, &bytes, &parts.headers);
                        let key = rules
                            .rules
                            .key(stored_view(&parts.method, upstream, &stored));
                        protected = Some(stored);
                        key
                    })
            });
            // A hit is counted as replayed here, before the policies are applied: a replay
            // they cut or block is still a replay of the recording.
            let mut lookup = cassette.lookup(&key, self.config.allow_repeats);
            if let Lookup::Miss(Miss {
                exhausted: None, ..
            }) = lookup
            {
                let rules = cassette.rules();
                lookup = cassette.lookup_protected(&key, self.config.allow_repeats, |recorded| {
                    let mut request = recorded.request.clone();
                    self.config.redactor.request(&mut request, &mut Vec::new());
                    (request != recorded.request)
                        .then(|| rules.rules.key(RequestView::from(&request)))
                });
            }
            match lookup {
                Lookup::Hit(stored) => {
                    fields.matched = Some(Match::Hit);
                    // The span and the trace row are made from the interaction as stored,
                    // never from what the key reveals to the client below: the trace writer
                    // writes a replayed interaction's row when this run has none yet. The span
                    // goes out once the policies have let the answer through (changed or not):
                    // a replay they block answered nothing from the recording.
                    // (Numbered now: a blocked replay leaves a gap, which no id minds.)
                    let for_span = self
                        .otlp
                        .as_ref()
                        .map(|otlp| (otlp, stored.served.fetch_add(1, Ordering::Relaxed)));
                    let export = || {
                        if let Some((otlp, served)) = for_span {
                            otlp.offer(&cassette.label, &stored.interaction, Some(served));
                        }
                    };
                    if let Some(traces) = &self.traces {
                        // Under load, most replays only bump a counter the writer collects.
                        if stored.unsent_replays.fetch_add(1, Ordering::AcqRel) == 0 {
                            traces.send(Pending {
                                cassette: cassette.label.clone(),
                                interaction: stored.interaction.clone(),
                                replayed_at: Some(crate::cassette::now()),
                                replays: Some(stored.unsent_replays.clone()),
                                replaces_cassette: false,
                            });
                        }
                    }
                    let recorded: &Arc<cassettes::Recorded> = self
                        .revealer
                        .as_ref()
                        .and_then(|revealer| stored.revealed(revealer))
                        .unwrap_or(&stored);
                    observe::replayed_tokens(recorded);
                    // Replays meet the same policies as live answers.
                    if let Some(enforcer) = &self.config.policies {
                        // The answer is checked once per scope: the whole scope is read only
                        // for a check.
                        let outcome = recorded.policy_checked(scope_key, || {
                            let scope = policy::scope_of(&parts.headers);
                            let response = &recorded.interaction.response;
                            let decisions = enforcer.response_decisions(
                                response,
                                crate::provider::usage(response).as_ref(),
                                &scope,
                            );
                            let decision = policy::strongest(&decisions).cloned().map(Arc::new);
                            match policy::check_replayed(enforcer, response, &scope) {
                                Err(block) => PolicyOutcome::Blocked(block),
                                Ok(Some(response)) => {
                                    let mut interaction = (*recorded.interaction).clone();
                                    interaction.response = response;
                                    PolicyOutcome::Changed(
                                        Arc::new(cassettes::Recorded::new(Arc::new(interaction))),
                                        decision,
                                    )
                                }
                                Ok(None) => PolicyOutcome::Unchanged(decision),
                            }
                        });
                        let about_answer = match &outcome {
                            PolicyOutcome::Unchanged(decision)
                            | PolicyOutcome::Changed(_, decision) => decision.as_deref(),
                            PolicyOutcome::Blocked(_) => None,
                        };
                        if let Some(decision) = about_answer {
                            fields.policy = policy::strongest(decisions.iter().chain([decision]))
                                .map(policy::logged_decision);
                        }
                        match outcome {
                            PolicyOutcome::Blocked(block) => {
                                return self.blocked(&cassette, provider, &block, id, fields).into()
                            }
                            PolicyOutcome::Changed(checked, _) => {
                                export();
                                if self.recorded_latency.load(Ordering::Relaxed) {
                                    return Decided::Paced(Box::pin(async move {
                                        checked.rendered().paced(&checked.interaction).await
                                    }));
                                }
                                return checked.rendered().response().into();
                            }
                            PolicyOutcome::Unchanged(_) => {}
                        }
                    }
                    export();
                    if self.recorded_latency.load(Ordering::Relaxed) {
                        let recorded = recorded.clone();
                        return Decided::Paced(Box::pin(async move {
                            recorded.rendered().paced(&recorded.interaction).await
                        }));
                    }
                    return recorded.rendered().response().into();
                }
                Lookup::Miss(miss) if !may_record => {
                    fields.matched = Some(Match::Miss);
                    cassette.count(|c| c.missed += 1);
                    observe::replay_miss();
                    let reason = match mode {
                        Mode::Once => {
                            "mode `once` replays an existing cassette and records nothing new"
                        }
                        _ => "replay mode never forwards requests",
                    };
                    let stored = protected
                        .take()
                        .unwrap_or_else(|| self.stored(path, &bytes, &parts.headers));
                    let view = stored_view(&parts.method, upstream, &stored);
                    let (response, report) = replay::miss(
                        &cassette.rules().rules,
                        &cassette,
                        view,
                        &miss,
                        reason,
                        &self.config.redactor,
                        self.config.pii_note.as_deref(),
                    );
                    tracing::warn!(
                        target: REQUEST_TARGET,
                        request_id = id.map(tracing::field::display),
                        cassette = %cassette.name,
                        reason,
                        report = report.strip_prefix("traceforge: ").unwrap_or(&report),
                        "replay miss in cassette \"{}\"",
                        cassette.name
                    );
                    self.misses.push(&cassette.name, report);
                    return response.into();
                }
                Lookup::Miss(_) => {}
            }
        }
        fields.matched = Some(Match::Forwarded);
        let upstream_body = if self.config.pii_upstream {
            let encoding = header_text(&parts.headers, "content-encoding");
            self.config
                .redactor
                .pseudonymize_upstream(path, &bytes, encoding.as_deref())
        } else {
            None
        };
        let forward = record::Forward {
            upstream: upstream.to_string(),
            path: path.to_string(),
            protected,
            body: bytes,
            upstream_body,
            decisions,
            parts,
        };
        Decided::Forward(cassette, Box::new(forward))
    }

    /// The answer to traffic a policy blocked: counted for the summary and logged (policy,
    /// rule, entity and path; never the value).
    fn blocked(
        &self,
        cassette: &OpenCassette,
        provider: Provider,
        finding: &crate::policy::Finding,
        id: Option<RequestId>,
        fields: &mut RequestFields,
    ) -> HttpResponse {
        cassette.count(|c| c.blocked += 1);
        observe::violation(finding.severity.name(), finding.action.name());
        fields.policy = Some(policy::logged(finding));
        tracing::warn!(
            target: REQUEST_TARGET,
            request_id = id.map(tracing::field::display),
            cassette = %cassette.name,
            policy_id = %finding.policy,
            policy_rule = %finding.rule,
            "blocked by policy `{}` rule `{}` in cassette \"{}\": {} in {}",
            finding.policy,
            finding.rule,
            cassette.name,
            finding.entity,
            finding.path
        );
        policy::blocked(provider, finding)
    }

    /// The request's path as the log shows it: each segment protected as a cassette stores it,
    /// without the query string.
    fn logged_path(&self, known: &KnownPath, path: &str) -> Arc<str> {
        known
            .logged
            .get_or_init(|| {
                let (stored, _) =
                    self.config
                        .redactor
                        .stored_request(path, None, None, &mut Vec::new());
                Arc::from(stored)
            })
            .clone()
    }

    /// The request's path and body as a cassette stores them, secrets and PII protected, and
    /// the audit of what was replaced. Matching compares these forms, so a recorded secret or
    /// value never has to be known to replay.
    fn stored(&self, path: &str, bytes: &Bytes, headers: &http::HeaderMap) -> Protected {
        let body = (!bytes.is_empty()).then(|| Body::from_bytes(bytes));
        let encoding = header_text(headers, "content-encoding");
        let mut audit = Vec::new();
        let (path, body) =
            self.config
                .redactor
                .stored_request(path, body, encoding.as_deref(), &mut audit);
        (path, body, audit)
    }

    /// Writes the surrogates made since the last call to the vault: appended at once (so a
    /// kill keeps them), sorted into place when the run ends ([`Proxy::flush_all`]).
    fn save_vault(&self) {
        let fresh = self.config.redactor.protector().take_fresh();
        if fresh.is_empty() {
            return;
        }
        if let Err(error) = vault::append(&self.config.cassettes_dir, &fresh) {
            if !self.vault_failed.swap(true, Ordering::AcqRel) {
                tracing::error!(
                    "{}; pseudonymised values recorded now cannot be revealed",
                    crate::error_chain(&error)
                );
            }
        }
    }

    fn unknown_upstream(&self, path: &str) -> HttpResponse {
        let known: Vec<&str> = self.config.upstreams.keys().map(String::as_str).collect();
        let message = format!(
            "traceforge: no upstream for path {path:?}; requests must start with /<upstream>/, \
             known upstreams: {} (add one with --upstream NAME=URL)",
            known.join(", ")
        );
        json_response(
            404,
            &serde_json::json!({"error": {"message": message, "type": "traceforge_unknown_upstream", "param": null, "code": "traceforge_unknown_upstream"}}),
        )
    }

    /// Stores an interaction recorded by this run: appended to the cassette's journal before
    /// this returns (one `write` of a line of JSON: the only file I/O done on an async worker),
    /// so it survives a kill once its client has the response, then a write of the cassette is
    /// scheduled. Writes are
    /// coalesced: interactions finishing within [`FLUSH_DELAY`] of each other (longer for a
    /// large cassette, see [`flush_delay`]) share one atomic rewrite, so a burst of recordings
    /// does not rewrite the file per interaction.
    fn store(&self, cassette: Arc<OpenCassette>, interaction: crate::cassette::Interaction) {
        self.save_vault();
        observe::recorded(&interaction);
        let keep_old = self.config.mode.keeps_old();
        let pending = self.config.pending;
        let recording = cassette.record(interaction, keep_old, pending);
        if let Err(error) = recording.journaled {
            if !self.journal_failed.swap(true, Ordering::AcqRel) {
                tracing::warn!(
                    "{}; recordings reach the cassette at its next write, but a crash before \
                     then would lose them",
                    crate::error_chain(&error)
                );
            }
        }
        if let Some(otlp) = &self.otlp {
            otlp.offer(&cassette.label, &recording.interaction, None);
        }
        if let Some(traces) = &self.traces {
            traces.send(Pending {
                cassette: cassette.label.clone(),
                interaction: recording.interaction,
                replayed_at: None,
                replays: None,
                replaces_cassette: recording.replaces,
            });
        }
        if cassette.flush_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(async move {
            tokio::time::sleep(flush_delay(cassette.written_bytes())).await;
            // Cleared before the write snapshots the state: anything pushed after the
            // snapshot schedules the next write.
            cassette.flush_scheduled.store(false, Ordering::Release);
            match write_in_background(move || cassette.flush(keep_old, pending)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!("{}; will retry at the next write", crate::error_chain(&e))
                }
                Err(e) => tracing::error!("writing cassette failed: {e}"),
            }
        });
    }

    /// Writes every cassette with unwritten interactions; returns the errors.
    pub fn flush_all(&self) -> Vec<String> {
        let keep_old = self.config.mode.keeps_old();
        let mut errors: Vec<String> = self
            .cassettes
            .all()
            .iter()
            .filter_map(|c| {
                c.flush(keep_old, self.config.pending)
                    .and_then(|()| c.close_journal())
                    .err()
                    .map(|e| crate::error_chain(&e))
            })
            .collect();
        if self.config.mode != Mode::None {
            self.save_vault();
            if let Err(e) = vault::add(&self.config.cassettes_dir, Vec::new()) {
                errors.push(crate::error_chain(&e));
            }
        }
        errors
    }

    /// Writes the traces still queued and stops the trace writer.
    pub fn finish_traces(&self) -> Option<TracesReport> {
        let writer = self.traces.as_ref()?;
        Some(TracesReport {
            db: self.config.traces_db.clone().unwrap_or_default(),
            report: writer.finish(),
        })
    }

    /// Sends the spans still queued (within a short deadline) and stops the exporter.
    pub async fn finish_otlp(&self) -> Option<crate::telemetry::otlp::Report> {
        Some(self.otlp.as_ref()?.finish().await)
    }

    pub fn summary(&self) -> Summary {
        Summary {
            cassettes: self
                .cassettes
                .all()
                .iter()
                .map(|c| (c.name.to_string(), c.counts()))
                .filter(|(_, counts)| *counts != Counts::default())
                .collect(),
            unreadable: self
                .cassettes
                .failed()
                .iter()
                .map(|(_, e)| e.to_string())
                .collect(),
        }
    }
}

/// What a request's path alone decides, worked out at its first request (the proxy keeps one
/// per path): a request then looks its path up once instead of routing, detecting the provider,
/// checking the upstream and its segments, and finding its metrics series each time.
struct KnownPath {
    /// The upstream's name and the path below its prefix ([`route`]); `None` when the path
    /// names no upstream.
    route: Option<(Box<str>, Box<str>)>,
    /// The upstream's name, when it is a configured one.
    upstream: Option<Arc<str>>,
    provider: Provider,
    /// The path past the upstream has a `.` or `..` segment (see [`has_dot_segment`]).
    dot_segment: bool,
    metrics: observe::PathMetrics,
    /// The form the log shows (secrets and PII protected), made when first logged.
    logged: OnceLock<Arc<str>>,
}

impl KnownPath {
    fn new(config: &ProxyConfig, path: &str) -> KnownPath {
        let routed = route(path);
        let (upstream, rest) = routed.unwrap_or(("", "/"));
        let provider = Provider::detect(upstream, rest);
        KnownPath {
            route: routed.map(|(upstream, rest)| (upstream.into(), rest.into())),
            upstream: config
                .upstreams
                .contains_key(upstream)
                .then(|| Arc::from(upstream)),
            provider,
            dot_segment: has_dot_segment(rest),
            metrics: observe::PathMetrics::new(config.mode, upstream, provider),
            logged: OnceLock::new(),
        }
    }
}

/// Splits `/openai/v1/chat/completions` into `("openai", "/v1/chat/completions")`.
fn route(path: &str) -> Option<(&str, &str)> {
    let trimmed = path.strip_prefix('/')?;
    // A byte search: `find('/')` set up a char searcher for every request.
    let (upstream, rest) = match trimmed.bytes().position(|b| b == b'/') {
        Some(at) => (&trimmed[..at], &trimmed[at..]),
        None => (trimmed, "/"),
    };
    (!upstream.is_empty()).then_some((upstream, rest))
}

/// Whether `path` has a `.` or `..` segment. URL parsers resolve those against the upstream's
/// base path (`http://H/deployments/x` + `/../../admin` is `http://H/admin`), and they or the
/// upstream also read `%2e` as `.`, `\` as `/`, and `..;` as `..` (Tomcat and Spring), so a
/// segment counts after decoding `%2e`, `%2f` and `%5c` and dropping any `;` parameters. No API
/// path has such a segment.
fn has_dot_segment(path: &str) -> bool {
    // The usual path has neither, and is passed at the cost of one scan.
    if memchr::memchr2(b'.', b'%', path.as_bytes()).is_none() {
        return false;
    }
    let mut decoded = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        decoded.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or("");
        match escape.to_ascii_lowercase().as_str() {
            "%2e" => decoded.push('.'),
            "%2f" => decoded.push('/'),
            "%5c" => decoded.push('\\'),
            _ => {
                decoded.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    decoded.push_str(rest);
    decoded.split(['/', '\\']).any(|segment| {
        let segment = segment.split(';').next().unwrap_or(segment);
        segment == "." || segment == ".."
    })
}

/// How long a request body may pause between two pieces before the request is answered 408
/// (nginx's `client_body_timeout` does the same): a client that sends its headers and then
/// stalls must not hold a connection for ever.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The first values of a request's session and cassette headers. A request has few headers,
/// and these custom names are in few requests: one pass over the names costs less than two
/// lookups, which hash each name byte by byte.
fn session_and_cassette(
    headers: &http::HeaderMap,
) -> (Option<&http::HeaderValue>, Option<&http::HeaderValue>) {
    let session_name = &policy::SCOPE_HEADER_NAMES[2];
    if headers.len() > 16 {
        return (
            headers.get(session_name),
            headers.get(&CASSETTE_HEADER_NAME),
        );
    }
    let (mut session, mut cassette) = (None, None);
    for (name, value) in headers {
        if session.is_none() && name == session_name {
            session = Some(value);
        } else if cassette.is_none() && name == CASSETTE_HEADER_NAME {
            cassette = Some(value);
        }
    }
    (session, cassette)
}

/// The whole request body: at most [`MAX_REQUEST_BODY`] (else 413), no pause longer than
/// `idle` (else 408), unreadable 400.
async fn read_body<B>(body: B, idle: Duration) -> Result<Bytes, u16>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    BodyRead::new(body).rest(idle).await
}

/// A request body being read ([`read_body`]'s rules): what has arrived is taken without
/// waiting ([`BodyRead::now`]), the rest is waited for ([`BodyRead::rest`]).
struct BodyRead<B> {
    body: http_body_util::Limited<B>,
    /// The first frame's data, kept as it came while it is the only one (nearly every body
    /// comes in one): no copy, no allocation.
    first: Option<Bytes>,
    /// The data of a body in more than one frame.
    bytes: Vec<u8>,
}

impl<B> BodyRead<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn new(body: B) -> BodyRead<B> {
        BodyRead {
            body: http_body_util::Limited::new(body, MAX_REQUEST_BODY),
            first: None,
            bytes: Vec::new(),
        }
    }

    /// The body, if all of it has arrived (a small one comes with its request head, and its
    /// end right after); `None` while some is still to come.
    fn now(&mut self) -> Option<Result<Bytes, u16>> {
        loop {
            let next = futures_util::FutureExt::now_or_never(self.body.frame())?;
            if let Some(read) = self.take(next) {
                return Some(read);
            }
        }
    }

    /// The rest of the body; 408 when nothing arrives for `idle`.
    async fn rest(mut self, idle: Duration) -> Result<Bytes, u16> {
        loop {
            // What has arrived already is taken without arming a timer.
            if let Some(read) = self.now() {
                return read;
            }
            // Boxed, as only a slow body needs it: the timer would make every waiting
            // request's future larger.
            let next = match Box::pin(tokio::time::timeout(idle, self.body.frame())).await {
                Err(_) => return Err(408),
                Ok(next) => next,
            };
            if let Some(read) = self.take(next) {
                return read;
            }
        }
    }

    /// Adds a frame to the body; the body when it has ended, or the status that refuses it.
    fn take(
        &mut self,
        next: Option<Result<http_body::Frame<Bytes>, Box<dyn std::error::Error + Send + Sync>>>,
    ) -> Option<Result<Bytes, u16>> {
        match next {
            None => Some(Ok(match self.first.take() {
                Some(first) => first,
                None => Bytes::from(std::mem::take(&mut self.bytes)),
            })),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    return None;
                };
                if self.first.is_none() && self.bytes.is_empty() {
                    self.first = Some(data);
                } else {
                    if let Some(first) = self.first.take() {
                        self.bytes.extend_from_slice(&first);
                    }
                    self.bytes.extend_from_slice(&data);
                }
                None
            }
            Some(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Some(Err(413)),
            Some(Err(_)) => Some(Err(400)),
        }
    }
}

/// The answer to a request whose body could not be read ([`read_body`]'s status).
fn body_error(provider: Provider, status: u16) -> HttpResponse {
    let message = match status {
        413 => format!(
            "traceforge: request body larger than {} MiB",
            MAX_REQUEST_BODY / 1024 / 1024
        ),
        408 => format!(
            "traceforge: the request body stopped arriving (nothing for {} s)",
            BODY_READ_TIMEOUT.as_secs()
        ),
        _ => "traceforge: the request body could not be read".to_string(),
    };
    json_response(
        status,
        &provider.error_body(status, "traceforge_bad_request", &message),
    )
}

/// A request's answer, as far as [`Proxy::start`] got: the response, or the rest of the work.
enum Answer {
    Now(HttpResponse),
    Later(Pin<Box<dyn Future<Output = HttpResponse> + Send>>),
}

/// What [`Proxy::proceed`] answers a request with.
enum Decided {
    Response(HttpResponse),
    /// A replayed answer, paced as it was recorded (`--latency recorded`).
    Paced(Pin<Box<dyn Future<Output = HttpResponse> + Send>>),
    /// The upstream's answer, recorded into the cassette (boxed: the other answers are
    /// smaller by far).
    Forward(Arc<OpenCassette>, Box<record::Forward>),
}

impl From<HttpResponse> for Decided {
    fn from(response: HttpResponse) -> Decided {
        Decided::Response(response)
    }
}

/// A request with what [`Proxy::begin`] found out about it.
struct Begun {
    parts: http::request::Parts,
    provider: Provider,
    name: CassetteName,
    id: Option<RequestId>,
    /// Whether the request's event is logged.
    reported: bool,
}

/// An error in `provider`'s own shape that its SDKs do not retry (`x-should-retry: false`):
/// retrying cannot help (a policy's block, a proxy going away).
fn final_error(provider: Provider, status: u16, kind: &str, message: &str) -> HttpResponse {
    let mut response = json_response(status, &provider.error_body(status, kind, message));
    response
        .headers_mut()
        .insert("x-should-retry", http::HeaderValue::from_static("false"));
    response
}

/// A header's value as text, if it is there and is text.
fn header_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A request's path and body as a cassette stores them, and the audit of what protecting
/// them replaced.
pub(super) type Protected = (String, Option<Body>, Vec<crate::cassette::Redaction>);

/// A request in its stored form ([`Proxy::stored`]), as the matcher sees it.
fn stored_view<'a>(
    method: &'a http::Method,
    upstream: &'a str,
    (path, body, _): &'a Protected,
) -> RequestView<'a> {
    RequestView {
        method: method.as_str(),
        upstream,
        path,
        body: body.as_ref(),
    }
}

/// Runs a cassette write on a thread of its own at background priority: the journal already
/// holds every interaction it writes, so it can wait while requests are served beside it (on a
/// 2-core machine, rendering, copying and fsyncing a cassette of many megabytes held up the
/// requests beside it).
/// Not on tokio's blocking pool, whose threads could not be raised back afterwards.
async fn write_in_background<T: Send + 'static>(
    write: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("traceforge-cassette".into())
        .spawn(move || {
            crate::priority::background();
            let _ = done.send(write());
        })?;
    result
        .await
        .map_err(|_| std::io::Error::other("the cassette writer thread panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body that sends `first`, then nothing, and never ends.
    fn stalled_body(
        first: &'static [u8],
    ) -> impl http_body::Body<Data = Bytes, Error = std::io::Error> {
        use futures_util::StreamExt as _;
        let first: Result<_, std::io::Error> =
            Ok(http_body::Frame::data(Bytes::from_static(first)));
        let frames = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
        http_body_util::StreamBody::new(frames)
    }

    #[test]
    fn a_larger_cassette_is_rewritten_less_often() {
        assert_eq!(flush_delay(0), FLUSH_DELAY);
        assert_eq!(flush_delay(FLUSH_BYTES_PER_DELAY - 1), FLUSH_DELAY);
        assert_eq!(flush_delay(FLUSH_BYTES_PER_DELAY), 2 * FLUSH_DELAY);
        assert_eq!(flush_delay(15 << 20), 4 * FLUSH_DELAY);
        assert_eq!(flush_delay(u64::MAX), FLUSH_DELAY_MAX);
    }

    #[test]
    fn a_body_that_stops_arriving_is_answered_408_and_an_oversized_one_413() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let idle = Duration::from_millis(50);
        assert_eq!(
            rt.block_on(read_body(stalled_body(b"{\"model\""), idle)),
            Err(408)
        );
        let whole = http_body_util::Full::new(Bytes::from_static(b"{}"));
        assert_eq!(
            rt.block_on(read_body(whole, idle)),
            Ok(Bytes::from_static(b"{}"))
        );
        let huge = http_body_util::Full::new(Bytes::from(vec![b' '; MAX_REQUEST_BODY + 1]));
        assert_eq!(rt.block_on(read_body(huge, idle)), Err(413));
    }

    #[test]
    fn a_body_is_read_whole_whatever_its_frames_and_a_one_frame_body_is_not_copied() {
        fn frames(parts: &[&'static [u8]]) -> Vec<Result<http_body::Frame<Bytes>, std::io::Error>> {
            parts
                .iter()
                .map(|part| Ok(http_body::Frame::data(Bytes::from_static(part))))
                .collect()
        }
        let body =
            |parts| http_body_util::StreamBody::new(futures_util::stream::iter(frames(parts)));
        let whole = Bytes::from_static(b"{\"model\":1}");
        let mut read = BodyRead::new(body(&[b"{\"mo", b"del\":", b"1}"]));
        assert_eq!(read.now(), Some(Ok(whole.clone())));
        let one: &'static [u8] = b"{\"model\":1}";
        let mut read = BodyRead::new(body(&[one]));
        let read = read.now().expect("arrived").expect("read");
        assert_eq!(
            read.as_ptr(),
            one.as_ptr(),
            "the frame's own bytes, not a copy"
        );

        // Frames still to come: nothing now, the whole body once they are there.
        use futures_util::StreamExt as _;
        let later =
            futures_util::stream::iter(frames(&[b"{\"model\"", b":1}"])).then(|frame| async {
                tokio::task::yield_now().await;
                frame
            });
        let mut read = BodyRead::new(http_body_util::StreamBody::new(Box::pin(later)));
        assert_eq!(read.now(), None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(read.rest(Duration::from_secs(5))), Ok(whole));
    }

    #[test]
    fn the_session_and_cassette_headers_are_found_as_lookups_find_them() {
        let session = policy::SCOPE_HEADER_NAMES[2].clone();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        assert_eq!(session_and_cassette(&headers), (None, None));
        headers.append(CASSETTE_HEADER_NAME.clone(), "first".parse().unwrap());
        headers.append(&session, "s-1".parse().unwrap());
        headers.append(CASSETTE_HEADER_NAME.clone(), "second".parse().unwrap());
        headers.append(&session, "s-2".parse().unwrap());
        let found = |headers: &http::HeaderMap| {
            let (session, cassette) = session_and_cassette(headers);
            (session.cloned(), cassette.cloned())
        };
        let expected = (
            headers.get(&session).cloned(),
            headers.get(&CASSETTE_HEADER_NAME).cloned(),
        );
        assert_eq!(expected.0.as_ref().unwrap(), "s-1");
        assert_eq!(expected.1.as_ref().unwrap(), "first");
        assert_eq!(found(&headers), expected);
        // Past 16 values it looks them up instead: the same answer.
        for n in 0..20 {
            headers.append(http::header::ACCEPT, n.to_string().parse().unwrap());
        }
        assert!(headers.len() > 16);
        assert_eq!(found(&headers), expected);
    }

    #[test]
    fn routes_by_first_segment() {
        assert_eq!(route("/openai/v1/chat"), Some(("openai", "/v1/chat")));
        assert_eq!(route("/anthropic"), Some(("anthropic", "/")));
        assert_eq!(route("/"), None);
        assert_eq!(route("//x"), None);
    }

    #[test]
    fn dot_segments_are_found_however_they_are_spelled() {
        for bad in [
            "/..",
            "/../admin",
            "/v1/./models",
            "/v1/.",
            "/%2e%2e/admin",
            "/%2E./admin",
            "/.%2E",
            "/v1/..%2fadmin",
            "/v1/..%5Cadmin",
            "/v1\\..\\admin",
            "/..;/admin",
            "/.;x/admin",
        ] {
            assert!(has_dot_segment(bad), "{bad:?} was let through");
        }
        for ok in [
            "/",
            "/v1/chat/completions",
            "/v1/models/gpt-4.1",
            "/v1/.well-known/x",
            "/v1/...",
            "/v1/a..b",
            "/v1/%2e%2e%2e",
            "/v1/100%",
            "/v1/%",
            "/v1/%2",
            "/v1/%25",
        ] {
            assert!(!has_dot_segment(ok), "{ok:?} was refused");
        }
    }
}
