//! One event per server request, emitted when the response has ended: every server (proxy,
//! mock LLM) passes each request through [`observe`], which gives it an id (returned to the
//! client as `x-traceforge-request-id`), times it, and watches its body to the last byte, the
//! client's disconnect, or an upstream break. The handler adds what only it knows (upstream,
//! cassette, match, policy) as [`RequestFields`], given with [`note`].
//!
//! This is the one place a finished request is reported, so anything else that counts
//! requests belongs in [`Finished::report`]. It must never see a body, a header value or a
//! query string: the path it logs is the one the handler gives it, already protected.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::logs::{json_key, REQUEST_TARGET};

/// The response header that carries the request's id.
pub const REQUEST_ID_HEADER: &str = "x-traceforge-request-id";
pub(crate) static REQUEST_ID_NAME: http::HeaderName =
    http::HeaderName::from_static(REQUEST_ID_HEADER);

/// A request's id: 16 hex digits, unique within the process (a counter) and unlikely to repeat
/// across processes (it starts at a random value). Each thread takes 1,024 numbers of the
/// counter at a time, so threads answering requests side by side do not write one shared
/// counter per request (ids are unique, not in the order requests came). A client's own
/// `x-traceforge-request-id` is not taken over: a header value is the client's to fill, and it
/// would be logged as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

impl RequestId {
    /// The next id.
    pub fn next() -> RequestId {
        static START: OnceLock<u64> = OnceLock::new();
        static COUNT: AtomicU64 = AtomicU64::new(0);
        thread_local! {
            /// The thread's next number and the end of its block.
            static BLOCK: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
        }
        let start = *START.get_or_init(random_start);
        let number = BLOCK.with(|block| {
            let (mut next, mut end) = block.get();
            if next == end {
                next = COUNT.fetch_add(ID_BLOCK, Ordering::Relaxed);
                end = next.wrapping_add(ID_BLOCK);
            }
            block.set((next.wrapping_add(1), end));
            next
        });
        RequestId(start.wrapping_add(number))
    }

    fn header_value(self) -> http::HeaderValue {
        // 16 hex digits are always a valid header value.
        http::HeaderValue::from_bytes(&self.digits())
            .unwrap_or_else(|_| http::HeaderValue::from_static("0"))
    }

    /// The id's 16 lowercase hex digits, without `fmt` (this runs twice per request).
    fn digits(self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, digit) in out.iter_mut().enumerate() {
            *digit = HEX[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        out
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::str::from_utf8(&self.digits()).unwrap_or_default())
    }
}

/// How many ids a thread takes from the process's counter at a time.
const ID_BLOCK: u64 = 1024;

fn random_start() -> u64 {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// How a request met its cassette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Answered from the cassette.
    Hit,
    /// Not in the cassette, and this mode does not forward: answered with the miss error.
    Miss,
    /// Forwarded to the upstream (a miss that records, or mode `all`).
    Forwarded,
}

impl Match {
    pub fn name(self) -> &'static str {
        match self {
            Match::Hit => "hit",
            Match::Miss => "miss",
            Match::Forwarded => "forwarded",
        }
    }

    /// The event's `match` field as JSON (a test holds it to [`Match::name`]).
    fn json(self) -> &'static str {
        match self {
            Match::Hit => r#","match":"hit""#,
            Match::Miss => r#","match":"miss""#,
            Match::Forwarded => r#","match":"forwarded""#,
        }
    }
}

/// A policy decision about a request: which policy and rule, and what was done. Never what
/// the rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyField {
    pub policy: String,
    pub rule: String,
    /// `block`, `redact` or `warn`.
    pub action: String,
}

/// What a handler knows about a request that the server does not, given with [`note`]. Every field is optional: a request refused before its upstream was known has
/// none.
#[derive(Debug, Clone, Default)]
pub struct RequestFields {
    /// The vcr record mode (`once`, `new-episodes`, `all`, `none`), or `mock`.
    pub mode: Option<&'static str>,
    /// A configured upstream's name.
    pub upstream: Option<Arc<str>>,
    /// `openai` or `anthropic`.
    pub provider: Option<&'static str>,
    pub cassette: Option<String>,
    /// The path as stored (protected), without its query string.
    pub path: Option<Arc<str>>,
    pub matched: Option<Match>,
    pub policy: Option<PolicyField>,
    /// The decision known only once the response has ended (the policies' verdict on a
    /// streamed or relayed answer), set by whoever sends the body before it ends. When set,
    /// it is the request's decision: it was made with the request's decisions in view.
    pub late_policy: Option<Arc<OnceLock<PolicyField>>>,
    /// The upstream failed (unreachable, timed out, broke off): the outcome is `upstream-error`
    /// even though the client got a whole (error) response.
    pub upstream_failed: bool,
}

impl RequestFields {
    /// The policy decision the request's event shows.
    fn decision(&self) -> Option<&PolicyField> {
        self.late_policy
            .as_deref()
            .and_then(OnceLock::get)
            .or(self.policy.as_ref())
    }
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The client got the whole response.
    Complete,
    /// The client went away first.
    ClientGone,
    /// The upstream failed: before its answer (the client got an error) or in the middle of
    /// it (the client's connection was aborted).
    UpstreamError,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::ClientGone => "client-gone",
            Outcome::UpstreamError => "upstream-error",
        }
    }

    /// The event's `outcome` field as JSON (a test holds it to [`Outcome::name`]).
    fn json(self) -> &'static str {
        match self {
            Outcome::Complete => r#","outcome":"complete""#,
            Outcome::ClientGone => r#","outcome":"client-gone""#,
            Outcome::UpstreamError => r#","outcome":"upstream-error""#,
        }
    }
}

/// Whether finished requests are reported at all (the event passes the log filter). Checked
/// once per request, so a server whose log is at `warn` pays for an id and nothing else.
pub fn reported() -> bool {
    super::logs::request_events()
        .unwrap_or_else(|| tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO))
}

tokio::task_local! {
    /// The request the task is answering: its id, and what the handler notes about it. A
    /// task-local rather than request and response extensions: each of those cost a request
    /// three allocations.
    static CURRENT: RefCell<Current>;
}

/// Kept small: the task-local moves it in and out of its slot at every poll.
struct Current {
    id: RequestId,
    /// When the request's head had arrived: its event's and its metrics' start.
    started: Instant,
    /// The request's event while the handler runs (`None`: it is not reported), where
    /// [`note`] puts the fields; then the response body's [`Watch`] holds it.
    finished: Option<Box<Finished>>,
}

impl Drop for Current {
    /// The handler's future was dropped before it answered: the client went away.
    fn drop(&mut self) {
        if let Some(finished) = self.finished.take() {
            finished.report(Outcome::ClientGone, Instant::now());
        }
    }
}

/// The id of the request the calling task is answering; `None` outside [`observe`].
pub fn current_id() -> Option<RequestId> {
    CURRENT.try_with(|current| current.borrow().id).ok()
}

/// When the request the calling task is answering began, as its event times it: a handler
/// that times the request too starts from the same reading instead of another clock read.
/// `None` outside [`observe`].
pub fn current_started() -> Option<Instant> {
    CURRENT.try_with(|current| current.borrow().started).ok()
}

/// Gives the request the calling task is answering what only the handler knows, for its
/// event. Outside [`observe`] it goes nowhere.
pub fn note(fields: RequestFields) {
    reported_request(|finished| finished.fields = fields);
}

/// [`note`] of what is known so far, for a handler about to wait (for the upstream, the rest
/// of the body, a cassette): a client that hangs up meanwhile gets an event that says where
/// its request was going. Copies nothing when the request is not reported.
pub fn note_so_far(fields: &RequestFields) {
    reported_request(|finished| finished.fields = fields.clone());
}

/// Runs `change` on the event of the request the calling task is answering, if it is reported.
fn reported_request(change: impl FnOnce(&mut Finished)) {
    let _ = CURRENT.try_with(|current| {
        if let Some(finished) = &mut current.borrow_mut().finished {
            change(finished);
        }
    });
}

/// Runs `handler` for `request` and watches its response: the id is the task's while the
/// handler's future runs ([`current_id`], for the handler's own notes) and goes into the
/// response's headers; the event is emitted when the response body ends or is dropped.
pub fn observe<H, F, B>(
    request: http::Request<hyper::body::Incoming>,
    handler: &H,
) -> impl Future<Output = http::Response<Observed<B>>> + Send + 'static
where
    H: Fn(http::Request<hyper::body::Incoming>) -> F,
    F: Future<Output = http::Response<B>> + Send + 'static,
    B: Body + Unpin + Send + 'static,
{
    let id = RequestId::next();
    let started = Instant::now();
    // Boxed: the body that carries it is moved around by hyper, and stays small this way.
    let finished = reported().then(|| {
        Box::new(Finished {
            id,
            started,
            method: request.method().clone(),
            status: None,
            ttfb: None,
            fields: RequestFields::default(),
            empty_body: false,
            outcome: Outcome::Complete,
            ended: started,
        })
    });
    // Boxed at once: a handler's future holds at least the request (264 bytes; a handler that
    // awaits may hold much more), and it would be moved into each future wrapping it here,
    // then several times by hyper.
    let handled = Box::pin(handler(request));
    let current = RefCell::new(Current {
        id,
        started,
        finished,
    });
    let answer = CURRENT.scope(current, async move {
        let response = handled.await;
        let finished = CURRENT.with(|current| current.borrow_mut().finished.take());
        (response, finished)
    });
    async move {
        let (mut response, finished) = answer.await;
        let mut watch = Watch(finished);
        response
            .headers_mut()
            .insert(REQUEST_ID_NAME.clone(), id.header_value());
        if let Some(finished) = &mut watch.0 {
            finished.status = Some(response.status().as_u16());
            finished.empty_body = response.body().is_end_stream();
        }
        response.map(|inner| Observed { inner, watch })
    }
}

/// A request being watched until its response ends; reported when dropped unreported (the
/// client went away before the response or its body ended).
struct Watch(Option<Box<Finished>>);

impl Watch {
    /// Reports the request as ended now.
    fn finish(&mut self, outcome: Outcome) {
        if self.0.is_some() {
            self.finish_at(outcome, Instant::now());
        }
    }

    /// Reports the request as ended at `ended` (a clock reading the caller already has).
    fn finish_at(&mut self, outcome: Outcome, ended: Instant) {
        if let Some(finished) = self.0.take() {
            finished.report(outcome, ended);
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.finish(Outcome::ClientGone);
    }
}

/// A response body that reports its request when it ends.
#[derive(Debug)]
pub struct Observed<B> {
    inner: B,
    watch: Watch,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Watch").field(&self.0.is_some()).finish()
    }
}

impl<B> Observed<B> {
    /// A body no event is reported for (the operations endpoints').
    pub fn unobserved(inner: B) -> Observed<B> {
        Observed {
            inner,
            watch: Watch(None),
        }
    }
}

impl<B> Body for Observed<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(finished) = &mut this.watch.0 {
            match &poll {
                Poll::Ready(Some(Ok(_))) => {
                    // One clock reading for the first byte and the end: an answer in one
                    // frame (every non-streamed one) ends as its first byte goes out.
                    let last = this.inner.is_end_stream();
                    if finished.ttfb.is_none() || last {
                        let now = Instant::now();
                        finished
                            .ttfb
                            .get_or_insert(now.saturating_duration_since(finished.started));
                        if last {
                            this.watch.finish_at(Outcome::Complete, now);
                        }
                    }
                }
                Poll::Ready(Some(Err(_))) => this.watch.finish(Outcome::UpstreamError),
                Poll::Ready(None) => this.watch.finish(Outcome::Complete),
                Poll::Pending => {}
            }
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Observed<B> {
    fn drop(&mut self) {
        // An empty body is never polled: hyper drops it once the head is written.
        if self.watch.0.as_ref().is_some_and(|f| f.empty_body) {
            self.watch.finish(Outcome::Complete);
        }
    }
}

/// A finished request, ready to be reported.
#[derive(Debug)]
pub struct Finished {
    pub id: RequestId,
    pub started: Instant,
    pub method: http::Method,
    /// `None` when the client went away before the response started.
    pub status: Option<u16>,
    /// Time to the first byte of the response body handed to the client.
    pub ttfb: Option<Duration>,
    pub fields: RequestFields,
    /// The response had no body to send.
    empty_body: bool,
    /// How and when it ended, once reported: what its deferred JSON line shows.
    outcome: Outcome,
    ended: Instant,
}

impl Finished {
    /// Emits the request's event (target [`REQUEST_TARGET`], level info). A JSON log gets
    /// the same object ([`super::logs::JsonLine`]), formatted by the log's writer thread
    /// ([`super::logs::defer`]); the filter was asked when the request began ([`reported`]).
    /// `ended`: when the response ended.
    pub fn report(mut self: Box<Self>, outcome: Outcome, ended: Instant) {
        self.outcome = match outcome {
            Outcome::Complete if self.fields.upstream_failed => Outcome::UpstreamError,
            other => other,
        };
        self.ended = ended;
        match super::logs::json_installed() {
            true => super::logs::defer(self),
            false => self.event(self.outcome, ended.saturating_duration_since(self.started)),
        }
    }

    fn event(&self, outcome: Outcome, duration: Duration) {
        let fields = &self.fields;
        let policy = fields.decision();
        let id = self.id.digits();
        tracing::info!(
            target: REQUEST_TARGET,
            request_id = std::str::from_utf8(&id).unwrap_or_default(),
            method = self.method.as_str(),
            path = fields.path.as_deref(),
            upstream = fields.upstream.as_deref(),
            provider = fields.provider,
            mode = fields.mode,
            cassette = fields.cassette.as_deref(),
            "match" = fields.matched.map(Match::name),
            status = self.status,
            outcome = outcome.name(),
            duration_ms = millis(duration),
            ttfb_ms = self.ttfb.map(millis),
            policy_action = policy.map(|p| p.action.as_str()),
            policy_id = policy.map(|p| p.policy.as_str()),
            policy_rule = policy.map(|p| p.rule.as_str()),
            "request"
        );
    }

    /// [`Finished::event`] as a JSON line: the same fields in the same order. Its timestamp
    /// is `ended`'s.
    fn json(&self, outcome: Outcome, duration: Duration, ended: Instant) -> super::logs::JsonLine {
        let fields = &self.fields;
        let policy = fields.decision();
        let mut line = super::logs::JsonLine::with_head(REQUEST_HEAD, ended);
        let mut id = *b",\"request_id\":\"0000000000000000\"";
        id[15..31].copy_from_slice(&self.id.digits());
        line.raw(std::str::from_utf8(&id).unwrap_or_default());
        ROUTE.with(|route| line.raw(route.borrow_mut().json(&self.method, fields)));
        line.raw(fields.matched.map_or("", Match::json))
            .u64(json_key!("status"), self.status.map(u64::from))
            .raw(outcome.json())
            .millis(json_key!("duration_ms"), Some(duration))
            .millis(json_key!("ttfb_ms"), self.ttfb)
            .str(
                json_key!("policy_action"),
                policy.map(|p| p.action.as_str()),
            )
            .str(json_key!("policy_id"), policy.map(|p| p.policy.as_str()))
            .str(json_key!("policy_rule"), policy.map(|p| p.rule.as_str()));
        line
    }
}

impl super::logs::Deferred for Finished {
    fn line(self: Box<Self>) -> super::logs::JsonLine {
        let duration = self.ended.saturating_duration_since(self.started);
        self.json(self.outcome, duration, self.ended)
    }
}

thread_local! {
    /// The thread's last route, for request events' JSON lines.
    static ROUTE: RefCell<RouteJson> = RefCell::new(RouteJson::default());
}

/// The fields of a request's event that every request to one route shares — method, path,
/// upstream, provider, mode and cassette — as the JSON of the last route the thread reported:
/// a server answering one route again and again writes them with one copy, not two dozen
/// small ones and three escape checks.
#[derive(Default)]
struct RouteJson {
    method: Option<http::Method>,
    path: Option<Arc<str>>,
    upstream: Option<Arc<str>>,
    provider: Option<&'static str>,
    mode: Option<&'static str>,
    cassette: Option<String>,
    json: String,
}

impl RouteJson {
    /// The JSON of the fields of a request to this route, `,"method":…` up to the cassette.
    fn json(&mut self, method: &http::Method, fields: &RequestFields) -> &str {
        let same = self.method.as_ref() == Some(method)
            && same_text(&self.path, &fields.path)
            && same_text(&self.upstream, &fields.upstream)
            && self.provider == fields.provider
            && self.mode == fields.mode
            && self.cassette == fields.cassette;
        if !same {
            let mut json = super::logs::JsonLine::fields();
            json.name(json_key!("method"), Some(method.as_str()))
                .str(json_key!("path"), fields.path.as_deref())
                .str(json_key!("upstream"), fields.upstream.as_deref())
                .name(json_key!("provider"), fields.provider)
                .name(json_key!("mode"), fields.mode)
                .str(json_key!("cassette"), fields.cassette.as_deref());
            *self = RouteJson {
                method: Some(method.clone()),
                path: fields.path.clone(),
                upstream: fields.upstream.clone(),
                provider: fields.provider,
                mode: fields.mode,
                cassette: fields.cassette.clone(),
                json: json.into_fields(),
            };
        }
        &self.json
    }
}

/// Whether two shared strings are equal, by address first (`Arc<str>`'s `==` compares the
/// text every time: its shortcut is for sized values only).
fn same_text(a: &Option<Arc<str>>, b: &Option<Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// What a request event's JSON line holds after its timestamp: always the same.
const REQUEST_HEAD: &str =
    ",\"level\":\"INFO\",\"target\":\"traceforge::request\",\"message\":\"request\"";

/// Milliseconds with microsecond precision.
fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::logs::{capture, LogFormat};

    #[test]
    fn an_id_is_sixteen_lowercase_hex_digits_in_the_header_and_the_text() {
        for n in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            let id = RequestId(n);
            assert_eq!(id.to_string(), format!("{n:016x}"));
            assert_eq!(id.header_value(), format!("{n:016x}").as_str());
        }
    }

    #[test]
    fn ids_are_unique_across_threads_taking_blocks_of_them() {
        let ids: Vec<Vec<RequestId>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..3 * ID_BLOCK as usize)
                            .map(|_| RequestId::next())
                            .collect()
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let all: std::collections::HashSet<RequestId> = ids.iter().flatten().copied().collect();
        assert_eq!(all.len(), 4 * 3 * ID_BLOCK as usize);
        // Within a thread, a block's ids follow one another.
        assert_eq!(ids[0][1].0, ids[0][0].0.wrapping_add(1));
    }

    fn finished(fields: RequestFields, status: Option<u16>, ttfb: Option<Duration>) -> Finished {
        let started = Instant::now();
        Finished {
            id: RequestId(0x0123_4567_89ab_cdef),
            started,
            method: http::Method::POST,
            status,
            ttfb,
            fields,
            empty_body: false,
            outcome: Outcome::Complete,
            ended: started,
        }
    }

    #[test]
    fn the_request_events_fixed_head_is_what_a_line_of_its_level_target_and_message_has() {
        let line = |built: super::super::logs::JsonLine| {
            let line = built.finish();
            line[line.find("\",").unwrap()..].to_string()
        };
        assert_eq!(
            line(super::super::logs::JsonLine::with_head(
                REQUEST_HEAD,
                Instant::now()
            )),
            line(super::super::logs::JsonLine::new(
                tracing::Level::INFO,
                REQUEST_TARGET,
                "request"
            ))
        );
    }

    /// The direct JSON line and the event through tracing's JSON layer give the same object
    /// (but the timestamp), with every field and with none.
    #[test]
    fn the_direct_json_line_is_the_events_line() {
        let full = RequestFields {
            mode: Some("none"),
            upstream: Some("openai".into()),
            provider: Some("openai"),
            cassette: Some("my \"tests\"\n".into()),
            path: Some("/openai/v1/chat/completions".into()),
            matched: Some(Match::Hit),
            policy: Some(PolicyField {
                policy: "acme".into(),
                rule: "no-\\pii".into(),
                action: "warn".into(),
            }),
            // Set once the answer has ended: it is the decision shown.
            late_policy: Some(Arc::new(OnceLock::from(PolicyField {
                policy: "acme".into(),
                rule: "no-\\names".into(),
                action: "redact".into(),
            }))),
            upstream_failed: false,
        };
        let durations = [
            0,
            1,
            10,
            999,
            1000,
            1001,
            1500,
            12_340,
            285_000,
            3_600_000_123,
        ];
        // Routes that differ from the full one in one field each: the thread's route JSON is
        // made again whenever one of them changes.
        let mut routes = vec![(http::Method::POST, full.clone())];
        let changes: [fn(&mut RequestFields); 6] = [
            |f| f.path = Some("/anthropic/v1/messages".into()),
            |f| f.upstream = Some("dead".into()),
            |f| f.provider = Some("anthropic"),
            |f| f.mode = Some("all"),
            |f| f.cassette = None,
            |f| f.path = None,
        ];
        // Each after the full one, so that each differs from the last in one field.
        for change in changes {
            let mut fields = full.clone();
            change(&mut fields);
            routes.push((http::Method::POST, fields));
            routes.push((http::Method::POST, full.clone()));
        }
        routes.push((http::Method::GET, full.clone()));
        routes.push((http::Method::POST, full));
        routes.push((http::Method::POST, RequestFields::default()));
        for (n, (method, fields)) in routes.into_iter().enumerate() {
            let (status, ttfb) = match n {
                0 => (Some(200), Some(Duration::from_micros(402))),
                _ => (None, None),
            };
            let mut finished = finished(fields, status, ttfb);
            finished.method = method;
            for (i, micros) in durations.into_iter().enumerate() {
                let duration = Duration::from_micros(micros) + Duration::from_nanos(999);
                let outcome = [
                    Outcome::Complete,
                    Outcome::ClientGone,
                    Outcome::UpstreamError,
                ][i % 3];
                finished.fields.matched = [
                    None,
                    Some(Match::Hit),
                    Some(Match::Miss),
                    Some(Match::Forwarded),
                ][(i + n) % 4];
                let via_tracing = capture(LogFormat::Json, "info", || {
                    finished.event(outcome, duration)
                });
                let direct = finished.json(outcome, duration, Instant::now()).finish();
                assert!(direct.ends_with("}\n") && !direct.trim_end().contains('\n'));
                let parse = |line: &str| {
                    let mut object: serde_json::Value = serde_json::from_str(line).unwrap();
                    object.as_object_mut().unwrap().remove("timestamp").unwrap();
                    object
                };
                let (direct, via_tracing) = (parse(&direct), parse(&via_tracing[0]));
                assert_eq!(direct, via_tracing);
                // The same keys in the same order, not only the same map.
                assert_eq!(direct.to_string(), via_tracing.to_string());
                assert_eq!(direct["duration_ms"].as_f64(), Some(micros as f64 / 1000.0));
                assert_eq!(direct["outcome"], outcome.name());
                if n == 0 {
                    assert_eq!(direct["policy_action"], "redact");
                    assert_eq!(direct["policy_rule"], "no-\\names");
                }
            }
        }
        for m in [Match::Hit, Match::Miss, Match::Forwarded] {
            assert_eq!(m.json(), format!(",\"match\":\"{}\"", m.name()));
        }
        for o in [
            Outcome::Complete,
            Outcome::ClientGone,
            Outcome::UpstreamError,
        ] {
            assert_eq!(o.json(), format!(",\"outcome\":\"{}\"", o.name()));
        }
    }
}
