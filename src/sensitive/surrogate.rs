//! Surrogates: the value written in place of a detected one in `pseudonymize` mode. Each is of
//! the same kind as its original (an e-mail stays an e-mail, a card a digit run of the same
//! length and grouping, an IBAN keeps its country and length), decided by the keyed bytes of
//! the original alone (so the same value gets the same surrogate everywhere the key is the
//! same), and drawn from a space the detectors never report, so pseudonymising twice changes
//! nothing:
//!
//! | kind | surrogate | why it is not reported |
//! |---|---|---|
//! | e-mail | `k3x9…@pii.invalid` | `.invalid` is a reserved domain |
//! | card | same length and grouping, each group led by 0 | no issuer prefix, Luhn fails |
//! | IBAN | same country, length and spacing | the mod-97 check fails |
//! | SSN | `9xx-xx-xxxx`, same delimiters | area 900–999 is never issued |
//! | IPv4 / IPv6 | `240.0.0.0/4` / `2001:db8::/32` | reserved / documentation ranges |
//! | phone | `+999 …`, same digit count | +999 is no country's code |
//! | custom | `<NAME_k3x9q2ab>` | a placeholder token, never reported |

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{validate, Kind};

/// Letters and digits a surrogate's random part is spelled in: lowercase, no look-alikes.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// The surrogate of `value`, a finding of `kind`, given its keyed bytes.
pub fn surrogate(kind: &Kind, value: &str, bytes: &[u8; 32]) -> String {
    match kind {
        Kind::Email => format!("{}@pii.invalid", word(bytes, 10)),
        Kind::CreditCard => card(value, bytes),
        Kind::Iban => iban(value, bytes),
        Kind::UsSsn => ssn(value, bytes),
        Kind::IpAddress => ip(value, bytes),
        Kind::Phone => phone(value, bytes),
        Kind::Custom(name) => format!("<{}_{}>", name.to_ascii_uppercase(), word(bytes, 8)),
    }
}

/// The placeholder `mask` writes for a finding of `kind`: `<EMAIL>`, `<CREDIT_CARD>`, …
pub fn placeholder(kind: &Kind) -> String {
    format!("<{}>", kind.name().to_ascii_uppercase())
}

/// Whether `text[start..end]` lies within a placeholder or a custom surrogate (`<NAME>`,
/// `<NAME_k3x9q2ab>`), which a custom pattern must not find again.
pub fn within_token(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let Some(open) = text[..start.min(text.len())].rfind('<') else {
        return false;
    };
    let Some(close) = text[open..].find('>').map(|c| open + c) else {
        return false;
    };
    if close + 1 < end {
        return false;
    }
    let inner = &bytes[open + 1..close];
    !inner.is_empty()
        && inner[0].is_ascii_uppercase()
        && inner.iter().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_' || b.is_ascii_lowercase()
        })
}

fn word(bytes: &[u8; 32], len: usize) -> String {
    bytes[..len]
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// `value` with its digits replaced, one keyed byte each, every other character kept.
fn redigit(value: &str, bytes: &[u8; 32]) -> Vec<u8> {
    let mut k = 0;
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_digit() {
                let d = b'0' + bytes[k % 32] % 10;
                k += 1;
                d
            } else {
                b
            }
        })
        .collect()
}

fn digit_positions(text: &[u8]) -> Vec<usize> {
    (0..text.len())
        .filter(|&i| text[i].is_ascii_digit())
        .collect()
}

fn card(value: &str, bytes: &[u8; 32]) -> String {
    let mut out = redigit(value, bytes);
    // Every digit group starts with 0, a prefix no issuer has, so no run of groups inside the
    // surrogate is a card either.
    for i in 0..out.len() {
        if out[i].is_ascii_digit() && (i == 0 || !out[i - 1].is_ascii_digit()) {
            out[i] = b'0';
        }
    }
    let at = digit_positions(&out);
    let digits: Vec<u8> = at.iter().map(|&i| out[i]).collect();
    if validate::luhn(&digits) {
        // Changing one digit always changes the Luhn sum.
        let last = *at.last().expect("a card has digits");
        out[last] = b'0' + (out[last] - b'0' + 1) % 10;
    }
    String::from_utf8(out).expect("ASCII")
}

fn iban(value: &str, bytes: &[u8; 32]) -> String {
    let mut out: Vec<u8> = value.bytes().collect();
    let mut k = 0;
    // Keep the country (the first two letters); redraw the rest, digits as digits and letters as
    // letters, so the country's format is kept.
    for (i, b) in out.iter_mut().enumerate() {
        let r = bytes[k % 32];
        if i < 2 || *b == b' ' {
            continue;
        }
        k += 1;
        if b.is_ascii_digit() {
            *b = b'0' + r % 10;
        } else if b.is_ascii_alphabetic() {
            *b = b'A' + r % 26;
        }
    }
    // A spaced group led by a digit is led by 0, so no run of groups reads as a card.
    for i in 1..out.len() {
        if out[i - 1] == b' ' && out[i].is_ascii_digit() {
            out[i] = b'0';
        }
    }
    let compact: Vec<u8> = out.iter().copied().filter(|b| *b != b' ').collect();
    if validate::iban_checksum(&compact) {
        let check = 3; // the second check digit
        let at = out
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != b' ')
            .nth(check)
            .map(|(i, _)| i)
            .expect("an IBAN has check digits");
        out[at] = b'0' + (out[at] - b'0' + 1) % 10;
    }
    String::from_utf8(out).expect("ASCII")
}

fn ssn(value: &str, bytes: &[u8; 32]) -> String {
    let mut out = redigit(value, bytes);
    if let Some(&first) = digit_positions(&out).first() {
        out[first] = b'9';
    }
    String::from_utf8(out).expect("ASCII")
}

fn ip(value: &str, bytes: &[u8; 32]) -> String {
    if value.contains(':') {
        let mut segments = [0u16; 8];
        segments[0] = 0x2001;
        segments[1] = 0x0db8;
        for (i, segment) in segments.iter_mut().enumerate().skip(2) {
            *segment = u16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]]);
        }
        Ipv6Addr::from(segments).to_string()
    } else {
        Ipv4Addr::new(240 + bytes[0] % 15, bytes[1], bytes[2], bytes[3]).to_string()
    }
}

fn phone(value: &str, bytes: &[u8; 32]) -> String {
    let out = String::from_utf8(redigit(value, bytes)).expect("ASCII");
    match out.strip_prefix('+') {
        Some(rest) => {
            let code = rest.bytes().take_while(u8::is_ascii_digit).count();
            format!("+999{}", &rest[code..])
        }
        None => format!("+999 {out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensitive::{DetectorConfig, Detectors};

    fn bytes(seed: u8) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, x) in b.iter_mut().enumerate() {
            *x = seed
                .wrapping_mul(31)
                .wrapping_add((i as u8).wrapping_mul(97));
        }
        b
    }

    #[test]
    fn surrogates_keep_their_kind_and_are_never_found() {
        let detectors = Detectors::new(&DetectorConfig::default()).unwrap();
        let cases = [
            (
                Kind::Email,
                "contact jane.doe@acme.io now",
                "jane.doe@acme.io",
            ),
            (
                Kind::CreditCard,
                "card 5376 1234 5678 9010 ok",
                "5376 1234 5678 9010",
            ),
            (
                Kind::CreditCard,
                "card 4294-1996-8255-0949",
                "4294-1996-8255-0949",
            ),
            (
                Kind::Iban,
                "iban DE89 3704 0044 0532 0130 00",
                "DE89 3704 0044 0532 0130 00",
            ),
            (
                Kind::Iban,
                "iban GB82WEST12345698765432",
                "GB82WEST12345698765432",
            ),
            (Kind::UsSsn, "my ssn is 078-05-1121", "078-05-1121"),
            (Kind::IpAddress, "from 81.2.69.160 today", "81.2.69.160"),
            (
                Kind::IpAddress,
                "from 2a00:1450:4001:80b::200e",
                "2a00:1450:4001:80b::200e",
            ),
            (Kind::Phone, "call +44 20 7946 0958", "+44 20 7946 0958"),
            (Kind::Phone, "phone (415) 555-2671", "(415) 555-2671"),
        ];
        for (kind, text, value) in cases {
            let found = detectors.find(text);
            assert!(
                found
                    .iter()
                    .any(|f| f.kind == kind && &text[f.start..f.end] == value),
                "{value} not found in {text}: {found:?}"
            );
            for seed in 0..=255 {
                let s = surrogate(&kind, value, &bytes(seed));
                let shown = text.replace(value, &s);
                let again = detectors.find(&shown);
                assert!(
                    again.is_empty(),
                    "{kind:?} surrogate {s} is found: {again:?}"
                );
                match kind {
                    Kind::CreditCard | Kind::Iban => assert_eq!(s.len(), value.len(), "{s}"),
                    Kind::Email => assert!(s.ends_with("@pii.invalid"), "{s}"),
                    Kind::Phone => assert!(s.starts_with("+999"), "{s}"),
                    _ => {}
                }
            }
        }
        assert_eq!(
            &surrogate(&Kind::Iban, "DE89370400440532013000", &bytes(1))[..2],
            "DE"
        );
    }

    #[test]
    fn placeholders_and_custom_surrogates_are_tokens() {
        assert_eq!(placeholder(&Kind::CreditCard), "<CREDIT_CARD>");
        let s = surrogate(&Kind::Custom("employee_id".into()), "EMP-123456", &bytes(3));
        assert!(
            s.starts_with("<EMPLOYEE_ID_") && s.len() == "<EMPLOYEE_ID_>".len() + 8,
            "{s}"
        );
        let text = format!("id {s} and <EMAIL> here");
        let at = text.find(&s).unwrap();
        assert!(within_token(&text, at + 2, at + 8));
        let mail = text.find("<EMAIL>").unwrap();
        assert!(within_token(&text, mail + 1, mail + 6));
        assert!(!within_token("id EMP-123456 here", 3, 13));
        assert!(!within_token("a < b and EMP-1 > c", 10, 15));
    }
}
