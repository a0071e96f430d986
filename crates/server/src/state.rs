//! `AppState`: everything a handler needs, cheap to clone (all `Arc`s).
//! New subsystems (e.g. the realtime hub) are added as fields here.

use std::sync::Arc;

use quire_core::{CoreConfig, Hub};
use quire_storage::Store;

use crate::access::AccessNotifier;
use crate::auth::password::InvalidHashParams;
use crate::auth::{JwtSecret, Passwords, TokenService};
use crate::clock::{Clock, SystemClock};
use crate::config::ServerConfig;
use crate::gateway::{GatewayConfig, HubAccessNotifier};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ServerConfig>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<Passwords>,
    pub clock: Arc<dyn Clock>,
    pub access: Arc<dyn AccessNotifier>,
    /// The collaboration core (realtime documents).
    pub hub: Hub,
    /// Bounds and timers of the realtime gateway.
    pub gateway: Arc<GatewayConfig>,
}

impl AppState {
    /// State with the system clock; access changes go to the collaboration core.
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
        let hub = Hub::start(store.clone(), CoreConfig::default())
            .expect("the default core configuration is valid (a config unit test checks it)");
        Ok(Self {
            access: Arc::new(HubAccessNotifier::new(hub.clone())),
            hub,
            gateway: Arc::new(GatewayConfig::default()),
            store,
            tokens: Arc::new(TokenService::new(
                secret,
                config.token_lifetime,
                clock.clone(),
            )),
            passwords: Arc::new(Passwords::new(&config.password_hashing)?),
            config: Arc::new(config),
            clock,
        })
    }

    /// Replaces the collaboration core (e.g. one with test-sized bounds);
    /// access changes go to the new one.
    pub fn with_hub(mut self, hub: Hub) -> Self {
        self.access = Arc::new(HubAccessNotifier::new(hub.clone()));
        self.hub = hub;
        self
    }

    /// Replaces the gateway's bounds and timers.
    pub fn with_gateway_config(mut self, config: GatewayConfig) -> Self {
        self.gateway = Arc::new(config);
        self
    }

    /// Replaces the access notifier.
    pub fn with_access_notifier(mut self, access: Arc<dyn AccessNotifier>) -> Self {
        self.access = access;
        self
    }
}
