#!/usr/bin/env bash
# Replay throughput with the structured log off and on (issue 13: with JSON logs at info, one
# event per request, replay keeps >= 0.90x the throughput without them), side by side in one run.
#
#   benches/logs.sh
#
# The replay server of benches/replay.sh (same cassette, same wrk request), run with
#   off        --log-format json, TRACEFORGE_LOG=off      (nothing logged)
#   text       the defaults (text, warn: nothing per request)
#   json-info  --log-format json, TRACEFORGE_LOG=info     (one JSON line per request)
# each in turn for BENCH_ROUNDS rounds (alternating, so drift on a shared machine hits all of
# them alike), stderr to a file as a log collector would take it. Prints the median requests/s
# of each and its ratio to `off`, and checks that json-info wrote one event per request.
#
# Environment: BENCH_DURATION (wrk measured run, default 5s), BENCH_CONNECTIONS (default 32),
# BENCH_ROUNDS (default 3), BENCH_NO_BUILD=1 (use the release binaries already built).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
DURATION=${BENCH_DURATION:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
SCRIPT=logs.sh
# shellcheck source=benches/lib.sh
source "$BENCH/lib.sh"

PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-logs-bench.XXXXXX")
unset TRACEFORGE_CONFIG TRACEFORGE_CASSETTES TRACEFORGE_DB TRACEFORGE_PII_KEY TRACEFORGE_LOG \
  TRACEFORGE_LOG_FORMAT

stop_on_exit

command -v wrk >/dev/null || die "wrk is required (apt-get install wrk)"
build
fx=$WORK/replay
python3 "$BENCH/fixtures.py" replay "$fx"
mkdir -p "$WORK/run" && cd "$WORK/run"

# Runs one variant once; prints its requests/s.
run_variant() {
  local variant=$1 round=$2 name="replay-$1-$2"
  local flags=() env=()
  case "$variant" in
    off) flags=(--log-format json) env=(TRACEFORGE_LOG=off) ;;
    text) ;;
    json-info) flags=(--log-format json) env=(TRACEFORGE_LOG=info) ;;
  esac
  start_server "$name" "$WORK/$name.ready" env "${env[@]+"${env[@]}"}" "$TF" vcr replay \
    "${flags[@]+"${flags[@]}"}" --cassettes "$fx/cassettes" --allow-repeats \
    --listen 127.0.0.1:0 --ready-file "$WORK/$name.ready"
  local url="http://$ADDR/openai/v1/chat/completions"
  wrk -t2 -c"$CONNECTIONS" -d1s -s "$BENCH/post.lua" "$url" >/dev/null 2>&1 ||
    die "$name: wrk warm-up failed"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 5s -s "$BENCH/post.lua" "$url" \
    >"$WORK/$name.wrk" 2>&1 || die "$name: wrk failed: $(cat "$WORK/$name.wrk")"
  stop_pid "$SERVER_PID"
  PIDS=()
  if grep -q 'Non-2xx' "$WORK/$name.wrk"; then die "$name: non-2xx answers: $(cat "$WORK/$name.wrk")"; fi
  local requests events
  requests=$(awk '/requests in/ {print $1}' "$WORK/$name.wrk")
  events=$(grep -c '"message":"request"' "$WORK/$name.log" || true)
  if [[ $variant == json-info ]]; then
    # Warm-up and measured run together; the whole log must be there after the stop.
    ((events >= requests)) || die "$name: $events request events for at least $requests requests"
  else
    ((events == 0)) || die "$name: $events request events with the log off"
  fi
  awk '/Requests\/sec/ {print $2}' "$WORK/$name.wrk"
}

declare -A RESULTS
for round in $(seq "$ROUNDS"); do
  for variant in off text json-info; do
    rps=$(run_variant "$variant" "$round")
    log "round $round, $variant: $rps requests/s"
    RESULTS[$variant]+="$rps "
  done
done

echo
echo "replay throughput, wrk -t2 -c$CONNECTIONS -d$DURATION, median of $ROUNDS alternating rounds"
python3 - "${RESULTS[off]}" "${RESULTS[text]}" "${RESULTS[json-info]}" <<'PY'
import statistics, sys
names = ["off (json, TRACEFORGE_LOG=off)", "text (defaults: warn)", "json-info (one event/request)"]
medians = [statistics.median(float(x) for x in arg.split()) for arg in sys.argv[1:]]
runs = [[float(x) for x in arg.split()] for arg in sys.argv[1:]]
for name, arg, median in zip(names, sys.argv[1:], medians):
    print(f"  {name:32} {median:10.0f} req/s  {median / medians[0]:.3f}x off   runs: {arg.strip()}")
# Each round's variants ran back to back, so a round's ratio is less exposed to drift.
paired = statistics.median(j / ((o + t) / 2) for o, t, j in zip(*runs))
print(f"  json-info / mean(off, text), median of per-round ratios: {paired:.3f}x (target >= 0.90)")
PY
