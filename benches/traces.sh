#!/usr/bin/env bash
# Trace database benchmarks (DESIGN.md §10, issue "Trace database"):
#   rebuild  — `vcr rebuild-from-cassettes` over 100k synthetic interactions in 1k cassettes
#              (target: >= 50,000 interactions/s)
#   search   — two-word FTS queries on 1M synthetic traces (target: p99 < 20 ms)
#   overhead — replay throughput with the trace database on vs off, wrk -t2 -c32, alternating
#              runs in one session (target: on >= 95% of off)
# Usage: benches/traces.sh [rebuild|search|overhead|all]   (default all)
# Only ratios and figures from one run count: the machine is shared and noisy.
set -euo pipefail

cd "$(dirname "$0")/.."
section="${1:-all}"
root="$(pwd)"
scratch="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

results=()
check() { # name measured target verdict
  results+=("$(printf '  %-36s %12s %12s  %s' "$1" "$2" "$3" "$4")")
}

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --bin traceforge --example trace_db --example bare_hyper 2>&1 | tail -1
fi
tf="$root/target/release/traceforge"
trace_db="$root/target/release/examples/trace_db"

if [[ "$section" == all || "$section" == rebuild ]]; then
  echo "== rebuild: 1,000 cassettes x 100 interactions"
  "$trace_db" cassettes "$scratch/cassettes" 1000 100
  best=0
  for run in 1 2 3; do
    rm -f "$scratch/rebuild.db"
    line=$("$tf" vcr rebuild-from-cassettes --cassettes "$scratch/cassettes" --db "$scratch/rebuild.db" 2>&1 | tail -1)
    echo "  run $run: $line"
    rate=$(echo "$line" | sed -n 's/.*(\([0-9]*\)\/s).*/\1/p')
    [ "${rate:-0}" -gt "$best" ] && best=$rate
  done
  verdict=FAIL; [ "$best" -ge 50000 ] && verdict=PASS
  check "rebuild interactions/s (best of 3)" "$best" ">= 50000" "$verdict"
fi

if [[ "$section" == all || "$section" == search ]]; then
  echo "== search: 1,000,000 synthetic traces"
  db="${BENCH_SEARCH_DB:-$scratch/search.db}"
  if [ ! -f "$db" ]; then
    "$trace_db" fill "$db" 1000000
  fi
  ls -l "$db" | awk '{printf "  database: %.0f MiB\n", $5/1048576}'
  out=$("$trace_db" search "$db" 500)
  echo "  $out"
  p99=$(echo "$out" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')
  verdict=$(python3 -c "print('PASS' if float('$p99') < 20 else 'FAIL')")
  check "search p99 on 1M traces (ms)" "$p99" "< 20" "$verdict"
fi

if [[ "$section" == all || "$section" == overhead ]]; then
  echo "== overhead: replay with the trace database on vs off"
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  mkdir -p "$scratch/replay"
  python3 - "$scratch/replay" <<'PY'
import json, sys
body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
          "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant",
          "content": "Hello! How can I help you today?"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17}}
doc = {"version": 1, "cassette": "default", "interactions": [{"id": 1,
       "recorded_at": "2026-11-21T10:00:00Z",
       "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                   "body": {"json": body}},
       "response": {"status": 200, "headers": {"content-type": "application/json"},
                    "body": {"json": answer}}}]}
json.dump(doc, open(sys.argv[1] + "/default.yaml", "w"))
PY
  run_wrk() { # extra-flags... → prints req/s
    local ready="$scratch/ready.$RANDOM"
    (cd "$scratch" && exec "$tf" vcr replay --cassettes replay --allow-repeats --db "$scratch/overhead.db" \
      --listen 127.0.0.1:0 --ready-file "$ready" "$@" 2>"$scratch/replay.err") &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do [ -f "$ready" ] && break; sleep 0.05; done
    local addr; addr=$(cat "$ready")
    wrk -t2 -c32 -d1s -s benches/post.lua "http://$addr/openai/v1/chat/completions" >/dev/null
    wrk -t2 -c32 -d"${BENCH_DURATION:-5s}" -s benches/post.lua "http://$addr/openai/v1/chat/completions" \
      | awk '/Requests\/sec/ {print $2}'
    kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  }
  off=(); on=()
  for round in 1 2; do
    off+=("$(run_wrk --no-traces)")
    on+=("$(run_wrk)")
    echo "  round $round: off ${off[-1]} req/s, on ${on[-1]} req/s"
  done
  grep -h "traces:" "$scratch/replay.err" | sed 's/^/  last run: /' || true
  ratio=$(python3 -c "import sys; on=[float(x) for x in sys.argv[1].split()]; off=[float(x) for x in sys.argv[2].split()]; print(f'{sum(on)/sum(off):.3f}')" "${on[*]}" "${off[*]}")
  verdict=$(python3 -c "print('PASS' if float('$ratio') >= 0.95 else 'FAIL')")
  check "replay req/s, traces on / off" "$ratio" ">= 0.95" "$verdict"
fi

echo
echo "Checks (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %-36s %12s %12s  %s\n' check measured target result
for line in "${results[@]}"; do echo "$line"; done
