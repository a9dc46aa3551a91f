"""The pytest plugin: ``pytest --traceforge=record|replay|off`` (or ``TRACEFORGE_MODE``).

Per pytest process (each xdist worker; never the xdist controller) it starts one traceforge
server, points the official SDKs at it through the environment variables ``traceforge vcr
record -- CMD`` gives a wrapped command, and before each test tells the server, through its
control API, which cassette requests without an ``X-TraceForge-Cassette`` header belong to: one
per test, named after the node id (see ``naming``), or what ``@pytest.mark.traceforge`` says.
The test's code does not change. After the test it asks the server for the replay misses the
test caused and fails the test with their report. At the end of the session (also on Ctrl-C)
the server is stopped, which writes every cassette.
"""

from __future__ import annotations

import atexit
import os
import re
from typing import Optional

import pytest

from .naming import cassette_name
from .server import ControlError, Server, StartError, find_binary

MODES = ("record", "replay", "off")
RECORD_MODES = ("once", "new-episodes", "all")
MODE_ENV = "TRACEFORGE_MODE"
CASSETTE_PATH = "/_traceforge/v1/cassette"
MISSES_PATH = "/_traceforge/v1/misses"
REPLAY_KEY = "traceforge-replay"
_SUMMARY = re.compile(
    r"^traceforge vcr \w+: (\d+) cassette\(s\), (\d+) recorded, (\d+) replayed, (\d+) missed",
    re.M,
)


def pytest_addoption(parser):
    group = parser.getgroup("traceforge", "record and replay LLM API calls with traceforge")
    group.addoption(
        "--traceforge",
        dest="traceforge",
        choices=MODES,
        default=None,
        help="record: forward the SDKs' calls to the real APIs and record one cassette per test; "
        "replay: answer from the cassettes without network or API key, and fail a test whose "
        "request was not recorded; off: do nothing. Default: $TRACEFORGE_MODE, else off.",
    )
    group.addoption(
        "--traceforge-cassette-dir",
        dest="traceforge_cassette_dir",
        metavar="DIR",
        default=None,
        help="directory of the cassettes [default: `cassettes:` in traceforge.yaml, else cassettes]",
    )
    group.addoption(
        "--traceforge-record-mode",
        dest="traceforge_record_mode",
        choices=RECORD_MODES,
        default="new-episodes",
        help="with --traceforge=record: once, new-episodes (default: replay what matches, "
        "record the rest) or all (re-record every cassette a test uses)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "traceforge(cassette=None, match=None): this test's traceforge cassette name (instead of "
        "one named after the node id) and match fields (e.g. ['method', 'path'])",
    )
    mode = _mode(config)
    if mode == "off":
        return
    if _is_xdist_controller(config):
        config.pluginmanager.register(Controller(mode), "traceforge-controller")
        return
    try:
        plugin = Plugin.start(config, mode)
    except StartError as error:
        raise pytest.UsageError(f"traceforge: {error}") from None
    config.pluginmanager.register(plugin, "traceforge-session")


def _mode(config) -> str:
    mode = config.getoption("traceforge")
    if mode is not None:
        return mode
    env = os.environ.get(MODE_ENV, "").strip().lower()
    if env == "":
        return "off"
    if env not in MODES:
        raise pytest.UsageError(f"{MODE_ENV}={env!r}: expected record, replay or off")
    return env


def _is_xdist_controller(config) -> bool:
    if hasattr(config, "workerinput"):
        return False
    return bool(config.getoption("numprocesses", None))


def _marker_options(item) -> tuple:
    """The cassette name and match fields for this test."""
    marker = item.get_closest_marker("traceforge")
    name = None
    match = None
    if marker is not None:
        name = marker.kwargs.get("cassette", marker.args[0] if marker.args else None)
        match = marker.kwargs.get("match")
        unknown = set(marker.kwargs) - {"cassette", "match"}
        if unknown:
            pytest.fail(
                f"@pytest.mark.traceforge: unknown argument(s) {', '.join(sorted(unknown))} "
                "(expected cassette=..., match=...)",
                pytrace=False,
            )
        if isinstance(match, str):
            match = [f.strip() for f in match.split(",") if f.strip()]
        elif match is not None:
            match = list(match)
    return name or cassette_name(item.nodeid), match


class Plugin:
    """The session's server and what it reported, registered as a pytest plugin."""

    def __init__(self, config, mode: str, server: Server):
        self.config = config
        self.mode = mode
        self.server = server
        self.since = 0
        self.attributed = set()
        self.cassettes_dir: Optional[str] = None
        self.unattributed: list = []
        self.summary: Optional[str] = None
        self.status: Optional[int] = None
        self.errors: list = []
        self.finished = False
        self.saved_env: dict = {}
        # Only replay and `once` can miss; recording new episodes or everything never does,
        # so those runs skip the question after each test.
        self.can_miss = mode == "replay" or config.getoption("traceforge_record_mode") == "once"

    @classmethod
    def start(cls, config, mode: str) -> "Plugin":
        binary = find_binary()
        verb = "record" if mode == "record" else "replay"
        args = []
        if verb == "record":
            args += ["--mode", config.getoption("traceforge_record_mode")]
        directory = config.getoption("traceforge_cassette_dir")
        if directory:
            args += ["--cassettes", os.path.join(str(config.invocation_params.dir), directory)]
        # The binary reads the project's traceforge.yaml from its working directory, as it does
        # when run by hand from the project root.
        server = Server(binary, verb, args, cwd=str(config.rootpath))
        plugin = cls(config, mode, server)
        plugin.point_sdks()
        atexit.register(plugin.finish)
        return plugin

    def point_sdks(self) -> None:
        """Sets what `vcr record|replay -- CMD` gives CMD (src/commands/vcr.rs, child_env)."""
        url = self.server.url
        env = {
            "OPENAI_BASE_URL": f"{url}/openai/v1",
            "ANTHROPIC_BASE_URL": f"{url}/anthropic",
            "TRACEFORGE_PROXY_URL": url,
        }
        if self.mode == "replay":
            for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
                if key not in os.environ:
                    env[key] = REPLAY_KEY
        for name, value in env.items():
            self.saved_env[name] = os.environ.get(name)
            os.environ[name] = value

    def restore_env(self) -> None:
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.saved_env = {}

    def control(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        try:
            return self.server.call(method, path, body)
        except ControlError as error:
            pytest.fail(f"traceforge: {error}", pytrace=False)
        except OSError as error:
            pytest.fail(
                f"traceforge: the server ({self.server.url}) did not answer: {error}\n"
                f"{self.server.log().strip()}",
                pytrace=False,
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        # Before any fixture runs, so a fixture's requests go to the test's cassette too.
        name, match = _marker_options(item)
        body = {"cassette": name}
        if match is not None:
            body["match"] = match
        answer = self.control("PUT", CASSETTE_PATH, body)
        self.since = answer["misses"]
        self.cassettes_dir = answer["cassettes_dir"]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if call.when != "call" or not self.can_miss:
            return
        report = outcome.get_result()
        try:
            answer = self.server.call("GET", f"{MISSES_PATH}?since={self.since}")
        except (ControlError, OSError):
            return
        misses = answer["misses"]
        if not misses and not answer.get("dropped"):
            return
        self.since = answer["next"]
        self.attributed.update(m["seq"] for m in misses)
        text = _render_misses(misses, answer.get("dropped", 0))
        if report.passed and not hasattr(report, "wasxfail"):
            report.outcome = "failed"
            report.longrepr = text
        elif report.failed:
            longrepr = report.longrepr
            if hasattr(longrepr, "addsection"):
                longrepr.addsection("traceforge replay miss", text)
            else:
                report.longrepr = f"{longrepr}\n\n{text}"

    def pytest_sessionfinish(self, session, exitstatus):
        self.finish()
        if self.unattributed and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["traceforge"] = self.result()

    def pytest_terminal_summary(self, terminalreporter):
        _write_summary(terminalreporter, self.mode, [self.result()])

    def pytest_unconfigure(self, config):
        self.finish()
        self.restore_env()

    def finish(self) -> None:
        """Collects misses no test was failed for, stops the server, reads its summary."""
        if self.finished:
            return
        self.finished = True
        if self.server.process.poll() is None:
            try:
                answer = self.server.call("GET", f"{MISSES_PATH}?since=0")
                self.unattributed = [
                    m for m in answer["misses"] if m["seq"] not in self.attributed
                ]
            except (ControlError, OSError, KeyError, ValueError):
                pass
        self.status = self.server.stop()
        log = self.server.log()
        found = _SUMMARY.search(log)
        self.summary = found.group(0) if found else None
        # Anything the server printed as an error (a cassette it could not write) is kept.
        self.errors = [line for line in log.splitlines() if line.startswith("error:")]
        self.server.remove_files()

    def result(self) -> dict:
        return {
            "pid": self.server.pid,
            "cassettes_dir": self.cassettes_dir,
            "summary": self.summary,
            "errors": self.errors,
            "unattributed": [m["report"] for m in self.unattributed],
        }


class Controller:
    """The xdist controller: starts no server, gathers what each worker's server did."""

    def __init__(self, mode: str):
        self.mode = mode
        self.results: list = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        result = getattr(node, "workeroutput", {}).get("traceforge")
        if result is not None:
            self.results.append(result)

    def pytest_sessionfinish(self, session, exitstatus):
        if any(r["unattributed"] for r in self.results) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        _write_summary(terminalreporter, self.mode, self.results)


def _render_misses(misses: list, dropped: int) -> str:
    lines = [f"traceforge: {len(misses)} request(s) of this test had no recorded answer:"]
    lines += [m["report"].rstrip("\n") for m in misses]
    if dropped:
        lines.append(f"traceforge: {dropped} older miss report(s) were dropped")
    return "\n".join(lines)


def _write_summary(reporter, mode: str, results: list) -> None:
    if not results:
        return
    reporter.write_sep("-", f"traceforge {mode}")
    totals = [0, 0, 0, 0]
    dirs = sorted({r["cassettes_dir"] for r in results if r["cassettes_dir"]})
    for result in results:
        found = _SUMMARY.match(result["summary"] or "")
        if found:
            totals = [t + int(n) for t, n in zip(totals, found.groups())]
    where = ", ".join(dirs) if dirs else "(no test ran)"
    reporter.write_line(
        f"cassettes in {where}: {totals[0]} cassette(s) used, {totals[1]} recorded, "
        f"{totals[2]} replayed, {totals[3]} missed"
    )
    pids = ", ".join(str(r["pid"]) for r in results)
    reporter.write_line(f"traceforge server(s) stopped: pid {pids}")
    for result in results:
        for line in result["errors"]:
            reporter.write_line(f"traceforge: {line}", red=True)
        for report in result["unattributed"]:
            reporter.write_line("traceforge: a replay miss outside any test's call:", red=True)
            reporter.write_line(report.rstrip("\n"))
