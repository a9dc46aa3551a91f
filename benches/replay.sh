#!/usr/bin/env bash
# traceforge's benchmarks against DESIGN.md section 10, side by side with a peer in one run.
#
#   benches/replay.sh [throughput|record|startup|redactor|all]      (default: all)
#
#   throughput  replay server vs bare hyper (same bytes) vs talkback, wrk -t2 -c32
#   record      latency `vcr record` adds over calling mock-llm directly; streamed TTFB
#   startup     `vcr replay` ready with 10,000 interactions; `traceforge --version`; redactor
#   redactor    what compiling the PII detectors and secret rules adds to a command's start
#
# Installs what it needs if missing (wrk via apt-get, talkback via npm into benches/.node),
# builds the release binary and the bare_hyper example, runs every server on 127.0.0.1 with a
# free port, one at a time, and prints a table (also saved to benches/results/latest.txt, with
# the raw output of this run under benches/results/replay-raw/). See benches/README.md.
#
# Environment: BENCH_DURATION (wrk measured run, default 5s), BENCH_CONNECTIONS (default 32),
# BENCH_RECORD_N (non-streamed pairs, default 1000), BENCH_TTFB_N (streamed pairs, default 500),
# BENCH_STRICT=1 (exit 3 if a check fails), BENCH_KEEP=1 (keep the scratch directory),
# BENCH_NO_BUILD=1 (skip cargo build and use the release binaries already built),
# PROXY_POLICIES=DIR (`--policies DIR` for the record proxy and the replay server).
# BENCH_PII_MODE="off mask pseudonymize" (record: instead of the short chat, a ~10 KB request full
# of PII, once per listed pii.mode, each with its own proxy; BENCH_PII_UPSTREAM=pseudonymize also
# sends the provider surrogates and restores the answer).
set -euo pipefail

SECTION=${1:-all}
case "$SECTION" in
  throughput | record | startup | redactor | all) ;;
  -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [throughput|record|startup|redactor|all]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
RESULTS=$BENCH/results
RAW=$RESULTS/replay-raw
DURATION=${BENCH_DURATION:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RECORD_N=${BENCH_RECORD_N:-1000}
TTFB_N=${BENCH_TTFB_N:-500}
PII_MODES=${BENCH_PII_MODE:-}
PII_UPSTREAM=${BENCH_PII_UPSTREAM:-original}
# A fixed test key (never a real one), so pseudonyms are the same from run to run.
PII_KEY=5eedb0a7c0ffee0123456789abcdef00112233445566778899aabbccddeeff42
for mode in ${PII_MODES//,/ }; do
  case "$mode" in off | mask | pseudonymize) ;; *) echo "BENCH_PII_MODE: unknown pii.mode '$mode' (off, mask, pseudonymize)" >&2; exit 2 ;; esac
done
case "$PII_UPSTREAM" in original | pseudonymize) ;; *) echo "BENCH_PII_UPSTREAM: '$PII_UPSTREAM' is not original or pseudonymize" >&2; exit 2 ;; esac

SCRIPT=replay.sh
# shellcheck source=benches/lib.sh
source "$BENCH/lib.sh"
wants() { [[ $SECTION == all || $SECTION == "$1" || ($SECTION == startup && $1 == redactor) ]]; }

# --- cleanup: every server this script starts is tracked and stopped on exit -----------------

PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-bench.XXXXXX")
# Every traceforge here runs with its defaults in a scratch working directory: no traceforge.yaml
# or settings from the caller's environment, and its trace database (.traceforge/traces.db,
# written on every recorded and replayed request) starts empty and never lands in the repo.
unset TRACEFORGE_CONFIG TRACEFORGE_CASSETTES TRACEFORGE_DB TRACEFORGE_PII_KEY

STOP_WAIT=5
stop_on_exit

# POSTs FILE's bytes to URL; fails loudly unless the answer is 200 (and, given EXPECTED_FILE,
# exactly those bytes).
check_answer() {
  local name=$1 url=$2 body_file=$3 expected=${4:-}
  local got=$WORK/check-$name.body status
  status=$(curl -sS --max-time 10 -o "$got" -w '%{http_code}' -X POST \
    -H 'content-type: application/json' --data-binary "@$body_file" "$url") ||
    die "$name: curl $url failed"
  if [[ $status != 200 ]]; then
    echo "--- $name answered $status:" >&2; cat "$got" >&2; echo >&2
    echo "--- $name stderr:" >&2; tail -n 40 "$WORK/$name.log" >&2 || true
    die "$name did not answer the benchmark request with 200 (got $status from $url)"
  fi
  if [[ -n $expected ]] && ! cmp -s "$got" "$expected"; then
    echo "--- expected:" >&2; cat "$expected" >&2; echo >&2
    echo "--- $name sent:" >&2; cat "$got" >&2; echo >&2
    die "$name answered 200 but not with the recorded response bytes"
  fi
  log "$name answers 200${expected:+ with exactly the recorded response bytes}"
}

# --- tools and build ---------------------------------------------------------------------------

ensure_tools() {
  for tool in curl python3 cargo; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  if wants throughput; then
    if ! command -v wrk >/dev/null; then
      log "installing wrk"
      apt-get update && apt-get install -y wrk
    fi
    command -v node >/dev/null || die "node is required for the talkback peer"
    if [[ ! -f $BENCH/.node/node_modules/talkback/package.json ]]; then
      log "installing talkback into benches/.node"
      npm install --prefix "$BENCH/.node" --no-audit --no-fund talkback
    fi
  fi
}

# --- 1. replay throughput ----------------------------------------------------------------------

# Warm-up, then the measured wrk run against one server; result JSON in $RAW/throughput-KEY.json.
drive() {
  local key=$1 url=$2
  log "$key: 1 s warm-up, then wrk -t2 -c$CONNECTIONS -d$DURATION --latency"
  wrk -t2 -c"$CONNECTIONS" -d1s -s "$BENCH/post.lua" "$url" >"$RAW/wrk-$key-warmup.txt" 2>&1 ||
    die "$key: wrk warm-up failed: $(cat "$RAW/wrk-$key-warmup.txt")"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency -s "$BENCH/post.lua" "$url" \
    >"$RAW/wrk-$key.txt" 2>&1 || die "$key: wrk failed: $(cat "$RAW/wrk-$key.txt")"
  python3 "$BENCH/report.py" wrk "$RAW/wrk-$key.txt" >"$RAW/throughput-$key.json" ||
    die "$key: the wrk run was not clean (see above)"
}

bench_throughput() {
  log "1. replay throughput"
  mkdir -p "$WORK/throughput" && cd "$WORK/throughput"
  local fx=$WORK/replay
  python3 "$BENCH/fixtures.py" replay "$fx"
  local bytes
  bytes=$(wc -c <"$fx/response.json")
  local talkback_version
  talkback_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$BENCH/.node/node_modules/talkback/package.json")
  {
    echo "wrk -t2 -c$CONNECTIONS -d$DURATION after a 1 s warm-up, one server at a time; POST chat completion, ${bytes}-byte JSON answer"
    echo "talkback $talkback_version on node $(node --version), playback only, logging off; $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
  } >"$RAW/notes-throughput.txt"

  start_server bare "$WORK/bare.out" "$BARE" 127.0.0.1:0 "$fx/response.json" application/json
  check_answer bare "http://$ADDR/v1/chat/completions" "$fx/request.json" "$fx/response.json"
  drive bare "http://$ADDR/v1/chat/completions"
  stop_server "$SERVER_PID" TERM

  start_server traceforge-replay "$WORK/replay.ready" \
    "$TF" vcr replay --cassettes "$fx/cassettes" --allow-repeats --listen 127.0.0.1:0 \
    --ready-file "$WORK/replay.ready" ${PROXY_POLICIES:+--policies "$PROXY_POLICIES"}
  check_answer traceforge-replay "http://$ADDR/openai/v1/chat/completions" "$fx/request.json" "$fx/response.json"
  drive traceforge "http://$ADDR/openai/v1/chat/completions"
  stop_server "$SERVER_PID"
  cp "$WORK/traceforge-replay.log" "$RAW/traceforge-replay.stderr"
  if grep -Eqi 'replay miss|error|panic|[1-9][0-9]* missed' "$WORK/traceforge-replay.log"; then
    echo "traceforge replay stderr mentions a miss/error/panic: see results/replay-raw/traceforge-replay.stderr" \
      >>"$RAW/notes-throughput.txt"
  fi

  start_server talkback "$WORK/talkback.ready" \
    env NODE_PATH="$BENCH/.node/node_modules" node "$BENCH/talkback_replay.js" "$fx/tapes" "$WORK/talkback.ready"
  check_answer talkback "http://$ADDR/v1/chat/completions" "$fx/request.json" "$fx/response.json"
  drive talkback "http://$ADDR/v1/chat/completions"
  stop_server "$SERVER_PID"
}

# --- 2. record overhead --------------------------------------------------------------------------

# Starts mock-llm with extra flags, then `vcr record --mode all` in front of it, with the
# environment in PROXY_ENV (VAR=value words; the PII runs' configuration and key).
# Sets $MOCK, $MOCK_PID, $PROXY, $PROXY_PID.
start_mock_and_proxy() {
  local tag=$1
  shift
  start_server "mock-$tag" "$WORK/mock-$tag.ready" \
    "$TF" mock-llm --listen 127.0.0.1:0 --ready-file "$WORK/mock-$tag.ready" "$@"
  MOCK=$ADDR MOCK_PID=$SERVER_PID
  start_server "record-$tag" "$WORK/record-$tag.ready" \
    env -u CI "${PROXY_ENV[@]+"${PROXY_ENV[@]}"}" "$TF" vcr record --mode all --cassettes "$WORK/record-$tag" \
    --upstream "openai=http://$MOCK" --listen 127.0.0.1:0 --ready-file "$WORK/record-$tag.ready" \
    ${BENCH_RECORD_FLAGS:-} ${PROXY_POLICIES:+--policies "$PROXY_POLICIES"}
  PROXY=$ADDR PROXY_PID=$SERVER_PID
}

# Stops the proxy and the mock, keeps the proxy's stderr, and notes how much it recorded.
finish_record() {
  local tag=$1 expected=$2 notes=$RAW/notes-record${3:+-$3}.txt
  stop_server "$PROXY_PID"
  stop_server "$MOCK_PID"
  cp "$WORK/record-$tag.log" "$RAW/record-$tag.stderr"
  local recorded
  recorded=$("$TF" vcr list --cassettes "$WORK/record-$tag" --format json |
    python3 -c 'import json,sys
d = json.load(sys.stdin)
items = d.get("cassettes", d) if isinstance(d, dict) else d
print(sum(c.get("interactions", 0) for c in items))') || recorded="?"
  echo "$tag: the proxy recorded $recorded interactions (sent $expected)" >>"$notes"
  [[ $recorded == "$expected" ]] ||
    echo "  WARNING: $tag recorded $recorded, expected $expected; see results/replay-raw/record-$tag.stderr" \
      >>"$notes"
}

PROXY_ENV=()

bench_record() {
  if [[ -n $PII_MODES ]]; then
    local mode
    for mode in ${PII_MODES//,/ }; do bench_record_pii "$mode"; done
    return
  fi
  log "2. record overhead"
  mkdir -p "$WORK/record" && cd "$WORK/record"
  local warmup=20
  printf '%s\n' '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}' >"$WORK/plain.json"
  echo "vcr record --mode all -> mock-llm; one keep-alive connection each, sequential, alternating direct/proxy, 1 ms pause per pair" \
    >"$RAW/notes-record.txt"

  start_mock_and_proxy plain
  check_answer mock-plain "http://$MOCK/v1/chat/completions" "$WORK/plain.json"
  check_answer record-plain "http://$PROXY/openai/v1/chat/completions" "$WORK/plain.json"
  log "non-streamed: $RECORD_N pairs (+$warmup warm-up) direct vs through the proxy"
  python3 "$BENCH/client.py" latency "http://$MOCK/v1/chat/completions" \
    "http://$PROXY/openai/v1/chat/completions" -n "$RECORD_N" --warmup "$warmup" \
    >"$RAW/record-latency.json" || die "the non-streamed latency run failed"
  finish_record plain $((RECORD_N + warmup + 1))

  start_mock_and_proxy stream --first-event-delay 20ms --event-delay 2ms
  log "streamed TTFB: $TTFB_N pairs (+$warmup warm-up), mock first event after 20 ms, then every 2 ms"
  python3 "$BENCH/client.py" ttfb "http://$MOCK/v1/chat/completions" \
    "http://$PROXY/openai/v1/chat/completions" -n "$TTFB_N" --warmup "$warmup" \
    >"$RAW/record-ttfb.json" || die "the streamed TTFB run failed"
  finish_record stream $((TTFB_N + warmup))
}

# The record benchmark with pii.mode MODE: a ~10 KB chat full of e-mails, card numbers and
# phones (benches/fixtures.py pii-request), whose last message starts with an e-mail and a card
# that mock-llm quotes back, so the answer (plain and streamed, split across SSE events) carries
# PII too. Results in record-{latency,ttfb}-MODE.json; what the cassettes and the trace database
# hold in record-pii-MODE.json.
bench_record_pii() {
  local mode=$1 warmup=20 fx=$WORK/pii-request
  log "2. record overhead, pii.mode: $mode, pii.upstream: $PII_UPSTREAM"
  [[ -f $fx/pii-plain.json ]] || python3 "$BENCH/fixtures.py" pii-request "$fx"
  local cwd=$WORK/record-pii-$mode
  mkdir -p "$cwd" && cd "$cwd"
  # The configuration goes to the proxy only (TRACEFORGE_CONFIG), not to the mock.
  printf 'pii:\n  mode: %s\n  upstream: %s\n' "$mode" "$PII_UPSTREAM" >"$WORK/pii-$mode.yaml"
  PROXY_ENV=("TRACEFORGE_CONFIG=$WORK/pii-$mode.yaml" "TRACEFORGE_PII_KEY=$PII_KEY")
  echo "vcr record --mode all -> mock-llm, pii.mode: $mode, pii.upstream: $PII_UPSTREAM; $(wc -c <"$fx/pii-plain.json") B request with PII; one keep-alive connection each, sequential, alternating direct/proxy, 1 ms pause per pair" \
    >"$RAW/notes-record-$mode.txt"

  start_mock_and_proxy "$mode-plain"
  check_answer "mock-$mode-plain" "http://$MOCK/v1/chat/completions" "$fx/pii-plain.json"
  check_answer "record-$mode-plain" "http://$PROXY/openai/v1/chat/completions" "$fx/pii-plain.json"
  log "non-streamed, pii.mode $mode: $RECORD_N pairs (+$warmup warm-up) direct vs through the proxy"
  python3 "$BENCH/client.py" latency "http://$MOCK/v1/chat/completions" \
    "http://$PROXY/openai/v1/chat/completions" -n "$RECORD_N" --warmup "$warmup" \
    --body "$fx/pii-plain.json" --samples "$RAW/record-latency-$mode.csv" >"$RAW/record-latency-$mode.json" ||
    die "the non-streamed latency run (pii.mode $mode) failed"
  finish_record "$mode-plain" $((RECORD_N + warmup + 1)) "$mode"

  start_mock_and_proxy "$mode-stream" --first-event-delay 20ms --event-delay 2ms
  log "streamed TTFB, pii.mode $mode: $TTFB_N pairs (+$warmup warm-up), first event after 20 ms, then every 2 ms"
  python3 "$BENCH/client.py" ttfb "http://$MOCK/v1/chat/completions" \
    "http://$PROXY/openai/v1/chat/completions" -n "$TTFB_N" --warmup "$warmup" \
    --body "$fx/pii-stream.json" --samples "$RAW/record-ttfb-$mode.csv" >"$RAW/record-ttfb-$mode.json" ||
    die "the streamed TTFB run (pii.mode $mode) failed"
  finish_record "$mode-stream" $((TTFB_N + warmup)) "$mode"
  PROXY_ENV=()

  # What was written: the originals must be gone (except with off), replaced by surrogates
  # (pseudonymize) or typed placeholders (mask). The trace database is searched byte-wise.
  python3 - "$mode" "$fx/pii-values.txt" "$WORK/record-$mode-plain" "$WORK/record-$mode-stream" \
    "$cwd/.traceforge" >"$RAW/record-pii-$mode.json" <<'PY' || die "could not inspect what pii.mode $mode wrote"
import json, os, sys
mode, values_file, *dirs = sys.argv[1:]
values = [v for v in open(values_file, encoding="utf-8").read().splitlines() if v]
def files(kind):
    for d in dirs:
        if (kind == "db") != d.endswith(".traceforge"):
            continue
        for root, _, names in os.walk(d):
            for name in names:
                yield os.path.join(root, name)
out = {"mode": mode}
for kind in ("cassettes", "db"):
    data = b"".join(open(p, "rb").read() for p in files(kind))
    out[kind] = {
        "bytes": len(data),
        "originals": sorted(v for v in values if v.encode() in data),
        "surrogates": data.count(b"@pii.invalid"),
        "placeholders": data.count(b"<EMAIL>") + data.count(b"<CREDIT_CARD>") + data.count(b"<PHONE>"),
    }
json.dump(out, sys.stdout)
PY
}

# --- 3. startup ------------------------------------------------------------------------------------

bench_startup() {
  log "3. startup"
  mkdir -p "$WORK/startup-cwd" && cd "$WORK/startup-cwd"
  local fx=$WORK/startup
  python3 "$BENCH/fixtures.py" startup "$fx"
  local listed
  listed=$("$TF" vcr list --cassettes "$fx/cassettes" --format json) ||
    die "traceforge vcr list could not read the generated cassettes"
  local counts
  counts=$(python3 -c 'import json,sys
d = json.loads(sys.argv[1])
items = d.get("cassettes", d) if isinstance(d, dict) else d
print(len(items), sum(c.get("interactions", 0) for c in items))' "$listed")
  [[ $counts == "100 10000" ]] || die "vcr list reports '$counts' cassettes/interactions, expected '100 10000'"
  log "vcr list reads 100 cassettes, 10000 interactions"
  local bytes
  bytes=$(du -sh "$fx/cassettes" | cut -f1)
  echo "100 cassettes x 100 distinct interactions (1 in 5 streamed, 10 events), $bytes of YAML; ready = ready file exists, polled every 1 ms" \
    >"$RAW/notes-startup.txt"

  # Two replays from the set (one plain, one streamed), so the timed start is of a server that
  # really serves them.
  start_server replay-10k "$WORK/replay-10k.ready" \
    "$TF" vcr replay --cassettes "$fx/cassettes" --listen 127.0.0.1:0 --ready-file "$WORK/replay-10k.ready"
  local which name status
  for which in "42 41" "57 44"; do
    python3 "$BENCH/fixtures.py" startup-request $which >"$WORK/one-request"
    name=$(head -n1 "$WORK/one-request")
    tail -n1 "$WORK/one-request" >"$WORK/one-request.json"
    status=$(curl -sS --max-time 10 -o "$WORK/one-answer" -w '%{http_code}' -X POST \
      -H 'content-type: application/json' -H "X-TraceForge-Cassette: $name" \
      --data-binary "@$WORK/one-request.json" "http://$ADDR/openai/v1/chat/completions")
    if [[ $status != 200 ]] || ! grep -q 'Here' "$WORK/one-answer"; then
      cat "$WORK/one-answer" >&2; tail -n 20 "$WORK/replay-10k.log" >&2
      die "replay of interaction ${which#* } of $name from the 10k set answered $status"
    fi
  done
  stop_server "$SERVER_PID"
  log "a plain and a streamed request from the 10k set replay with 200"

  log "spawn -> ready with 10k interactions, 5 runs"
  python3 "$BENCH/startup.py" ready "$TF" "$fx/cassettes" --runs 5 >"$RAW/startup-ready.json" ||
    die "startup timing failed"
  log "traceforge --version, 20 runs"
  python3 "$BENCH/startup.py" cli "$TF" --runs 20 >"$RAW/startup-cli.json" || die "CLI timing failed"
}

# vcr verify (builds the redactor) against vcr list and --version on one small clean cassette,
# and the `detect` example's cold compile of each part, in fresh processes.
bench_redactor() {
  log "3b. redactor build at start"
  mkdir -p "$WORK/redactor-cwd" && cd "$WORK/redactor-cwd"
  local fx=$WORK/replay detect=()
  [[ -f $fx/cassettes/default.yaml ]] || python3 "$BENCH/fixtures.py" replay "$fx"
  "$TF" vcr verify --cassettes "$fx/cassettes" >/dev/null 2>&1 ||
    die "vcr verify does not pass on the benchmark cassette"
  if [[ -x $WORK/bin/detect ]]; then
    detect=(--detect "$WORK/bin/detect")
  else
    echo "no detect example built: cold compile times not measured" >>"$RAW/notes-redactor.txt"
  fi
  log "--version, vcr list, vcr verify (one 1-interaction cassette), detect --compile: 50 rounds"
  python3 "$BENCH/startup.py" redactor "$TF" "$fx/cassettes" --runs 50 "${detect[@]+"${detect[@]}"}" \
    >"$RAW/startup-redactor.json" || die "redactor timing failed"
}

# Share of CPU time other processes used during one second before the benchmarks start.
busy_percent() {
  local a b
  a=($(head -n1 /proc/stat)); sleep 1; b=($(head -n1 /proc/stat))
  awk -v u=$((b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7])) \
    -v i=$((b[4] + b[5] - a[4] - a[5])) 'BEGIN { printf "%d", 100 * u / (u + i) }'
}

# --- main --------------------------------------------------------------------------------------------

ensure_tools
build
# The detect example times the detectors' cold compile for the redactor section.
if wants redactor; then
  if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    (cd "$ROOT" && cargo build --release --example detect)
  fi
  detect_bin=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/detect
  if [[ -x $detect_bin ]]; then cp "$detect_bin" "$WORK/bin/detect"; fi
fi
rm -rf "$RAW"
mkdir -p "$RAW"
BUSY=$(busy_percent)
{
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), section: $SECTION"
  echo "$("$TF" --version), $(nproc) CPUs, ${BUSY}% busy before the start; only ratios within one run count"
  if [[ -n ${PROXY_POLICIES:-} ]]; then
    echo "record proxy and replay server run with --policies $PROXY_POLICIES"
  fi
  if ((BUSY > 20)); then
    echo "WARNING: something else was using the CPUs when this run started; its figures are noisier than usual"
  fi
} >"$RAW/notes-run.txt"

wants throughput && bench_throughput
wants record && bench_record
wants startup && bench_startup
wants redactor && bench_redactor

echo >&2
python3 "$BENCH/report.py" table "$RAW" | tee "$RESULTS/latest.txt"
