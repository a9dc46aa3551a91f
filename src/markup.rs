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

/// GitHub refuses comments over 65,536 characters (a step summary may hold 1 MiB): the default
/// Markdown budget leaves room for whatever a workflow adds around a report.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// Markdown cut politely to a byte budget: what must be there goes in whatever its size, the
/// rest piece by piece while it fits, with room kept for the closing note that says what was
/// left out. Shared by every Markdown renderer (`diff`, `policy check`, `load`).
pub struct Budgeted {
    out: String,
    limit: usize,
    left_out: usize,
}

impl Budgeted {
    /// A budget of `budget` bytes, `note_room` of them kept for the closing note.
    pub fn new(budget: usize, note_room: usize) -> Budgeted {
        Budgeted {
            out: String::new(),
            limit: budget.saturating_sub(note_room),
            left_out: 0,
        }
    }

    /// Adds `text` whatever the budget (headlines, the verdict).
    pub fn push_always(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Whether `len` more bytes (and `reserve` after them) still fit.
    pub fn fits(&self, len: usize, reserve: usize) -> bool {
        self.out.len() + len + reserve <= self.limit
    }

    /// Adds `text` when it fits (keeping `reserve` bytes free for what must follow), else
    /// counts it as left out.
    pub fn push(&mut self, text: &str, reserve: usize) -> bool {
        if self.fits(text.len(), reserve) {
            self.out.push_str(text);
            true
        } else {
            self.left_out += 1;
            false
        }
    }

    /// How many pieces [`push`](Self::push) left out.
    pub fn left_out(&self) -> usize {
        self.left_out
    }

    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The text; `note` (when anything was left out) closes it as a GitHub note block.
    pub fn finish(mut self, note: impl FnOnce(usize) -> String) -> String {
        if self.left_out > 0 {
            self.out
                .push_str("> [!NOTE]\n> This report was cut to fit GitHub's size limits");
            self.out.push_str(&note(self.left_out));
        }
        self.out
    }
}

/// A Markdown table cell holding user text: inline code, with pipes escaped so the row holds.
pub fn table_code(text: &str) -> String {
    code(text).replace('|', "\\|")
}
