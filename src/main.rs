//! The `wabahub` binary.

use clap::Parser;
use wabahub::cli::{AdminCommand, CampaignCommand, Cli, Command};
use wabahub::config::Settings;
use wabahub::db::Db;
use wabahub::startup::Application;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { bind: None, database_url: None });
    if let Command::Openapi = command {
        print!("{}", wabahub::openapi::spec_json());
        return Ok(());
    }
    wabahub::telemetry::init(!std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let mut settings = Settings::from_env()?;
    match command {
        Command::Serve { bind, database_url } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            if let Some(u) = database_url {
                settings.database_url = u;
            }
            settings.validate()?;
            serve(settings)
        }
        Command::Worker => worker(settings),
        Command::Migrate => {
            let applied = wabahub::db::migrate(&mut wabahub::db::connect(&settings.database_url)?)?;
            println!("applied {applied} migrations");
            Ok(())
        }
        Command::Openapi => unreachable!("handled above"),
        Command::Campaign { command: CampaignCommand::Run(args) } => campaign_run(settings, *args),
        Command::Admin { command } => {
            let db = Db::open(&settings.database_url, 2)?;
            match command {
                AdminCommand::CreatePlatformAdmin { email, name, password } => {
                    let id = wabahub::cli::create_platform_admin(&db, &email, &name, &password)?;
                    println!("created platform admin {email} (user {id})");
                }
                AdminCommand::RotateKeys => {
                    let n = wabahub::cli::rotate_keys(&settings, &db)?;
                    println!("re-encrypted {n} secrets under the newest key");
                }
            }
            Ok(())
        }
    }
}

#[actix_web::main]
async fn worker(settings: Settings) -> anyhow::Result<()> {
    let db = Db::open(&settings.database_url, settings.db_pool_size)?;
    let state = wabahub::state::AppState::new(settings, db)?;
    tokio::spawn(wabahub::outbox::dispatcher::Dispatcher::new(state.clone()).run());
    tokio::spawn(wabahub::campaigns::runner::run(state.clone()));
    tokio::spawn(wabahub::relay::worker::run(state.clone()));
    tokio::spawn(wabahub::webhooks::Processor::new(state.clone()).run());
    wabahub::jobs::spawn(&state);
    tracing::info!("wabahub worker running");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[actix_web::main]
async fn campaign_run(settings: Settings, args: wabahub::campaigns::command::RunArgs) -> anyhow::Result<()> {
    let status = wabahub::campaigns::command::run(settings, args).await?;
    if status == "halted" {
        anyhow::bail!("the campaign halted");
    }
    Ok(())
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let app = Application::build(settings)?;
    tracing::info!(
        port = app.port(),
        backend = ?app.state().db.backend(),
        startup_ms = started.elapsed().as_millis() as u64,
        "wabahub listening"
    );
    app.run_until_stopped().await?;
    Ok(())
}
