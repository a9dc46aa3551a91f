"""Peers for benches/detect.sh: detect-secrets and Presidio's pattern recognizers over a file.

Usage: detect_peers.py FILE MEGABYTES

Each peer reads the first MEGABYTES of FILE (cut at a line end) and prints one line:
`<peer>: <MB> MB in <s> s CPU (<s> s wall) = <MB/s> MB/s, <n> findings` (MB per
second of process CPU time: the machines are shared, wall time measures the neighbours too), or `<peer>: unavailable (<why>)` when
it cannot be imported, so the shell script can report that instead of a made-up figure.

- detect-secrets: `SecretsCollection.scan_file` with its default plugins and filters, as
  `detect-secrets scan` runs them.
- Presidio: only the regex/validator recognizers for the same kinds traceforge detects
  (EmailRecognizer, CreditCardRecognizer, IbanRecognizer, UsSsnRecognizer, IpRecognizer) and
  PhoneRecognizer (python-phonenumbers), called directly on 64 KB line-aligned chunks: no spaCy
  model and no NLP engine, so this is the fastest Presidio configuration there is.
"""

import os
import sys
import tempfile
import time


def prefix(path, megabytes):
    with open(path, encoding="utf-8") as f:
        text = f.read(int(megabytes * 1_000_000))
    cut = text.rfind("\n")
    return text[: cut + 1] if cut > 0 else text


class Clock:
    def __init__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def stop(self):
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def report(name, text, times, findings):
    cpu, wall = times
    mb = len(text.encode("utf-8")) / 1e6
    print(
        f"{name}: {mb:.1f} MB in {cpu:.3f} s CPU ({wall:.3f} s wall) = {mb / cpu:.3f} MB/s,"
        f" {findings} findings"
    )


def detect_secrets(text):
    try:
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings
    except ImportError as e:
        print(f"detect-secrets: unavailable ({e}; pip install detect-secrets)")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as f:
        f.write(text)
        path = f.name
    try:
        with default_settings():
            secrets = SecretsCollection()
            clock = Clock()
            secrets.scan_file(path)
            times = clock.stop()
        report("detect-secrets", text, times, sum(len(s) for _, s in secrets.data.items()))
    finally:
        os.unlink(path)


def presidio(text):
    try:
        import tldextract

        # EmailRecognizer calls tldextract, which otherwise tries to download the public suffix
        # list on first use; the benchmark talks to nothing, so use the bundled snapshot.
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            UsSsnRecognizer,
        )
    except ImportError as e:
        print(f"presidio: unavailable ({e}; pip install presidio-analyzer phonenumbers)")
        return
    recognizers = [
        EmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        IpRecognizer(),
        PhoneRecognizer(),
    ]
    chunks, start = [], 0
    while start < len(text):
        end = text.find("\n", start + 65536)
        end = len(text) if end < 0 else end + 1
        chunks.append(text[start:end])
        start = end
    kinds = {}
    clock = Clock()
    for chunk in chunks:
        for r in recognizers:
            for result in r.analyze(chunk, r.supported_entities, None):
                kinds[result.entity_type] = kinds.get(result.entity_type, 0) + 1
    times = clock.stop()
    report("presidio", text, times, f"{sum(kinds.values())} {dict(sorted(kinds.items()))}")


def main():
    path, megabytes = sys.argv[1], float(sys.argv[2])
    text = prefix(path, megabytes)
    detect_secrets(text)
    presidio(text)


if __name__ == "__main__":
    main()
