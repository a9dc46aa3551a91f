#!/usr/bin/env bash
# `traceforge load --report` at scale (issue 14, "Performance"); see benches/README.md.
#
#   benches/load_report.sh
#
# Synthesises a 10-minute run at 10,000 requests/s (6,000,000 requests) through the real
# recording code, without sending requests (the `load_report` example, benches/load_report.rs),
# then renders the HTML report and the Markdown summary. Prints the report's size (goal: under
# 2 MB) and render+write time (goal: under 1 s), and the resident memory after one and after
# ten minutes of samples (goal: flat; the timeline keeps at most 600 buckets).
#
# Environment: BENCH_NO_BUILD=1 (use the release example in target/), BENCH_KEEP=1 (keep the
# report in the scratch directory).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/traceforge-load-report-bench.XXXXXX")
if [[ -n ${BENCH_KEEP:-} ]]; then
  trap 'echo "kept $WORK" >&2' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  echo "==> cargo build --release --example load_report" >&2
  cargo build --release --quiet --example load_report
fi
target/release/examples/load_report "$WORK/report.html"
