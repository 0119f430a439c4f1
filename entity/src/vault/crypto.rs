//! The cryptography of personal data at rest, as pure functions: sealing a value with
//! XChaCha20-Poly1305 under a key, wrapping one key by another (envelope encryption), and keyed
//! blind indexes (HMAC-SHA256) for exact lookups. Where the keys live and how they are loaded is
//! [`crate::vault`]; which fields are sealed is [`crate::ops::customers::personal`].
//!
//! A sealed value is text: `e1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, with a fresh
//! 24-byte random nonce each time and the field's name as associated data, so a value copied
//! into another field or another customer's row does not open. Text without the `e1.` prefix is
//! a value written before encryption (read as it is until the backfill seals it).
//!
//! XChaCha20-Poly1305 is computed as its draft standard defines it: HChaCha20 of the key and the
//! nonce's first 16 bytes gives a subkey for ChaCha20-Poly1305 (RFC 8439, ring's assembly) with
//! the nonce's last 8 bytes. Personal values are 10–100 bytes, where the RustCrypto AEAD spent
//! most of its time setting up its wide vector backends.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20::cipher::consts::U10;
use hmac::{Hmac, Mac};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, Tag, UnboundKey};
use sha2::Sha256;

/// Prefix of every sealed value (format version 1).
pub const PREFIX: &str = "e1.";

/// Nonce and tag lengths of XChaCha20-Poly1305.
const NONCE: usize = 24;
const TAG: usize = 16;
/// Values up to this many bytes (nonce, ciphertext and tag) are opened and sealed in a buffer
/// on the stack: every personal value but the longest notes, so reading a page of customers
/// allocates only the opened texts.
const STACK: usize = 512;

/// A 256-bit key. Its bytes never leave the process except wrapped by another key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Why a value or key could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("not a sealed value")]
    Malformed,
    #[error("the value was sealed under key {0}, which is not available (erased or never created)")]
    UnknownKey(String),
    #[error("the value does not open with its key (wrong key or altered data)")]
    Forged,
    #[error("a key must be 32 bytes, given as 64 hex digits or 43-44 base64 characters")]
    BadKey,
}

impl Key {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Key(bytes)
    }

    /// A key written as 64 hex digits or as base64 (standard or URL-safe, padded or not).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16)).collect::<Result<Vec<u8>, _>>().map_err(|_| CryptoError::BadKey)?
        } else {
            let unpadded = text.trim_end_matches('=').replace('+', "-").replace('/', "_");
            B64.decode(unpadded).map_err(|_| CryptoError::BadKey)?
        };
        Ok(Key(bytes.try_into().map_err(|_| CryptoError::BadKey)?))
    }

    /// The key as 64 hex digits (for the key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The ChaCha20-Poly1305 key and nonce of XChaCha20-Poly1305 under this key and `nonce`.
    fn cipher(&self, nonce: &[u8; NONCE]) -> (LessSafeKey, Nonce) {
        let head: [u8; 16] = nonce[..16].try_into().expect("a 24-byte nonce has 16 bytes");
        let subkey = chacha20::hchacha::<U10>((&self.0).into(), &head.into());
        let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &subkey).expect("HChaCha20 gives 32 bytes"));
        let mut ietf = [0u8; 12];
        ietf[4..].copy_from_slice(&nonce[16..]);
        (key, Nonce::assume_unique_for_key(ietf))
    }

    /// Seals `plain` as `e1.<key_id>.…`, bound to `field` (the associated data).
    pub fn seal(&self, key_id: &str, field: &str, plain: &[u8]) -> String {
        let total = NONCE + plain.len() + TAG;
        with_buffer(total, |raw| {
            let mut nonce = [0u8; NONCE];
            rand::fill(&mut nonce);
            let (head, rest) = raw.split_at_mut(NONCE);
            head.copy_from_slice(&nonce);
            let (body, tag) = rest.split_at_mut(plain.len());
            body.copy_from_slice(plain);
            let (cipher, n) = self.cipher(&nonce);
            let sealed_tag = with_associated(key_id, field, |aad| cipher.seal_in_place_separate_tag(n, Aad::from(aad), body))
                .expect("ChaCha20-Poly1305 seals any length this service writes");
            tag.copy_from_slice(sealed_tag.as_ref());
            let mut out = String::with_capacity(PREFIX.len() + key_id.len() + 1 + total.div_ceil(3) * 4);
            out.push_str(PREFIX);
            out.push_str(key_id);
            out.push('.');
            B64.encode_string(&*raw, &mut out);
            out
        })
    }

    /// Opens a value [`Key::seal`] made with this key for `field`.
    pub fn open(&self, field: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        self.open_with(field, sealed, <[u8]>::to_vec)
    }

    /// Opens a value [`Key::seal`] made with this key for `field` as text.
    pub fn open_text(&self, field: &str, sealed: &str) -> Result<String, CryptoError> {
        self.open_with(field, sealed, |plain| std::str::from_utf8(plain).map(str::to_string).map_err(|_| CryptoError::Malformed))?
    }

    /// Opens `sealed` in a buffer (on the stack for short values) and hands the plain bytes to
    /// `take`.
    fn open_with<T>(&self, field: &str, sealed: &str, take: impl FnOnce(&[u8]) -> T) -> Result<T, CryptoError> {
        let (key_id, body) = split(sealed)?;
        with_buffer(base64::decoded_len_estimate(body.len()), |buf| {
            let len = B64.decode_slice(body, buf).map_err(|_| CryptoError::Malformed)?;
            if len < NONCE + TAG {
                return Err(CryptoError::Malformed);
            }
            let (head, rest) = buf[..len].split_at_mut(NONCE);
            let (body, tail) = rest.split_at_mut(len - NONCE - TAG);
            let nonce: [u8; NONCE] = (&*head).try_into().map_err(|_| CryptoError::Malformed)?;
            let tag: [u8; TAG] = (&*tail).try_into().map_err(|_| CryptoError::Malformed)?;
            let (cipher, n) = self.cipher(&nonce);
            with_associated(key_id, field, |aad| cipher.open_in_place_separate_tag(n, Aad::from(aad), Tag::from(tag), body, 0..))
                .map_err(|_| CryptoError::Forged)?;
            Ok(take(body))
        })
    }

    /// `key` wrapped by this key, as `key_id` (what the key store keeps).
    pub fn wrap(&self, key_id: &str, key: &Key) -> String {
        self.seal(key_id, "key", &key.0)
    }

    /// A key [`Key::wrap`] wrapped by this key.
    pub fn unwrap_key(&self, wrapped: &str) -> Result<Key, CryptoError> {
        let bytes = self.open("key", wrapped)?;
        Ok(Key(bytes.try_into().map_err(|_| CryptoError::Malformed)?))
    }

    /// A 32-byte secret derived from this key for `purpose` and `context` (HMAC-SHA256): the
    /// same inputs give the same secret; without the key it cannot be made.
    pub fn derive(&self, purpose: &str, context: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(context.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The keyed blind index of a normalised value of `kind` (`phone`, `email`, `phone-last4`):
    /// equal values give equal indexes under one key, and without the key an index tells nothing
    /// about its value. 128 bits, base64url.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        B64.encode(&mac.finalize().into_bytes()[..16])
    }
}

/// Runs `f` on a zeroed buffer of `len` bytes: on the stack up to [`STACK`], else on the heap.
fn with_buffer<T>(len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    if len <= STACK { f(&mut [0u8; STACK][..len]) } else { f(&mut vec![0u8; len]) }
}

/// Runs `f` on the associated data of a value: its key id and field, separated by a zero byte.
fn with_associated<T>(key_id: &str, field: &str, f: impl FnOnce(&[u8]) -> T) -> T {
    let len = key_id.len() + 1 + field.len();
    let mut stack = [0u8; 128];
    let mut heap = Vec::new();
    let aad = if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap[..]
    };
    aad[..key_id.len()].copy_from_slice(key_id.as_bytes());
    aad[key_id.len() + 1..].copy_from_slice(field.as_bytes());
    f(aad)
}

fn split(sealed: &str) -> Result<(&str, &str), CryptoError> {
    sealed.strip_prefix(PREFIX).and_then(|rest| rest.split_once('.')).ok_or(CryptoError::Malformed)
}

/// Whether `text` is a sealed value (not plain text written before encryption).
pub fn is_sealed(text: &str) -> bool {
    split(text).is_ok()
}

/// The id of the key `sealed` was sealed under.
pub fn key_id_of(sealed: &str) -> Result<&str, CryptoError> {
    split(sealed).map(|(id, _)| id)
}

/// A fresh key id: 16 random hex digits, prefixed (`r` restaurant data keys, `c` customers).
pub fn new_key_id(prefix: char) -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_and_field_only() {
        let key = Key::generate();
        let sealed = key.seal("c1", "phone", b"+14155550123");
        assert!(sealed.starts_with("e1.c1."));
        assert!(!sealed.contains("4155550123"));
        assert_eq!(key.open("phone", &sealed).unwrap(), b"+14155550123");
        assert_eq!(key.open("email", &sealed), Err(CryptoError::Forged));
        assert_eq!(Key::generate().open("phone", &sealed), Err(CryptoError::Forged));
        assert_eq!(key_id_of(&sealed), Ok("c1"));
    }

    #[test]
    fn the_format_is_xchacha20_poly1305_as_the_rustcrypto_crate_computes_it() {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let key = Key::generate();
        let reference = chacha20poly1305::XChaCha20Poly1305::new((&key.0).into());
        let sealed = key.seal("c1", "customers.phone", b"+14155550123");
        let raw = B64.decode(sealed.strip_prefix("e1.c1.").unwrap()).unwrap();
        let nonce: [u8; 24] = raw[..24].try_into().unwrap();
        let aad = b"c1\0customers.phone";
        let opened = reference.decrypt((&nonce).into(), Payload { msg: &raw[24..], aad }).unwrap();
        assert_eq!(opened, b"+14155550123", "a value sealed here opens with the reference implementation");
        let theirs = reference.encrypt((&nonce).into(), Payload { msg: b"ann@example.com", aad }).unwrap();
        let text = format!("e1.c1.{}", B64.encode([&nonce[..], &theirs].concat()));
        assert_eq!(key.open_text("customers.phone", &text).unwrap(), "ann@example.com", "and values sealed by earlier versions open here");
    }

    /// How long sealing and opening a phone number take (`cargo test --release -p entity
    /// crypto::tests::timing -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing() {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let key = Key::generate();
        let sealed = key.seal("c0123456789abcdef", "customers.phone", b"+14155550123");
        let n = 200_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(key.open_text("customers.phone", std::hint::black_box(&sealed)).unwrap());
        }
        println!("open: {:?} per value", t.elapsed() / n);
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(key.seal("c0123456789abcdef", "customers.phone", std::hint::black_box(b"+14155550123")));
        }
        println!("seal: {:?} per value", t.elapsed() / n);
        let reference = chacha20poly1305::XChaCha20Poly1305::new((&key.0).into());
        let raw = B64.decode(sealed.rsplit('.').next().unwrap()).unwrap();
        let nonce: [u8; 24] = raw[..24].try_into().unwrap();
        let t = std::time::Instant::now();
        for _ in 0..n {
            let payload = Payload { msg: &raw[24..], aad: b"c0123456789abcdef\0customers.phone" };
            std::hint::black_box(reference.decrypt((&nonce).into(), payload).unwrap());
        }
        println!("RustCrypto decrypt alone: {:?} per value", t.elapsed() / n);
    }

    #[test]
    fn long_values_open_too() {
        let key = Key::generate();
        let long = "a long staff note ".repeat(100);
        let sealed = key.seal("c1", "note", long.as_bytes());
        assert_eq!(key.open_text("note", &sealed).unwrap(), long);
        assert_eq!(key.open_text("note", &key.seal("c1", "note", b"")).unwrap(), "");
        assert_eq!(key.open_text("x", &key.seal("c1", "x", &[0xff, 0xfe])), Err(CryptoError::Malformed));
    }

    #[test]
    fn each_seal_has_a_fresh_nonce() {
        let key = Key::generate();
        assert_ne!(key.seal("c1", "phone", b"x"), key.seal("c1", "phone", b"x"));
    }

    #[test]
    fn an_altered_value_or_key_id_does_not_open() {
        let key = Key::generate();
        let sealed = key.seal("c1", "phone", b"secret");
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(key.open("phone", std::str::from_utf8(&altered).unwrap()).is_err());
        assert_eq!(key.open("phone", &sealed.replacen("c1", "c2", 1)), Err(CryptoError::Forged));
        assert_eq!(key.open("phone", "+14155550123"), Err(CryptoError::Malformed));
        assert!(!is_sealed("+14155550123"));
    }

    #[test]
    fn keys_wrap_and_parse() {
        let (outer, inner) = (Key::generate(), Key::generate());
        assert_eq!(outer.unwrap_key(&outer.wrap("r1", &inner)).unwrap(), inner);
        assert_eq!(Key::parse(&inner.to_hex()).unwrap(), inner);
        assert_eq!(Key::parse(&B64.encode(inner.0)).unwrap(), inner);
        assert_eq!(Key::parse("short"), Err(CryptoError::BadKey));
    }

    #[test]
    fn blind_indexes_are_keyed_and_kind_separated() {
        let key = Key::generate();
        assert_eq!(key.blind_index("phone", "+1415"), key.blind_index("phone", "+1415"));
        assert_ne!(key.blind_index("phone", "+1415"), key.blind_index("email", "+1415"));
        assert_ne!(key.blind_index("phone", "+1415"), Key::generate().blind_index("phone", "+1415"));
        assert_eq!(key.blind_index("phone", "x").len(), 22);
    }
}
