#!/usr/bin/env bash
# Instructions per replayed request, counted by callgrind: the one per-request cost on a shared
# 2-core machine that does not move from run to run. Each server runs under
# `valgrind --tool=callgrind`, answers a warm-up, has its counters zeroed (`callgrind_control
# -z`), answers BENCH_REQUESTS sequential keep-alive requests (benches/send.py) and is
# dumped (`callgrind_control -d`); the dump's total over the requests is the figure. Side by side
# with bare hyper (the `bare_hyper` example), which replay.sh's throughput target is against.
#
#   benches/instructions.sh [ROW ...]      (default: all rows)
#
# Rows: bare, replay (metrics only), json (+ --log-format json), otlp (+ JSON logs and OTLP
# export into the `otlp` example's counting sink), policies (replay with the `policy generate`
# set), each replay row with --no-traces so the trace writer's commits (timed, not per request)
# stay out of the count. Valgrind counts `rep movsb` a byte at a time and runs SHA-256 on its
# AVX path, so copies and digests weigh more here than on the hardware: compare rows, and read
# the hot spots with `callgrind_annotate --inclusive=yes` on a file kept with BENCH_KEEP=1.
#
# Environment: BENCH_REQUESTS (default 2000), BENCH_NO_BUILD=1, BENCH_KEEP=1. Needs valgrind
# (installed with apt-get when missing) and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
REQUESTS=${BENCH_REQUESTS:-2000}
ROWS=("$@")
[[ ${#ROWS[@]} -gt 0 ]] || ROWS=(bare replay json otlp policies)
for row in "${ROWS[@]}"; do
  case "$row" in
    bare | replay | json | otlp | policies) ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [bare|replay|json|otlp|policies ...]" >&2; exit 2 ;;
  esac
done

SCRIPT=instructions.sh
# shellcheck source=benches/lib.sh
source "$BENCH/lib.sh"
PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-instructions.XXXXXX")
unset TRACEFORGE_CONFIG TRACEFORGE_CASSETTES TRACEFORGE_DB TRACEFORGE_PII_KEY TRACEFORGE_LOG
stop_on_exit

if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
  log "installing valgrind (apt-get)"
  apt-get install -y -qq valgrind >/dev/null || die "valgrind is needed (apt-get install valgrind)"
fi

build
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  (cd "$ROOT" && cargo build --release --example otlp --example policy)
fi
target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
cp "$target/release/examples/otlp" "$target/release/examples/policy" "$WORK/bin/" ||
  die "no release otlp and policy examples (cargo build --release --example otlp --example policy)"

FX=$WORK/fx
python3 "$BENCH/fixtures.py" replay "$FX" >/dev/null
cd "$WORK"

# The callgrind total of a dump file.
total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

declare -A RESULT
measure() {
  local row=$1 path=$2 ready=$3
  shift 3
  start_server "$row" "$ready" valgrind --tool=callgrind --callgrind-out-file="$WORK/$row.cg" "$@"
  local pid=$SERVER_PID
  python3 "$BENCH/send.py" "http://$ADDR$path" 50 "$FX/request.json" || die "$row: warm-up failed"
  callgrind_control -z "$pid" >/dev/null
  python3 "$BENCH/send.py" "http://$ADDR$path" "$REQUESTS" "$FX/request.json" || die "$row: requests failed"
  callgrind_control -d "$pid" >/dev/null
  local dump
  for _ in $(seq 100); do
    dump=$(ls -t "$WORK/$row.cg".* 2>/dev/null | head -n1 || true)
    [[ -n $dump ]] && grep -q '^totals:' "$dump" 2>/dev/null && break
    sleep 0.1
  done
  [[ -n $dump ]] || die "$row: callgrind wrote no dump"
  stop_server "$pid" TERM
  RESULT[$row]=$(( $(total "$dump") / REQUESTS ))
  log "$row: ${RESULT[$row]} instructions per request"
}

SINK=
replay() {
  local row=$1
  shift
  measure "$row" /openai/v1/chat/completions "$WORK/$row.ready" "$TF" vcr replay \
    --cassettes "$FX/cassettes" --allow-repeats --no-traces --listen 127.0.0.1:0 \
    --ready-file "$WORK/$row.ready" "$@"
}
for row in "${ROWS[@]}"; do
  case "$row" in
    bare) measure bare /v1/chat/completions "$WORK/bare.out" "$BARE" 127.0.0.1:0 \
      "$FX/response.json" application/json ;;
    replay) replay replay ;;
    json) replay json --log-format json ;;
    otlp)
      if [[ -z $SINK ]]; then
        start_server sink "$WORK/sink.out" "$WORK/bin/otlp" sink --count
        SINK=$ADDR
      fi
      replay otlp --log-format json --otlp-endpoint "http://$SINK" ;;
    policies)
      "$WORK/bin/policy" generate "$WORK/policies" >/dev/null || die "policy generate failed"
      replay policies --policies "$WORK/policies" ;;
  esac
done

echo
echo "callgrind instructions per request ($REQUESTS sequential keep-alive requests after 50)"
for row in "${ROWS[@]}"; do
  line=$(printf '  %-9s %8s' "$row" "${RESULT[$row]}")
  if [[ -n ${RESULT[bare]:-} && $row != bare ]]; then
    line+=$(python3 -c "print(f'  {${RESULT[$row]} / ${RESULT[bare]}:.2f}x bare hyper')")
  fi
  echo "$line"
done
