use std::path::Path;

use serde_json::json;

use super::*;
use crate::cassette::Interaction;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn interaction(request: serde_json::Value, response: serde_json::Value) -> Interaction {
    serde_json::from_value(json!({
        "id": 1, "recorded_at": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                    "body": {"json": request}},
        "response": response,
        "scope": {"organization": "org-acme", "service": "support-bot"}
    }))
    .unwrap()
}

const GLOBAL: &str = r#"{"id": "global-safety", "version": "1.0.0", "scope": "global",
 "enforce_at_proxy": true, "priority": 100,
 "rules": [
  {"id": "no-secrets", "type": "no-secrets", "severity": "critical", "applies_to": "both", "action": "block"},
  {"id": "competitors", "type": "blocked-terms", "severity": "medium", "applies_to": "response",
   "action": "redact", "terms": ["Globex", "Initech Corp"], "overridable": true},
  {"id": "models", "type": "allowed-models", "severity": "high", "applies_to": "request",
   "action": "block", "models": ["gpt-4o*", "claude-*"]}
 ]}"#;

const ORG: &str = r#"
id: acme-pii
version: 2.0.0
scope: organization
organization_id: org-acme
enforce_at_proxy: true
priority: 200
rules:
  - id: no-pii
    type: no-pii
    severity: critical
    applies_to: response
    action: block
    entities: [email, credit_card]
  - id: cap
    type: max-tokens
    severity: low
    action: warn
    max: 500
"#;

const SERVICE: &str = r#"{"id": "support-relax", "version": "1.1.0",
 "rules": [
  {"id": "competitors", "type": "blocked-terms", "severity": "low", "applies_to": "response",
   "action": "warn", "terms": ["Globex"]},
  {"id": "refunds", "type": "regex", "severity": "high", "applies_to": "response",
   "action": "block", "patterns": ["(?i)full refund"]}
 ]}"#;

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "global/safety.json", GLOBAL);
    write(dir.path(), "organizations/org-acme/pii.yaml", ORG);
    write(
        dir.path(),
        "organizations/org-acme/services/support-bot/relax.json",
        SERVICE,
    );
    dir
}

#[test]
fn scopes_combine_and_a_narrower_rule_replaces_an_overridable_one() {
    let dir = tree();
    let set = load(dir.path()).unwrap();
    let ids = |org, service| -> Vec<String> {
        set.effective(org, service)
            .iter()
            .map(|(p, r)| format!("{}/{}", p.id, r.id))
            .collect()
    };
    // Priority first (200 before 100), then broader scopes.
    assert_eq!(
        ids(Some("org-acme"), Some("support-bot")),
        [
            "acme-pii/no-pii",
            "acme-pii/cap",
            "global-safety/no-secrets",
            "global-safety/models",
            "support-relax/competitors",
            "support-relax/refunds"
        ]
    );
    assert_eq!(
        ids(None, None),
        [
            "global-safety/no-secrets",
            "global-safety/competitors",
            "global-safety/models"
        ]
    );
    assert_eq!(ids(Some("org-other"), Some("support-bot")).len(), 3);
    let service = set
        .policies()
        .iter()
        .find(|p| p.id == "support-relax")
        .unwrap();
    assert_eq!(service.scope, Scope::Service);
    assert_eq!(service.organization.as_deref(), Some("org-acme"));
}

#[test]
fn findings_name_policy_rule_path_and_entity_never_the_value() {
    let set = load(tree().path()).unwrap();
    let key = ["sk", "proj", "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY"].join("-");
    let i = interaction(
        json!({"model": "gpt-3.5-turbo", "max_tokens": 900,
               "messages": [{"role": "user", "content": format!("my key {key}")}]}),
        json!({"status": 200, "stream": [
            {"at_ms": 1, "data": {"json": {"choices": [{"delta": {"content": "Mail jane@ac"}}]}}},
            {"at_ms": 2, "data": {"json": {"choices": [{"delta": {"content": "me.io for a Full Refund from Globex"}}]}}}
        ]}),
    );
    let shown: Vec<String> = set
        .evaluate(&i)
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {} {}",
                f.policy,
                f.rule,
                f.action.name(),
                f.severity.name(),
                f.path,
                f.entity
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "acme-pii cap warn low request.body.max_tokens max_tokens",
            "global-safety no-secrets block critical request.body.messages[0].content openai-api-key",
            "global-safety models block high request.body.model model",
            "acme-pii no-pii block critical response.stream.choices[0].delta.content email",
            "support-relax competitors warn low response.stream.choices[0].delta.content term",
            "support-relax refunds block high response.stream.choices[0].delta.content pattern 0",
        ]
    );
}

#[test]
fn bad_policies_are_one_error_naming_file_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "global/a.json",
            "{\"id\": \"a\", \"rules\": [}",
            "global/a.json:1:23:",
        ),
        (
            "global/a.yaml",
            "id: a\nrules:\n  - id: r\n    type: nope\n    severity: low\n    action: warn\n",
            "global/a.yaml:4:11: rules[0].type: unknown variant `nope`",
        ),
        (
            "global/a.json",
            r#"{"id": "a", "rules": [{"id": "r", "type": "regex", "severity": "low", "action": "warn", "patterns": ["(x"]}]}"#,
            "global/a.json:1:30: rule `r`: pattern 0 `(x` is not a valid regex: unclosed group",
        ),
        (
            "global/a.json",
            r#"{"id": "a", "rules": [{"id": "r", "type": "regex", "severity": "low", "action": "stop", "patterns": []}]}"#,
            "global/a.json:1:86: unknown variant `stop`, expected one of `warn`, `redact`, `block`",
        ),
        (
            "global/a.json",
            r#"{"id": "a", "colour": 1, "rules": []}"#,
            "global/a.json:1:20: unknown field `colour`",
        ),
        (
            "global/a.json",
            r#"{"id": "a", "rules": [{"id": "t", "type": "blocked-terms", "severity": "low", "action": "warn", "terms_file": "missing.txt"}]}"#,
            "rule `t`: cannot read terms file",
        ),
        (
            "global/a.json",
            r#"{"id": "a", "rules": [{"id": "m", "type": "max-tokens", "severity": "low", "action": "warn", "models": ["x"]}]}"#,
            "rule `m`: `models` is not a parameter of rule type max-tokens (it takes: max)",
        ),
        (
            "global/a.json",
            r#"{"id": "a", "scope": "service", "rules": []}"#,
            "policy `a` says scope service, but its folder makes it global",
        ),
        (
            "organizations/o/a.json",
            r#"{"id": "a", "organization_id": "p", "rules": []}"#,
            "says organization_id `p`, but its folder says `o`",
        ),
    ];
    for (file, text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), file, text);
        let err = load(dir.path()).unwrap_err();
        let shown = crate::error_chain(&err);
        assert!(!shown.contains('\n'), "{shown}");
        assert!(
            shown
                .replace(&format!("{}/", dir.path().display()), "")
                .contains(expected),
            "{expected}\n{shown}"
        );
    }
}

#[test]
fn relaxing_a_rule_that_is_not_overridable_names_both_files() {
    let dir = tree();
    write(
        dir.path(),
        "organizations/org-acme/services/support-bot/lax.json",
        r#"{"id": "lax", "rules": [{"id": "no-secrets", "type": "no-secrets", "severity": "low", "action": "warn"}]}"#,
    );
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("support-bot/lax.json relaxes rule `no-secrets` of")
            && err.contains("global/safety.json (block → warn)")
            && err.contains("overridable: true"),
        "{err}"
    );
    // Making it stricter is always allowed.
    write(
        dir.path(),
        "organizations/org-acme/services/support-bot/lax.json",
        r#"{"id": "lax", "rules": [{"id": "models", "type": "allowed-models", "severity": "critical", "action": "block", "models": ["gpt-4o"]}]}"#,
    );
    assert!(load(dir.path()).is_ok());
    // A missing directory is no policies.
    assert!(load(&dir.path().join("nope")).unwrap().is_empty());
}
