//! `wabahub campaign run`: the operator's command (the seeds' script). It works directly on the
//! database of a tenant (`--tenant`), like the other CLI commands: builds the same definition the
//! API takes, prints the audience summary, asks for confirmation unless `--force`, starts the
//! campaign and (unless `--detach`) sends it from this process with a progress bar, then prints the
//! summary. `--dry-run` resolves and exports without storing or sending anything.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;

use super::audience;
use super::control::{self, Draft};
use super::definition::{Audience, AudienceSource, CallStatus, Definition, HeaderMedia, HeaderMediaKind};
use super::{csv, render};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::TenantId;
use crate::providers::message::MediaKind;
use crate::state::AppState;
use crate::store;

/// The options of `wabahub campaign run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The tenant whose data the campaign uses.
    #[arg(long)]
    pub tenant: i64,
    #[arg(long)]
    pub account: i64,
    /// The sending number (default: the account's default number).
    #[arg(long)]
    pub phone_number: Option<i64>,
    #[arg(long)]
    pub template_name: String,
    #[arg(long, default_value = "en")]
    pub template_language: String,
    #[arg(long, value_enum, default_value = "ivr-calls")]
    pub source: AudienceSource,
    /// First day, inclusive (YYYY-MM-DD).
    #[arg(long)]
    pub from_date: NaiveDate,
    /// Last day, inclusive (YYYY-MM-DD); at most 90 days after --from-date.
    #[arg(long)]
    pub to_date: NaiveDate,
    /// Project ids, comma separated (default: all projects).
    #[arg(long, value_delimiter = ',')]
    pub projects: Vec<i64>,
    #[arg(long, value_enum)]
    pub call_status: Option<CallStatus>,
    #[arg(long, requires = "header_media_type")]
    pub header_media_url: Option<String>,
    #[arg(long, value_enum, requires = "header_media_url")]
    pub header_media_type: Option<HeaderMediaKind>,
    /// At most this many recipients (1–100,000).
    #[arg(long)]
    pub limit: Option<i64>,
    /// Send only to these numbers (comma separated, E.164).
    #[arg(long, value_delimiter = ',')]
    pub test_numbers: Vec<String>,
    /// Messages per second (default 0.8).
    #[arg(long)]
    pub rate: Option<f64>,
    #[arg(long, default_value = "CLI campaign")]
    pub name: String,
    /// Resolve and preview only: nothing is stored or sent.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
    /// Write the preview (with --dry-run) or the recipients' results to this CSV file (masked phones).
    #[arg(long)]
    pub export_csv: Option<std::path::PathBuf>,
    /// Start the campaign and leave the sending to a running `serve` or `worker`.
    #[arg(long)]
    pub detach: bool,
}

impl RunArgs {
    fn definition(&self) -> Definition {
        Definition {
            header_media: self
                .header_media_url
                .clone()
                .zip(self.header_media_type)
                .map(|(url, kind)| HeaderMedia { kind, url }),
            variables: vec![],
            cta: None,
            audience: Audience {
                source: self.source,
                projects: self.projects.clone(),
                from_date: self.from_date,
                to_date: self.to_date,
                call_status: self.call_status,
                lead_statuses: vec![],
                limit: self.limit,
                test_numbers: self.test_numbers.clone(),
            },
        }
    }
}

fn fail(e: crate::error::ApiError) -> anyhow::Error {
    let p = e.problem();
    let fields = p.errors.map(|e| format!(": {e:?}")).unwrap_or_default();
    anyhow::anyhow!("{} ({}){fields}", p.detail, p.code)
}

/// Runs the command; returns the final campaign status (`dry-run` for a dry run).
pub async fn run(settings: Settings, args: RunArgs) -> anyhow::Result<String> {
    let d = args.definition();
    validator::Validate::validate(&d).map_err(|e| fail(e.into()))?;
    if let Some(h) = &d.header_media {
        let kind = match h.kind {
            HeaderMediaKind::Image => MediaKind::Image,
            HeaderMediaKind::Video => MediaKind::Video,
            HeaderMediaKind::Document => MediaKind::Document,
        };
        crate::media::check(kind, &h.url, settings.allow_private_urls)
            .await
            .map_err(|code| anyhow::anyhow!("--header-media-url: {code}"))?;
    }
    let db = Db::open(&settings.database_url, 4)?;
    let state = AppState::new(settings, db)?;
    let tenant = TenantId(args.tenant);
    let mut conn = state.db.get().map_err(fail)?;
    let draft = Draft {
        name: args.name.clone(),
        account_id: args.account,
        phone_number_id: args.phone_number,
        template_name: args.template_name.clone(),
        template_language: args.template_language.clone(),
        rate_mps: args.rate,
        definition: d,
    };
    if args.dry_run {
        return dry_run(&state, &mut conn, tenant, draft, &args).await;
    }
    if !args.force && !std::io::stdin().is_terminal() {
        bail!("refusing to send without confirmation: run in a terminal or pass --force");
    }
    let campaign = control::create(&mut conn, tenant, draft).map_err(fail)?;
    let d = control::definition(&campaign).map_err(fail)?;
    let res = audience::resolve(&mut conn, tenant, &d.audience, campaign.id, &campaign.definition_hash, false)?;
    summary(res.eligible.len(), &res.exclusions, campaign.rate_mps);
    if !args.force && !confirm(res.eligible.len())? {
        control::act(&mut conn, tenant, campaign.id, control::Action::Cancel).map_err(fail)?;
        println!("not sent; campaign {} cancelled", campaign.id);
        return Ok("cancelled".into());
    }
    control::start(&mut conn, tenant, campaign.id, &state.cta, &state.settings.public_base_url).map_err(fail)?;
    println!("campaign {} started", campaign.id);
    if args.detach {
        return Ok("running".into());
    }
    tokio::spawn(crate::outbox::dispatcher::Dispatcher::new(state.clone()).run());
    tokio::spawn(super::runner::run(state.clone()));
    let started = Instant::now();
    let final_row = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let row = control::require(&mut conn, tenant, campaign.id).map_err(fail)?;
        let p = control::progress(&mut conn, &row).map_err(fail)?;
        progress_bar(&p, started.elapsed());
        if row.status != "running" {
            eprintln!();
            break row;
        }
    };
    let p = control::progress(&mut conn, &final_row).map_err(fail)?;
    println!(
        "campaign {}: {}{}",
        final_row.id,
        final_row.status,
        final_row.halt_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
    );
    println!("{}", serde_json::to_string_pretty(&p)?);
    if let Some(path) = &args.export_csv {
        let rows = store::campaigns::recipients(&mut conn, final_row.id, None, None)?;
        std::fs::write(path, csv::recipients(&rows, false)).with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(final_row.status)
}

async fn dry_run(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    tenant: TenantId,
    draft: Draft,
    args: &RunArgs,
) -> anyhow::Result<String> {
    // The draft is checked and resolved inside a transaction that is rolled back: nothing stays.
    let mut out = None;
    let rolled_back = crate::db::write_tx(conn, |c| {
        let campaign = control::create_in(c, tenant, draft)?;
        let d = control::definition(&campaign)?;
        let res = audience::resolve(c, tenant, &d.audience, campaign.id, &campaign.definition_hash, false)?;
        out = Some((d, res, campaign.rate_mps));
        Err::<(), _>(crate::error::ApiError::conflict("dry_run", "rolled back"))
    });
    let Some((d, res, rate)) = out else {
        return Err(fail(rolled_back.expect_err("a dry run always rolls back")));
    };
    summary(res.eligible.len(), &res.exclusions, rate);
    let ctx = render::Context {
        definition: &d,
        template_name: &args.template_name,
        language: &args.template_language,
        cta: &state.cta,
        base_url: &state.settings.public_base_url,
        now: chrono::Utc::now().timestamp(),
    };
    if let Some(c) = res.eligible.first() {
        println!("first message: {}", serde_json::to_string(&render::message(&ctx, c))?);
    }
    if let Some(path) = &args.export_csv {
        let body = csv::preview(&res, |c| d.variables.iter().map(|v| render::variable(&ctx, v, c)).collect());
        std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
        println!("preview written to {}", path.display());
    }
    println!("dry run: nothing was stored or sent");
    Ok("dry-run".into())
}

fn summary(eligible: usize, exclusions: &std::collections::BTreeMap<String, i64>, rate: f64) {
    println!("recipients: {eligible}");
    for (reason, n) in exclusions {
        println!("  excluded ({reason}): {n}");
    }
    println!("rate: {rate} msg/s, about {:.0} s to send", eligible as f64 / rate.max(0.001));
}

fn confirm(n: usize) -> anyhow::Result<bool> {
    print!("Send to {n} recipients? [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

fn progress_bar(p: &control::Progress, elapsed: Duration) {
    let total = (p.recipients - p.skipped).max(1);
    let done = total - p.pending - p.queued;
    let width = 30;
    let filled = (done * width / total) as usize;
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let eta = if rate > 0.0 { format!("{:.0}s", (total - done) as f64 / rate) } else { "-".into() };
    eprint!(
        "\r[{}{}] {done}/{total} {:.0}% {rate:.1} msg/s ETA {eta}  ",
        "#".repeat(filled),
        ".".repeat(width as usize - filled),
        done as f64 * 100.0 / total as f64
    );
}
