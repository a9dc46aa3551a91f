//! `pii.upstream: pseudonymize`: the provider saw surrogates, so its answer is given back to
//! the client with the originals restored — as it flows. A non-streamed body is restored
//! whole. A stream is restored event by event: each text channel (`choices[0].delta.content`,
//! `delta.text`, …) goes through a [`StreamReveal`], which holds back only what could still
//! be the start of a surrogate; held text is sent in a copy of the channel's last event before
//! the next event that does not continue the channel, and at the end.

use serde_json::Value;

use crate::cassette::redact::{
    carrying, channel_context, collect_strings, is_text_piece, TEXT_CHANNEL,
};
use crate::cassette::{Body, StreamEvent};
use crate::sensitive::{Revealer, StreamReveal};

/// One stream's restoration in progress.
pub(super) struct LiveRestore {
    revealer: Revealer,
    channels: Vec<LiveChannel>,
}

struct LiveChannel {
    key: String,
    pointer: String,
    /// The channel's last event, to carry held-back text when it is sent.
    template: StreamEvent,
    reveal: StreamReveal,
}

impl LiveRestore {
    pub fn new(revealer: Revealer) -> LiveRestore {
        LiveRestore {
            revealer,
            channels: Vec::new(),
        }
    }

    /// A whole (non-streamed) body, restored.
    pub fn body(&self, bytes: &[u8]) -> Vec<u8> {
        let mut body = Body::from_bytes(bytes);
        let changed = crate::cassette::reveal::body(&self.revealer, &mut body);
        if changed {
            body.to_bytes()
        } else {
            bytes.to_vec()
        }
    }

    /// The events to send the client for these.
    pub fn events(&mut self, events: &[StreamEvent]) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        for event in events {
            let mut event = event.clone();
            if is_text_piece(&event.data) {
                // Plain-text events are one channel, as in the cassette (redact.rs).
                self.flush(|key| key != TEXT_CHANNEL, &mut out);
                let at = self.channel(TEXT_CHANNEL.to_string(), String::new());
                if let Body::Text(text) = &mut event.data {
                    *text = self.channels[at].reveal.push(&self.revealer, text);
                }
                self.channels[at].template = event.clone();
                out.push(event);
                continue;
            }
            let Body::Json(value) = &mut event.data else {
                self.flush(|_| true, &mut out);
                out.push(event);
                continue;
            };
            let context = channel_context(value);
            let mut strings = Vec::new();
            collect_strings(value, &mut String::new(), &mut String::new(), &mut strings);
            let here: Vec<String> = strings
                .iter()
                .filter(|s| s.2)
                .map(|s| format!("{context}{}", s.0))
                .collect();
            self.flush(|key| !here.iter().any(|h| h == key), &mut out);
            for (pointer, _, is_delta) in strings {
                let Some(Value::String(text)) = value.pointer_mut(&pointer) else {
                    continue;
                };
                if !is_delta {
                    if let Some(revealed) = self.revealer.reveal(text) {
                        *text = revealed;
                    }
                    continue;
                }
                let at = self.channel(format!("{context}{pointer}"), pointer.clone());
                *text = self.channels[at].reveal.push(&self.revealer, text);
            }
            for channel in &mut self.channels {
                if here.contains(&channel.key) {
                    channel.template = event.clone();
                }
            }
            out.push(event);
        }
        out
    }

    /// The index of the channel `key`, added (at `pointer`) when new.
    fn channel(&mut self, key: String, pointer: String) -> usize {
        if let Some(at) = self.channels.iter().position(|c| c.key == key) {
            return at;
        }
        self.channels.push(LiveChannel {
            key,
            pointer,
            template: StreamEvent {
                at_ms: 0,
                event: None,
                id: None,
                retry: None,
                data: Body::Text(String::new()),
            },
            reveal: StreamReveal::default(),
        });
        self.channels.len() - 1
    }

    /// Whatever is still held back: call when the stream ends.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        self.flush(|_| true, &mut out);
        out
    }

    /// Sends the held-back text of every channel `which` selects, each in a copy of its last
    /// event with every other text emptied.
    fn flush(&mut self, which: impl Fn(&str) -> bool, out: &mut Vec<StreamEvent>) {
        for channel in &mut self.channels {
            if !which(&channel.key) || channel.reveal.held() == 0 {
                continue;
            }
            let rest = channel.reveal.finish(&self.revealer);
            let event = carrying(&channel.template, &channel.pointer, rest);
            out.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::sse;
    use serde_json::json;

    fn chunk(content: &str) -> StreamEvent {
        StreamEvent {
            at_ms: 0,
            event: None,
            id: None,
            retry: None,
            data: Body::Json(json!({"choices": [{"index": 0, "delta": {"content": content}}]})),
        }
    }

    fn done() -> StreamEvent {
        StreamEvent {
            at_ms: 0,
            event: None,
            id: None,
            retry: None,
            data: Body::Text("[DONE]".into()),
        }
    }

    fn wire(events: &[StreamEvent]) -> Vec<u8> {
        let mut out = Vec::new();
        for event in events {
            sse::write_event(event, &mut out);
        }
        out
    }

    /// The text the client assembles from SSE bytes.
    fn assembled(bytes: &[u8]) -> String {
        sse::parse_all(bytes)
            .into_iter()
            .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
            .map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn a_surrogate_split_across_events_reaches_the_client_as_its_original() {
        let surrogate = "k3x9q2abmn@pii.invalid";
        let text = format!("Write to {surrogate} today, {surrogate}.");
        let revealer = || Revealer::new(vec![(surrogate.into(), "jane@acme.io".into())]);
        let expected = revealer().reveal(&text).unwrap();
        for size in 1..=text.len() {
            let mut live = LiveRestore::new(revealer());
            let mut out = Vec::new();
            let pieces: Vec<&str> = text
                .as_bytes()
                .chunks(size)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            for piece in &pieces {
                out.extend(wire(&live.events(&[chunk(piece)])));
                // Nothing sent so far holds a piece of the surrogate.
                assert!(!assembled(&out).contains("pii.invalid"), "{size}");
            }
            out.extend(wire(&live.events(&[done()])));
            out.extend(wire(&live.finish()));
            assert_eq!(assembled(&out), expected, "pieces of {size}");
            assert!(String::from_utf8_lossy(&out).ends_with("data: [DONE]\n\n"));
        }
    }

    #[test]
    fn whole_bodies_are_restored() {
        let live = LiveRestore::new(Revealer::new(vec![(
            "240.1.2.3".into(),
            "81.2.69.160".into(),
        )]));
        let body = br#"{"output": "from 240.1.2.3"}"#;
        assert_eq!(live.body(body), br#"{"output":"from 81.2.69.160"}"#);
        assert_eq!(live.body(b"plain"), b"plain");
    }
}
