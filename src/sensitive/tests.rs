//! Detector tables (positives and near misses per kind), the real-cassette false-positive check
//! and configuration errors. Properties over generated input are in `properties.rs`.

use super::*;

fn defaults() -> Detectors {
    Detectors::new(&DetectorConfig::default()).unwrap()
}

/// The values found in `text`, with their kinds.
fn found(detectors: &Detectors, text: &str) -> Vec<(String, Kind)> {
    detectors
        .find(text)
        .into_iter()
        .map(|f| (text[f.start..f.end].to_owned(), f.kind))
        .collect()
}

#[test]
fn finds_each_kind_in_context() {
    let d = defaults();
    let cases: &[(&str, &str, Kind)] = &[
        // e-mail
        (
            "write to jane.doe+llm@acme.io today",
            "jane.doe+llm@acme.io",
            Kind::Email,
        ),
        ("<J_Smith@mail.co.uk>", "J_Smith@mail.co.uk", Kind::Email),
        ("\"email\": \"bob@corp.com\"", "bob@corp.com", Kind::Email),
        (
            "José: josé.núñez@bücher.de!",
            "josé.núñez@bücher.de",
            Kind::Email,
        ),
        ("请联系jane@acme.io。谢谢", "jane@acme.io", Kind::Email),
        ("почта: иван@пример.рф", "иван@пример.рф", Kind::Email),
        // cards: every issuer family, contiguous and grouped
        (
            "card 4294199682550949 ok",
            "4294199682550949",
            Kind::CreditCard,
        ),
        (
            "card 4294 1996 8255 0949.",
            "4294 1996 8255 0949",
            Kind::CreditCard,
        ),
        (
            "card 4294-1996-8255-0949",
            "4294-1996-8255-0949",
            Kind::CreditCard,
        ),
        ("mc 5312647058043274", "5312647058043274", Kind::CreditCard),
        (
            "mc 2720 5839 3755 1729",
            "2720 5839 3755 1729",
            Kind::CreditCard,
        ),
        (
            "amex 3708 656503 89032",
            "3708 656503 89032",
            Kind::CreditCard,
        ),
        ("amex 370865650389032", "370865650389032", Kind::CreditCard),
        (
            "discover 6011430608303163",
            "6011430608303163",
            Kind::CreditCard,
        ),
        ("jcb 3530074584020901", "3530074584020901", Kind::CreditCard),
        ("diners 36739158024324", "36739158024324", Kind::CreditCard),
        (
            "unionpay 6271426835134154109",
            "6271426835134154109",
            Kind::CreditCard,
        ),
        ("maestro 501821374284", "501821374284", Kind::CreditCard),
        (
            "visa19 4294 1996 8255 0941 331",
            "4294 1996 8255 0941 331",
            Kind::CreditCard,
        ),
        (
            "on 2024-07-18 4294 1996 8255 0949",
            "4294 1996 8255 0949",
            Kind::CreditCard,
        ),
        // IBANs: compact, grouped, lower-case BBAN letters, the longest and shortest countries
        (
            "iban GB82WEST12345698765432",
            "GB82WEST12345698765432",
            Kind::Iban,
        ),
        (
            "DE89 3704 0044 0532 0130 00",
            "DE89 3704 0044 0532 0130 00",
            Kind::Iban,
        ),
        (
            "FR14 2004 1010 0505 0001 3M02 606",
            "FR14 2004 1010 0505 0001 3M02 606",
            Kind::Iban,
        ),
        ("(NL91ABNA0417164300)", "NL91ABNA0417164300", Kind::Iban),
        ("NO9386011117947", "NO9386011117947", Kind::Iban),
        (
            "MT84MALT011000012345MTLCAST001S",
            "MT84MALT011000012345MTLCAST001S",
            Kind::Iban,
        ),
        // SSNs: both delimiter styles; contiguous only with a context word
        ("ssn 123-45-6789", "123-45-6789", Kind::UsSsn),
        ("id: 123 45 6789\n", "123 45 6789", Kind::UsSsn),
        ("SSN: 123456789", "123456789", Kind::UsSsn),
        ("social security number 078051121", "078051121", Kind::UsSsn),
        // IP addresses
        ("from 8.8.8.8:53", "8.8.8.8", Kind::IpAddress),
        ("client 81.2.69.160, proxy", "81.2.69.160", Kind::IpAddress),
        ("net 81.2.69.0/24", "81.2.69.0", Kind::IpAddress),
        (
            "v6 2606:4700:4700::1111 ok",
            "2606:4700:4700::1111",
            Kind::IpAddress,
        ),
        (
            "[2a00:1450:4007:80e::200e]:443",
            "2a00:1450:4007:80e::200e",
            Kind::IpAddress,
        ),
        (
            "full 2a00:1450:4007:0818:0000:0000:0000:200e",
            "2a00:1450:4007:0818:0000:0000:0000:200e",
            Kind::IpAddress,
        ),
        (
            "mapped ::ffff:81.2.69.160",
            "::ffff:81.2.69.160",
            Kind::IpAddress,
        ),
        // phones: international always, bare only with a context word
        ("+44 20 7946 0958", "+44 20 7946 0958", Kind::Phone),
        (
            "ring +1 (415) 555-2671 now",
            "+1 (415) 555-2671",
            Kind::Phone,
        ),
        ("+49 30 901820", "+49 30 901820", Kind::Phone),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89", Kind::Phone),
        ("+14155552671", "+14155552671", Kind::Phone),
        ("call me at 415-555-2671", "415-555-2671", Kind::Phone),
        ("Phone: (415) 555-2671", "(415) 555-2671", Kind::Phone),
        ("tel 4155552671", "4155552671", Kind::Phone),
        ("mobile 1-415-555-2671", "1-415-555-2671", Kind::Phone),
        ("WhatsApp: 020 7946 0958", "020 7946 0958", Kind::Phone),
        ("4155552671 (cell)", "4155552671", Kind::Phone),
    ];
    for (text, value, kind) in cases {
        assert_eq!(
            found(&d, text),
            vec![(value.to_string(), kind.clone())],
            "in {text:?}"
        );
    }
}

#[test]
fn near_misses_are_not_findings() {
    let d = defaults();
    let cases: &[&str] = &[
        // cards: bad Luhn, unknown issuer, inconsistent or odd grouping, too short, too long
        "4294199682550948",
        "1770166400083882",
        "9210313131514956",
        "4294 1996-8255 0949",
        "4294 19968 2550 949",
        "42941996825",
        "42941996825509491234",
        "abc4294199682550949",
        "ref-4294199682550949",
        "4294199682550949abc",
        "3.4294199682550949",
        // IBANs: bad checksum, wrong length (valid mod-97), unknown country, broken grouping
        "GB82WEST12345698765433",
        "DE5137040044053201300",
        "ZZ82WEST12345698765432",
        "DE89 3704 00440532 0130 00",
        "xGB82WEST12345698765432",
        // SSNs: area 000, 666 and 9xx, group 00, serial 0000, mixed delimiters, no context
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "999-12-3456",
        "123-00-4567",
        "123-45-0000",
        "123-45 6789",
        "order 123456789",
        "123-45-67890",
        "2024-07-18",
        // IPs: octet > 255, leading zeros, inside longer dotted numbers, glued to words
        "999.1.1.1",
        "01.02.03.04",
        "version 1.2.3.4.5",
        "1.2.3.4.5.6.7",
        "v1.2.3.4",
        "1709819154-1.0.1.1-G6bi0ZlT",
        "13:45:54",
        "std::net::Ipv6Addr",
        "00:1a:2b:3c:4d:5e",
        "deadbeef::",
        // phones: bare runs without context, too few digits, too many digits
        "4155552671",
        "(415) 555-2671",
        "+49 3090",
        "+1234567890123456789",
        "call 2024-07-18 12",
        // e-mails: no dot in the domain, a file name, a scoped package, numeric TLD
        "user@localhost",
        "icon@2x.png",
        "npm i @types/node",
        "a@10.2.3.4",
    ];
    for text in cases {
        assert_eq!(found(&d, text), vec![], "in {text:?}");
    }
}

#[test]
fn provider_ids_timestamps_versions_and_blobs_are_not_pii() {
    let d = defaults();
    let cases: &[&str] = &[
        r#"{"id": "chatcmpl-8zKFyQ1aX4UpZ9HbSgV4111111111111", "created": 1760029946}"#,
        r#"{"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message"}"#,
        r#"{"id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"}"#,
        r#"{"type": "function_call", "call_id": "call_4155552671abcdef", "created_at": 1760029946}"#,
        r#"tool_call 1760029946 and 1760029946123"#,
        "request-id: req_011CPszTqBs4gPXAnQWj6vy8",
        "uuid 123e4567-e89b-12d3-a456-426614174000 and 4294199a-8255-0949-b123-426614174000",
        "model gpt-4o-2024-08-06, claude-3-5-sonnet-20241022, 2024-07-18",
        "openai-version: 2020-10-01, x-ratelimit-reset-tokens: 6ms",
        r#""usage": {"prompt_tokens": 1234, "completion_tokens": 5678, "total_tokens": 6912}"#,
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "H4sIAAAAAAAAA1RQTUvDQBC951eMe/HSlqY1tslFKCqIigiCB5Gy2UyTbTc76+7EWkr/uyT90ssc",
        "Set-Cookie: _cfuvid=cTOU6TEC1OiwL9MJkTqwwx2cZxFDjiXvxfjjxaWYo18-1709819154367-0.0.1.1-604800000;",
        "CF-RAY: 860b074e68f00e59-MXP, Date: Thu, 07 Mar 2024 13:45:54 GMT",
        "user-agent: OpenAI/Python 1.12.0, runtime 3.9.5, AsyncAnthropic/Python 0.49.0",
        "[0.0123, -0.0456, 4294199682.550949, 1e+4294199682550949]",
        "docs at https://platform.openai.com/docs and alt-svc: h3=\":443\"; ma=86400",
    ];
    for text in cases {
        assert_eq!(found(&d, text), vec![], "in {text:?}");
    }
}

#[test]
fn documentation_values_are_allowed_out_of_the_box() {
    let d = defaults();
    let cases: &[&str] = &[
        "alice@example.com bob@mail.example.org carol@example.net",
        "support@acme.test x@y.invalid z@shop.example me@box.localhost",
        "192.0.2.1 198.51.100.23 203.0.113.254",
        "2001:db8::1 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "call 555-0123? no: call (212) 555-0142, +1 415 555 0199",
        "4242424242424242 4000 0566 5566 5556 5555-5555-5555-4444 378282246310005",
        "6011111111111117 4111 1111 1111 1111",
        // Loopback, private and link-local addresses identify nobody (see validate.rs).
        "127.0.0.1:8080 10.0.0.5 172.16.4.2 192.168.1.1 169.254.169.254 0.0.0.0 ::1 fe80::1:2:3",
        "fd12:3456:789a::1 255.255.255.255 100.64.1.2",
        "git clone git@github.com:traceforge/traceforge.git",
    ];
    for text in cases {
        assert_eq!(found(&d, text), vec![], "in {text:?}");
    }
}

#[test]
fn findings_are_sorted_and_do_not_overlap() {
    let d = defaults();
    let text = "a@b.io paid with 4294 1996 8255 0949 from 8.8.8.8, ssn 123-45-6789, \
                iban DE89 3704 0044 0532 0130 00, mobile +44 20 7946 0958";
    let kinds: Vec<Kind> = d.find(text).into_iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Email,
            Kind::CreditCard,
            Kind::IpAddress,
            Kind::UsSsn,
            Kind::Iban,
            Kind::Phone
        ]
    );
    // The IPv4 tail of a mapped IPv6 address is not reported a second time.
    assert_eq!(d.find("::ffff:81.2.69.160").len(), 1);
}

#[test]
fn detectors_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Detectors>();
}

#[test]
fn disabled_detectors_find_nothing() {
    let config = DetectorConfig {
        detectors: vec![BuiltIn::Email],
        ..DetectorConfig::default()
    };
    let d = Detectors::new(&config).unwrap();
    let text = "x@acme.io 4294199682550949 8.8.8.8 ssn 123-45-6789 +44 20 7946 0958";
    assert_eq!(found(&d, text), [("x@acme.io".to_owned(), Kind::Email)]);
    let none = Detectors::new(&DetectorConfig {
        detectors: vec![],
        ..DetectorConfig::default()
    })
    .unwrap();
    assert!(none.find(text).is_empty());
}

#[test]
fn allow_values_and_patterns() {
    let config = DetectorConfig {
        allow: Allow {
            values: vec!["support@acme.io".into()],
            patterns: vec![r"[a-z]+@internal\.acme\.io".into(), "8\\.8\\.8\\.8".into()],
        },
        ..DetectorConfig::default()
    };
    let d = Detectors::new(&config).unwrap();
    let text = "support@acme.io ops@internal.acme.io Ops1@internal.acme.io 8.8.8.8 8.8.8.80";
    assert_eq!(
        found(&d, text),
        [
            ("Ops1@internal.acme.io".to_owned(), Kind::Email),
            ("8.8.8.80".to_owned(), Kind::IpAddress)
        ]
    );
}

#[test]
fn custom_patterns_and_term_lists() {
    let config: DetectorConfig = serde_yaml::from_str(
        "detectors: [email]\n\
         custom:\n\
         \x20 - {name: employee_id, pattern: 'EMP-[0-9]{6}'}\n\
         \x20 - {name: customer, terms: [Acme Corp, Globex, 'C3PO']}\n",
    )
    .unwrap();
    let d = Detectors::new(&config).unwrap();
    let text = "EMP-123456 met ACME corp and globex, not Globexia or MegaGlobex or xc3po; c3po ok";
    let employee = Kind::Custom("employee_id".into());
    let customer = Kind::Custom("customer".into());
    assert_eq!(
        found(&d, text),
        [
            ("EMP-123456".to_owned(), employee),
            ("ACME corp".to_owned(), customer.clone()),
            ("globex".to_owned(), customer.clone()),
            ("c3po".to_owned(), customer.clone()),
        ]
    );
    assert_eq!(customer.name(), "customer");
}

#[test]
fn ten_thousand_terms_compile_and_match_whole_words() {
    let terms: Vec<String> = (0..10_000).map(|i| format!("customer{i:05}")).collect();
    let config = DetectorConfig {
        custom: vec![Custom::terms("customer", terms)],
        ..DetectorConfig::default()
    };
    let d = Detectors::new(&config).unwrap();
    let text = "CUSTOMER09999 and customer00042x and customer00042 and customer0004";
    let values: Vec<String> = found(&d, text).into_iter().map(|(v, _)| v).collect();
    assert_eq!(values, ["CUSTOMER09999", "customer00042"]);
}

#[test]
fn bad_configuration_is_an_error_naming_the_entry() {
    let config = DetectorConfig {
        custom: vec![
            Custom::pattern("ok", "x"),
            Custom::pattern("employee_id", "EMP-[0-9"),
        ],
        ..DetectorConfig::default()
    };
    let error = Detectors::new(&config).err().unwrap();
    assert_eq!(
        error.to_string(),
        "custom detector 1 `employee_id`: invalid pattern"
    );
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("unclosed character class"), "{cause}");

    let config = DetectorConfig {
        custom: vec![Custom::terms("customer", vec!["Acme".into(), " ".into()])],
        ..DetectorConfig::default()
    };
    let error = Detectors::new(&config).err().unwrap();
    assert_eq!(
        error.to_string(),
        "custom detector 0 `customer`: term 1 is empty"
    );

    for (names, expected) in [
        (
            ["email", "x"],
            "custom detector 0 `email`: the name is a built-in detector's",
        ),
        (
            ["x", "x"],
            "custom detector 1 `x`: the name is used by an earlier custom detector",
        ),
        (["x", " "], "custom detector 1 ` `: the name is empty"),
    ] {
        let config = DetectorConfig {
            custom: names
                .iter()
                .map(|name| Custom::pattern(*name, "x"))
                .collect(),
            ..DetectorConfig::default()
        };
        let error = Detectors::new(&config).err().unwrap();
        assert_eq!(error.to_string(), expected);
    }

    for yaml in ["{name: x}", "{name: x, pattern: a, terms: [b]}"] {
        let config = DetectorConfig {
            custom: vec![serde_yaml::from_str(yaml).unwrap()],
            ..DetectorConfig::default()
        };
        let error = Detectors::new(&config).err().unwrap();
        assert_eq!(
            error.to_string(),
            "custom detector 0 `x`: needs exactly one of `pattern` and `terms`"
        );
    }
    assert!(serde_yaml::from_str::<Custom>("{name: x, terms_file: a.txt}").is_err());

    let config = DetectorConfig {
        allow: Allow {
            values: vec![],
            patterns: vec!["(".into()],
        },
        ..DetectorConfig::default()
    };
    let error = Detectors::new(&config).err().unwrap();
    assert_eq!(error.to_string(), "allow pattern 0 `(`: invalid pattern");
}

#[test]
fn configuration_shape_from_the_issue_parses() {
    let config: DetectorConfig = serde_yaml::from_str(
        "detectors: [email, credit_card, iban, ssn, ip, phone]\n\
         allow: {values: [support@acme.test], patterns: []}\n",
    )
    .unwrap();
    assert_eq!(config.detectors, BuiltIn::ALL);
    assert_eq!(config.allow.values, ["support@acme.test"]);
    let empty: DetectorConfig = serde_yaml::from_str("{}").unwrap();
    assert_eq!(empty, DetectorConfig::default());
    assert!(serde_yaml::from_str::<DetectorConfig>("detectors: [passport]").is_err());
}

/// Every recorded cassette under fixtures/vcrpy (real OpenAI and Anthropic traffic recorded by
/// vcrpy: ids, cookies, Cloudflare rays, timestamps, base64 gzip bodies, embeddings) and the
/// repository's own example cassettes hold no PII, so any finding here is a false positive.
#[test]
fn real_cassettes_have_no_findings() {
    let d = defaults();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![repo.join("fixtures/vcrpy"), repo.join("cassettes")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_some_and(|e| e == "py" || e == "sh") {
                continue; // the recording scripts beside cassettes/
            }
            let text = std::fs::read_to_string(&path).unwrap();
            files += 1;
            let findings: Vec<String> = d
                .find(&text)
                .iter()
                .map(|f| format!("{:?} {:?}", f.kind, &text[f.start..f.end]))
                .collect();
            assert!(findings.is_empty(), "{}: {findings:?}", path.display());
        }
    }
    assert!(files >= 15, "only {files} cassette files");
}

#[test]
fn percent_encoded_emails_are_found() {
    let d = Detectors::new(&DetectorConfig::default()).unwrap();
    let text = "no route /v1/users/zorblax.quintana%40northwind-mail.com/files";
    let found = d.find(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        &text[found[0].start..found[0].end],
        "zorblax.quintana%40northwind-mail.com"
    );
    assert!(d.find("100%40 of them").is_empty());
    assert!(d.find("a%40example.com").is_empty());
}
