# Helpers shared by the benchmark scripts (sourced, not run). The caller sets ROOT (the
# repository), WORK (its scratch directory), PIDS (an array of the servers to stop on exit) and
# SCRIPT (its name, for error messages), then calls `stop_on_exit`. STOP_WAIT (seconds, default
# 10) is how long a stopping server gets before it is killed.

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# Builds (unless BENCH_NO_BUILD=1) and copies the release traceforge and bare_hyper into
# $WORK/bin, so a concurrent `cargo build` in the same target directory cannot swap the binaries
# halfway through the run. Sets $TF and $BARE. BENCH_TRACEFORGE and BENCH_BARE_HYPER name other
# builds of the two (both, e.g. the profile-guided ones of benches/pgo.sh); nothing is built then.
build() {
  if [[ -n ${BENCH_TRACEFORGE:-}${BENCH_BARE_HYPER:-} ]]; then
    [[ -x ${BENCH_TRACEFORGE:-} && -x ${BENCH_BARE_HYPER:-} ]] ||
      die "BENCH_TRACEFORGE and BENCH_BARE_HYPER must both name executables (got '${BENCH_TRACEFORGE:-}' and '${BENCH_BARE_HYPER:-}')"
    log "using $BENCH_TRACEFORGE and $BENCH_BARE_HYPER"
    mkdir -p "$WORK/bin"
    cp "$BENCH_TRACEFORGE" "$WORK/bin/traceforge"
    cp "$BENCH_BARE_HYPER" "$WORK/bin/bare_hyper"
    TF=$WORK/bin/traceforge
    BARE=$WORK/bin/bare_hyper
    return
  fi
  if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then
    log "BENCH_NO_BUILD=1: using the binaries already in the target directory"
  else
    log "cargo build --release --bin traceforge --example bare_hyper"
    (cd "$ROOT" && cargo build --release --bin traceforge --example bare_hyper)
  fi
  local target
  target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  [[ -x $target/release/traceforge && -x $target/release/examples/bare_hyper ]] ||
    die "no release binaries in $target (traceforge, examples/bare_hyper)"
  mkdir -p "$WORK/bin"
  cp "$target/release/traceforge" "$target/release/examples/bare_hyper" "$WORK/bin/"
  TF=$WORK/bin/traceforge
  BARE=$WORK/bin/bare_hyper
}

# Starts a server in the background (stdout to $WORK/NAME.out, stderr to $WORK/NAME.log); its
# bound host:port must appear as the first line of ADDR_FILE (a --ready-file, or the server's
# stdout). Sets $ADDR and $SERVER_PID.
start_server() {
  local name=$1 addr_file=$2
  shift 2
  rm -f "$addr_file"
  "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.log" </dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  ADDR=
  for _ in $(seq 1000); do
    if [[ -s $addr_file ]]; then
      ADDR=$(head -n1 "$addr_file")
      [[ $ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]] && break
      ADDR=
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.01
  done
  if [[ -z $ADDR ]]; then
    cat "$WORK/$name.log" >&2 || true
    die "$name did not announce a 127.0.0.1 address within 10 s (log above; command: $*)"
  fi
  log "$name listening on $ADDR (pid $SERVER_PID)"
}

# SIGINT is how traceforge and talkback stop (draining and writing cassettes); a background job
# of a non-interactive shell ignores SIGINT, so bare_hyper gets TERM (it ends normally on either).
# Waits up to $STOP_WAIT seconds, then kills the process.
stop_pid() {
  local pid=$1 signal=${2:-INT} wait=${STOP_WAIT:-10}
  kill -0 "$pid" 2>/dev/null || return 0
  kill -"$signal" "$pid" 2>/dev/null || true
  for _ in $(seq $((wait * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$SCRIPT: pid $pid still running $wait s after SIG$signal; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops one server of PIDS and forgets it.
stop_server() {
  local pid=$1 signal=${2:-INT} kept=()
  stop_pid "$pid" "$signal"
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  PIDS=("${kept[@]+"${kept[@]}"}")
}

# On exit, however it comes: every server still in PIDS stopped, the scratch directory removed
# (kept with BENCH_KEEP=1), the script's status kept.
cleanup() {
  local status=$?
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid" TERM; done
  cd /
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "$SCRIPT: scratch files kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}

stop_on_exit() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
