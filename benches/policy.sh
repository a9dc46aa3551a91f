#!/usr/bin/env bash
# Policy engine benchmarks (issue 12, "Performance"); see benches/README.md.
#
#   benches/policy.sh [eval|check|proxy|all]      (default: all)
#
#   eval   load+compile of 10 policies / 100 rules (one a 10,000-name blocked-terms list; the
#          loader compiles on two threads, so this part runs unpinned), and p50/p99 of
#          evaluating a 10 KB request and answer, beside no policies (the `policy` example,
#          benches/policy.rs, pinned to one core; BENCH_RUNS runs)
#   check  `traceforge policy check` over 100,000 recorded interactions (1,000 cassettes x 100)
#          -> interactions/s (BENCH_RUNS runs; the same with an empty policy directory beside)
#   proxy  `benches/replay.sh record` and `throughput`, without and then with
#          PROXY_POLICIES=<that policy set>, and the ratios between the two runs
#
# Environment: BENCH_RUNS (default 3), BENCH_NO_BUILD=1 (use the release binaries in target/),
# BENCH_KEEP=1 (keep the scratch directory), and replay.sh's variables for `proxy`.
set -euo pipefail

SECTION=${1:-all}
case "$SECTION" in
  eval | check | proxy | all) ;;
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [eval|check|proxy|all]" >&2; exit 2 ;;
esac
wants() { [[ $SECTION == all || $SECTION == "$1" ]]; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${BENCH_RUNS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-policy-bench.XXXXXX")
if [[ -n ${BENCH_KEEP:-} ]]; then
  trap 'echo "kept $WORK" >&2' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  log "cargo build --release --bin traceforge --example policy --example bare_hyper"
  cargo build --release --bin traceforge --example policy --example bare_hyper 2>&1 | tail -1
fi
target=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
mkdir -p "$WORK/bin"
cp "$target/release/traceforge" "$target/release/examples/policy" "$WORK/bin/"
TF=$WORK/bin/traceforge
POLICY=$WORK/bin/policy

"$POLICY" generate "$WORK/policies"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $("$TF" --version), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if wants eval; then
  for run in $(seq "$RUNS"); do
    echo "== load, run $run of $RUNS (unpinned; target: wall < 10 ms)"
    "$POLICY" load "$WORK/policies" 20
    echo "== eval, run $run of $RUNS (one core)"
    "${pin[@]}" "$POLICY" measure "$WORK/policies" 20 5000
  done
fi

if wants check; then
  log "writing 1,000 cassettes x 100 interactions"
  "$POLICY" cassettes "$WORK/cassettes" 1000 100
  mkdir -p "$WORK/empty"
  echo "== policy check over 100,000 interactions ($RUNS runs each, alternating)"
  for run in $(seq "$RUNS"); do
    for which in policies empty; do
      start=$(date +%s.%N)
      status=0
      (cd "$WORK" && "$TF" policy check --policies "$WORK/$which" --cassettes "$WORK/cassettes" \
        --format json >"$WORK/check-$which.json" 2>"$WORK/check-$which.err") || status=$?
      end=$(date +%s.%N)
      # 0 clean, 1 findings at or above --fail-on: both are a finished check.
      if ((status > 1)); then
        cat "$WORK/check-$which.err" >&2
        echo "policy check failed with exit $status" >&2
        exit 1
      fi
      python3 - "$WORK/check-$which.json" "$start" "$end" "$which" "$run" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
seconds = float(sys.argv[3]) - float(sys.argv[2])
n = report.get("interactions", report.get("checked"))
if isinstance(n, list):
    n = len(n)
findings = report.get("findings", [])
label = "10 policies" if sys.argv[4] == "policies" else "no policies"
print(f"  run {sys.argv[5]} {label}: {n} interactions, {len(findings)} findings in {seconds:.2f} s wall"
      f" = {n / seconds:,.0f} interactions/s (target >= 20,000 with policies)")
PY
    done
  done
fi

if wants proxy; then
  # replay.sh replaces benches/results/replay-raw on every run: keep each run's copy.
  for which in without with; do
    for section in record throughput; do
      log "replay.sh $section, $which policies"
      if [[ $which == with ]]; then
        PROXY_POLICIES="$WORK/policies" BENCH_NO_BUILD=1 "$ROOT/benches/replay.sh" "$section" \
          >"$WORK/replay-$which-$section.txt"
      else
        env -u PROXY_POLICIES BENCH_NO_BUILD=1 "$ROOT/benches/replay.sh" "$section" \
          >"$WORK/replay-$which-$section.txt"
      fi
      cp -r "$ROOT/benches/results/replay-raw" "$WORK/raw-$which-$section"
    done
  done
  echo "== replay.sh record and throughput, without and with the 10 policies (--policies)"
  python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
def load(which, section, name):
    with open(os.path.join(work, f"raw-{which}-{section}", name)) as f:
        return json.load(f)
rows = {}
for which in ("without", "with"):
    lat = load(which, "record", "record-latency.json")
    ttfb = load(which, "record", "record-ttfb.json")
    bare = load(which, "throughput", "throughput-bare.json")
    tf = load(which, "throughput", "throughput-traceforge.json")
    rows[which] = {
        "added_p50": lat["proxy"]["p50_ms"] - lat["direct"]["p50_ms"],
        "added_p99": lat["proxy"]["p99_ms"] - lat["direct"]["p99_ms"],
        "ttfb_p50": ttfb["proxy"]["p50_ms"],
        "ttfb_p99": ttfb["proxy"]["p99_ms"],
        "ttfb_added_p50": ttfb["proxy"]["p50_ms"] - ttfb["direct"]["p50_ms"],
        "ratio": tf["rps"] / bare["rps"],
        "rps": tf["rps"],
        "bare": bare["rps"],
        "p99_ratio": tf["p99_ms"] / bare["p99_ms"],
    }
    r = rows[which]
    print(f"  {which:7} policies: record adds p50 {r['added_p50']:+.3f} ms, p99 {r['added_p99']:+.3f} ms;"
          f" streamed TTFB through the proxy p50 {r['ttfb_p50']:.3f} p99 {r['ttfb_p99']:.3f} ms"
          f" ({r['ttfb_added_p50']:+.3f} ms over direct at p50);"
          f" replay {r['rps']:,.0f} req/s = {r['ratio']:.2f}x bare hyper ({r['bare']:,.0f}),"
          f" p99 {r['p99_ratio']:.2f}x")
w, wo = rows["with"], rows["without"]
def verdict(ok):
    return "PASS" if ok else "FAIL"
print(f"  record added p99 with policies {w['added_p99']:+.3f} ms (target < 1 ms): {verdict(w['added_p99'] < 1)}")
print(f"  replay with policies {w['ratio']:.2f}x bare hyper (target >= 0.70): {verdict(w['ratio'] >= 0.70)};"
      f" with/without {w['rps'] / wo['rps']:.2f}")
d50, d99 = w["ttfb_p50"] - wo["ttfb_p50"], w["ttfb_p99"] - wo["ttfb_p99"]
print(f"  streamed TTFB with - without policies: p50 {d50:+.3f} ms, p99 {d99:+.3f} ms"
      f" (target within 1 ms, at p50: {verdict(abs(d50) <= 1)})")
PY
  echo "  (each replay.sh run's table is in the scratch directory: BENCH_KEEP=1 keeps it)"
fi
