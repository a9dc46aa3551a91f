//! OpenAI Responses in the mock: reads `input` (a string or items), `instructions`, function
//! `tools`, `tool_choice`, `text.format`, `max_output_tokens` and `stream`, and answers with a
//! `response` object or its event stream (`response.created` … `response.completed`, every
//! event with its `sequence_number`), shaped like OpenAI's recorded traffic.

use serde_json::{json, Map, Value};

use super::answer::{self, salt, Answer, Conversation, Format, Ids, Question, Tool, ToolChoice};
use super::{Event, Reply};
use crate::provider::Provider;

pub(super) fn reply(request: &Map<String, Value>, ids: Ids) -> Reply {
    let error = |message: String| Reply::error(Provider::OpenAi, 400, &message);
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return error("Missing required parameter: 'model'.".into());
    };
    let question = match question(request) {
        Ok(question) => question,
        Err(message) => return error(message),
    };
    let answer = match answer::answer(&question) {
        Ok(answer) => answer,
        Err(message) => return error(format!("Invalid value for 'tool_choice': {message}")),
    };
    let response = ResponseObject {
        request,
        id: format!("resp_mock_{}", ids.hex(salt::RESPONSE)),
        item_id: match answer.call {
            Some(_) => format!("fc_mock_{}", ids.hex(salt::ITEM)),
            None => format!("msg_mock_{}", ids.hex(salt::ITEM)),
        },
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
        Reply::Stream {
            events: response.events(),
            request_id,
        }
    } else {
        Reply::Json {
            status: 200,
            body: response.finished(),
            request_id: Some(request_id),
        }
    }
}

fn question(request: &Map<String, Value>) -> Result<Question<'_>, String> {
    let mut conversation = Conversation::default();
    if let Some(instructions) = request.get("instructions").and_then(Value::as_str) {
        conversation.count(instructions);
    }
    let mut trailing_tool_results: Vec<String> = Vec::new();
    match request.get("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            conversation.count(text);
            conversation.prompt = text.clone();
        }
        Some(Value::Array(items)) => {
            for item in items {
                let kind = item.get("type").and_then(Value::as_str);
                let role = item.get("role").and_then(Value::as_str);
                match (kind, role) {
                    (Some("function_call_output"), _) => {
                        let output = answer::content_text(item.get("output"));
                        conversation.count(&output);
                        trailing_tool_results.push(output);
                    }
                    (None | Some("message"), Some(role)) => {
                        let text = answer::content_text(item.get("content"));
                        conversation.count(&text);
                        if role == "user" {
                            conversation.prompt = text;
                        }
                        trailing_tool_results.clear();
                    }
                    _ => trailing_tool_results.clear(),
                }
            }
        }
        Some(_) => return Err("Invalid type for 'input': expected a string or an array.".into()),
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
        // Built-in tools (web_search and the like) are accepted and never called.
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            continue;
        }
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            return Err(format!("Missing required parameter: 'tools[{i}].name'."));
        };
        tools.push(Tool {
            name,
            schema: tool.get("parameters"),
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
        Some(choice) => match choice.get("name").and_then(Value::as_str) {
            Some(name) => ToolChoice::Named(name.to_string()),
            // Hosted-tool choices such as {"type": "web_search"}: no function to call.
            None => ToolChoice::None,
        },
    };
    let format = match request.get("text").and_then(|text| text.get("format")) {
        Some(format) => match format.get("type").and_then(Value::as_str) {
            Some("json_object") => Format::JsonObject,
            Some("json_schema") => match format.get("schema") {
                Some(schema) => Format::JsonSchema(schema),
                None => return Err("Missing required parameter: 'text.format.schema'.".into()),
            },
            _ => Format::Text,
        },
        None => Format::Text,
    };
    Ok(Question {
        conversation,
        tools,
        choice,
        format,
        max_tokens: request.get("max_output_tokens").and_then(Value::as_u64),
    })
}

/// One answer in the Responses API's shapes.
struct ResponseObject<'a> {
    request: &'a Map<String, Value>,
    id: String,
    /// The output item: a message, or a function call.
    item_id: String,
    call_id: String,
    created: u64,
    model: &'a str,
    answer: Answer,
}

impl ResponseObject<'_> {
    /// The response as `response.created` shows it (`output` empty) or as it ends.
    fn object(&self, status: &str, output: Vec<Value>, usage: Value) -> Value {
        let echo = |name: &str, default: Value| {
            self.request
                .get(name)
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or(default)
        };
        let done = status != "in_progress";
        let incomplete_details = if status == "incomplete" {
            json!({"reason": "max_output_tokens"})
        } else {
            Value::Null
        };
        json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": false,
            "completed_at": if done { json!(self.created + 1) } else { Value::Null },
            "error": null,
            "incomplete_details": incomplete_details,
            "instructions": echo("instructions", Value::Null),
            "max_output_tokens": echo("max_output_tokens", Value::Null),
            "max_tool_calls": null,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": echo("parallel_tool_calls", json!(true)),
            "previous_response_id": echo("previous_response_id", Value::Null),
            "reasoning": {"effort": null, "summary": null},
            "service_tier": "default",
            "store": echo("store", json!(true)),
            "temperature": echo("temperature", json!(1.0)),
            "text": echo("text", json!({"format": {"type": "text"}, "verbosity": "medium"})),
            "tool_choice": echo("tool_choice", json!("auto")),
            "tools": echo("tools", json!([])),
            "top_p": echo("top_p", json!(1.0)),
            "truncation": "disabled",
            "usage": usage,
            "user": null,
            "metadata": echo("metadata", json!({}))
        })
    }

    fn status(&self) -> &'static str {
        if self.answer.truncated {
            "incomplete"
        } else {
            "completed"
        }
    }

    fn usage(&self) -> Value {
        let (input, output) = (self.answer.input_tokens, self.answer.output_tokens);
        json!({
            "input_tokens": input,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input + output
        })
    }

    fn text_part(&self, text: &str) -> Value {
        json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
    }

    /// The output item, `in_progress` (as first announced) or finished.
    fn item(&self, finished: bool) -> Value {
        let status = match (finished, self.answer.truncated) {
            (false, _) => "in_progress",
            (true, true) => "incomplete",
            (true, false) => "completed",
        };
        match &self.answer.call {
            Some(call) => json!({
                "id": self.item_id,
                "type": "function_call",
                "status": status,
                "arguments": if finished { call.arguments.as_str() } else { "" },
                "call_id": self.call_id,
                "name": call.name
            }),
            None => json!({
                "id": self.item_id,
                "type": "message",
                "status": status,
                "content": if finished { json!([self.text_part(&self.answer.text)]) } else { json!([]) },
                "role": "assistant"
            }),
        }
    }

    fn finished(&self) -> Value {
        self.object(self.status(), vec![self.item(true)], self.usage())
    }

    fn events(&self) -> Vec<Event> {
        let mut events = Vec::new();
        let mut push = |name: &'static str, mut data: Value| {
            data["sequence_number"] = json!(events.len());
            events.push(Event::named(name, &data));
        };
        let opening = self.object("in_progress", Vec::new(), Value::Null);
        push(
            "response.created",
            json!({"type": "response.created", "response": opening}),
        );
        push(
            "response.in_progress",
            json!({"type": "response.in_progress", "response": opening}),
        );
        push(
            "response.output_item.added",
            json!({"type": "response.output_item.added", "item": self.item(false), "output_index": 0}),
        );
        let item_id = &self.item_id;
        match &self.answer.call {
            Some(call) => {
                for piece in answer::chunks(&call.arguments, answer::ARGUMENT_PIECE_CHARS) {
                    push(
                        "response.function_call_arguments.delta",
                        json!({"type": "response.function_call_arguments.delta", "delta": piece,
                               "item_id": item_id, "output_index": 0}),
                    );
                }
                push(
                    "response.function_call_arguments.done",
                    json!({"type": "response.function_call_arguments.done", "arguments": call.arguments,
                           "item_id": item_id, "name": call.name, "output_index": 0}),
                );
            }
            None => {
                let text = &self.answer.text;
                push(
                    "response.content_part.added",
                    json!({"type": "response.content_part.added", "content_index": 0, "item_id": item_id,
                           "output_index": 0, "part": self.text_part("")}),
                );
                for piece in answer::text_pieces(text) {
                    push(
                        "response.output_text.delta",
                        json!({"type": "response.output_text.delta", "content_index": 0, "delta": piece,
                               "item_id": item_id, "logprobs": [], "output_index": 0}),
                    );
                }
                push(
                    "response.output_text.done",
                    json!({"type": "response.output_text.done", "content_index": 0, "item_id": item_id,
                           "logprobs": [], "output_index": 0, "text": text}),
                );
                push(
                    "response.content_part.done",
                    json!({"type": "response.content_part.done", "content_index": 0, "item_id": item_id,
                           "output_index": 0, "part": self.text_part(text)}),
                );
            }
        }
        push(
            "response.output_item.done",
            json!({"type": "response.output_item.done", "item": self.item(true), "output_index": 0}),
        );
        let terminal = if self.answer.truncated {
            "response.incomplete"
        } else {
            "response.completed"
        };
        push(
            terminal,
            json!({"type": terminal, "response": self.finished()}),
        );
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::testing::{json_body, request_of, stream_events};

    fn parsed(events: &[Event]) -> Vec<(&'static str, Value)> {
        events
            .iter()
            .map(|e| (e.name.unwrap(), serde_json::from_str(&e.data).unwrap()))
            .collect()
    }

    #[test]
    fn plain_response_has_a_message_item() {
        let (request, ids) = request_of(
            json!({"model": "gpt-5-mini", "input": "Reply with pong", "instructions": "Be short."}),
        );
        let (status, body) = json_body(reply(&request, ids));
        assert_eq!(status, 200);
        assert_eq!(body["object"], "response");
        assert_eq!(body["status"], "completed");
        assert_eq!(body["model"], "gpt-5-mini");
        assert_eq!(body["instructions"], "Be short.");
        let item = &body["output"][0];
        assert_eq!(item["type"], "message");
        assert_eq!(item["role"], "assistant");
        assert_eq!(item["content"][0]["type"], "output_text");
        assert_eq!(item["content"][0]["annotations"], json!([]));
        let text = item["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with("Mock answer to: Reply with pong."));
        assert_eq!(body["usage"]["input_tokens"], 5);
        assert_eq!(body["usage"]["output_tokens"], answer::tokens(text));
        assert_eq!(body["usage"]["total_tokens"], 5 + answer::tokens(text));
    }

    #[test]
    fn stream_events_come_in_the_real_order() {
        let (request, ids) = request_of(json!({"model": "m", "stream": true,
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "Say hi"}]}]}));
        let events = parsed(&stream_events(reply(&request, ids)));
        let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names[..4],
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added"
            ]
        );
        assert_eq!(
            names[names.len() - 4..],
            [
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        for (i, (name, data)) in events.iter().enumerate() {
            assert_eq!(data["type"], *name);
            assert_eq!(data["sequence_number"], i);
        }
        let deltas: String = events
            .iter()
            .filter(|(n, _)| *n == "response.output_text.delta")
            .map(|(_, d)| d["delta"].as_str().unwrap().to_string())
            .collect();
        let (_, completed) = events.last().unwrap();
        assert_eq!(
            completed["response"]["output"][0]["content"][0]["text"],
            deltas.as_str()
        );
        assert_eq!(events[0].1["response"]["status"], "in_progress");
        assert_eq!(events[0].1["response"]["usage"], Value::Null);
        assert!(
            completed["response"]["usage"]["output_tokens"]
                .as_u64()
                .unwrap()
                > 5
        );
    }

    #[test]
    fn function_tools_give_a_function_call_item() {
        let tools = json!([{"type": "web_search"}, {"type": "function", "name": "multiply",
            "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}]);
        let input =
            json!([{"role": "user", "content": "What is 1231 * 2331? Use the multiply tool."}]);
        let (request, ids) = request_of(json!({"model": "m", "input": input, "tools": tools}));
        let (_, body) = json_body(reply(&request, ids));
        let item = &body["output"][0];
        assert_eq!(item["type"], "function_call");
        assert_eq!(item["name"], "multiply");
        assert_eq!(item["arguments"], r#"{"a":1231,"b":2331}"#);
        assert!(item["call_id"].as_str().unwrap().starts_with("call_mock_"));

        let (request, ids) =
            request_of(json!({"model": "m", "input": input, "tools": tools, "stream": true}));
        let events = parsed(&stream_events(reply(&request, ids)));
        let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"response.function_call_arguments.delta"));
        let done = events
            .iter()
            .find(|(n, _)| *n == "response.function_call_arguments.done")
            .unwrap();
        assert_eq!(done.1["arguments"], r#"{"a":1231,"b":2331}"#);
        assert_eq!(events[2].1["item"]["arguments"], "");
        assert_eq!(names.last(), Some(&"response.completed"));

        // The function's output comes back: the answer is text.
        let follow_up = json!([input[0], {"type": "function_call", "call_id": "c", "name": "multiply", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "2869461"}]);
        let (request, ids) = request_of(json!({"model": "m", "input": follow_up, "tools": tools}));
        let (_, body) = json_body(reply(&request, ids));
        assert!(body["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("2869461"));
    }

    #[test]
    fn max_output_tokens_makes_it_incomplete() {
        let (request, ids) = request_of(
            json!({"model": "m", "input": "hi", "max_output_tokens": 3, "stream": true}),
        );
        let events = parsed(&stream_events(reply(&request, ids)));
        let (name, last) = events.last().unwrap();
        assert_eq!(*name, "response.incomplete");
        assert_eq!(last["response"]["status"], "incomplete");
        assert_eq!(
            last["response"]["incomplete_details"]["reason"],
            "max_output_tokens"
        );
        assert_eq!(
            last["response"]["output"][0]["content"][0]["text"],
            "Mock answer to:"
        );
    }

    #[test]
    fn bad_requests_get_openai_errors() {
        for bad in [
            json!({"input": "x"}),
            json!({"model": "m", "input": 5}),
            json!({"model": "m", "input": "x", "tools": [{"type": "function"}]}),
            json!({"model": "m", "input": "x", "tools": [{"type": "function", "name": "a"}], "tool_choice": {"type": "function", "name": "b"}}),
        ] {
            let (request, ids) = request_of(bad.clone());
            let (status, body) = json_body(reply(&request, ids));
            assert_eq!(status, 400, "{bad}");
            assert!(body["error"]["message"].is_string(), "{bad}");
        }
    }
}
