use super::*;
use crate::cassette::{Response, StreamEvent};
use crate::sensitive::PiiKey;
use serde_json::json;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn pseudonymizing() -> Redactor {
    let detectors = Detectors::new(&DetectorConfig::default()).unwrap();
    let protector = Protector::new(
        Mode::Pseudonymize,
        detectors,
        Some(Arc::new(PiiKey::parse(KEY).unwrap())),
    )
    .unwrap();
    Redactor::new(&[], Arc::new(protector))
}

/// A key-shaped string made at test time, so no scanner flags this file.
fn openai_key() -> String {
    format!("sk-proj-{}", "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY")
}

fn request(path: &str, body: Option<Body>) -> Request {
    Request {
        method: "POST".into(),
        upstream: "openai".into(),
        path: path.into(),
        headers: BTreeMap::new(),
        body,
    }
}

#[test]
fn urls_lose_their_passwords_and_keep_the_rest() {
    for (given, shown) in [
        ("http://u:p@h:1/base", "http://u:***@h:1/base"),
        ("https://u:p%40ss@h", "https://u:***@h"),
        ("https://token@h/x?y=1", "https://***@h/x?y=1"),
        ("http://u:@h", "http://u:***@h"),
        ("http://h:1/base/a@b", "http://h:1/base/a@b"),
        ("http://h?x=a:b@c", "http://h?x=a:b@c"),
        ("https://api.openai.com", "https://api.openai.com"),
        ("not a url", "not a url"),
    ] {
        assert_eq!(url(given), shown, "{given}");
    }
}

#[test]
fn credential_names_are_recognised_and_token_counts_are_not() {
    for name in [
        "Authorization",
        "x-api-key",
        "X-Goog-Api-Key",
        "ocp-apim-subscription-key",
        "private-token",
        "x-amz-security-token",
        "x-my-service-secret",
        "x-custom-token",
        "cookie",
    ] {
        assert!(is_credential_header(name), "{name}");
    }
    for name in [
        "x-ratelimit-remaining-tokens",
        "anthropic-ratelimit-input-tokens-remaining",
        "content-type",
        "idempotency-key",
        "x-stainless-lang",
        "openai-organization",
    ] {
        assert!(!is_credential_header(name), "{name}");
    }
    for name in [
        "token",
        "sig",
        "X-Amz-Signature",
        "client_secret",
        "code",
        "auth",
        "key",
    ] {
        assert!(is_credential_param(name), "{name}");
    }
    for name in ["alt", "limit", "model", "stream"] {
        assert!(!is_credential_param(name), "{name}");
    }
}

#[test]
fn requests_lose_credentials_secrets_and_pii_and_say_where() {
    let redactor = Redactor::default();
    let key = openai_key();
    let mut req = request(
        "/v1/users/jane%40acme.io/files?key=AIzaXYZ&alt=sse&q=mail+jane%40acme.io",
        Some(Body::Json(json!({"messages": [
            {"role": "user", "content": format!("my key is {key}, mail jane@acme.io")}
        ]}))),
    );
    req.headers
        .insert("Authorization".into(), format!("Bearer {key}"));
    req.headers.insert("x-custom-token".into(), "abc".into());
    req.headers
        .insert("user-agent".into(), "OpenAI/Python".into());
    let mut audit = Vec::new();
    redactor.request(&mut req, &mut audit);
    assert_eq!(
        req.path,
        "/v1/users/%3CEMAIL%3E/files?key=REDACTED&alt=sse&q=mail+%3CEMAIL%3E"
    );
    assert_eq!(req.headers["Authorization"], REDACTED);
    assert_eq!(req.headers["x-custom-token"], REDACTED);
    assert_eq!(req.headers["user-agent"], "OpenAI/Python");
    let content = &req.body.as_ref().unwrap().as_json().unwrap()["messages"][0]["content"];
    assert_eq!(content, "my key is REDACTED, mail <EMAIL>");
    let places: Vec<(&str, &str)> = audit
        .iter()
        .map(|r| (r.path.as_str(), r.detector.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            ("request.path", "email"),
            ("request.query.key", "credential"),
            ("request.query.q", "email"),
            ("request.headers.Authorization", "credential"),
            ("request.headers.x-custom-token", "credential"),
            ("request.body.messages[0].content", "openai-api-key"),
            ("request.body.messages[0].content", "email"),
        ]
    );
    assert!(audit.iter().all(|r| r.hmac.len() == 32));
    // Twice changes nothing and audits nothing.
    let before = req.clone();
    let mut again = Vec::new();
    redactor.request(&mut req, &mut again);
    assert_eq!(req, before);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn compressed_and_binary_bodies_are_decoded_and_protected() {
    use std::io::Write as _;
    let key = openai_key();
    let json = format!(r#"{{"input": "key {key}, call +44 20 7946 0958"}}"#);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(json.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mut req = request("/v1/responses", Some(Body::from_bytes(&gz)));
    assert_eq!(req.body.as_ref().unwrap().kind(), "base64");
    req.headers.insert("content-encoding".into(), "gzip".into());
    let mut audit = Vec::new();
    Redactor::default().request(&mut req, &mut audit);
    assert!(!req.headers.contains_key("content-encoding"));
    assert_eq!(
        req.body.unwrap().as_json().unwrap()["input"],
        "key REDACTED, call <PHONE>"
    );
    assert_eq!(audit.len(), 2);

    let mut binary = vec![0xff, 0xfe, 0x00];
    binary.extend_from_slice(format!("tok {key} end").as_bytes());
    binary.push(0xff);
    let mut body = Body::from_bytes(&binary);
    let mut audit = Vec::new();
    let at = crate::cassette::now();
    Redactor::default().body(
        "request.body",
        &mut body,
        None,
        &mut Audit {
            at: &at,
            out: &mut audit,
        },
    );
    let bytes = body.to_bytes();
    assert!(!String::from_utf8_lossy(&bytes).contains(&key));
    assert!(bytes.starts_with(&[0xff, 0xfe, 0x00]) && bytes.ends_with(b"REDACTED end\xff"));
}

fn chat_stream(pieces: &[&str]) -> Vec<StreamEvent> {
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| StreamEvent {
            at_ms: i as u64,
            event: None,
            id: None,
            retry: None,
            data: Body::Json(json!({
                "id": "chatcmpl-1", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": p}}]
            })),
        })
        .collect()
}

fn contents(events: &[StreamEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            e.data.as_json().unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn a_value_split_across_events_is_protected_whole_and_no_event_holds_a_piece() {
    let key = openai_key();
    let text = format!("Reach jane@acme.io or use {key} now, card 4294 1996 8255 0949.");
    let redactor = Redactor::default();
    let whole = redactor.protector().protect(&text).unwrap().text;
    // Every split of the text into three events.
    let bytes = text.len();
    for i in (0..=bytes).step_by(3) {
        for j in (i..=bytes).step_by(5) {
            let pieces = [&text[..i], &text[i..j], &text[j..]];
            let mut response = Response {
                status: 200,
                headers: BTreeMap::new(),
                body: None,
                stream: Some(chat_stream(&pieces)),
                incomplete: false,
            };
            let mut audit = Vec::new();
            redactor.response(&mut response, &mut audit);
            let parts = contents(response.stream.as_ref().unwrap());
            assert_eq!(parts.concat(), whole, "split at {i}, {j}");
            for part in &parts {
                for secret in ["jane", "acme", "sk-proj", "4294", "0949"] {
                    assert!(
                        !part.contains(secret) || text[..0].is_empty() && !part.contains(secret),
                        "{part}"
                    );
                }
            }
            assert_eq!(audit.len(), 3, "{audit:?}");
            assert!(audit
                .iter()
                .all(|r| r.path == "response.stream.choices[0].delta.content"));
        }
    }
}

#[test]
fn plain_text_events_are_one_channel_protected_whole() {
    let key = openai_key();
    let text = format!("Reach jane@acme.io or use {key} now.");
    let redactor = Redactor::default();
    let whole = redactor.protector().protect(&text).unwrap().text;
    let mut events: Vec<StreamEvent> = text
        .as_bytes()
        .chunks(5)
        .map(|piece| String::from_utf8(piece.to_vec()).unwrap())
        .chain(["[DONE]".to_string()])
        .enumerate()
        .map(|(i, piece)| StreamEvent {
            at_ms: i as u64,
            event: None,
            id: None,
            retry: None,
            data: Body::Text(piece),
        })
        .collect();
    let mut response = Response {
        status: 200,
        headers: BTreeMap::new(),
        body: None,
        stream: Some(std::mem::take(&mut events)),
        incomplete: false,
    };
    let mut audit = Vec::new();
    redactor.response(&mut response, &mut audit);
    let texts: Vec<String> = response
        .stream
        .unwrap()
        .into_iter()
        .map(|e| match e.data {
            Body::Text(text) => text,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(texts[..texts.len() - 1].concat(), whole);
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(
        audit.iter().all(|r| r.path == "response.stream"),
        "{audit:?}"
    );
}

#[test]
fn pseudonyms_are_consistent_and_never_found_again() {
    let a = pseudonymizing();
    let b = pseudonymizing();
    let text = "mail jane@acme.io, card 4294 1996 8255 0949, iban DE89 3704 0044 0532 0130 00";
    let once = a.protector().protect(text).unwrap();
    assert_eq!(once.text, b.protector().protect(text).unwrap().text);
    assert!(a.protector().protect(&once.text).is_none(), "{}", once.text);
    assert!(!once.text.contains("jane@acme.io"));
    // A value seen before is remembered, not derived again: the same surrogate and audit
    // hash as a protector that derives it for the first time, and no second vault entry.
    let twice = format!("{text}; again: {text}");
    let remembered = a.protector().protect(&twice).unwrap();
    let derived = pseudonymizing().protector().protect(&twice).unwrap();
    assert_eq!(remembered, derived);
    assert_eq!(remembered.hits.len(), 6);
    assert_eq!(remembered.hits[0].hash, remembered.hits[3].hash);
    assert_eq!(
        remembered.hits[0].replacement,
        remembered.hits[3].replacement
    );
    let fresh = a.protector().take_fresh();
    assert_eq!(fresh.len(), 3);
    let key = PiiKey::parse(KEY).unwrap();
    for sealed in fresh {
        let original = key.open(&sealed.surrogate, &sealed.sealed).unwrap();
        assert!(text.contains(&original), "{original}");
    }
}

#[test]
fn scan_reports_what_redaction_would_replace_without_changing_anything() {
    let redactor = pseudonymizing();
    let key = openai_key();
    let interaction: Interaction = serde_json::from_value(json!({
        "id": 1, "recorded_at": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "upstream": "openai", "path": "/v1/chat?token=abc",
                    "headers": {"x-api-key": "abc"},
                    "body": {"json": {"messages": [{"content": format!("{key} jane@acme.io")}]}}},
        "response": {"status": 200, "body": {"text": "ok"}}
    }))
    .unwrap();
    let found = redactor.scan(&interaction);
    let shown: Vec<String> = found
        .iter()
        .map(|f| format!("{} {}", f.path, f.detector))
        .collect();
    assert_eq!(
        shown,
        [
            "request.query.token credential",
            "request.headers.x-api-key credential",
            "request.body.messages[0].content openai-api-key",
            "request.body.messages[0].content email",
        ]
    );
    assert!(
        redactor.protector().take_fresh().is_empty(),
        "a scan issued surrogates"
    );
}
