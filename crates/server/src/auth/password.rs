//! Argon2id password hashing, off the async runtime and bounded.
//!
//! Hashing costs tens of milliseconds of CPU and ~19 MiB of memory by design,
//! so it runs on tokio's blocking pool, at most `max_concurrent` at once, and
//! at most `max_pending` requests may be running or waiting (the rest get
//! `503 busy`): a burst of logins cannot exhaust memory or starve other requests.
//!
//! Logging in as an unknown user still verifies a password against a dummy
//! hash, so response time does not reveal which usernames exist.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::config::PasswordHashing;
use crate::error::ApiError;

pub struct Passwords {
    params: Params,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    /// A hash of a random password, verified when the user does not exist.
    dummy_hash: String,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 parameters: {0}")]
pub struct InvalidHashParams(String);

impl Passwords {
    pub fn new(cfg: &PasswordHashing) -> Result<Self, InvalidHashParams> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| InvalidHashParams(e.to_string()))?;
        if cfg.max_concurrent == 0 || cfg.max_pending < cfg.max_concurrent {
            return Err(InvalidHashParams(
                "need 1 <= max_concurrent <= max_pending".into(),
            ));
        }
        let dummy_hash =
            hash_blocking(&params, uuid::Uuid::new_v4().as_bytes()).map_err(InvalidHashParams)?;
        Ok(Self {
            params,
            running: Arc::new(Semaphore::new(cfg.max_concurrent)),
            admitted: Arc::new(Semaphore::new(cfg.max_pending)),
            dummy_hash,
        })
    }

    /// A PHC string (`$argon2id$v=19$...`) of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let params = self.params.clone();
        self.run(move || hash_blocking(&params, password.as_bytes()))
            .await?
            .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
    }

    /// Whether `password` matches `stored` (a PHC string). With `None` (no such
    /// user) it does the same work against a dummy hash and returns false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let matches = self
            .run(move || {
                Argon2::default()
                    .verify_password(password.as_bytes(), phc.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy("too many sign-ins in progress, retry shortly"))?;
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal("password semaphore closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::Internal(format!("password hashing task: {e}")))
    }
}

fn hash_blocking(params: &Params, password: &[u8]) -> Result<String, String> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let pw = Passwords::new(&PasswordHashing::insecure_fast_for_tests()).unwrap();
        let a = pw.hash("correct horse".into()).await.unwrap();
        let b = pw.hash("correct horse".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "salts must differ");
        assert!(
            pw.verify("correct horse".into(), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(!pw.verify("wrong horse".into(), Some(a)).await.unwrap());
        assert!(!pw.verify("correct horse".into(), None).await.unwrap());
    }

    #[test]
    fn bad_bounds_are_refused() {
        let mut cfg = PasswordHashing::insecure_fast_for_tests();
        cfg.max_concurrent = 0;
        assert!(Passwords::new(&cfg).is_err());
    }
}
