use super::text::{entry_text, NO_REVERSE, REVERSE};
use super::*;
use crate::diff::compare::{CassetteReport, PairedBy, Report};
use crate::diff::text as words;
use crate::markup::{code, fenced};
use crate::markup::{xml, xml_text};
use std::path::PathBuf;

fn entry(outcome: Outcome, text_before: &str, text_after: &str) -> Entry {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    Entry {
        outcome,
        baseline_id: Some(1),
        candidate_id: Some(1),
        request: "POST openai /v1/chat/completions".into(),
        paired_by: Some(PairedBy::Request),
        request_changes: Vec::new(),
        changes: vec![Change::Text {
            before: text_before.into(),
            after: text_after.into(),
            similarity: None,
            hunks: words::hunks(text_before, text_after, deadline),
        }],
        within: Vec::new(),
        preview: None,
    }
}

fn report(entries: Vec<Entry>) -> Report {
    Report {
        baseline: PathBuf::from("a"),
        candidate: PathBuf::from("b"),
        cassettes: vec![CassetteReport {
            name: "c".into(),
            baseline: Some(PathBuf::from("a/c.yaml")),
            candidate: Some(PathBuf::from("b/c.yaml")),
            entries,
        }],
    }
}

#[test]
fn markdown_stays_within_its_budget_and_says_so() {
    let big = "word ".repeat(3000);
    let entries = (0..40)
        .map(|i| entry(Outcome::Changed, &big, &format!("{big} {i}")))
        .collect();
    let text = markdown(&report(entries), 3_000);
    assert!(text.len() <= 3_000, "{}", text.len());
    assert!(text.contains("are shown without details"), "{text}");
    assert!(text.contains("more interaction(s) are not shown"), "{text}");
    assert!(text.contains("Run `traceforge diff a b`"));
    // Every fence that opens also closes.
    assert_eq!(
        text.matches("```diff").count() * 2,
        text.matches("```").count()
    );
}

#[test]
fn markdown_code_survives_backticks() {
    assert_eq!(code("a`b"), "`` a`b ``");
    assert_eq!(fenced("diff", "x ``` y"), "````diff\nx ``` y\n````\n\n");
}

#[test]
fn xml_is_escaped() {
    assert_eq!(xml("<a & \"b\">\u{1}"), "&lt;a &amp; &quot;b&quot;&gt;");
    assert_eq!(xml_text("it's \"b\" <"), "it's \"b\" &lt;");
}

#[test]
fn colour_replaces_the_word_marks() {
    let e = entry(
        Outcome::Changed,
        "I can help you with that.",
        "I can assist you with that.",
    );
    let coloured = entry_text(
        "c",
        &e,
        TextStyle {
            color: true,
            boxed: false,
        },
    );
    assert!(
        coloured.contains(&format!("{REVERSE}help{NO_REVERSE}")),
        "{coloured:?}"
    );
    assert!(!coloured.contains("[-"));
    let plain = entry_text("c", &e, TextStyle::default());
    assert!(plain.contains("- I can [-help-] you"), "{plain}");
}
