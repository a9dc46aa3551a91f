//! Checks that turn a candidate into a finding: checksums (Luhn, IBAN mod-97), issuer prefixes,
//! the IBAN length table, SSN ranges, the address ranges that identify nobody, and the
//! documentation values allowed out of the box. Pure functions over bytes; no scanning here.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Luhn checksum over ASCII digits (callers pass digits only).
pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The first `n` digits as a number (callers guarantee at least `n` ASCII digits, n ≤ 6).
fn prefix(digits: &[u8], n: usize) -> u32 {
    digits
        .iter()
        .take(n)
        .fold(0, |acc, &d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// A payment card number: 12–19 digits, a known issuer prefix, Luhn valid.
pub(super) fn is_card(digits: &[u8]) -> bool {
    if !(12..=19).contains(&digits.len()) {
        return false;
    }
    let p1 = prefix(digits, 1);
    let p2 = prefix(digits, 2);
    let p3 = prefix(digits, 3);
    let p4 = prefix(digits, 4);
    let issuer = p1 == 4                       // Visa
        || (50..=58).contains(&p2)             // Mastercard 51–55, Maestro 50, 56–58
        || (2221..=2720).contains(&p4)         // Mastercard 2-series
        || p2 == 34 || p2 == 37                // Amex
        || p2 == 36 || p2 == 38 || p2 == 39 || (300..=305).contains(&p3) // Diners
        || (3528..=3589).contains(&p4)         // JCB
        || p1 == 6; // Discover 6011/644–649/65, UnionPay 62, Maestro 6…, RuPay 60
    issuer && luhn(digits)
}

/// Published test card numbers (Stripe, Visa, Adyen, PayPal docs): fixtures and examples use
/// them, and they charge no one.
const TEST_CARDS: &[&str] = &[
    "4242424242424242",
    "4000056655665556",
    "4000002500003155",
    "4000000000003220",
    "4000000000000002",
    "4000000000000077",
    "4000000000009995",
    "4000000000000069",
    "4000000000000127",
    "4000000000000119",
    "4111111111111111",
    "4012888888881881",
    "4222222222222",
    "5555555555554444",
    "2223003122003222",
    "5200828282828210",
    "5105105105105100",
    "5500000000000004",
    "5454545454545454",
    "378282246310005",
    "371449635398431",
    "340000000000009",
    "6011111111111117",
    "6011000990139424",
    "6011000000000004",
    "3056930009020004",
    "36227206271667",
    "30569309025904",
    "38520000023237",
    "30000000000004",
    "3566002020360505",
    "3530111333300000",
    "6200000000000005",
    "6759649826438453",
];

pub(super) fn is_test_card(digits: &[u8]) -> bool {
    TEST_CARDS.iter().any(|c| c.as_bytes() == digits)
}

/// IBAN length by country (SWIFT IBAN registry, release 2024/2025).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20), (b"BE", 16),
    (b"BG", 22), (b"BH", 22), (b"BI", 27), (b"BR", 29), (b"BY", 28), (b"CH", 21), (b"CR", 22),
    (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DJ", 27), (b"DK", 18), (b"DO", 28), (b"EE", 20),
    (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FK", 18), (b"FO", 18), (b"FR", 27), (b"GB", 22),
    (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27), (b"GT", 28), (b"HN", 28), (b"HR", 21),
    (b"HU", 28), (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26), (b"IT", 27), (b"JO", 30),
    (b"KW", 30), (b"KZ", 20), (b"LB", 28), (b"LC", 32), (b"LI", 21), (b"LT", 20), (b"LU", 20),
    (b"LV", 21), (b"LY", 25), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MN", 20),
    (b"MR", 27), (b"MT", 31), (b"MU", 30), (b"NI", 28), (b"NL", 18), (b"NO", 15), (b"OM", 23),
    (b"PK", 24), (b"PL", 28), (b"PS", 29), (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"RU", 33),
    (b"SA", 24), (b"SC", 31), (b"SD", 18), (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27),
    (b"SO", 23), (b"ST", 25), (b"SV", 28), (b"TL", 23), (b"TN", 24), (b"TR", 26), (b"UA", 29),
    (b"VA", 22), (b"VG", 24), (b"XK", 20), (b"YE", 30),
];

pub(super) fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|&(_, len)| len)
}

/// ISO 13616 check: move the first four characters to the end, letters to 10–35, mod 97 = 1.
/// `iban` is upper-case alphanumeric.
pub(super) fn iban_checksum(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// US SSN rules since 2011 randomisation: area not 000, 666 or 9xx; group not 00; serial not
/// 0000. `area`, `group`, `serial` are 3, 2 and 4 ASCII digits.
pub(super) fn is_ssn(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    let a = prefix(area, 3);
    a != 0 && a != 666 && a < 900 && prefix(group, 2) != 0 && prefix(serial, 4) != 0
}

/// An IPv4 address that can point at a person or their provider. Not reported: unspecified,
/// "this network", loopback, RFC 1918 private, CGNAT shared space, link-local, the RFC 5737
/// documentation ranges, RFC 2544 benchmarking, multicast, reserved and broadcast. None of
/// those is routable on the internet, so none can be tied to a subscriber, and they fill
/// configuration, logs and docs (`127.0.0.1:8080`, `10.0.0.5`).
pub(super) fn is_reportable_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113))
}

/// The IPv6 counterpart of [`is_reportable_v4`]: not unspecified, loopback, link-local, unique
/// local (fc00::/7), multicast or RFC 3849 documentation (2001:db8::/32); IPv4-mapped addresses
/// follow the IPv4 rule.
pub(super) fn is_reportable_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_reportable_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xff00) == 0xff00
        || (s[0] == 0x2001 && s[1] == 0x0db8))
}

/// Domains reserved for documentation and testing (RFC 2606, RFC 6761).
pub(super) fn is_documentation_domain(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    let d = d.trim_end_matches('.');
    let tld = d.rsplit('.').next().unwrap_or(d);
    if matches!(tld, "test" | "invalid" | "example" | "localhost") {
        return true;
    }
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|base| d == *base || d.strip_suffix(base).is_some_and(|rest| rest.ends_with('.')))
}

/// `git@github.com`-style SSH remotes of code hosts: a service account in every clone URL
/// that coding assistants pass around, not a person's address.
pub(super) fn is_git_remote(address: &str) -> bool {
    [
        "git@github.com",
        "git@gitlab.com",
        "git@bitbucket.org",
        "git@ssh.dev.azure.com",
    ]
    .iter()
    .any(|remote| address.eq_ignore_ascii_case(remote))
}

/// North American 555-0100 to 555-0199, reserved for fiction. `digits` are the phone's digits,
/// country code included.
pub(super) fn is_fictional_phone(digits: &[u8]) -> bool {
    let national = match digits.len() {
        10 => digits,
        11 if digits[0] == b'1' => &digits[1..],
        _ => return false,
    };
    &national[3..6] == b"555" && &national[6..8] == b"01"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(iban_checksum(b"GB82WEST12345698765432"));
        assert!(!iban_checksum(b"GB83WEST12345698765432"));
        assert_eq!(iban_length(b"DE"), Some(22));
        assert_eq!(iban_length(b"ZZ"), None);
    }

    #[test]
    fn every_test_card_is_a_valid_card() {
        for card in TEST_CARDS {
            assert!(is_card(card.as_bytes()), "{card}");
        }
    }

    #[test]
    fn ranges_and_domains() {
        assert!(is_reportable_v4(Ipv4Addr::new(8, 8, 8, 8)));
        assert!(!is_reportable_v4(Ipv4Addr::new(192, 168, 1, 1)));
        assert!(!is_reportable_v4(Ipv4Addr::new(203, 0, 113, 9)));
        assert!(is_reportable_v6("2606:4700::6810:85e5".parse().unwrap()));
        assert!(!is_reportable_v6("2001:db8::1".parse().unwrap()));
        assert!(!is_reportable_v6("::ffff:10.1.2.3".parse().unwrap()));
        assert!(is_documentation_domain("mail.Example.COM"));
        assert!(is_documentation_domain("acme.test"));
        assert!(!is_documentation_domain("notexample.com"));
        assert!(!is_documentation_domain("example.com.evil.io"));
        assert!(is_fictional_phone(b"15555550123"));
        assert!(!is_fictional_phone(b"5555550200"));
    }
}
