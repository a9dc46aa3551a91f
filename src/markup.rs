//! Text for other formats: XML escaping (JUnit reports) and Markdown inline code and fences
//! that survive whatever the text holds. Shared by every renderer.

/// Escapes text for an XML attribute value; drops characters XML 1.0 cannot hold.
pub fn xml(text: &str) -> String {
    escape_xml(text, true)
}

/// Escapes text for XML element content (quotes stay readable there).
pub fn xml_text(text: &str) -> String {
    escape_xml(text, false)
}

pub fn escape_xml(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Inline code that survives backticks in the text.
pub fn code(text: &str) -> String {
    let text = text.replace('\n', " ");
    let longest = longest_backtick_run(&text);
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// A fenced code block that survives fences in the text.
pub fn fenced(language: &str, body: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    format!("{fence}{language}\n{body}\n{fence}\n\n")
}

pub fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
