#!/usr/bin/env python3
"""Start-up timings for the startup benchmark, stdlib only.

  startup.py ready TRACEFORGE CASSETTES_DIR [--runs 5]
      wall time from spawning `traceforge vcr replay --cassettes DIR --ready-file F` until F
      exists (polled every 1 ms); the server is then stopped with SIGINT (SIGKILL after 5 s).
  startup.py cli TRACEFORGE [--runs 20]
      wall time of `traceforge --version`, spawn to exit.
  startup.py redactor TRACEFORGE CASSETTES_DIR [--runs 50] [--detect DETECT]
      what building the redactor (PII detectors + secret rules) adds to a command's start:
      `--version`, `vcr list --cassettes DIR` (reads the cassettes, no redactor) and
      `vcr verify --cassettes DIR` (reads them, builds the redactor, scans them), spawn to exit,
      interleaved in a rotating order each round; with DETECT (the `detect` example), also
      `detect --compile`'s cold in-process compile times of each part. DIR should hold one
      small clean cassette, so verify's scan is negligible.

Prints one JSON object on stdout with every run and the min/median in milliseconds.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def ready_once(binary, cassettes, scratch, i):
    ready = os.path.join(scratch, f"ready-{i}")
    log = open(os.path.join(scratch, f"replay-{i}.log"), "w+")
    start = time.perf_counter()
    process = subprocess.Popen(
        [binary, "vcr", "replay", "--cassettes", cassettes, "--listen", "127.0.0.1:0",
         "--ready-file", ready],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = start + 30
        while not os.path.exists(ready):
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"replay exited {process.returncode} before ready:\n{log.read()}")
            if time.perf_counter() > deadline:
                raise RuntimeError("replay not ready after 30 s")
            time.sleep(0.001)
        elapsed = time.perf_counter() - start
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
    return elapsed * 1000


def cli_once(binary):
    start = time.perf_counter()
    done = subprocess.run([binary, "--version"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"--version exited {done.returncode}: {done.stderr.decode()}")
    return elapsed * 1000


def timed(command, cwd):
    start = time.perf_counter()
    done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=cwd)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed, done.stdout.decode()


def stats(values):
    values = sorted(values)
    return {"min_ms": round(values[0], 3), "median_ms": round(statistics.median(values), 3),
            "p90_ms": round(values[int(0.9 * (len(values) - 1))], 3), "n": len(values)}


def redactor(binary, cassettes, runs, detect):
    commands = {
        "version": [binary, "--version"],
        "list": [binary, "vcr", "list", "--cassettes", cassettes],
        "verify": [binary, "vcr", "verify", "--cassettes", cassettes],
    }
    times = {name: [] for name in commands}
    compile_pii, compile_secrets = [], []
    names = list(commands)
    with tempfile.TemporaryDirectory(prefix="tf-redactor-") as cwd:  # no traceforge.yaml here
        for i in range(runs + 3):  # three unmeasured rounds warm the page cache
            for name in names[i % 3:] + names[:i % 3]:
                elapsed, _ = timed(commands[name], cwd)
                if i >= 3:
                    times[name].append(elapsed)
            if detect:
                _, out = timed([detect, "--compile"], cwd)
                words = out.split()  # compile pii MS secrets MS
                if i >= 3:
                    compile_pii.append(float(words[2]))
                    compile_secrets.append(float(words[4]))
    result = {name: stats(values) for name, values in times.items()}
    if detect:
        result["compile_pii"] = stats(compile_pii)
        result["compile_secrets"] = stats(compile_secrets)
        result["compile_total"] = stats([a + b for a, b in zip(compile_pii, compile_secrets)])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["ready", "cli", "redactor"])
    parser.add_argument("traceforge")
    parser.add_argument("cassettes", nargs="?")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--detect", help="the detect example, for cold compile times")
    args = parser.parse_args()
    try:
        if args.kind == "redactor":
            if not args.cassettes:
                parser.error("redactor needs CASSETTES_DIR")
            json.dump(redactor(args.traceforge, args.cassettes, args.runs or 50, args.detect), sys.stdout)
            print()
            return
        if args.kind == "ready":
            if not args.cassettes:
                parser.error("ready needs CASSETTES_DIR")
            with tempfile.TemporaryDirectory(prefix="tf-startup-") as scratch:
                runs = [ready_once(args.traceforge, args.cassettes, scratch, i)
                        for i in range(args.runs or 5)]
        else:
            runs = [cli_once(args.traceforge) for _ in range(args.runs or 20)]
    except (RuntimeError, OSError) as e:
        print(f"startup.py: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump({"runs_ms": [round(r, 2) for r in runs], "min_ms": round(min(runs), 2),
               "median_ms": round(statistics.median(runs), 2)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
