//! The example cassettes in `cassettes/` (shown by the README) are what the project records
//! today: recording their calls again against the mock LLM behaves the same (`traceforge diff`
//! finds no change), they pass `vcr verify`, and they replay offline. Re-record them with
//! `cassettes/record.sh` when the mock's answers change on purpose.

use std::path::Path;

use crate::common::*;
use traceforge::mock::MockConfig;

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cassettes")
}

fn tf(args: &[&str]) -> std::process::Output {
    traceforge_command().args(args).output().unwrap()
}

#[test]
fn the_example_cassettes_are_what_the_project_records_today() {
    let examples = examples();
    let calls = examples.join("calls.py");
    let examples = examples.to_str().unwrap();
    let verified = tf(&["vcr", "verify", "--cassettes", examples]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    let work = tempfile::tempdir().unwrap();
    let fresh = work.path().join("fresh");
    let fresh = fresh.to_str().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let recorded = tf(&[
        "vcr",
        "record",
        "--mode",
        "all",
        "--no-traces",
        "--cassettes",
        fresh,
        "--upstream",
        &format!("openai={mock_url}"),
        "--upstream",
        &format!("anthropic={mock_url}"),
        "--",
        "python3",
        calls.to_str().unwrap(),
    ]);
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    rt.block_on(mock.stop());
    let diff = tf(&["diff", examples, fresh]);
    assert!(
        diff.status.success(),
        "the example cassettes no longer match what the project records; \
         re-record them with cassettes/record.sh if that is intended:\n{}",
        String::from_utf8_lossy(&diff.stdout)
    );

    // Offline: no upstream at all.
    let replayed = tf(&[
        "vcr",
        "replay",
        "--no-traces",
        "--cassettes",
        examples,
        "--",
        "python3",
        calls.to_str().unwrap(),
    ]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
}
