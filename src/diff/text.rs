//! Assistant text compared as people review it: a unified line diff whose changed lines carry
//! word-level emphasis, computed once (with `similar`, under a deadline) and rendered by every
//! output format, plus the similarity ratio for `diff.text: similarity>=N`.

use std::time::Instant;

use similar::{ChangeTag, TextDiff};

use super::rules::TextRule;

/// How many unchanged lines surround each change.
const CONTEXT_LINES: usize = 3;

/// One line of a hunk: what happened to it, and its text in segments, each marked when it is
/// the part of the line that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub tag: Tag,
    pub segments: Vec<(bool, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Same,
    Removed,
    Added,
}

/// A group of nearby changes with its `@@ -a,b +c,d @@` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub header: String,
    pub lines: Vec<Line>,
}

/// Whether two texts are the same under `rule`, and the similarity ratio when it was needed.
pub fn same_under(
    rule: TextRule,
    before: &str,
    after: &str,
    deadline: Instant,
) -> (bool, Option<f32>) {
    if before == after {
        return (true, None);
    }
    match rule {
        TextRule::Exact => (false, None),
        TextRule::Whitespace => (collapse(before) == collapse(after), None),
        TextRule::Similarity(threshold) => {
            let ratio = TextDiff::configure()
                .deadline(deadline)
                .diff_words(before, after)
                .ratio();
            (ratio >= threshold, Some(ratio))
        }
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The hunks of a unified diff from `before` to `after`, with word emphasis on changed lines.
pub fn hunks(before: &str, after: &str, deadline: Instant) -> Vec<Hunk> {
    let diff = TextDiff::configure()
        .deadline(deadline)
        .diff_lines(before, after);
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(CONTEXT_LINES) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        let header = format!(
            "@@ -{} +{} @@",
            range(old.start, old.len()),
            range(new.start, new.len())
        );
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_inline_changes_deadline(op, Some(deadline)) {
                let tag = match change.tag() {
                    ChangeTag::Equal => Tag::Same,
                    ChangeTag::Delete => Tag::Removed,
                    ChangeTag::Insert => Tag::Added,
                };
                let mut segments: Vec<(bool, String)> = Vec::new();
                for (emphasised, text) in change.iter_strings_lossy() {
                    let text = text.trim_end_matches(['\n', '\r']);
                    if text.is_empty() {
                        continue;
                    }
                    // Adjacent segments with the same emphasis read as one.
                    match segments.last_mut() {
                        Some((last, joined)) if *last == emphasised => joined.push_str(text),
                        _ => segments.push((emphasised, text.to_string())),
                    }
                }
                // A line that is emphasised as a whole gains nothing from the emphasis.
                if segments.len() == 1 && tag != Tag::Same {
                    segments[0].0 = false;
                }
                lines.push(Line { tag, segments });
            }
        }
        hunks.push(Hunk { header, lines });
    }
    hunks
}

fn range(start: usize, len: usize) -> String {
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

/// The hunks as plain text: `-`/`+`/` ` line prefixes, with changed words marked git-style
/// (`[-old-]`, `{+new+}`) so the emphasis survives without colour.
pub fn plain(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for hunk in hunks {
        out.push_str(&hunk.header);
        out.push('\n');
        for line in &hunk.lines {
            out.push_str(&plain_line(line));
            out.push('\n');
        }
    }
    out
}

/// One line with its prefix and git-style word marks.
pub fn plain_line(line: &Line) -> String {
    let (prefix, open, close) = match line.tag {
        Tag::Same => (' ', "", ""),
        Tag::Removed => ('-', "[-", "-]"),
        Tag::Added => ('+', "{+", "+}"),
    };
    let mut out = String::new();
    out.push(prefix);
    out.push(' ');
    for (emphasised, text) in &line.segments {
        if *emphasised {
            out.push_str(open);
            out.push_str(text);
            out.push_str(close);
        } else {
            out.push_str(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(1)
    }

    #[test]
    fn one_changed_word_is_emphasised() {
        let hunks = hunks(
            "I can help you with that.",
            "I can assist you with that.",
            soon(),
        );
        assert_eq!(
            plain(&hunks),
            "@@ -1 +1 @@\n- I can [-help-] you with that.\n+ I can {+assist+} you with that.\n"
        );
    }

    #[test]
    fn context_is_limited_and_headers_count_lines() {
        let before: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let after = before.replace("line 10\n", "line ten\n");
        let text = plain(&hunks(&before, &after, soon()));
        assert!(text.starts_with("@@ -7,7 +7,7 @@\n  line 7\n"), "{text}");
        assert!(text.contains("- line [-10-]\n+ line {+ten+}\n"), "{text}");
        assert!(!text.contains("line 3\n"), "{text}");
    }

    #[test]
    fn rules_decide_sameness() {
        let d = soon();
        assert_eq!(same_under(TextRule::Exact, "a  b", "a b", d), (false, None));
        assert!(same_under(TextRule::Whitespace, " a  b\n", "a b", d).0);
        let (same, ratio) = same_under(
            TextRule::Similarity(0.8),
            "the cat sat on the mat today",
            "the cat sat on the mat tonight",
            d,
        );
        assert!(same, "{ratio:?}");
        assert!(!same_under(TextRule::Similarity(0.99), "a b c", "x y z", d).0);
    }

    #[test]
    fn an_expired_deadline_still_gives_a_correct_diff() {
        let before: String = (0..3000).map(|i| format!("w{} ", i * 7 % 1000)).collect();
        let after: String = (0..3000).map(|i| format!("w{} ", i * 13 % 1000)).collect();
        let hunks = hunks(&before, &after, Instant::now());
        let removed: String = hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.tag == Tag::Removed)
            .flat_map(|l| l.segments.iter().map(|(_, t)| t.as_str()))
            .collect();
        assert_eq!(removed, before.trim_end_matches('\n'));
    }
}
