"""Real clients of the proxy: the official openai and anthropic SDKs, unchanged, pointed at
traceforge only through OPENAI_BASE_URL / ANTHROPIC_BASE_URL (set by `traceforge vcr`).

Usage: clients.py record|replay RESULTS.json
In record mode the script saves what each call returned; in replay mode it compares and exits 1
on any difference.
"""

import json
import sys

import anthropic
import openai

WEATHER_OPENAI = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
WEATHER_ANTHROPIC = [{
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]


def run():
    results = {}
    oai = openai.OpenAI(max_retries=0)
    chat = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello to the SDK"}])
    results["openai_chat"] = chat.model_dump()

    stream = oai.chat.completions.create(
        model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Stream something for the SDK"}])
    results["openai_chat_stream"] = [chunk.model_dump() for chunk in stream]

    tools = oai.chat.completions.create(
        model="gpt-4o-mini", tools=WEATHER_OPENAI,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    call = tools.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather", call
    json.loads(call.function.arguments)
    results["openai_tools"] = tools.model_dump()

    with oai.chat.completions.stream(
            model="gpt-4o-mini", tools=WEATHER_OPENAI,
            messages=[{"role": "user", "content": "Weather in Rome, streamed?"}]) as s:
        final = s.get_final_completion()
    results["openai_tools_stream"] = final.model_dump()

    events = oai.responses.create(model="gpt-4o-mini", input="Responses API, streamed", stream=True)
    results["openai_responses_stream"] = [event.model_dump() for event in events]
    assert results["openai_responses_stream"][-1]["type"] == "response.completed"

    ant = anthropic.Anthropic(max_retries=0)
    message = ant.messages.create(
        model="claude-haiku-4-5", max_tokens=200,
        messages=[{"role": "user", "content": "Hello Claude from the SDK"}])
    results["anthropic_plain"] = message.model_dump()

    with ant.messages.stream(
            model="claude-haiku-4-5", max_tokens=200, tools=WEATHER_ANTHROPIC,
            messages=[{"role": "user", "content": "What is the weather in Oslo?"}]) as s:
        final = s.get_final_message()
    assert any(block.type == "tool_use" for block in final.content), final
    results["anthropic_tools_stream"] = final.model_dump()
    return results


def main():
    mode, path = sys.argv[1], sys.argv[2]
    results = run()
    if mode == "record":
        with open(path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
        return 0
    with open(path) as f:
        recorded = json.load(f)
    # Round-trip through JSON so both sides have the same types.
    replayed = json.loads(json.dumps(results))
    different = [name for name in recorded if recorded[name] != replayed.get(name)]
    if different:
        print("replay differs from recording for: " + ", ".join(different), file=sys.stderr)
        return 1
    print(f"{len(recorded)} SDK calls replayed identically")
    return 0


if __name__ == "__main__":
    sys.exit(main())
