//! Operating traceforge: `/_traceforge/livez|readyz|metrics` on every server,
//! `--metrics-listen`, and the graceful shutdown (`--drain-timeout`, idle connections, a
//! second signal).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::*;

/// Longer than nothing, far shorter than the 30 s header timeout that would otherwise close
/// idle and half-open connections on its own (and so hide a drain that waits for them).
const PROMPT_EXIT: Duration = Duration::from_secs(15);

#[test]
fn idle_and_half_open_connections_do_not_hold_the_drain() {
    let work = tempfile::tempdir().unwrap();
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut process = ProxyProcess::start(work.path(), &["vcr", "replay", "--cassettes", "c"]);
        // One connection that says nothing, one that stops halfway through its headers, and
        // one kept alive after a complete exchange.
        let idle = TcpStream::connect(&process.addr).unwrap();
        let mut half = TcpStream::connect(&process.addr).unwrap();
        half.write_all(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let mut kept = TcpStream::connect(&process.addr).unwrap();
        kept.write_all(b"GET /_traceforge/livez HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut head = [0u8; 9];
        kept.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 ");
        process.send(signal);
        let stopped = process
            .exited_within(PROMPT_EXIT)
            .expect("an idle or half-open connection held the drain");
        assert!(stopped.status.success(), "{:?}\n{}", stopped.status, stopped.stderr);
        drop((idle, half, kept));
    }
}
