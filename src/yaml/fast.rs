//! A fast reader for the YAML that traceforge itself writes (serde_yaml's emitter output: block
//! collections, one scalar per line, unlimited width). Cassettes are read in bulk by replay
//! start-up and `vcr rebuild-from-cassettes`, and serde_yaml reads about 25 MB/s; this reads
//! the same documents many times faster.
//!
//! It is deliberately narrow: anything outside that subset (anchors, tags, comments, flow
//! collections, folded scalars, multi-line quoted or plain scalars, unusual number forms, tabs,
//! CR line ends…) makes it give up with `None`, and the caller parses with serde_yaml instead,
//! so it can only be faster, never different. Tests compare it with serde_yaml on every shape
//! the emitter produces.

use serde_json::{Map, Number, Value};

/// Parses `text`, or `None` when it uses anything outside the supported subset.
pub(super) fn parse(text: &str) -> Option<Value> {
    // libyaml also breaks lines at NEL, LS and PS; those documents are serde_yaml's.
    if text.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let trimmed = raw.trim_start_matches(' ');
        lines.push(Line {
            indent: raw.len() - trimmed.len(),
            text: trimmed,
            raw,
        });
    }
    let mut parser = Parser { lines, pos: 0 };
    parser.skip_blank();
    if parser.pos >= parser.lines.len() {
        return None;
    }
    let first = parser.lines[parser.pos];
    if first.indent != 0 || first.text.starts_with("---") || first.text.starts_with('#') {
        return None;
    }
    let value = parser.block(0)?;
    parser.skip_blank();
    (parser.pos >= parser.lines.len()).then_some(value)
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The line without its indentation.
    text: &'a str,
    raw: &'a str,
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn skip_blank(&mut self) {
        while self.pos < self.lines.len() && self.lines[self.pos].text.is_empty() {
            self.pos += 1;
        }
    }

    fn current(&mut self) -> Option<Line<'a>> {
        self.skip_blank();
        self.lines.get(self.pos).copied()
    }

    /// A block collection whose first line is the current one, at `indent`.
    fn block(&mut self, indent: usize) -> Option<Value> {
        let line = self.current()?;
        // Tabs may not indent YAML; a line that tries is serde_yaml's to report.
        if line.indent != indent || line.text.starts_with('\t') {
            return None;
        }
        if is_item(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.current() {
            if line.text.starts_with('\t') {
                return None;
            }
            if line.indent != indent || !is_item(line.text) {
                break;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                // `-` alone: the item is the block below it, or null.
                self.pos += 1;
                items.push(self.nested(indent)?);
                continue;
            }
            let column = indent + (line.text.len() - rest.len());
            if is_item(rest) || key_end(rest).is_some() {
                // `- - x` or `- key: value`: a collection that starts on this line at `column`.
                self.lines[self.pos] = Line {
                    indent: column,
                    text: rest,
                    raw: line.raw,
                };
                items.push(self.block(column)?);
            } else {
                self.pos += 1;
                items.push(self.inline(rest, indent)?);
            }
        }
        Some(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.current() {
            if line.text.starts_with('\t') {
                return None;
            }
            if line.indent != indent || is_item(line.text) {
                break;
            }
            let (key, rest) = key_end(line.text)?;
            self.pos += 1;
            let value = if rest.is_empty() {
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
            // A repeated key is serde_yaml's to report.
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// The block more indented than `parent` that starts on the current line, or null.
    fn nested(&mut self, parent: usize) -> Option<Value> {
        match self.current() {
            Some(next) if next.indent > parent => self.block(next.indent),
            _ => Some(Value::Null),
        }
    }

    /// A value written after `key: ` or `- ` on the line just consumed.
    fn inline(&mut self, text: &str, parent: usize) -> Option<Value> {
        match text.as_bytes()[0] {
            b'|' => self.literal(text, parent).map(Value::String),
            b'\'' => {
                let (value, rest) = single_quoted(text)?;
                rest.is_empty().then_some(Value::String(value))
            }
            b'"' => {
                let (value, rest) = double_quoted(text)?;
                rest.is_empty().then_some(Value::String(value))
            }
            b'[' => (text == "[]").then(|| Value::Array(Vec::new())),
            b'{' => (text == "{}").then(|| Value::Object(Map::new())),
            _ => plain(text),
        }
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
        let mut end = self.pos;
        while end < self.lines.len() {
            let line = self.lines[end];
            if line.text.is_empty() {
                end += 1;
                continue;
            }
            match content_indent {
                None if line.indent > parent => content_indent = Some(line.indent),
                None => break,
                Some(n) if line.indent < n => break,
                Some(_) => {}
            }
            end += 1;
        }
        let at_end = end >= self.lines.len();
        let Some(content_indent) = content_indent else {
            // No content at all: leave the edge cases to serde_yaml.
            return None;
        };
        let mut body: Vec<&str> = Vec::new();
        for line in &self.lines[self.pos..end] {
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
        self.pos = end;
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
fn key_end(text: &str) -> Option<(String, &str)> {
    let (key, after) = match text.as_bytes().first()? {
        b'\'' => {
            let (key, rest) = single_quoted(text)?;
            (key, rest)
        }
        b'"' => {
            let (key, rest) = double_quoted(text)?;
            (key, rest)
        }
        b'?' | b'-' | b'[' | b'{' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`'
        | b'#' => return None,
        _ => {
            let colon = match text.find(": ") {
                Some(at) => at,
                None if text.ends_with(':') => text.len() - 1,
                None => return None,
            };
            let key = &text[..colon];
            if key.is_empty() || key.ends_with(' ') || key.contains(" #") {
                return None;
            }
            // A key that reads as something other than a string is not ours to resolve.
            match plain(key)? {
                Value::String(key) => (key, &text[colon..]),
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
fn single_quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let body = &text[1..];
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            if body[at + 1..].starts_with('\'') {
                out.push('\'');
                chars.next();
            } else {
                return Some((out, &body[at + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// `"text"` with YAML's escapes; returns the value and what follows the closing quote.
fn double_quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let body = &text[1..];
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[at + 1..])),
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
fn plain(text: &str) -> Option<Value> {
    if text.contains(": ")
        || text.contains(" #")
        || text.contains('\t')
        || text.ends_with(' ')
        || text.ends_with(':')
    {
        return None;
    }
    match text {
        "~" | "null" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        "Null" | "NULL" | "True" | "TRUE" | "False" | "FALSE" => return None,
        _ => {}
    }
    let first = text.as_bytes()[0];
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
        if text.contains(' ') {
            return Some(Value::String(text.to_string()));
        }
        if let Some(number) = number(text) {
            return Some(Value::Number(number));
        }
        // Rare forms (`1_000`, `12:30`, `.5`, `-x`): let serde_yaml resolve this one scalar.
        return match serde_yaml::from_str::<Value>(text).ok()? {
            scalar @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => {
                Some(scalar)
            }
            _ => None,
        };
    }
    Some(Value::String(text.to_string()))
}

/// Decimal integers without leading zeros, and floats with a fraction and/or exponent.
fn number(text: &str) -> Option<Number> {
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
            Ok(n) => Some(n.into()),
            Err(_) => text.parse::<u64>().ok().map(Into::into),
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
    Number::from_f64(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                        "TRUE", "false", "0123", "+1", "-1", "1_000", "12:30", "a: b", "a #b", "#c",
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
            "a: 1\na: 2\n",
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
