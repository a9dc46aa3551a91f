//! Server-sent events (the WHATWG `text/event-stream` format): an incremental parser that takes
//! bytes as they arrive from the network, and the writer that turns recorded events back into
//! the bytes a client's SSE parser sees as the same events.

use crate::cassette::{Body, StreamEvent};

/// One dispatched event, before it is timed and stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    pub retry: Option<u64>,
    pub data: String,
}

impl SseEvent {
    pub fn into_stream_event(self, at_ms: u64) -> StreamEvent {
        StreamEvent {
            at_ms,
            event: self.event,
            id: self.id,
            retry: self.retry,
            data: Body::from_bytes(self.data.as_bytes()),
        }
    }
}

/// Feeds on arbitrary byte chunks (an event may be split anywhere, even inside a UTF-8
/// character) and yields complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    pending: SseEvent,
    has_data: bool,
    has_fields: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes `chunk` and returns every event it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.buffer.len() {
            let b = self.buffer[i];
            if b == b'\n' || b == b'\r' {
                // A lone '\r' at the end of the chunk may be the first half of "\r\n".
                if b == b'\r' && i + 1 == self.buffer.len() {
                    break;
                }
                let line = String::from_utf8_lossy(&self.buffer[start..i]).into_owned();
                let skip = if b == b'\r' && self.buffer.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                i += skip;
                start = i;
                if let Some(event) = self.line(&line) {
                    events.push(event);
                }
            } else {
                i += 1;
            }
        }
        self.buffer.drain(..start);
        events
    }

    /// Ends the stream: an event that was never terminated by a blank line is returned if it
    /// carried data (browsers drop it; a recorder should not lose it).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buffer.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.buffer)).into_owned();
            if let Some(event) = self.line(&line) {
                return Some(event);
            }
        }
        self.dispatch()
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        self.has_fields = true;
        match field {
            "event" => self.pending.event = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.pending.data.push('\n');
                }
                self.pending.data.push_str(value);
                self.has_data = true;
            }
            "id" => self.pending.id = Some(value.to_string()),
            "retry" => self.pending.retry = value.parse().ok(),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let had_data = self.has_data;
        self.has_data = false;
        self.has_fields = false;
        let event = std::mem::take(&mut self.pending);
        had_data.then_some(event)
    }
}

/// Writes one recorded event as SSE bytes, ending with the blank line that dispatches it.
pub fn write_event(event: &StreamEvent, out: &mut Vec<u8>) {
    if let Some(name) = &event.event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    if let Some(id) = &event.id {
        out.extend_from_slice(b"id: ");
        out.extend_from_slice(id.as_bytes());
        out.push(b'\n');
    }
    if let Some(retry) = event.retry {
        out.extend_from_slice(format!("retry: {retry}\n").as_bytes());
    }
    let data = event.data.to_bytes();
    for line in data.split(|&b| b == b'\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// Parses a whole SSE body at once (used by importers).
pub fn parse_all(bytes: &[u8]) -> Vec<SseEvent> {
    let mut parser = SseParser::new();
    let mut events = parser.feed(bytes);
    events.extend(parser.finish());
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANTHROPIC: &str = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n: comment\n\nevent: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\ndata: line one\ndata: line two\nid: 7\n\n";

    #[test]
    fn parses_events_split_at_every_byte() {
        let whole = parse_all(ANTHROPIC.as_bytes());
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].event.as_deref(), Some("message_start"));
        assert_eq!(whole[1].data, "{\"type\": \"ping\"}");
        assert_eq!(whole[2].data, "line one\nline two");
        assert_eq!(whole[2].id.as_deref(), Some("7"));
        let mut parser = SseParser::new();
        let mut split = Vec::new();
        for byte in ANTHROPIC.as_bytes() {
            split.extend(parser.feed(std::slice::from_ref(byte)));
        }
        split.extend(parser.finish());
        assert_eq!(split, whole);
    }

    #[test]
    fn written_events_parse_back_to_the_same_events() {
        let events: Vec<StreamEvent> = parse_all(ANTHROPIC.as_bytes())
            .into_iter()
            .map(|e| e.into_stream_event(0))
            .collect();
        let mut bytes = Vec::new();
        events.iter().for_each(|e| write_event(e, &mut bytes));
        let again: Vec<StreamEvent> = parse_all(&bytes)
            .into_iter()
            .map(|e| e.into_stream_event(0))
            .collect();
        assert_eq!(again, events);
    }

    #[test]
    fn an_unterminated_last_event_is_kept_on_finish() {
        let events = parse_all(b"data: [DONE]");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "[DONE]");
    }
}
