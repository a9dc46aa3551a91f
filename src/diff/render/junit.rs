//! The `junit` format: one test case per interaction, for CI test reporters.

use std::fmt::Write as _;

use super::text::entry_text;
use super::*;
use crate::diff::compare::{Change, Outcome, Report};

/// The report as JUnit XML: one test suite per cassette, one test case per interaction; a
/// change, a missing and a new interaction are failures whose text is the plain text report.
pub fn junit(report: &Report) -> String {
    let totals = report.totals();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"traceforge diff\" tests=\"{}\" failures=\"{}\">",
        totals.interactions(),
        totals.interactions() - totals.same
    );
    let plain = TextStyle::default();
    for cassette in &report.cassettes {
        let t = cassette.totals();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
            xml(&cassette.name),
            t.interactions(),
            t.interactions() - t.same
        );
        for entry in &cassette.entries {
            let mut name = format!("{} {}", entry.ids(), entry.request);
            if matches!(entry.outcome, Outcome::Missing | Outcome::New) {
                let _ = write!(name, " ({})", entry.outcome.name());
            }
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&cassette.name),
                xml(&name)
            );
            if !worth_showing(entry) {
                let _ = writeln!(out, "{open}/>");
                continue;
            }
            let _ = writeln!(out, "{open}>");
            let details = entry_text(&cassette.name, entry, plain);
            if entry.outcome == Outcome::Same {
                let _ = writeln!(out, "      <system-out>{}</system-out>", xml_text(&details));
            } else {
                let message = match entry.outcome {
                    Outcome::Missing => "missing from the candidate".to_string(),
                    Outcome::New => "new in the candidate".to_string(),
                    _ => format!(
                        "behaviour changed: {}",
                        entry
                            .changes
                            .iter()
                            .map(Change::title)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    entry.outcome.name(),
                    xml(&message),
                    xml_text(&details)
                );
            }
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// markdown
