"""The traceforge server one pytest process uses: found (``TRACEFORGE_BIN`` or ``PATH``),
started as ``traceforge vcr record|replay`` without a wrapped command on a free loopback port,
waited for through its ready file, driven through its control API (``/_traceforge/v1/``), and
stopped with SIGTERM (SIGKILL after a deadline). It never outlives the pytest process that
started it: it runs in its own process group, so a terminal's Ctrl-C reaches pytest alone and
pytest stops it after flushing, and on Linux the kernel sends it SIGTERM if pytest dies without
cleaning up.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import time
from typing import Optional

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class StartError(Exception):
    """The server could not be started; the message says why and what to do."""


def find_binary() -> str:
    """The traceforge binary: ``TRACEFORGE_BIN``, else ``traceforge`` on ``PATH``."""
    named = os.environ.get("TRACEFORGE_BIN")
    if named:
        if os.path.isfile(named) and os.access(named, os.X_OK):
            return named
        raise StartError(f"TRACEFORGE_BIN={named}: no executable file there")
    found = shutil.which("traceforge")
    if found is None:
        raise StartError(
            "the traceforge binary is not on PATH; install it, set TRACEFORGE_BIN=/path/to/traceforge, "
            "or run with --traceforge=off"
        )
    return found


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies (Linux)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


class Server:
    """A running ``traceforge vcr record|replay`` and a keep-alive connection to it."""

    def __init__(self, binary: str, verb: str, args: list, cwd: str):
        self.verb = verb
        self._tmp = tempfile.mkdtemp(prefix="traceforge-pytest-")
        self.log_path = os.path.join(self._tmp, "server.log")
        ready = os.path.join(self._tmp, "ready")
        command = [binary, "vcr", verb, "--listen", "127.0.0.1:0", "--ready-file", ready, *args]
        self._log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )
        except OSError as error:
            self._log.close()
            raise StartError(f"cannot run {binary}: {error}") from None
        self.pid = self.process.pid
        self.stopped = False
        self._connection: Optional[_Connection] = None
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                with open(ready, encoding="utf-8") as f:
                    address = f.read().strip()
                if address:
                    break
            except FileNotFoundError:
                pass
            status = self.process.poll()
            if status is not None:
                log = self.log()
                self._cleanup()
                self.remove_files()
                raise StartError(
                    f"`traceforge vcr {verb}` exited with status {status} before it was ready:\n{log.strip()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                self.remove_files()
                raise StartError(f"`traceforge vcr {verb}` was not ready within {READY_TIMEOUT:.0f} s")
            time.sleep(0.002)
        self.host, _, port = address.rpartition(":")
        self.port = int(port)
        self.url = f"http://{address}"

    def log(self) -> str:
        """What the server printed so far."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def call(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        """One control API request; the JSON answer, or ``ControlError``.

        Two of these run per test, so this speaks just enough HTTP/1.1 over one kept-alive
        socket (http.client costs several times more per request)."""
        data = b"" if body is None else json.dumps(body).encode()
        request = (
            f"{method} {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-length: {len(data)}\r\n"
            "content-type: application/json\r\n\r\n"
        ).encode() + data
        for attempt in (1, 2):
            try:
                if self._connection is None:
                    self._connection = _Connection(self.host, self.port)
                status, payload = self._connection.exchange(request)
                break
            except OSError:
                # The server closes idle keep-alive connections; one fresh try.
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None
                if attempt == 2:
                    raise
        try:
            answer = json.loads(payload or b"{}")
        except ValueError:
            raise ControlError(f"not JSON (status {status}): {payload[:200]!r}") from None
        if status != 200:
            message = answer.get("error", {}).get("message") or payload.decode(errors="replace")
            raise ControlError(message)
        return answer

    def stop(self) -> Optional[int]:
        """SIGTERM, wait, SIGKILL after the deadline. Returns the exit status (None if it was
        already stopped). Idempotent."""
        if self.stopped:
            return None
        self.stopped = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        status = self.process.poll()
        if status is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                status = self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                status = self.process.wait()
            except KeyboardInterrupt:
                # A second Ctrl-C while it flushes: do not leave it behind.
                self.process.kill()
                self.process.wait()
                raise
        self._log.close()
        return status

    def _cleanup(self) -> None:
        self.stopped = True
        self._log.close()

    def remove_files(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


class ControlError(Exception):
    """The control API refused a request (the message is the server's)."""


class _Connection:
    """A kept-alive HTTP/1.1 connection to the control API: requests with a body of known
    length, answers with a ``content-length`` (what the server sends)."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> tuple:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            raise OSError(f"not an HTTP answer: {lines[0][:100]!r}") from None
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            raise OSError("an answer without content-length")
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return status, rest[:length]

    def _read(self) -> None:
        self.buffer += self._recv()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
