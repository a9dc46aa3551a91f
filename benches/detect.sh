#!/usr/bin/env bash
# PII detection throughput (issue 11, "Performance"): traceforge's default detectors
# (`Detectors::find`, benches/detect.rs) against detect-secrets and Presidio's pattern
# recognizers (benches/detect_peers.py) on the same mixed real cassette text: every file under
# fixtures/vcrpy/ and cassettes/, concatenated and repeated to BENCH_DETECT_MB (default 32) MB.
# Target: >= 50 MB/s on one core. A second traceforge line adds a custom term list of 10,000
# names (aho-corasick) to the defaults.
#
# Everything runs pinned to one core (taskset, when present). Rates are MB per second of CPU
# time, because the machines are shared: wall time is printed too, but only CPU-time ratios
# from one run count. The Python peers are about a thousand times slower, so they read only
# the first BENCH_PEER_MB (default 2) MB of the same file; a rate does not depend on the size.
#
# Usage: benches/detect.sh
#   PYTHON=/path/to/venv/bin/python   interpreter with detect-secrets, presidio-analyzer and
#                                     phonenumbers (pip install detect-secrets presidio-analyzer);
#                                     a peer that cannot be imported is reported as unavailable
#   BENCH_NO_BUILD=1                  use target/release/examples/detect as it is
set -euo pipefail

cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mb="${BENCH_DETECT_MB:-32}"
peer_mb="${BENCH_PEER_MB:-2}"
python="${PYTHON:-python3}"
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --example detect 2>&1 | tail -1
fi

corpus="$scratch/corpus.yaml"
"$python" - "$corpus" "$mb" <<'PY'
import glob, sys
files = sorted(glob.glob("fixtures/vcrpy/**/*.yaml", recursive=True)) + sorted(
    glob.glob("cassettes/**/*.yaml", recursive=True))
base = "\n".join(open(f, encoding="utf-8").read() for f in files)
target = float(sys.argv[2]) * 1_000_000
with open(sys.argv[1], "w", encoding="utf-8") as out:
    written = 0
    while written < target:
        out.write(base)
        written += len(base.encode("utf-8"))
print(f"== corpus: {len(files)} cassettes ({len(base) / 1e3:.0f} kB) repeated to {written / 1e6:.1f} MB")
PY

results="$scratch/results"
"${pin[@]}" target/release/examples/detect "$corpus" 3 | tee "$results"
"${pin[@]}" "$python" benches/detect_peers.py "$corpus" "$peer_mb" | tee -a "$results"

"$python" - "$results" <<'PY'
import re, sys
rates = {}
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"([\w+-]+): .* = ([0-9.]+) MB/s", line)
    if m:
        rates[m.group(1)] = float(m.group(2))
tf = rates.get("traceforge", 0.0)
print("== summary (MB per CPU second, one core)")
print(f"  traceforge      {tf:10.2f} MB/s  target >= 50: {'PASS' if tf >= 50 else 'FAIL'}")
if "traceforge+terms" in rates:
    print(f"  + 10k terms     {rates['traceforge+terms']:10.2f} MB/s  (default detectors and a 10,000-name term list)")
for peer in ("detect-secrets", "presidio"):
    if peer in rates:
        print(f"  {peer:15} {rates[peer]:10.3f} MB/s  traceforge is {tf / rates[peer]:,.0f}x faster")
    else:
        print(f"  {peer:15} unavailable (see above); no ratio")
PY
