//! Originals back in place of surrogates, for those who hold the key: a replayed response
//! serves what the client received while recording, and `pii reveal` prints a cassette as it
//! was. A stream's text channels are restored in order with a [`StreamReveal`], so a surrogate
//! the provider echoed across several events comes back whole.

use serde_json::Value;

use super::redact::{for_each_string, is_text_piece, StreamLayout};
use super::{Body, Interaction, Request, Response};
use crate::sensitive::{Revealer, StreamReveal};

/// Restores a body in place; whether anything changed.
pub fn body(revealer: &Revealer, body: &mut Body) -> bool {
    let mut changed = false;
    match body {
        Body::Json(value) => for_each_string(value, &mut |text| {
            if let Some(revealed) = revealer.reveal(text) {
                *text = revealed;
                changed = true;
            }
        }),
        Body::Text(text) => {
            if let Some(revealed) = revealer.reveal(text) {
                *text = revealed;
                changed = true;
            }
        }
        Body::Base64(_) => {}
    }
    changed
}

/// Restores a request in place: its path and body.
pub fn request(revealer: &Revealer, request: &mut Request) -> bool {
    let mut changed = false;
    if let Some(path) = revealer.reveal(&request.path) {
        request.path = path;
        changed = true;
    }
    if let Some(b) = &mut request.body {
        changed |= body(revealer, b);
    }
    changed
}

/// Restores a response in place: its body, or its stream event by event with the text
/// channels restored across events. Whether anything changed.
pub fn response(revealer: &Revealer, response: &mut Response) -> bool {
    if revealer.is_empty() {
        return false;
    }
    let mut changed = false;
    if let Some(b) = &mut response.body {
        changed |= body(revealer, b);
    }
    let Some(events) = &mut response.stream else {
        return changed;
    };
    let layout = StreamLayout::of(events);
    for (i, event) in events.iter_mut().enumerate() {
        match &mut event.data {
            Body::Json(value) => {
                for (pointer, _) in &layout.others[i] {
                    if let Some(Value::String(text)) = value.pointer_mut(pointer) {
                        if let Some(revealed) = revealer.reveal(text) {
                            *text = revealed;
                            changed = true;
                        }
                    }
                }
            }
            // Revealed whole with the other pieces of its channel, below.
            data if is_text_piece(data) => {}
            other => changed |= body(revealer, other),
        }
    }
    for channel in &layout.channels {
        let texts = channel.texts(events);
        let mut stream = StreamReveal::default();
        let mut parts: Vec<String> = texts.iter().map(|t| stream.push(revealer, t)).collect();
        if let Some(last) = parts.last_mut() {
            last.push_str(&stream.finish(revealer));
        }
        if parts != texts {
            changed = true;
            channel.put(events, parts);
        }
    }
    changed
}

/// Restores a whole interaction in place.
pub fn interaction(revealer: &Revealer, interaction: &mut Interaction) -> bool {
    let a = request(revealer, &mut interaction.request);
    let b = response(revealer, &mut interaction.response);
    a || b
}
