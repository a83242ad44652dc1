//! The `wabahub` command line: serve, migrate, openapi, and admin tasks.

use clap::{Parser, Subcommand};

use crate::auth::{Role, password};
use crate::config::Settings;
use crate::db::{self, Db};
use crate::domain::TenantId;
use crate::store;

#[derive(Debug, Parser)]
#[command(name = "wabahub", version, about = "Multi-tenant WhatsApp Business Account manager")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default).
    Serve {
        /// Address to listen on (overrides WABAHUB_BIND).
        #[arg(long)]
        bind: Option<String>,
        /// Database URL (overrides DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Run the outbox dispatcher and background jobs without the HTTP API (scale sending out
    /// beside `serve` processes that run with OUTBOX_ENABLED=false).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Template campaigns from the command line (works on the database directly).
    Campaign {
        #[command(subcommand)]
        command: CampaignCommand,
    },
    /// Platform administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Resolve an audience, confirm, send with a progress bar, and print the summary.
    Run(Box<crate::campaigns::command::RunArgs>),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin user (in its own "Platform" tenant).
    CreatePlatformAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Platform Admin")]
        name: String,
        /// The password; read from WABAHUB_ADMIN_PASSWORD when omitted.
        #[arg(long, env = "WABAHUB_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Re-encrypt every stored secret under the newest FERNET_KEYS key.
    RotateKeys,
}

/// Creates a platform admin; returns its user id.
pub fn create_platform_admin(db: &Db, email: &str, name: &str, pw: &str) -> anyhow::Result<i64> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || pw.len() < 8 {
        anyhow::bail!("a valid email and a password of at least 8 characters are required");
    }
    let hash = password::hash(pw);
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    db::write_tx(&mut conn, |c| {
        if store::users::by_email(c, &email)?.is_some() {
            anyhow::bail!("a user with email {email} already exists");
        }
        let tenant = store::tenants::create(c, "Platform")?;
        let user = store::users::create(
            c,
            store::users::NewUser {
                tenant_id: TenantId(tenant.id),
                email: &email,
                name,
                password_hash: &hash,
                role: Role::Owner,
                is_platform_admin: true,
            },
        )?;
        Ok(user.id)
    })
}

/// Re-encrypts stored secrets under the newest key; returns how many values changed.
pub fn rotate_keys(settings: &Settings, db: &Db) -> anyhow::Result<usize> {
    let vault = crate::crypto::Vault::new(&settings.fernet_keys)?;
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(store::accounts::rotate_secrets(&mut conn, &vault)?
        + store::webhook_endpoints::rotate_secrets(&mut conn, &vault)?)
}
