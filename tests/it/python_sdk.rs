//! The official `openai` and `anthropic` Python SDKs, unchanged, as real clients: recorded
//! through `vcr record -- python3 …` against the mock LLM, then replayed with the mock stopped
//! and compared call by call (tests/sdk/clients.py).
//!
//! Needs `pip install openai anthropic`. Without them the test says so and passes, unless
//! `TRACEFORGE_REQUIRE_SDKS` is set (as `.ci/run` does), when their absence fails it.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use traceforge::mock::MockConfig;

fn sdks_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import openai, anthropic"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn official_python_sdks_record_and_replay_unchanged() {
    if !sdks_installed() {
        assert!(
            std::env::var_os("TRACEFORGE_REQUIRE_SDKS").is_none(),
            "TRACEFORGE_REQUIRE_SDKS is set but `python3 -c 'import openai, anthropic'` fails"
        );
        eprintln!("SKIPPED: python SDKs not installed (pip install openai anthropic)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/sdk/clients.py");
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results.json");
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);

    let record = traceforge_command()
        .current_dir(work.path())
        .env("OPENAI_API_KEY", "sk-test-recording-key-0123456789")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-recording-key-0123456789")
        .args(["vcr", "record", "--cassettes", "c", "--cassette", "sdk"])
        .args([
            "--upstream",
            &format!("openai={mock_url}"),
            "--upstream",
            &format!("anthropic={mock_url}"),
        ])
        .arg("--")
        .args([
            "python3",
            script.to_str().unwrap(),
            "record",
            results.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&record.stderr);
    assert!(record.status.success(), "record failed: {stderr}");
    assert!(stderr.contains("7 recorded"), "{stderr}");
    rt.block_on(mock.stop());

    let cassette = std::fs::read_to_string(work.path().join("c/sdk.yaml")).unwrap();
    assert!(
        !cassette.contains("recording-key"),
        "API keys never reach the cassette"
    );

    let replay = traceforge_command()
        .current_dir(work.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .args([
            "vcr",
            "replay",
            "--cassettes",
            "c",
            "--cassette",
            "sdk",
            "--",
        ])
        .args([
            "python3",
            script.to_str().unwrap(),
            "replay",
            results.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&replay.stderr);
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "replay failed: {stdout}{stderr}");
    assert!(
        stdout.contains("7 SDK calls replayed identically"),
        "{stdout}"
    );
    assert!(stderr.contains("7 replayed, 0 missed"), "{stderr}");
}
