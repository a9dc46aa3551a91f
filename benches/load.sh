#!/usr/bin/env bash
# `traceforge load` against DESIGN.md section 10, side by side with oha in one run.
#
#   benches/load.sh [throughput|rate|memory|all]      (default: all)
#
#   throughput  oha -c N -z D vs `traceforge load` (constant-vus, N VUs, duration D) against the
#               same target, alternating, BENCH_ROUNDS rounds. The target is a bare hyper
#               fixed-response server, or with BENCH_TARGET=replay a `traceforge vcr replay`
#               server answering a recorded chat completion (the two targets the issue names).
#               Targets: req/s >= 90% of oha's; p50 and p99 within 10% of oha's.
#               Checked with the target on CPU 0 and the client on CPU 1 (taskset; oha
#               --worker-threads 1, traceforge sizes its workers from its CPU affinity): a
#               closed loop's latency on shared cores also depends on how much CPU the client
#               leaves the server, which is the client's speed, not its timing. The same rounds
#               on shared cores follow, reported for information.
#   rate        latency at a fixed arrival rate (BENCH_RATE req/s, default 20000): oha -q RATE
#               --latency-correction vs constant-arrival-rate, alternating, BENCH_ROUNDS rounds.
#               No DESIGN target: it shows the two tools' timing agrees when neither client's
#               CPU appetite decides the latency (closed-loop latency on 2 shared cores does).
#   memory      peak RSS of `traceforge load` for BENCH_MEMORY_SMALL requests (default 100k)
#               and BENCH_MEMORY_LARGE requests (default 10M; about 2 minutes at 80k req/s).
#               Target: the large run's peak RSS within 10% of the small run's.
#
# Installs oha with `cargo install oha --locked` when it is missing (several minutes), builds
# the release binary and the bare_hyper example, and runs everything on 127.0.0.1 with free
# ports and bounded durations. Prints a table, also saved to benches/results/load.txt (raw
# output under benches/results/raw/load-*). The machine is shared and has 2 cores: only the
# ratios of one run mean anything; each round runs oha and traceforge back to back, and the
# verdict uses the median of the per-round ratios.
#
# Environment: BENCH_TARGET (hyper or replay; default hyper), BENCH_DURATION (default 5s),
# BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 5), BENCH_MEMORY_SMALL, BENCH_MEMORY_LARGE, BENCH_NO_BUILD=1 (use the release
# binaries already built), BENCH_STRICT=1 (exit 3 when a check fails), BENCH_KEEP=1 (keep the
# scratch directory).
set -euo pipefail

SECTION=${1:-all}
case "$SECTION" in
  throughput | rate | memory | all) ;;
  -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [throughput|rate|memory|all]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS=$ROOT/benches/results
RAW=$RESULTS/raw
DURATION=${BENCH_DURATION:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
ROUNDS=${BENCH_ROUNDS:-5}
RATE=${BENCH_RATE:-20000}
MEMORY_SMALL=${BENCH_MEMORY_SMALL:-100000}
MEMORY_LARGE=${BENCH_MEMORY_LARGE:-10000000}
TARGET_KIND=${BENCH_TARGET:-hyper}

SCRIPT=load.sh
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
[[ $TARGET_KIND == hyper || $TARGET_KIND == replay ]] ||
  die "BENCH_TARGET=$TARGET_KIND: expected hyper or replay"
wants() { [[ $SECTION == all || $SECTION == "$1" ]]; }

PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-load-bench.XXXXXX")
unset TRACEFORGE_CONFIG TRACEFORGE_CASSETTES TRACEFORGE_DB TARGET

cleanup() {
  local status=$?
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  cd /
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "load.sh: scratch files kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools and build ---------------------------------------------------------------------------

ensure_tools() {
  for tool in python3 cargo; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  [[ -x /usr/bin/time ]] || die "/usr/bin/time is required for peak RSS (apt-get install time)"
  if { wants throughput || wants rate; } && ! command -v oha >/dev/null; then
    log "installing oha (cargo install oha --locked; this takes several minutes)"
    cargo install oha --locked
  fi
}

BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'

# The target, by BENCH_TARGET. Sets $BASE (the scenario's ${TARGET}), $URL (what oha hits) and
# $SERVER_PID.
start_target() {
  if [[ $TARGET_KIND == replay ]]; then
    # One recorded chat completion (benches/fixtures.py, as benches/replay.sh serves it),
    # answered to every request; traces off, so the target does only the replay's work.
    python3 "$ROOT/benches/fixtures.py" replay "$WORK/replay" >/dev/null
    BODY=$(cat "$WORK/replay/request.json")
    start_server replay "$WORK/replay.ready" "$TF" vcr replay --cassettes "$WORK/replay/cassettes" \
      --allow-repeats --no-traces --listen 127.0.0.1:0 --ready-file "$WORK/replay.ready"
    BASE="http://$ADDR/openai"
    TARGET_LABEL="traceforge vcr replay (a recorded ~600-byte chat completion)"
  else
    start_bare
    BASE="http://$ADDR"
    TARGET_LABEL="bare hyper (fixed 542-byte JSON)"
  fi
  URL="$BASE/v1/chat/completions"
}

# Bare hyper answering every request with the same ~540-byte chat completion.
start_bare() {
  python3 - "$WORK/body.json" <<'EOF'
import json, sys
body = {"id": "chatcmpl-bench", "object": "chat.completion", "created": 1735689600,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant",
                     "content": "Hello! How can I help you today? " * 8},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 8, "completion_tokens": 60, "total_tokens": 68}}
open(sys.argv[1], "w").write(json.dumps(body))
EOF
  start_server bare "$WORK/bare.out" "$BARE" 127.0.0.1:0 "$WORK/body.json"
}

# A scenario file: constant-vus for the throughput runs, per-vu-iterations for memory.
scenario() {
  local file=$1 executor=$2
  {
    echo "scenarios:"
    echo "  bench:"
    if [[ $executor == constant-vus ]]; then
      echo "    executor: constant-vus"
      echo "    vus: $CONNECTIONS"
      echo "    duration: $DURATION"
    elif [[ $executor == constant-arrival-rate ]]; then
      echo "    executor: constant-arrival-rate"
      echo "    rate: $RATE"
      echo "    timeUnit: 1s"
      echo "    duration: $DURATION"
      echo "    preAllocatedVUs: $CONNECTIONS"
      echo "    maxVUs: $CONNECTIONS"
    else
      echo "    executor: per-vu-iterations"
      echo "    vus: $CONNECTIONS"
      echo "    iterations: $3"
      echo "    maxDuration: 30m"
    fi
    echo "    gracefulStop: 5s"
    echo "    request:"
    echo "      method: POST"
    echo "      url: \"\${TARGET}/v1/chat/completions\""
    echo "      headers: {content-type: application/json}"
    echo "      body: $BODY"
  } >"$file"
}

# --- 1. throughput and latency against oha -----------------------------------------------------

# CPU placement for a set of rounds: "pinned" puts every thread of the target on CPU 0 and each
# client on CPU 1, "shared" lets both use every CPU. Sets CLIENT (a command prefix) and OHA_CPU
# (oha's thread option).
place() {
  if [[ $1 == pinned ]]; then
    taskset -a -p -c 0 "$SERVER_PID" >/dev/null
    CLIENT=(taskset -c 1)
    OHA_CPU=(--worker-threads 1)
  else
    taskset -a -p -c "0-$(($(nproc) - 1))" "$SERVER_PID" >/dev/null
    CLIENT=()
    OHA_CPU=()
  fi
}

bench_throughput() {
  local placements=(pinned shared)
  if [[ $(nproc) -lt 2 ]] || ! command -v taskset >/dev/null; then
    log "one CPU or no taskset: the rounds run on shared cores only"
    placements=(shared)
  fi
  for placement in "${placements[@]}"; do
    closed_loop "$placement"
  done
}

closed_loop() {
  local placement=$1
  log "1. throughput and latency ($placement CPUs): oha vs traceforge load, $ROUNDS rounds"
  place "$placement"
  scenario "$WORK/throughput.yaml" constant-vus
  # Warm-up: connections, page cache, CPU frequency.
  "${CLIENT[@]}" oha -c "$CONNECTIONS" -z 1s "${OHA_CPU[@]}" --no-tui --output-format quiet \
    -m POST -H 'content-type: application/json' -d "$BODY" "$URL" >/dev/null 2>&1 || true
  for round in $(seq "$ROUNDS"); do
    log "round $round: oha -c $CONNECTIONS -z $DURATION"
    "${CLIENT[@]}" oha -c "$CONNECTIONS" -z "$DURATION" "${OHA_CPU[@]}" --no-tui \
      --output-format json -m POST -H 'content-type: application/json' -d "$BODY" "$URL" \
      >"$RAW/load-$placement-oha-$round.json" 2>"$RAW/load-$placement-oha-$round.err" ||
      die "oha failed: $(cat "$RAW/load-$placement-oha-$round.err")"
    log "round $round: traceforge load (constant-vus, $CONNECTIONS VUs, $DURATION)"
    "${CLIENT[@]}" "$TF" load "$WORK/throughput.yaml" --target "$BASE" --quiet \
      --summary-export "$RAW/load-$placement-traceforge-$round.json" \
      >"$RAW/load-$placement-traceforge-$round.out" 2>&1 ||
      die "traceforge load failed: $(cat "$RAW/load-$placement-traceforge-$round.out")"
  done
  place shared
  python3 - "$RAW" "$ROUNDS" "$CONNECTIONS" "$DURATION" "$TARGET_LABEL" "$placement" >>"$REPORT" <<'EOF'
import json, statistics, sys
raw, rounds, connections, duration, target, placement = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
rows, ratios = [], {"rps": [], "p50": [], "p99": []}
means = []  # (oha mean, oha VUs/throughput, traceforge mean, traceforge VUs/throughput), ms
for r in range(1, rounds + 1):
    oha = json.load(open(f"{raw}/load-{placement}-oha-{r}.json"))
    tf = json.load(open(f"{raw}/load-{placement}-traceforge-{r}.json"))
    if oha["summary"]["successRate"] != 1.0:
        sys.exit(f"round {r}: oha saw failures: {oha['statusCodeDistribution']} {oha['errorDistribution']}")
    if tf["metrics"]["http_req_failed"]["values"]["rate"] != 0:
        sys.exit(f"round {r}: traceforge load saw failed requests: {tf['errors']}")
    o = (oha["summary"]["requestsPerSec"], oha["latencyPercentiles"]["p50"] * 1000,
         oha["latencyPercentiles"]["p99"] * 1000)
    d = tf["metrics"]["http_req_duration"]["values"]
    t = (tf["metrics"]["http_reqs"]["values"]["rate"], d["med"], d["p(99)"])
    for key, i in (("rps", 0), ("p50", 1), ("p99", 2)):
        ratios[key].append(t[i] / o[i])
    # Little's law for a closed loop: mean latency = concurrency / throughput, if a tool times
    # the whole of each request and nothing else.
    means.append((oha["summary"]["average"] * 1000, int(connections) / o[0] * 1000,
                  d["avg"], int(connections) / t[0] * 1000))
    rows.append((r, o, t))
where = {"pinned": "target on CPU 0, each client on CPU 1 (oha --worker-threads 1)",
         "shared": "target and client sharing every CPU (information: not the check)"}[placement]
print(f"\n1. oha vs traceforge load: -c {connections} for {duration} against {target}, "
      f"{rounds} alternating rounds; {where}")
print(f"{'round':<6}{'tool':<18}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
for r, o, t in rows:
    print(f"{r:<6}{'oha':<18}{o[0]:>12.0f}{o[1]:>10.3f}{o[2]:>10.3f}")
    print(f"{'':<6}{'traceforge load':<18}{t[0]:>12.0f}{t[1]:>10.3f}{t[2]:>10.3f}")
    print(f"{'':<6}{'ratio':<18}{t[0]/o[0]:>12.2f}{t[1]/o[1]:>10.2f}{t[2]/o[2]:>10.2f}")
spread = lambda i: (min(o[i] for _, o, _ in rows), max(o[i] for _, o, _ in rows))
print("oha's own spread across rounds (the noise floor of this machine): "
      "req/s {:.0f}-{:.0f}, p50 {:.3f}-{:.3f} ms, p99 {:.3f}-{:.3f} ms".format(
          *spread(0), *spread(1), *spread(2)))
print("mean latency vs Little's law (concurrency / throughput), per round: " + "; ".join(
    f"oha {a:.3f}/{b:.3f}, traceforge {c:.3f}/{e:.3f} ms" for a, b, c, e in means))
print("mean latency, traceforge / oha (median of rounds): {:.2f} (informational: p50 and p99 "
      "also depend on how each client schedules its connections)".format(
          statistics.median(c / a for a, _, c, _ in means)))
med = {k: statistics.median(v) for k, v in ratios.items()}
checks = [
    ("req/s, traceforge / oha (median of rounds)", med["rps"], ">= 0.90", med["rps"] >= 0.90),
    ("p50, traceforge / oha (median of rounds)", med["p50"], "0.90-1.10", 0.90 <= med["p50"] <= 1.10),
    ("p99, traceforge / oha (median of rounds)", med["p99"], "0.90-1.10", 0.90 <= med["p99"] <= 1.10),
]
for name, value, target, ok in checks:
    if placement == "pinned":
        print(f"CHECK {name:<46} {value:>6.2f}  target {target:<10} {'PASS' if ok else 'FAIL'}")
    else:
        print(f"INFO  {name:<46} {value:>6.2f}  (target {target} is checked pinned)")
EOF
}

# --- 1b. latency at a fixed arrival rate -------------------------------------------------------

bench_rate() {
  log "1b. latency at $RATE req/s: oha -q vs constant-arrival-rate, $ROUNDS rounds"
  scenario "$WORK/rate.yaml" constant-arrival-rate
  for round in $(seq "$ROUNDS"); do
    log "round $round: oha -c $CONNECTIONS -q $RATE -z $DURATION --latency-correction"
    oha -c "$CONNECTIONS" -q "$RATE" -z "$DURATION" --latency-correction --no-tui \
      --output-format json -m POST -H 'content-type: application/json' -d "$BODY" "$URL" \
      >"$RAW/rate-oha-$round.json" 2>"$RAW/rate-oha-$round.err" ||
      die "oha failed: $(cat "$RAW/rate-oha-$round.err")"
    log "round $round: traceforge load (constant-arrival-rate $RATE/s, $CONNECTIONS VUs)"
    "$TF" load "$WORK/rate.yaml" --target "$BASE" --quiet \
      --summary-export "$RAW/rate-traceforge-$round.json" \
      >"$RAW/rate-traceforge-$round.out" 2>&1 ||
      die "traceforge load failed: $(cat "$RAW/rate-traceforge-$round.out")"
  done
  python3 - "$RAW" "$ROUNDS" "$RATE" "$CONNECTIONS" "$DURATION" >>"$REPORT" <<'EOF'
import json, statistics, sys
raw, rounds, rate, connections, duration = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
print(f"\n1b. latency at a fixed {rate} req/s for {duration} ({connections} connections / VUs), "
      f"{rounds} alternating rounds; oha with --latency-correction, traceforge from the intended start")
print(f"{'round':<6}{'tool':<18}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'dropped':>9}")
p50, p99 = [], []
for r in range(1, rounds + 1):
    oha = json.load(open(f"{raw}/rate-oha-{r}.json"))
    tf = json.load(open(f"{raw}/rate-traceforge-{r}.json"))
    o = (oha["summary"]["requestsPerSec"], oha["latencyPercentiles"]["p50"] * 1000,
         oha["latencyPercentiles"]["p99"] * 1000)
    d = tf["metrics"]["http_req_duration"]["values"]
    dropped = tf["metrics"].get("dropped_iterations", {}).get("values", {}).get("count", 0)
    t = (tf["metrics"]["http_reqs"]["values"]["rate"], d["med"], d["p(99)"])
    p50.append(t[1] / o[1])
    p99.append(t[2] / o[2])
    print(f"{r:<6}{'oha':<18}{o[0]:>12.0f}{o[1]:>10.3f}{o[2]:>10.3f}")
    print(f"{'':<6}{'traceforge load':<18}{t[0]:>12.0f}{t[1]:>10.3f}{t[2]:>10.3f}{dropped:>9.0f}")
print(f"median ratios traceforge / oha: p50 {statistics.median(p50):.2f}, "
      f"p99 {statistics.median(p99):.2f} (informational)")
EOF
}

# --- 2. memory flat in the number of requests --------------------------------------------------

peak_rss_kb() {
  local requests=$1 key=$2
  local per_vu=$(((requests + CONNECTIONS - 1) / CONNECTIONS))
  scenario "$WORK/memory-$key.yaml" per-vu-iterations "$per_vu"
  log "memory: $((per_vu * CONNECTIONS)) requests ($CONNECTIONS VUs x $per_vu iterations)"
  /usr/bin/time -v "$TF" load "$WORK/memory-$key.yaml" --target "$BASE" --quiet \
    --summary-export "$RAW/load-memory-$key.json" >"$RAW/load-memory-$key.out" \
    2>"$RAW/load-memory-$key.time" ||
    die "traceforge load failed: $(cat "$RAW/load-memory-$key.out" "$RAW/load-memory-$key.time")"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$RAW/load-memory-$key.time"
}

bench_memory() {
  log "2. memory: peak RSS for $MEMORY_SMALL vs $MEMORY_LARGE requests"
  local small large
  small=$(peak_rss_kb "$MEMORY_SMALL" small)
  large=$(peak_rss_kb "$MEMORY_LARGE" large)
  python3 - "$RAW" "$small" "$large" "$TARGET_LABEL" >>"$REPORT" <<'EOF'
import json, sys
raw, small, large, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"\n2. peak RSS (/usr/bin/time -v) of traceforge load, per-vu-iterations against {target}")
for key, rss in (("small", small), ("large", large)):
    s = json.load(open(f"{raw}/load-memory-{key}.json"))
    reqs = s["metrics"]["http_reqs"]["values"]
    print(f"{key:<6} {int(reqs['count']):>10} requests in {s['state']['testRunDurationMs']/1000:7.1f} s "
          f"({reqs['rate']:.0f} req/s): peak RSS {rss/1024:7.1f} MiB")
ratio = large / small
print(f"CHECK {'peak RSS, large run / small run':<46} {ratio:>6.2f}  target {'<= 1.10':<10} "
      f"{'PASS' if ratio <= 1.10 else 'FAIL'}")
EOF
}

# --- main --------------------------------------------------------------------------------------

mkdir -p "$RAW"
REPORT=$RESULTS/load.txt
{
  echo "traceforge load benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpus: $(nproc), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$REPORT"
ensure_tools
build
{
  echo "traceforge: $("$TF" --version)"
  if wants throughput || wants rate; then echo "oha: $(oha --version)"; fi
} >>"$REPORT"
start_target
if wants throughput; then bench_throughput; fi
if wants rate; then bench_rate; fi
if wants memory; then bench_memory; fi
cat "$REPORT"
if [[ ${BENCH_STRICT:-0} == 1 ]] && grep -q ' FAIL$' "$REPORT"; then
  exit 3
fi
