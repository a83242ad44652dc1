//! The state shared by every handler.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::throttle::Throttle;
use crate::config::Settings;
use crate::connect::ProviderCache;
use crate::crypto::Vault;
use crate::db::Db;
use crate::domain::cta::CtaSigner;
use crate::metrics::Metrics;
use crate::outbox::Wakeup;
use crate::routes::webhooks::AccountCache;
use crate::webhooks::writer::Writer;

/// Cheap to clone; handlers take it as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub vault: Vault,
    pub jwt: JwtKeys,
    /// Login and signup attempts per client address and email.
    pub throttle: Arc<Throttle>,
    pub metrics: Arc<Metrics>,
    /// Built provider clients, per account and sending number.
    pub providers: ProviderCache,
    /// Wakes the outbox dispatcher when a message is queued.
    pub wakeup: Wakeup,
    /// Wakes the webhook processor when an event is stored.
    pub webhook_wakeup: Wakeup,
    /// Stores received webhook bodies in group commits.
    pub webhook_writer: Writer,
    /// Accounts by webhook key, checked again by the writer before a body is stored.
    pub webhook_accounts: AccountCache,
    /// Signs and checks CTA click-tracking tokens.
    pub cta: CtaSigner,
}

impl AppState {
    pub fn new(settings: Settings, db: Db) -> anyhow::Result<Self> {
        let webhook_wakeup = Wakeup::default();
        Ok(AppState {
            webhook_writer: Writer::start(db.clone(), webhook_wakeup.clone())?,
            vault: Vault::new(&settings.fernet_keys)?,
            jwt: JwtKeys::new(&settings.jwt_secret, settings.access_token_ttl_secs),
            throttle: Arc::new(Throttle::new(
                settings.login_max_failures,
                settings.login_max_failures_per_email,
                settings.login_window_secs,
                settings.signup_max_per_address,
            )),
            metrics: Arc::new(Metrics::default()),
            providers: ProviderCache::default(),
            wakeup: Wakeup::default(),
            webhook_wakeup,
            webhook_accounts: AccountCache::default(),
            cta: CtaSigner::new(&settings.jwt_secret, settings.cta_token_ttl_secs),
            settings: Arc::new(settings),
            db,
        })
    }
}
