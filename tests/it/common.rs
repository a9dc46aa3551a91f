//! Shared test harness: the mock LLM in-process on 127.0.0.1:0, an https server with the test
//! certificates of `fixtures/tls`, the real `traceforge` binary as a child process (told to
//! write its address to a ready file), and small HTTP helpers.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the harness"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use traceforge::cassette::{Body, Response, StreamEvent};
use traceforge::mock::MockConfig;
use traceforge::provider::sse;
use traceforge::server::{self, Running};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_traceforge"))
}

/// Waits until `condition` holds, polling it, and fails the test naming `what` if it does not
/// within 30 s (a generous bound that only a broken build reaches; passing never waits long).
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The trace database's counts, or `None` while it cannot be read (not created yet, locked).
pub fn db_stats(path: &Path) -> Option<traceforge::store::query::Stats> {
    traceforge::store::TraceDb::open_existing(path)
        .and_then(|db| db.stats())
        .ok()
}

/// The `traceforge` binary as a command with a clean environment: every `TRACEFORGE_*`, `CI`
/// and `OTEL_*` variable of the test process is removed, so neither a developer's shell nor CI
/// changes what a test sees. Tests set what they need on top.
pub fn traceforge_command() -> Command {
    let mut command = Command::new(bin());
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text == "CI" || text.starts_with("TRACEFORGE_") || text.starts_with("OTEL_") {
            command.env_remove(&name);
        }
    }
    command
}

/// Runs `traceforge ARGS…` (see [`traceforge_command`]) in `cwd` to the end.
pub fn tf(cwd: &Path, args: &[&str]) -> std::process::Output {
    traceforge_command()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

/// What a finished command printed on stdout, as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a finished command printed on stderr, as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A multi-threaded runtime for a test's in-process servers and clients.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts the mock LLM on a free loopback port.
pub async fn start_mock(config: MockConfig) -> Running {
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let config = Arc::new(config);
    Running::spawn(listener, move |request| {
        traceforge::mock::handle(config.clone(), request)
    })
    .unwrap()
}

/// A file of `fixtures/tls` (`ca.pem` signed `server.pem`, valid for 127.0.0.1 and localhost).
pub fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

/// An https server on 127.0.0.1:0 presenting `fixtures/tls/server.pem` and answering with
/// `handler`; counts the TLS handshakes it completed. Abort the task to stop it.
pub async fn start_tls<H, F>(
    handshakes: Arc<AtomicU64>,
    handler: H,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>)
where
    H: Fn(http::Request<hyper::body::Incoming>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = server::HttpResponse> + Send + 'static,
{
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(tls_fixture("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_fixture("server.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let handshakes = handshakes.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                // Clients that reject the certificate end the handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                handshakes.fetch_add(1, Ordering::SeqCst);
                let service = hyper::service::service_fn(move |request| {
                    let response = handler(request);
                    async move { Ok::<_, std::convert::Infallible>(response.await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, task)
}

/// A `traceforge` server process (record or replay without `-- CMD`).
pub struct ProxyProcess {
    child: Option<Child>,
    pub addr: String,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

/// What a proxy process is given before it starts, beyond its arguments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ChildSetup {
    umask: Option<libc::mode_t>,
    /// The open-files limit: (soft, hard).
    open_files: Option<(u64, u64)>,
}

/// How a stopped proxy process ended.
pub struct Stopped {
    pub status: ExitStatus,
    pub stderr: String,
}

impl ProxyProcess {
    /// Runs `traceforge ARGS --ready-file …` in `cwd` and waits until it is listening.
    pub fn start(cwd: &Path, args: &[&str]) -> ProxyProcess {
        ProxyProcess::start_with_env(cwd, args, &[])
    }

    /// [`ProxyProcess::start`] with extra environment variables.
    pub fn start_with_env(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> ProxyProcess {
        ProxyProcess::spawn(cwd, args, env, ChildSetup::default())
    }

    /// [`ProxyProcess::start`] with the file-creation mask set to `umask` in the process.
    pub fn start_with_umask(cwd: &Path, args: &[&str], umask: libc::mode_t) -> ProxyProcess {
        let setup = ChildSetup {
            umask: Some(umask),
            ..ChildSetup::default()
        };
        ProxyProcess::spawn(cwd, args, &[], setup)
    }

    /// [`ProxyProcess::start`] allowed at most `files` open file descriptors.
    /// [`ProxyProcess::start`] with its open-files limit set to `soft` (what it starts with)
    /// and `hard` (what it may raise the soft limit to).
    pub fn start_with_open_files(cwd: &Path, args: &[&str], soft: u64, hard: u64) -> ProxyProcess {
        let setup = ChildSetup {
            open_files: Some((soft, hard)),
            ..ChildSetup::default()
        };
        ProxyProcess::spawn(cwd, args, &[], setup)
    }

    fn spawn(cwd: &Path, args: &[&str], env: &[(&str, &Path)], setup: ChildSetup) -> ProxyProcess {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let stderr = dir.path().join("stderr");
        let mut command = traceforge_command();
        // Before a wrapped command's `--`, if there is one.
        let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        command
            .current_dir(cwd)
            .args(&args[..split])
            .arg("--ready-file")
            .arg(&ready)
            .args(&args[split..])
            .env_remove("SSL_CERT_FILE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        if setup != ChildSetup::default() {
            use std::os::unix::process::CommandExt as _;
            // SAFETY: umask and setrlimit are async-signal-safe and change only the child.
            unsafe {
                command.pre_exec(move || {
                    if let Some(umask) = setup.umask {
                        libc::umask(umask);
                    }
                    if let Some((soft, hard)) = setup.open_files {
                        let limit = libc::rlimit {
                            rlim_cur: soft as libc::rlim_t,
                            rlim_max: hard as libc::rlim_t,
                        };
                        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        let child = command.spawn().unwrap();
        let mut process = ProxyProcess {
            child: Some(child),
            addr: String::new(),
            stderr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(addr) = std::fs::read_to_string(&ready) {
                process.addr = addr;
                return process;
            }
            if let Some(status) = process.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "traceforge exited early with {status}: {}",
                    std::fs::read_to_string(&process.stderr).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "traceforge did not become ready");
            // Polled often: tests that signal a server right after it is ready rely on it.
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// What the process has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Stops the process as Ctrl-C would, and collects its exit status and stderr.
    pub fn stop(mut self) -> Stopped {
        self.signal(libc::SIGINT)
    }

    /// Sends `signal` without waiting for anything.
    pub fn send(&self, signal: i32) {
        let child = self.child.as_ref().unwrap();
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
    }

    /// Waits up to `bound` for the process to exit; `None` if it is still running then.
    pub fn exited_within(&mut self, bound: Duration) -> Option<Stopped> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Some(Stopped {
                    status,
                    stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
                });
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `signal` and waits for the process to exit.
    pub fn signal(&mut self, signal: i32) -> Stopped {
        let mut child = self.child.take().unwrap();
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let status = child.wait().unwrap();
        Stopped {
            status,
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a client received: status, and the payload as a parser sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub status: u16,
    pub content_type: String,
    pub payload: Payload,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Value),
    Events(Vec<StreamEvent>),
    Bytes(Vec<u8>),
}

impl Received {
    pub fn json(&self) -> &Value {
        match &self.payload {
            Payload::Json(value) => value,
            other => panic!("expected JSON, got {other:?}"),
        }
    }

    pub fn events(&self) -> &[StreamEvent] {
        match &self.payload {
            Payload::Events(events) => events,
            other => panic!("expected events, got {other:?}"),
        }
    }

    /// As a cassette response, for `provider::assemble`/`usage`.
    pub fn as_response(&self) -> Response {
        let (body, stream) = match &self.payload {
            Payload::Json(value) => (Some(Body::Json(value.clone())), None),
            Payload::Events(events) => (None, Some(events.clone())),
            Payload::Bytes(bytes) => (Some(Body::from_bytes(bytes)), None),
        };
        Response {
            status: self.status,
            headers: Default::default(),
            body,
            stream,
            incomplete: false,
        }
    }
}

/// Events with their arrival times zeroed, for comparing what a parser sees.
pub fn untimed(events: &[StreamEvent]) -> Vec<StreamEvent> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            e.at_ms = 0;
            e
        })
        .collect()
}

pub fn parse_payload(content_type: &str, bytes: &[u8]) -> Payload {
    if content_type.starts_with("text/event-stream") {
        let events = sse::parse_all(bytes)
            .into_iter()
            .map(|e| e.into_stream_event(0))
            .collect();
        Payload::Events(events)
    } else if let Ok(value) = serde_json::from_slice(bytes) {
        Payload::Json(value)
    } else {
        Payload::Bytes(bytes.to_vec())
    }
}

/// POSTs a JSON body with optional extra headers.
pub async fn post(url: &str, body: &Value, headers: &[(&str, &str)]) -> Received {
    post_raw(url, body.to_string().into_bytes(), headers).await
}

pub async fn post_raw(url: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Received {
    let client = reqwest::Client::new();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response.bytes().await.unwrap();
    Received {
        status,
        payload: parse_payload(&content_type, &bytes),
        content_type,
    }
}

/// Reads a cassette file through the library (panics with the error otherwise).
pub fn cassette(path: &Path) -> traceforge::cassette::Cassette {
    traceforge::cassette::files::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes policy files (path under the policy directory, JSON document) into a fresh directory.
pub fn policy_dir(files: &[(&str, Value)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, doc) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    }
    dir
}

/// A policy directory holding one enforced global policy, `global/ID.json`, with `rules`.
pub fn global_policy_dir(id: &str, rules: Value) -> tempfile::TempDir {
    policy_dir(&[(&format!("global/{id}.json"), global(id, true, rules))])
}

pub fn global(id: &str, enforce: bool, rules: Value) -> Value {
    serde_json::json!({"id": id, "version": "1.0.0", "scope": "global", "enforce_at_proxy": enforce,
           "priority": 100, "rules": rules})
}
