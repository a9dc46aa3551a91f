"""The calls behind the example cassettes: sent through the proxy that `record.sh` (or the
test that checks them) runs, each to the cassette named by the X-TraceForge-Cassette header.
Only the standard library, so it runs anywhere Python does."""

import json
import os
import urllib.request

CALLS = [
    ("openai/chat", "/openai/v1/chat/completions",
     {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is a cassette in VCR testing?"}]}),
    ("openai/chat", "/openai/v1/chat/completions",
     {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
      "messages": [{"role": "user", "content": "Explain replay in one sentence."}]}),
    ("openai/responses", "/openai/v1/responses",
     {"model": "gpt-4o-mini", "input": "Name one benefit of recorded tests."}),
    ("anthropic/tool-use", "/anthropic/v1/messages",
     {"model": "claude-3-5-haiku-latest", "max_tokens": 256, "stream": True,
      "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
      "tools": [{"name": "get_weather", "description": "Current weather for a city",
                 "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                                  "required": ["city"]}}]}),
]


def main():
    base = os.environ["TRACEFORGE_PROXY_URL"]
    for cassette, path, body in CALLS:
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            headers={
                "content-type": "application/json",
                "anthropic-version": "2023-06-01",
                "x-traceforge-cassette": cassette,
            },
        )
        with urllib.request.urlopen(request) as response:
            response.read()


if __name__ == "__main__":
    main()
