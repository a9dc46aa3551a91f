#!/usr/bin/env bash
# `traceforge diff` of two directories of 10,000 interactions each must finish in under 2 s
# (issue #4). Generates the data (benches/diff_data.py: realistic OpenAI/Anthropic shapes, a
# re-recording whose volatile fields all differ, planted changes and two pathological text
# pairs), builds the release binary, checks the report finds exactly the planted changes, then
# times the run and prints the figure with PASS/FAIL.
#
#   benches/diff.sh                      # 10,000 vs 10,000
#   BENCH_DIFF_N=20000 benches/diff.sh   # other sizes
#
# Variables: BENCH_DIFF_N (interactions per side, default 10000), BENCH_DIFF_LIMIT (seconds,
# default 2), BENCH_DIFF_RUNS (timed runs, default 5; the median counts), BENCH_NO_BUILD=1 (use
# target/release/traceforge as it is), BENCH_KEEP=1 (keep the generated data and print where),
# BENCH_STRICT=1 (exit 3 on FAIL). Needs bash, python3 (standard library) and cargo.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
n="${BENCH_DIFF_N:-10000}"
limit="${BENCH_DIFF_LIMIT:-2}"
runs="${BENCH_DIFF_RUNS:-5}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/traceforge-diff-bench.XXXXXX")"
if [ -n "${BENCH_KEEP:-}" ]; then
    echo "keeping $scratch" >&2
else
    trap 'rm -rf "$scratch"' EXIT
fi

echo "generating $n interactions per side in $scratch ..." >&2
python3 "$root/benches/diff_data.py" "$scratch" --interactions "$n"

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    (cd "$root" && cargo build --release --bin traceforge >&2)
fi
bin="$root/target/release/traceforge"
[ -x "$bin" ] || { echo "error: $bin is missing (build it, or unset BENCH_NO_BUILD)" >&2; exit 2; }

cd "$scratch"
# The figure is only worth something if the report is right: exit 1 (changes found) and exactly
# the planted counts.
set +e
"$bin" diff baseline candidate --format json > report.json
code=$?
set -e
if [ "$code" != 1 ]; then
    echo "error: traceforge diff exited $code, expected 1 (changes planted)" >&2
    exit 2
fi
python3 - <<'EOF'
import json, sys
report = json.load(open("report.json"))["summary"]
expected = json.load(open("expected.json"))
wrong = {k: (report.get(k), v) for k, v in expected.items() if report.get(k) != v}
if wrong:
    sys.exit(f"error: the report is wrong (got, expected): {wrong}")
EOF

times=()
for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" diff baseline candidate > report.txt || true
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))e-3")
done
baseline_bytes=$(du -sb baseline | cut -f1)
status=0
python3 - "$n" "$limit" "$baseline_bytes" "${times[@]}" <<'EOF' || status=$?
import os, statistics, sys
n, limit, size = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
times = sorted(float(t) for t in sys.argv[4:])
median = statistics.median(times)
load = os.getloadavg()[0]
print(f"traceforge diff: {n} vs {n} interactions ({size / 1e6:.0f} MB of YAML per side), "
      f"{os.cpu_count()} CPUs, load average {load:.2f}")
print(f"  runs: {', '.join(f'{t:.2f}s' for t in times)}")
print(f"  median {median:.2f}s, target < {limit:g}s: {'PASS' if median < limit else 'FAIL'}")
if load > (os.cpu_count() or 1):
    print("  note: the machine was busy (load average above the CPU count); run it again on a quiet one")
sys.exit(0 if median < limit else 3)
EOF
if [ "$status" != 0 ] && [ -n "${BENCH_STRICT:-}" ]; then
    exit 3
fi
