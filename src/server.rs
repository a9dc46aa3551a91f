//! The HTTP/1.1 server loop shared by the proxy and the mock LLM: bind, announce the bound
//! address, serve until the shutdown future resolves, then drain in-flight requests.
//! Also the one response body type both use: whole bytes, or a channel fed as data arrives,
//! and the operations endpoints every server answers itself under [`OPS_PREFIX`]
//! (`livez`, `readyz`, `metrics`) before its handler sees a request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

mod timer;

/// How long a stop waits for in-flight requests (a stream still being recorded, say) unless
/// told otherwise (`--drain-timeout`).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// After the drain deadline, how long the requests still open get to end themselves (a
/// recorded stream is cut and stored as incomplete) before their connections are dropped.
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// The path prefix traceforge answers itself on every server; no upstream is reached
/// through it.
pub const OPS_PREFIX: &str = "/_traceforge/";

/// The part of [`OPS_PREFIX`] left to the server's handler: the proxy's control API
/// (`crate::proxy::control`), versioned so the operations endpoints never collide with it.
pub const HANDLER_PREFIX: &str = "/_traceforge/v1/";

/// How long a client may take to send a request's headers (see [`Limits::header_read`]).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What a client may hold open. Each connection costs a file descriptor, so a client that
/// never finishes its headers must not keep one forever: under the usual 1,024-descriptor
/// limit, a thousand of them would leave the server unable to accept anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a request's headers may take to arrive, counted from when the server starts
    /// waiting for them: from the connection's start, and on a kept-alive connection from the
    /// end of the previous response (so it is also the idle keep-alive timeout). A connection
    /// that runs out of it is closed without an answer, within 50 ms of its deadline.
    /// Bodies and streamed responses are not limited by it.
    pub header_read: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: HEADER_READ_TIMEOUT,
        }
    }
}

/// A response body: complete bytes, or chunks sent through a channel as they are produced.
/// When the client goes away hyper drops the body, so the sender sees a closed channel.
#[derive(Debug)]
pub enum ResponseBody {
    Full(Option<Bytes>),
    Channel(mpsc::Receiver<Bytes>),
    /// Like `Channel`, but an `Err` aborts the connection so the client sees the failure
    /// instead of a body that merely looks short (a proxied upstream that broke mid-body).
    Fallible(mpsc::Receiver<std::io::Result<Bytes>>),
}

impl ResponseBody {
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        ResponseBody::Full(Some(bytes.into()))
    }

    pub fn empty() -> Self {
        ResponseBody::Full(None)
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::io::Result<Frame<Bytes>>>> {
        match self.get_mut() {
            ResponseBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ResponseBody::Channel(rx) => rx
                .poll_recv(cx)
                .map(|chunk| chunk.map(|b| Ok(Frame::data(b)))),
            ResponseBody::Fallible(rx) => rx
                .poll_recv(cx)
                .map(|chunk| chunk.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ResponseBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            ResponseBody::Full(None) => SizeHint::with_exact(0),
            ResponseBody::Channel(_) | ResponseBody::Fallible(_) => SizeHint::default(),
        }
    }
}

pub type HttpResponse = http::Response<ResponseBody>;

/// A JSON response with the given status.
pub fn json_response(status: u16, value: &serde_json::Value) -> HttpResponse {
    let mut response = http::Response::new(ResponseBody::full(value.to_string()));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Raises this process's soft limit on open files to its hard limit, as Go programs do at
/// start: a server holds a descriptor per connection, and the soft limit most shells start with
/// (1,024) lets a thousand idle clients starve everyone else until their header timeout, while
/// the hard limit is usually far higher. Best effort: a limit that cannot be raised stays.
pub fn raise_open_files_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{flag} {addr}: cannot listen there")]
    Bind {
        flag: &'static str,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{flag} {path}: cannot write it")]
    ReadyFile {
        flag: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Binds `addr` (for example `127.0.0.1:0`), given with `--listen`.
pub async fn bind(addr: &str) -> Result<TcpListener, ServerError> {
    bind_flag("--listen", addr).await
}

/// Binds `addr`, naming `flag` in the error.
pub async fn bind_flag(flag: &'static str, addr: &str) -> Result<TcpListener, ServerError> {
    let error = |source| ServerError::Bind {
        flag,
        addr: addr.to_string(),
        source,
    };
    let parsed: SocketAddr = addr.parse().map_err(|_| {
        error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "expected HOST:PORT with a numeric IP, e.g. 127.0.0.1:8080",
        ))
    })?;
    TcpListener::bind(parsed).await.map_err(error)
}

/// Writes the bound address to the ready file (atomically, so a watcher never reads half).
pub fn announce(ready_file: Option<&Path>, addr: SocketAddr) -> Result<(), ServerError> {
    announce_flag("--ready-file", ready_file, addr)
}

/// [`announce`], naming `flag` in the error.
pub fn announce_flag(
    flag: &'static str,
    ready_file: Option<&Path>,
    addr: SocketAddr,
) -> Result<(), ServerError> {
    let Some(path) = ready_file else {
        return Ok(());
    };
    crate::cassette::files::write_atomically(path, addr.to_string().as_bytes()).map_err(|e| {
        ServerError::ReadyFile {
            flag,
            path: path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        }
    })
}

/// Where a server's process stands, shared by its listeners and by the work its requests
/// start: ready until the first shutdown signal ([`Lifecycle::begin_drain`]: `readyz` turns
/// 503), then draining until the drain deadline, when the work still running (a recorded
/// stream) is told to end itself ([`Lifecycle::deadline`]).
#[derive(Debug)]
pub struct Lifecycle {
    ready: AtomicBool,
    /// A server has begun its stop (closed its listener).
    stopping: AtomicBool,
    deadline: watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            ready: AtomicBool::new(true),
            stopping: AtomicBool::new(false),
            deadline: watch::Sender::new(false),
        }
    }
}

impl Lifecycle {
    /// `readyz` answers 503 from now on.
    pub fn begin_drain(&self) {
        self.ready.store(false, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Whether a server of this lifecycle has begun its stop.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    fn pass_deadline(&self) {
        self.begin_drain();
        self.deadline.send_replace(true);
    }

    /// Resolves once the drain deadline has passed (never, while the server serves).
    pub fn deadline(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut passed = self.deadline.subscribe();
        async move {
            // The sender lives as long as the lifecycle; if it is gone, so is the server.
            let _ = passed.wait_for(|passed| *passed).await;
        }
    }
}

/// How a server runs and stops.
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: Limits,
    /// How long a stop waits for in-flight requests before ending them.
    pub drain_timeout: Duration,
    pub lifecycle: Arc<Lifecycle>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            drain_timeout: DRAIN_TIMEOUT,
            lifecycle: Arc::default(),
        }
    }
}

/// The answer to a request under [`OPS_PREFIX`].
fn ops_response(path: &str, lifecycle: &Lifecycle) -> HttpResponse {
    let text = |status: u16, body: String, content_type: &'static str| {
        let mut response = http::Response::new(ResponseBody::full(body));
        *response.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(content_type),
        );
        response
    };
    match &path[OPS_PREFIX.len()..] {
        "livez" => text(200, "ok\n".into(), "text/plain; charset=utf-8"),
        "readyz" if lifecycle.is_ready() => {
            text(200, "ready\n".into(), "text/plain; charset=utf-8")
        }
        "readyz" => text(503, "draining\n".into(), "text/plain; charset=utf-8"),
        "metrics" => text(
            200,
            crate::telemetry::metrics::global().render(),
            crate::telemetry::metrics::CONTENT_TYPE,
        ),
        _ => json_response(
            404,
            &serde_json::json!({"error": {
                "message": format!("traceforge: no such endpoint {path:?}; \
                    {OPS_PREFIX} has livez, readyz and metrics"),
                "type": "traceforge_not_found",
            }}),
        ),
    }
}

/// A handler for a server that only answers [`OPS_PREFIX`] (`--metrics-listen`).
pub async fn ops_only(request: http::Request<Incoming>) -> HttpResponse {
    let message = format!(
        "traceforge: this address only serves {OPS_PREFIX}livez, readyz and metrics, not {:?}",
        request.uri().path()
    );
    json_response(
        404,
        &serde_json::json!({"error": {"message": message, "type": "traceforge_not_found"}}),
    )
}

/// What a connection's task and its requests share: how many requests have their response
/// still being sent, and the deadline for the next request head, armed while there is none.
struct Connection {
    in_flight: AtomicUsize,
    head_deadline: timer::Deadline,
    /// [`Limits::header_read`].
    header_read: Duration,
}

impl Connection {
    /// A new connection, its first request head due within `header_read`.
    fn new(header_read: Duration) -> Connection {
        let connection = Connection {
            in_flight: AtomicUsize::new(0),
            head_deadline: timer::Deadline::new(),
            header_read,
        };
        connection.head_deadline.arm(header_read);
        connection
    }
}

/// Counts one of a connection's requests as in flight (its head has arrived) until its
/// response has been sent whole; the next head is then due within the header-read limit.
struct InFlight(Arc<Connection>);

impl InFlight {
    fn start(connection: &Arc<Connection>) -> InFlight {
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        connection.head_deadline.disarm();
        InFlight(connection.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.head_deadline.arm(self.0.header_read);
        }
    }
}

/// A response body that keeps its request counted as in flight until hyper has sent it (or
/// dropped it).
struct Tracked {
    body: crate::telemetry::request::Observed<ResponseBody>,
    _in_flight: InFlight,
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::io::Result<Frame<Bytes>>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Where one server's stop has got to, as its connections see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Serving,
    Stopping,
    Deadline,
}

/// How far a server's stop has got, and the task of each of its connections to wake when it
/// gets further. A connection's task asks on every wake (each read and write of its requests),
/// so asking is an atomic load and, while serving, the registration of the task's waker in
/// the connection's own slot: a `watch` channel shared by every connection took its lock on
/// each of those wakes, from both cores.
struct Stop {
    phase: AtomicU8,
    connections: Mutex<Vec<Weak<AtomicWaker>>>,
}

impl Stop {
    fn new() -> Stop {
        Stop {
            phase: AtomicU8::new(Phase::Serving as u8),
            connections: Mutex::new(Vec::new()),
        }
    }

    /// Moves the stop to `phase` and wakes every connection's task to see it.
    fn advance(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::SeqCst);
        let connections = match self.connections.lock() {
            Ok(connections) => connections.clone(),
            Err(_) => return,
        };
        for waker in connections.iter().filter_map(Weak::upgrade) {
            waker.wake();
        }
    }

    /// A new connection's view of the stop.
    fn watch(self: &Arc<Stop>) -> Watch {
        let waker = Arc::new(AtomicWaker::new());
        if let Ok(mut connections) = self.connections.lock() {
            // Ended connections are forgotten when the list would grow: amortised, a
            // connection's registration costs a push.
            if connections.len() == connections.capacity() {
                connections.retain(|c| c.strong_count() > 0);
            }
            connections.push(Arc::downgrade(&waker));
        }
        Watch {
            stop: self.clone(),
            waker,
        }
    }
}

/// One connection's view of its server's [`Stop`].
struct Watch {
    stop: Arc<Stop>,
    waker: Arc<AtomicWaker>,
}

impl Watch {
    /// Resolves once the server's stop has reached `at`.
    fn reached(&self, at: Phase) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let reached = || self.stop.phase.load(Ordering::SeqCst) >= at as u8;
            if reached() {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            match reached() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            }
        })
    }
}

/// Serves HTTP/1.1 on `listener` with `handler` until `shutdown` resolves, then stops accepting
/// and drains (up to [`DRAIN_TIMEOUT`]). Uses the default [`Options`].
pub async fn serve<H, F>(listener: TcpListener, handler: H, shutdown: impl Future<Output = ()>)
where
    H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    serve_on(listener, handler, shutdown, Options::default()).await;
}

/// [`serve`] with the given limits.
pub async fn serve_with<H, F>(
    listener: TcpListener,
    handler: H,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) where
    H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    let options = Options {
        limits,
        ..Options::default()
    };
    serve_on(listener, handler, shutdown, options).await;
}

/// Serves until `shutdown` resolves, then drains: `readyz` turns 503, the listener closes,
/// connections with no request in flight (idle keep-alive, headers still arriving) are closed
/// at once, and the others finish their response and close. At `options.drain_timeout` the
/// lifecycle's deadline passes (a recorded stream ends itself, stored as incomplete) and
/// whatever is still open a moment later is dropped.
pub async fn serve_on<H, F>(
    listener: TcpListener,
    handler: H,
    shutdown: impl Future<Output = ()>,
    options: Options,
) where
    H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    let lifecycle = options.lifecycle;
    let stop = Arc::new(Stop::new());
    // Every connection task holds a sender; `recv` returns `None` once all have ended.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let state = Arc::new(Connection::new(options.limits.header_read));
        let counted = state.clone();
        let ops_lifecycle = lifecycle.clone();
        let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let guard = InFlight::start(&counted);
            // The operations endpoints are answered here, before any handler or upstream (and
            // without a request event: probes and scrapes would drown the log). Every other
            // request gets an id and, when it ends, its one event.
            let response = match request.uri().path() {
                path if path.starts_with(OPS_PREFIX) && !path.starts_with(HANDLER_PREFIX) => {
                    Err(ops_response(path, &ops_lifecycle))
                }
                _ => Ok(crate::telemetry::request::observe(request, &handler)),
            };
            async move {
                let response = match response {
                    Ok(handled) => handled.await,
                    Err(answer) => answer.map(crate::telemetry::request::Observed::unobserved),
                };
                Ok::<_, Infallible>(response.map(|body| Tracked {
                    body,
                    _in_flight: guard,
                }))
            }
        });
        // No timer for hyper: the connection's own deadline (`Connection`) limits how long
        // a request head may take, and a client that never finishes one is closed instead of
        // holding its descriptor forever. No gathered writes: the responses here are small (an
        // answer of a few KB, an SSE event), and copied behind their head into one buffer and
        // written with one `write` they cost the kernel less than a `writev` of head and body
        // (replay: -8.6% CPU a request, +7% requests a second, side by side).
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .writev(false)
            .serve_connection(TokioIo::new(stream), service);
        let watch = stop.watch();
        let alive = alive.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let mut connection = std::pin::pin!(connection);
            loop {
                // In this order: a head that arrived as the deadline passed is read (and its
                // request counted in flight) before the deadline is looked at.
                tokio::select! {
                    biased;
                    _ = connection.as_mut() => return,
                    () = watch.reached(Phase::Stopping) => break,
                    () = state.head_deadline.passed() => {
                        // Dropped, which closes it, unless a head arrived as the deadline
                        // passed: that request is answered, and the deadline armed again after.
                        if state.in_flight.load(Ordering::Acquire) == 0 {
                            return;
                        }
                    }
                }
            }
            // Finish the response being sent, then close. A connection with none (idle, or
            // a request head still arriving) is closed now: it must not hold the drain.
            connection.as_mut().graceful_shutdown();
            if state.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            tokio::select! {
                _ = connection.as_mut() => {}
                () = watch.reached(Phase::Deadline) => {
                    let _ = tokio::time::timeout(DEADLINE_GRACE, connection).await;
                }
            }
        });
    }
    lifecycle.begin_drain();
    lifecycle.stopping.store(true, Ordering::Release);
    drop(listener);
    drop(alive);
    stop.advance(Phase::Stopping);
    if tokio::time::timeout(options.drain_timeout, all_closed.recv())
        .await
        .is_err()
    {
        lifecycle.pass_deadline();
        stop.advance(Phase::Deadline);
        let _ = tokio::time::timeout(DEADLINE_GRACE * 2, all_closed.recv()).await;
    }
}

/// A server running on a tokio task, stopped (and drained) with [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Starts serving `listener` with `handler` on a new task.
    pub fn spawn<H, F>(listener: TcpListener, handler: H) -> std::io::Result<Running>
    where
        H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = HttpResponse> + Send + 'static,
    {
        Running::spawn_on(listener, handler, Options::default())
    }

    /// [`Running::spawn`] with the given limits.
    pub fn spawn_with<H, F>(
        listener: TcpListener,
        handler: H,
        limits: Limits,
    ) -> std::io::Result<Running>
    where
        H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = HttpResponse> + Send + 'static,
    {
        let options = Options {
            limits,
            ..Options::default()
        };
        Running::spawn_on(listener, handler, options)
    }

    /// [`Running::spawn`] with the given options.
    pub fn spawn_on<H, F>(
        listener: TcpListener,
        handler: H,
        options: Options,
    ) -> std::io::Result<Running>
    where
        H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = HttpResponse> + Send + 'static,
    {
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_on(listener, handler, shutdown, options));
        Ok(Running { addr, stop, task })
    }

    /// Stops accepting and waits for in-flight requests to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    /// Sends `bytes` on a new connection and reads until the server closes it.
    async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn headers_that_never_finish_time_out_while_other_clients_are_served() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let limits = Limits {
            header_read: Duration::from_millis(200),
        };
        let running = Running::spawn_with(
            listener,
            |_request| async { json_response(200, &serde_json::json!({"ok": true})) },
            limits,
        )
        .unwrap();
        // Slow clients: half a request head each, then silence; and one that sends nothing.
        let mut slow = vec![TcpStream::connect(running.addr).await.unwrap()];
        for _ in 0..20 {
            let mut stream = TcpStream::connect(running.addr).await.unwrap();
            stream
                .write_all(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
            slow.push(stream);
        }
        // A complete request is answered meanwhile.
        let answer = exchange(
            running.addr,
            b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(r#"{"ok":true}"#), "{answer}");
        // Every slow connection is closed by the server, without an answer. (The deadline
        // only stops the test from hanging when they never are.)
        for mut stream in slow {
            let mut rest = Vec::new();
            let closed =
                tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest))
                    .await
                    .expect("a connection whose headers never finished was never closed");
            assert!(closed.is_ok() && rest.is_empty(), "{closed:?} {rest:?}");
        }
        running.stop().await;
    }

    /// The header-read limit counts only while a connection waits for a head: a handler
    /// slower than it still answers, and a kept-alive connection left idle after its answer is
    /// closed once the limit passes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_header_limit_spares_slow_answers_and_closes_idle_connections() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let limit = Duration::from_millis(150);
        let running = Running::spawn_with(
            listener,
            move |_request| async move {
                tokio::time::sleep(limit * 3).await;
                json_response(200, &serde_json::json!({"ok": true}))
            },
            Limits { header_read: limit },
        )
        .unwrap();
        let mut stream = TcpStream::connect(running.addr).await.unwrap();
        for _ in 0..2 {
            stream
                .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            while !answer.ends_with(br#"{"ok":true}"#) {
                let mut chunk = [0u8; 512];
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "closed before the answer: {answer:?}");
                answer.extend_from_slice(&chunk[..n]);
            }
            assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
        }
        // Idle now: closed by the server, without another byte.
        let idle = Instant::now();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest))
            .await
            .expect("an idle kept-alive connection was never closed")
            .unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        assert!(
            idle.elapsed() >= limit - timer::TICK,
            "{:?}",
            idle.elapsed()
        );
        running.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_response_outliving_the_drain_timeout_is_ended_at_the_deadline() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let lifecycle = Arc::new(Lifecycle::default());
        let options = Options {
            drain_timeout: Duration::from_millis(100),
            lifecycle: lifecycle.clone(),
            ..Options::default()
        };
        // A body that sends one chunk and then waits for the deadline to end itself.
        let ends = lifecycle.clone();
        let running = Running::spawn_on(
            listener,
            move |_request| {
                let deadline = ends.deadline();
                async move {
                    let (tx, rx) = mpsc::channel(1);
                    tokio::spawn(async move {
                        let _ = tx.send(Bytes::from_static(b"first")).await;
                        deadline.await;
                        let _ = tx.send(Bytes::from_static(b"|ended")).await;
                    });
                    http::Response::new(ResponseBody::Channel(rx))
                }
            },
            options,
        )
        .unwrap();
        let mut stream = TcpStream::connect(running.addr).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut head = vec![0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        assert!(lifecycle.is_ready());
        let stopping = tokio::spawn(running.stop());
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        let rest = String::from_utf8_lossy(&rest);
        assert!(rest.contains("first") && rest.contains("|ended"), "{rest}");
        assert!(!lifecycle.is_ready());
        stopping.await.unwrap();
    }
}
