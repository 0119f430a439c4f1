//! Scheduled jobs of the loyalty program: auto-tagging of dormant customers, and birthday,
//! anniversary and win-back email campaigns that respect consent and never double-send.
//!
//! - [`scheduler`] runs the jobs inside `loyalty serve` on cron expressions evaluated in the
//!   configured time zone; every job can also run once from the CLI or GraphQL ([`run_job`]).
//! - [`runs`] records every run; a scheduled slot runs once across replicas.
//! - [`dormancy`] keeps the time-based auto-tags current with set-based statements.
//! - [`campaigns`] writes one delivery row per (customer, campaign, period) before sending;
//!   [`delivery`] sends pending rows through the [`mailer`] with retries and backoff.
//! - [`unsubscribe`] signs and checks the one-click unsubscribe links.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::entities::job_run;
use sea_orm::DatabaseConnection;
use serde::Serialize;

pub mod campaigns;
pub mod delivery;
pub mod dormancy;
pub mod mailer;
pub mod runs;
pub mod scheduler;
pub mod unsubscribe;

pub use campaigns::Campaign;

/// What the jobs need to know; built from the service's configuration.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// `smtp://host:port`, `smtps://user:pass@host` …; `None` keeps emails pending.
    pub smtp_url: Option<String>,
    /// The From address, e.g. `Loyalty <loyalty@example.com>`.
    pub mail_from: String,
    /// Name shown in emails.
    pub restaurant_name: String,
    /// Base URL of this service as customers reach it, for unsubscribe links.
    pub public_url: String,
    /// Secret that signs unsubscribe links; generated and stored in the database when `None`.
    pub secret: Option<String>,
    /// Time zone in which schedules run and "today" is decided.
    pub timezone: chrono_tz::Tz,
    /// Birthday and anniversary emails go this many days ahead (0: on the day).
    pub occasion_lead_days: u32,
    /// A dormant customer gets at most one win-back email per this many days.
    pub win_back_period_days: u32,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubles with each attempt.
    pub retry_base_secs: u64,
    /// Upper bound for one SMTP send.
    pub send_timeout_secs: u64,
    /// Cron expression (with seconds) per job, evaluated in `timezone`.
    pub schedules: Vec<(Job, String)>,
    /// How far back a starting scheduler runs the slots that no replica ran (0: never).
    pub catch_up_hours: u32,
}

/// The jobs there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Job {
    /// Keeps `dormant` (and the expiry of `new-customer`) current.
    Dormancy,
    /// Birthday emails.
    Birthday,
    /// Anniversary emails.
    Anniversary,
    /// Win-back emails to dormant customers.
    WinBack,
    /// Retries pending deliveries of every campaign.
    Deliveries,
}

impl Job {
    /// Every job, in the order `loyalty jobs list` shows them.
    pub const ALL: [Job; 5] = [Job::Dormancy, Job::Birthday, Job::Anniversary, Job::WinBack, Job::Deliveries];

    /// The job's name, as used on the command line and in job runs.
    pub fn name(self) -> &'static str {
        match self {
            Job::Dormancy => "dormancy",
            Job::Birthday => "birthday",
            Job::Anniversary => "anniversary",
            Job::WinBack => "win-back",
            Job::Deliveries => "deliveries",
        }
    }

    /// What the job does, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Job::Dormancy => "keep time-based tags and segments current: dormant (>90 days), at-risk (45-90), new-customer expiry",
            Job::Birthday => "email birthday offers to opted-in customers",
            Job::Anniversary => "email anniversary offers to opted-in customers",
            Job::WinBack => "email win-back offers to dormant, opted-in customers",
            Job::Deliveries => "retry pending emails of every campaign",
        }
    }

    /// The campaign a job sends, if it sends one.
    pub fn campaign(self) -> Option<Campaign> {
        match self {
            Job::Birthday => Some(Campaign::Birthday),
            Job::Anniversary => Some(Campaign::Anniversary),
            Job::WinBack => Some(Campaign::WinBack),
            Job::Dormancy | Job::Deliveries => None,
        }
    }
}

impl FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL
            .into_iter()
            .find(|j| j.name() == s)
            .ok_or_else(|| format!("unknown job {s:?}; jobs: {}", Job::ALL.map(Job::name).join(", ")))
    }
}

/// What can go wrong in a job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("email template error: {0}")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Domain(#[from] entity::DomainError),
}

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    /// A scheduled slot run late: no replica was up at its time (see `scheduler::catch_up`).
    CatchUp,
    Cli,
    Api,
}

impl Trigger {
    fn name(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch-up",
            Trigger::Cli => "cli",
            Trigger::Api => "api",
        }
    }
}

/// A customer a campaign would email (dry runs) or a dormancy change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub customer_id: i64,
    pub restaurant_id: String,
    pub name: String,
    pub email: Option<String>,
    pub occasion_date: Option<chrono::NaiveDate>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReport {
    /// Customers whose tags or status changed (dormancy).
    pub changed: u64,
    /// Deliveries written.
    pub enqueued: u64,
    /// Customers with the occasion who were not emailed for lack of consent, email or status.
    pub skipped_consent: u64,
    pub sent: u64,
    /// Deliveries that failed for good.
    pub failed: u64,
    /// Deliveries that failed and wait for a retry.
    pub retrying: u64,
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
    pub config: JobsConfig,
    pub mailer: mailer::Mailer,
    pub links: unsubscribe::Links,
}

impl JobContext {
    /// Builds the mailer and loads (or creates) the unsubscribe secret.
    pub async fn new(db: DatabaseConnection, config: JobsConfig) -> Result<Self, JobError> {
        let mailer = mailer::Mailer::new(&config)?;
        let secret = match &config.secret {
            Some(s) if !s.is_empty() => s.clone(),
            _ => unsubscribe::stored_secret(&db).await?,
        };
        let links = unsubscribe::Links::new(&config.public_url, &secret);
        Ok(Self { db, config, mailer, links })
    }
}

/// Runs `job` once and records it. With `slot` (a scheduled run), returns `None` when another
/// replica already ran that slot. A dry run changes nothing and lists who would be affected.
pub async fn run_job(
    ctx: &JobContext,
    job: Job,
    trigger: Trigger,
    dry_run: bool,
    slot: Option<DateTime<Utc>>,
) -> Result<Option<RunSummary>, JobError> {
    let Some(run) = runs::start(&ctx.db, job, trigger, dry_run, slot).await? else {
        tracing::info!(job = job.name(), ?slot, "slot already taken by another replica");
        return Ok(None);
    };
    let span = tracing::info_span!("job", job = job.name(), run_id = run.id, dry_run);
    let result = tracing::Instrument::instrument(execute(ctx, job, dry_run, slot), span).await;
    let summary = runs::finish(&ctx.db, run, &result).await?;
    match result {
        Ok(report) => {
            tracing::info!(job = job.name(), ?report.changed, report.enqueued, report.sent, report.failed, "job finished");
            Ok(Some(RunSummary { run: summary, report }))
        }
        Err(e) => {
            tracing::error!(job = job.name(), error = %e, "job failed");
            Err(e)
        }
    }
}

/// Runs the job's work. "Today" (whose birthdays are due) is the day of the slot, so a slot run
/// late after midnight still greets the people of its own day.
async fn execute(ctx: &JobContext, job: Job, dry_run: bool, slot: Option<DateTime<Utc>>) -> Result<JobReport, JobError> {
    let now = entity::ops::now();
    let today = slot.unwrap_or(now).with_timezone(&ctx.config.timezone).date_naive();
    match job {
        Job::Dormancy => dormancy::run(&ctx.db, now, dry_run).await,
        Job::Deliveries => {
            if dry_run {
                return Ok(JobReport::default());
            }
            delivery::deliver(ctx, None, now).await
        }
        Job::Birthday | Job::Anniversary | Job::WinBack => {
            let campaign = job.campaign().expect("campaign job");
            let mut report = campaigns::enqueue(&ctx.db, &ctx.config, campaign, today, now, dry_run).await?;
            if !dry_run {
                let sent = delivery::deliver(ctx, Some(campaign), now).await?;
                report.sent = sent.sent;
                report.failed = sent.failed;
                report.retrying = sent.retrying;
            }
            Ok(report)
        }
    }
}
