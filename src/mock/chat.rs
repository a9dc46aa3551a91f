//! OpenAI Chat Completions in the mock: reads `messages`, `tools`, `tool_choice`,
//! `response_format`, `max_completion_tokens`/`max_tokens` and `stream`/`stream_options`, and
//! answers with a `chat.completion` body or a stream of `chat.completion.chunk` events ending
//! in `data: [DONE]`, shaped like OpenAI's recorded traffic.

use serde_json::{json, Map, Value};

use super::answer::{self, salt, Answer, Conversation, Format, Ids, Question, Tool, ToolChoice};
use super::{Event, Reply};
use crate::provider::Provider;

pub(super) fn reply(request: &Map<String, Value>, ids: Ids) -> Reply {
    let error = |message: String| Reply::error(Provider::OpenAi, 400, &message);
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return error("you must provide a model parameter".into());
    };
    let question = match question(request) {
        Ok(question) => question,
        Err(message) => return error(message),
    };
    let answer = match answer::answer(&question) {
        Ok(answer) => answer,
        Err(message) => return error(format!("Invalid value for 'tool_choice': {message}")),
    };
    let completion = Completion {
        id: format!("chatcmpl-mock-{}", ids.hex(salt::RESPONSE)),
        call_id: format!("call_mock_{}", ids.hex(salt::CALL)),
        created: ids.created(),
        model,
        answer,
    };
    let request_id = (
        "x-request-id",
        format!("req_mock_{}", ids.hex(salt::REQUEST)),
    );
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = request
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
        Reply::Stream {
            events: completion.chunks(include_usage),
            request_id,
        }
    } else {
        Reply::Json {
            status: 200,
            body: completion.body(),
            request_id: Some(request_id),
        }
    }
}

fn question(request: &Map<String, Value>) -> Result<Question<'_>, String> {
    let messages = match request.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        Some(Value::Array(_)) => {
            return Err(
                "Invalid 'messages': empty array. Expected an array with minimum length 1.".into(),
            )
        }
        _ => return Err("Missing required parameter: 'messages'.".into()),
    };
    let mut conversation = Conversation::default();
    let mut trailing_tool_results: Vec<String> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let Some(role) = message.get("role").and_then(Value::as_str) else {
            return Err(format!("Missing required parameter: 'messages[{i}].role'."));
        };
        let text = answer::content_text(message.get("content"));
        conversation.count(&text);
        match role {
            "tool" | "function" => trailing_tool_results.push(text),
            "user" => {
                conversation.prompt = text;
                trailing_tool_results.clear();
            }
            _ => trailing_tool_results.clear(),
        }
    }
    if !trailing_tool_results.is_empty() {
        conversation.tool_result = Some(trailing_tool_results.join(" "));
    }
    let mut tools = Vec::new();
    for (i, tool) in request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let function = tool.get("function");
        let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) else {
            return Err(format!(
                "Missing required parameter: 'tools[{i}].function.name'."
            ));
        };
        tools.push(Tool {
            name,
            schema: function.and_then(|f| f.get("parameters")),
        });
    }
    let choice = match request.get("tool_choice") {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(Value::String(choice)) => match choice.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(format!("Invalid value for 'tool_choice': '{other}'.")),
        },
        Some(choice) => match choice.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => return Err("Missing required parameter: 'tool_choice.function.name'.".into()),
        },
    };
    let format = match request.get("response_format") {
        Some(format) => match format.get("type").and_then(Value::as_str) {
            Some("json_object") => Format::JsonObject,
            Some("json_schema") => match format.pointer("/json_schema/schema") {
                Some(schema) => Format::JsonSchema(schema),
                None => {
                    return Err(
                        "Missing required parameter: 'response_format.json_schema.schema'.".into(),
                    )
                }
            },
            _ => Format::Text,
        },
        None => Format::Text,
    };
    let max_tokens = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|name| request.get(*name).and_then(Value::as_u64));
    Ok(Question {
        conversation,
        tools,
        choice,
        format,
        max_tokens,
    })
}

/// One answer in Chat Completions' shapes.
struct Completion<'a> {
    id: String,
    call_id: String,
    created: u64,
    model: &'a str,
    answer: Answer,
}

impl Completion<'_> {
    fn finish_reason(&self) -> &'static str {
        if self.answer.call.is_some() {
            "tool_calls"
        } else if self.answer.truncated {
            "length"
        } else {
            "stop"
        }
    }

    fn usage(&self) -> Value {
        let (input, output) = (self.answer.input_tokens, self.answer.output_tokens);
        json!({
            "prompt_tokens": input,
            "completion_tokens": output,
            "total_tokens": input + output,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            }
        })
    }

    fn body(&self) -> Value {
        let mut message = json!({
            "role": "assistant",
            "content": if self.answer.call.is_some() { Value::Null } else { json!(self.answer.text) },
            "refusal": null,
            "annotations": []
        });
        if let Some(call) = &self.answer.call {
            message["tool_calls"] = json!([{
                "id": self.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments}
            }]);
        }
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": self.finish_reason()
            }],
            "usage": self.usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_mock"
        })
    }

    /// The stream: a role chunk, content or tool-call deltas, the finish chunk, the usage
    /// chunk when asked for, then `[DONE]`.
    fn chunks(&self, include_usage: bool) -> Vec<Event> {
        let chunk = |choices: Value, usage: Option<Value>| {
            let mut chunk = json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "service_tier": "default",
                "system_fingerprint": "fp_mock",
                "choices": choices
            });
            if include_usage {
                chunk["usage"] = usage.unwrap_or(Value::Null);
            }
            Event::data(&chunk)
        };
        let delta = |delta: Value, finish_reason: Value| {
            chunk(
                json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]),
                None,
            )
        };
        let mut events = Vec::new();
        match &self.answer.call {
            Some(call) => {
                events.push(delta(
                    json!({
                        "role": "assistant",
                        "content": null,
                        "tool_calls": [{
                            "index": 0,
                            "id": self.call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""}
                        }],
                        "refusal": null
                    }),
                    Value::Null,
                ));
                for piece in answer::chunks(&call.arguments, answer::ARGUMENT_PIECE_CHARS) {
                    events.push(delta(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                        Value::Null,
                    ));
                }
            }
            None => {
                events.push(delta(
                    json!({"role": "assistant", "content": "", "refusal": null}),
                    Value::Null,
                ));
                for piece in answer::text_pieces(&self.answer.text) {
                    events.push(delta(json!({"content": piece}), Value::Null));
                }
            }
        }
        events.push(delta(json!({}), json!(self.finish_reason())));
        if include_usage {
            events.push(chunk(json!([]), Some(self.usage())));
        }
        events.push(Event::done());
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::testing::{json_body, request_of, stream_events};

    fn stream_data(reply: Reply) -> Vec<String> {
        stream_events(reply).into_iter().map(|e| e.data).collect()
    }

    #[test]
    fn plain_completion_has_the_real_fields() {
        let (request, ids) = request_of(json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me a joke"}]
        }));
        let (status, body) = json_body(reply(&request, ids));
        assert_eq!(status, 200);
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], "gpt-4o-mini");
        assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-mock-"));
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], "stop");
        assert_eq!(choice["message"]["role"], "assistant");
        assert!(choice["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Mock answer to: Tell me a joke."));
        // "Be brief." and "Tell me a joke": six words.
        assert_eq!(body["usage"]["prompt_tokens"], 6);
        let completion = answer::tokens(choice["message"]["content"].as_str().unwrap());
        assert_eq!(body["usage"]["completion_tokens"], completion);
        assert_eq!(body["usage"]["total_tokens"], 6 + completion);
    }

    #[test]
    fn streamed_text_ends_with_usage_then_done() {
        let (request, ids) = request_of(json!({
            "model": "m", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}]
        }));
        let data = stream_data(reply(&request, ids));
        assert_eq!(data.last().unwrap(), "[DONE]");
        let chunks: Vec<Value> = data[..data.len() - 1]
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": "", "refusal": null})
        );
        assert!(chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk"));
        let usage_chunk = &chunks[chunks.len() - 1];
        assert_eq!(usage_chunk["choices"], json!([]));
        assert_eq!(usage_chunk["usage"]["prompt_tokens"], 2);
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "stop");
        assert_eq!(finish["usage"], Value::Null);
        let text: String = chunks[1..chunks.len() - 2]
            .iter()
            .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
            .collect();
        assert!(text.starts_with("Mock answer to: Hello there."));
        assert!(chunks.len() > 10, "one delta per word");
    }

    #[test]
    fn tools_give_a_tool_call_plain_and_streamed() {
        let tools = json!([{"type": "function", "function": {"name": "get_current_weather",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]);
        let messages =
            json!([{"role": "user", "content": "What's the weather like in San Francisco?"}]);
        let (request, ids) =
            request_of(json!({"model": "m", "messages": messages, "tools": tools}));
        let (_, body) = json_body(reply(&request, ids));
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], Value::Null);
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!(call["type"], "function");
        assert_eq!(call["function"]["name"], "get_current_weather");
        assert_eq!(
            call["function"]["arguments"],
            r#"{"location":"San Francisco"}"#
        );

        let (request, ids) =
            request_of(json!({"model": "m", "messages": messages, "tools": tools, "stream": true}));
        let data = stream_data(reply(&request, ids));
        let first: Value = serde_json::from_str(&data[0]).unwrap();
        let opening = &first["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(
            opening["function"],
            json!({"name": "get_current_weather", "arguments": ""})
        );
        assert_eq!(opening["index"], 0);
        assert!(opening["id"].as_str().unwrap().starts_with("call_mock_"));
        let arguments: String = data[1..data.len() - 2]
            .iter()
            .map(|d| serde_json::from_str::<Value>(d).unwrap())
            .map(|c| {
                c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(arguments, r#"{"location":"San Francisco"}"#);
        let finish: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
        assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
        assert!(
            finish.get("usage").is_none(),
            "no usage key without include_usage"
        );
    }

    #[test]
    fn a_tool_result_gets_a_text_answer() {
        let (request, ids) = request_of(json!({"model": "m", "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": [{"id": "1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "1", "content": "Sunny and 21 degrees."}
        ], "tools": [{"type": "function", "function": {"name": "w"}}]}));
        let (_, body) = json_body(reply(&request, ids));
        assert_eq!(body["choices"][0]["finish_reason"], "stop");
        assert!(body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Mock answer using the tool result: Sunny and 21 degrees."));
    }

    #[test]
    fn limits_and_structured_output() {
        let (request, ids) = request_of(
            json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}),
        );
        let (_, body) = json_body(reply(&request, ids));
        assert_eq!(body["choices"][0]["finish_reason"], "length");
        assert_eq!(body["choices"][0]["message"]["content"], "Mock answer");
        let (request, ids) = request_of(
            json!({"model": "m", "messages": [{"role": "user", "content": "Rate tracing"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "R", "schema":
                {"type": "object", "properties": {"rating": {"type": "integer"}}, "required": ["rating"]}}}}),
        );
        let (_, body) = json_body(reply(&request, ids));
        assert_eq!(body["choices"][0]["message"]["content"], r#"{"rating":1}"#);
    }

    #[test]
    fn bad_requests_get_openai_errors() {
        for bad in [
            json!({"messages": [{"role": "user", "content": "x"}]}),
            json!({"model": "m"}),
            json!({"model": "m", "messages": []}),
            json!({"model": "m", "messages": [{"content": "x"}]}),
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}),
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "sometimes"}),
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"function": {"name": "a"}}],
                   "tool_choice": {"type": "function", "function": {"name": "b"}}}),
        ] {
            let (request, ids) = request_of(bad.clone());
            let (status, body) = json_body(reply(&request, ids));
            assert_eq!(status, 400, "{bad}");
            assert!(body["error"]["message"].as_str().is_some(), "{bad}");
        }
    }
}
