#!/usr/bin/env bash
# What the pytest plugin (integrations/pytest) costs, measured side by side with the same pytest
# without it (issue #14: under 200 ms added to a session's start, under 1 ms per test):
#
#   session start: pytest on a suite with no tests, the plugin off vs --traceforge=replay
#                  (starting the binary, waiting for its ready file, pointing the SDKs at it,
#                  stopping it at the end); BENCH_PYTEST_RUNS runs each, interleaved, medians.
#   per test:      a suite of BENCH_PYTEST_TESTS tiny tests without SDK calls, off vs replay
#                  (a control request before each test and one after it), minus the start
#                  overhead above, divided by the number of tests.
#
#   benches/pytest.sh
#   BENCH_PYTEST_RUNS=40 BENCH_PYTEST_TESTS=2000 benches/pytest.sh
#
# Variables: BENCH_PYTEST_RUNS (default 20), BENCH_PYTEST_TESTS (default 500), BENCH_NO_BUILD=1
# (use target/release/traceforge as it is), BENCH_BIN (another traceforge binary),
# BENCH_STRICT=1 (exit 3 on FAIL), BENCH_KEEP=1 (keep the scratch directory). Needs bash,
# python3 with pytest (the plugin is loaded from this checkout) and cargo.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${BENCH_PYTEST_RUNS:-20}"
tests="${BENCH_PYTEST_TESTS:-500}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/traceforge-pytest-bench.XXXXXX")"
if [ -n "${BENCH_KEEP:-}" ]; then
    echo "keeping $scratch" >&2
else
    trap 'rm -rf "$scratch"' EXIT
fi

bin="${BENCH_BIN:-$root/target/release/traceforge}"
if [ -z "${BENCH_NO_BUILD:-}" ] && [ -z "${BENCH_BIN:-}" ]; then
    (cd "$root" && cargo build --release --bin traceforge >&2)
fi
[ -x "$bin" ] || { echo "error: $bin is missing (build it, or unset BENCH_NO_BUILD)" >&2; exit 2; }
python3 -c "import pytest" 2>/dev/null || { echo "error: pytest is not installed (pip install pytest)" >&2; exit 2; }

python3 - "$root" "$bin" "$scratch" "$runs" "$tests" <<'EOF'
import collections, os, resource, statistics, subprocess, sys, time

root, binary, scratch, runs, tests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def suite(name, count):
    path = os.path.join(scratch, name)
    os.makedirs(os.path.join(path, "tests"))
    with open(os.path.join(path, "pytest.ini"), "w") as f:
        f.write("[pytest]\ntestpaths = tests\n")
    with open(os.path.join(path, "tests", "test_tiny.py"), "w") as f:
        f.write("".join(f"def test_{i}():\n    assert {i} == {i}\n\n" for i in range(count)))
    return path

empty = suite("empty", 0)
many = suite("many", tests)

env = {k: v for k, v in os.environ.items()
       if not (k.startswith(("TRACEFORGE_", "PYTEST_", "OTEL_")) or k == "CI")}
env["PYTHONPATH"] = os.path.join(root, "integrations/pytest/src") + (":" + env["PYTHONPATH"] if "PYTHONPATH" in env else "")
env["TRACEFORGE_BIN"] = binary
env["PYTHONDONTWRITEBYTECODE"] = "1"
installed = subprocess.run(
    [sys.executable, "-c", "import importlib.metadata as m, sys; sys.exit(0 if any(e.value.startswith('pytest_traceforge') for e in m.entry_points(group='pytest11')) else 1)"],
).returncode == 0
load = [] if installed else ["-p", "pytest_traceforge.plugin"]
cpu = collections.defaultdict(list)

def run(path, mode):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *load, f"--traceforge={mode}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # pytest and the server it waited for: CPU time barely moves with the machine's load.
    cpu[(path, mode)].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    # 5: no tests collected (the empty suite); anything else is a broken measurement.
    if done.returncode not in (0, 5):
        sys.exit(f"error: pytest --traceforge={mode} in {path} exited {done.returncode}:\n{done.stdout.decode()}")
    if mode == "replay" and b"traceforge server(s) stopped" not in done.stdout and path == many:
        sys.exit(f"error: the plugin did not run:\n{done.stdout.decode()}")
    return elapsed

def medians(path, count):
    times = {"off": [], "replay": []}
    run(path, "off"), run(path, "replay")  # warm the page cache
    for _ in range(count):
        for mode in ("off", "replay"):
            times[mode].append(run(path, mode))
    return {mode: statistics.median(t) for mode, t in times.items()}

print(f"pytest plugin overhead ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start, {runs} runs per figure, medians; binary {binary})")
start = medians(empty, runs)
added_start = start["replay"] - start["off"]
print(f"  empty suite:     off {start['off'] * 1000:7.1f} ms   replay {start['replay'] * 1000:7.1f} ms   added {added_start * 1000:6.1f} ms")
per = medians(many, max(3, runs // 4))
added_many = per["replay"] - per["off"]
per_test = (added_many - added_start) / tests
print(f"  {tests} tiny tests: off {per['off'] * 1000:7.1f} ms   replay {per['replay'] * 1000:7.1f} ms   added {added_many * 1000:6.1f} ms")
def cpu_added(path):
    return statistics.median(cpu[(path, "replay")]) - statistics.median(cpu[(path, "off")])
cpu_start = cpu_added(empty)
cpu_per_test = (cpu_added(many) - cpu_start) / tests
print(f"  CPU time added (pytest and the server, load-independent): session start {cpu_start * 1000:.1f} ms, per test {cpu_per_test * 1000:.3f} ms")
checks = [
    ("session start added", added_start * 1000, 200, "ms"),
    ("per test added", per_test * 1000, 1, "ms"),
]
failed = False
for name, value, limit, unit in checks:
    ok = value < limit
    failed |= not ok
    print(f"  {name:<20} {value:8.3f} {unit}  (target < {limit} {unit})  {'PASS' if ok else 'FAIL'}")
print(f"  load average at the end: {os.getloadavg()[0]:.1f} (above the CPU count, every figure is inflated)")
sys.exit(3 if failed and os.environ.get("BENCH_STRICT") else 0)
EOF
