//! The peer for the replay benchmark: a minimal hyper 1 HTTP/1.1 server that answers every
//! request with the same fixed bytes (the recorded response the replay server serves), so the
//! ratio measures what traceforge adds on top of hyper itself.
//!
//! Usage: bare_hyper ADDR RESPONSE_BODY_FILE [CONTENT_TYPE]
//!
//! `BARE_HYPER_WORK_NS=N` makes each request spin for N ns before it is answered: the
//! calibration rows of `benches/ops.sh` (`BENCH_CALIBRATE`), which show what a throughput ratio
//! against the plain server means in CPU time a request on the machine at hand.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::signal::unix::{signal, SignalKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let body_file = args
        .next()
        .expect("usage: bare_hyper ADDR BODY_FILE [CONTENT_TYPE]");
    let content_type = args.next().unwrap_or_else(|| "application/json".into());
    let body = Bytes::from(std::fs::read(&body_file).expect("readable body file"));
    let work = std::time::Duration::from_nanos(
        std::env::var("BARE_HYPER_WORK_NS")
            .map(|v| {
                v.parse()
                    .expect("BARE_HYPER_WORK_NS: a number of nanoseconds")
            })
            .unwrap_or(0),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        println!("{}", listener.local_addr().expect("addr"));
        // SIGINT and SIGTERM end the process normally, so an instrumented build (benches/pgo.sh)
        // writes its profile at exit.
        let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
        let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = interrupt.recv() => return,
                _ = terminate.recv() => return,
            };
            let Ok((stream, _)) = accepted else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            let content_type = content_type.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        let content_type = content_type.clone();
                        async move {
                            // Read the request body, as any real server (and the replay server) must.
                            let _ = request.into_body().collect().await;
                            if !work.is_zero() {
                                let started = std::time::Instant::now();
                                while started.elapsed() < work {
                                    std::hint::spin_loop();
                                }
                            }
                            let response = http::Response::builder()
                                .header("content-type", content_type)
                                .body(Full::new(body))
                                .expect("valid response");
                            Ok::<_, Infallible>(response)
                        }
                    },
                );
                // The transport settings of traceforge's server (src/server.rs), so that
                // the ratio measures what traceforge adds, not a setting.
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .writev(false)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
