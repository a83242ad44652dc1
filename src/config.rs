//! Typed settings read from the environment (and `.env`), validated at start-up.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// Which environment the process runs in; production refuses to start without explicit keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Every setting the service reads. Secrets are kept out of `Debug`.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub env: Environment,
    pub data_dir: PathBuf,
    /// Fernet keys, newest first (url-safe base64, 32 bytes each).
    pub fernet_keys: Vec<String>,
    pub jwt_secret: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub public_base_url: String,
    pub meta_graph_url: String,
    pub meta_api_version: String,
    pub meta_app_id: Option<String>,
    pub meta_app_secret: Option<String>,
    /// The verify token of the platform app's webhook handshake (`GET /webhooks/meta`).
    pub meta_verify_token: Option<String>,
    pub tata_base_url: String,
    /// Base URLs an account may choose instead of `tata_base_url` (none by default).
    pub tata_allowed_base_urls: Vec<String>,
    pub allow_signup: bool,
    pub db_pool_size: u32,
    pub max_body_bytes: usize,
    /// Failed logins free per (email, client address), and four times as many per address;
    /// then the wait doubles from 30 s (see `auth::throttle`).
    pub login_max_failures: u32,
    /// Failed logins free per email from all addresses; then attempts are slowed (1–30 s apart).
    pub login_max_failures_per_email: u32,
    /// The longest backoff; a count is forgotten this long after its wait ended.
    pub login_window_secs: u64,
    /// Signups allowed per client address per hour.
    pub signup_max_per_address: u32,
    /// Proxies whose `X-Forwarded-For` names the client (addresses or CIDR blocks; none by default).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub workers: usize,
    /// Run the outbox dispatcher inside `serve`.
    pub outbox_enabled: bool,
    /// Most messages claimed per number per round.
    pub outbox_batch: i64,
    /// Most provider calls in flight.
    pub outbox_concurrency: usize,
    /// After this long in `sending`, a message whose process died becomes `unknown`.
    pub outbox_lease_secs: u64,
    /// Seconds a message stays `unknown` awaiting a status report before it becomes `unconfirmed`.
    pub unknown_settle_secs: u64,
    pub outbox_max_attempts: i32,
    /// Per-number throughput, pair-rate and per-account limits (off only for benchmarks).
    pub outbox_rate_limits: bool,
    pub provider_timeout_secs: u64,
    /// How long the sandbox takes to approve a submitted template.
    pub sandbox_approval_secs: u64,
    /// Seconds between health checks of every active account (0 = off).
    pub health_check_interval_secs: u64,
    /// Seconds between template syncs of every active account (0 = off).
    pub template_sync_interval_secs: u64,
    /// Allow every outbound URL (media, brochures, relay endpoints, provider APIs) on internal
    /// addresses: private, loopback, link-local, … (development and tests only).
    pub allow_private_urls: bool,
    /// Run the webhook relay (deliveries to tenants' endpoints) inside `serve`.
    pub relay_enabled: bool,
    /// How long a delivery is retried after its event, before it is `failed`.
    pub relay_retry_window_secs: u64,
    /// The first retry delay; later ones double (with jitter) up to an hour.
    pub relay_retry_base_ms: u64,
    /// The country code given to national numbers in IVR logs and CSV imports (`9876543210` → `+919876543210`).
    pub default_country_code: String,
    /// How long a CTA click-tracking token stays valid.
    pub cta_token_ttl_secs: i64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("env", &self.env)
            .field("data_dir", &self.data_dir)
            .field("fernet_keys", &format_args!("[{} keys]", self.fernet_keys.len()))
            .field("public_base_url", &self.public_base_url)
            .field("allow_signup", &self.allow_signup)
            .finish_non_exhaustive()
    }
}

/// Hides the password part of a database URL.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e| anyhow::anyhow!("{name}={v:?} is invalid: {e}")),
    }
}

fn parse_bool(name: &str, default: bool) -> anyhow::Result<bool> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => bail!("{name}={v:?} is not a boolean"),
    }
}

impl Settings {
    /// Reads `.env` (if present) and the environment. Missing keys are generated into the data
    /// folder in development; production refuses to start without them.
    pub fn from_env() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        let env = match var("WABAHUB_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => bail!("WABAHUB_ENV={other:?}: expected development or production"),
        };
        let data_dir = PathBuf::from(var("WABAHUB_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("wabahub.db").display()));
        let fernet_keys = match var("FERNET_KEYS") {
            Some(v) => v.split(',').map(|k| k.trim().to_string()).collect(),
            None if env == Environment::Production => {
                bail!("FERNET_KEYS must be set when WABAHUB_ENV=production")
            }
            None => vec![dev_secret(&data_dir, "fernet.key", fernet::Fernet::generate_key)?],
        };
        let jwt_secret = match var("JWT_SECRET") {
            Some(v) => v,
            None if env == Environment::Production => {
                bail!("JWT_SECRET must be set when WABAHUB_ENV=production")
            }
            None => dev_secret(&data_dir, "jwt.secret", crate::auth::tokens::random_token)?,
        };
        let bind = var("WABAHUB_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let settings = Settings {
            public_base_url: var("PUBLIC_BASE_URL").unwrap_or_else(|| format!("http://{bind}")),
            database_url,
            bind,
            env,
            data_dir,
            fernet_keys,
            jwt_secret,
            access_token_ttl_secs: parse_var("ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_secs: parse_var("REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            meta_graph_url: var("META_GRAPH_URL").unwrap_or_else(|| "https://graph.facebook.com".into()),
            meta_api_version: var("META_API_VERSION").unwrap_or_else(|| "v23.0".into()),
            meta_app_id: var("META_APP_ID"),
            meta_app_secret: var("META_APP_SECRET"),
            meta_verify_token: var("META_VERIFY_TOKEN"),
            tata_base_url: var("TATA_BASE_URL").unwrap_or_else(|| "https://wb.omni.tatatelebusiness.com".into()),
            tata_allowed_base_urls: var("TATA_ALLOWED_BASE_URLS")
                .map(|v| v.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
            allow_signup: parse_bool("ALLOW_SIGNUP", true)?,
            db_pool_size: parse_var("DATABASE_POOL_SIZE", 16)?,
            max_body_bytes: parse_var("MAX_BODY_BYTES", 1024 * 1024)?,
            login_max_failures: parse_var("LOGIN_MAX_FAILURES", 5)?,
            login_max_failures_per_email: parse_var("LOGIN_MAX_FAILURES_PER_EMAIL", 50)?,
            login_window_secs: parse_var("LOGIN_WINDOW_SECS", 900)?,
            signup_max_per_address: parse_var("SIGNUP_MAX_PER_ADDRESS", 10)?,
            trusted_proxies: parse_proxies(var("TRUSTED_PROXIES").as_deref().unwrap_or_default())?,
            workers: parse_var("WABAHUB_WORKERS", 0)?,
            outbox_enabled: parse_bool("OUTBOX_ENABLED", true)?,
            outbox_batch: parse_var("OUTBOX_BATCH", 200)?,
            outbox_concurrency: parse_var("OUTBOX_CONCURRENCY", 64)?,
            outbox_lease_secs: parse_var("OUTBOX_LEASE_SECS", 60)?,
            unknown_settle_secs: parse_var("UNKNOWN_SETTLE_SECS", 3600)?,
            outbox_max_attempts: parse_var("OUTBOX_MAX_ATTEMPTS", 8)?,
            outbox_rate_limits: parse_bool("OUTBOX_RATE_LIMITS", true)?,
            provider_timeout_secs: parse_var("PROVIDER_TIMEOUT_SECS", 10)?,
            sandbox_approval_secs: parse_var("SANDBOX_APPROVAL_SECS", 2)?,
            health_check_interval_secs: parse_var("HEALTH_CHECK_INTERVAL_SECS", 900)?,
            template_sync_interval_secs: parse_var("TEMPLATE_SYNC_INTERVAL_SECS", 3600)?,
            allow_private_urls: parse_bool("ALLOW_PRIVATE_URLS", false)?,
            relay_enabled: parse_bool("RELAY_ENABLED", true)?,
            relay_retry_window_secs: parse_var("RELAY_RETRY_WINDOW_SECS", 24 * 3600)?,
            relay_retry_base_ms: parse_var("RELAY_RETRY_BASE_MS", 10_000)?,
            default_country_code: var("DEFAULT_COUNTRY_CODE").unwrap_or_else(|| "91".into()),
            cta_token_ttl_secs: parse_var("CTA_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the values that would otherwise fail later, with a clear message now.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::crypto::Vault::new(&self.fernet_keys).context("FERNET_KEYS")?;
        if self.jwt_secret.len() < 32 {
            bail!("JWT_SECRET must be at least 32 characters");
        }
        crate::db::Backend::from_url(&self.database_url).context("DATABASE_URL")?;
        if self.access_token_ttl_secs <= 0 || self.refresh_token_ttl_secs <= 0 {
            bail!("token lifetimes must be positive");
        }
        if self.outbox_batch < 1 || self.outbox_concurrency < 1 || self.outbox_max_attempts < 1 {
            bail!("OUTBOX_BATCH, OUTBOX_CONCURRENCY and OUTBOX_MAX_ATTEMPTS must be at least 1");
        }
        if self.default_country_code.is_empty()
            || self.default_country_code.len() > 3
            || !self.default_country_code.bytes().all(|b| b.is_ascii_digit())
        {
            bail!("DEFAULT_COUNTRY_CODE must be 1 to 3 digits, without +");
        }
        if self.login_max_failures < 1 || self.login_max_failures_per_email < self.login_max_failures {
            bail!("LOGIN_MAX_FAILURES must be at least 1 and LOGIN_MAX_FAILURES_PER_EMAIL at least as large");
        }
        if self.login_window_secs < 1 || self.signup_max_per_address < 1 {
            bail!("LOGIN_WINDOW_SECS and SIGNUP_MAX_PER_ADDRESS must be at least 1");
        }
        if self.cta_token_ttl_secs <= 0 {
            bail!("CTA_TOKEN_TTL_SECS must be positive");
        }
        if self.relay_retry_base_ms == 0 {
            bail!("RELAY_RETRY_BASE_MS must be at least 1");
        }
        if self.outbox_lease_secs <= self.provider_timeout_secs {
            bail!("OUTBOX_LEASE_SECS must be longer than PROVIDER_TIMEOUT_SECS");
        }
        self.validate_provider_urls()
    }

    /// Provider URLs are http(s) with a host, and not internal IP addresses unless
    /// `ALLOW_PRIVATE_URLS` (names are checked when they are resolved, on every request).
    fn validate_provider_urls(&self) -> anyhow::Result<()> {
        let urls = [("META_GRAPH_URL", &self.meta_graph_url), ("TATA_BASE_URL", &self.tata_base_url)]
            .into_iter()
            .chain(self.tata_allowed_base_urls.iter().map(|u| ("TATA_ALLOWED_BASE_URLS", u)));
        for (name, url) in urls {
            let parsed = crate::outbound::http_url(url)
                .with_context(|| format!("{name}: {url:?} is not an http(s) URL with a host"))?;
            crate::outbound::check_literal(&parsed, self.allow_private_urls).with_context(|| {
                format!("{name}: {url:?} is an internal address (set ALLOW_PRIVATE_URLS=true for development)")
            })?;
        }
        Ok(())
    }
}

/// Parses `TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks.
fn parse_proxies(value: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| anyhow::anyhow!("TRUSTED_PROXIES: {p:?} is not an address or CIDR block"))
        })
        .collect()
}

/// Loads a development secret from the data folder, creating it on first use.
fn dev_secret(dir: &std::path::Path, name: &str, make: fn() -> String) -> anyhow::Result<String> {
    let path = dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_string());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret = make();
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(file = %path.display(), "generated a development secret; set it explicitly in production");
    Ok(secret)
}
