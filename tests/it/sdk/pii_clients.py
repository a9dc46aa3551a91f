"""Real clients for the PII tests: the official openai and anthropic SDKs, unchanged, pointed at
traceforge only through OPENAI_BASE_URL / ANTHROPIC_BASE_URL (set by `traceforge vcr`).

Usage: pii_clients.py RESULTS.json
Sends each prompt of the JSON list in $PII_PROMPTS four ways (OpenAI chat plain and streamed,
Anthropic messages plain and streamed) and writes the answer texts, by call name, to RESULTS.json.
The Rust test compares them; this script only reports what the client saw.
"""

import json
import os
import sys

import anthropic
import openai


def run(prompts):
    results = {}
    oai = openai.OpenAI(max_retries=0)
    ant = anthropic.Anthropic(max_retries=0)
    for i, prompt in enumerate(prompts):
        messages = [{"role": "user", "content": prompt}]
        chat = oai.chat.completions.create(model="gpt-4o-mini", messages=messages)
        results[f"openai_chat_{i}"] = chat.choices[0].message.content

        stream = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
        results[f"openai_stream_{i}"] = "".join(
            chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

        message = ant.messages.create(model="claude-haiku-4-5", max_tokens=200, messages=messages)
        results[f"anthropic_plain_{i}"] = "".join(
            block.text for block in message.content if block.type == "text")

        with ant.messages.stream(model="claude-haiku-4-5", max_tokens=200, messages=messages) as s:
            results[f"anthropic_stream_{i}"] = "".join(s.text_stream)
    return results


def main():
    results = run(json.loads(os.environ["PII_PROMPTS"]))
    with open(sys.argv[1], "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
