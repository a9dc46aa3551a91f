//! Anthropic Messages in the mock: reads `system`, `messages` (text and `tool_result` blocks),
//! `tools`, `tool_choice`, `max_tokens` and `stream`, and answers with a `message` body or its
//! event stream (`message_start`, `content_block_*`, `ping`, `message_delta`,
//! `message_stop`), shaped like Anthropic's recorded traffic. When it calls a tool on its own
//! (`auto`), it first says so in a text block, as Claude does, so clients see two blocks.

use serde_json::{json, Map, Value};

use super::answer::{self, salt, Answer, Conversation, Format, Ids, Question, Tool, ToolChoice};
use super::{Event, Reply};
use crate::provider::Provider;

pub(super) fn reply(request: &Map<String, Value>, ids: Ids) -> Reply {
    let error = |message: String| Reply::error(Provider::Anthropic, 400, &message);
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return error("model: Field required".into());
    };
    let Some(max_tokens) = request.get("max_tokens").and_then(Value::as_u64) else {
        return error("max_tokens: Field required".into());
    };
    let question = match question(request, max_tokens) {
        Ok(question) => question,
        Err(message) => return error(message),
    };
    let answer = match answer::answer(&question) {
        Ok(answer) => answer,
        Err(message) => return error(format!("tool_choice: {message}")),
    };
    let preamble = match (&answer.call, &question.choice) {
        (Some(call), ToolChoice::Auto) => Some(format!("I will use the {} tool.", call.name)),
        _ => None,
    };
    let message = Message {
        id: format!("msg_mock_{}", ids.hex(salt::RESPONSE)),
        tool_use_id: format!("toolu_mock_{}", ids.hex(salt::CALL)),
        model,
        output_tokens: answer.output_tokens + preamble.as_deref().map_or(0, answer::tokens),
        preamble,
        answer,
    };
    let request_id = ("request-id", format!("req_mock_{}", ids.hex(salt::REQUEST)));
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        Reply::Stream {
            events: message.events(),
            request_id,
        }
    } else {
        Reply::Json {
            status: 200,
            body: message.body(),
            request_id: Some(request_id),
        }
    }
}

fn question(request: &Map<String, Value>, max_tokens: u64) -> Result<Question<'_>, String> {
    let mut conversation = Conversation::default();
    conversation.count(&answer::content_text(request.get("system")));
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return Err("messages: Field required".into());
    };
    for (i, message) in messages.iter().enumerate() {
        let Some(role) = message.get("role").and_then(Value::as_str) else {
            return Err(format!("messages.{i}.role: Field required"));
        };
        let content = message.get("content");
        let text = answer::content_text(content);
        conversation.count(&text);
        let results: Vec<String> = content
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_result"))
            .map(|block| answer::content_text(block.get("content")))
            .collect();
        results.iter().for_each(|r| conversation.count(r));
        if role == "user" && !text.is_empty() {
            conversation.prompt = text;
        }
        let last = i + 1 == messages.len();
        if last && role == "user" && !results.is_empty() {
            conversation.tool_result = Some(results.join(" "));
        }
    }
    let mut tools = Vec::new();
    for (i, tool) in request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            return Err(format!("tools.{i}.name: Field required"));
        };
        // Server tools (web search and the like) have no input schema and are never called.
        if let Some(schema) = tool.get("input_schema") {
            tools.push(Tool {
                name,
                schema: Some(schema),
            });
        }
    }
    let choice = match request.get("tool_choice") {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(choice) => match choice.get("type").and_then(Value::as_str) {
            Some("auto") => ToolChoice::Auto,
            Some("any") => ToolChoice::Required,
            Some("none") => ToolChoice::None,
            Some("tool") => match choice.get("name").and_then(Value::as_str) {
                Some(name) => ToolChoice::Named(name.to_string()),
                None => return Err("tool_choice.tool.name: Field required".into()),
            },
            _ => {
                return Err(
                    "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
                        .into(),
                )
            }
        },
    };
    Ok(Question {
        conversation,
        tools,
        choice,
        format: Format::Text,
        max_tokens: Some(max_tokens),
    })
}

/// One answer in the Messages API's shapes.
struct Message<'a> {
    id: String,
    tool_use_id: String,
    model: &'a str,
    /// Text said before an unforced tool call.
    preamble: Option<String>,
    output_tokens: u64,
    answer: Answer,
}

/// A finished content block.
enum Block<'a> {
    Text(&'a str),
    ToolUse { name: &'a str, arguments: &'a str },
}

impl Message<'_> {
    fn blocks(&self) -> Vec<Block<'_>> {
        match &self.answer.call {
            Some(call) => {
                let mut blocks: Vec<Block<'_>> =
                    self.preamble.iter().map(|p| Block::Text(p)).collect();
                blocks.push(Block::ToolUse {
                    name: &call.name,
                    arguments: &call.arguments,
                });
                blocks
            }
            None => vec![Block::Text(&self.answer.text)],
        }
    }

    fn stop_reason(&self) -> &'static str {
        if self.answer.call.is_some() {
            "tool_use"
        } else if self.answer.truncated {
            "max_tokens"
        } else {
            "end_turn"
        }
    }

    fn usage(&self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.answer.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "service_tier": "standard"
        })
    }

    fn message(&self, content: Vec<Value>, stop_reason: Value, usage: Value) -> Value {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": usage
        })
    }

    fn body(&self) -> Value {
        let content = self
            .blocks()
            .into_iter()
            .map(|block| match block {
                Block::Text(text) => json!({"type": "text", "text": text}),
                Block::ToolUse { name, arguments } => json!({
                    "type": "tool_use",
                    "id": self.tool_use_id,
                    "name": name,
                    "input": serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({}))
                }),
            })
            .collect();
        self.message(
            content,
            json!(self.stop_reason()),
            self.usage(self.output_tokens),
        )
    }

    fn events(&self) -> Vec<Event> {
        let mut events = vec![Event::named(
            "message_start",
            &json!({"type": "message_start", "message": self.message(Vec::new(), Value::Null, self.usage(1))}),
        )];
        for (index, block) in self.blocks().into_iter().enumerate() {
            let (start, deltas) = match block {
                Block::Text(text) => (
                    json!({"type": "text", "text": ""}),
                    answer::text_pieces(text)
                        .into_iter()
                        .map(|piece| json!({"type": "text_delta", "text": piece}))
                        .collect::<Vec<_>>(),
                ),
                Block::ToolUse { name, arguments } => (
                    json!({"type": "tool_use", "id": self.tool_use_id, "name": name, "input": {}}),
                    std::iter::once(String::new())
                        .chain(answer::chunks(arguments, answer::ARGUMENT_PIECE_CHARS))
                        .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
                        .collect(),
                ),
            };
            events.push(Event::named(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": start}),
            ));
            if index == 0 {
                events.push(Event::named("ping", &json!({"type": "ping"})));
            }
            for delta in deltas {
                events.push(Event::named(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": delta}),
                ));
            }
            events.push(Event::named(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
        events.push(Event::named(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": self.stop_reason(), "stop_sequence": null},
                "usage": {"output_tokens": self.output_tokens}
            }),
        ));
        events.push(Event::named(
            "message_stop",
            &json!({"type": "message_stop"}),
        ));
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::testing::{json_body, request_of, stream_events};

    fn weather_tools() -> Value {
        json!([{"name": "get_weather", "description": "Get the weather",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}])
    }

    #[test]
    fn plain_message_has_the_real_fields() {
        let (request, ids) = request_of(
            json!({"model": "claude-3-haiku-20240307", "max_tokens": 1024,
            "system": [{"type": "text", "text": "Be kind."}],
            "messages": [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]}),
        );
        let (status, body) = json_body(reply(&request, ids));
        assert_eq!(status, 200);
        assert_eq!(body["type"], "message");
        assert_eq!(body["role"], "assistant");
        assert_eq!(body["model"], "claude-3-haiku-20240307");
        assert_eq!(body["stop_reason"], "end_turn");
        assert_eq!(body["stop_sequence"], Value::Null);
        assert!(body["id"].as_str().unwrap().starts_with("msg_mock_"));
        let text = body["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with("Mock answer to: Tell me a joke about OpenTelemetry."));
        assert_eq!(body["usage"]["input_tokens"], 8);
        assert_eq!(body["usage"]["output_tokens"], answer::tokens(text));
    }

    #[test]
    fn stream_events_come_in_the_real_order() {
        let (request, ids) = request_of(json!({"model": "m", "max_tokens": 100, "stream": true,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}));
        let events = stream_events(reply(&request, ids));
        let names: Vec<&str> = events.iter().map(|e| e.name.unwrap()).collect();
        assert_eq!(names[..3], ["message_start", "content_block_start", "ping"]);
        assert_eq!(
            names[names.len() - 3..],
            ["content_block_stop", "message_delta", "message_stop"]
        );
        assert!(names[3..names.len() - 3]
            .iter()
            .all(|n| *n == "content_block_delta"));
        let data: Vec<Value> = events
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        for (name, value) in names.iter().zip(&data) {
            assert_eq!(value["type"], *name);
        }
        assert_eq!(data[0]["message"]["usage"]["output_tokens"], 1);
        assert_eq!(data[0]["message"]["content"], json!([]));
        let text: String = data[3..data.len() - 3]
            .iter()
            .map(|d| d["delta"]["text"].as_str().unwrap().to_string())
            .collect();
        let delta = &data[data.len() - 2];
        assert_eq!(delta["delta"]["stop_reason"], "end_turn");
        assert_eq!(delta["usage"]["output_tokens"], answer::tokens(&text));
    }

    #[test]
    fn tools_give_a_tool_use_block_plain_and_streamed() {
        let messages =
            json!([{"role": "user", "content": "What is the weather like in New York?"}]);
        let (request, ids) = request_of(
            json!({"model": "m", "max_tokens": 100, "messages": messages, "tools": weather_tools()}),
        );
        let (_, body) = json_body(reply(&request, ids));
        assert_eq!(body["stop_reason"], "tool_use");
        assert_eq!(
            body["content"][0],
            json!({"type": "text", "text": "I will use the get_weather tool."})
        );
        let tool_use = &body["content"][1];
        assert_eq!(tool_use["type"], "tool_use");
        assert_eq!(tool_use["name"], "get_weather");
        assert_eq!(tool_use["input"], json!({"location": "New York"}));
        assert!(tool_use["id"].as_str().unwrap().starts_with("toolu_mock_"));

        let (request, ids) = request_of(
            json!({"model": "m", "max_tokens": 100, "messages": messages,
            "tools": weather_tools(), "tool_choice": {"type": "any"}, "stream": true}),
        );
        let events = stream_events(reply(&request, ids));
        let data: Vec<Value> = events
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        assert_eq!(
            data[1]["content_block"]["type"], "tool_use",
            "a forced call has no preamble"
        );
        assert_eq!(data[1]["content_block"]["input"], json!({}));
        let partial: String = data
            .iter()
            .filter(|d| d["delta"]["type"] == "input_json_delta")
            .map(|d| d["delta"]["partial_json"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(partial, r#"{"location":"New York"}"#);
        assert_eq!(data[data.len() - 2]["delta"]["stop_reason"], "tool_use");
    }

    #[test]
    fn a_tool_result_gets_a_text_answer() {
        let (request, ids) = request_of(
            json!({"model": "m", "max_tokens": 100, "tools": weather_tools(), "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"location": "Paris"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "Rainy, 12 degrees"}]}]}
            ]}),
        );
        let (_, body) = json_body(reply(&request, ids));
        assert_eq!(body["stop_reason"], "end_turn");
        assert!(body["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Rainy, 12 degrees"));
        assert_eq!(body["usage"]["input_tokens"], 6);
    }

    #[test]
    fn max_tokens_stops_early() {
        let (request, ids) = request_of(
            json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}),
        );
        let (_, body) = json_body(reply(&request, ids));
        assert_eq!(body["stop_reason"], "max_tokens");
        assert_eq!(body["content"][0]["text"], "Mock answer");
    }

    #[test]
    fn bad_requests_get_anthropic_errors() {
        for bad in [
            json!({"max_tokens": 5, "messages": []}),
            json!({"model": "m", "messages": []}),
            json!({"model": "m", "max_tokens": 5}),
            json!({"model": "m", "max_tokens": 5, "messages": [{"content": "x"}]}),
            json!({"model": "m", "max_tokens": 5, "messages": [], "tool_choice": {"type": "maybe"}}),
            json!({"model": "m", "max_tokens": 5, "messages": [], "tools": weather_tools(), "tool_choice": {"type": "tool", "name": "x"}}),
        ] {
            let (request, ids) = request_of(bad.clone());
            let (status, body) = json_body(reply(&request, ids));
            assert_eq!(status, 400, "{bad}");
            assert_eq!(body["type"], "error", "{bad}");
            assert_eq!(body["error"]["type"], "invalid_request_error", "{bad}");
        }
    }
}
