//! Issuing and verifying the bearer tokens (JWT, HS256).
//!
//! Expiry is checked here against the injected [`Clock`] rather than inside
//! `jsonwebtoken` (which reads the system clock), so tests can expire a token
//! by moving a clock. There is no leeway: a token is dead at `exp`.
//! The realtime gateway verifies `join` tokens with the same service.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use quire_engine::UserId;
use serde::{Deserialize, Serialize};

use super::secret::JwtSecret;
use crate::clock::Clock;
use crate::error::{ApiError, AuthError};

/// The claims Quire puts in a token. Times are JWT NumericDates (seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub iat: i64,
    pub exp: i64,
}

/// A freshly signed token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime_secs: i64,
    clock: Arc<dyn Clock>,
}

impl TokenService {
    pub fn new(secret: &JwtSecret, lifetime: Duration, clock: Arc<dyn Clock>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked against `clock` in `verify`
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            lifetime_secs: i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX),
            clock,
        }
    }

    /// Signs a token for `user`, valid for the configured lifetime.
    pub fn issue(&self, user: UserId) -> Result<IssuedToken, ApiError> {
        let now = self.clock.now_ms().div_euclid(1000);
        let exp = now
            .checked_add(self.lifetime_secs)
            .ok_or_else(|| ApiError::Internal("token expiry overflows".into()))?;
        let claims = Claims {
            sub: user,
            iat: now,
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok(IssuedToken {
            token,
            expires_at_ms: exp.saturating_mul(1000),
        })
    }

    /// Checks signature, algorithm, claims and expiry; returns the user id.
    pub fn verify(&self, token: &str) -> Result<UserId, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        let now = self.clock.now_ms().div_euclid(1000);
        if data.claims.exp <= now {
            return Err(AuthError::Expired);
        }
        Ok(data.claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn secret(byte: u8) -> JwtSecret {
        JwtSecret::from_bytes(vec![byte; 32]).unwrap()
    }

    #[test]
    fn token_round_trips_until_it_expires() {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let svc = TokenService::new(&secret(7), Duration::from_secs(60), clock.clone());
        let user = UserId::new_random();
        let issued = svc.issue(user).unwrap();
        assert_eq!(issued.expires_at_ms, 1_700_000_060_000);
        assert_eq!(svc.verify(&issued.token), Ok(user));
        clock.advance_ms(59_999);
        assert_eq!(svc.verify(&issued.token), Ok(user));
        clock.advance_ms(1);
        assert_eq!(svc.verify(&issued.token), Err(AuthError::Expired));
    }

    #[test]
    fn other_secret_and_garbage_are_invalid() {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let ours = TokenService::new(&secret(1), Duration::from_secs(60), clock.clone());
        let theirs = TokenService::new(&secret(2), Duration::from_secs(60), clock);
        let token = theirs.issue(UserId::new_random()).unwrap().token;
        assert_eq!(ours.verify(&token), Err(AuthError::InvalidToken));
        assert_eq!(ours.verify(""), Err(AuthError::InvalidToken));
        assert_eq!(ours.verify("a.b.c"), Err(AuthError::InvalidToken));
    }
}
