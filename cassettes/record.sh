#!/usr/bin/env bash
# Re-records the example cassettes in this folder with the project's own binary against its
# built-in mock LLM (no API key, nothing leaves 127.0.0.1). The README shows them and
# tests/it/examples.rs checks that recording the same calls today behaves the same.
#
#   cassettes/record.sh            (uses `cargo run`; TRACEFORGE=path/to/binary to skip it)
set -euo pipefail
TF=${TRACEFORGE:+$(realpath "$TRACEFORGE")}
cd "$(dirname "$0")"
HERE=$(pwd)
if [[ -z $TF ]]; then
  (cd .. && cargo build --quiet --bin traceforge)
  TF=$(cd .. && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/traceforge
fi
WORK=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$TF" mock-llm --listen 127.0.0.1:0 --ready-file "$WORK/mock" --first-event-delay 0ms \
  --event-delay 0ms 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 500); do [[ -s $WORK/mock ]] && break; sleep 0.01; done
[[ -s $WORK/mock ]] || { echo "record.sh: mock-llm did not start" >&2; exit 1; }
MOCK=http://$(head -n1 "$WORK/mock")

# The calls are in calls.py; the proxy gives it OPENAI_BASE_URL, TRACEFORGE_PROXY_URL and the rest.
"$TF" vcr record --mode all --no-traces --cassettes "$HERE" \
  --upstream "openai=$MOCK" --upstream "anthropic=$MOCK" -- \
  python3 "$HERE/calls.py"
