//! The HTTP/1.1 client a virtual user sends with: one keep-alive connection per target host per
//! VU (as k6's VUs hold theirs), over TCP or TLS (`https`, see [`crate::tls`]), hyper's client
//! connection driven on its own task, and a socket wrapper that timestamps the last byte written
//! and the first byte read, so `sending`, `waiting` and `receiving` are measured at the socket
//! rather than guessed. Streamed (`text/event-stream`) responses are parsed as they arrive to
//! time the LLM's output events.
//!
//! It must stay lean: it is compared against `oha` on the same machine (benches/load.sh).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::scenario::RequestTemplate;
use crate::provider::{self, sse::SseParser};
use crate::tls;

/// Bodies kept for checks are cut here; the rest is counted but not kept.
const MAX_KEPT_BODY: usize = 16 * 1024 * 1024;

/// A request template prepared for the wire once, so each send only clones it.
#[derive(Debug, Clone)]
pub struct Prepared {
    method: http::Method,
    /// Origin-form target (`/v1/chat/completions?x=1`).
    target: http::Uri,
    headers: http::HeaderMap,
    body: Bytes,
    /// `host:port`, the key of the VU's connection to it.
    authority: String,
    host: String,
    port: u16,
    /// `https`: the name the server's certificate must be valid for.
    tls: Option<Result<rustls::pki_types::ServerName<'static>, String>>,
    pub timeout: Duration,
}

impl Prepared {
    pub fn new(template: &RequestTemplate) -> Prepared {
        let url = &template.url;
        let host = url.host_str().unwrap_or("127.0.0.1").to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let mut target = url.path().to_string();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let mut headers = template.headers.clone();
        if !headers.contains_key(http::header::HOST) {
            if let Ok(value) = http::HeaderValue::from_str(&authority) {
                headers.insert(http::header::HOST, value);
            }
        }
        Prepared {
            method: template.method.clone(),
            target: target
                .parse()
                .unwrap_or_else(|_| http::Uri::from_static("/")),
            headers,
            body: template.body.clone(),
            authority: format!("{host}:{port}"),
            tls: (url.scheme() == "https").then(|| tls::server_name(&host)),
            host,
            port,
            timeout: template.timeout,
        }
    }

    fn request(&self) -> http::Request<Full<Bytes>> {
        let mut request = http::Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.target.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// Monotonic nanoseconds since the first call, storable in an atomic.
fn now_ns() -> u64 {
    instant_ns(Instant::now())
}

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn instant_ns(at: Instant) -> u64 {
    at.saturating_duration_since(base()).as_nanos() as u64
}

fn ns_instant(ns: u64) -> Instant {
    base() + Duration::from_nanos(ns)
}

/// What the socket saw, shared between the connection task and the VU.
#[derive(Debug, Default)]
struct IoStats {
    written: AtomicU64,
    read: AtomicU64,
    last_write_ns: AtomicU64,
    /// 0 until the first byte after the VU reset it for a new request.
    first_read_ns: AtomicU64,
}

/// A stream that counts the bytes through it and timestamps writes and the first read. Over
/// TCP one wrapper does both; with TLS one below it counts what crosses the network (the
/// handshake and record overhead included, as k6 counts) and one above it times the HTTP
/// bytes, so a TLS session ticket arriving after the request is not taken for its response.
struct TimedStream<S> {
    inner: S,
    stats: Arc<IoStats>,
    counts: bool,
    times: bool,
}

impl<S: AsyncRead + Unpin> AsyncRead for TimedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            if self.counts {
                self.stats.read.fetch_add(n as u64, Ordering::Relaxed);
            }
            if self.times && self.stats.first_read_ns.load(Ordering::Relaxed) == 0 {
                self.stats
                    .first_read_ns
                    .store(now_ns().max(1), Ordering::Relaxed);
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TimedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &result {
            self.wrote(*n);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &result {
            self.wrote(*n);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S> TimedStream<S> {
    fn wrote(&self, n: usize) {
        if n > 0 {
            if self.counts {
                self.stats.written.fetch_add(n as u64, Ordering::Relaxed);
            }
            if self.times {
                self.stats.last_write_ns.store(now_ns(), Ordering::Relaxed);
            }
        }
    }
}

/// One keep-alive connection. hyper's half of it (the future that reads and writes the
/// socket) runs as its own task on the VU's worker thread, as in `oha`: the worker's
/// single-threaded runtime keeps both on one thread, and the connection tasks of a batch of
/// ready sockets run back to back before the VUs they woke.
struct Connection {
    authority: String,
    sender: http1::SendRequest<Full<Bytes>>,
    stats: Arc<IoStats>,
}

/// Why a send did not produce a response.
enum Failure {
    /// The connection was closed before the request was sent; another may work.
    NotReady(String),
    Failed(String),
}

/// Sends one request on a connection and reads the whole response, timing it at the socket:
/// everything is measured from `exchange.origin` (the intended start, or the moment the VU
/// began the request), less connecting and TLS handshaking, so `duration = blocked + sending +
/// waiting + receiving`.
async fn send_on(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    stats: &IoStats,
    prepared: &Prepared,
    keep_body: bool,
    exchange: &mut Exchange,
) -> Result<(), Failure> {
    sender
        .ready()
        .await
        .map_err(|e| Failure::NotReady(error_text("connection closed", &e)))?;
    let (sent_before, read_before) = (
        stats.written.load(Ordering::Relaxed),
        stats.read.load(Ordering::Relaxed),
    );
    stats.first_read_ns.store(0, Ordering::Relaxed);
    let start = Instant::now();
    exchange.blocked = start
        .saturating_duration_since(exchange.origin)
        .saturating_sub(exchange.connecting + exchange.tls_handshaking);
    let response = sender
        .send_request(prepared.request())
        .await
        .map_err(|e| Failure::Failed(error_text("request failed", &e)))?;
    exchange.status = response.status().as_u16();
    exchange.is_stream = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let mut body = response.into_body();
    let mut kept = keep_body.then(Vec::new);
    let mut stream = exchange
        .is_stream
        .then(|| (SseParser::new(), StreamTiming::default(), None::<Instant>));
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| Failure::Failed(error_text("reading the response failed", &e)))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if let Some(kept) = &mut kept {
            let room = MAX_KEPT_BODY.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
        }
        if let Some((parser, timing, last)) = &mut stream {
            let now = Instant::now();
            for event in parser.feed(&data) {
                observe(&event.data, now, timing, last);
            }
        }
    }
    let end = Instant::now();
    if let Some((mut parser, mut timing, mut last)) = stream {
        if let Some(event) = parser.finish() {
            observe(&event.data, end, &mut timing, &mut last);
        }
        exchange.stream = Some(timing);
    }
    exchange.body = kept;

    let last_write = ns_instant(stats.last_write_ns.load(Ordering::Relaxed));
    let first_read = match stats.first_read_ns.load(Ordering::Relaxed) {
        0 => end,
        ns => ns_instant(ns),
    };
    let last_write = last_write.clamp(start, first_read.max(start));
    exchange.sending = last_write.saturating_duration_since(start);
    exchange.waiting = first_read.saturating_duration_since(last_write);
    exchange.receiving = end.saturating_duration_since(first_read);
    exchange.duration = exchange.blocked + end.saturating_duration_since(start);
    exchange.bytes_sent += stats.written.load(Ordering::Relaxed) - sent_before;
    exchange.bytes_received += stats.read.load(Ordering::Relaxed) - read_before;
    Ok(())
}

/// One VU's connections (at most one per host) and its request timer.
pub struct Client {
    connections: Connections,
    /// For `https` requests (`None` when the test has none).
    tls: Option<TlsConnector>,
    /// Reused for every request, and moved only when the deadline it holds is more than
    /// 1/64 of the timeout early: a fresh `timeout` per request would go through the timer
    /// wheel every time. A request therefore times out after between 63/64 and all of its
    /// timeout.
    timer: Pin<Box<tokio::time::Sleep>>,
}

#[derive(Default)]
struct Connections {
    open: Vec<Connection>,
    resolved: Vec<(String, SocketAddr)>,
}

impl Client {
    /// A client with no connections yet (inside a runtime: the request timer is created here).
    pub fn new(tls: Option<Arc<rustls::ClientConfig>>) -> Client {
        Client {
            connections: Connections::default(),
            tls: tls.map(TlsConnector::from),
            timer: Box::pin(tokio::time::sleep(Duration::from_secs(86_400 * 365))),
        }
    }
}

/// The LLM side of one streamed response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamTiming {
    /// When the first output event arrived.
    pub first_output: Option<Instant>,
    /// Gaps between consecutive output events.
    pub gaps: Vec<Duration>,
    pub output_events: u64,
    /// The output token count the stream reported, if it did.
    pub reported_tokens: Option<u64>,
}

impl StreamTiming {
    /// Output tokens: the reported count, else one per output event.
    pub fn tokens(&self) -> u64 {
        self.reported_tokens.unwrap_or(self.output_events)
    }
}

/// One request's result and timings.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// 0 when no response arrived.
    pub status: u16,
    pub error: Option<String>,
    /// Where `http_req_duration` is measured from: the intended start (open-model executors)
    /// or the moment the request was written (closed-model).
    pub origin: Instant,
    pub blocked: Duration,
    pub connecting: Duration,
    pub tls_handshaking: Duration,
    pub sending: Duration,
    pub waiting: Duration,
    pub receiving: Duration,
    pub duration: Duration,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub is_stream: bool,
    pub body: Option<Vec<u8>>,
    pub stream: Option<StreamTiming>,
}

impl Client {
    /// Sends one request. `intended` is the scheduled start for open-model executors; closed
    /// models pass `None`. `keep_body` keeps the body for checks.
    pub async fn send(
        &mut self,
        prepared: &Prepared,
        intended: Option<Instant>,
        keep_body: bool,
    ) -> Exchange {
        let begin = Instant::now();
        let mut exchange = Exchange {
            status: 0,
            error: None,
            origin: intended.unwrap_or(begin),
            blocked: Duration::ZERO,
            connecting: Duration::ZERO,
            tls_handshaking: Duration::ZERO,
            sending: Duration::ZERO,
            waiting: Duration::ZERO,
            receiving: Duration::ZERO,
            duration: Duration::ZERO,
            bytes_sent: 0,
            bytes_received: 0,
            is_stream: false,
            body: None,
            stream: None,
        };
        let deadline = tokio::time::Instant::from_std(begin + prepared.timeout);
        let held = self.timer.deadline();
        if held < deadline - prepared.timeout / 64 || held > deadline {
            self.timer.as_mut().reset(deadline);
        }
        let error = tokio::select! {
            biased;
            result = self.connections.exchange(self.tls.as_ref(), prepared, keep_body, &mut exchange) => result.err(),
            () = &mut self.timer => Some(format!(
                "request timeout after {}",
                super::units::duration_text(prepared.timeout)
            )),
        };
        if let Some(message) = error {
            // Whatever state the connection is in, it is not reused.
            self.connections
                .open
                .retain(|c| c.authority != prepared.authority);
            exchange.error = Some(message);
            exchange.status = 0;
            exchange.duration = Instant::now().saturating_duration_since(exchange.origin);
        }
        exchange
    }
}

impl Connections {
    /// Sends on the VU's connection to the host (opening one when there is none, or when the
    /// old one turns out to be closed before anything was sent) and fills in the timings.
    async fn exchange(
        &mut self,
        tls: Option<&TlsConnector>,
        prepared: &Prepared,
        keep_body: bool,
        exchange: &mut Exchange,
    ) -> Result<(), String> {
        for attempt in 0..2 {
            let index = match self
                .open
                .iter()
                .position(|c| c.authority == prepared.authority)
            {
                Some(index) => index,
                None => self.connect(tls, prepared, exchange).await?,
            };
            let connection = &mut self.open[index];
            match send_on(
                &mut connection.sender,
                &connection.stats,
                prepared,
                keep_body,
                exchange,
            )
            .await
            {
                Ok(()) => return Ok(()),
                Err(Failure::NotReady(_)) if attempt == 0 => {
                    self.open.swap_remove(index);
                }
                Err(Failure::NotReady(message) | Failure::Failed(message)) => return Err(message),
            }
        }
        Err("no usable connection".into())
    }

    /// Opens a connection to the request's host, timing the TCP connect (`connecting`) and
    /// the TLS handshake, whose bytes count as the request's.
    async fn connect(
        &mut self,
        tls: Option<&TlsConnector>,
        prepared: &Prepared,
        exchange: &mut Exchange,
    ) -> Result<usize, String> {
        let addr = self.resolve(prepared).await?;
        let connect_start = Instant::now();
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {}: {e}", prepared.authority))?;
        let _ = tcp.set_nodelay(true);
        exchange.connecting += connect_start.elapsed();
        let stats = Arc::new(IoStats::default());
        let sender = match &prepared.tls {
            None => {
                let stream = TimedStream {
                    inner: tcp,
                    stats: stats.clone(),
                    counts: true,
                    times: true,
                };
                handshake(stream).await?
            }
            Some(name) => {
                let name = name.clone()?;
                let connector = tls.ok_or("https needs a TLS configuration")?;
                let handshake_start = Instant::now();
                let counted = TimedStream {
                    inner: tcp,
                    stats: stats.clone(),
                    counts: true,
                    times: false,
                };
                let encrypted = connector
                    .connect(name, counted)
                    .await
                    .map_err(|e| tls::handshake_error(&prepared.authority, &e))?;
                exchange.tls_handshaking += handshake_start.elapsed();
                exchange.bytes_sent += stats.written.load(Ordering::Relaxed);
                exchange.bytes_received += stats.read.load(Ordering::Relaxed);
                let stream = TimedStream {
                    inner: encrypted,
                    stats: stats.clone(),
                    counts: false,
                    times: true,
                };
                handshake(stream).await?
            }
        };
        self.open.push(Connection {
            authority: prepared.authority.clone(),
            sender,
            stats,
        });
        Ok(self.open.len() - 1)
    }

    async fn resolve(&mut self, prepared: &Prepared) -> Result<SocketAddr, String> {
        if let Some((_, addr)) = self
            .resolved
            .iter()
            .find(|(authority, _)| *authority == prepared.authority)
        {
            return Ok(*addr);
        }
        let host = prepared.host.trim_start_matches('[').trim_end_matches(']');
        let addr = tokio::net::lookup_host((host, prepared.port))
            .await
            .map_err(|e| format!("resolving {}: {e}", prepared.host))?
            .next()
            .ok_or_else(|| format!("resolving {}: no address", prepared.host))?;
        self.resolved.push((prepared.authority.clone(), addr));
        Ok(addr)
    }
}

/// Starts HTTP/1.1 on a connected stream, its driver on a task of its own.
async fn handshake<S>(stream: S) -> Result<http1::SendRequest<Full<Bytes>>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, driver) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| error_text("HTTP handshake failed", &e))?;
    tokio::spawn(async move {
        let _ = driver.await;
    });
    Ok(sender)
}

/// Notes one SSE event of a streamed LLM response.
fn observe(data: &str, now: Instant, timing: &mut StreamTiming, last: &mut Option<Instant>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else {
        return;
    };
    if let Some(tokens) = provider::reported_output_tokens(&value) {
        timing.reported_tokens = Some(tokens);
    }
    if provider::is_output_delta(&value) {
        timing.output_events += 1;
        timing.first_output.get_or_insert(now);
        if let Some(previous) = *last {
            timing.gaps.push(now.saturating_duration_since(previous));
        }
        *last = Some(now);
    }
}

/// `what: ` and the error with its causes, on one line.
fn error_text(what: &str, error: &dyn std::error::Error) -> String {
    format!("{what}: {}", crate::error_chain(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_events_time_the_stream_and_usage_wins() {
        let start = Instant::now();
        let mut timing = StreamTiming::default();
        let mut last = None;
        let at = |ms| start + Duration::from_millis(ms);
        observe(
            r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            at(5),
            &mut timing,
            &mut last,
        );
        assert_eq!(timing.first_output, None, "role-only delta is not output");
        observe(
            r#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
            at(100),
            &mut timing,
            &mut last,
        );
        observe(
            r#"{"choices":[{"delta":{"content":"lo"}}]}"#,
            at(130),
            &mut timing,
            &mut last,
        );
        observe("[DONE]", at(140), &mut timing, &mut last);
        assert_eq!(timing.first_output, Some(at(100)));
        assert_eq!(timing.gaps, vec![Duration::from_millis(30)]);
        assert_eq!(timing.tokens(), 2);
        observe(
            r#"{"choices":[],"usage":{"completion_tokens":5}}"#,
            at(150),
            &mut timing,
            &mut last,
        );
        assert_eq!(timing.tokens(), 5);
    }
}
