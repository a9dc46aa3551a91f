#!/usr/bin/env bash
# A profile-guided (PGO) release build of traceforge, and of the bare_hyper peer with the same
# profile, so a benchmark can compare the two built the same way.
#
#   benches/pgo.sh
#
# 1. builds both instrumented (-Cprofile-generate) in TARGET/pgo-generate;
# 2. trains them: `traceforge demo`; `vcr replay` under wrk with metrics only, with JSON logs
#    and with JSON logs and OTLP export into the otlp example's counting sink; `vcr record
#    --mode all` in front of `mock-llm`, plain, streamed, and with PII pseudonymized; bare hyper
#    under wrk;
# 3. merges the profiles with the llvm-profdata of rustc's LLVM (installed with apt-get as
#    llvm-N when missing), and
# 4. builds both with -Cprofile-use in TARGET/pgo: TARGET/pgo/release/traceforge and
#    TARGET/pgo/release/examples/bare_hyper.
#
# Then, for example:
#   BENCH_TRACEFORGE=target/pgo/release/traceforge \
#   BENCH_BARE_HYPER=target/pgo/release/examples/bare_hyper benches/ops.sh throughput
#
# Each of the two builds is a whole fat-LTO release build (about 11 minutes on 2 cores). The
# profile is kept as TARGET/pgo-generate/merged-DIGEST.profdata. Environment: BENCH_DURATION (each
# training run under wrk, default 3s), BENCH_NO_BUILD=1 (train the instrumented binaries already
# in TARGET/pgo-generate), BENCH_KEEP=1 (keep scratch files). Needs cargo, wrk, python3 and curl.
set -euo pipefail

case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
DURATION=${BENCH_DURATION:-3s}
SCRIPT=pgo.sh
# shellcheck source=benches/lib.sh
source "$BENCH/lib.sh"
PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-pgo.XXXXXX")
unset TRACEFORGE_CONFIG TRACEFORGE_CASSETTES TRACEFORGE_DB TRACEFORGE_PII_KEY TRACEFORGE_LOG
stop_on_exit

for tool in cargo rustc wrk python3 curl; do command -v "$tool" >/dev/null || die "$tool is required"; done

# llvm-profdata must read the raw profiles of rustc's own LLVM: the same major version.
llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
[[ -n $llvm ]] || die "cannot tell rustc's LLVM version (rustc -vV)"
find_profdata() {
  local candidate
  for candidate in "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata \
    "/usr/lib/llvm-$llvm/bin/llvm-profdata" "$(command -v "llvm-profdata-$llvm" || true)"; do
    [[ -x $candidate ]] && { echo "$candidate"; return 0; }
  done
  return 0
}
PROFDATA=$(find_profdata)
if [[ -z $PROFDATA ]]; then
  log "installing llvm-$llvm for llvm-profdata (apt-get)"
  apt-get install -y -qq "llvm-$llvm" >/dev/null ||
    die "llvm-profdata of LLVM $llvm is needed (apt-get install llvm-$llvm, or rustup component add llvm-tools)"
  PROFDATA=$(find_profdata)
  [[ -n $PROFDATA ]] || die "llvm-$llvm installed but no llvm-profdata found"
fi

target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
GENERATE=$target/pgo-generate
PROFILES=$GENERATE/profiles
rm -rf "$PROFILES"
mkdir -p "$PROFILES"

if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then
  log "BENCH_NO_BUILD=1: training the instrumented binaries already in $GENERATE"
else
  log "1. instrumented build in $GENERATE"
  # Where the profiles go is set when the binaries run (LLVM_PROFILE_FILE, below). RUSTFLAGS
  # instrument the build's own proc macros and build scripts too: their profiles go to scratch.
  (cd "$ROOT" && CARGO_TARGET_DIR=$GENERATE RUSTFLAGS="-Cprofile-generate" \
    LLVM_PROFILE_FILE="$WORK/build-%p-%m.profraw" \
    cargo build --release --bin traceforge --example bare_hyper --example otlp)
fi
mkdir -p "$WORK/bin"
cp "$GENERATE/release/traceforge" "$GENERATE/release/examples/bare_hyper" "$GENERATE/release/examples/otlp" "$WORK/bin/"
TF=$WORK/bin/traceforge
BARE=$WORK/bin/bare_hyper
# Each process writes its own raw profile when it exits normally.
export LLVM_PROFILE_FILE=$PROFILES/%p-%m.profraw

log "2. training"
cd "$WORK"
python3 "$BENCH/fixtures.py" replay "$WORK/fx" >/dev/null
"$TF" demo --keep "$WORK/demo" --db "$WORK/demo.db" >"$WORK/demo.out" 2>&1 ||
  die "traceforge demo failed: $(tail -n3 "$WORK/demo.out")"

# A wrk run against URL that must be clean: requests made, every answer 2xx, no socket errors.
drive() {
  wrk -t2 -c32 -d"$DURATION" --timeout 5s --latency -s "$BENCH/post.lua" "$1" >"$WORK/wrk.txt" 2>&1 ||
    die "wrk $1 failed: $(cat "$WORK/wrk.txt")"
  python3 "$BENCH/report.py" wrk "$WORK/wrk.txt" >/dev/null || die "wrk $1: the run was not clean (see above)"
}

# The receiver's profile is not traceforge's: it goes elsewhere.
start_server sink "$WORK/sink.out" env LLVM_PROFILE_FILE="$WORK/sink-%p.profraw" "$WORK/bin/otlp" sink --count
SINK=$ADDR SINK_PID=$SERVER_PID
for flags in "" "--log-format json" "--log-format json --otlp-endpoint http://$SINK"; do
  # shellcheck disable=SC2086
  start_server replay "$WORK/replay.ready" "$TF" vcr replay --cassettes "$WORK/fx/cassettes" \
    --allow-repeats --listen 127.0.0.1:0 --ready-file "$WORK/replay.ready" $flags
  drive "http://$ADDR/openai/v1/chat/completions"
  curl -sS -o /dev/null "http://$ADDR/_traceforge/metrics"
  stop_server "$SERVER_PID"
done
stop_server "$SINK_PID" TERM

send() { python3 "$BENCH/send.py" "$@" || die "requests to $1 failed"; }

# `vcr record --mode all` in front of a fresh mock-llm, with the environment in ENV words, then
# TRAINING (a command, given the proxy's URL).
record() {
  local training=$1
  shift
  start_server mock "$WORK/mock.ready" "$TF" mock-llm --listen 127.0.0.1:0 --ready-file "$WORK/mock.ready"
  local mock=$ADDR mock_pid=$SERVER_PID
  rm -rf "$WORK/record" "$WORK/.traceforge"
  start_server record "$WORK/record.ready" env -u CI "$@" "$TF" vcr record --mode all \
    --cassettes "$WORK/record" --upstream "openai=http://$mock" --listen 127.0.0.1:0 \
    --ready-file "$WORK/record.ready"
  "$training" "http://$ADDR/openai/v1/chat/completions"
  stop_server "$SERVER_PID"
  stop_server "$mock_pid"
}
streamed() { send "$1" 300 "$WORK/stream.json"; }
personal() { send "$1" 200 "$WORK/pii/pii-plain.json" && send "$1" 100 "$WORK/pii/pii-stream.json"; }

printf '%s\n' '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}]}' \
  >"$WORK/stream.json"
python3 "$BENCH/fixtures.py" pii-request "$WORK/pii" >/dev/null
printf 'pii:\n  mode: pseudonymize\n' >"$WORK/pii.yaml"
record drive
record streamed
# PII pseudonymized in the cassettes and traces (a 10 KB chat full of it, plain and streamed).
record personal TRACEFORGE_CONFIG="$WORK/pii.yaml" \
  TRACEFORGE_PII_KEY=5eedb0a7c0ffee0123456789abcdef00112233445566778899aabbccddeeff42

start_server bare "$WORK/bare.out" "$BARE" 127.0.0.1:0 "$WORK/fx/response.json" application/json
drive "http://$ADDR/v1/chat/completions"
stop_server "$SERVER_PID"

unset LLVM_PROFILE_FILE
shopt -s nullglob
raw=("$PROFILES"/*.profraw)
shopt -u nullglob
[[ ${#raw[@]} -gt 0 ]] || die "the training wrote no profiles to $PROFILES"
log "3. merging ${#raw[@]} profiles with $PROFDATA"
"$PROFDATA" merge -o "$WORK/merged.profdata" "${raw[@]}"
# Named by its digest: cargo rebuilds when RUSTFLAGS change, not when a file they name does, so
# a new profile must be a new name (and the last build's stays in place until it is replaced).
digest=$(sha256sum "$WORK/merged.profdata" | cut -c1-16)
PROFILE=$GENERATE/merged-$digest.profdata
rm -f "$GENERATE"/merged-*.profdata
mv "$WORK/merged.profdata" "$PROFILE"

log "4. optimized build in $target/pgo"
(cd "$ROOT" && CARGO_TARGET_DIR=$target/pgo RUSTFLAGS="-Cprofile-use=$PROFILE" \
  cargo build --release --bin traceforge --example bare_hyper)
log "built $target/pgo/release/traceforge and $target/pgo/release/examples/bare_hyper"
echo "BENCH_TRACEFORGE=$target/pgo/release/traceforge BENCH_BARE_HYPER=$target/pgo/release/examples/bare_hyper benches/ops.sh throughput"
