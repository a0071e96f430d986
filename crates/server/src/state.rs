//! `AppState`: everything a handler needs, cheap to clone (all `Arc`s).
//! New subsystems (e.g. the realtime hub) are added as fields here.

use std::sync::Arc;

use quire_storage::Store;

use crate::access::{AccessNotifier, NoopAccessNotifier};
use crate::auth::password::InvalidHashParams;
use crate::auth::{JwtSecret, Passwords, TokenService};
use crate::clock::{Clock, SystemClock};
use crate::config::ServerConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ServerConfig>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<Passwords>,
    pub clock: Arc<dyn Clock>,
    pub access: Arc<dyn AccessNotifier>,
}

impl AppState {
    /// State with the system clock and no access notifier.
    pub fn new(
        store: Arc<dyn Store>,
        config: ServerConfig,
        secret: &JwtSecret,
    ) -> Result<Self, InvalidHashParams> {
        Self::with_clock(store, config, secret, Arc::new(SystemClock))
    }

    pub fn with_clock(
        store: Arc<dyn Store>,
        config: ServerConfig,
        secret: &JwtSecret,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, InvalidHashParams> {
        Ok(Self {
            store,
            tokens: Arc::new(TokenService::new(
                secret,
                config.token_lifetime,
                clock.clone(),
            )),
            passwords: Arc::new(Passwords::new(&config.password_hashing)?),
            config: Arc::new(config),
            clock,
            access: Arc::new(NoopAccessNotifier),
        })
    }

    /// Replaces the access notifier (the realtime layer plugs in here).
    pub fn with_access_notifier(mut self, access: Arc<dyn AccessNotifier>) -> Self {
        self.access = access;
        self
    }
}
