//! A fast reader for the YAML that traceforge itself writes (serde_yaml's emitter output: block
//! collections, one scalar per line, unlimited width). Cassettes are read in bulk by replay
//! start-up and `vcr rebuild-from-cassettes`, and serde_yaml reads about 25 MB/s; this reads
//! the same documents many times faster.
//!
//! It works in two steps: [`events`] turns the text into a flat list of events (mapping and
//! sequence starts and ends, keys, resolved scalars borrowing from the text where they can),
//! and [`Deserializer`] feeds them to any `Deserialize` type directly, with the semantics of
//! `serde_json::from_value`, so no intermediate tree is built.
//!
//! It is deliberately narrow: anything outside that subset (anchors, tags, comments, flow
//! collections, folded scalars, multi-line quoted or plain scalars, unusual number forms, tabs,
//! CR line ends…) makes [`events`] give up with `None`, and any error while
//! deserializing is not reported from here: the caller parses with serde_yaml instead, so it can
//! only be faster, never different. Tests compare it with serde_yaml on every shape the emitter
//! produces.

use std::borrow::Cow;

use serde_json::Value;

mod de;

pub(super) use de::Deserializer;

/// One step of a document, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event<'a> {
    MapStart,
    /// Starts a sequence of this many items.
    SeqStart(usize),
    /// Ends the innermost open mapping or sequence.
    End,
    Key(Cow<'a, str>),
    Null,
    Bool(bool),
    /// Non-negative integers (as `serde_json` stores them).
    U64(u64),
    /// Negative integers.
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
}

/// Reads `text` into events, or `None` when it uses anything outside the supported subset.
pub(super) fn events(text: &str) -> Option<Vec<Event<'_>>> {
    // libyaml also breaks lines at NEL (C2 85), LS and PS (E2 80 A8/A9); those documents are
    // serde_yaml's. One cheap byte scan rules them out for almost every document.
    if has_other_line_breaks(text) || has_unprintable(text) {
        return None;
    }
    let mut parser = Parser {
        text,
        pos: 0,
        line: None,
        // About one event per 11 bytes in cassettes: enough room that it never grows.
        events: Vec::with_capacity(text.len() / 8),
        depth: 0,
    };
    let first = parser.current()?;
    if first.indent != 0 || first.text.starts_with("---") || first.text.starts_with('#') {
        return None;
    }
    parser.block(0)?;
    parser.current().is_none().then_some(parser.events)
}

/// How deep collections may nest: serde_yaml's recursion limit, so a document too deep for it
/// is too deep here as well, and adding a comment (which sends the document to serde_yaml)
/// never makes a readable file unreadable.
pub(super) const MAX_DEPTH: usize = 128;

/// Whether `text` has a character YAML does not allow unescaped (C0 controls but tab and line
/// ends, DEL, C1 controls but NEL): serde_yaml rejects those, so the fast path must not accept
/// them either.
fn has_unprintable(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Without an early exit per byte the loop vectorises; replay start-up reads megabytes.
    let control = bytes.chunks(4096).any(|chunk| {
        chunk.iter().fold(false, |bad, &b| {
            bad | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0x7f)
        })
    });
    control
        || memchr::memchr_iter(0xc2, bytes).any(|at| {
            bytes
                .get(at + 1)
                .is_some_and(|&next| (0x80..0xa0).contains(&next) && next != 0x85)
        })
}

/// Whether `text` has a CR, NEL, LS or PS, which libyaml also reads as line breaks.
fn has_other_line_breaks(text: &str) -> bool {
    // NEL is C2 85, LS and PS are E2 80 A8/A9: a byte search rules them out in most documents.
    let bytes = text.as_bytes();
    (memchr::memchr3(b'\r', 0x85, 0xa8, bytes).is_some() || memchr::memchr(0xa9, bytes).is_some())
        && text.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}'])
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The line without its indentation.
    text: &'a str,
    raw: &'a str,
    /// Where the next line starts.
    next: usize,
}

/// The line starting at byte `start` of `text`, or `None` past the last one. Like
/// `text.split('\n')`, a final newline is followed by one more, empty, line.
fn line_at(text: &str, start: usize) -> Option<Line<'_>> {
    let rest = text.get(start..)?;
    let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
    let raw = &rest[..end];
    let indent = raw.bytes().take_while(|&b| b == b' ').count();
    Some(Line {
        indent,
        text: &raw[indent..],
        raw,
        next: start + end + 1,
    })
}

/// Reads lines as it goes: no list of every line is built.
struct Parser<'a> {
    text: &'a str,
    /// Where the current line starts.
    pos: usize,
    /// The current line once read, or as rewritten for a collection that starts after `- `.
    line: Option<Line<'a>>,
    events: Vec<Event<'a>>,
    /// How many block collections are open.
    depth: usize,
}

impl<'a> Parser<'a> {
    /// The current line, blank lines skipped, or `None` at the end.
    #[inline]
    fn current(&mut self) -> Option<Line<'a>> {
        match self.line {
            Some(line) if !line.text.is_empty() => Some(line),
            _ => self.read_line(),
        }
    }

    fn read_line(&mut self) -> Option<Line<'a>> {
        loop {
            let line = match self.line {
                Some(line) => line,
                None => {
                    let line = line_at(self.text, self.pos)?;
                    self.line = Some(line);
                    line
                }
            };
            if !line.text.is_empty() {
                return Some(line);
            }
            self.advance(line);
        }
    }

    /// Moves past `line`, the current one.
    fn advance(&mut self, line: Line<'a>) {
        self.pos = line.next;
        self.line = None;
    }

    /// A block collection whose first line is the current one, at `indent`.
    fn block(&mut self, indent: usize) -> Option<()> {
        let line = self.current()?;
        // Tabs may not indent YAML; a line that tries is serde_yaml's to report.
        if line.indent != indent || line.text.starts_with('\t') || self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let read = if is_item(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        read
    }

    fn sequence(&mut self, indent: usize) -> Option<()> {
        let start = self.events.len();
        self.events.push(Event::SeqStart(0));
        let mut items = 0;
        while let Some(line) = self.current() {
            if line.text.starts_with('\t') {
                return None;
            }
            if line.indent != indent || !is_item(line.text) {
                break;
            }
            items += 1;
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                // `-` alone: the item is the block below it, or null.
                self.advance(line);
                self.nested(indent)?;
                continue;
            }
            let column = indent + (line.text.len() - rest.len());
            if is_item(rest) || key_end(rest).is_some() {
                // `- - x` or `- key: value`: a collection that starts on this line at `column`.
                self.line = Some(Line {
                    indent: column,
                    text: rest,
                    ..line
                });
                self.block(column)?;
            } else {
                self.advance(line);
                self.inline(rest, indent)?;
            }
        }
        // Known only now; a hint for whoever collects the items.
        self.events[start] = Event::SeqStart(items);
        self.events.push(Event::End);
        Some(())
    }

    fn mapping(&mut self, indent: usize) -> Option<()> {
        self.events.push(Event::MapStart);
        while let Some(line) = self.current() {
            if line.text.starts_with('\t') {
                return None;
            }
            if line.indent != indent || is_item(line.text) {
                break;
            }
            let (key, rest) = key_end(line.text)?;
            self.advance(line);
            self.events.push(Event::Key(key));
            if rest.is_empty() {
                // A sequence under a key may sit at the key's own indentation.
                match self.current() {
                    Some(next) if next.indent == indent && is_item(next.text) => {
                        self.sequence(indent)?
                    }
                    _ => self.nested(indent)?,
                }
            } else {
                self.inline(rest, indent)?
            };
        }
        self.events.push(Event::End);
        Some(())
    }

    /// The block more indented than `parent` that starts on the current line, or null.
    fn nested(&mut self, parent: usize) -> Option<()> {
        match self.current() {
            Some(next) if next.indent > parent => self.block(next.indent),
            _ => {
                self.events.push(Event::Null);
                Some(())
            }
        }
    }

    /// A value written after `key: ` or `- ` on the line just consumed.
    fn inline(&mut self, text: &'a str, parent: usize) -> Option<()> {
        let event = match text.as_bytes()[0] {
            b'|' => Event::Str(Cow::Owned(self.literal(text, parent)?)),
            b'\'' => {
                let (value, rest) = single_quoted(text)?;
                if !rest.is_empty() {
                    return None;
                }
                Event::Str(value)
            }
            b'"' => {
                let (value, rest) = double_quoted(text)?;
                if !rest.is_empty() {
                    return None;
                }
                Event::Str(value)
            }
            b'[' if text == "[]" => {
                self.events.push(Event::SeqStart(0));
                Event::End
            }
            b'{' if text == "{}" => {
                self.events.push(Event::MapStart);
                Event::End
            }
            b'[' | b'{' => return None,
            _ => plain(text)?,
        };
        self.events.push(event);
        Some(())
    }

    /// A literal block scalar (`|`, `|-`, `|+`, optionally with an indentation indicator such
    /// as `|2-`) whose lines follow, indented more than `parent`.
    fn literal(&mut self, header: &str, parent: usize) -> Option<String> {
        let mut chomp = Chomp::Clip;
        let mut indicator = None;
        for c in header[1..].chars() {
            match c {
                '-' if chomp == Chomp::Clip => chomp = Chomp::Strip,
                '+' if chomp == Chomp::Clip => chomp = Chomp::Keep,
                '1'..='9' if indicator.is_none() => indicator = c.to_digit(10),
                _ => return None,
            }
        }
        // Content indentation: given by the indicator, or that of the first non-empty line.
        let mut content_indent = indicator.map(|d| parent + d as usize);
        let mut lines = Vec::new();
        let mut cursor = self.pos;
        while let Some(line) = line_at(self.text, cursor) {
            if !line.text.is_empty() {
                match content_indent {
                    None if line.indent > parent => content_indent = Some(line.indent),
                    None => break,
                    Some(n) if line.indent < n => break,
                    Some(_) => {}
                }
            }
            lines.push(line);
            cursor = line.next;
        }
        let at_end = cursor > self.text.len();
        let Some(content_indent) = content_indent else {
            // No content at all: leave the edge cases to serde_yaml.
            return None;
        };
        let mut body: Vec<&str> = Vec::with_capacity(lines.len());
        for line in &lines {
            if line.text.is_empty() {
                // A blank line carrying more spaces than the indentation is content.
                if line.indent > content_indent {
                    return None;
                }
                body.push("");
            } else {
                body.push(&line.raw[content_indent..]);
            }
        }
        // The document's final newline makes one more, empty, line that is not content.
        if at_end && body.last() == Some(&"") {
            body.pop();
        }
        // Trailing blank lines (up to where the next node starts) are subject to chomping.
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let content = &body[..body.len() - trailing];
        if content.is_empty() {
            return None;
        }
        self.pos = cursor;
        self.line = None;
        let mut text = content.join("\n");
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => text.push('\n'),
            Chomp::Keep => {
                text.push('\n');
                text.extend(std::iter::repeat_n('\n', trailing));
            }
        }
        Some(text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: rest` / `key:` into the key and what follows the colon, or `None` when the
/// line is not a simple mapping entry.
fn key_end(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let (key, after) = match text.as_bytes().first()? {
        b'\'' => single_quoted(text)?,
        b'"' => double_quoted(text)?,
        b'?' | b'-' | b'[' | b'{' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`'
        | b'#' => return None,
        _ => {
            let bytes = text.as_bytes();
            let colon = memchr::memchr_iter(b':', bytes)
                .find(|&at| matches!(bytes.get(at + 1), None | Some(b' ')))?;
            let key = &text[..colon];
            if key.is_empty() || key.ends_with(' ') {
                return None;
            }
            // A key that reads as something other than a string is not ours to resolve.
            match plain(key)? {
                Event::Str(key) => (key, &text[colon..]),
                _ => return None,
            }
        }
    };
    let rest = after.strip_prefix(':')?;
    if rest.is_empty() {
        return Some((key, ""));
    }
    let rest = rest.strip_prefix(' ')?.trim_start_matches(' ');
    Some((key, rest))
}

/// `'text'` with `''` for a quote; returns the value and what follows the closing quote.
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let close = memchr::memchr(b'\'', body.as_bytes())?;
    if body.as_bytes().get(close + 1) != Some(&b'\'') {
        return Some((Cow::Borrowed(&body[..close]), &body[close + 1..]));
    }
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            if body[at + 1..].starts_with('\'') {
                out.push('\'');
                chars.next();
            } else {
                return Some((Cow::Owned(out), &body[at + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// `"text"` with YAML's escapes; returns the value and what follows the closing quote.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let stop = memchr::memchr2(b'"', b'\\', body.as_bytes())?;
    if body.as_bytes()[stop] == b'"' {
        return Some((Cow::Borrowed(&body[..stop]), &body[stop + 1..]));
    }
    let mut out = String::from(&body[..stop]);
    let mut chars = body[stop..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(out), &body[stop + at + 1..])),
            '\\' => {
                let (_, escape) = chars.next()?;
                let simple = match escape {
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    't' => Some('\t'),
                    'n' => Some('\n'),
                    'v' => Some('\u{b}'),
                    'f' => Some('\u{c}'),
                    'r' => Some('\r'),
                    'e' => Some('\u{1b}'),
                    ' ' => Some(' '),
                    '"' => Some('"'),
                    '/' => Some('/'),
                    '\\' => Some('\\'),
                    'N' => Some('\u{85}'),
                    '_' => Some('\u{a0}'),
                    'L' => Some('\u{2028}'),
                    'P' => Some('\u{2029}'),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    continue;
                }
                let digits = match escape {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return None,
                };
                let mut code = 0u32;
                for _ in 0..digits {
                    let (_, d) = chars.next()?;
                    code = code * 16 + d.to_digit(16)?;
                }
                out.push(char::from_u32(code)?);
            }
            c => out.push(c),
        }
    }
    None
}

/// A plain scalar, resolved as serde_yaml resolves the forms its emitter writes; `None` for
/// anything it might resolve differently.
fn plain(text: &str) -> Option<Event<'_>> {
    let bytes = text.as_bytes();
    // `: `, ` #` and tabs mean something else; so does a trailing space or colon.
    if matches!(bytes.last(), Some(b' ' | b':'))
        || memchr::memchr3_iter(b':', b'#', b'\t', bytes).any(|at| match bytes[at] {
            b':' => bytes.get(at + 1) == Some(&b' '),
            b'#' => at > 0 && bytes[at - 1] == b' ',
            _ => true,
        })
    {
        return None;
    }
    match text {
        "~" | "null" => return Some(Event::Null),
        "true" => return Some(Event::Bool(true)),
        "false" => return Some(Event::Bool(false)),
        "Null" | "NULL" | "True" | "TRUE" | "False" | "FALSE" => return None,
        _ => {}
    }
    let first = bytes[0];
    if matches!(
        first,
        b'&' | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b'#'
            | b'\''
            | b'"'
            | b'['
            | b'{'
            | b']'
            | b'}'
            | b','
            | b'?'
            | b':'
    ) {
        return None;
    }
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if text.starts_with("- ") {
            return None;
        }
        // No YAML number, boolean or null has a space in it.
        if bytes.contains(&b' ') {
            return Some(Event::Str(Cow::Borrowed(text)));
        }
        if let Some(number) = number(text) {
            return Some(number);
        }
        // Every number form serde_yaml knows (hex, octal, binary, `_` separators, `.inf`,
        // `.nan`) is spelled with these characters; anything else, such as the `T` and `Z` of
        // a timestamp, makes a string.
        let numeric = |b: &u8| {
            b.is_ascii_hexdigit()
                || matches!(b, b'x' | b'X' | b'o' | b'O' | b'i' | b'I' | b'n' | b'N')
                || matches!(b, b'+' | b'-' | b'.' | b'_' | b':')
        };
        if !bytes.iter().all(numeric) {
            return Some(Event::Str(Cow::Borrowed(text)));
        }
        // Rare forms (`1_000`, `12:30`, `.5`, `-x`): let serde_yaml resolve this one scalar.
        return match serde_yaml::from_str::<Value>(text).ok()? {
            Value::Null => Some(Event::Null),
            Value::Bool(b) => Some(Event::Bool(b)),
            Value::Number(n) => number_event(&n),
            Value::String(s) => Some(Event::Str(Cow::Owned(s))),
            _ => None,
        };
    }
    Some(Event::Str(Cow::Borrowed(text)))
}

fn number_event(n: &serde_json::Number) -> Option<Event<'static>> {
    if let Some(u) = n.as_u64() {
        Some(Event::U64(u))
    } else if let Some(i) = n.as_i64() {
        Some(Event::I64(i))
    } else {
        n.as_f64().map(Event::F64)
    }
}

/// Decimal integers without leading zeros, and floats with a fraction and/or exponent.
fn number(text: &str) -> Option<Event<'static>> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() {
        return None;
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        if bytes.len() > 1 && bytes[0] == b'0' {
            return None;
        }
        return match text.parse::<i64>() {
            Ok(n) if n >= 0 => Some(Event::U64(n as u64)),
            Ok(n) => Some(Event::I64(n)),
            Err(_) => text.parse::<u64>().ok().map(Event::U64),
        };
    }
    // d+ (. d+)? ([eE] [+-]? d+)? with at least a fraction or an exponent.
    let mut i = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if bytes[0] == b'0' && i > 1 {
        return None;
    }
    if bytes.get(i) == Some(&b'.') {
        let fraction = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if fraction == 0 {
            return None;
        }
        i += 1 + fraction;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exponent == 0 {
            return None;
        }
        i += exponent;
    }
    if i != bytes.len() {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    // serde_json cannot hold infinities or NaN; serde_yaml's answer is not ours to guess.
    value.is_finite().then_some(Event::F64(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    /// The document as a JSON value, through the events, or `None` where the fast path gives up.
    fn parse(text: &str) -> Option<Value> {
        Deserializer::new(events(text)?).read().ok()
    }

    /// The fast reader must agree with serde_yaml whenever it answers.
    fn agrees(text: &str) -> bool {
        let slow: Result<Value, _> = serde_yaml::from_str(text);
        match (parse(text), slow) {
            (Some(fast), Ok(slow)) => {
                assert_eq!(fast, slow, "disagreement on:\n{text}");
                true
            }
            (Some(fast), Err(e)) => {
                panic!("fast accepted what serde_yaml rejects ({e}): {fast}\n{text}")
            }
            (None, _) => false,
        }
    }

    /// Values serialised by serde_yaml read back through the fast path, identically.
    fn round_trips(value: &Value) {
        let text = serde_yaml::to_string(value).unwrap();
        assert!(
            agrees(&text),
            "fast path gave up on emitter output:\n{text}"
        );
    }

    #[test]
    fn reads_every_shape_the_emitter_writes() {
        round_trips(&json!({
            "version": 1,
            "nested": {"a": [1, 2, {"b": null, "c": [[], {}]}], "empty": [], "obj": {}},
            "list": [[1, [2, 3]], [], [{"x": "y"}], "-", "- a", "a - b"],
            "numbers": [0, -1, 9223372036854775807u64, 18446744073709551615u64, -9223372036854775808i64,
                        1.5, -0.25, 1e-7, 2.0, 1.0e300, 123456789.125],
            "bools": [true, false], "null": null,
            "strings": ["", " ", "plain text", "yes", "no", "on", "off", "y", "n", "1", "1.0", "0x1f",
                        "0o17", "1e3", ".inf", "-.inf", ".nan", "~", "null", "Null", "NULL", "True",
                        "TRUE", "false", "0123", "+1", "-1", "1_000", "12:30", "2026-11-21T10:00:00Z", "1.5x", "0x1g", "1e3z", "a: b", "a #b", "#c",
                        "'quoted'", "\"double\"", "it's", "tab\there", "trailing ", " leading",
                        "ünïcödé ✓ 漢字", "emoji 🎉", "[not a list]", "{not a map}", "& anchor",
                        "* alias", "! tag", "| pipe", "> fold", "% pct", "@ at", "` tick", "?",
                        "? q", ":", ": c", "-", "--", "---", "...", "a\u{0}b", "bell\u{7}",
                        "\u{feff}bom", "code\n\tindented\n", "a\tb", "back\\slash", "line\nbreak",
                        "two\nlines\n", "three\n\n\n", "\nleading newline", "  indented\nsecond",
                        "trailing space \nline", "crlf\r\nline", "tab\n\tstart", "{\"json\": true}"],
            "keys": {"1": "digit key", "true": "bool key", "a: b": "colon key", "": "empty key",
                     "- dash": "x", "with space": 1, "ünï": 2, "null": 3},
            "text": "A long answer.\n\nWith paragraphs.\n  And indentation.\n"
        }));
    }

    #[test]
    fn feeds_typed_structs_as_serde_yaml_does() {
        use serde::{Deserialize, Serialize};
        use std::collections::BTreeMap;

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Doc {
            id: u64,
            small: u16,
            negative: i32,
            ratio: f64,
            name: String,
            maybe: Option<String>,
            none: Option<u32>,
            #[serde(default)]
            missing: Option<u8>,
            kind: Kind,
            shapes: Vec<Shape>,
            tagged: Vec<Tagged>,
            tags: BTreeMap<String, String>,
            nested: Vec<Inner>,
            value: Value,
            pair: (u8, String),
            wrapped: Wrapped,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Unit,
            Other,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        enum Shape {
            Circle(f64),
            Rect { w: u32, h: u32 },
            Dot,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        enum Tagged {
            A { x: u8 },
            B,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Inner {
            text: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            extra: Option<Vec<u8>>,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Wrapped(String);

        let doc = Doc {
            id: 18446744073709551615,
            small: 7,
            negative: -3,
            ratio: 0.25,
            name: "a: b # c".into(),
            maybe: Some("".into()),
            none: None,
            missing: None,
            kind: Kind::Other,
            // serde_yaml writes the other variants as tags (`!Circle 1.5`): not this subset.
            shapes: vec![Shape::Dot],
            tagged: vec![Tagged::A { x: 1 }, Tagged::B],
            tags: [("b".into(), "2".into()), ("a".into(), "true".into())].into(),
            nested: vec![
                Inner {
                    text: "two\nlines\n".into(),
                    extra: None,
                },
                Inner {
                    text: "it's".into(),
                    extra: Some(vec![]),
                },
            ],
            value: json!({"z": [1, -1, 1.5, null, true, "x", {}], "a": {"k": "v"}}),
            pair: (9, "nine".into()),
            wrapped: Wrapped("inside".into()),
        };
        let text = serde_yaml::to_string(&doc).unwrap();
        let read =
            events(&text).unwrap_or_else(|| panic!("the fast path reads emitter output:\n{text}"));
        let fast: Doc = Deserializer::new(read).read().unwrap();
        let slow: Doc = serde_yaml::from_str(&text).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast, doc);

        // Variants with content as single-entry mappings, read as `serde_json::from_value`
        // reads them.
        let text = "- Circle: 1.5\n- Rect:\n    w: 2\n    h: 3\n- Dot\n";
        let fast: Vec<Shape> = Deserializer::new(events(text).unwrap()).read().unwrap();
        let value: Value = Deserializer::new(events(text).unwrap()).read().unwrap();
        assert_eq!(fast, serde_json::from_value::<Vec<Shape>>(value).unwrap());
        assert_eq!(fast[1], Shape::Rect { w: 2, h: 3 });
    }

    #[test]
    fn a_shape_mismatch_is_left_to_serde_yaml() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            id: u64,
        }
        let text = "id: -1\n";
        assert!(Deserializer::new(events(text).unwrap())
            .read::<Doc>()
            .is_err());
        let error = super::super::from_str::<Doc>(text).unwrap_err();
        assert_eq!(error.line, Some(1), "{error:?}");
        // Keys a struct does not have, and a repeated key, likewise.
        assert!(super::super::from_str::<Doc>("id: 1\nid: 2\n").is_err());
    }

    #[test]
    fn gives_up_rather_than_guessing() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!binary aGk=\n",
            "# comment\na: 1\n",
            "a: 1 # comment\n",
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "a: >\n  folded\n",
            "a: 'multi\n  line'\n",
            "a:\n\tb: 1\n",
            "a: \"x\u{85}y\"\n",
            "a: 1\r\n",
            "---\na: 1\n",
            "a: True\n",
            "a: \"x\u{2028}y\"\n",
            "a: |\n\nb: 1\n",
        ] {
            assert!(parse(text).is_none(), "should give up on {text:?}");
        }
    }

    #[test]
    fn rare_scalar_forms_resolve_as_serde_yaml_resolves_them() {
        for text in [
            "a: 0x10\n",
            "a: 1_000\n",
            "a: .inf\n",
            "a: 12:30\n",
            "a: -x\n",
            "a: .5\n",
            // serde_yaml hands both entries to the visitor too: the last one wins in a map,
            // and a struct reports the repeated field (then serde_yaml reads it, to say where).
            "a: 1\nb: 2\na: 3\n",
        ] {
            assert!(agrees(text), "{text:?} should be answered");
        }
    }

    #[test]
    fn agrees_with_serde_yaml_on_random_documents() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        };
        const PIECES: &[&str] = &[
            "a", "b c", " ", "\n", "'", "\"", ":", "#", "-", "1", "0", ".", "e", "\\", "ü", "✓",
            "\t", "|", ">", "[", "{", "}", "]", ",", "?", "&", "*", "!", "null", "true", "~", "  ",
            "\u{0}", "\u{85}", "x: y", "- z",
        ];
        fn value(next: &mut dyn FnMut() -> u64, depth: u32) -> Value {
            match next() % if depth > 3 { 4 } else { 6 } {
                0 => Value::Null,
                1 => Value::from(next() % 1000),
                2 => Value::from((next() % 100_000) as f64 / 64.0 - 500.0),
                3 => {
                    let n = next() % 6;
                    Value::String(
                        (0..n)
                            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                            .collect(),
                    )
                }
                4 => Value::Array((0..next() % 4).map(|_| value(next, depth + 1)).collect()),
                _ => {
                    let mut map = Map::new();
                    for _ in 0..next() % 4 {
                        let n = 1 + next() % 3;
                        let key: String = (0..n)
                            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                            .collect();
                        map.insert(key, value(next, depth + 1));
                    }
                    Value::Object(map)
                }
            }
        }
        let mut answered = 0;
        for _ in 0..3000 {
            let doc = json!({"root": value(&mut next, 0)});
            let text = serde_yaml::to_string(&doc).unwrap();
            if agrees(&text) {
                answered += 1;
            }
        }
        // Almost everything the emitter writes takes the fast path.
        assert!(
            answered > 2700,
            "fast path answered only {answered} of 3000"
        );
    }
}
