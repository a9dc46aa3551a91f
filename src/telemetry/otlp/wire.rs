//! Protobuf's wire format, written straight into a buffer: the exporter encodes each span from
//! the interaction as it reads it, with no message structs in between. Building prost structs
//! for a span (two `String`s per attribute) and encoding them (every nested length computed
//! once per level above it) took 5.0-6.2 us a span; this takes 1.4-1.9 (`otlp encode 200000`
//! on one core of the 2-core benchmark machine, a build running on the other). The tests and
//! the benchmark's receiver read what is written here with [`super::proto`]'s prost structs.
//!
//! Field presence follows prost's proto3 rules, so a decode gives back what was meant: the
//! callers skip empty strings and zero scalars themselves, while a `oneof` value and a present
//! sub-message are always written.

/// Wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

#[inline]
pub fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[inline]
fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

/// A `bytes` or `string` field.
#[inline]
pub fn bytes(out: &mut Vec<u8>, field: u32, value: &[u8]) {
    key(out, field, LEN);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

#[inline]
pub fn string(out: &mut Vec<u8>, field: u32, value: &str) {
    bytes(out, field, value.as_bytes());
}

/// A `string` field written from its parts, without joining them first.
pub fn strings(out: &mut Vec<u8>, field: u32, parts: &[&str]) {
    key(out, field, LEN);
    varint(out, parts.iter().map(|p| p.len() as u64).sum());
    for part in parts {
        out.extend_from_slice(part.as_bytes());
    }
}

/// A `uint32`/`uint64`/`bool`/enum field; an `int64` goes as its two's complement (`as u64`),
/// as protobuf says.
#[inline]
pub fn uint(out: &mut Vec<u8>, field: u32, value: u64) {
    key(out, field, VARINT);
    varint(out, value);
}

#[inline]
pub fn fixed64(out: &mut Vec<u8>, field: u32, value: u64) {
    key(out, field, FIXED64);
    out.extend_from_slice(&value.to_le_bytes());
}

#[inline]
pub fn double(out: &mut Vec<u8>, field: u32, value: f64) {
    fixed64(out, field, value.to_bits());
}

/// A sub-message: `body` writes its fields, then its length goes in front of them. One byte is
/// kept for the length, which fits a message under 128 bytes (most attributes); see
/// [`message_reserving`].
#[inline]
pub fn message(out: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    message_reserving(out, field, 1, body);
}

/// [`message`], keeping `reserved` bytes for the length (2 for up to 16 KiB, a span's usual
/// size): when the length takes more or fewer, the body's bytes move to make room.
pub fn message_reserving(
    out: &mut Vec<u8>,
    field: u32,
    reserved: usize,
    body: impl FnOnce(&mut Vec<u8>),
) {
    key(out, field, LEN);
    let at = out.len();
    out.resize(at + reserved, 0);
    body(out);
    let len = out.len() - at - reserved;
    if len < 0x80 && reserved == 1 {
        out[at] = len as u8;
        return;
    }
    let mut head = [0u8; 10];
    let size = varint_into(&mut head, len as u64);
    if size == reserved {
        out[at..at + size].copy_from_slice(&head[..size]);
    } else {
        out.splice(at..at + reserved, head[..size].iter().copied());
    }
}

/// A length-delimited field's key and length, for a body the caller writes next.
pub fn len_prefix(out: &mut Vec<u8>, field: u32, len: usize) {
    key(out, field, LEN);
    varint(out, len as u64);
}

/// The bytes a [`len_prefix`] takes.
pub fn len_prefix_size(field: u32, len: usize) -> usize {
    let mut head = [0u8; 10];
    varint_into(&mut head, u64::from(field) << 3) + varint_into(&mut head, len as u64)
}

#[inline]
fn varint_into(head: &mut [u8; 10], mut value: u64) -> usize {
    let mut size = 0;
    while value >= 0x80 {
        head[size] = (value as u8) | 0x80;
        value >>= 7;
        size += 1;
    }
    head[size] = value as u8;
    size + 1
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::telemetry::otlp::proto::{any_value, AnyValue, KeyValue, Span};

    #[test]
    fn what_is_written_decodes_with_the_prost_types() {
        for len in [0, 1, 127, 128, 300, 20_000] {
            let name = "n".repeat(len);
            let mut out = Vec::new();
            bytes(&mut out, 1, &[1; 16]);
            string(&mut out, 5, &name);
            uint(&mut out, 6, 3);
            fixed64(&mut out, 7, u64::MAX - 1);
            message(&mut out, 9, |out| {
                string(out, 1, "gen_ai.request.temperature");
                message(out, 2, |out| double(out, 4, 0.25));
            });
            message_reserving(&mut out, 9, 2, |out| {
                string(out, 1, &name);
                message(out, 2, |out| uint(out, 3, -5i64 as u64));
            });
            let span = Span::decode(&out[..]).expect("decodes");
            assert_eq!(span.trace_id, vec![1; 16]);
            assert_eq!(span.name, name);
            assert_eq!((span.kind, span.start_time_unix_nano), (3, u64::MAX - 1));
            let value = |v| Some(AnyValue { value: Some(v) });
            assert_eq!(
                span.attributes,
                vec![
                    KeyValue {
                        key: "gen_ai.request.temperature".into(),
                        value: value(any_value::Value::DoubleValue(0.25)),
                    },
                    KeyValue {
                        key: name.clone(),
                        value: value(any_value::Value::IntValue(-5)),
                    },
                ],
                "length {len}"
            );
        }
    }

    #[test]
    fn a_prefix_is_as_long_as_it_says() {
        for len in [0, 127, 128, 16_383, 16_384, 1 << 30] {
            let mut out = Vec::new();
            len_prefix(&mut out, 2, len);
            assert_eq!(out.len(), len_prefix_size(2, len), "{len}");
        }
    }

    #[test]
    fn varints_are_the_shortest_form() {
        for (value, expected) in [
            (0u64, &[0u8][..]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            varint(&mut out, value);
            assert_eq!(out, expected, "{value}");
        }
    }
}
