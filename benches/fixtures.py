#!/usr/bin/env python3
"""Writes the inputs the benchmarks serve, stdlib only.

  fixtures.py replay DIR    one recorded chat completion, three ways:
                              DIR/cassettes/default.yaml  traceforge cassette (format v1)
                              DIR/tapes/chat.json5        talkback tape (playback only)
                              DIR/response.json           the exact response bytes (bare hyper)
                              DIR/request.json            the exact request bytes (curl checks)
  fixtures.py startup DIR   DIR/cassettes/: 100 cassettes x 100 distinct interactions (10,000),
                            one in five streamed with 10 events each
  fixtures.py startup-request C N
                            the cassette name (first line) and request body (second line) of
                            interaction N of cassette C in the startup set
  fixtures.py pii-request DIR
                            a ~10 KB support-desk chat request full of PII (e-mails, card
                            numbers, phones), plain and streamed: DIR/pii-plain.json,
                            DIR/pii-stream.json, and DIR/pii-values.txt (the originals, one a
                            line, that a protected cassette must not contain)

Cassettes are written in the block YAML layout traceforge itself writes (a small emitter below,
so no YAML library is needed); the benchmark checks that traceforge reads them with
`traceforge vcr list` and replays one.
"""

import base64
import json
import os
import re
import sys

# The request every replay benchmark sends (benches/post.lua sends these same bytes).
REQUEST = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}

# A realistic OpenAI chat.completion answer of about 600 bytes. Integers and strings only, so
# Python's compact JSON and the compact JSON traceforge replays are the same bytes.
RESPONSE = {
    "id": "chatcmpl-BxTf3Jq0cR8mZrY2kLw9vNa7eHs1P",
    "object": "chat.completion",
    "created": 1763719200,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! How can I help you today?",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 8,
        "completion_tokens": 33,
        "total_tokens": 41,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_560af6e559",
}


PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_ ./+()-]*")
RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(value):
    """One YAML scalar: plain when unambiguous, else a JSON string (valid YAML double quotes)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    if PLAIN.fullmatch(value) and not value.endswith(" ") and value.lower() not in RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def block(value, indent=0):
    """Block-style YAML lines for a non-empty mapping or sequence, laid out like serde_yaml
    (sequence items under a key start at the key's own indentation)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{pad}{scalar(key)}:")
                lines += block(item, indent + 2)
            elif isinstance(item, list) and item:
                lines.append(f"{pad}{scalar(key)}:")
                lines += block(item, indent)
            else:
                lines.append(f"{pad}{scalar(key)}: {scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = block(item, indent + 2)
                inner[0] = f"{pad}- {inner[0][indent + 2:]}"
                lines += inner
            else:
                lines.append(f"{pad}- {scalar(item)}")
    return lines


def to_yaml(document):
    return "\n".join(block(document)) + "\n"


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def replay(out):
    response_bytes = compact(RESPONSE).encode()
    request_bytes = compact(REQUEST).encode()
    cassette = {
        "version": 1,
        "cassette": "default",
        "interactions": [
            {
                "id": 1,
                "recorded_at": "2026-11-21T10:00:00Z",
                "request": {
                    "method": "POST",
                    "upstream": "openai",
                    "path": "/v1/chat/completions",
                    "headers": {"authorization": "REDACTED", "content-type": "application/json"},
                    "body": {"json": REQUEST},
                },
                "response": {
                    "status": 200,
                    "headers": {"content-type": "application/json"},
                    "body": {"json": RESPONSE},
                },
                "timing": {"ttfb_ms": 412, "total_ms": 415},
                "usage": {"model": RESPONSE["model"], "input_tokens": 8, "output_tokens": 33},
            }
        ],
    }
    write(os.path.join(out, "cassettes", "default.yaml"), to_yaml(cassette))
    # talkback: the request body as readable JSON (matched by value), the response body as
    # base64 so talkback serves these exact bytes instead of re-pretty-printing them.
    tape = {
        "meta": {
            "createdAt": "2026-11-21T10:00:00.000Z",
            "host": "https://api.openai.com",
            "reqHumanReadable": True,
            "resHumanReadable": False,
        },
        "req": {
            "url": "/v1/chat/completions",
            "method": "POST",
            "headers": {"content-type": "application/json"},
            "body": REQUEST,
        },
        "res": {
            "status": 200,
            "headers": {
                "content-type": ["application/json"],
                "content-length": [str(len(response_bytes))],
            },
            "body": base64.b64encode(response_bytes).decode(),
        },
    }
    write(os.path.join(out, "tapes", "chat.json5"), json.dumps(tape, indent=2) + "\n")
    with open(os.path.join(out, "response.json"), "wb") as f:
        f.write(response_bytes)
    with open(os.path.join(out, "request.json"), "wb") as f:
        f.write(request_bytes)
    print(f"replay fixtures in {out}: response {len(response_bytes)} bytes", file=sys.stderr)


WORDS = (
    "refund policy order shipping invoice account password upgrade plan billing cancel "
    "delivery warranty return exchange discount coupon address payment card receipt"
).split()


def startup_interaction(cassette, n, streamed):
    """One distinct recorded chat: the user message names the cassette and the turn."""
    question = f"[{cassette}:{n}] What is the {WORDS[n % len(WORDS)]} for {WORDS[(n * 7) % len(WORDS)]}?"
    answer_words = [WORDS[(n + i) % len(WORDS)] for i in range(9)]
    answer = "Here is what I found: " + " ".join(answer_words) + "."
    request = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a concise support assistant."},
            {"role": "user", "content": question},
        ],
        "temperature": 0,
    }
    completion_id = f"chatcmpl-{cassette:03d}{n:03d}bench"
    if streamed:
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
        pieces = ["Here", " is", " what", " I", " found", ":"] + [" " + w for w in answer_words[:2]]
        events = []
        at = 180 + n % 40
        for i, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            events.append({"at_ms": at, "data": {"json": {
                "id": completion_id, "object": "chat.completion.chunk", "created": 1763719200,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}}})
            at += 12
        events.append({"at_ms": at, "data": {"json": {
            "id": completion_id, "object": "chat.completion.chunk", "created": 1763719200,
            "model": "gpt-4o-mini-2024-07-18", "choices": [],
            "usage": {"prompt_tokens": 24, "completion_tokens": 8, "total_tokens": 32}}}})
        events.append({"at_ms": at + 1, "data": {"text": "[DONE]"}})
        response = {"status": 200, "headers": {"content-type": "text/event-stream"}, "stream": events}
        timing = {"ttfb_ms": events[0]["at_ms"], "total_ms": at + 1}
        usage_out = 8
    else:
        response = {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": {"json": {
                "id": completion_id, "object": "chat.completion", "created": 1763719200,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer,
                                                      "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 24, "completion_tokens": 14, "total_tokens": 38}}},
        }
        timing = {"ttfb_ms": 300 + n % 50, "total_ms": 302 + n % 50}
        usage_out = 14
    return {
        "id": n + 1,
        "recorded_at": "2026-11-21T10:00:00Z",
        "request": {
            "method": "POST",
            "upstream": "openai",
            "path": "/v1/chat/completions",
            "headers": {"authorization": "REDACTED", "content-type": "application/json"},
            "body": {"json": request},
        },
        "response": response,
        "timing": timing,
        "usage": {"model": "gpt-4o-mini-2024-07-18", "input_tokens": 24, "output_tokens": usage_out},
    }


def startup_name(c):
    return f"suite-{c // 10:02d}/test-{c:03d}"


def startup(out, cassettes=100, per_cassette=100):
    total = 0
    for c in range(cassettes):
        name = startup_name(c)
        interactions = [startup_interaction(c, n, streamed=(n % 5 == 4)) for n in range(per_cassette)]
        total += len(interactions)
        doc = {"version": 1, "cassette": name, "interactions": interactions}
        write(os.path.join(out, "cassettes", name + ".yaml"), to_yaml(doc))
    print(f"startup fixtures in {out}: {cassettes} cassettes, {total} interactions", file=sys.stderr)


# Real-looking PII for the record benchmark with `pii.mode`. None of it is a documentation value
# the detectors allow out of the box (example.com, published test cards, 555-01xx), so every
# value is really detected and protected. Cards get their Luhn digit computed below.
PII_EMAILS = ["jane.doe@acme.io", "m.okafor@northwind-mail.net", "priya.raman@globex.co.uk",
              "billing@initech.de", "t.nguyen@umbrella-corp.com"]
PII_PHONES = ["+44 20 7946 0958", "+49 151 2345 6789", "+1 646 201 7734"]
PII_CARD = "4294 1996 8255 0949"


def luhn_complete(prefix):
    """`prefix` (digits) plus the Luhn check digit."""
    total = 0
    for i, d in enumerate(int(c) for c in reversed(prefix)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return prefix + str(-total % 10)


def pii_cards():
    visa = luhn_complete("453201511283036")
    master = luhn_complete("522804910374612")
    amex = luhn_complete("34916502837461")
    return [PII_CARD, " ".join(visa[i:i + 4] for i in range(0, 16, 4)),
            "-".join(master[i:i + 4] for i in range(0, 16, 4)), amex]


def pii_request(out, size=10 * 1024):
    emails, phones, cards = PII_EMAILS, PII_PHONES, pii_cards()
    system = (
        "You are the support assistant of Acme Payments. Answer in two or three sentences, in a "
        "friendly and precise tone. Never promise refunds before the billing team has confirmed "
        "them; quote ticket numbers when you refer to earlier conversations; when a customer "
        "asks to change the card on file, explain that the change takes effect at the next "
        "billing cycle and that the old card is kept for 30 days for chargebacks. Escalate to a "
        "human when the customer mentions fraud, legal action, or a disputed charge above 500 EUR. "
    ) * 3
    messages = [{"role": "system", "content": system}]
    turn = 0
    while True:
        e, p, c = emails[turn % len(emails)], phones[turn % len(phones)], cards[turn % len(cards)]
        messages.append({"role": "user", "content": (
            f"Ticket #{48210 + turn}: the customer {e} (phone {p}) says the card ending in "
            f"{c[-4:]} was charged twice for the March invoice. The full card number on the "
            f"dispute form is {c}. They would like a callback on {p} or an answer by e-mail to "
            f"{e} before Friday, and they mention the order number ORD-2024-{7731 + turn} and "
            "the amount of 129.90 EUR.")})
        messages.append({"role": "assistant", "content": (
            f"Thanks for the details on ticket #{48210 + turn}. I can see two captures of 129.90 "
            "EUR on the same day; the second one is a pending authorisation that will drop off "
            "within five working days. I have added a note to the ticket and the billing team "
            "will confirm by e-mail.")})
        turn += 1
        last = {"role": "user", "content": (
            f"Email {emails[0]} card {PII_CARD} today: the customer asked again from "
            f"{phones[0]} and copied {emails[1]}; please draft the reply.")}
        body = {"model": "gpt-4o-mini", "messages": messages + [last]}
        if len(compact(body)) >= size:
            break
    write(os.path.join(out, "pii-plain.json"), compact(body) + "\n")
    write(os.path.join(out, "pii-stream.json"), compact({**body, "stream": True}) + "\n")
    values = list(dict.fromkeys(emails + phones + cards + [c.replace(" ", "").replace("-", "") for c in cards]))
    write(os.path.join(out, "pii-values.txt"), "\n".join(values) + "\n")
    print(f"pii request in {out}: {len(compact(body))} bytes, {len(messages) + 1} messages",
          file=sys.stderr)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "startup-request":
        c, n = int(args[1]), int(args[2])
        print(startup_name(c))
        print(compact(startup_interaction(c, n, streamed=(n % 5 == 4))["request"]["body"]["json"]))
    elif len(args) == 2 and args[0] in ("replay", "startup", "pii-request"):
        {"replay": replay, "startup": startup, "pii-request": pii_request}[args[0]](args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
