//! The built-in detectors' candidate scan: one pass over words for digit chains and IBANs, a
//! `memchr` pass over `@` for e-mail addresses and one over `:` for IPv6. Text without
//! candidates is skimmed byte by byte; each candidate is validated by code in `validate`, never
//! by a large regex. Offsets are byte offsets into the text, always on `char` boundaries: spans
//! start and end on ASCII bytes, except e-mail addresses, whose scan moves by whole chars.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::validate;
use super::{Finding, Kind};

/// Which built-in detectors run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Enabled {
    pub email: bool,
    pub card: bool,
    pub iban: bool,
    pub ssn: bool,
    pub ip: bool,
    pub phone: bool,
}

/// Digit groups followed in one chain (`+1 (415) 555-2671`, `4111 1111 1111 1111`); longer
/// space-separated number lists are cut into chains of this many groups.
const MAX_GROUPS: usize = 12;

/// Groups a chain cut at `MAX_GROUPS` shares with the next one: the most any value spans.
const OVERLAP: usize = 6;

/// Context words must appear this close before (or just after) an ambiguous digit run.
const CONTEXT_BEFORE: usize = 48;
const CONTEXT_AFTER: usize = 24;

/// Whole words that make a bare 10–11 digit run a phone number.
const PHONE_WORDS: &[&[u8]] = &[
    b"phone",
    b"phones",
    b"telephone",
    b"tel",
    b"call",
    b"calls",
    b"called",
    b"mobile",
    b"cell",
    b"cellphone",
    b"fax",
    b"whatsapp",
    b"sms",
    b"contact",
    b"landline",
    b"phone number",
];

/// Whole words that make nine contiguous digits a US SSN.
const SSN_WORDS: &[&[u8]] = &[b"ssn", b"ssns", b"social security", b"ss#", b"ss no"];

/// File extensions that look like top-level domains after an `@` (`icon@2x.png`).
const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "ts", "json", "yaml", "yml",
    "py", "rs", "md", "txt", "html",
];

pub(super) fn scan(text: &str, on: Enabled, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    if on.email {
        emails(text, out);
    }
    if on.ip {
        ipv6(text, out);
    }
    if on.card || on.iban || on.ssn || on.ip || on.phone {
        words(bytes, on, out);
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn word_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !is_word(b))
        .map_or(bytes.len(), |p| from + p)
}

/// True when a value may start at `start`: the byte before is not part of a word, nor glue
/// (`-`, `.`, `/`, `+`) right after a word, as in `chatcmpl-…123`, `v1.2.3.4`, `abc/4111…` or
/// base64's `x+123…`. This is what keeps ids, versions and blobs quiet.
fn left_clear(bytes: &[u8], start: usize) -> bool {
    match start.checked_sub(1).map(|i| bytes[i]) {
        None => true,
        Some(b) if is_word(b) => false,
        Some(b'-' | b'.' | b'/' | b'+') => start < 2 || !is_word(bytes[start - 2]),
        Some(_) => true,
    }
}

/// True when a value may end at `end`: not followed by a word byte, nor by `-` or `.` and a word
/// byte (`…-G6bi`, `1.2.3.4.5`). A sentence's final full stop is fine.
fn right_clear(bytes: &[u8], end: usize) -> bool {
    match bytes.get(end) {
        None => true,
        Some(&b) if is_word(b) => false,
        Some(b'-' | b'.') => !bytes.get(end + 1).is_some_and(|&b| is_word(b)),
        Some(_) => true,
    }
}

/// Whether one of `words` occurs as a whole word (ASCII case-insensitive) near `start..end`.
fn has_context(bytes: &[u8], start: usize, end: usize, words: &[&[u8]]) -> bool {
    let from = start.saturating_sub(CONTEXT_BEFORE);
    let to = (end + CONTEXT_AFTER).min(bytes.len());
    let window = &bytes[from..to];
    words.iter().any(|word| {
        window.windows(word.len()).enumerate().any(|(i, w)| {
            w.eq_ignore_ascii_case(word)
                && (i == 0 || !is_word(window[i - 1]))
                && window.get(i + word.len()).is_none_or(|&b| !is_word(b))
        })
    })
}

// ---------------------------------------------------------------------------------------------
// E-mail

/// Scripts written without spaces between words (CJK, kana, Hangul, Thai, full-width forms):
/// their letters end an address instead of joining it, so `请联系jane@acme.io。` gives
/// `jane@acme.io`. Other letters join it, so `josé@bücher.de` is found whole.
fn is_spaceless_script(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0E7F}'
        | '\u{3000}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF00}'..='\u{FFEF}')
}

fn is_local(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
    } else {
        c.is_alphanumeric() && !is_spaceless_script(c)
    }
}

fn is_domain(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
    } else {
        c.is_alphanumeric() && !is_spaceless_script(c)
    }
}

fn valid_domain(domain: &str) -> bool {
    let mut labels = 0;
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        labels += 1;
    }
    let tld = domain.rsplit('.').next().unwrap_or("");
    labels >= 2
        && tld.chars().nth(1).is_some()
        && tld.chars().all(char::is_alphabetic)
        && !FILE_EXTENSIONS
            .iter()
            .any(|ext| tld.eq_ignore_ascii_case(ext))
}

/// RFC 5321's limit on the local part, in bytes; a longer run before `@` is not an address.
const MAX_LOCAL: usize = 64;

fn emails(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    emails_around(
        text,
        memchr::memchr_iter(b'@', bytes).map(|at| (at, 1)),
        out,
    );
    // Percent-encoded, as a URL or an error quoting one writes it: `jane%40acme.io`.
    if memchr::memmem::find(bytes, b"%40").is_some() {
        emails_around(
            text,
            memchr::memmem::find_iter(bytes, b"%40").map(|at| (at, 3)),
            out,
        );
    }
}

/// Emails around each separator (`@`, or `%40`: its position and length).
fn emails_around(
    text: &str,
    separators: impl Iterator<Item = (usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let mut resume = 0;
    for (at, sep) in separators {
        if at < resume {
            continue;
        }
        // `at`, `start` and `end` only move by whole chars from an ASCII `@`: char boundaries.
        let mut start = at;
        while let Some(c) = text[..start].chars().next_back().filter(|&c| is_local(c)) {
            if at - start >= MAX_LOCAL {
                break;
            }
            start -= c.len_utf8();
        }
        if text[..start].chars().next_back().is_some_and(is_local) {
            continue;
        }
        while text[start..at].starts_with('.') {
            start += 1;
        }
        let mut end = at + sep;
        while let Some(c) = text[end..].chars().next().filter(|&c| is_domain(c)) {
            end += c.len_utf8();
        }
        while text[at + sep..end].ends_with(['.', '-']) {
            end -= 1;
        }
        let domain = &text[at + sep..end];
        if start == at || text[end..].starts_with('_') || !valid_domain(domain) {
            continue;
        }
        resume = end;
        if !validate::is_documentation_domain(domain) && !validate::is_git_remote(&text[start..end])
        {
            out.push(Finding::new(start, end, Kind::Email));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IPv6

fn is_v6(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

fn ipv6(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut resume = 0;
    for colon in memchr::memchr_iter(b':', bytes) {
        if colon < resume {
            continue;
        }
        let mut start = colon;
        while start > 0 && is_v6(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = colon + 1;
        while end < bytes.len() && is_v6(bytes[end]) {
            end += 1;
        }
        resume = end;
        while end > start && bytes[end - 1] == b'.' {
            end -= 1;
        }
        if end - start < 6
            || end - start > 45
            || (start > 0 && (is_word(bytes[start - 1]) || bytes[start - 1] == b'.'))
            || bytes.get(end).is_some_and(|&b| is_word(b))
        {
            continue;
        }
        let candidate = &text[start..end];
        // Three groups at least (an embedded IPv4 counts two): `a:b::`-shaped words and `::`
        // alone are not worth a finding.
        let groups: usize = candidate
            .split(':')
            .map(|g| match g {
                "" => 0,
                g if g.contains('.') => 2,
                _ => 1,
            })
            .sum();
        if groups < 3 {
            continue;
        }
        if let Ok(ip) = candidate.parse::<Ipv6Addr>() {
            if validate::is_reportable_v6(ip) {
                out.push(Finding::new(start, end, Kind::IpAddress));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Words: digit chains (cards, SSNs, IPv4, phones) and IBANs

fn words(bytes: &[u8], on: Enabled, out: &mut Vec<Finding>) {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !is_word(b) {
            i += 1;
            continue;
        }
        let mut next = word_end(bytes, i);
        if b.is_ascii_digit() {
            if left_clear(bytes, i) {
                next = next.max(digit_chain(bytes, i, on, out));
            }
        } else if on.iban && b.is_ascii_uppercase() {
            if let Some(end) = iban(bytes, i) {
                out.push(Finding::new(i, end, Kind::Iban));
                next = next.max(end);
            }
        }
        i = next;
    }
}

fn digits_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(bytes.len(), |p| from + p)
}

/// The separator between two digit groups, if `bytes[at..]` holds one followed by a digit.
fn separator_len(bytes: &[u8], at: usize) -> Option<usize> {
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    match (bytes.get(at), bytes.get(at + 1)) {
        (Some(b' ' | b'-' | b'.' | b')'), _) if digit_at(at + 1) => Some(1),
        (Some(b')'), Some(b' ' | b'-')) | (Some(b' '), Some(b'(')) if digit_at(at + 2) => Some(2),
        _ => None,
    }
}

/// Reads the chain of digit groups starting at `start`, reports what it holds and returns where
/// the scan resumes (after the word the chain ends in).
fn digit_chain(bytes: &[u8], start: usize, on: Enabled, out: &mut Vec<Finding>) -> usize {
    let mut groups = [(0usize, 0usize); MAX_GROUPS];
    let mut count = 0;
    let mut at = start;
    let mut cut = false;
    loop {
        let end = digits_end(bytes, at);
        groups[count] = (at, end);
        count += 1;
        match separator_len(bytes, end) {
            Some(len) if count < MAX_GROUPS => at = end + len,
            Some(_) => {
                cut = true;
                break;
            }
            None => break,
        }
    }
    let groups = &groups[..count];
    let single = |(s, e): (usize, usize)| left_clear(bytes, s) && right_clear(bytes, e);

    for &(s, e) in groups {
        let digits = &bytes[s..e];
        if on.card && (12..=19).contains(&digits.len()) && single((s, e)) && !after_plus(bytes, s) {
            push_card(digits, s, e, out);
        }
        if on.ssn
            && digits.len() == 9
            && single((s, e))
            && validate::is_ssn(&digits[..3], &digits[3..5], &digits[5..])
            && has_context(bytes, s, e, SSN_WORDS)
        {
            out.push(Finding::new(s, e, Kind::UsSsn));
        }
    }

    // Runs of groups joined by one and the same one-byte separator.
    let mut first = 0;
    while first + 1 < groups.len() {
        let sep = bytes[groups[first].1];
        let mut last = first;
        while last + 1 < groups.len()
            && groups[last + 1].0 == groups[last].1 + 1
            && bytes[groups[last].1] == sep
        {
            last += 1;
        }
        if last > first {
            let run = &groups[first..=last];
            match sep {
                b'.' if on.ip => ipv4(bytes, run, out),
                b' ' | b'-' => {
                    if on.card {
                        grouped_cards(bytes, run, out);
                    }
                    if on.ssn {
                        grouped_ssn(bytes, run, out);
                    }
                }
                _ => {}
            }
        }
        first = last.max(first + 1);
    }

    if on.phone {
        phone(bytes, groups, out);
    }
    if cut {
        // A long list of numbers: the next chain starts at its last few groups again, so a
        // card or phone straddling the cut is still seen whole (duplicates merge in `find`).
        return groups[MAX_GROUPS - OVERLAP].0;
    }
    let last_end = groups[groups.len() - 1].1;
    word_end(bytes, last_end)
}

fn after_plus(bytes: &[u8], start: usize) -> bool {
    start > 0 && bytes[start - 1] == b'+'
}

fn push_card(digits: &[u8], start: usize, end: usize, out: &mut Vec<Finding>) {
    if validate::is_card(digits) && !validate::is_test_card(digits) {
        out.push(Finding::new(start, end, Kind::CreditCard));
    }
}

/// Cards printed in groups: fours with a shorter last group (`4111 1111 1111 1111`,
/// `6759 6498 2643 8453 2`), or Amex and Diners' 4-6-5 and 4-6-4. Inside a longer space-separated
/// run any window of groups may be the card.
fn grouped_cards(bytes: &[u8], run: &[(usize, usize)], out: &mut Vec<Finding>) {
    let mut from = 0;
    'start: while from < run.len() {
        for to in (from + 3..=(from + 5).min(run.len())).rev() {
            let window = &run[from..to];
            let size = |i: usize| window[i].1 - window[i].0;
            let last = window.len() - 1;
            let fours = (0..last).all(|i| size(i) == 4) && (1..=4).contains(&size(last));
            let amex =
                window.len() == 3 && size(0) == 4 && size(1) == 6 && (4..=5).contains(&size(2));
            let (s, e) = (window[0].0, window[last].1);
            if !((fours || amex) && left_clear(bytes, s) && right_clear(bytes, e)) {
                continue;
            }
            let mut digits = [0u8; 20];
            let mut n = 0;
            for &(a, b) in window {
                if n + (b - a) > digits.len() {
                    break;
                }
                digits[n..n + (b - a)].copy_from_slice(&bytes[a..b]);
                n += b - a;
            }
            let digits = &digits[..n];
            if (12..=19).contains(&n) && validate::is_card(digits) {
                if !validate::is_test_card(digits) && !after_plus(bytes, s) {
                    out.push(Finding::new(s, e, Kind::CreditCard));
                }
                from = to;
                continue 'start;
            }
        }
        from += 1;
    }
}

/// `123-45-6789` or `123 45 6789`: exactly three groups, nothing chained on either side.
fn grouped_ssn(bytes: &[u8], run: &[(usize, usize)], out: &mut Vec<Finding>) {
    let [(a0, a1), (g0, g1), (s0, s1)] = run else {
        return;
    };
    let (area, group, serial) = (&bytes[*a0..*a1], &bytes[*g0..*g1], &bytes[*s0..*s1]);
    if area.len() == 3
        && group.len() == 2
        && serial.len() == 4
        && left_clear(bytes, *a0)
        && right_clear(bytes, *s1)
        && validate::is_ssn(area, group, serial)
    {
        out.push(Finding::new(*a0, *s1, Kind::UsSsn));
    }
}

/// Dotted quads, each octet 0–255 without leading zeros, alone (not part of `1.2.3.4.5`).
fn ipv4(bytes: &[u8], run: &[(usize, usize)], out: &mut Vec<Finding>) {
    let [first, .., last] = run else {
        return;
    };
    if run.len() != 4 || !left_clear(bytes, first.0) || !right_clear(bytes, last.1) {
        return;
    }
    if first.0 > 0 && bytes[first.0 - 1] == b'.' {
        return;
    }
    let mut octets = [0u8; 4];
    for (octet, &(s, e)) in octets.iter_mut().zip(run) {
        let digits = &bytes[s..e];
        if digits.len() > 3 || (digits.len() > 1 && digits[0] == b'0') {
            return;
        }
        let value = digits
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
        let Ok(value) = u8::try_from(value) else {
            return;
        };
        *octet = value;
    }
    if validate::is_reportable_v4(Ipv4Addr::from(octets)) {
        out.push(Finding::new(first.0, last.1, Kind::IpAddress));
    }
}

/// International numbers (`+CC …`, 8–15 digits) always; bare 10–11 digit runs only near a
/// context word, in a national grouping (`415 555 2671`, `(415) 555-2671`, `1-415-555-2671`).
fn phone(bytes: &[u8], groups: &[(usize, usize)], out: &mut Vec<Finding>) {
    let start = groups[0].0;
    let mut digits = Vec::with_capacity(16);
    if after_plus(bytes, start) {
        // No country code starts with 0, and +999 is unassigned: pseudonymised phones use it.
        if bytes[start] == b'0' || bytes[start..].starts_with(b"999") {
            return;
        }
        let mut best = None;
        for &(s, e) in groups {
            if digits.len() + (e - s) > 15 {
                break;
            }
            digits.extend_from_slice(&bytes[s..e]);
            if digits.len() >= 8 && right_clear(bytes, e) {
                best = Some((e, digits.len()));
            }
        }
        if let Some((end, n)) = best {
            if !validate::is_fictional_phone(&digits[..n]) {
                out.push(Finding::new(start - 1, end, Kind::Phone));
            }
        }
        return;
    }
    let open = start > 0 && bytes[start - 1] == b'(';
    let span_start = if open { start - 1 } else { start };
    if open && !left_clear(bytes, span_start) {
        return;
    }
    let mut best = None;
    for (i, &(s, e)) in groups.iter().enumerate().take(5) {
        digits.extend_from_slice(&bytes[s..e]);
        let size = e - s;
        if digits.len() > 11 || (i > 0 && (size > 5 || groups[0].1 - groups[0].0 > 5)) {
            break;
        }
        let shape = if i == 0 { size >= 10 } else { size >= 3 };
        if (10..=11).contains(&digits.len()) && shape && right_clear(bytes, e) {
            best = Some((e, digits.len()));
        }
    }
    if let Some((end, n)) = best {
        if !validate::is_fictional_phone(&digits[..n])
            && has_context(bytes, span_start, end, PHONE_WORDS)
        {
            out.push(Finding::new(span_start, end, Kind::Phone));
        }
    }
}

/// `CC` + two check digits + the country's length of alphanumerics, compact or in groups of
/// four separated by single spaces. Returns the end of a valid IBAN starting at `start`.
fn iban(bytes: &[u8], start: usize) -> Option<usize> {
    let head = bytes.get(start..start + 4)?;
    if !(head[0].is_ascii_uppercase()
        && head[1].is_ascii_uppercase()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit()
        && left_clear(bytes, start))
    {
        return None;
    }
    let len = validate::iban_length(&head[..2])?;
    let mut compact = [0u8; 34];
    let (mut k, mut j, mut spaced) = (0, start, false);
    while k < len {
        match bytes.get(j) {
            Some(&b) if b.is_ascii_alphanumeric() => {
                if spaced && k.is_multiple_of(4) && bytes[j - 1] != b' ' {
                    return None;
                }
                compact[k] = b.to_ascii_uppercase();
                k += 1;
                j += 1;
            }
            Some(b' ')
                if k.is_multiple_of(4)
                    && (spaced || k == 4)
                    && bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) =>
            {
                spaced = true;
                j += 1;
            }
            _ => return None,
        }
    }
    (right_clear(bytes, j) && validate::iban_checksum(&compact[..len])).then_some(j)
}
