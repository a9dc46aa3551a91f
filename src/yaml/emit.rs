//! Writing YAML without libyaml, byte for byte as serde_yaml writes it, for the documents
//! traceforge writes: block mappings and sequences of scalars, strings plain, single-quoted or
//! as `|` literal blocks. serde_yaml drives libyaml's emitter one event and one character at a
//! time, which made rendering a recorded interaction the largest cost of `vcr record` after
//! the request itself (about 200 instructions per byte of a 25 KB interaction). This module
//! follows the same rules — serde_yaml's choice of style for a string and libyaml's scalar
//! analysis, indentation, indicators and escapes, at serde_yaml's settings (no line width,
//! Unicode kept) — and gives up on anything else: a key that is not a short single-line
//! scalar (written `? key`), the line and paragraph separators, tags (enum variants with
//! data), a bare scalar as the document. [`to_string`] then returns `None` and the caller uses
//! serde_yaml, so the output never depends on which one wrote it (pinned by
//! `tests::the_same_bytes_as_serde_yaml`).

use std::fmt::Display;

use serde::ser::{self, Serialize};

/// `value` as serde_yaml would write it, or `None` when it holds something this writer leaves
/// to serde_yaml.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut emitter = Emitter {
        out: String::with_capacity(256),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        context: Context::Root,
    };
    value.serialize(&mut emitter).ok()?;
    // The document's end: one line break unless a literal block already ended the line.
    emitter.write_indent();
    Some(emitter.out)
}

/// Where a node is written (libyaml's root, sequence, mapping and simple-key contexts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    Item,
    Key,
    Value,
}

/// Something serde_yaml must write instead.
#[derive(Debug)]
pub struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to serde_yaml")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: Display>(_: T) -> Self {
        Unsupported
    }
}

/// libyaml's emitter state, as far as block output needs it.
struct Emitter {
    out: String,
    /// Bytes since the last line break (libyaml counts characters; the two differ only on
    /// lines that already hold a scalar, where no decision depends on the column).
    column: usize,
    indent: i32,
    indents: Vec<i32>,
    /// The last thing written was whitespace (or nothing).
    whitespace: bool,
    /// Only indentation since the last line break.
    indention: bool,
    /// Where the next node goes.
    context: Context,
}

/// The largest key libyaml writes as a simple `key: value` (longer ones become `? key`).
const SIMPLE_KEY_MAX: usize = 128;

impl Emitter {
    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.out.push(' ');
            self.column += 1;
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool, is_whitespace: bool) {
        self.write_indicator_in(indicator, need_whitespace, is_whitespace, false);
    }

    fn write_indicator_in(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.out.push(' ');
            self.column += 1;
        }
        self.out.push_str(indicator);
        self.column += indicator.len();
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { 2 } else { 0 };
        } else if !indentless {
            self.indent += 2;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    /// A scalar on the current line, after the space it needs (libyaml's plain and quoted
    /// writers, which never break a line at serde_yaml's unlimited width).
    fn scalar(&mut self, write: impl FnOnce(&mut String)) -> Result<(), Unsupported> {
        if self.context == Context::Root {
            // A document that is a bare scalar: not written by traceforge, not worth matching.
            return Err(Unsupported);
        }
        let before = self.out.len();
        if !self.whitespace {
            self.out.push(' ');
        }
        write(&mut self.out);
        self.column += self.out.len() - before;
        self.whitespace = false;
        self.indention = false;
        Ok(())
    }

    /// A scalar whose text needs no analysis: numbers, booleans, null.
    fn plain(&mut self, text: &str) -> Result<(), Unsupported> {
        self.scalar(|out| out.push_str(text))
    }

    fn string(&mut self, text: &str) -> Result<(), Unsupported> {
        if self.context == Context::Root {
            return Err(Unsupported);
        }
        let key = self.context == Context::Key;
        let analysis = analyze(text).ok_or(Unsupported)?;
        // A key that spans lines or runs long is not a simple key: libyaml writes `? key`.
        if key && (analysis.multiline || text.len() > SIMPLE_KEY_MAX) {
            return Err(Unsupported);
        }
        if text.contains('\n') {
            // serde_yaml asks for a literal block; libyaml double-quotes it where a block is
            // not allowed.
            return match analysis.block_allowed {
                true => self.literal(text),
                false => self.double_quoted(text),
            };
        }
        if !looks_like_another_type(text) && analysis.block_plain_allowed {
            return self.plain(text);
        }
        if !analysis.single_quoted_allowed {
            return self.double_quoted(text);
        }
        self.scalar(|out| {
            out.push('\'');
            let mut rest = text;
            while let Some(at) = rest.find('\'') {
                out.push_str(&rest[..=at]);
                out.push('\'');
                rest = &rest[at + 1..];
            }
            out.push_str(rest);
            out.push('\'');
        })
    }

    /// A double-quoted scalar with libyaml's escapes: what it does not print, line breaks,
    /// `"` and `\\`.
    fn double_quoted(&mut self, text: &str) -> Result<(), Unsupported> {
        self.scalar(|out| {
            out.push('"');
            for c in text.chars() {
                let escape = match c {
                    '\0' => "\\0",
                    '\u{7}' => "\\a",
                    '\u{8}' => "\\b",
                    '\t' => "\\t",
                    '\n' => "\\n",
                    '\u{b}' => "\\v",
                    '\u{c}' => "\\f",
                    '\r' => "\\r",
                    '\u{1b}' => "\\e",
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    '\u{85}' => "\\N",
                    '\u{2028}' => "\\L",
                    '\u{2029}' => "\\P",
                    c if printable(c) => {
                        out.push(c);
                        continue;
                    }
                    c => {
                        use std::fmt::Write as _;
                        let _ = match u32::from(c) {
                            n @ 0..=0xff => write!(out, "\\x{n:02X}"),
                            n @ 0..=0xffff => write!(out, "\\u{n:04X}"),
                            n => write!(out, "\\U{n:08X}"),
                        };
                        continue;
                    }
                };
                out.push_str(escape);
            }
            out.push('"');
        })
    }

    /// A `|` block (libyaml's `write_literal_scalar` with its hints), its lines indented one
    /// step past the node's.
    fn literal(&mut self, text: &str) -> Result<(), Unsupported> {
        let bytes = text.as_bytes();
        let chomp = match bytes {
            [.., b'\n', b'\n'] | [b'\n'] => "+",
            [.., b'\n'] => "",
            _ => "-",
        };
        self.increase_indent(true, false);
        let indent = self.indent as usize;
        self.write_indicator("|", true, false);
        if bytes[0] == b' ' || bytes[0] == b'\n' {
            self.write_indicator("2", false, false);
        }
        if !chomp.is_empty() {
            self.write_indicator(chomp, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        for line in text.split_inclusive('\n') {
            let content = line.strip_suffix('\n').unwrap_or(line);
            if !content.is_empty() {
                for _ in 0..indent {
                    self.out.push(' ');
                }
                self.out.push_str(content);
                self.column = indent + content.len();
                self.indention = false;
            }
            if content.len() < line.len() {
                self.put_break();
                self.indention = true;
            }
        }
        self.pop_indent();
        Ok(())
    }

    /// An empty collection, written in flow style.
    fn empty(&mut self, open_close: &str) -> Result<(), Unsupported> {
        if self.context == Context::Key {
            return Err(Unsupported);
        }
        self.write_indicator(&open_close[..1], true, true);
        self.write_indicator(&open_close[1..], false, false);
        Ok(())
    }
}

/// What libyaml's `analyze_scalar` decides about a string, as far as block output needs it.
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's IS_PRINTABLE.
fn printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// libyaml's `analyze_scalar`, one pass over the bytes: runs of printable ASCII that decide
/// nothing are skipped at once. `None` for the line and paragraph separators (U+2028,
/// U+2029), which libyaml copies into quoted scalars as line breaks: left to serde_yaml.
fn analyze(text: &str) -> Option<Analysis> {
    let b = text.as_bytes();
    let len = b.len();
    let Some(last) = text.chars().next_back() else {
        return Some(Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        });
    };
    let is_break = |c: char| matches!(c, '\n' | '\r' | '\u{85}');
    // IS_BLANKZ of the character at byte `i`: a space, a tab, a line break, NUL, or the end.
    let blankz_at = |i: usize| match b.get(i) {
        None | Some(b' ' | b'\t' | b'\0' | b'\n' | b'\r') => true,
        Some(0xc2) => b.get(i + 1) == Some(&0x85),
        _ => false,
    };
    let mut block_indicators = b.starts_with(b"---") || b.starts_with(b"...");
    match b[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
        b'?' | b':' | b'-' if blankz_at(1) => block_indicators = true,
        _ => {}
    }
    let first = text.chars().next().unwrap_or(last);
    let (mut special, mut line_breaks) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut i = 0;
    while i < len {
        let c = b[i];
        if matches!(c, 0x21..=0x7e) && c != b':' && c != b'#' {
            // Printable ASCII that is neither blank nor an indicator inside a scalar.
            i += 1;
            while i < len && matches!(b[i], 0x21..=0x7e) && b[i] != b':' && b[i] != b'#' {
                i += 1;
            }
            (previous_space, previous_break, preceded_by_whitespace) = (false, false, false);
            continue;
        }
        let ch = match c {
            0x80.. => text[i..].chars().next().unwrap_or(' '),
            _ => char::from(c),
        };
        match ch {
            '\u{2028}' | '\u{2029}' => return None,
            ':' if i > 0 && blankz_at(i + 1) => block_indicators = true,
            '#' if i > 0 && preceded_by_whitespace => block_indicators = true,
            _ => {}
        }
        special |= !printable(ch);
        if ch == ' ' {
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(ch) {
            line_breaks = true;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(ch, ' ' | '\t' | '\0') || is_break(ch);
        i += ch.len_utf8();
    }
    let leading_space = first == ' ';
    let trailing_space = last == ' ';
    let spaced = leading_space || is_break(first) || trailing_space || is_break(last);
    Some(Analysis {
        multiline: line_breaks,
        block_plain_allowed: !(spaced
            || break_space
            || space_break
            || special
            || line_breaks
            || block_indicators),
        single_quoted_allowed: !(break_space || space_break || special),
        block_allowed: !(trailing_space || space_break || special),
    })
}

/// serde_yaml single-quotes a string that would read back as something else: null, a
/// boolean, an integer (decimal, `0x`, `0o`, `0b`, to 128 bits), a finite float, or digits with
/// a leading zero (its `visit_untagged_scalar` and `digits_but_not_number`).
fn looks_like_another_type(v: &str) -> bool {
    match v.as_bytes().first() {
        None => return true,
        Some(c)
            if !matches!(
                c,
                b'0'..=b'9' | b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
            ) =>
        {
            return false
        }
        _ => {}
    }
    if matches!(
        v,
        "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    ) {
        return true;
    }
    if unsigned_int(v) || negative_int(v) || digits_but_not_number(v) {
        return true;
    }
    float(v)
}

fn digits_but_not_number(scalar: &str) -> bool {
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1 && scalar.starts_with('0') && scalar[1..].bytes().all(|b| b.is_ascii_digit())
}

fn unsigned_int(scalar: &str) -> bool {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return false;
            }
            if u128::from_str_radix(rest, radix).is_ok() {
                return true;
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(scalar) {
        return false;
    }
    unpositive.parse::<u128>().is_ok()
}

fn negative_int(scalar: &str) -> bool {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix) {
            if i128::from_str_radix(&format!("-{rest}"), radix).is_ok() {
                return true;
            }
        }
    }
    !digits_but_not_number(scalar) && scalar.parse::<i128>().is_ok()
}

fn float(scalar: &str) -> bool {
    if digits_but_not_number(scalar) {
        return false;
    }
    let unpositive = match scalar.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => scalar,
    };
    matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(
            scalar,
            "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN"
        )
        || unpositive.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A collection being written: its block form starts at its first entry, so one that turns
/// out empty can still be written `[]` or `{}`, as libyaml does by looking ahead.
pub struct Collection<'a> {
    emitter: &'a mut Emitter,
    /// Where the collection itself sits.
    context: Context,
    started: bool,
    mapping: bool,
}

impl Collection<'_> {
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let e = &mut *self.emitter;
        if self.mapping {
            e.increase_indent(false, false);
        } else {
            let indentless = self.context == Context::Value && !e.indention;
            e.increase_indent(false, indentless);
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.start();
        let e = &mut *self.emitter;
        e.write_indent();
        e.write_indicator_in("-", true, false, true);
        e.context = Context::Item;
        value.serialize(&mut *self.emitter)
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.start();
        let e = &mut *self.emitter;
        e.write_indent();
        e.context = Context::Key;
        key.serialize(&mut *self.emitter)
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        let e = &mut *self.emitter;
        e.write_indicator(":", false, false);
        e.context = Context::Value;
        value.serialize(&mut *self.emitter)
    }

    fn end(self) -> Result<(), Unsupported> {
        let e = self.emitter;
        if self.started {
            e.pop_indent();
            return Ok(());
        }
        e.context = self.context;
        e.empty(if self.mapping { "{}" } else { "[]" })
    }
}

macro_rules! integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Unsupported> {
            self.plain(&v.to_string())
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Emitter {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Collection<'a>;
    type SerializeTuple = Collection<'a>;
    type SerializeTupleStruct = Collection<'a>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = Collection<'a>;
    type SerializeStruct = Collection<'a>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.plain(if v { "true" } else { "false" })
    }

    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        match v.classify() {
            std::num::FpCategory::Infinite | std::num::FpCategory::Nan => Err(Unsupported),
            _ => self.plain(ryu::Buffer::new().format_finite(v)),
        }
    }

    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        match v.classify() {
            std::num::FpCategory::Infinite | std::num::FpCategory::Nan => Err(Unsupported),
            _ => self.plain(ryu::Buffer::new().format_finite(v)),
        }
    }

    fn serialize_char(self, _: char) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.string(v)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_none(self) -> Result<(), Unsupported> {
        self.plain("null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.plain("null")
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.plain("null")
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported) // a YAML tag
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Collection<'a>, Unsupported> {
        self.collection(false)
    }

    fn serialize_tuple(self, _: usize) -> Result<Collection<'a>, Unsupported> {
        self.collection(false)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Collection<'a>, Unsupported> {
        self.collection(false)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Collection<'a>, Unsupported> {
        self.collection(true)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Collection<'a>, Unsupported> {
        self.collection(true)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        let text = value.to_string();
        // serde_yaml reads a leading `!` here as a tag.
        if text.starts_with('!') {
            return Err(Unsupported);
        }
        self.string(&text)
    }
}

impl Emitter {
    fn collection(&mut self, mapping: bool) -> Result<Collection<'_>, Unsupported> {
        let context = self.context;
        if context == Context::Key {
            return Err(Unsupported);
        }
        Ok(Collection {
            emitter: self,
            context,
            started: false,
            mapping,
        })
    }
}

/// Sequences, tuples and tuple structs are all written as a block sequence of their items.
macro_rules! sequences {
    ($($kind:ident: $element:ident),*) => {$(
        impl ser::$kind for Collection<'_> {
            type Ok = ();
            type Error = Unsupported;

            fn $element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.item(value)
            }

            fn end(self) -> Result<(), Unsupported> {
                Collection::end(self)
            }
        }
    )*};
}

sequences!(
    SerializeSeq: serialize_element,
    SerializeTuple: serialize_element,
    SerializeTupleStruct: serialize_field
);

impl ser::SerializeMap for Collection<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.value(value)
    }

    fn end(self) -> Result<(), Unsupported> {
        Collection::end(self)
    }
}

impl ser::SerializeStruct for Collection<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.key(key)?;
        self.value(value)
    }

    fn end(self) -> Result<(), Unsupported> {
        Collection::end(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::to_string;
    use crate::test_rng::Rng;

    /// Asserts that the fast path writes exactly serde_yaml's bytes; `true` if it took it.
    fn same<T: serde::Serialize + ?Sized>(value: &T) -> bool {
        let expected = serde_yaml::to_string(value).expect("serde_yaml writes it");
        match to_string(value) {
            Some(text) => {
                assert_eq!(text, expected, "differs from serde_yaml");
                true
            }
            None => false,
        }
    }

    /// Pieces that meet every rule of the style choice: indicators first and inside, spaces
    /// and breaks at either end, quotes, words that read as other types, characters libyaml
    /// escapes or treats as breaks.
    const PIECES: &[&str] = &[
        "a", "word", " ", "  ", "\n", "\n\n", "'", "\"", ":", ": ", "#", " #", "-", "- ", "?",
        "? ", ",", "[", "]", "{", "}", "|", ">", "!", "&", "*", "%", "@", "`", "---", "...", "0",
        "1", "007", "-3", "+4", "0x1F", "0o17", "0b101", "1e3", "2.5", ".5", "-.inf", ".nan", "~",
        "null", "Null", "true", "FALSE", "é", "—", "日本", "\u{a0}", "\t", "\r", "\u{85}",
        "\u{2028}", "\u{feff}", "😀", "\u{7f}", "\u{1}", "x:y", "a #b", "k: v",
    ];

    fn text(rng: &mut Rng, max: usize) -> String {
        (0..rng.below(max + 1))
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect()
    }

    fn value(rng: &mut Rng, depth: usize) -> Value {
        match rng.below(if depth == 0 { 5 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 1),
            2 => json!(rng.next() as i64 >> rng.below(64)),
            3 => json!((rng.next() % 100_000) as f64 / 7.0),
            4 => Value::String(text(rng, 6)),
            5 | 6 => {
                let mut map = Map::new();
                for _ in 0..rng.below(4) {
                    let key = match rng.below(10) {
                        0 => "k".repeat(100 + rng.below(60)),
                        _ => text(rng, 3),
                    };
                    map.insert(key, value(rng, depth - 1));
                }
                Value::Object(map)
            }
            _ => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
        }
    }

    #[test]
    fn the_same_bytes_as_serde_yaml() {
        let mut rng = Rng(0x5eed_0a41);
        let mut fast = 0;
        let total = 20_000;
        for _ in 0..total {
            let root = match rng.below(2) {
                0 => Value::Array(vec![value(&mut rng, 4)]),
                _ => value(&mut rng, 4),
            };
            fast += usize::from(same(&root));
        }
        // Most documents hold something left to serde_yaml (the pieces are chosen to be
        // awkward); enough of them must still take the fast path for this to test it.
        assert!(
            fast > total / 10,
            "only {fast} of {total} took the fast path"
        );
    }

    #[test]
    fn every_style_and_indentation_is_written_as_serde_yaml_writes_it() {
        let doc = json!({
            "plain": "hello world",
            "quoted": ["true", "007", "0x1F", "1e3", "", "~", "- a", "a: b", "a #b", "'q'",
                "x ", " x", "@at", "---", "é — 日本 😀"],
            "literal": ["two\nlines", "ends\n", "\nstarts", " indented\nx", "a\n\nb", "x\n  y", "kept\n\n", "\n"],
            "nested": {"list": [[1, [2, "a\nb"]], {"k": {"deep": "v\nw"}}, [], {}],
                "empty": {}, "none": null, "n": -1.5e-7, "big": 18446744073709551615u64},
            "k".repeat(128): "the longest simple key",
            "x: y": "a key with an indicator",
            "": "an empty key",
        });
        assert!(same(&doc));
        assert!(same(&vec![doc.clone(), doc]));
        // Double-quoted, with libyaml's escapes.
        let escaped = json!({"v": ["a\tb", "\u{feff}", "x \ny", "ctl \u{1}\u{7f}\u{85} \"\\",
            "\r", "a\u{9b}", "NaN"]});
        assert!(same(&escaped));
        assert!(to_string(&escaped).unwrap().contains(r#""x \ny""#));
        // Left to serde_yaml: keys written `? key`, line separators inside quotes, tags.
        for other in [
            json!({"a\nb": 1}),
            json!({"k".repeat(129): 1}),
            json!({"v": "a\u{2028}b"}),
        ] {
            assert!(to_string(&other).is_none(), "{other}");
        }
        #[derive(serde::Serialize)]
        enum Tagged {
            Data(u8),
        }
        assert!(to_string(&vec![Tagged::Data(1)]).is_none());
    }

    #[test]
    fn recorded_interactions_take_the_fast_path() {
        let redactor = crate::cassette::redact::Redactor::default();
        let (mut files, mut interactions, mut fast) = (0, 0, 0);
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        for dir in ["fixtures", "cassettes"] {
            let listed = crate::cassette::files::list(&root.join(dir)).unwrap();
            for (_, path) in listed {
                let cassette = match crate::import::vcrpy::import_file(&path, "fixture", &redactor)
                {
                    Ok(cassette) => cassette,
                    Err(_) => match crate::cassette::files::load(&path) {
                        Ok(cassette) => cassette,
                        Err(_) => continue,
                    },
                };
                files += 1;
                assert!(same(&cassette), "{}", path.display());
                for interaction in &cassette.interactions {
                    interactions += 1;
                    fast += usize::from(same(&[interaction]));
                }
            }
        }
        assert!(
            files >= 15 && interactions >= 10,
            "only {files} cassettes, {interactions} interactions to compare"
        );
        assert_eq!(
            fast, interactions,
            "every recorded interaction takes the fast path"
        );
    }
}
