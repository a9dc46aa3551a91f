//! The HTTP/1.1 server loop shared by the proxy and the mock LLM: bind, announce the bound
//! address, serve until the shutdown future resolves, then drain in-flight requests.
//! Also the one response body type both use: whole bytes, or a channel fed as data arrives.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How long a stop waits for in-flight requests (a stream still being recorded, say).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// that runs out of it is closed without an answer. Bodies and streamed responses are not
    /// limited by it.
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
    #[error("--listen {addr}: cannot listen there")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--ready-file {path}: cannot write it")]
    ReadyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Binds `addr` (for example `127.0.0.1:0`).
pub async fn bind(addr: &str) -> Result<TcpListener, ServerError> {
    let error = |source| ServerError::Bind {
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
    let Some(path) = ready_file else {
        return Ok(());
    };
    crate::cassette::files::write_atomically(path, addr.to_string().as_bytes()).map_err(|e| {
        ServerError::ReadyFile {
            path: path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        }
    })
}

/// Serves HTTP/1.1 on `listener` with `handler` until `shutdown` resolves, then stops accepting
/// and waits (up to 30 s) for in-flight requests to finish. Uses the default [`Limits`].
pub async fn serve<H, F>(listener: TcpListener, handler: H, shutdown: impl Future<Output = ()>)
where
    H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    serve_with(listener, handler, shutdown, Limits::default()).await;
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
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
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
        let service = hyper::service::service_fn(move |request| {
            // Every request gets an id and, when it ends, its one event.
            let response = crate::telemetry::request::observe(request, &handler);
            async move { Ok::<_, Infallible>(response.await) }
        });
        // The timer arms a deadline each time the connection waits for a request head; a
        // client that never finishes one is closed instead of holding its descriptor forever.
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
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
        Running::spawn_with(listener, handler, Limits::default())
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
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_with(listener, handler, shutdown, limits));
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

    #[test]
    fn headers_that_never_finish_time_out_while_other_clients_are_served() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
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
        });
    }
}
