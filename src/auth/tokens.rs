//! Random tokens and their hashes (refresh tokens, API keys, webhook keys).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of every API key, so leaked keys are easy to recognise.
pub const API_KEY_PREFIX: &str = "whk_";
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "whr_";

/// 32 random bytes, url-safe base64 without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, used to store high-entropy tokens (they need no slow hash).
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new API key and the prefix shown in listings.
pub fn new_api_key() -> (String, String) {
    let key = format!("{API_KEY_PREFIX}{}", random_token());
    let prefix = key[..12].to_string();
    (key, prefix)
}

/// A new refresh token.
pub fn new_refresh_token() -> String {
    format!("{REFRESH_PREFIX}{}", random_token())
}
