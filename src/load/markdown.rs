//! The run as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` and pull-request comments
//! (`--format markdown`, `--summary-markdown FILE`): the verdict and the key figures always,
//! then the thresholds, the baseline comparison, the checks, the errors and the history's trend
//! (sparklines) while they fit the byte budget, cut politely with [`Budgeted`] as `diff`'s
//! Markdown is. User text (scenario, check and file names, errors) goes in inline code with
//! pipes escaped. A pure function of the report and the history; no I/O.

use std::fmt::Write as _;

use super::history::{sparkline, TREND_METRICS};
use super::metrics::{Aggregate, Aggregation, Metric};
use super::report::Report;
use super::summary::{mark, percent, unit_text, value_text, verdict};
use super::units::{duration_text, ms_text, number_text};
use crate::markup::{code, table_code, Budgeted};
use crate::store::load_runs::LoadRun;

/// Room kept for the closing note.
const NOTE_ROOM: usize = 300;

/// The Markdown summary, at most `budget` bytes. `history` is this scenario's recorded runs,
/// this one last, oldest first.
pub fn markdown(report: &Report, history: &[LoadRun], budget: usize) -> String {
    let mut out = Budgeted::new(budget, NOTE_ROOM);
    let verdict_word = if report.interrupted {
        "interrupted"
    } else if report.passed() {
        "passed ✓"
    } else {
        "failed ✗"
    };
    let mut head = format!(
        "## traceforge load {}: {verdict_word}\n\n",
        code(&report.scenario_file)
    );
    let max_vus: u64 = report.scenarios.iter().map(|s| s.max_vus).sum();
    let _ = writeln!(
        head,
        "{} scenario(s), up to {max_vus} VUs, ran {}\n",
        report.scenarios.len(),
        duration_text(report.elapsed)
    );
    let stat =
        |metric: Metric, a: Aggregation| report.series.get(metric).statistic(a, report.elapsed);
    let ms = |metric, a| stat(metric, a).map_or_else(|| "-".to_string(), ms_text);
    let failed = match report.series.get(Metric::HttpReqFailed) {
        Aggregate::Rate { passes, total } => percent(*passes, *total),
        _ => "-".into(),
    };
    head.push_str(
        "| requests | req/s | failed | p50 | p90 | p95 | p99 | TTFT p50 | TTFT p95 |\n\
         | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n",
    );
    let _ = writeln!(
        head,
        "| {} | {} | {failed} | {} | {} | {} | {} | {} | {} |\n",
        number_text(
            stat(Metric::HttpReqs, Aggregation::Count).unwrap_or(0.0),
            Some(0)
        ),
        number_text(
            stat(Metric::HttpReqs, Aggregation::Rate).unwrap_or(0.0),
            Some(2)
        ),
        ms(Metric::HttpReqDuration, Aggregation::Med),
        ms(Metric::HttpReqDuration, Aggregation::Percentile(90.0)),
        ms(Metric::HttpReqDuration, Aggregation::Percentile(95.0)),
        ms(Metric::HttpReqDuration, Aggregation::Percentile(99.0)),
        ms(Metric::LlmTtft, Aggregation::Med),
        ms(Metric::LlmTtft, Aggregation::Percentile(95.0)),
    );
    if let Some(reason) = &report.aborted {
        let _ = writeln!(head, "✗ aborted: {}\n", code(reason));
    }
    out.push_always(&head);

    if !report.thresholds.is_empty() {
        let failed = report.thresholds_failed();
        let title = if failed == 0 {
            format!(
                "### Thresholds: all {} passed\n\n| | metric | threshold | observed |\n| :-: | :-- | :-- | :-- |\n",
                report.thresholds.len()
            )
        } else {
            format!(
                "### Thresholds: {failed} of {} failed\n\n| | metric | threshold | observed |\n| :-: | :-- | :-- | :-- |\n",
                report.thresholds.len()
            )
        };
        let rows = report.thresholds.iter().map(|t| {
            let observed = match t.observed {
                Some(v) => format!(
                    "{}={}",
                    t.aggregation.label(),
                    value_text(t.selector.metric, t.aggregation, v)
                ),
                None => "no samples".into(),
            };
            format!(
                "| {} | {} | {} | {} |\n",
                mark(t.ok),
                table_code(&t.selector.to_string()),
                table_code(&t.source),
                observed
            )
        });
        // Failed thresholds first: they are what a reviewer needs when space runs out.
        let mut rows: Vec<(bool, String)> =
            report.thresholds.iter().map(|t| t.ok).zip(rows).collect();
        rows.sort_by_key(|(ok, _)| *ok);
        table(&mut out, &title, rows.into_iter().map(|(_, r)| r));
    }

    if let Some(comparison) = &report.baseline {
        let title = format!(
            "### Baseline\n\n{}\n\n| | metric | stat | baseline | now | change |\n| :-: | :-- | :-- | --: | --: | --: |\n",
            verdict(comparison).replace('|', "\\|")
        );
        let rows = comparison.rows.iter().map(|r| {
            format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                mark(!r.regressed),
                table_code(&r.metric),
                r.stat,
                unit_text(r.unit, r.baseline),
                unit_text(r.unit, r.current),
                r.change()
                    .map_or_else(|| "-".into(), |c| format!("{:+.1}%", c * 100.0))
            )
        });
        table(&mut out, &title, rows);
    }

    if !report.checks.is_empty() {
        let multi = report.scenarios.len() > 1;
        let title = "### Checks\n\n| | check | passed | ✓ | ✗ |\n| :-: | :-- | --: | --: | --: |\n";
        let rows = report
            .checks
            .iter()
            .enumerate()
            .map(|(id, (scenario, check))| {
                let (passes, fails) = report.series.checks.get(id).copied().unwrap_or((0, 0));
                let name = if multi {
                    format!("{check} ({scenario})")
                } else {
                    check.clone()
                };
                format!(
                    "| {} | {} | {} | {passes} | {fails} |\n",
                    mark(fails == 0 && passes > 0),
                    table_code(&name),
                    percent(passes, passes + fails)
                )
            });
        table(&mut out, title, rows);
    }

    if !report.series.errors.is_empty() {
        let title = "### Errors\n\n| count | error |\n| --: | :-- |\n";
        let rows = report
            .series
            .errors
            .iter()
            .map(|(message, n)| format!("| {n} | {} |\n", table_code(message)));
        table(&mut out, title, rows);
    }

    if history.len() >= 2 {
        let title = format!(
            "### History: the last {} runs\n\n| metric | trend | first | last | change |\n| :-- | :-- | --: | --: | --: |\n",
            history.len()
        );
        let rows = TREND_METRICS.iter().filter_map(|metric| {
            let values: Vec<Option<f64>> = history.iter().map(|r| (metric.value)(r)).collect();
            let present: Vec<f64> = values.iter().flatten().copied().collect();
            let (first, last) = (present.first()?, present.last()?);
            Some(format!(
                "| {} | {} | {} | {} | {} |\n",
                metric.label,
                sparkline(&values),
                metric.unit.text(*first),
                metric.unit.text(*last),
                if *first != 0.0 {
                    format!("{:+.1}%", (last - first) / first * 100.0)
                } else {
                    "-".into()
                }
            ))
        });
        table(&mut out, &title, rows);
    }

    let file = report.scenario_file.clone();
    out.finish(move |left_out| {
        format!(
            ": {left_out} table(s) or row(s) are not shown.\n> Run `traceforge load {file} \
             --report FILE.html` to see everything.\n"
        )
    })
}

/// A table: its title and header, then rows while they fit; a table none of whose rows fit
/// is left out whole.
fn table(out: &mut Budgeted, title: &str, rows: impl Iterator<Item = String>) {
    let mut rows = rows.peekable();
    let Some(first) = rows.peek() else {
        return;
    };
    if !out.fits(title.len() + first.len(), 1) {
        out.push(title, 0);
        return;
    }
    out.push_always(title);
    for row in rows {
        out.push(&row, 1);
    }
    out.push_always("\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_budget_keeps_the_head_and_says_what_was_cut() {
        let report = crate::load::summary::tests::report();
        let full = markdown(&report, &[], 60_000);
        assert!(!full.contains("[!NOTE]"), "{full}");
        assert!(full.contains("### Thresholds"), "{full}");
        let cut = markdown(&report, &[], 800);
        assert!(cut.len() <= 800, "{}", cut.len());
        assert!(cut.contains("| requests | req/s |"), "{cut}");
        assert!(cut.contains("This report was cut"), "{cut}");
        assert!(cut.contains("--report FILE.html"), "{cut}");
    }

    #[test]
    fn the_summary_with_history_reads_well() {
        let report = crate::load::summary::tests::report();
        let run = |at: &str, p95: f64| LoadRun {
            started_at: at.into(),
            p95_ms: Some(p95),
            ..crate::load::history::summary_of(&report, "chat.yaml", None, String::new())
        };
        let history = [
            run("2026-11-28T10:00:00Z", 90.0),
            run("2026-11-29T10:00:00Z", 120.0),
            run("2026-11-30T10:00:00Z", 95.0),
        ];
        insta::assert_snapshot!(markdown(&report, &history, 60_000));
    }
}
