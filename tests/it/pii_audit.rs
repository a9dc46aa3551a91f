//! `pii audit` and the redaction audit's tamper evidence, end to end: hand-made cassettes with
//! `redactions:` entries, `vcr rebuild-from-cassettes` restoring the audit from them, the
//! listing and its filters, and `db check` naming the row an attacker edited or deleted, and
//! `db check --cassettes` the redaction missing from a consistently rewritten audit; and a real
//! recording through the proxy, whose audit outlives a re-recording of its cassette.

use std::path::Path;

use crate::common::*;
use serde_json::{json, Value};

fn interaction(id: u64, redactions: &str) -> String {
    format!(
        "- id: {id}
  recorded_at: 2026-11-30T01:00:0{id}Z
  request:
    method: POST
    upstream: openai
    path: /v1/chat/completions
    body:
      json:
        model: gpt-4o-mini
        messages:
        - role: user
          content: mail <EMAIL> or call <PHONE>
  response:
    status: 200
    body:
      json:
        choices:
        - index: 0
          message:
            role: assistant
            content: noted
{redactions}"
    )
}

const SUPPORT_REDACTIONS: &str = "  redactions:
  - path: request.body.messages[0].content
    span: [5, 22]
    detector: email
    action: mask
    at: 2026-11-30T01:00:01Z
    hmac: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
  - path: request.body.messages[0].content
    span: [31, 46]
    detector: phone
    action: pseudonymize
    at: 2026-11-30T01:00:01Z
    hmac: ffeeddccbbaa99887766554433221100
";

const BILLING_REDACTIONS: &str = "  redactions:
  - path: request.headers.x-api-key
    span: [0, 51]
    detector: openai_api_key
    action: mask
    at: 2026-11-30T01:00:01Z
    hmac: 00112233445566778899aabbccddeeff
";

/// Two cassettes: `support` (a redacted interaction, then a clean one) and `billing/invoices`
/// (one redacted interaction), rebuilt into `t.db`.
fn audited(work: &Path) {
    std::fs::create_dir_all(work.join("c/billing")).unwrap();
    std::fs::write(
        work.join("c/support.yaml"),
        format!(
            "version: 1\ncassette: support\ninteractions:\n{}{}",
            interaction(1, SUPPORT_REDACTIONS),
            interaction(2, "")
        ),
    )
    .unwrap();
    std::fs::write(
        work.join("c/billing/invoices.yaml"),
        format!(
            "version: 1\ncassette: billing/invoices\ninteractions:\n{}",
            interaction(1, BILLING_REDACTIONS)
        ),
    )
    .unwrap();
    let rebuilt = tf(
        work,
        &[
            "vcr",
            "rebuild-from-cassettes",
            "--cassettes",
            "c",
            "--db",
            "t.db",
        ],
    );
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
}

fn audit_json(work: &Path, filters: &[&str]) -> Value {
    let mut args = vec!["pii", "audit", "--db", "t.db", "--format", "json"];
    args.extend_from_slice(filters);
    let output = tf(work, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn a_rebuild_restores_the_audit_and_pii_audit_lists_and_filters_it() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    audited(work);

    // The JSON shape, pinned: cassettes in name order, so billing/invoices is trace 1.
    let all = audit_json(work, &[]);
    assert_eq!(
        all,
        json!({"version": 1, "redactions": [
            {"id": 1, "trace_id": 1, "cassette": "billing/invoices", "interaction_id": 1,
             "path": "request.headers.x-api-key", "span": [0, 51], "detector": "openai_api_key",
             "action": "mask", "at": "2026-11-30T01:00:01Z",
             "hmac": "00112233445566778899aabbccddeeff"},
            {"id": 2, "trace_id": 2, "cassette": "support", "interaction_id": 1,
             "path": "request.body.messages[0].content", "span": [5, 22], "detector": "email",
             "action": "mask", "at": "2026-11-30T01:00:01Z",
             "hmac": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
            {"id": 3, "trace_id": 2, "cassette": "support", "interaction_id": 1,
             "path": "request.body.messages[0].content", "span": [31, 46], "detector": "phone",
             "action": "pseudonymize", "at": "2026-11-30T01:00:01Z",
             "hmac": "ffeeddccbbaa99887766554433221100"},
        ]})
    );
    let detectors = |doc: &Value| -> Vec<String> {
        doc["redactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["detector"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        detectors(&audit_json(work, &["--cassette", "support"])),
        ["email", "phone"]
    );
    assert_eq!(
        detectors(&audit_json(work, &["--cassette", "billing/*"])),
        ["openai_api_key"]
    );
    assert_eq!(
        detectors(&audit_json(work, &["--trace", "1"])),
        ["openai_api_key"]
    );
    // Filters that match nothing, and a trace without redactions or without a row: empty.
    for filters in [
        &["--cassette", "nope"][..],
        &["--trace", "3"],
        &["--trace", "999"],
    ] {
        assert_eq!(
            audit_json(work, filters),
            json!({"version": 1, "redactions": []}),
            "{filters:?}"
        );
        let mut args = vec!["pii", "audit", "--db", "t.db"];
        args.extend_from_slice(filters);
        let text = tf(work, &args);
        assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
        assert_eq!(stdout(&text), "", "{filters:?}");
    }

    // The table: one line per value, with where, what, how and the hash; never the value.
    let text = tf(work, &["pii", "audit", "--db", "t.db", "--trace", "2"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    for header in [
        "time",
        "cassette",
        "interaction",
        "path",
        "span",
        "detector",
        "action",
        "hmac",
    ] {
        assert!(out.contains(header), "{out}");
    }
    let phone = out.lines().find(|l| l.contains("phone")).unwrap_or("");
    for cell in [
        "2026-11-30T01:00:01Z",
        "support",
        "request.body.messages[0].content",
        "31..46",
        "pseudonymize",
        "ffeeddccbbaa99887766554433221100",
    ] {
        assert!(phone.contains(cell), "{cell} in {out}");
    }
    assert!(!out.contains("openai_api_key"), "{out}");

    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("t.db: ok (schema version 5)"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn bad_filters_are_usage_errors_naming_the_flag() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    audited(work);
    let output = tf(work, &["pii", "audit", "--db", "t.db", "--trace", "seven"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--trace"), "{}", stderr(&output));
    let output = tf(work, &["pii", "audit", "--db", "t.db", "--cassette", "a[b"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--cassette a[b"),
        "{}",
        stderr(&output)
    );
    let output = tf(work, &["pii", "audit", "--db", "missing.db"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.db: no trace database here"),
        "{}",
        stderr(&output)
    );
}

/// Changes `t.db` as an attacker would: the append-only guards dropped first.
fn tamper(work: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(work.join("t.db")).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER redactions_no_update; DROP TRIGGER redactions_no_delete; {sql};"
    ))
    .unwrap();
}

fn check_fails(work: &Path) -> String {
    let check = tf(work, &["db", "check", "--db", "t.db"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let out = stdout(&check);
    assert!(out.contains("damaged; rebuild it"), "{out}");
    out
}

#[test]
fn db_check_names_an_edited_or_deleted_audit_row() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();

    // Without dropping the guards, the audit cannot be changed at all.
    audited(work);
    let conn = rusqlite::Connection::open(work.join("t.db")).unwrap();
    let refused = conn
        .execute("DELETE FROM redactions WHERE id = 3", [])
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    drop(conn);

    tamper(work, "UPDATE redactions SET hmac = '0000' WHERE id = 2");
    let out = check_fails(work);
    assert!(
        out.contains("t.db: redaction audit: row 2 was edited"),
        "{out}"
    );
    assert!(
        out.contains("the append-only guard redactions_no_update is missing"),
        "{out}"
    );

    audited(work);
    tamper(work, "DELETE FROM redactions WHERE id = 2");
    let out = check_fails(work);
    assert!(
        out.contains("t.db: redaction audit: row 2 was deleted"),
        "{out}"
    );
    assert!(!out.contains("edited"), "{out}");

    // The last row: only the head knows it was there.
    audited(work);
    tamper(work, "DELETE FROM redactions WHERE id = 3");
    let out = check_fails(work);
    assert!(
        out.contains("t.db: redaction audit: row 3 was deleted"),
        "{out}"
    );

    // Someone who rewrites the chain's end to match gets past the chain, not past the
    // cassettes, which record every redaction too.
    audited(work);
    tamper(
        work,
        "DELETE FROM redactions WHERE id = 3;
         UPDATE redactions_head SET rows = 2, chain = (SELECT chain FROM redactions WHERE id = 2);
         CREATE TRIGGER redactions_no_update BEFORE UPDATE ON redactions BEGIN
             SELECT RAISE(ABORT, 'the redaction audit is append-only'); END;
         CREATE TRIGGER redactions_no_delete BEFORE DELETE ON redactions BEGIN
             SELECT RAISE(ABORT, 'the redaction audit is append-only'); END",
    );
    let check = tf(work, &["db", "check", "--db", "t.db"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let out = stdout(&check);
    assert!(
        out.contains(
            "t.db: 1 redaction(s) in the cassettes are missing from the audit: \
             support#1 request.body.messages[0].content 31..46 phone"
        ),
        "{out}"
    );
    assert!(out.contains("out of step with c; rebuild it"), "{out}");

    // The cure is the same as for any damage: the cassettes hold the audit too.
    audited(work);
    let check = tf(work, &["db", "check", "--db", "t.db"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn recording_audits_what_it_protects_and_the_audit_outlives_a_re_recording() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let rt = runtime();
    let mock = rt.block_on(start_mock(traceforge::mock::MockConfig::default()));
    let upstream = format!("openai=http://{}", mock.addr);
    let record = |content: &str| {
        let recorder = ProxyProcess::start(
            work,
            &[
                "vcr",
                "record",
                "--mode",
                "all",
                "--cassettes",
                "c",
                "--db",
                "t.db",
                "--upstream",
                &upstream,
            ],
        );
        let body = json!({"model": "gpt-4o-mini",
                          "messages": [{"role": "user", "content": content}]});
        let received = rt.block_on(post(
            &recorder.url("/openai/v1/chat/completions"),
            &body,
            &[],
        ));
        assert_eq!(received.status, 200);
        let stopped = recorder.stop();
        assert!(stopped.status.success(), "{}", stopped.stderr);
    };
    let emails = |doc: &Value| -> Vec<(i64, String)> {
        doc["redactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["detector"] == "email")
            .map(|e| {
                (
                    e["trace_id"].as_i64().unwrap(),
                    e["path"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };

    record("write to jane.doe@acme.io about the refund");
    let first = audit_json(work, &[]);
    let trace = {
        let list = tf(
            work,
            &["traces", "list", "--db", "t.db", "--format", "json"],
        );
        let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
        doc["traces"][0]["id"].as_i64().unwrap()
    };
    let recorded = emails(&first);
    assert!(
        recorded.contains(&(trace, "request.body.messages[0].content".to_string())),
        "{first}"
    );
    // The audit never holds the value, and agrees with the cassette it came from.
    assert!(!first.to_string().contains("jane.doe"), "{first}");
    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // Recorded again from scratch: the trace row is replaced, the audit keeps the first entry
    // and adds the new one; the chain still verifies.
    record("and now to john.roe@acme.io");
    let second = audit_json(work, &[]);
    let (before, after) = (
        first["redactions"].as_array().unwrap(),
        second["redactions"].as_array().unwrap(),
    );
    assert_eq!(&after[..before.len()], &before[..], "{second}");
    assert_eq!(emails(&second).len(), recorded.len() * 2, "{second}");
    let check = tf(work, &["db", "check", "--db", "t.db", "--cassettes", "c"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    rt.block_on(mock.stop());
}
