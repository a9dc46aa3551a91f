#!/usr/bin/env python3
"""Parses benchmark output and prints the results table, stdlib only.

  report.py wrk FILE      wrk --latency output -> JSON {rps, p50_ms, p99_ms, requests, ...};
                          exits 1 if wrk made no requests or got any non-2xx answer or
                          socket error, so a replay miss (404) cannot pass as a fast run
  report.py table DIR     the table for every section whose results are in DIR (files written
                          by replay.sh); exits 0, or 3 when BENCH_STRICT=1 and a check failed
"""

import json
import os
import re
import sys

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unrecognised wrk time {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(text):
    result = {"non_2xx": 0, "socket_errors": 0}
    for line in text.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(50|75|90|99)%\s+(\S+)", line):
            result[f"p{m.group(1)}_ms"] = to_ms(m.group(2))
        elif m := re.match(r"Requests/sec:\s+([\d.]+)", line):
            result["rps"] = float(m.group(1))
        elif m := re.match(r"(\d+) requests in ([\d.]+\w+)", line):
            result["requests"] = int(m.group(1))
            result["duration_ms"] = to_ms(m.group(2))
        elif m := re.match(r"Non-2xx or 3xx responses:\s+(\d+)", line):
            result["non_2xx"] = int(m.group(1))
        elif m := re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line):
            result["socket_errors"] = sum(int(g) for g in m.groups())
    missing = [k for k in ("rps", "p50_ms", "p99_ms", "requests") if k not in result]
    if missing:
        raise ValueError(f"wrk output lacks {', '.join(missing)} (was --latency given?)")
    return result


def wrk_command(path):
    with open(path) as f:
        text = f.read()
    try:
        result = parse_wrk(text)
    except ValueError as e:
        print(f"report.py: {path}: {e}\n{text}", file=sys.stderr)
        return 1
    problems = []
    if result["requests"] == 0:
        problems.append("no requests completed")
    if result["non_2xx"]:
        problems.append(f"{result['non_2xx']} non-2xx answers")
    if result["socket_errors"]:
        problems.append(f"{result['socket_errors']} socket errors")
    json.dump(result, sys.stdout)
    print()
    print(f"    {result['rps']:,.0f} req/s, p50 {ms(result['p50_ms'])}, p99 {ms(result['p99_ms'])}, "
          f"{result['requests']:,} requests", file=sys.stderr)
    if problems:
        print(f"report.py: {path}: {'; '.join(problems)}\n{text}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------

def load(directory, name):
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def notes(directory, section):
    """Lines replay.sh wrote about a section: the first is its subtitle, the rest notes."""
    path = os.path.join(directory, f"notes-{section}.txt")
    if not os.path.exists(path):
        return "", []
    with open(path) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    return (lines[0] if lines else ""), lines[1:]


def ms(value):
    return f"{value:.3f} ms" if abs(value) < 10 else f"{value:.1f} ms"


def cells(r):
    return [ms(r["p50_ms"]), ms(r["p90_ms"]), ms(r["p99_ms"]), ms(r["max_ms"]), r["n"]]


def added_cells(direct, proxy):
    return [ms(proxy[k] - direct[k]) for k in ("p50_ms", "p90_ms", "p99_ms")] + ["", ""]


def rows_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in [header] + rows]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return lines


PII_MODES = ("off", "mask", "pseudonymize")


def record_section(directory, suffix, label, checks):
    """Section 2 for one record run: the short chat (no suffix) or one pii.mode (`-MODE`)."""
    plain, stream = load(directory, f"record-latency{suffix}.json"), load(directory, f"record-ttfb{suffix}.json")
    if not (plain or stream):
        return []
    subtitle, extra = notes(directory, f"record{suffix}")
    tag = f" ({label})" if label else ""
    out = [f"2. Record overhead{', ' + label if label else ''}  ({subtitle})"]
    rows = []
    if plain:
        d, p = plain["direct"], plain["proxy"]
        rows += [["non-streamed, direct to mock-llm", *cells(d)],
                 ["non-streamed, through vcr record", *cells(p)],
                 ["  added by the proxy", *added_cells(d, p)]]
        added = p["p99_ms"] - d["p99_ms"]
        checks.append((f"record{tag}: added p99 latency", ms(added), "< 1 ms", added < 1.0))
    if stream:
        d, p = stream["direct"], stream["proxy"]
        rows += [["streamed TTFB, direct to mock-llm", *cells(d)],
                 ["streamed TTFB, through vcr record", *cells(p)],
                 ["  added by the proxy", *added_cells(d, p)]]
        a50, a99 = p["p50_ms"] - d["p50_ms"], p["p99_ms"] - d["p99_ms"]
        # One-sided: the proxy cannot really be faster, so a negative difference is noise.
        checks.append((f"record{tag}: streamed TTFB added, p50", ms(a50), "< 1 ms", a50 < 1.0))
        checks.append((f"record{tag}: streamed TTFB added, p99", ms(a99), "< 1 ms", a99 < 1.0))
    out += rows_table(["path", "p50", "p90", "p99", "max", "n"], rows)
    out += [f"  {note}" for note in extra]
    written = load(directory, f"record-pii{suffix}.json")
    if written:
        mode = written["mode"]
        for kind, where in (("cassettes", "cassettes"), ("db", "trace database")):
            w = written[kind]
            if not w["bytes"]:  # --no-traces in BENCH_RECORD_FLAGS
                out.append(f"  {where}: none written")
                continue
            out.append(f"  {where}: {w['bytes']:,} B, {len(w['originals'])} of the request's PII values, "
                       f"{w['surrogates']} @pii.invalid surrogates, {w['placeholders']} placeholders")
            if mode == "off":
                ok, target = bool(w["originals"]), "originals kept (the PII really is there)"
            else:
                shown = w["surrogates"] if mode == "pseudonymize" else w["placeholders"]
                kind_of = "surrogates" if mode == "pseudonymize" else "placeholders"
                ok, target = not w["originals"] and shown > 0, f"no originals, {kind_of}"
            checks.append((f"record{tag}: {where} PII", f"{len(w['originals'])} originals", target, ok))
    out.append("")
    return out


def table_command(directory):
    title, extra = notes(directory, "run")
    out = [f"traceforge benchmarks  {title}"] + [f"  {note}" for note in extra] + [""]
    checks = []  # (name, measured, target, passed)

    servers = [("bare hyper", "throughput-bare.json"), ("traceforge replay", "throughput-traceforge.json"),
               ("talkback replay", "throughput-talkback.json")]
    got = {label: load(directory, name) for label, name in servers}
    if any(got.values()):
        subtitle, extra = notes(directory, "throughput")
        out.append(f"1. Replay throughput  ({subtitle})")
        rows = [[label, f"{r['rps']:,.0f}", ms(r["p50_ms"]), ms(r["p99_ms"]), f"{r['requests']:,}"]
                for label, r in got.items() if r]
        out += rows_table(["server", "req/s", "p50", "p99", "requests"], rows)
        out += [f"  {note}" for note in extra]
        out.append("")
        bare, tf, tb = got["bare hyper"], got["traceforge replay"], got["talkback replay"]
        if bare and tf:
            ratio = tf["rps"] / bare["rps"]
            checks.append(("replay req/s, traceforge / bare hyper", f"{ratio:.2f}", ">= 0.70", ratio >= 0.70))
            ratio = tf["p99_ms"] / bare["p99_ms"]
            checks.append(("replay p99, traceforge / bare hyper", f"{ratio:.2f}", "<= 1.50", ratio <= 1.50))
        if tb and tf and bare:
            # DESIGN.md derives "about 5x talkback" from the 70% target and talkback doing about
            # 14% of bare hyper on its machine; the same target, here, is this many times talkback.
            share = tb["rps"] / bare["rps"]
            out.append(f"  for scale: traceforge replay = {tf['rps'] / tb['rps']:.1f}x talkback; talkback "
                       f"does {share:.0%} of bare hyper here (DESIGN.md measured 14%), so the 70% "
                       f"target is {0.70 / share:.1f}x talkback on this machine")
            out.append("")

    # Without BENCH_PII_MODE one run of the short chat; with it, one per pii.mode.
    runs = [("", "")] + [(f"-{m}", f"pii.mode {m}") for m in PII_MODES
                         if os.path.exists(os.path.join(directory, f"record-latency-{m}.json"))
                         or os.path.exists(os.path.join(directory, f"record-ttfb-{m}.json"))]
    for suffix, label in runs:
        out += record_section(directory, suffix, label, checks)

    ready, cli = load(directory, "startup-ready.json"), load(directory, "startup-cli.json")
    if ready or cli:
        subtitle, extra = notes(directory, "startup")
        out.append(f"3. Startup  ({subtitle})")
        rows = []
        if ready:
            rows.append(["vcr replay, spawn -> ready file", ms(ready["min_ms"]), ms(ready["median_ms"]),
                         len(ready["runs_ms"])])
            checks.append(("replay ready with 10k interactions, median", ms(ready["median_ms"]), "< 200 ms",
                           ready["median_ms"] < 200))
        if cli:
            rows.append(["traceforge --version", ms(cli["min_ms"]), ms(cli["median_ms"]), len(cli["runs_ms"])])
            checks.append(("CLI start (--version), median", ms(cli["median_ms"]), "< 20 ms", cli["median_ms"] < 20))
        out += rows_table(["what", "min", "median", "runs"], rows)
        out += [f"  {note}" for note in extra]
        out.append("")

    redactor = load(directory, "startup-redactor.json")
    if redactor:
        _, extra = notes(directory, "redactor")
        out.append("3b. Redactor at start  (fresh process each; one clean 1-interaction cassette; "
                   "verify - list = building the redactor + scanning one interaction)")
        labels = [("version", "traceforge --version"), ("list", "vcr list (no redactor)"),
                  ("verify", "vcr verify (redactor)"), ("compile_pii", "  cold compile: PII detectors"),
                  ("compile_secrets", "  cold compile: secret rules"),
                  ("compile_total", "  cold compile: both")]
        rows = [[label, ms(redactor[k]["min_ms"]), ms(redactor[k]["median_ms"]), ms(redactor[k]["p90_ms"]),
                 redactor[k]["n"]] for k, label in labels if k in redactor]
        out += rows_table(["what", "min", "median", "p90", "runs"], rows)
        added = redactor["verify"]["median_ms"] - redactor["list"]["median_ms"]
        out.append(f"  vcr verify - vcr list, medians: {ms(added)}")
        out += [f"  {note}" for note in extra]
        out.append("")
        if "compile_total" in redactor:
            total = redactor["compile_total"]["median_ms"]
            checks.append(("detectors + secret rules compile, median", ms(total), "< 5 ms", total < 5))
        verify = redactor["verify"]["median_ms"]
        checks.append(("CLI start with the redactor (vcr verify), median", ms(verify), "< 20 ms", verify < 20))

    if checks:
        out.append("Checks against DESIGN.md section 10")
        out += rows_table(["check", "measured", "target", "result"],
                          [[n, m, t, "PASS" if ok else "FAIL"] for n, m, t, ok in checks])
        failed = sum(1 for c in checks if not c[3])
        out.append(f"  {len(checks) - failed} passed, {failed} failed")
    print("\n".join(out))
    if os.environ.get("BENCH_STRICT") == "1" and any(not c[3] for c in checks):
        return 3
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("wrk", "table"):
        sys.exit(__doc__)
    sys.exit(wrk_command(sys.argv[2]) if sys.argv[1] == "wrk" else table_command(sys.argv[2]))


if __name__ == "__main__":
    main()
