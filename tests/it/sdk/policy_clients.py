"""Real clients for the policy tests: the official openai and anthropic SDKs, unchanged but for
the base URL, their default retries and an httpx event hook that counts the attempts they make.

Usage: policy_clients.py CALLS.json RESULTS.json
CALLS.json is a list of calls, each {"name", "sdk": "openai"|"anthropic", "api", "base", "model",
"prompt", "headers"}, where api is one of chat, chat_stream, responses, responses_stream
(openai) or messages, messages_stream, messages_raw_stream (anthropic). RESULTS.json gets, by
call name: the text the SDK assembled, the finish reason it reported, the number of HTTP
attempts, the x-traceforge-policy header of every response, and the error the SDK raised, if any.
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


def run_call(client, call, log):
    api, model, prompt = call["api"], call["model"], call["prompt"]
    messages = [{"role": "user", "content": prompt}]
    if api == "chat":
        r = client.chat.completions.create(model=model, messages=messages)
        log["text"] = r.choices[0].message.content or ""
        log["finish"] = r.choices[0].finish_reason
    elif api == "chat_stream":
        text, finish = "", None
        for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                finish = choice.finish_reason or finish
        log["text"], log["finish"] = text, finish
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
        with client.messages.stream(model=model, max_tokens=200, messages=messages) as s:
            log["text"] = "".join(s.text_stream)
            log["finish"] = s.get_final_message().stop_reason
    elif api == "messages_raw_stream":
        text, finish = "", None
        for event in client.messages.create(model=model, max_tokens=200, messages=messages,
                                            stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
            elif event.type == "message_delta":
                finish = event.delta.stop_reason
        log["text"], log["finish"] = text, finish
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
