#!/usr/bin/env python3
"""Writes two directories of cassettes for the `traceforge diff` benchmark (benches/diff.sh).

OUT/baseline and OUT/candidate each hold N interactions (default 10,000) over C cassettes, in
traceforge's own YAML layout, shaped like real recordings: OpenAI Chat plain and streamed (with
a usage chunk), Anthropic Messages plain and streamed with tool use, OpenAI Responses streamed,
with realistic headers. The candidate is a re-recording: every id, `created`, fingerprint,
request id, date and rate-limit header differs and latencies move by up to 20%, none of which
may count as a change; on top of that a known set of real changes is planted (edited answers,
a changed tool argument, a token jump, a new and a missing interaction, and two pathological
pairs of long texts that differ almost everywhere, which the diff's deadline must contain).
OUT/expected.json holds the counts `traceforge diff --format json` must report.

Standard library only; deterministic for a given seed.
"""

import argparse
import json
import os
import random
import re

WORDS = (
    "the a refund order customer policy within days shipping account we you can your please "
    "return item receipt store credit card payment processed business support team help "
    "question answer thank contact email number weather city forecast temperature rain sunny "
    "tomorrow week today time zone schedule meeting calendar invoice total amount balance "
    "delivery address package tracking status update confirm cancel change request"
).split()

PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if PLAIN.match(value) and value.lower() not in RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def emit(value, indent, out):
    """Block YAML the way serde_yaml writes it: two-space maps, `- ` items at the map's level."""
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:\n")
                emit(item, indent + (0 if isinstance(item, list) else 1), out)
            else:
                empty = "{}" if isinstance(item, dict) else "[]" if isinstance(item, list) else None
                out.append(f"{pad}{key}: {empty or scalar(item)}\n")
    else:
        for item in value:
            if isinstance(item, dict) and item:
                lines = []
                emit(item, indent + 1, lines)
                first = lines[0][len(pad) + 2:]
                out.append(f"{pad}- {first}")
                out.extend(lines[1:])
            elif isinstance(item, list) and item:
                out.append(f"{pad}-\n")
                emit(item, indent + 1, out)
            else:
                out.append(f"{pad}- {scalar(item)}\n")


class Volatile:
    """Everything that differs between two recordings of the same behaviour."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def hex(self, n=24):
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def headers(self, stream):
        h = {
            "content-type": "text/event-stream; charset=utf-8" if stream else "application/json",
            "date": f"Tue, {self.rng.randint(1, 28):02d} Jul 2025 09:{self.rng.randint(0, 59):02d}:00 GMT",
            "openai-processing-ms": str(self.rng.randint(200, 900)),
            "x-request-id": f"req_{self.hex()}",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-limit-tokens": "2000000",
            "x-ratelimit-remaining-requests": str(self.rng.randint(9000, 9999)),
            "x-ratelimit-remaining-tokens": str(self.rng.randint(1900000, 1999999)),
            "x-ratelimit-reset-requests": f"{self.rng.randint(1, 9)}ms",
            "x-ratelimit-reset-tokens": f"{self.rng.randint(1, 9)}ms",
            "cf-ray": f"{self.hex(16)}-LHR",
        }
        return h


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def pieces(text, size):
    parts = text.split(" ")
    return [" ".join(parts[i:i + size]) + (" " if i + size < len(parts) else "")
            for i in range(0, len(parts), size)]


WEATHER_OPENAI = [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}]
WEATHER_ANTHROPIC = [{"name": "get_weather", "description": "Get the weather",
                      "input_schema": {"type": "object", "properties": {"city": {"type": "string"},
                                       "unit": {"type": "string"}}, "required": ["city"]}}]


def interaction(i, answer, args, out_tokens, v, latency):
    """One interaction of kind i % 20, with the given answer text and tool arguments."""
    kind = i % 20
    prompt = f"Question {i}: what is the policy for order {i * 7919 % 100000}?"
    messages = [{"role": "system", "content": "You are a helpful support assistant."},
                {"role": "user", "content": prompt}]
    in_tokens = 20 + i % 13
    created = v.rng.randint(1700000000, 1760000000)
    timing = {"ttfb_ms": latency // 3, "total_ms": latency}
    if kind < 10:  # OpenAI Chat, plain
        request = {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                   "headers": {"authorization": "REDACTED", "content-type": "application/json"},
                   "body": {"json": {"model": "gpt-4o-mini", "temperature": 0, "messages": messages}}}
        body = {"id": f"chatcmpl-{v.hex()}", "object": "chat.completion", "created": created,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": in_tokens, "completion_tokens": out_tokens,
                          "total_tokens": in_tokens + out_tokens},
                "service_tier": "default", "system_fingerprint": f"fp_{v.hex(10)}"}
        response = {"status": 200, "headers": v.headers(False), "body": {"json": body}}
        usage = {"model": "gpt-4o-mini-2024-07-18", "input_tokens": in_tokens, "output_tokens": out_tokens}
    elif kind < 15:  # OpenAI Chat, streamed with a usage chunk
        request = {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                   "headers": {"authorization": "REDACTED", "content-type": "application/json"},
                   "body": {"json": {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
                                     "messages": messages}}}
        cid, fp = f"chatcmpl-{v.hex()}", f"fp_{v.hex(10)}"

        def chunk(delta, finish=None, usage=None):
            return {"id": cid, "object": "chat.completion.chunk", "created": created,
                    "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": fp,
                    "choices": [] if usage else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                    **({"usage": usage} if usage else {})}
        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": p}) for p in pieces(answer, 3)]
        events.append(chunk({}, "stop"))
        events.append(chunk(None, usage={"prompt_tokens": in_tokens, "completion_tokens": out_tokens,
                                         "total_tokens": in_tokens + out_tokens}))
        stream = [{"at_ms": latency // 3 + n * 4, "data": {"json": e}} for n, e in enumerate(events)]
        stream.append({"at_ms": latency, "data": {"text": "[DONE]"}})
        response = {"status": 200, "headers": v.headers(True), "stream": stream}
        usage = {"model": "gpt-4o-mini-2024-07-18", "input_tokens": in_tokens, "output_tokens": out_tokens}
    elif kind < 17:  # Anthropic, streamed, text then tool use
        request = {"method": "POST", "upstream": "anthropic", "path": "/v1/messages",
                   "headers": {"x-api-key": "REDACTED", "anthropic-version": "2023-06-01",
                               "content-type": "application/json"},
                   "body": {"json": {"model": "claude-3-5-haiku-latest", "max_tokens": 1024, "stream": True,
                                     "system": "You are a helpful support assistant.",
                                     "messages": messages[1:], "tools": WEATHER_ANTHROPIC}}}
        arg_text = json.dumps(args)
        events = [
            ("message_start", {"type": "message_start", "message": {
                "id": f"msg_{v.hex()}", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": in_tokens, "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ("ping", {"type": "ping"}),
        ]
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": p}}) for p in pieces(answer, 4)]
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
                       "type": "tool_use", "id": f"toolu_{v.hex()}", "name": "get_weather", "input": {}}})]
        events += [("content_block_delta", {"type": "content_block_delta", "index": 1,
                                            "delta": {"type": "input_json_delta", "partial_json": arg_text[k:k + 8]}})
                   for k in range(0, len(arg_text), 8)]
        events += [("content_block_stop", {"type": "content_block_stop", "index": 1}),
                   ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                                      "usage": {"output_tokens": out_tokens}}),
                   ("message_stop", {"type": "message_stop"})]
        stream = [{"at_ms": latency // 3 + n * 6, "event": name, "data": {"json": data}}
                  for n, (name, data) in enumerate(events)]
        headers = v.headers(True)
        headers["request-id"] = headers.pop("x-request-id")
        response = {"status": 200, "headers": headers, "stream": stream}
        usage = {"model": "claude-3-5-haiku-20241022", "input_tokens": in_tokens, "output_tokens": out_tokens}
    elif kind < 18:  # OpenAI Responses, streamed
        request = {"method": "POST", "upstream": "openai", "path": "/v1/responses",
                   "headers": {"authorization": "REDACTED", "content-type": "application/json"},
                   "body": {"json": {"model": "gpt-4o-mini", "stream": True, "input": prompt}}}
        rid, mid = f"resp_{v.hex()}", f"msg_{v.hex()}"
        base = {"id": rid, "object": "response", "created_at": created, "model": "gpt-4o-mini-2024-07-18"}
        events = [("response.created", {"type": "response.created", "response": {**base, "status": "in_progress", "output": []}})]
        events += [("response.output_text.delta", {"type": "response.output_text.delta", "item_id": mid,
                                                   "output_index": 0, "content_index": 0, "delta": p})
                   for p in pieces(answer, 3)]
        events.append(("response.completed", {"type": "response.completed", "response": {
            **base, "status": "completed",
            "output": [{"id": mid, "type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": answer, "annotations": []}]}],
            "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens, "total_tokens": in_tokens + out_tokens}}}))
        stream = [{"at_ms": latency // 3 + n * 5, "event": name, "data": {"json": data}}
                  for n, (name, data) in enumerate(events)]
        response = {"status": 200, "headers": v.headers(True), "stream": stream}
        usage = {"model": "gpt-4o-mini-2024-07-18", "input_tokens": in_tokens, "output_tokens": out_tokens}
    else:  # Anthropic, plain, tool use
        request = {"method": "POST", "upstream": "anthropic", "path": "/v1/messages",
                   "headers": {"x-api-key": "REDACTED", "anthropic-version": "2023-06-01",
                               "content-type": "application/json"},
                   "body": {"json": {"model": "claude-3-5-haiku-latest", "max_tokens": 1024,
                                     "messages": messages[1:], "tools": WEATHER_ANTHROPIC}}}
        body = {"id": f"msg_{v.hex()}", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
                "content": [{"type": "text", "text": answer},
                            {"type": "tool_use", "id": f"toolu_{v.hex()}", "name": "get_weather", "input": args}],
                "stop_reason": "tool_use", "stop_sequence": None,
                "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens}}
        headers = v.headers(False)
        headers["request-id"] = headers.pop("x-request-id")
        response = {"status": 200, "headers": headers, "body": {"json": body}}
        usage = {"model": "claude-3-5-haiku-20241022", "input_tokens": in_tokens, "output_tokens": out_tokens}
    return {"id": 0, "recorded_at": f"2025-07-{v.rng.randint(1, 28):02d}T09:00:00Z", "request": request,
            "response": response, "timing": timing, "usage": usage}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--interactions", type=int, default=10000)
    parser.add_argument("--cassettes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    opts = parser.parse_args()

    content = random.Random(opts.seed)
    sides = {"baseline": Volatile(opts.seed + 1), "candidate": Volatile(opts.seed + 2)}
    per_cassette = opts.interactions // opts.cassettes
    expected = {"changed": 0, "missing": 0, "new": 0}
    planted = {}  # global index -> what the candidate does differently
    n = per_cassette * opts.cassettes
    for i in range(17, n, 97):  # edited answers: one word swapped
        planted[i] = "text"
    for i in range(16, n, 500):  # a streamed Anthropic tool call (kind 16): another unit
        planted[i] = "argument"
    for i in range(3, n, 1009):  # a much longer answer: the output tokens jump
        planted[i] = "tokens"
    planted[n - 1] = "pathological"
    planted[n // 2 + 10] = "pathological"
    expected["changed"] = len(planted)

    for side in ("baseline", "candidate"):
        os.makedirs(os.path.join(opts.out, side), exist_ok=True)
    for c in range(opts.cassettes):
        name = f"suite{c // 10:02d}/test_{c:03d}"
        records = {"baseline": [], "candidate": []}
        for k in range(per_cassette):
            i = c * per_cassette + k
            answer = words(content, content.randint(30, 70))
            args = {"city": content.choice(["Paris", "Oslo", "Rome", "Lima"]), "unit": "celsius"}
            out_tokens = len(answer.split()) + 9
            latency = content.randint(300, 1500)
            for side, v in sides.items():
                a, g, t, lat = answer, dict(args), out_tokens, latency
                if side == "candidate":
                    lat = int(latency * v.rng.uniform(0.8, 1.2))
                    what = planted.get(i)
                    if what == "text":
                        a = answer.replace(answer.split()[3], "certainly", 1)
                    elif what == "argument":
                        g["unit"] = "fahrenheit"
                    elif what == "tokens":
                        a = answer + " " + words(content, 60)
                        t = out_tokens + 60
                    elif what == "pathological":
                        # Long multi-line texts that share almost nothing: worst case for Myers.
                        r = random.Random(i)
                        a = "\n".join(words(r, 12) for _ in range(1500))
                if planted.get(i) == "pathological" and side == "baseline":
                    r = random.Random(i + 1_000_003)
                    a = "\n".join(words(r, 12) for _ in range(1500))
                records[side].append(interaction(i, a, g, t, v, lat))
        # One interaction only in the baseline, one only in the candidate.
        if c == 5:
            records["baseline"].append(interaction(999_999, words(content, 20), {"city": "Oslo"}, 29,
                                                   sides["baseline"], 400))
            expected["missing"] += 1
        if c == 6:
            records["candidate"].append(interaction(999_998, words(content, 20), {"city": "Oslo"}, 29,
                                                    sides["candidate"], 400))
            expected["new"] += 1
        for side, items in records.items():
            for number, item in enumerate(items, 1):
                item["id"] = number
            out = [f"version: 1\ncassette: {name}\ninteractions:\n"]
            emit(items, 0, out)
            path = os.path.join(opts.out, side, name + ".yaml")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("".join(out))
    expected["same"] = n - expected["changed"]
    expected["interactions"] = n + expected["missing"] + expected["new"]
    with open(os.path.join(opts.out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
