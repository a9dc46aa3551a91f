//! Sensitive data end to end (issue 11's proof): personal data and secrets recorded through the
//! real binary never reach the cassettes, the trace database's bytes or `traces export`; replay
//! matches requests that carry the real values; pseudonymised values are consistent across
//! processes and come back only with the key; `pii.upstream: pseudonymize` sends the provider
//! surrogates and gives the client its originals, streams included; `vcr verify` names every
//! secret family it finds; bad `pii:` input is one clear error.
//!
//! The SDK tests need `pip install openai anthropic`; without them they say so and pass, unless
//! `TRACEFORGE_REQUIRE_SDKS` is set, when their absence fails them (as in `python_sdk.rs`).
//! Chunk-boundary invariance is a property test of the redactor (src/cassette/redact/tests.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use serde_json::{json, Value};
use traceforge::mock::MockConfig;

/// Personal data that validates (Luhn, IBAN mod-97, no documentation range), first in its
/// prompt so the mock, which quotes the first eight words, echoes it.
const EMAIL: &str = "zorblax.quintana@northwind-mail.com";
const CARD: &str = "4294 1996 8255 0949";
const IBAN: &str = "DE44500105175407324931";
const PHONE: &str = "+44 7911 384562";

/// A 64-hex-digit PII key (what `traceforge pii keygen` prints).
const KEY: &str = "3f1c9a7e5b2d4f6081a3c5e7092b4d6f8a1c3e5f7092b4d6f8a1c3e5f7092b4d";

fn prompts() -> Vec<String> {
    vec![
        format!("Email {EMAIL} card {CARD} please"),
        format!("IBAN {IBAN} phone {PHONE} ok"),
    ]
}

/// Every form in which a value could leak, including the tokens a full-text index would keep.
fn pii_needles() -> Vec<String> {
    // A long value streamed a few characters per event would leak as pieces.
    let pieces = [EMAIL, IBAN].into_iter().flat_map(|value| {
        let chars: Vec<char> = value.chars().collect();
        chars
            .windows(8)
            .map(|w| w.iter().collect::<String>())
            .collect::<Vec<_>>()
    });
    pieces
        .chain([
            EMAIL.into(),
            "zorblax".into(),
            CARD.into(),
            CARD.replace(' ', ""),
            "8255 0949".into(),
            IBAN.into(),
            "5407324931".into(),
            PHONE.into(),
            "384562".into(),
        ])
        .collect()
}

fn sdks_installed() -> bool {
    let installed = Command::new("python3")
        .args(["-c", "import openai, anthropic"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var_os("TRACEFORGE_REQUIRE_SDKS").is_none(),
            "TRACEFORGE_REQUIRE_SDKS is set but `python3 -c 'import openai, anthropic'` fails"
        );
        eprintln!("SKIPPED: python SDKs not installed (pip install openai anthropic)");
    }
    installed
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/sdk/pii_clients.py")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `traceforge ARGS -- python3 pii_clients.py RESULTS` in `cwd`, sending `prompts`; returns the
/// command's output and, when the script finished, the answers it saw by call name.
fn run_sdk(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    prompts: &[String],
    results: &Path,
) -> (Output, Option<BTreeMap<String, String>>) {
    let _ = std::fs::remove_file(results);
    let output = traceforge_command()
        .current_dir(cwd)
        .env("OPENAI_API_KEY", "sk-test-recording-key-0123456789")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-recording-key-0123456789")
        .env("PII_PROMPTS", serde_json::to_string(prompts).unwrap())
        .envs(env.iter().copied())
        .args(args)
        .arg("--")
        .args([
            "python3",
            script().to_str().unwrap(),
            results.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let answers = std::fs::read(results)
        .ok()
        .map(|bytes| serde_json::from_slice(&bytes).unwrap());
    (output, answers)
}

fn upstream_args(url: &str) -> Vec<String> {
    vec![
        "--upstream".into(),
        format!("openai={url}"),
        "--upstream".into(),
        format!("anthropic={url}"),
    ]
}

/// `traces export` run in `dir` with the extra `args` and `env`: its stdout, once it succeeded.
fn traces_export(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let export = traceforge_command()
        .current_dir(dir)
        .envs(env.iter().copied())
        .args(["traces", "export"])
        .args(args)
        .output()
        .unwrap();
    assert!(export.status.success(), "{}", text(&export.stderr));
    export.stdout
}

/// Every file under `dir` (recursively) with its bytes: cassettes, journals, the vault, the
/// database with its `-wal` and `-shm` files.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Fails naming every (file, value) where a value leaked.
fn assert_absent(files: &[(PathBuf, Vec<u8>)], needles: &[String]) {
    let leaks: Vec<String> = files
        .iter()
        .flat_map(|(path, bytes)| {
            needles
                .iter()
                .filter(|needle| contains(bytes, needle))
                .map(move |needle| format!("{} holds {needle:?}", path.display()))
        })
        .collect();
    assert!(leaks.is_empty(), "leaked:\n{}", leaks.join("\n"));
}

fn names(files: &[(PathBuf, Vec<u8>)]) -> Vec<String> {
    files.iter().map(|(p, _)| p.display().to_string()).collect()
}

/// `(surrogate, detector)` of every line of the vault in `dir`.
fn vault_entries(dir: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(dir.join("pii.vault")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            assert_eq!(fields.len(), 4, "vault line {l:?}");
            (fields[0].to_string(), fields[1].to_string())
        })
        .collect()
}

#[test]
fn sdk_prompts_with_pii_are_masked_everywhere_and_replay_with_the_real_values() {
    if !sdks_installed() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let recorded_path = results.path().join("recorded.json");
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--cassette", "pii"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let (record, recorded) = run_sdk(work.path(), &args, &[], &prompts(), &recorded_path);
    assert!(record.status.success(), "record: {}", text(&record.stderr));
    assert!(
        text(&record.stderr).contains("8 recorded"),
        "{}",
        text(&record.stderr)
    );
    rt.block_on(mock.stop());

    // By default the real request goes upstream: the client saw its own values echoed.
    let recorded = recorded.unwrap();
    assert!(recorded["openai_stream_0"].contains(EMAIL), "{recorded:?}");
    assert!(
        recorded["anthropic_stream_0"].contains(CARD),
        "{recorded:?}"
    );
    assert!(recorded["openai_chat_1"].contains(IBAN), "{recorded:?}");

    let files = files_under(work.path());
    let all = names(&files);
    assert!(all.iter().any(|n| n.ends_with("c/pii.yaml")), "{all:?}");
    // A clean stop checkpoints the WAL into the database file (the secrets test below reads
    // the `-wal` file of a running proxy).
    let db = files
        .iter()
        .find(|(n, _)| n.ends_with("traces.db"))
        .unwrap_or_else(|| panic!("no traces.db in {all:?}"));
    assert!(
        contains(&db.1, "<EMAIL>"),
        "the prompts are in the database"
    );
    assert_absent(&files, &pii_needles());
    let cassette = std::fs::read_to_string(work.path().join("c/pii.yaml")).unwrap();
    for placeholder in ["<EMAIL>", "<CREDIT_CARD>", "<IBAN>", "<PHONE>"] {
        assert!(
            cassette.contains(placeholder),
            "{placeholder} in\n{cassette}"
        );
    }

    let verify = traceforge_command()
        .current_dir(work.path())
        .args(["vcr", "verify", "--cassettes", "c"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    let export = traces_export(work.path(), &[], &[]);
    assert!(text(&export).contains("<EMAIL>"));
    assert_absent(&[(PathBuf::from("traces export"), export)], &pii_needles());

    // Replay, mock stopped, the same prompts with the real values: every call matches.
    let replayed_path = results.path().join("replayed.json");
    let (replay, replayed) = run_sdk(
        work.path(),
        &["vcr", "replay", "--cassettes", "c", "--cassette", "pii"],
        &[],
        &prompts(),
        &replayed_path,
    );
    let stderr = text(&replay.stderr);
    assert!(replay.status.success(), "replay: {stderr}");
    assert!(stderr.contains("8 replayed, 0 missed"), "{stderr}");
    // `mask` keeps no originals: the client gets the placeholders back.
    let replayed = replayed.unwrap();
    assert_eq!(replayed.len(), 8);
    assert!(
        replayed["openai_stream_0"].contains("<EMAIL>"),
        "{replayed:?}"
    );
    assert!(
        !replayed.values().any(|t| t.contains(EMAIL)),
        "{replayed:?}"
    );
}

#[test]
fn pseudonyms_are_consistent_across_processes_and_revealed_only_with_the_key() {
    if !sdks_installed() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n",
    )
    .unwrap();
    let results = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let upstreams = upstream_args(&mock_url);
    let keyed = [("TRACEFORGE_PII_KEY", KEY)];
    let mut recorded = Vec::new();
    for (dir, name) in [("c1", "first"), ("c2", "second")] {
        let mut args = vec!["vcr", "record", "--cassettes", dir, "--cassette", name];
        args.extend(upstreams.iter().map(String::as_str));
        let path = results.path().join(format!("{name}.json"));
        let (record, answers) = run_sdk(work.path(), &args, &keyed, &prompts(), &path);
        assert!(record.status.success(), "record: {}", text(&record.stderr));
        recorded.push(answers.unwrap());
    }
    rt.block_on(mock.stop());
    assert!(recorded[0]["openai_chat_0"].contains(EMAIL), "{recorded:?}");

    // Two processes, two cassettes, one key: the same surrogates.
    let first = vault_entries(&work.path().join("c1"));
    let second = vault_entries(&work.path().join("c2"));
    assert_eq!(first, second);
    let detectors: BTreeSet<&str> = first.iter().map(|(_, d)| d.as_str()).collect();
    for detector in ["email", "credit_card", "iban", "phone"] {
        assert!(detectors.contains(detector), "{detector} in {first:?}");
    }
    for (dir, name) in [("c1", "first"), ("c2", "second")] {
        let cassette =
            std::fs::read_to_string(work.path().join(dir).join(format!("{name}.yaml"))).unwrap();
        for (surrogate, _) in &first {
            assert!(
                cassette.contains(surrogate.as_str()),
                "{surrogate} in {name}"
            );
        }
    }
    // Nothing but ciphertext of the originals anywhere, the vault included.
    assert_absent(&files_under(work.path()), &pii_needles());
    // A surrogate never validates as PII: scanning the cassettes finds nothing. And the
    // database's export holds surrogates even when the key is at hand.
    for dir in ["c1", "c2"] {
        let verify = traceforge_command()
            .current_dir(work.path())
            .args(["vcr", "verify", "--cassettes", dir])
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}{}",
            text(&verify.stdout),
            text(&verify.stderr)
        );
    }
    let export = traces_export(work.path(), &[], &[("TRACEFORGE_PII_KEY", KEY)]);
    assert!(text(&export).contains(&first.iter().next().unwrap().0));
    assert_absent(&[(PathBuf::from("traces export"), export)], &pii_needles());

    // With the key, replay serves what the client saw while recording.
    let path = results.path().join("replayed.json");
    let replay_args = ["vcr", "replay", "--cassettes", "c1", "--cassette", "first"];
    let (replay, replayed) = run_sdk(work.path(), &replay_args, &keyed, &prompts(), &path);
    let stderr = text(&replay.stderr);
    assert!(replay.status.success(), "replay: {stderr}");
    assert!(stderr.contains("8 replayed, 0 missed"), "{stderr}");
    assert_eq!(replayed.unwrap(), recorded[0]);
    // What the client is served is not what is stored: the replay's trace rows (written by
    // this new process at each interaction's first replay) hold surrogates, like the cassette.
    assert_absent(&files_under(work.path()), &pii_needles());
    assert_absent(
        &[(
            PathBuf::from("traces export after replay"),
            traces_export(work.path(), &[], &[]),
        )],
        &pii_needles(),
    );

    // Without it, a request holding PII cannot match, and the miss says why.
    let (replay, _) = run_sdk(work.path(), &replay_args, &[], &prompts(), &path);
    let stderr = text(&replay.stderr);
    assert!(!replay.status.success(), "{stderr}");
    assert!(stderr.contains("replay miss"), "{stderr}");
    assert!(
        stderr.contains("pii.mode is pseudonymize and no key was given"),
        "{stderr}"
    );
}

#[test]
fn upstream_pseudonymize_sends_surrogates_and_restores_streamed_answers() {
    if !sdks_installed() {
        return;
    }
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    // What the provider receives: a second recording proxy in front of the mock, PII off.
    let inner = tempfile::tempdir().unwrap();
    std::fs::write(inner.path().join("traceforge.yaml"), "pii:\n  mode: off\n").unwrap();
    let mut inner_args = vec!["vcr", "record", "--cassettes", "seen", "--no-traces"];
    let upstreams = upstream_args(&mock_url);
    inner_args.extend(upstreams.iter().map(String::as_str));
    let provider = ProxyProcess::start(inner.path(), &inner_args);

    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n  upstream: pseudonymize\n",
    )
    .unwrap();
    let results = tempfile::tempdir().unwrap();
    let path = results.path().join("answers.json");
    let outer_args: Vec<String> = [
        "vcr",
        "record",
        "--cassettes",
        "c",
        "--cassette",
        "up",
        "--upstream",
        &format!("openai={}", provider.url("/openai")),
        "--upstream",
        &format!("anthropic={}", provider.url("/anthropic")),
    ]
    .map(String::from)
    .to_vec();
    let outer_args: Vec<&str> = outer_args.iter().map(String::as_str).collect();
    let prompt = vec![prompts()[0].clone()];
    let (record, answers) = run_sdk(
        work.path(),
        &outer_args,
        &[("TRACEFORGE_PII_KEY", KEY)],
        &prompt,
        &path,
    );
    assert!(record.status.success(), "record: {}", text(&record.stderr));
    let stopped = provider.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());

    // The client, plain and streaming, gets the originals back.
    let answers = answers.unwrap();
    assert_eq!(answers.len(), 4);
    for (call, answer) in &answers {
        assert!(answer.contains(EMAIL), "{call}: {answer}");
        assert!(answer.contains(CARD), "{call}: {answer}");
    }
    // The provider saw only surrogates, and the streamed echo of them, split across events.
    let surrogates = vault_entries(&work.path().join("c"));
    let email = surrogates
        .iter()
        .find(|(_, d)| d == "email")
        .map(|(s, _)| s.clone())
        .unwrap();
    let seen = files_under(&inner.path().join("seen"));
    assert!(!seen.is_empty());
    assert_absent(&seen, &pii_needles());
    let seen_text: String = seen.iter().map(|(_, b)| text(b)).collect();
    for (surrogate, _) in &surrogates {
        assert!(
            seen_text.contains(surrogate.as_str()),
            "{surrogate} sent upstream"
        );
    }
    assert!(email.len() > 16, "the mock splits {email} across events");
    assert_absent(&files_under(work.path()), &pii_needles());
}

/// A fake credential of one family, made at run time from pieces so that no secret scanner
/// flags this file, with the random part that must never appear anywhere.
struct Fake {
    family: &'static str,
    /// The detector `vcr verify` names.
    detector: &'static str,
    value: String,
    random: String,
}

/// Deterministic characters from `alphabet` (a small LCG: distinct per seed, never real keys).
fn noise(seed: u64, len: usize, alphabet: &str) -> String {
    let alphabet: Vec<char> = alphabet.chars().collect();
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            alphabet[(state >> 33) as usize % alphabet.len()]
        })
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn fakes() -> Vec<Fake> {
    let fake = |family, detector, prefix: String, random: String, suffix: &str| Fake {
        family,
        detector,
        value: format!("{prefix}{random}{suffix}"),
        random,
    };
    let jwt_head = ["eyJhbGciOi", "JIUzI1NiJ9"].concat();
    let jwt_body = format!("eyJ{}", noise(9, 24, ALNUM));
    let pem = |edge: &str| format!("-----{edge} {} KEY-----", ["PRIV", "ATE"].concat());
    let base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let slack = format!("{}-{}", noise(5, 12, "0123456789"), noise(55, 24, ALNUM));
    vec![
        fake(
            "openai",
            "openai-api-key",
            ["sk", "-proj-"].concat(),
            noise(1, 48, ALNUM),
            "",
        ),
        fake(
            "anthropic",
            "anthropic-api-key",
            ["sk", "-ant-", "api03-"].concat(),
            noise(2, 40, ALNUM),
            "",
        ),
        fake(
            "aws",
            "aws-access-key-id",
            ["AK", "IA"].concat(),
            noise(3, 16, base32),
            "",
        ),
        fake(
            "github",
            "github-token",
            ["gh", "p_"].concat(),
            noise(4, 36, ALNUM),
            "",
        ),
        fake("slack", "slack-token", ["xo", "xb-"].concat(), slack, ""),
        fake(
            "stripe",
            "stripe-key",
            ["sk", "_live_"].concat(),
            noise(6, 24, ALNUM),
            "",
        ),
        fake(
            "jwt",
            "jwt",
            format!("{jwt_head}.{jwt_body}."),
            noise(7, 32, ALNUM),
            "",
        ),
        fake(
            "pem",
            "private-key",
            format!("{}\n", pem("BEGIN")),
            noise(8, 64, ALNUM),
            &format!("\n{}", pem("END")),
        ),
        fake(
            "gcp",
            "gcp-api-key",
            ["AI", "za"].concat(),
            noise(10, 35, ALNUM),
            "",
        ),
    ]
}

/// The value and every 12-character piece of its random part: a key written a few characters
/// per stream event leaks as pieces, never whole.
fn secret_needles(fakes: &[Fake]) -> Vec<String> {
    let mut needles = Vec::new();
    for fake in fakes {
        needles.push(fake.value.clone());
        let chars: Vec<char> = fake.random.chars().collect();
        for window in chars.windows(12) {
            needles.push(window.iter().collect());
        }
    }
    needles
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn chat(content: &str, stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": content}]})
}

#[test]
fn secrets_in_bodies_streams_headers_and_queries_are_never_written() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--db", "t.db"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let recorder = ProxyProcess::start(work.path(), &args);
    let url = recorder.url("/openai/v1/chat/completions");
    let fakes = fakes();
    let mut needles = secret_needles(&fakes);

    rt.block_on(async {
        // Each key first in its prompt: the mock echoes it streamed, 16 characters per event.
        for fake in &fakes {
            let received = post(&url, &chat(&format!("{} is it", fake.value), true), &[]).await;
            assert_eq!(received.status, 200, "{}", fake.family);
            let events = received.events();
            assert!(events.len() > 3, "{}", fake.family);
        }
        // All of them in one gzip-compressed body.
        let all: Vec<&str> = fakes.iter().map(|f| f.value.as_str()).collect();
        let body = chat(&all.join(" and "), false).to_string();
        let received = post_raw(&url, gzip(body.as_bytes()), &[("content-encoding", "gzip")]).await;
        assert!(received.status >= 200, "{received:?}");
        // Credential headers and query parameters, whatever their values look like.
        let header_values: Vec<String> = (20..25).map(|seed| noise(seed, 24, ALNUM)).collect();
        needles.extend(header_values.iter().cloned());
        let query_url = format!("{url}?token={}&sig={}", header_values[3], header_values[4]);
        let received = post(
            &query_url,
            &chat("Headers carry the keys here", false),
            &[
                ("x-api-key", header_values[0].as_str()),
                ("x-goog-api-key", header_values[1].as_str()),
                ("x-acme-token", header_values[2].as_str()),
            ],
        )
        .await;
        assert_eq!(received.status, 200, "{received:?}");
    });
    // While the proxy runs, the database's new pages are in its write-ahead log.
    let requests = fakes.len() as i64 + 2;
    wait_for("every trace written", || {
        db_stats(&work.path().join("t.db")).is_some_and(|s| s.traces >= requests)
    });
    let running = files_under(work.path());
    let all = names(&running);
    assert!(all.iter().any(|n| n.ends_with("t.db-wal")), "{all:?}");
    assert_absent(&running, &needles);
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_absent(
        &[(PathBuf::from("stderr"), stopped.stderr.into_bytes())],
        &needles,
    );
    rt.block_on(mock.stop());

    let files = files_under(work.path());
    let all = names(&files);
    assert!(all.iter().any(|n| n.ends_with("c/default.yaml")), "{all:?}");
    assert!(all.iter().any(|n| n.ends_with("t.db")), "{all:?}");
    assert_absent(&files, &needles);
    let cassette = cassette(&work.path().join("c/default.yaml"));
    assert_eq!(cassette.interactions.len(), fakes.len() + 2);

    let exported = traces_export(work.path(), &["--db", "t.db"], &[]);
    assert_eq!(
        text(&exported).lines().count(),
        fakes.len() + 2,
        "one trace per request"
    );
    assert_absent(&[(PathBuf::from("traces export"), exported)], &needles);
}

#[test]
fn verify_names_each_secret_family_in_a_hand_written_cassette() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    std::fs::create_dir(&dir).unwrap();
    let fakes = fakes();
    let mut yaml = String::from("version: 1\ncassette: handmade\ninteractions:\n");
    for (i, fake) in fakes.iter().enumerate() {
        let content = serde_json::to_string(&format!("my key is {}", fake.value)).unwrap();
        yaml.push_str(&format!(
            "- id: {id}\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    \
             upstream: openai\n    path: /v1/chat/completions\n    body:\n      json:\n        \
             model: gpt-4o-mini\n        messages:\n        - role: user\n          content: \
             {content}\n  response:\n    status: 200\n    body:\n      json:\n        ok: true\n",
            id = i + 1
        ));
    }
    std::fs::write(dir.join("handmade.yaml"), &yaml).unwrap();
    let verify = traceforge_command()
        .current_dir(work.path())
        .args(["vcr", "verify", "--cassettes", "c"])
        .output()
        .unwrap();
    let stdout = text(&verify.stdout);
    assert_eq!(
        verify.status.code(),
        Some(1),
        "{stdout}{}",
        text(&verify.stderr)
    );
    for (i, fake) in fakes.iter().enumerate() {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("interaction {}:", i + 1)))
            .unwrap_or_else(|| panic!("{} not flagged:\n{stdout}", fake.family));
        assert!(
            line.contains(&format!(
                "unprotected {} in request.body.messages[0].content",
                fake.detector
            )),
            "{line}"
        );
    }
    assert_absent(
        &[(PathBuf::from("verify output"), verify.stdout.clone())],
        &secret_needles(&fakes),
    );
}

/// `traceforge vcr record -- true` in `cwd` with `env`: starts, or refuses to.
fn start_record(cwd: &Path, env: &[(&str, &str)]) -> Output {
    traceforge_command()
        .current_dir(cwd)
        .envs(env.iter().copied())
        .args(["vcr", "record", "--cassettes", "c", "--", "true"])
        .output()
        .unwrap()
}

fn assert_refused(output: &Output, expected: &[&str]) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{part:?} in {stderr}");
    }
}

#[test]
fn a_malformed_custom_pattern_names_the_file_and_line() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "# detectors\npii:\n  mode: mask\n  custom:\n    - {name: employee_id, pattern: 'EMP-([0-9]{6}'}\n",
    )
    .unwrap();
    let output = start_record(work.path(), &[]);
    assert_refused(&output, &["traceforge.yaml:", "employee_id"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("traceforge.yaml:4") || stderr.contains("traceforge.yaml:5"),
        "{stderr}"
    );
}

#[test]
fn a_missing_terms_file_is_named() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  custom:\n    - {name: customer, terms_file: customers.txt}\n",
    )
    .unwrap();
    let output = start_record(work.path(), &[]);
    assert_refused(&output, &["traceforge.yaml:2", "customers.txt"]);
}

#[test]
fn a_key_of_the_wrong_length_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let output = start_record(work.path(), &[("TRACEFORGE_PII_KEY", &KEY[..40])]);
    assert_refused(&output, &["TRACEFORGE_PII_KEY", "40"]);
    assert!(
        !text(&output.stderr).contains(&KEY[..40]),
        "the key is never printed"
    );
}

#[test]
fn pseudonymize_without_a_key_says_how_to_make_one() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n",
    )
    .unwrap();
    let output = start_record(work.path(), &[]);
    assert_refused(&output, &["TRACEFORGE_PII_KEY", "pii keygen"]);
    let stderr = text(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("traceforge.yaml:2:3: pii.mode: pseudonymize needs a key"),
        "placed at the key, said once: {stderr}"
    );
}

/// The no-key error above tells the user to run `traceforge pii keygen`, which does not exist
/// yet (src/sensitive/protect.rs `NoKey`; src/cli.rs has no `pii` command).
#[test]
fn pii_keygen_prints_a_key_that_pseudonymize_accepts() {
    let keygen = traceforge_command()
        .args(["pii", "keygen"])
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{}", text(&keygen.stderr));
    let printed = text(&keygen.stdout);
    assert_eq!(printed.trim().len(), 64, "{printed}");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n",
    )
    .unwrap();
    let output = start_record(work.path(), &[("TRACEFORGE_PII_KEY", printed.trim())]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn a_truncated_vault_stops_a_keyed_replay_naming_file_and_line() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n",
    )
    .unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let key = Path::new(KEY);
    let recorder = ProxyProcess::start_with_env(work.path(), &args, &[("TRACEFORGE_PII_KEY", key)]);
    let url = recorder.url("/openai/v1/chat/completions");
    let received = rt.block_on(post(&url, &chat(&prompts()[0], false), &[]));
    assert_eq!(received.status, 200);
    assert!(received.json().to_string().contains(EMAIL));
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());

    let vault = work.path().join("c/pii.vault");
    let whole = std::fs::read_to_string(&vault).unwrap();
    let lines = whole.lines().count();
    assert!(
        lines >= 3,
        "a header and at least the e-mail and the card:\n{whole}"
    );
    // Cut the last line in the middle of its sealed original.
    let cut = whole.trim_end().len() - 10;
    std::fs::write(&vault, &whole[..cut]).unwrap();

    let replay = |env: &[(&str, &str)]| {
        traceforge_command()
            .current_dir(work.path())
            .envs(env.iter().copied())
            .args(["vcr", "replay", "--cassettes", "c", "--", "true"])
            .output()
            .unwrap()
    };
    let output = replay(&[("TRACEFORGE_PII_KEY", KEY)]);
    assert_refused(&output, &[&format!("pii.vault:{lines}")]);

    // Hand-edited: one character of the second line's sealed original changed.
    let mut edited: Vec<String> = whole.lines().map(str::to_string).collect();
    let line = &mut edited[1];
    let at = line.len() - 5;
    let replacement = if &line[at..=at] == "A" { "B" } else { "A" };
    line.replace_range(at..=at, replacement);
    std::fs::write(&vault, edited.join("\n") + "\n").unwrap();
    let output = replay(&[("TRACEFORGE_PII_KEY", KEY)]);
    assert_refused(&output, &["pii.vault:2"]);
}

#[test]
fn every_dialect_streamed_and_a_replay_miss_keep_values_out() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--db", "t.db"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let recorder = ProxyProcess::start(work.path(), &args);
    let fakes = fakes();
    let mut needles = secret_needles(&fakes);
    needles.extend(pii_needles());
    let openai_key = &fakes[0].value;
    let prompt = format!("{openai_key} {EMAIL} {IBAN} {CARD}");
    let requests = [
        (
            "/anthropic/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 200, "stream": true,
                   "messages": [{"role": "user", "content": prompt}]}),
        ),
        (
            "/openai/v1/responses",
            json!({"model": "gpt-4o-mini", "stream": true, "input": prompt}),
        ),
        (
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "stream": true,
                   "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]}),
        ),
    ];
    rt.block_on(async {
        for (path, body) in &requests {
            let received = post(&recorder.url(path), body, &[]).await;
            assert_eq!(received.status, 200, "{path}");
            let echoed: String = received
                .events()
                .iter()
                .map(|e| serde_json::to_string(&e.data).unwrap())
                .collect();
            assert!(
                echoed.contains("zorblax"),
                "the client gets the real echo: {path}"
            );
        }
        // PII in a query string too.
        let url = recorder.url(&format!(
            "/openai/v1/chat/completions?user={}",
            EMAIL.replace('@', "%40")
        ));
        let received = post(&url, &chat("plain words", false), &[]).await;
        assert_eq!(received.status, 200);
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    needles.push(EMAIL.replace('@', "%40"));
    assert_absent(&files_under(work.path()), &needles);
    rt.block_on(mock.stop());

    // A miss: the report on stderr and the error body the client gets hold no value.
    let replayer = ProxyProcess::start(work.path(), &["vcr", "replay", "--cassettes", "c"]);
    let other = format!("{openai_key} {EMAIL} {IBAN} {CARD} and something new");
    let missed = rt.block_on(post(
        &replayer.url("/openai/v1/chat/completions"),
        &chat(&other, false),
        &[],
    ));
    assert_ne!(missed.status, 200);
    let stopped = replayer.stop();
    assert_absent(
        &[
            (
                PathBuf::from("miss report"),
                stopped.stderr.clone().into_bytes(),
            ),
            (
                PathBuf::from("miss body"),
                missed.json().to_string().into_bytes(),
            ),
        ],
        &needles,
    );
    assert!(stopped.stderr.contains("replay miss"), "{}", stopped.stderr);
}

/// A provider behind a recording proxy with PII off, so its cassette shows what it received.
struct Provider {
    _dir: tempfile::TempDir,
    seen: PathBuf,
    proxy: ProxyProcess,
}

fn start_provider(mock_url: &str) -> Provider {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("traceforge.yaml"), "pii:\n  mode: off\n").unwrap();
    let mut args = vec!["vcr", "record", "--cassettes", "seen", "--no-traces"];
    let upstreams = upstream_args(mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let proxy = ProxyProcess::start(dir.path(), &args);
    Provider {
        seen: dir.path().join("seen"),
        _dir: dir,
        proxy,
    }
}

fn start_pseudonymizing(work: &Path, openai: &str, anthropic: &str) -> ProxyProcess {
    std::fs::write(
        work.join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n  upstream: pseudonymize\n",
    )
    .unwrap();
    let openai = format!("openai={openai}");
    let anthropic = format!("anthropic={anthropic}");
    let args = [
        "vcr",
        "record",
        "--cassettes",
        "c",
        "--upstream",
        &openai,
        "--upstream",
        &anthropic,
    ];
    ProxyProcess::start_with_env(work, &args, &[("TRACEFORGE_PII_KEY", Path::new(KEY))])
}

#[test]
fn upstream_pseudonymize_covers_gzip_requests_and_the_responses_stream() {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let provider = start_provider(&mock_url);
    let work = tempfile::tempdir().unwrap();
    let proxy = start_pseudonymizing(
        work.path(),
        &provider.proxy.url("/openai"),
        &provider.proxy.url("/anthropic"),
    );
    let prompt = format!("{EMAIL} {CARD} {IBAN}");
    rt.block_on(async {
        let url = proxy.url("/openai/v1/responses");
        let received = post(
            &url,
            &json!({"model": "gpt-4o-mini", "stream": true, "input": prompt}),
            &[],
        )
        .await;
        assert_eq!(received.status, 200);
        let answer = traceforge::provider::assemble(&received.as_response());
        let text = format!("{answer:?}");
        assert!(text.contains(EMAIL) && text.contains(IBAN), "{text}");
        for event in received.events() {
            let data = serde_json::to_string(&event.data).unwrap();
            assert!(
                !data.contains("pii.invalid"),
                "a surrogate reached the client: {data}"
            );
        }
        let body = chat(&prompt, false).to_string();
        let url = proxy.url("/openai/v1/chat/completions");
        let received = post_raw(&url, gzip(body.as_bytes()), &[("content-encoding", "gzip")]).await;
        assert_eq!(received.status, 200, "{received:?}");
        let text = received.json().to_string();
        assert!(text.contains(EMAIL), "{text}");
    });
    proxy.stop();
    provider.proxy.stop();
    let seen = files_under(&provider.seen);
    assert!(!seen.is_empty());
    assert_absent(&seen, &pii_needles());
    rt.block_on(mock.stop());
}

#[test]
fn upstream_pseudonymize_restores_a_compressed_answer() {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let work = tempfile::tempdir().unwrap();
    let proxy = start_pseudonymizing(work.path(), &mock_url, &mock_url);
    let prompt = format!("{EMAIL} {CARD} {IBAN}");
    rt.block_on(async {
        let url = proxy.url("/openai/v1/chat/completions");
        let received = post(&url, &chat(&prompt, false), &[("x-mock-gzip", "1")]).await;
        assert_eq!(received.status, 200, "{received:?}");
        let text = received.json().to_string();
        assert!(
            text.contains(EMAIL),
            "the client gets its originals back: {text}"
        );
    });
    proxy.stop();
    rt.block_on(mock.stop());
}

/// Issue 11 item 1 and 4: query strings are scanned in what is forwarded, and with
/// `pii.upstream: pseudonymize` the provider receives surrogates.
#[test]
fn upstream_pseudonymize_sends_surrogates_in_the_query_string() {
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let provider = start_provider(&mock_url);
    let work = tempfile::tempdir().unwrap();
    let proxy = start_pseudonymizing(
        work.path(),
        &provider.proxy.url("/openai"),
        &provider.proxy.url("/anthropic"),
    );
    let encoded = EMAIL.replace('@', "%40");
    let url = proxy.url(&format!("/openai/v1/chat/completions?user={encoded}"));
    let received = rt.block_on(post(&url, &chat("no personal data here", false), &[]));
    assert_eq!(received.status, 200, "{received:?}");
    proxy.stop();
    provider.proxy.stop();
    let mut needles = pii_needles();
    needles.push(encoded);
    assert_absent(&files_under(&provider.seen), &needles);
    rt.block_on(mock.stop());
}

#[test]
fn values_in_streamed_tool_call_arguments_are_protected() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--db", "t.db"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let recorder = ProxyProcess::start(work.path(), &args);
    let fakes = fakes();
    let mut needles = secret_needles(&fakes[..1]);
    needles.extend(pii_needles());
    let prompt = format!("{} {EMAIL} {IBAN}", fakes[0].value);
    let schema =
        json!({"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]});
    let requests = [
        (
            "/openai/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "stream": true,
                   "tools": [{"type": "function", "function": {"name": "save", "parameters": schema}}],
                   "messages": [{"role": "user", "content": prompt}]}),
        ),
        (
            "/anthropic/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 200, "stream": true,
                   "tools": [{"name": "save", "input_schema": schema}],
                   "messages": [{"role": "user", "content": prompt}]}),
        ),
    ];
    rt.block_on(async {
        for (path, body) in &requests {
            let received = post(&recorder.url(path), body, &[]).await;
            assert_eq!(received.status, 200, "{path}");
            let all: String = received
                .events()
                .iter()
                .map(|e| serde_json::to_string(&e.data).unwrap())
                .collect();
            assert!(all.contains("save"), "{path} calls the tool: {all}");
            // The mock streams arguments 8 characters per event: the IBAN arrives in pieces.
            assert!(
                all.contains("DE44500"),
                "{path}: the arguments carry the IBAN: {all}"
            );
        }
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
    assert_absent(&files_under(work.path()), &needles);
}

/// Records `prompts` (non-streamed chat) through a server-mode proxy in `work` with `config`.
fn record_chat(work: &Path, config: &str, env: &[(&str, &Path)], prompts: &[String]) {
    std::fs::write(work.join("traceforge.yaml"), config).unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--no-traces"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let recorder = ProxyProcess::start_with_env(work, &args, env);
    for prompt in prompts {
        let url = recorder.url("/openai/v1/chat/completions");
        let received = rt.block_on(post(&url, &chat(prompt, false), &[]));
        assert_eq!(received.status, 200, "{received:?}");
    }
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
}

/// Replays `prompts` against the cassettes in `work` with `config`: the statuses.
fn replay_chat(
    work: &Path,
    config: &str,
    env: &[(&str, &Path)],
    prompts: &[String],
) -> (Vec<u16>, String) {
    std::fs::write(work.join("traceforge.yaml"), config).unwrap();
    let rt = runtime();
    let replayer = ProxyProcess::start_with_env(work, &["vcr", "replay", "--cassettes", "c"], env);
    let statuses = prompts
        .iter()
        .map(|prompt| {
            let url = replayer.url("/openai/v1/chat/completions");
            rt.block_on(post(&url, &chat(prompt, false), &[])).status
        })
        .collect();
    (statuses, replayer.stop().stderr)
}

#[test]
fn a_cassette_recorded_without_protection_still_replays() {
    let work = tempfile::tempdir().unwrap();
    let prompts = prompts();
    record_chat(work.path(), "pii:\n  mode: off\n", &[], &prompts);
    let (statuses, stderr) = replay_chat(work.path(), "pii:\n  mode: mask\n", &[], &prompts);
    assert_eq!(statuses, [200, 200], "{stderr}");
    let key = [("TRACEFORGE_PII_KEY", Path::new(KEY))];
    let config = "pii:\n  mode: pseudonymize\n";
    let (statuses, stderr) = replay_chat(work.path(), config, &key, &prompts);
    assert_eq!(statuses, [200, 200], "{stderr}");
}

#[test]
fn a_pseudonymised_cassette_without_the_key_replays_what_holds_no_pii() {
    let work = tempfile::tempdir().unwrap();
    let config = "pii:\n  mode: pseudonymize\n";
    let key = [("TRACEFORGE_PII_KEY", Path::new(KEY))];
    let mut prompts = prompts();
    prompts.push("Nothing personal in this one".into());
    record_chat(work.path(), config, &key, &prompts);
    let (statuses, stderr) = replay_chat(work.path(), config, &[], &prompts);
    assert_eq!(statuses[2], 200, "{stderr}");
    assert_ne!(statuses[0], 200, "{stderr}");
    assert!(stderr.contains("no key was given"), "{stderr}");
    // With the key, all of them; in mask mode (no key needed), none with PII.
    let (statuses, stderr) = replay_chat(work.path(), config, &key, &prompts);
    assert_eq!(statuses, [200, 200, 200], "{stderr}");
}

#[test]
fn custom_patterns_terms_headers_and_upstream_errors_are_protected() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("customers.txt"),
        "# customers\nBlorvic Tannheuser\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  custom:\n    - {name: employee_id, pattern: 'EMP-[0-9]{6}'}\n    - {name: customer, terms_file: customers.txt}\n  allow: {values: [help@acme-desk.com]}\n",
    )
    .unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--db", "t.db"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    args.extend(["--upstream", "gone=http://127.0.0.1:9"]);
    let recorder = ProxyProcess::start(work.path(), &args);
    let fakes = fakes();
    rt.block_on(async {
        let url = recorder.url("/openai/v1/chat/completions");
        let prompt = "EMP-314159 Blorvic Tannheuser wrote to help@acme-desk.com";
        let received = post(&url, &chat(prompt, true), &[("x-user-email", EMAIL)]).await;
        assert_eq!(received.status, 200);
        let encoded = EMAIL.replace('@', "%40");
        let url = recorder.url(&format!(
            "/gone/v1/chat/completions?token={}&user={encoded}",
            fakes[3].value
        ));
        let received = post(
            &url,
            &chat(&format!("{EMAIL} {}", fakes[0].value), false),
            &[],
        )
        .await;
        assert_eq!(received.status, 502, "{received:?}");
        let body = received.json().to_string();
        assert!(
            !body.contains("zorblax") && !body.contains(&fakes[3].value),
            "{body}"
        );
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
    let mut needles = pii_needles();
    needles.extend(secret_needles(&fakes[..4]));
    needles.extend([
        "EMP-314159".into(),
        "314159".into(),
        "Blorvic".into(),
        "Tannheuser".into(),
    ]);
    needles.push(EMAIL.replace('@', "%40"));
    let mut files = files_under(work.path());
    files.push((PathBuf::from("stderr"), stopped.stderr.into_bytes()));
    files.retain(|(path, _)| !path.ends_with("customers.txt"));
    assert_absent(&files, &needles);
    let cassette = std::fs::read_to_string(work.path().join("c/default.yaml")).unwrap();
    assert!(
        cassette.contains("help@acme-desk.com"),
        "allowed values stay"
    );
    assert!(cassette.contains("<EMPLOYEE_ID>"), "{cassette}");
}

/// A provider's 404 quotes the path it was asked for, percent-encoded: the value the proxy
/// found (and masked) in the path comes back in the response body as `name%40domain`, which
/// the e-mail detector must see too.
#[test]
fn a_value_found_in_the_path_is_not_written_back_from_an_error_body() {
    let work = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mock = rt.block_on(start_mock(MockConfig::default()));
    let mock_url = format!("http://{}", mock.addr);
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--db", "t.db"];
    let upstreams = upstream_args(&mock_url);
    args.extend(upstreams.iter().map(String::as_str));
    let recorder = ProxyProcess::start(work.path(), &args);
    let encoded = EMAIL.replace('@', "%40");
    let url = recorder.url(&format!("/openai/v1/users/{encoded}/chat/completions"));
    let received = rt.block_on(post(&url, &chat("path", false), &[]));
    assert_eq!(received.status, 404);
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    rt.block_on(mock.stop());
    let cassette = std::fs::read_to_string(work.path().join("c/default.yaml")).unwrap();
    assert!(
        cassette.contains("/v1/users/%3CEMAIL%3E/"),
        "the path is masked: {cassette}"
    );
    let mut needles = pii_needles();
    needles.push(encoded);
    assert_absent(&files_under(work.path()), &needles);
}

#[test]
fn verify_finds_keys_in_headers_queries_binary_bodies_and_split_stream_events() {
    use base64::Engine as _;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("c");
    std::fs::create_dir(&dir).unwrap();
    let fakes = fakes();
    let github = &fakes[3].value;
    let stripe = &fakes[5].value;
    let mut binary = vec![0xff, 0xfe, 0x00, b' '];
    binary.extend(format!("key {stripe} end").as_bytes());
    let binary = base64::engine::general_purpose::STANDARD.encode(&binary);
    let gzipped = base64::engine::general_purpose::STANDARD
        .encode(gzip(chat(&fakes[0].value, false).to_string().as_bytes()));
    let header_value = noise(30, 24, ALNUM);
    let query_value = noise(31, 24, ALNUM);
    // The GitHub token written a few characters per event, as a stream recorded before
    // protection held it.
    let pieces: Vec<String> = github
        .chars()
        .collect::<Vec<_>>()
        .chunks(6)
        .map(|c| c.iter().collect())
        .collect();
    let events: String = pieces
        .iter()
        .map(|piece| {
            let data = json!({"choices": [{"index": 0, "delta": {"content": piece}}]});
            format!("    - at_ms: 1\n      data:\n        json: {data}\n")
        })
        .collect();
    let yaml = format!(
        "version: 1\ncassette: shapes\ninteractions:\n\
         - id: 1\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    upstream: openai\n    path: /v1/chat/completions?token={query_value}\n    headers:\n      x-acme-token: {header_value}\n  response:\n    status: 200\n\
         - id: 2\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    upstream: openai\n    path: /v1/chat/completions\n    body:\n      base64: {binary}\n  response:\n    status: 200\n\
         - id: 3\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    upstream: openai\n    path: /v1/chat/completions\n    headers:\n      content-encoding: gzip\n    body:\n      base64: {gzipped}\n  response:\n    status: 200\n\
         - id: 4\n  recorded_at: 2026-01-01T00:00:00Z\n  request:\n    method: POST\n    upstream: openai\n    path: /v1/chat/completions\n  response:\n    status: 200\n    stream:\n{events}"
    );
    std::fs::write(dir.join("shapes.yaml"), &yaml).unwrap();
    let verify = traceforge_command()
        .current_dir(work.path())
        .args(["vcr", "verify", "--cassettes", "c"])
        .output()
        .unwrap();
    let stdout = text(&verify.stdout);
    assert_eq!(
        verify.status.code(),
        Some(1),
        "{stdout}{}",
        text(&verify.stderr)
    );
    for (id, what) in [
        (1, "request.query.token"),
        (1, "request.headers.x-acme-token"),
        (2, "request.body"),
        (3, "request.body"),
        (4, "response.stream"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!("interaction {id}:")) && l.contains(what)),
            "interaction {id}, {what}:\n{stdout}"
        );
    }
    let mut needles = secret_needles(&fakes);
    needles.extend([header_value, query_value]);
    assert_absent(&[(PathBuf::from("verify output"), verify.stdout)], &needles);
}

#[test]
fn a_wrong_key_on_replay_is_named() {
    let work = tempfile::tempdir().unwrap();
    let config = "pii:\n  mode: pseudonymize\n";
    let key = [("TRACEFORGE_PII_KEY", Path::new(KEY))];
    record_chat(work.path(), config, &key, &prompts());
    let other = "0123456789abcdef".repeat(4);
    let output = traceforge_command()
        .current_dir(work.path())
        .env("TRACEFORGE_PII_KEY", &other)
        .args(["vcr", "replay", "--cassettes", "c", "--", "true"])
        .output()
        .unwrap();
    assert_refused(&output, &["pii.vault:2", "wrong key", "TRACEFORGE_PII_KEY"]);
    let stderr = text(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        !stderr.contains(&other) && !stderr.contains(KEY),
        "{stderr}"
    );
}

/// An upstream that answers every request with `headers` and `body` (an SSE stream when the
/// content type says so): shapes the mock never sends.
async fn start_fixed_upstream(
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
) -> traceforge::server::Running {
    let listener = traceforge::server::bind("127.0.0.1:0").await.unwrap();
    let headers = std::sync::Arc::new(headers);
    let body = std::sync::Arc::new(body);
    traceforge::server::Running::spawn(listener, move |_request| {
        let headers = headers.clone();
        let body = body.clone();
        async move {
            let mut response = http::Response::builder()
                .status(200)
                .header("content-type", content_type);
            for (name, value) in headers.iter() {
                response = response.header(*name, value.as_str());
            }
            response
                .body(traceforge::server::ResponseBody::full(
                    body.as_bytes().to_vec(),
                ))
                .unwrap()
        }
    })
    .unwrap()
}

/// Records one chat request through a proxy to `upstream` and returns every file written and
/// the client's view of the answer.
fn record_from(
    upstream: &str,
    stream: bool,
) -> (tempfile::TempDir, Vec<(PathBuf, Vec<u8>)>, String) {
    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["vcr", "record", "--cassettes", "c", "--db", "t.db"];
    let upstreams = upstream_args(upstream);
    args.extend(upstreams.iter().map(String::as_str));
    let recorder = ProxyProcess::start(work.path(), &args);
    let url = recorder.url("/openai/v1/chat/completions");
    let rt = runtime();
    let received = rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(chat("hello", stream).to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let stopped = recorder.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let mut files = files_under(work.path());
    files.push((PathBuf::from("stderr"), stopped.stderr.into_bytes()));
    (work, files, received)
}

#[test]
fn keys_in_response_headers_text_bodies_and_plain_text_events_are_never_written() {
    let fakes = fakes();
    let rt = runtime();
    let key = &fakes[0];
    let cookie = noise(40, 24, ALNUM);
    let headers = vec![
        ("x-debug-token", noise(41, 24, ALNUM)),
        ("set-cookie", format!("session={cookie}; HttpOnly")),
    ];
    let mut needles = secret_needles(&fakes[..1]);
    needles.extend([headers[0].1.clone(), cookie]);
    needles.extend(pii_needles());

    // A plain-text body.
    let text_body = format!("your key is {} and mail {EMAIL}", key.value);
    let upstream = rt.block_on(start_fixed_upstream(
        "text/plain",
        headers.clone(),
        text_body,
    ));
    let (_work, files, received) = record_from(&format!("http://{}", upstream.addr), false);
    assert!(
        received.contains(&key.value),
        "the client gets the real answer"
    );
    assert_absent(&files, &needles);
    rt.block_on(upstream.stop());

    // A stream whose events are plain text, the key a few characters per event.
    let mut events = String::new();
    for piece in format!("{} {EMAIL}", key.value)
        .chars()
        .collect::<Vec<_>>()
        .chunks(5)
    {
        events.push_str(&format!("data: {}\n\n", piece.iter().collect::<String>()));
    }
    events.push_str("data: [DONE]\n\n");
    let upstream = rt.block_on(start_fixed_upstream("text/event-stream", headers, events));
    let (_work, files, received) = record_from(&format!("http://{}", upstream.addr), true);
    assert!(received.contains("data: "), "{received}");
    assert_absent(&files, &needles);
    // Pieces of 5 characters: the events joined must not hold the key either.
    let (path, _) = files
        .iter()
        .find(|(p, _)| p.ends_with("c/default.yaml"))
        .unwrap();
    let recorded = cassette(path);
    let stream = recorded.interactions[0].response.stream.as_ref().unwrap();
    let joined: String = stream
        .iter()
        .map(|e| String::from_utf8_lossy(&e.data.to_bytes()).into_owned())
        .collect();
    assert_absent(
        &[(PathBuf::from("the events joined"), joined.into_bytes())],
        &needles,
    );
    rt.block_on(upstream.stop());
}

/// An upstream that streams back the request's first message as plain-text events of five
/// characters each.
async fn start_text_echo() -> traceforge::server::Running {
    use http_body_util::BodyExt as _;
    let listener = traceforge::server::bind("127.0.0.1:0").await.unwrap();
    traceforge::server::Running::spawn(
        listener,
        |request: http::Request<hyper::body::Incoming>| async move {
            let bytes = request.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let prompt = body["messages"][0]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut events = String::new();
            for piece in prompt.chars().collect::<Vec<_>>().chunks(5) {
                events.push_str(&format!("data: {}\n\n", piece.iter().collect::<String>()));
            }
            events.push_str("data: [DONE]\n\n");
            http::Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(traceforge::server::ResponseBody::full(events.into_bytes()))
                .unwrap()
        },
    )
    .unwrap()
}

#[test]
fn upstream_pseudonymize_restores_a_surrogate_split_across_plain_text_events() {
    let rt = runtime();
    let upstream = rt.block_on(start_text_echo());
    let url = format!("http://{}", upstream.addr);
    let work = tempfile::tempdir().unwrap();
    let proxy = start_pseudonymizing(work.path(), &url, &url);
    let received = rt.block_on(post(
        &proxy.url("/openai/v1/chat/completions"),
        &chat(&format!("mail {EMAIL} now"), true),
        &[],
    ));
    proxy.stop();
    rt.block_on(upstream.stop());
    let joined: String = received
        .events()
        .iter()
        .map(|e| String::from_utf8_lossy(&e.data.to_bytes()).into_owned())
        .collect();
    assert!(
        joined.contains(EMAIL),
        "the client gets the original back: {joined}"
    );
}
