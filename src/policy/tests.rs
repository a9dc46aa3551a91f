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

const SERVICE: &str = r#"{"id": "support-relax", "version": "1.1.0", "enforce_at_proxy": true,
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

mod streams {
    use super::*;
    use crate::cassette::{Body, StreamEvent};
    use crate::policy::enforce::{Enforcement, Enforcer};
    use crate::policy::stream::StreamGuard;

    fn guard() -> (Enforcer, StreamGuard) {
        guard_for(Some("support-bot"))
    }

    fn guard_for(service: Option<&str>) -> (Enforcer, StreamGuard) {
        let dir = tree();
        let enforcer = Enforcer::new(load(dir.path()).unwrap(), Enforcement::On);
        let scope = crate::cassette::Scope {
            organization: Some("org-acme".into()),
            service: service.map(str::to_string),
            ..Default::default()
        };
        let rules = enforcer.stream_rules(&scope);
        (enforcer, StreamGuard::new(rules))
    }

    fn chunk(text: &str) -> StreamEvent {
        StreamEvent {
            at_ms: 0,
            event: None,
            id: None,
            retry: None,
            data: Body::Json(
                json!({"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": text}}]}),
            ),
        }
    }

    fn done() -> StreamEvent {
        StreamEvent {
            at_ms: 0,
            event: None,
            id: None,
            retry: None,
            data: Body::Text("[DONE]".into()),
        }
    }

    fn text_of(events: &[StreamEvent]) -> String {
        events
            .iter()
            .filter_map(|e| e.data.as_json())
            .map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    use crate::test_rng::Rng;

    /// What applying the rules to the whole text gives: rewritten, or cut before the first
    /// block match.
    fn whole(rules: &[crate::policy::Rule], text: &str) -> (String, bool) {
        let mut g = StreamGuard::new(rules.to_vec());
        let mut out = g.events(vec![chunk(text), done()]);
        out.extend(g.finish());
        (text_of(&out), g.stopped().is_some())
    }

    #[test]
    fn any_split_gives_what_the_whole_text_gives_and_nothing_of_a_blocked_match() {
        let fragments = [
            "Hello",
            " there",
            ", ",
            "Globex",
            " and ",
            "Initech",
            " are rivals",
            ". ",
            "You get a ",
            "full refund",
            " today",
            "\n",
            "é",
            "Umbrella Corp",
            " ok",
        ];
        let mut rng = Rng(0x9e37_79b9);
        let (enforcer, _) = guard();
        let rules = enforcer.stream_rules(&crate::cassette::Scope {
            organization: Some("org-acme".into()),
            service: Some("support-bot".into()),
            ..Default::default()
        });
        for _ in 0..500 {
            let mut text = String::new();
            for _ in 0..1 + rng.below(10) {
                text.push_str(fragments[rng.below(fragments.len())]);
            }
            let (expected, blocked) = whole(&rules, &text);
            // Split into 1..6 pieces at char boundaries.
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            let mut cuts: Vec<usize> = (0..rng.below(6))
                .map(|_| bounds[rng.below(bounds.len())])
                .collect();
            cuts.extend([0, text.len()]);
            cuts.sort_unstable();
            let mut g = StreamGuard::new(rules.clone());
            let mut out = Vec::new();
            for w in cuts.windows(2) {
                out.extend(g.events(vec![chunk(&text[w[0]..w[1]])]));
                let sent = text_of(&out);
                // The service relaxed the competitors rule to a warning; refunds are blocked.
                assert!(!sent.to_lowercase().contains("full refund"), "{sent:?}");
            }
            out.extend(g.events(vec![done()]));
            out.extend(g.finish());
            assert_eq!(text_of(&out), expected, "{text:?} split at {cuts:?}");
            assert_eq!(g.stopped().is_some(), blocked);
            if blocked {
                // Ended as OpenAI's filter ends a stream.
                let last_json = out.iter().rev().find_map(|e| e.data.as_json()).unwrap();
                assert_eq!(last_json["choices"][0]["finish_reason"], "content_filter");
                assert_eq!(last_json["id"], "c1");
                assert_eq!(out.last().unwrap().data, Body::Text("[DONE]".into()));
            }
        }
    }

    #[test]
    fn a_redacted_term_split_across_events_is_rewritten_before_it_is_sent() {
        // Without the service, the global rule that redacts competitors is in force.
        let (_, mut g) = guard_for(None);
        let mut out = g.events(vec![
            chunk("We beat Glo"),
            chunk("bex and Initech "),
            chunk("Corp."),
        ]);
        out.extend(g.events(vec![done()]));
        assert_eq!(text_of(&out), "We beat <REDACTED> and <REDACTED>.");
        assert!(g.stopped().is_none());
    }

    #[test]
    fn anthropic_and_responses_streams_end_as_their_filters_do() {
        let (_, mut g) = guard();
        let delta = |t: &str| StreamEvent {
            at_ms: 0,
            event: Some("content_block_delta".into()),
            id: None,
            retry: None,
            data: Body::Json(
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}),
            ),
        };
        let out = g.events(vec![delta("A full "), delta("refund it is")]);
        let names: Vec<String> = out.iter().filter_map(|e| e.event.clone()).collect();
        assert_eq!(
            names,
            [
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(
            out[3].data.as_json().unwrap()["delta"]["stop_reason"],
            "refusal"
        );
        let sent: String = out[..2]
            .iter()
            .map(|e| {
                e.data.as_json().unwrap()["delta"]["text"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(sent, "A ");

        let (_, mut g) = guard();
        let created = StreamEvent {
            at_ms: 0,
            event: Some("response.created".into()),
            id: None,
            retry: None,
            data: Body::Json(
                json!({"type": "response.created", "response": {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}}),
            ),
        };
        let delta = StreamEvent {
            at_ms: 0,
            event: Some("response.output_text.delta".into()),
            id: None,
            retry: None,
            data: Body::Json(
                json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "a full refund"}),
            ),
        };
        let out = g.events(vec![created, delta]);
        let last = out.last().unwrap();
        assert_eq!(last.event.as_deref(), Some("response.incomplete"));
        let response = &last.data.as_json().unwrap()["response"];
        assert_eq!(response["id"], "resp_1");
        assert_eq!(response["incomplete_details"]["reason"], "content_filter");
    }
}
