//! Enforcing policies on a stream as it flows, never buffered whole. Each text channel
//! (`choices[0].delta.content`, Anthropic's `delta.text`, the Responses API's `delta`) keeps
//! back only what could still grow into a match — a term list's longest term, at most
//! `MAX_HOLDBACK` (256) bytes — and is checked as text arrives:
//!
//! - a `redact` match is rewritten before it is sent;
//! - a `block` match ends the stream the way the provider's own filter does — OpenAI Chat
//!   `finish_reason: "content_filter"` and `[DONE]`, Anthropic `stop_reason: "refusal"` and
//!   `message_stop`, Responses `response.incomplete` with `incomplete_details.reason:
//!   "content_filter"` — so the SDKs finish iterating normally, and nothing of the offending
//!   text, nor anything after it, is sent.
//!
//! Strings that are not channel pieces (the Responses API's `response.output_text.done`, the
//! final `response.completed`) are checked whole. What the client receives equals applying the
//! rules to the whole text, however the provider split it (for matches no longer than the
//! holdback).

use serde_json::{json, Value};

use super::enforce::redact_text;
use super::Rule;
use crate::cassette::redact::{carrying, channel_context, collect_strings};
use crate::cassette::{Body, StreamEvent};

/// The rule that stopped a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub rule: String,
    pub entity: String,
}

/// Which API a stream speaks, for ending it as that API's filter would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Unknown,
    Chat,
    Anthropic,
    Responses,
}

struct Channel {
    key: String,
    pointer: String,
    template: StreamEvent,
    pending: String,
}

/// One stream's enforcement in progress.
pub struct StreamGuard {
    rules: Vec<Rule>,
    holdback: usize,
    channels: Vec<Channel>,
    dialect: Dialect,
    /// The first event of the stream, for ids and models in the events that end it.
    first: Option<Value>,
    stopped: Option<Stopped>,
}

impl StreamGuard {
    /// A guard for the enforced response rules of a scope ([`super::enforce::Enforcer::stream_rules`]).
    pub fn new(rules: Vec<Rule>) -> StreamGuard {
        let holdback = rules
            .iter()
            .map(|r| r.matcher.holdback())
            .max()
            .unwrap_or(0);
        StreamGuard {
            rules,
            holdback,
            channels: Vec::new(),
            dialect: Dialect::Unknown,
            first: None,
            stopped: None,
        }
    }

    /// Why the stream was ended, once it was.
    pub fn stopped(&self) -> Option<&Stopped> {
        self.stopped.as_ref()
    }

    fn rules(&self) -> Vec<&Rule> {
        self.rules.iter().collect()
    }

    /// The first `block` match in `text`: where it starts, and what it is.
    fn block_in(&self, text: &str) -> Option<(usize, Stopped)> {
        self.rules
            .iter()
            .filter(|r| r.action == super::Action::Block)
            .filter_map(|r| {
                r.matcher.find(text).into_iter().next().map(|span| {
                    (
                        span.start,
                        Stopped {
                            rule: r.id.clone(),
                            entity: span.entity,
                        },
                    )
                })
            })
            .min_by_key(|(start, _)| *start)
    }

    /// The events to send for `events`, as they arrive.
    pub fn events(&mut self, events: Vec<StreamEvent>) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        for event in events {
            if self.stopped.is_some() {
                break;
            }
            self.event(event, &mut out);
        }
        out
    }

    /// What is still held back, checked: call when the upstream stream ends.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if self.stopped.is_none() {
            self.flush(|_| true, &mut out);
        }
        out
    }

    fn event(&mut self, mut event: StreamEvent, out: &mut Vec<StreamEvent>) {
        let original = event.clone();
        let Body::Json(value) = &mut event.data else {
            // `[DONE]` and other text: everything held back goes first.
            self.flush(|_| true, out);
            if self.stopped.is_none() {
                out.push(event);
            }
            return;
        };
        if self.first.is_none() {
            self.first = Some(value.clone());
        }
        self.note_dialect(value);
        let context = channel_context(value);
        let mut strings = Vec::new();
        collect_strings(value, &mut String::new(), &mut String::new(), &mut strings);
        let here: Vec<String> = strings
            .iter()
            .filter(|s| s.2)
            .map(|s| format!("{context}{}", s.0))
            .collect();
        self.flush(|key| !here.iter().any(|h| h == key), out);
        if self.stopped.is_some() {
            return;
        }
        // Whole strings first: one that breaks a block rule stops the stream before this event.
        for (pointer, _, is_delta) in &strings {
            if *is_delta {
                continue;
            }
            let Some(Value::String(text)) = value.pointer_mut(pointer) else {
                continue;
            };
            if let Some((_, stopped)) = self.block_in(text) {
                self.stop(stopped, out);
                return;
            }
            redact_text(&self.rules(), text);
        }
        for (pointer, _, is_delta) in strings {
            if !is_delta {
                continue;
            }
            let key = format!("{context}{pointer}");
            let at = match self.channels.iter().position(|c| c.key == key) {
                Some(at) => at,
                None => {
                    self.channels.push(Channel {
                        key,
                        pointer: pointer.clone(),
                        template: original.clone(),
                        pending: String::new(),
                    });
                    self.channels.len() - 1
                }
            };
            let piece = match value.pointer(&pointer) {
                Some(Value::String(text)) => text.clone(),
                _ => continue,
            };
            self.channels[at].pending.push_str(&piece);
            match self.advance(at, false) {
                Ok(ready) => {
                    if let Some(slot) = value.pointer_mut(&pointer) {
                        *slot = Value::String(ready);
                    }
                }
                Err((ready, stopped)) => {
                    if !ready.is_empty() {
                        if let Some(slot) = value.pointer_mut(&pointer) {
                            *slot = Value::String(ready);
                        }
                        out.push(event);
                    }
                    self.stop(stopped, out);
                    return;
                }
            }
        }
        for channel in &mut self.channels {
            if here.contains(&channel.key) {
                channel.template = event.clone();
            }
        }
        out.push(event);
    }

    /// Checks a channel's held-back text; returns what can be sent now (all of it when
    /// `last`), or what can be sent before a block and why.
    fn advance(&mut self, at: usize, last: bool) -> Result<String, (String, Stopped)> {
        let pending = std::mem::take(&mut self.channels[at].pending);
        if let Some((start, stopped)) = self.block_in(&pending) {
            let mut before = pending[..start].to_string();
            redact_text(&self.rules(), &mut before);
            return Err((before, stopped));
        }
        let mut cut = if last {
            pending.len()
        } else {
            let mut cut = pending.len().saturating_sub(self.holdback);
            while !pending.is_char_boundary(cut) {
                cut -= 1;
            }
            cut
        };
        // Never send part of a match: cut before one that crosses the line.
        for rule in &self.rules {
            for span in rule.matcher.find(&pending) {
                if span.start < cut && span.end > cut {
                    cut = span.start;
                }
            }
        }
        let mut ready = pending[..cut].to_string();
        self.channels[at].pending = pending[cut..].to_string();
        redact_text(&self.rules(), &mut ready);
        Ok(ready)
    }

    /// Sends the held-back text of the channels `which` selects, each in a copy of its last
    /// event with every other text emptied.
    fn flush(&mut self, which: impl Fn(&str) -> bool, out: &mut Vec<StreamEvent>) {
        for at in 0..self.channels.len() {
            if self.stopped.is_some() {
                return;
            }
            if !which(&self.channels[at].key) || self.channels[at].pending.is_empty() {
                continue;
            }
            let (ready, stopped) = match self.advance(at, true) {
                Ok(ready) => (ready, None),
                Err((ready, stopped)) => (ready, Some(stopped)),
            };
            if !ready.is_empty() {
                let channel = &self.channels[at];
                let event = carrying(&channel.template, &channel.pointer, ready);
                out.push(event);
            }
            if let Some(stopped) = stopped {
                self.stop(stopped, out);
            }
        }
    }

    fn note_dialect(&mut self, value: &Value) {
        if self.dialect != Dialect::Unknown {
            return;
        }
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        self.dialect = if value.get("choices").is_some() {
            Dialect::Chat
        } else if kind.starts_with("response.") {
            Dialect::Responses
        } else if kind.starts_with("message_") || kind.starts_with("content_block_") {
            Dialect::Anthropic
        } else {
            Dialect::Unknown
        };
    }

    /// Ends the stream as the provider's content filter would.
    fn stop(&mut self, stopped: Stopped, out: &mut Vec<StreamEvent>) {
        self.stopped = Some(stopped);
        let first = self.first.clone().unwrap_or(Value::Null);
        let event = |name: Option<&str>, data: Body| StreamEvent {
            at_ms: 0,
            event: name.map(str::to_string),
            id: None,
            retry: None,
            data,
        };
        match self.dialect {
            Dialect::Chat | Dialect::Unknown => {
                let mut chunk = json!({
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "content_filter"}]
                });
                for field in ["id", "created", "model", "system_fingerprint"] {
                    if let Some(v) = first.get(field) {
                        chunk[field] = v.clone();
                    }
                }
                out.push(event(None, Body::Json(chunk)));
                out.push(event(None, Body::Text("[DONE]".into())));
            }
            Dialect::Anthropic => {
                let open_blocks: Vec<Value> = self
                    .channels
                    .iter()
                    .filter_map(|c| match &c.template.data {
                        Body::Json(v) => v.get("index").cloned(),
                        _ => None,
                    })
                    .collect();
                for index in open_blocks {
                    out.push(event(
                        Some("content_block_stop"),
                        Body::Json(json!({"type": "content_block_stop", "index": index})),
                    ));
                }
                out.push(event(
                    Some("message_delta"),
                    Body::Json(json!({
                        "type": "message_delta",
                        "delta": {"stop_reason": "refusal", "stop_sequence": null},
                        "usage": {"output_tokens": 0}
                    })),
                ));
                out.push(event(
                    Some("message_stop"),
                    Body::Json(json!({"type": "message_stop"})),
                ));
            }
            Dialect::Responses => {
                let mut response = first.get("response").cloned().unwrap_or_else(|| json!({}));
                response["status"] = json!("incomplete");
                response["incomplete_details"] = json!({"reason": "content_filter"});
                out.push(event(
                    Some("response.incomplete"),
                    Body::Json(json!({"type": "response.incomplete", "response": response})),
                ));
            }
        }
    }
}
