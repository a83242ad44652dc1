//! The vault: Fernet encryption of stored secrets, with several keys for rotation.

use std::sync::Arc;

use anyhow::{Context, bail};

/// Encrypts with the newest key and decrypts with any configured key (MultiFernet).
#[derive(Clone)]
pub struct Vault {
    keys: Arc<Vec<fernet::Fernet>>,
    multi: Arc<fernet::MultiFernet>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({} keys)", self.keys.len())
    }
}

/// A stored value that cannot be decrypted with any configured key.
#[derive(Debug, thiserror::Error)]
#[error("secret cannot be decrypted with the configured keys")]
pub struct DecryptError;

impl Vault {
    /// Builds a vault from keys, newest first. Every key must be a valid Fernet key.
    pub fn new(keys: &[String]) -> anyhow::Result<Self> {
        if keys.is_empty() {
            bail!("at least one Fernet key is required");
        }
        let parsed = keys
            .iter()
            .enumerate()
            .map(|(i, k)| fernet::Fernet::new(k).with_context(|| format!("key #{} is not a valid Fernet key", i + 1)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let multi = fernet::MultiFernet::new(parsed.clone());
        Ok(Vault { keys: Arc::new(parsed), multi: Arc::new(multi) })
    }

    /// Encrypts under the newest key.
    pub fn encrypt(&self, plaintext: &str) -> String {
        self.keys[0].encrypt(plaintext.as_bytes())
    }

    /// Decrypts with whichever key matches.
    pub fn decrypt(&self, token: &str) -> Result<String, DecryptError> {
        let bytes = self.multi.decrypt(token).map_err(|_| DecryptError)?;
        String::from_utf8(bytes).map_err(|_| DecryptError)
    }

    /// Re-encrypts under the newest key; `None` when the token is already under it.
    pub fn rotate(&self, token: &str) -> Result<Option<String>, DecryptError> {
        if self.keys[0].decrypt(token).is_ok() {
            return Ok(None);
        }
        Ok(Some(self.encrypt(&self.decrypt(token)?)))
    }
}

/// A short, safe hint of a secret: its length class and last four characters.
pub fn mask_hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "****".into();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_from_old_key_to_new() {
        let old = fernet::Fernet::generate_key();
        let new = fernet::Fernet::generate_key();
        let before = Vault::new(std::slice::from_ref(&old)).unwrap();
        let token = before.encrypt("s3cret");
        let after = Vault::new(&[new.clone(), old]).unwrap();
        let rotated = after.rotate(&token).unwrap().expect("needs rotation");
        assert_eq!(after.decrypt(&rotated).unwrap(), "s3cret");
        assert!(after.rotate(&rotated).unwrap().is_none());
        assert!(Vault::new(&[new]).unwrap().decrypt(&token).is_err());
    }

    #[test]
    fn refuses_bad_keys() {
        assert!(Vault::new(&["not-a-key".into()]).is_err());
        assert!(Vault::new(&[]).is_err());
    }

    #[test]
    fn hint_shows_only_last_four() {
        assert_eq!(mask_hint("EAABsbCS1iHgBAKZCZB"), "****ZCZB");
        assert_eq!(mask_hint("short"), "****");
    }
}
