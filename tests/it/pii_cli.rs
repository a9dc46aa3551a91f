//! `traceforge pii keygen|scan|redact|reveal` over cassettes on disk: what scan reports (never
//! a value), that redaction is atomic and idempotent, that reveal needs the right key, and
//! that real provider traffic (fixtures/vcrpy/) holds no false positives.

use std::path::Path;

use crate::common::*;

fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = traceforge_command();
    command.current_dir(cwd).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Key-shaped strings made at test time, so no scanner flags this file.
fn openai_key() -> String {
    ["sk", "proj", "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY"].join("-")
}

const EMAIL: &str = "jane.doe@acme.io";
const CARD: &str = "4294 1996 8255 0949";
const IBAN: &str = "DE89 3704 0044 0532 0130 00";

fn write_cassette(dir: &Path) {
    let content = format!("Mail {EMAIL}, pay {CARD} from {IBAN}, key {}", openai_key());
    let cassette = serde_json::json!({
        "version": 1,
        "cassette": "leaky",
        "interactions": [{
            "id": 1,
            "recorded_at": "2026-01-01T00:00:00Z",
            "request": {
                "method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                "headers": {"content-type": "application/json"},
                "body": {"json": {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}}
            },
            "response": {
                "status": 200,
                "headers": {"content-type": "text/event-stream"},
                "stream": [
                    {"at_ms": 1, "data": {"json": {"choices": [{"index": 0, "delta": {"content": "Sent to jane.d"}}]}}},
                    {"at_ms": 2, "data": {"json": {"choices": [{"index": 0, "delta": {"content": "oe@acme.io."}}]}}},
                    {"at_ms": 3, "data": {"text": "[DONE]"}}
                ]
            }
        }]
    });
    std::fs::create_dir_all(dir).unwrap();
    let yaml =
        traceforge::cassette::files::render(&serde_json::from_value(cassette).unwrap()).unwrap();
    std::fs::write(dir.join("leaky.yaml"), yaml).unwrap();
}

fn assert_no_values(text: &str) {
    for value in [EMAIL, CARD, IBAN, &openai_key(), "jane.d"] {
        assert!(!text.contains(value), "{value} in:\n{text}");
    }
}

#[test]
fn scan_reports_where_never_what_and_redact_is_idempotent() {
    let work = tempfile::tempdir().unwrap();
    write_cassette(&work.path().join("cassettes"));

    let (code, stdout, stderr) = run(work.path(), &["pii", "scan"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_no_values(&stdout);
    assert_no_values(&stderr);
    for line in [
        "cassettes/leaky.yaml: interaction 1: PII (email) in request.body.messages[0].content",
        "interaction 1: PII (credit_card) in request.body.messages[0].content",
        "interaction 1: PII (iban) in request.body.messages[0].content",
        "interaction 1: secret (openai-api-key) in request.body.messages[0].content",
        // Split across two events: only the assembled text shows it.
        "interaction 1: PII (email) in response.stream.choices[0].delta.content",
    ] {
        assert!(stdout.contains(line), "{line} not in:\n{stdout}");
    }
    let (_, json, _) = run(work.path(), &["pii", "scan", "--format", "json"], &[]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["version"], 1);
    let found = report["findings"].as_array().unwrap();
    assert_eq!(found.len(), 5, "{json}");
    assert_eq!(
        found[0],
        serde_json::json!({"cassette": "leaky", "file": "cassettes/leaky.yaml", "interaction": 1,
            "path": "request.body.messages[0].content", "detector": "email", "kind": "pii"})
    );
    assert!(found.iter().any(|f| f["kind"] == "secret"));

    // `vcr verify` runs the same checks.
    let (code, stdout, _) = run(work.path(), &["vcr", "verify"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("unprotected email in response.stream.choices[0].delta.content"),
        "{stdout}"
    );

    let (code, _, stderr) = run(work.path(), &["pii", "redact"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("5 value(s) protected in 1 of 1 cassette(s) (pii.mode mask)"),
        "{stderr}"
    );
    let path = work.path().join("cassettes/leaky.yaml");
    let redacted = std::fs::read_to_string(&path).unwrap();
    assert_no_values(&redacted);
    assert!(redacted.contains("Mail <EMAIL>, pay <CREDIT_CARD> from <IBAN>, key REDACTED"));
    let c = cassette(&path);
    let parts: Vec<&str> = c.interactions[0].response.stream.as_ref().unwrap()[..2]
        .iter()
        .map(|e| {
            e.data.as_json().unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(parts, ["Sent to <EMAIL>", "."]);
    assert_eq!(c.interactions[0].redactions.len(), 5);

    // Idempotent: nothing to do, the file untouched.
    let (code, _, stderr) = run(work.path(), &["pii", "redact"], &[]);
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("0 value(s) protected in 0 of 1"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), redacted);
    let (code, _, _) = run(work.path(), &["pii", "scan"], &[]);
    assert_eq!(code, Some(0));
}

#[test]
fn pseudonyms_reveal_with_the_key_only() {
    let work = tempfile::tempdir().unwrap();
    write_cassette(&work.path().join("cassettes"));
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  mode: pseudonymize\n",
    )
    .unwrap();
    let (_, key, _) = run(work.path(), &["pii", "keygen"], &[]);
    let key = key.trim().to_string();
    assert_eq!(key.len(), 64);

    // Without a key, pseudonymize refuses in one line that says how to make one.
    let (code, _, stderr) = run(work.path(), &["pii", "redact"], &[]);
    assert_eq!(code, Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("traceforge.yaml:2:3: pii.mode: pseudonymize needs a key")
            && stderr.contains("pii keygen"),
        "{stderr}"
    );

    let env = [("TRACEFORGE_PII_KEY", key.as_str())];
    let (code, _, stderr) = run(work.path(), &["pii", "redact"], &env);
    assert_eq!(code, Some(0), "{stderr}");
    let path = work.path().join("cassettes/leaky.yaml");
    let pseudonymised = std::fs::read_to_string(&path).unwrap();
    assert_no_values(&pseudonymised);
    assert!(pseudonymised.contains("@pii.invalid"), "{pseudonymised}");
    let vault = std::fs::read_to_string(work.path().join("cassettes/pii.vault")).unwrap();
    assert_no_values(&vault);
    assert_eq!(vault.lines().count(), 4, "{vault}");
    // Scanning a pseudonymised cassette finds nothing: surrogates never validate.
    let (code, stdout, _) = run(work.path(), &["pii", "scan"], &[]);
    assert_eq!(code, Some(0), "{stdout}");

    // The key file works as the variable does, and reveal gives back the originals (the
    // secret stays masked: secrets are never reversible).
    std::fs::write(work.path().join("key.txt"), format!("{key}\n")).unwrap();
    let (code, stdout, stderr) = run(
        work.path(),
        &["--pii-key-file", "key.txt", "pii", "reveal", "leaky"],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "Mail {EMAIL}, pay {CARD} from {IBAN}, key REDACTED"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(EMAIL) && !stdout.contains("pii.invalid"),
        "{stdout}"
    );
    // The reveal is in the audit, naming the key by its id.
    let (code, audit, _) = run(work.path(), &["pii", "audit", "--format", "json"], &[]);
    assert_eq!(code, Some(0), "{audit}");
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let reveals: Vec<&serde_json::Value> = audit["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "reveal")
        .collect();
    assert_eq!(reveals.len(), 1, "{audit}");
    assert_eq!(reveals[0]["cassette"], "leaky");
    assert!(reveals[0]["detector"].as_str().unwrap().starts_with("key "));
    let (code, _, stderr) = run(work.path(), &["db", "check"], &[]);
    assert_eq!(code, Some(0), "{stderr}");

    // Missing, wrong and malformed keys: one line, exit 2.
    let other = run(work.path(), &["pii", "keygen"], &[]).1;
    for (env, expected) in [
        (vec![], "pii reveal needs the key"),
        (vec![("TRACEFORGE_PII_KEY", other.trim())], "wrong key"),
        (
            vec![("TRACEFORGE_PII_KEY", "abc123")],
            "TRACEFORGE_PII_KEY: expected 64 hexadecimal digits",
        ),
    ] {
        let (code, stdout, stderr) = run(work.path(), &["pii", "reveal", "leaky"], &env);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    let (code, _, stderr) = run(
        work.path(),
        &["--pii-key-file", "nope.txt", "pii", "reveal", "leaky"],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--pii-key-file nope.txt: cannot read it"),
        "{stderr}"
    );

    // A vault cut short names its file and line.
    let cut = &vault[..vault.len() - 20];
    std::fs::write(work.path().join("cassettes/pii.vault"), cut).unwrap();
    let (code, _, stderr) = run(work.path(), &["pii", "reveal", "leaky"], &env);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("pii.vault:5:") || stderr.contains("does not open"),
        "{stderr}"
    );
}

#[test]
fn custom_detectors_and_their_bad_input() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("cassettes");
    write_cassette(&dir);
    std::fs::write(
        work.path().join("customers.txt"),
        "# customers\nAcme Widgets\n\nGlobex\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join("leaky.yaml"))
        .unwrap()
        .replace("Mail ", "EMP-123456 of Globex, mail ");
    std::fs::write(dir.join("leaky.yaml"), text).unwrap();
    std::fs::write(
        work.path().join("traceforge.yaml"),
        "pii:\n  detectors: [email]\n  custom:\n    - {name: employee_id, pattern: 'EMP-[0-9]{6}'}\n    - {name: customer, terms_file: customers.txt}\n  allow: {values: [jane.doe@acme.io]}\n",
    )
    .unwrap();
    let (code, stdout, _) = run(work.path(), &["pii", "scan"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("PII (employee_id)") && stdout.contains("PII (customer)"),
        "{stdout}"
    );
    // Only the configured detectors run, and an allowed value is not reported.
    assert!(
        !stdout.contains("(credit_card)") && !stdout.contains("(email)"),
        "{stdout}"
    );

    for (yaml, expected) in [
        (
            "pii:\n  custom:\n    - {name: x, pattern: '(unclosed'}\n",
            "traceforge.yaml:2:3: pii.custom: custom detector 0 `x`: invalid pattern",
        ),
        (
            "pii:\n  custom:\n    - {name: c, terms_file: missing.txt}\n",
            "traceforge.yaml:2:3: pii.custom: custom detector 0 `c`: cannot read terms file",
        ),
        (
            "pii:\n  mode: sometimes\n",
            "traceforge.yaml:2:9: pii.mode: unknown variant `sometimes`",
        ),
        (
            "pii:\n  detectors: [email, dna]\n",
            "traceforge.yaml:2:22: pii.detectors[1]: unknown variant `dna`",
        ),
    ] {
        std::fs::write(work.path().join("traceforge.yaml"), yaml).unwrap();
        let (code, _, stderr) = run(work.path(), &["pii", "scan"], &[]);
        assert_eq!(code, Some(2), "{yaml}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

#[test]
fn real_provider_traffic_holds_no_false_positives() {
    let work = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vcrpy");
    let mut args = vec![
        "vcr".to_string(),
        "import".into(),
        "--from".into(),
        "vcrpy".into(),
    ];
    for dir in ["openllmetry", "simonw-llm"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            args.push(entry.unwrap().path().to_str().unwrap().to_string());
        }
    }
    // Imported with PII kept, so the scan below sees the traffic as it was.
    std::fs::write(work.path().join("off.yaml"), "pii:\n  mode: off\n").unwrap();
    let mut import = vec!["--config", "off.yaml"];
    import.extend(
        args.iter()
            .map(String::as_str)
            .filter(|a| !a.ends_with(".md")),
    );
    let (code, _, stderr) = run(work.path(), &import, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = run(work.path(), &["pii", "scan", "--format", "json"], &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report, serde_json::json!({"version": 1, "findings": []}));
    assert!(stderr.contains("scanned 13 cassette(s)"), "{stderr}");
}
