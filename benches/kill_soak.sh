#!/usr/bin/env bash
# The kill soak: does an interaction whose client received the whole response survive the
# recording proxy's SIGKILL, and do the trace database's rows still name what the cassettes
# hold? (issue 10: 0 lost across 50 kills; no row naming an interaction in no cassette.)
#
#   benches/kill_soak.sh
#
# Starts mock-llm, then KILLS times: a `vcr record` proxy (new-episodes, traces on), 16 client
# threads sending unique prompts (plain and streamed, half each) through it, and a SIGKILL after
# a random 0.2-1.2 s. A prompt counts as acknowledged once its client read the response to its
# end. Afterwards every acknowledged prompt must be in the cassette as every command reads it
# (`vcr show`, which merges a killed run's journal), and `db check --cassettes` reports the
# drift between rows and cassettes. Prints the figures; exit 1 if anything acknowledged is lost
# or a row names an interaction no cassette holds.
#
# Environment: BENCH_KILLS (default 50), BENCH_THREADS (default 16), BENCH_NO_BUILD=1,
# BENCH_KEEP=1 (keep the scratch directory).
set -euo pipefail

case "${1:-}" in
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
KILLS=${BENCH_KILLS:-50}
THREADS=${BENCH_THREADS:-16}
SCRIPT=kill_soak.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-soak.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# shellcheck source=benches/lib.sh
source "$BENCH/lib.sh"
build

start_server mock "$WORK/mock.ready" "$TF" mock-llm --listen 127.0.0.1:0 \
  --ready-file "$WORK/mock.ready" --first-event-delay 1ms --event-delay 1ms
MOCK=$ADDR
ACKED=$WORK/acked.txt
: >"$ACKED"

for round in $(seq "$KILLS"); do
  start_server "record-$round" "$WORK/record.ready" "$TF" vcr record --mode new-episodes \
    --cassettes "$WORK/cassettes" --db "$WORK/traces.db" --upstream "openai=http://$MOCK" \
    --listen 127.0.0.1:0 --ready-file "$WORK/record.ready"
  proxy=$SERVER_PID
  python3 "$BENCH/kill_soak.py" "$ADDR" "$round" "$ACKED" "$THREADS" 2>>"$WORK/clients.log" &
  clients=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.2), 3))')"
  kill -9 "$proxy"
  wait "$proxy" 2>/dev/null || true
  wait "$clients" || true
done

acked=$(wc -l <"$ACKED")
"$TF" vcr show default --cassettes "$WORK/cassettes" >"$WORK/show.txt"
lost=$(python3 - "$ACKED" "$WORK/show.txt" <<'EOF'
import re, sys
acked = open(sys.argv[1]).read().split()
shown = set(re.findall(r"user: (soak-\S+)", open(sys.argv[2]).read()))
missing = [p for p in acked if p not in shown]
print(len(missing))
for p in missing[:10]:
    print(p, file=sys.stderr)
EOF
)
recorded=$(grep -c '^   user: soak-' "$WORK/show.txt" || true)
journals=$(find "$WORK/cassettes" -name '.*.journal' | wc -l)
set +e
"$TF" db check --db "$WORK/traces.db" --cassettes "$WORK/cassettes" >"$WORK/check.txt" 2>&1
check=$?
set -e
count() { { grep -o "[0-9]* $1" "$WORK/check.txt" || true; } | cut -d' ' -f1; }
orphaned=$(count 'row(s) name interactions no cassette holds')
missing_rows=$(count 'interaction(s) have no row')
stale=$(count 'row(s) are older')

printf '\n%-52s %s\n' "kills" "$KILLS"
printf '%-52s %s\n' "responses acknowledged (read to the end)" "$acked"
printf '%-52s %s\n' "interactions in the cassette (journals merged)" "$recorded"
printf '%-52s %s\n' "journals left by killed runs" "$journals"
printf '%-52s %s\n' "acknowledged but lost" "$lost"
printf '%-52s %s\n' "db check --cassettes exit" "$check"
printf '%-52s %s\n' "rows naming an interaction no cassette holds" "${orphaned:-0}"
printf '%-52s %s\n' "interactions without a row (writer killed mid-batch)" "${missing_rows:-0}"
printf '%-52s %s\n' "rows older than their interaction" "${stale:-0}"
if [[ $lost != 0 || ${orphaned:-0} != 0 || ${stale:-0} != 0 ]]; then
  echo "FAIL" >&2
  exit 1
fi
echo "PASS: nothing acknowledged was lost; no row names an interaction outside the cassettes"
