//! The second half of the fast reader: a serde `Deserializer` over the events of
//! [`super::events`], with the semantics of `serde_json::from_value` (so no intermediate tree
//! is built). A mismatch is never shown to anyone: the caller re-reads the text with
//! serde_yaml, which reports the problem with its position.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::Event;

/// Why the events did not fit the requested type. Never shown: the caller re-reads the text
/// with serde_yaml, which reports the problem with its position.
#[derive(Debug)]
pub(in crate::yaml) struct Mismatch(String);

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Mismatch(msg.to_string())
    }
}

/// Feeds [`Event`]s to a `Deserialize` type as `serde_json::from_value` would feed the
/// equivalent `serde_json::Value`.
pub(in crate::yaml) struct Deserializer<'a> {
    events: std::iter::Peekable<std::vec::IntoIter<Event<'a>>>,
    /// The length of the sequence most recently entered, for `size_hint`.
    items: usize,
}

impl<'a> Deserializer<'a> {
    pub(in crate::yaml) fn new(events: Vec<Event<'a>>) -> Self {
        Deserializer {
            events: events.into_iter().peekable(),
            items: 0,
        }
    }

    /// Deserializes the whole document; trailing events are a mismatch.
    pub(in crate::yaml) fn read<T: de::Deserialize<'a>>(mut self) -> Result<T, Mismatch> {
        let value = T::deserialize(&mut self)?;
        match self.events.next() {
            None => Ok(value),
            Some(_) => Err(de::Error::custom("trailing events")),
        }
    }

    fn next(&mut self) -> Result<Event<'a>, Mismatch> {
        self.events
            .next()
            .ok_or_else(|| de::Error::custom("unexpected end of document"))
    }

    fn end(&mut self) -> Result<(), Mismatch> {
        match self.next()? {
            Event::End => Ok(()),
            _ => Err(de::Error::custom(
                "a collection has more entries than expected",
            )),
        }
    }
}

fn visit_str<'a, V: Visitor<'a>>(text: Cow<'a, str>, visitor: V) -> Result<V::Value, Mismatch> {
    match text {
        Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
        Cow::Owned(text) => visitor.visit_string(text),
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match self.next()? {
            Event::MapStart => {
                let value = visitor.visit_map(&mut *self)?;
                self.end()?;
                Ok(value)
            }
            Event::SeqStart(items) => {
                self.items = items;
                let value = visitor.visit_seq(&mut *self)?;
                self.end()?;
                Ok(value)
            }
            Event::Null => visitor.visit_unit(),
            Event::Bool(b) => visitor.visit_bool(b),
            Event::U64(n) => visitor.visit_u64(n),
            Event::I64(n) => visitor.visit_i64(n),
            Event::F64(n) => visitor.visit_f64(n),
            Event::Str(text) => visit_str(text, visitor),
            Event::End | Event::Key(_) => Err(de::Error::custom("misplaced event")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if self.events.peek() == Some(&Event::Null) {
            self.events.next();
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        match self.next()? {
            // `variant`: a unit variant.
            Event::Str(variant) => visitor.visit_enum(variant.into_deserializer()),
            // `variant: content`, exactly one entry.
            Event::MapStart => {
                let value = visitor.visit_enum(&mut *self)?;
                self.end()?;
                Ok(value)
            }
            _ => Err(de::Error::custom("expected an enum")),
        }
    }

    /// A struct only from a mapping: serde's derived visitors also take a sequence of the
    /// fields in order, which serde_yaml refuses (a `traceforge.yaml` of `- a` / `- b` must not
    /// set the first two settings).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        match self.events.peek() {
            Some(Event::MapStart) => self.deserialize_any(visitor),
            _ => Err(de::Error::custom("expected a mapping")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

impl<'de> de::MapAccess<'de> for Deserializer<'de> {
    type Error = Mismatch;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Mismatch> {
        if self.events.peek() == Some(&Event::End) {
            return Ok(None);
        }
        match self.next()? {
            Event::Key(key) => seed.deserialize(KeyDeserializer(key)).map(Some),
            _ => Err(de::Error::custom("expected a key")),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Mismatch> {
        seed.deserialize(self)
    }
}

impl<'de> de::SeqAccess<'de> for Deserializer<'de> {
    type Error = Mismatch;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Mismatch> {
        if self.events.peek() == Some(&Event::End) {
            return Ok(None);
        }
        seed.deserialize(self).map(Some)
    }

    /// Asked before the first item, so it is still the length of this sequence.
    fn size_hint(&self) -> Option<usize> {
        Some(self.items)
    }
}

impl<'de> de::EnumAccess<'de> for &mut Deserializer<'de> {
    type Error = Mismatch;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Mismatch> {
        match self.next()? {
            Event::Key(key) => Ok((seed.deserialize(KeyDeserializer(key))?, self)),
            _ => Err(de::Error::custom("expected a variant name")),
        }
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = Mismatch;

    fn unit_variant(self) -> Result<(), Mismatch> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Mismatch> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Mismatch> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

/// A mapping key: always text, as in JSON.
struct KeyDeserializer<'a>(Cow<'a, str>);

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visit_str(self.0, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}
