//! Scheduled jobs of the loyalty program, run per restaurant: auto-tagging of dormant and
//! at-risk customers, and birthday, anniversary and win-back email campaigns that respect
//! consent and never double-send.
//!
//! - [`scheduler`] runs each restaurant's daily jobs at that restaurant's local time of day
//!   (and the delivery retry on a cron schedule); every job can also run once from the CLI or
//!   GraphQL ([`run_job`]). A scheduled slot is unique per (job, restaurant, slot), so it runs
//!   once across replicas; runs beat a heartbeat, so a dead replica's run is taken over.
//! - [`delivery`] sends pending rows through the [`mailer`] with retries and backoff, in the
//!   restaurant's name and from its address.
//! - [`unsubscribe`] signs and checks the one-click unsubscribe links.
//!
//! Every read and write goes through `entity::ops` with the restaurant's scope.

use chrono::{DateTime, Utc};
use entity::Scope;
use entity::entities::{RunTrigger, job_run, restaurant};
use entity::ops::{job_runs, service};
use entity::rules::programme::Programme;
use sea_orm::DatabaseConnection;
use serde::Serialize;

pub mod delivery;
pub mod job;
pub mod layout;
pub mod lifecycle;
pub mod mailer;
pub mod metrics;
pub mod qr;
pub mod scheduler;
pub mod unsubscribe;
pub mod webhooks;

pub use job::{BackgroundJob, Job, Schedule};

pub use entity::marketing::automations::Recipient;
pub use entity::marketing::kinds::Campaign;
pub use entity::ops::job_runs::STALE_RUN_SECS;

/// What the jobs need to know of the deployment (each restaurant's own settings are in its
/// row).
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// `smtp://host:port`, `smtps://user:pass@host` …; `None` keeps emails pending.
    pub smtp_url: Option<String>,
    /// Base URL of this service as customers reach it, for links in emails of restaurants
    /// that set no `publicUrl` of their own.
    pub public_url: String,
    /// Secret that signs unsubscribe links; generated and stored in the database when `None`.
    pub secret: Option<String>,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubles with each attempt.
    pub retry_base_secs: u64,
    /// Upper bound for one SMTP send.
    pub send_timeout_secs: u64,
    /// Cron expression (seconds field 0) of the delivery retry, in UTC.
    pub deliveries_cron: String,
    /// How far back a starting scheduler runs the slots that no replica ran (0: never).
    pub catch_up_hours: u32,
    /// Most emails one delivery run sends (0: no limit).
    pub max_per_run: u64,
    /// Allow SMTP credentials over a connection without TLS to a non-loopback server.
    pub allow_plain_smtp: bool,
    /// Allow webhook deliveries to loopback and private addresses.
    pub webhook_allow_private: bool,
    /// Yearly rate that discounts members' predicted value (0.1: 10 %).
    pub value_discount_rate: f64,
}

/// What can go wrong in a job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("configuration error: {0}")]
    Config(String),
    #[error("email template error: {0}")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Domain(#[from] entity::DomainError),
}

impl From<sea_orm::DbErr> for JobError {
    fn from(e: sea_orm::DbErr) -> Self {
        JobError::Domain(e.into())
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReport {
    /// Labels added or removed (dormancy); members scored (model-fit).
    pub changed: u64,
    /// Deliveries written.
    pub enqueued: u64,
    /// Customers with the occasion who were not emailed for lack of consent, email or status.
    pub skipped_consent: u64,
    /// Customers left out for the frequency cap.
    pub capped: u64,
    /// Campaign sends started (or taken over).
    pub sends: u64,
    pub sent: u64,
    /// Deliveries that failed for good.
    pub failed: u64,
    /// Deliveries that failed and wait for a retry.
    pub retrying: u64,
    /// Rows purged past their retention (retention).
    pub purged: u64,
    /// Members erased for inactivity (retention).
    pub erased: u64,
    /// Who would be changed or emailed (dry runs only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
}

/// A finished run: its row and its report.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run: job_run::Model,
    pub report: JobReport,
}

/// Everything a job run needs.
#[derive(Clone)]
pub struct JobContext {
    pub db: DatabaseConnection,
    /// The keys of personal data (recipients' addresses are sealed).
    pub vault: entity::vault::Vault,
    pub config: JobsConfig,
    pub mailer: mailer::Mailer,
    pub links: unsubscribe::Links,
    /// This deployment's id (generated once), part of every `Message-ID`.
    pub deployment_id: String,
    /// Whether the process is stopping, and the emails its runs hold.
    pub lifecycle: std::sync::Arc<lifecycle::Lifecycle>,
    /// The turns of model fits in this process (the API's fits take them too).
    pub fits: entity::ops::predict::Turns,
}

impl JobContext {
    /// Builds the mailer and loads (or creates) the unsubscribe secret and the deployment id.
    pub async fn new(db: DatabaseConnection, vault: entity::vault::Vault, config: JobsConfig) -> Result<Self, JobError> {
        let mailer = mailer::Mailer::new(&config)?;
        let secret = match &config.secret {
            Some(s) if !s.is_empty() => s.clone(),
            _ => service::secret(&db, &vault, service::UNSUBSCRIBE_SECRET).await?,
        };
        let deployment_id = service::generated(&db, service::DEPLOYMENT_ID).await?.chars().take(20).collect();
        Ok(Self { db, vault, config, mailer, links: unsubscribe::Links::new(&secret), deployment_id, lifecycle: Default::default(), fits: Default::default() })
    }

    /// Base URL of links in the restaurant's emails.
    pub fn link_base<'a>(&'a self, restaurant: &'a restaurant::Model) -> &'a str {
        restaurant.public_url.as_deref().unwrap_or(&self.config.public_url)
    }
}

/// A running run beats its heartbeat this often.
pub const HEARTBEAT_SECS: u64 = 20;

/// Runs `job` once for `restaurant` and records it. With `slot` (a scheduled run), returns
/// `None` when another replica already ran (or runs) that slot. A dry run changes nothing and
/// lists who would be affected.
pub async fn run_job(
    ctx: &JobContext,
    restaurant: &restaurant::Model,
    job: Job,
    trigger: RunTrigger,
    dry_run: bool,
    slot: Option<DateTime<Utc>>,
) -> Result<Option<RunSummary>, JobError> {
    let scope = Scope::new(restaurant.id.clone(), format!("job:{}", job.name()), ctx.vault.clone());
    let Some(run) = job_runs::start(&ctx.db, &scope, job.name(), trigger, dry_run, slot).await? else {
        tracing::info!(job = job.name(), restaurant = %restaurant.id, ?slot, "slot already taken by another replica");
        return Ok(None);
    };
    let span = tracing::info_span!("job", job = job.name(), restaurant = %restaurant.id, run_id = run.id, dry_run);
    let beat = {
        let (db, id) = (ctx.db.clone(), run.id);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(HEARTBEAT_SECS)).await;
                if let Err(e) = job_runs::heartbeat(&db, id).await {
                    tracing::warn!(run_id = id, error = %e, "heartbeat not recorded");
                }
            }
        })
    };
    let result = tracing::Instrument::instrument(execute(ctx, restaurant, &scope, job, dry_run, slot), span).await;
    beat.abort();
    let counts = result.as_ref().map(counts).map_err(ToString::to_string);
    let run = job_runs::finish(&ctx.db, run, counts).await?;
    metrics::job_run(job.name(), &restaurant.id, if result.is_ok() { "succeeded" } else { "failed" });
    if let Ok(report) = &result
        && !dry_run
    {
        metrics::enqueued(report.enqueued);
    }
    match result {
        Ok(report) => {
            let done = if dry_run { "dry run finished: nothing was changed or sent" } else { "job finished" };
            tracing::info!(job = job.name(), restaurant = %restaurant.id, dry_run, report.changed, report.enqueued, report.sent, report.failed, "{done}");
            Ok(Some(RunSummary { run, report }))
        }
        Err(e) => {
            tracing::error!(job = job.name(), restaurant = %restaurant.id, error = %e, "job failed");
            Err(e)
        }
    }
}

/// The counts of a report, as stored on its run.
fn counts(report: &JobReport) -> serde_json::Value {
    let mut counts = serde_json::to_value(report).unwrap_or_default();
    if let Some(map) = counts.as_object_mut() {
        map.remove("recipients");
    }
    counts
}

/// Runs the job's work. "Today" (whose birthdays are due) is the restaurant's local date of the
/// slot, so a slot run late after midnight still greets the people of its own day.
async fn execute(
    ctx: &JobContext,
    restaurant: &restaurant::Model,
    scope: &Scope,
    job: Job,
    dry_run: bool,
    slot: Option<DateTime<Utc>>,
) -> Result<JobReport, JobError> {
    let programme = Programme::from(restaurant);
    let now = entity::ops::now();
    let today = programme.today(slot.unwrap_or(now));
    let run = job::Run { ctx, restaurant, scope, programme, now, today, dry_run };
    job.work().run(&run).await
}
