#!/usr/bin/env python3
"""Paired latency client for the record-overhead benchmark, stdlib only.

  client.py latency DIRECT PROXY [-n 1000]   non-streamed chat: request sent -> response complete
  client.py ttfb DIRECT PROXY [-n 200]       streamed chat: request sent -> first body byte

`--body FILE` sends FILE's JSON instead of the built-in short chat (for `ttfb` it must ask for a
stream: `"stream": true`).

DIRECT and PROXY are base URLs (http://127.0.0.1:PORT/v1/chat/completions and
http://127.0.0.1:PORT/openai/v1/chat/completions). The client holds one keep-alive connection
to each and sends one request at a time, alternating between them (in a different order every
pair), so both see the same machine noise at the same moment; the added latency is the
difference of the two distributions. The request bytes are built once and sent with one
`sendall`; responses are parsed just enough (status, Content-Length or chunked framing) to know
when the first body byte and the end have arrived. Every response must be 200 (streams must end
with `[DONE]`), otherwise it exits 1.

Prints one JSON object on stdout: {"direct": {...}, "proxy": {...}} with p50/p99/mean/max in
milliseconds and the sample count.
"""

import argparse
import json
import socket
import sys
import time
from urllib.parse import urlsplit

PLAIN = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
STREAMED = {
    "model": "gpt-4o-mini",
    "stream": True,
    "messages": [{"role": "user", "content": "Tell me a short story about a lighthouse."}],
}


class BenchError(Exception):
    pass


class Connection:
    """One persistent HTTP/1.1 connection sending the same prepared request again and again."""

    def __init__(self, url, body):
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise BenchError(f"refusing non-loopback target {url}")
        self.address = (parts.hostname, parts.port or 80)
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.request = (
            f"POST {parts.path} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\n"
            "Content-Type: application/json\r\n"
            "Accept: application/json, text/event-stream\r\n"
            "Authorization: Bearer sk-bench-0000000000000000000000000000\r\n"
            f"Content-Length: {len(payload)}\r\n"
            "\r\n"
        ).encode() + payload
        self.sock = None
        self.buffer = b""
        self.name = url

    def connect(self):
        self.sock = socket.create_connection(self.address, timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise BenchError(f"{self.name}: connection closed mid-response")
        self.buffer += data

    def _take(self, n):
        while len(self.buffer) < n:
            self._fill()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def exchange(self):
        """Sends the request; returns (status, body, seconds to first body byte, seconds total)."""
        if self.sock is None:
            self.connect()
        start = time.perf_counter()
        self.sock.sendall(self.request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        first = None
        chunks = []
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._line().split(b";", 1)[0], 16)
                if size == 0:
                    while self._line():  # trailers, then the blank line
                        pass
                    break
                # The first body byte has arrived once any of this chunk's data is buffered.
                while not self.buffer:
                    self._fill()
                if first is None:
                    first = time.perf_counter()
                chunks.append(self._take(size))
                self._take(2)
        else:
            length = int(headers.get("content-length", "0"))
            if length:
                while not self.buffer:
                    self._fill()
                first = time.perf_counter()
                chunks.append(self._take(length))
        end = time.perf_counter()
        if headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        body = b"".join(chunks)
        return status, body, (first or end) - start, end - start


def percentile(sorted_values, q):
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def summary(samples):
    values = sorted(s * 1000 for s in samples)
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 4),
        "p90_ms": round(percentile(values, 90), 4),
        "p99_ms": round(percentile(values, 99), 4),
        "mean_ms": round(sum(values) / len(values), 4),
        "max_ms": round(values[-1], 4),
    }


def run(kind, direct_url, proxy_url, n, warmup, pause, samples_file=None, body=None):
    if body is None:
        body = STREAMED if kind == "ttfb" else PLAIN
    connections = {"direct": Connection(direct_url, body), "proxy": Connection(proxy_url, body)}
    samples = {"direct": [], "proxy": []}
    for i in range(warmup + n):
        order = ("direct", "proxy") if i % 2 == 0 else ("proxy", "direct")
        for side in order:
            status, data, ttfb, total = connections[side].exchange()
            if status != 200:
                raise BenchError(f"{side} {connections[side].name} answered {status}: {data[:300]!r}")
            if kind == "ttfb" and b"[DONE]" not in data:
                raise BenchError(f"{side} stream ended without [DONE]: {data[-300:]!r}")
            if i >= warmup:
                samples[side].append(ttfb if kind == "ttfb" else total)
        if pause:
            time.sleep(pause)
    if samples_file:
        with open(samples_file, "w") as f:
            f.write("i,direct_ms,proxy_ms\n")
            for i, (d, p) in enumerate(zip(samples["direct"], samples["proxy"])):
                f.write(f"{i},{d * 1000:.4f},{p * 1000:.4f}\n")
    return {side: summary(values) for side, values in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["latency", "ttfb"])
    parser.add_argument("direct")
    parser.add_argument("proxy")
    parser.add_argument("-n", type=int, default=None, help="measured pairs [1000 latency, 200 ttfb]")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured pairs first [20]")
    parser.add_argument("--pause-ms", type=float, default=1.0,
                        help="pause after each pair, so the load is paced rather than flat out [1]")
    parser.add_argument("--samples", metavar="CSV", help="also write every measured pair here")
    parser.add_argument("--body", metavar="FILE", help="JSON request body to send instead of the built-in one")
    args = parser.parse_args()
    n = args.n or (1000 if args.kind == "latency" else 200)
    try:
        body = None
        if args.body:
            with open(args.body, encoding="utf-8") as f:
                body = json.load(f)
        result = run(args.kind, args.direct, args.proxy, n, args.warmup, args.pause_ms / 1000,
                     args.samples, body)
    except (BenchError, OSError, ValueError) as e:
        print(f"client.py: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
