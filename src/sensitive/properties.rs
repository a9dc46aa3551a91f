//! Properties over generated input: a value is found the same at any offset in noise, and no
//! input, however malformed, makes `find` panic or return a bad span.

use super::*;

use crate::test_rng::Rng;

#[test]
fn a_value_is_found_the_same_at_any_offset_in_noise() {
    let d = Detectors::new(&DetectorConfig::default()).unwrap();
    let values = [
        "jane@acme.io",
        "4294 1996 8255 0949",
        "GB82WEST12345698765432",
        "123-45-6789",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "+44 20 7946 0958",
    ];
    // Noise that never glues onto a value: words and punctuation, separated by spaces.
    let noise = [
        "the", "of", ",", "(", ")", "\"", "{", "}", "ok:", "é", "—", "\n",
    ];
    let mut rng = Rng(0x5eed);
    for value in values {
        let expected = d.find(value);
        assert_eq!(expected.len(), 1, "{value}");
        for _ in 0..200 {
            let mut text = String::new();
            for _ in 0..rng.below(20) {
                text.push_str(noise[rng.below(noise.len())]);
                text.push(' ');
            }
            let offset = text.len();
            text.push_str(value);
            for _ in 0..rng.below(20) {
                text.push(' ');
                text.push_str(noise[rng.below(noise.len())]);
            }
            let shifted: Vec<Finding> = expected
                .iter()
                .map(|f| Finding::new(f.start + offset, f.end + offset, f.kind.clone()))
                .collect();
            assert_eq!(d.find(&text), shifted, "{text:?}");
        }
    }
}

#[test]
fn random_input_never_panics_and_spans_are_valid() {
    let config = DetectorConfig {
        custom: vec![Custom::terms("t", vec!["ab".into(), "é1".into()])],
        ..DetectorConfig::default()
    };
    let d = Detectors::new(&config).unwrap();
    // Arbitrary bytes; bytes biased towards what the detectors look at; and soups of pieces of
    // real values glued by separators, which reach the validators' edge cases.
    let alphabet = b"0123456789 -.:()+@_/abcdefABCDEFGBDEN#\n\xc3\xa9\xff";
    let pieces = [
        "4294",
        "1996",
        "8255",
        "0949",
        "GB82",
        "WEST",
        "DE89",
        "3704",
        "123",
        "45",
        "6789",
        "8.8.8",
        "2606:4700",
        "::",
        "ffff:",
        "+44",
        "(415)",
        "555",
        "jane",
        "@",
        "acme.io",
        "ssn",
        "call",
        "é",
        "请",
        "0",
        "00",
        "1",
    ];
    let rounds: usize = std::env::var("SENSITIVE_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(42);
    for round in 0..rounds {
        let len = rng.below(200);
        let bytes: Vec<u8> = match round % 3 {
            0 => (0..len).map(|_| rng.next() as u8).collect(),
            1 => (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect(),
            _ => {
                let mut soup = Vec::new();
                for _ in 0..len / 8 {
                    soup.extend_from_slice(pieces[rng.below(pieces.len())].as_bytes());
                    if rng.below(3) > 0 {
                        soup.push(b" -.:"[rng.below(4)]);
                    }
                }
                soup
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let findings = d.find(&text);
        let mut last = 0;
        for f in &findings {
            assert!(f.start >= last && f.start < f.end && f.end <= text.len());
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            last = f.end;
        }
    }
}
