#!/usr/bin/env bash
# OTLP span export (issue 13 §4): what the exporter sustains, and what it adds to recording.
#
#   benches/otlp.sh
#
#   0. encoding: `otlp encode N` (the exporter's CPU per span without I/O, pinned to one core).
#   1. live exporter: telemetry::otlp::Exporter (the one the proxy feeds) on BENCH_OTLP_N
#      synthetic chat interactions into a counting receiver (examples/otlp sink, which decodes
#      every request with the same prost types); spans/s. Target >= 20,000.
#   2. backfill: `traces export --format otlp` of a BENCH_OTLP_DB_N-row database (filled by
#      examples/trace_db) into the same receiver; spans/s.
#   3. record's added p99: `vcr record --mode all` in front of mock-llm, paired direct/proxy
#      requests (benches/client.py), once without and once with --otlp-endpoint; the added p99
#      (proxy p99 - direct p99) of each. Target: with export on, still <= 1 ms.
#
# Environment: BENCH_OTLP_N (default 200000), BENCH_OTLP_DB_N (default 50000), BENCH_RECORD_N
# (pairs per record run, default 1000), BENCH_NO_BUILD=1, BENCH_KEEP=1. Only ratios and
# differences within one run count: the machines are shared and noisy.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
N=${BENCH_OTLP_N:-200000}
DB_N=${BENCH_OTLP_DB_N:-50000}
RECORD_N=${BENCH_RECORD_N:-1000}
SCRIPT=otlp.sh
# shellcheck source=benches/lib.sh
source "$BENCH/lib.sh"

PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-otlp.XXXXXX")
unset TRACEFORGE_CONFIG TRACEFORGE_CASSETTES TRACEFORGE_DB TRACEFORGE_PII_KEY
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_HEADERS

STOP_WAIT=5
stop_on_exit

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  log "cargo build --release --bin traceforge --example otlp --example trace_db"
  (cd "$ROOT" && cargo build --release --bin traceforge --example otlp --example trace_db)
fi
target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
mkdir -p "$WORK/bin"
cp "$target/release/traceforge" "$target/release/examples/otlp" "$target/release/examples/trace_db" "$WORK/bin/"
TF=$WORK/bin/traceforge
OTLP=$WORK/bin/otlp
cd "$WORK"

count() { curl -fsS "http://$SINK/count"; }

log "0. the exporter's CPU per span, without I/O (otlp encode, one core)"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$OTLP" encode "$N" >"$WORK/encode.json"
cat "$WORK/encode.json"
encode_ns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["encode_ns_per_span"])' "$WORK/encode.json")

start_server sink "$WORK/sink.out" "$OTLP" sink
SINK=$ADDR

log "1. live exporter: $N spans"
"$OTLP" live "http://$SINK" "$N" >"$WORK/live.json"
cat "$WORK/live.json"
received=$(count)
[[ $received == "$N" ]] || die "the receiver counted $received spans, expected $N"
live_rate=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spans_per_s"])' "$WORK/live.json")

log "2. backfill: traces export --format otlp of $DB_N rows"
"$WORK/bin/trace_db" fill "$WORK/fill.db" "$DB_N" >/dev/null
before=$(count)
start=$(date +%s.%N)
"$TF" traces export --db "$WORK/fill.db" --format otlp --otlp-endpoint "http://$SINK" 2>"$WORK/export.log" ||
  { cat "$WORK/export.log" >&2; die "traces export failed"; }
end=$(date +%s.%N)
after=$(count)
[[ $((after - before)) == "$DB_N" ]] || die "the receiver counted $((after - before)) backfilled spans, expected $DB_N"
backfill_rate=$(python3 -c "print(round($DB_N / ($end - $start)))")

log "3. record's added p99, export off and on ($RECORD_N pairs each)"
record_run() {
  local tag=$1
  shift
  start_server "mock-$tag" "$WORK/mock-$tag.ready" \
    "$TF" mock-llm --listen 127.0.0.1:0 --ready-file "$WORK/mock-$tag.ready"
  local mock=$ADDR mock_pid=$SERVER_PID
  mkdir -p "$WORK/rec-$tag" && cd "$WORK/rec-$tag"
  start_server "record-$tag" "$WORK/record-$tag.ready" \
    env -u CI "$TF" vcr record --mode all --cassettes c --upstream "openai=http://$mock" \
    --listen 127.0.0.1:0 --ready-file "$WORK/record-$tag.ready" "$@"
  local proxy=$ADDR proxy_pid=$SERVER_PID
  python3 "$BENCH/client.py" latency "http://$mock/v1/chat/completions" \
    "http://$proxy/openai/v1/chat/completions" -n "$RECORD_N" --warmup 20 >"$WORK/record-$tag.json" ||
    die "the $tag record run failed"
  stop_pid "$proxy_pid"
  stop_pid "$mock_pid" TERM
  cd "$WORK"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(round(d["proxy"]["p99_ms"] - d["direct"]["p99_ms"], 3))' "$WORK/record-$tag.json"
}
added_off=$(record_run off)
before=$(count)
added_on=$(record_run on --otlp-endpoint "http://$SINK")
exported=$(($(count) - before))
grep -h "otlp:" "$WORK/record-on.log" >&2 || true

{
  echo "OTLP export benchmark ($(date -u +%FT%TZ), $(nproc) CPUs)"
  printf '  %-58s %12s\n' "encoding, ns/span (otlp encode, one core, no I/O)" "$encode_ns"
  printf '  %-58s %12s\n' "live exporter, spans/s ($N spans)" "$live_rate"
  printf '  %-58s %12s\n' "backfill (traces export --format otlp), spans/s ($DB_N rows)" "$backfill_rate"
  printf '  %-58s %9s ms\n' "record added p99, export off" "$added_off"
  printf '  %-58s %9s ms\n' "record added p99, export on ($exported spans received)" "$added_on"
  python3 - "$live_rate" "$added_on" "$added_off" <<'PY'
import sys
rate, added, off = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"  {'what export adds to the added p99 (on - off)':<58} {added - off:9.3f} ms")
print(f"  check: live exporter >= 20,000 spans/s: {'PASS' if rate >= 20000 else 'FAIL'}")
print(f"  check: record added p99 with export on <= 1 ms: {'PASS' if added <= 1.0 else 'FAIL'}"
      + ("" if added <= 1.0 or added - off > 0.1 else " (export off is no better: machine noise)"))
PY
} | tee "$WORK/summary.txt"
