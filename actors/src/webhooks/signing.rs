//! Webhook secrets and signatures, per the Standard Webhooks spec.
//!
//! A secret is `whsec_` + base64 of random key bytes. Each request carries
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`
//! (one space-separated entry per signing secret during a rotation), and
//! `X-Webhook-Signature: sha256=<hex HMAC-SHA256(key, body)>` for receivers
//! written against the older GitHub-style scheme. Both cover the exact bytes
//! sent.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use hub_core::webhook::SECRET_PREFIX;
use rand::RngCore;
use sha2::Sha256;

/// Random bytes in a new secret (256 bits, the HMAC-SHA256 block strength).
pub const SECRET_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key bytes of a secret (base64 after `whsec_`).
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| format!("a webhook secret starts with {SECRET_PREFIX}"))?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|e| format!("a webhook secret is base64 after {SECRET_PREFIX}: {e}"))?;
    if key.is_empty() {
        return Err("a webhook secret must not be empty".into());
    }
    Ok(key)
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// One Standard Webhooks signature: `v1,<base64>`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(key);
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` value: one signature per key, space-separated.
pub fn signature_header(keys: &[Vec<u8>], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| sign(key, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `X-Webhook-Signature` value: `sha256=<hex HMAC-SHA256(key, body)>`.
pub fn legacy_signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = mac(key);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;

    #[test]
    fn signs_the_standard_webhooks_vector() {
        let key = decode_secret(SECRET).unwrap();
        assert_eq!(
            sign(&key, MSG_ID, TIMESTAMP, BODY.as_bytes()),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn legacy_signature_is_hex_hmac_of_the_body() {
        // Computed independently with Python's hmac module.
        let key = decode_secret(SECRET).unwrap();
        assert_eq!(
            legacy_signature(&key, BODY.as_bytes()),
            "sha256=e2cb4f5251572539d458bfb8a7adb533b08801e6a794467e06f771debbb0818b"
        );
    }

    #[test]
    fn rotation_gives_one_signature_per_key() {
        let old = decode_secret(SECRET).unwrap();
        let new = decode_secret(&generate_secret()).unwrap();
        let header = signature_header(&[new.clone(), old.clone()], MSG_ID, TIMESTAMP, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, MSG_ID, TIMESTAMP, b"{}"));
        assert_eq!(parts[1], sign(&old, MSG_ID, TIMESTAMP, b"{}"));
    }

    #[test]
    fn generated_secrets_have_32_random_bytes() {
        let a = generate_secret();
        assert!(a.starts_with("whsec_"));
        assert_eq!(decode_secret(&a).unwrap().len(), SECRET_BYTES);
        assert_ne!(a, generate_secret());
        assert!(decode_secret("nope").is_err());
        assert!(decode_secret("whsec_!!!").is_err());
        assert!(decode_secret("whsec_").is_err());
    }
}
