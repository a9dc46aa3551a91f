//! The PII key and what is derived from it: the surrogate key (which surrogate a value gets),
//! the audit key (the keyed hash of every redacted value), and the vault's sealing key (the
//! original behind a surrogate, encrypted). One 32-byte secret, written as 64 hex digits;
//! `traceforge pii keygen` prints a new one.
//!
//! Sealing is deterministic, so the same value sealed on two machines or two branches gives the
//! same vault line and a union merge of two vaults is clean: the nonce is an HMAC of the value
//! (a synthetic IV, as AES-SIV does it), and ChaCha20-Poly1305 authenticates the surrogate with
//! the value, so an entry cannot be moved to another surrogate or edited unnoticed.

use base64::Engine as _;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hmac;
use ring::rand::{SecureRandom as _, SystemRandom};

/// Hex digits in a written key.
pub const KEY_HEX_LEN: usize = 64;

/// A key that cannot be used, said in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "expected {KEY_HEX_LEN} hexadecimal digits (a 32-byte key, as `traceforge pii keygen` \
         prints), found {0} characters"
    )]
    Length(usize),
    #[error("character {0} is not a hexadecimal digit")]
    NotHex(usize),
}

/// The derived keys of one PII key.
pub struct PiiKey {
    id: String,
    surrogate: hmac::Key,
    audit: hmac::Key,
    nonce: hmac::Key,
    seal: LessSafeKey,
}

impl std::fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PiiKey({})", self.id)
    }
}

/// A sealed value that does not open with this key: the wrong key, or an edited entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealError;

impl PiiKey {
    /// Reads a key as written: 64 hex digits, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<PiiKey, KeyError> {
        let text = text.trim();
        if text.len() != KEY_HEX_LEN {
            return Err(KeyError::Length(text.chars().count()));
        }
        let mut secret = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            let digit = |at: usize| {
                (pair[at] as char)
                    .to_digit(16)
                    .ok_or(KeyError::NotHex(2 * i + at + 1))
            };
            secret[i] = (digit(0)? * 16 + digit(1)?) as u8;
        }
        Ok(PiiKey::from_secret(&secret))
    }

    /// A new random key, written as [`PiiKey::parse`] reads it.
    pub fn generate() -> String {
        let mut secret = [0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .expect("the system random source works");
        hex(&secret)
    }

    /// An audit key that lives as long as this process: for runs without a PII key, whose
    /// audit hashes can then be compared within the run only.
    pub fn ephemeral() -> PiiKey {
        PiiKey::parse(&PiiKey::generate()).expect("a generated key parses")
    }

    fn from_secret(secret: &[u8; 32]) -> PiiKey {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derive = |label: &str| hmac::sign(&root, label.as_bytes());
        let sub = |label: &str| hmac::Key::new(hmac::HMAC_SHA256, derive(label).as_ref());
        let seal_bytes = derive("traceforge pii seal v1");
        let seal = LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, seal_bytes.as_ref()).expect("a 32-byte key"),
        );
        PiiKey {
            id: hex(&derive("traceforge pii key id v1").as_ref()[..4]),
            surrogate: sub("traceforge pii surrogate v1"),
            audit: sub("traceforge pii audit v1"),
            nonce: sub("traceforge pii nonce v1"),
            seal,
        }
    }

    /// Eight hex digits that name this key without revealing it; the vault records it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Bytes that decide the surrogate of `value` of detector `kind`.
    pub fn surrogate_bytes(&self, kind: &str, value: &str) -> [u8; 32] {
        let tag = hmac::sign(&self.surrogate, &framed(kind, value));
        tag.as_ref().try_into().expect("HMAC-SHA256 is 32 bytes")
    }

    /// The audit hash of `value`: HMAC-SHA256 under the audit key, first 16 bytes in hex.
    pub fn audit_hash(&self, value: &str) -> String {
        hex(&hmac::sign(&self.audit, value.as_bytes()).as_ref()[..16])
    }

    /// `value` encrypted for the vault, bound to its `surrogate`: base64 of nonce and
    /// ciphertext. The same inputs give the same output.
    pub fn seal(&self, surrogate: &str, value: &str) -> String {
        let tag = hmac::sign(&self.nonce, &framed(surrogate, value));
        let nonce: [u8; NONCE_LEN] = tag.as_ref()[..NONCE_LEN].try_into().expect("12 bytes");
        let mut sealed = value.as_bytes().to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(surrogate.as_bytes()),
                &mut sealed,
            )
            .expect("ChaCha20-Poly1305 seals any value this size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
    }

    /// The original sealed by [`PiiKey::seal`] for `surrogate`.
    pub fn open(&self, surrogate: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError)?;
        if bytes.len() < NONCE_LEN + aead::CHACHA20_POLY1305.tag_len() {
            return Err(SealError);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut rest = rest.to_vec();
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(surrogate.as_bytes()), &mut rest)
            .map_err(|_| SealError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError)
    }
}

/// `a` and `b`, length-prefixed so no two pairs frame the same.
fn framed(a: &str, b: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + a.len() + b.len());
    out.extend_from_slice(&(a.len() as u64).to_be_bytes());
    out.extend_from_slice(a.as_bytes());
    out.extend_from_slice(b.as_bytes());
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn keys_parse_and_name_their_problem() {
        assert!(PiiKey::parse(KEY).is_ok());
        assert!(PiiKey::parse(&format!("  {}\n", KEY.to_uppercase())).is_ok());
        assert_eq!(PiiKey::parse("abc").unwrap_err(), KeyError::Length(3));
        let bad = format!("{}g", &KEY[..63]);
        assert_eq!(PiiKey::parse(&bad).unwrap_err(), KeyError::NotHex(64));
        assert_eq!(PiiKey::generate().len(), KEY_HEX_LEN);
        assert_ne!(PiiKey::generate(), PiiKey::generate());
    }

    #[test]
    fn sealing_is_deterministic_bound_and_keyed() {
        let key = PiiKey::parse(KEY).unwrap();
        let sealed = key.seal("s1@pii.invalid", "jane@acme.io");
        assert_eq!(sealed, key.seal("s1@pii.invalid", "jane@acme.io"));
        assert_eq!(key.open("s1@pii.invalid", &sealed).unwrap(), "jane@acme.io");
        assert_eq!(key.open("s2@pii.invalid", &sealed), Err(SealError));
        let other = PiiKey::parse(&PiiKey::generate()).unwrap();
        assert_eq!(other.open("s1@pii.invalid", &sealed), Err(SealError));
        assert_ne!(other.id(), key.id());
        let mut edited = sealed.clone().into_bytes();
        edited[20] = if edited[20] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        assert_eq!(key.open("s1@pii.invalid", &edited), Err(SealError));
        assert_eq!(key.open("s1@pii.invalid", "short"), Err(SealError));
    }

    #[test]
    fn audit_hashes_are_keyed() {
        let key = PiiKey::parse(KEY).unwrap();
        let other = PiiKey::ephemeral();
        assert_eq!(key.audit_hash("078-05-1120").len(), 32);
        assert_eq!(key.audit_hash("078-05-1120"), key.audit_hash("078-05-1120"));
        assert_ne!(
            key.audit_hash("078-05-1120"),
            other.audit_hash("078-05-1120")
        );
    }
}
