"""Real clients for the policy tests: the official openai and anthropic SDKs, unchanged but for
the base URL, their default retries and an httpx event hook that counts the attempts they make.

Usage: policy_clients.py CALLS.json RESULTS.json
CALLS.json is a list of calls, each {"name", "sdk": "openai"|"anthropic", "api", "base", "model",
"prompt", "headers", "tools"}, where api is one of chat, chat_stream, responses, responses_stream
(openai) or messages, messages_stream, messages_raw_stream (anthropic). RESULTS.json gets, by
call name: the text the SDK assembled, the finish reason it reported, the number of HTTP
attempts, the tool-call arguments of a streamed answer, the x-traceforge-policy header of every response, and the error the SDK raised, if any.
The Rust test judges them; this script only reports what the client saw.
"""

import json
import sys

import anthropic
import openai


def make_client(call, log):
    def on_request(request):
        log["attempts"] += 1

    def on_response(response):
        log["policy_headers"].append(response.headers.get("x-traceforge-policy"))

    hooks = {"request": [on_request], "response": [on_response]}
    headers = call.get("headers") or {}
    # The SDKs' own default retries (2) stay on: the proxy's answer must stop them.
    if call["sdk"] == "openai":
        return openai.OpenAI(base_url=call["base"], api_key="sk-test-policy-key-0123456789",
                             default_headers=headers,
                             http_client=openai.DefaultHttpxClient(event_hooks=hooks))
    return anthropic.Anthropic(base_url=call["base"], api_key="sk-ant-test-policy-key-0123",
                               default_headers=headers,
                               http_client=anthropic.DefaultHttpxClient(event_hooks=hooks))


SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}


def tools_for(call):
    """The one tool offered when the call asks for tools ({"tools": true}), in its SDK's shape."""
    if not call.get("tools"):
        return {}
    if call["sdk"] == "openai":
        return {"tools": [{"type": "function",
                           "function": {"name": "lookup", "parameters": SCHEMA}}]}
    return {"tools": [{"name": "lookup", "description": "Look it up", "input_schema": SCHEMA}]}


def run_call(client, call, log):
    api, model, prompt = call["api"], call["model"], call["prompt"]
    messages = [{"role": "user", "content": prompt}]
    tools = tools_for(call)
    if api == "chat":
        r = client.chat.completions.create(model=model, messages=messages)
        log["text"] = r.choices[0].message.content or ""
        log["finish"] = r.choices[0].finish_reason
    elif api == "chat_stream":
        text, args, finish = "", "", None
        for chunk in client.chat.completions.create(model=model, messages=messages, stream=True,
                                                    **tools):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for tool_call in choice.delta.tool_calls or []:
                    args += (tool_call.function and tool_call.function.arguments) or ""
                finish = choice.finish_reason or finish
        log["text"], log["finish"], log["tool_args"] = text, finish, args
    elif api == "responses":
        r = client.responses.create(model=model, input=prompt)
        log["text"] = r.output_text
        log["finish"] = r.incomplete_details.reason if r.incomplete_details else r.status
    elif api == "responses_stream":
        text, finish = "", None
        for event in client.responses.create(model=model, input=prompt, stream=True):
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type in ("response.completed", "response.incomplete"):
                details = event.response.incomplete_details
                finish = details.reason if details else event.response.status
        log["text"], log["finish"] = text, finish
    elif api == "messages":
        r = client.messages.create(model=model, max_tokens=200, messages=messages)
        log["text"] = "".join(b.text for b in r.content if b.type == "text")
        log["finish"] = r.stop_reason
    elif api == "messages_stream":
        with client.messages.stream(model=model, max_tokens=200, messages=messages,
                                    **tools) as s:
            log["text"] = "".join(s.text_stream)
            final = s.get_final_message()
            log["finish"] = final.stop_reason
            log["tool_args"] = "".join(json.dumps(b.input) for b in final.content
                                       if b.type == "tool_use")
    elif api == "messages_raw_stream":
        text, args, finish = "", "", None
        for event in client.messages.create(model=model, max_tokens=200, messages=messages,
                                            stream=True, **tools):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
            elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                args += event.delta.partial_json
            elif event.type == "message_delta":
                finish = event.delta.stop_reason
        log["text"], log["finish"], log["tool_args"] = text, finish, args
    else:
        raise ValueError(f"unknown api {api}")


def main():
    with open(sys.argv[1]) as f:
        calls = json.load(f)
    results = {}
    for call in calls:
        log = {"attempts": 0, "policy_headers": [], "text": None, "finish": None, "error": None}
        client = make_client(call, log)
        try:
            run_call(client, call, log)
        except (openai.APIStatusError, anthropic.APIStatusError) as e:
            log["error"] = type(e).__name__
            log["status"] = e.status_code
            log["message"] = str(e)
        except Exception as e:  # noqa: BLE001 - the test reports whatever the SDK raised
            log["error"] = type(e).__name__
            log["message"] = str(e)
        results[call["name"]] = log
    with open(sys.argv[2], "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
