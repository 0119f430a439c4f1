//! Job runs and the outbox, for operators and the marketing team: recent runs, deliveries and
//! their counts per built-in campaign, and running a job now (with a dry run that lists
//! recipients).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::DomainError;
use entity::entities::{DeliveryStatus as Status, RunTrigger, email_delivery, job_run};
use entity::marketing::outbox;
use entity::ops::{job_runs, restaurants};
use jobs::{Campaign, Job, JobError};

use super::context::{app, scope};
use super::scalars::Date;
use crate::auth::{ADMIN, MARKETING};
use crate::error::{ApiError, IntoGql};

/// A scheduled job.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "jobs::Job")]
pub enum JobName {
    /// Tags customers without a visit for over 90 days as dormant (and untags returners).
    Dormancy,
    /// Birthday emails.
    Birthday,
    /// Anniversary emails.
    Anniversary,
    /// Win-back emails to dormant customers.
    WinBack,
    /// Retries pending emails.
    Deliveries,
    /// Starts due marketer-built campaigns and sends their emails (the scheduler checks every
    /// minute).
    Campaigns,
    /// Warns members whose points expire soon, then expires the balances that are due.
    PointsExpiry,
    /// Automation: welcome emails (when switched on with `resumeCampaign`).
    Welcome,
    /// Automation: at-risk nudges (when switched on with `resumeCampaign`).
    AtRisk,
    /// Automation: custom occasions on their day (when switched on with `resumeCampaign`).
    Occasions,
    /// The pre-shift brief to the restaurant's `staffDigestEmails`.
    StaffDigest,
    /// Automation: the second welcome email (when switched on with `resumeCampaign`).
    WelcomeFollowUp,
    /// Automation: the anniversary of joining (when switched on with `resumeCampaign`).
    MemberAnniversary,
    /// Automation: members close to a reward or their next tier (when switched on with
    /// `resumeCampaign`).
    NearingReward,
    /// Purges idempotency keys, job runs and finished deliveries past the restaurant's
    /// retention, and erases inactive members when `eraseInactiveAfterMonths` is set.
    Retention,
}

/// A marketing campaign.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CampaignName {
    /// The birthday emails.
    Birthday,
    /// The anniversary emails.
    Anniversary,
    /// The win-back emails.
    WinBack,
}

impl From<CampaignName> for Campaign {
    fn from(c: CampaignName) -> Self {
        match c {
            CampaignName::Birthday => Campaign::Birthday,
            CampaignName::Anniversary => Campaign::Anniversary,
            CampaignName::WinBack => Campaign::WinBack,
        }
    }
}

/// State of one email.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DeliveryStatus {
    /// Waiting to be sent (or to be retried).
    Pending,
    /// Claimed by a worker and being sent.
    Sending,
    /// Accepted by the mail server.
    Sent,
    /// Not sent after the last attempt; the reason is kept.
    Failed,
    /// Not sent: consent withdrawn, no address, or the campaign stopped before it went out.
    Skipped,
    /// In the campaign's control group: never sent.
    HeldOut,
}

impl From<DeliveryStatus> for Status {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Pending => Status::Pending,
            DeliveryStatus::Sending => Status::Sending,
            DeliveryStatus::Sent => Status::Sent,
            DeliveryStatus::Failed => Status::Failed,
            DeliveryStatus::Skipped => Status::Skipped,
            DeliveryStatus::HeldOut => Status::HeldOut,
        }
    }
}

fn job_error(e: JobError) -> ApiError {
    ApiError::Domain(match e {
        JobError::Domain(d) => d,
        other => DomainError::internal(other),
    })
}

/// One run of a job.
#[derive(SimpleObject)]
pub struct JobRun {
    /// The run's id.
    pub id: ID,
    /// The job's name.
    pub job: String,
    /// `schedule`, `catch-up` (a scheduled slot run late, after a restart), `cli` or `api`.
    pub trigger: String,
    /// Whether it only listed what it would do.
    pub dry_run: bool,
    /// The slot it ran for (null for a manual run).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished (null while running).
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `succeeded`, `failed`, or `abandoned` (its replica stopped; the slot is run
    /// again).
    pub outcome: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Customers whose tags or status changed (dormancy).
    pub changed: i64,
    /// Emails written for sending.
    pub enqueued: i64,
    /// Customers with the occasion who were not emailed for lack of consent, email or status.
    pub skipped_for_consent: i64,
    /// Customers left out for the frequency cap.
    pub capped: i64,
    /// Campaign sends started (the `campaigns` job).
    pub sends: i64,
    /// Emails sent.
    pub sent: i64,
    /// Emails that failed for good.
    pub failed: i64,
    /// Emails that failed and wait for a retry.
    pub retrying: i64,
    /// Rows purged past their retention (`retention`).
    pub purged: i64,
    /// Members erased for inactivity (`retention`).
    pub erased: i64,
}

impl From<job_run::Model> for JobRun {
    fn from(m: job_run::Model) -> Self {
        let n = |k: &str| m.counts.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
        Self {
            id: ID(m.id.to_string()),
            changed: n("changed"),
            enqueued: n("enqueued"),
            skipped_for_consent: n("skippedConsent"),
            capped: n("capped"),
            sends: n("sends"),
            sent: n("sent"),
            failed: n("failed"),
            retrying: n("retrying"),
            purged: n("purged"),
            erased: n("erased"),
            job: m.job,
            trigger: m.trigger.label(),
            dry_run: m.dry_run,
            scheduled_for: m.scheduled_for,
            started_at: m.started_at,
            finished_at: m.finished_at,
            outcome: sea_orm::ActiveEnum::to_value(&m.outcome),
            error: m.error,
        }
    }
}

/// Someone a run would change or email.
#[derive(SimpleObject)]
pub struct Recipient {
    /// The member.
    pub customer_id: ID,
    /// Their name.
    pub name: String,
    /// The address it would go to.
    pub email: Option<String>,
    /// The occasion's day, when there is one.
    pub occasion_date: Option<Date>,
}

/// The result of running a job now.
#[derive(SimpleObject)]
pub struct RunJobPayload {
    /// The run, with its counts.
    pub run: JobRun,
    /// Dry runs: who would be changed or emailed (your restaurant's customers).
    pub recipients: Vec<Recipient>,
}

/// One email of a campaign.
#[derive(SimpleObject)]
pub struct Delivery {
    /// The delivery's id.
    pub id: ID,
    /// The member it is for.
    pub customer_id: ID,
    /// The campaign's stored name (`custom` for a marketer's campaign).
    pub campaign: String,
    /// The period it is for (birthday year, send id …): one email per member, campaign and period.
    pub period_key: String,
    /// The day of the occasion it is about, when there is one.
    pub occasion_date: Option<Date>,
    /// The address it goes (or went) to.
    pub email: String,
    /// Where it stands.
    pub status: String,
    /// Send attempts so far.
    pub attempts: i32,
    /// The last attempt's error (addresses redacted).
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Proof of consent, written when it was sent: each consent flag the email relied on, its
    /// value then, and the audit entry that granted it (`grantedBy`).
    pub consent: Option<async_graphql::Json<serde_json::Value>>,
}

impl From<email_delivery::Model> for Delivery {
    fn from(m: email_delivery::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            customer_id: ID(m.customer_id.to_string()),
            campaign: m.campaign,
            period_key: m.period_key,
            occasion_date: m.occasion_date.map(Date),
            email: m.email,
            status: sea_orm::ActiveEnum::to_value(&m.status),
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            consent: m.consent.map(async_graphql::Json),
        }
    }
}

/// A campaign's emails by state, and its latest run.
#[derive(SimpleObject)]
pub struct CampaignReport {
    /// The built-in campaign.
    pub campaign: CampaignName,
    /// Emails waiting.
    pub pending: i64,
    /// Emails sent.
    pub sent: i64,
    /// Emails that failed for good.
    pub failed: i64,
    /// Written, then not sent because consent was withdrawn before sending.
    pub skipped: i64,
    /// Its job's latest run.
    pub last_run: Option<JobRun>,
}

/// Job and campaign queries.
#[derive(Default)]
pub struct RunsQuery;

#[Object]
impl RunsQuery {
    /// The newest job runs (at most 100), optionally of one job.
    #[graphql(guard = "ADMIN")]
    async fn job_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only runs of this job.")] job: Option<JobName>,
        #[graphql(default = 20, desc = "How many to return at most (the field's maximum applies).")] limit: i64,
    ) -> async_graphql::Result<Vec<JobRun>> {
        let (limit, _) = entity::rules::paging::check(limit, 0, 100).gql()?;
        let job = job.map(|j| Job::from(j).name());
        let rows = job_runs::recent(&app(ctx).db, scope(ctx), job, limit).await.gql()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every built-in campaign's emails by state in your restaurant.
    #[graphql(guard = "MARKETING")]
    async fn campaign_reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CampaignReport>> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let mut reports = Vec::new();
        for (name, campaign) in
            [(CampaignName::Birthday, Campaign::Birthday), (CampaignName::Anniversary, Campaign::Anniversary), (CampaignName::WinBack, Campaign::WinBack)]
        {
            let counts = outbox::status_counts(db, scope, campaign).await.gql()?;
            let n = |s: Status| counts.iter().find(|(status, _)| *status == s).map_or(0, |(_, n)| *n);
            let job = Job::ALL.into_iter().find(|j| j.campaign() == Some(campaign)).map(Job::name);
            let last_run = job_runs::recent(db, scope, job, 1).await.gql()?.into_iter().next().map(Into::into);
            reports.push(CampaignReport {
                campaign: name,
                pending: n(Status::Pending) + n(Status::Sending),
                sent: n(Status::Sent),
                failed: n(Status::Failed),
                skipped: n(Status::Skipped),
                last_run,
            });
        }
        Ok(reports)
    }

    /// Emails of your restaurant, newest first.
    #[graphql(guard = "MARKETING")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only emails of this built-in campaign.")] campaign: Option<CampaignName>,
        #[graphql(desc = "Only emails in this state.")] status: Option<DeliveryStatus>,
        #[graphql(default = 50, desc = "How many to return at most (the field's maximum applies).")] limit: i64,
        #[graphql(default = 0, desc = "How many to skip first, for the next page.")] offset: i64,
    ) -> async_graphql::Result<Vec<Delivery>> {
        let (limit, offset) = entity::rules::paging::check(limit, offset, app(ctx).policy.max_page_size).gql()?;
        let rows = outbox::list(&app(ctx).db, scope(ctx), campaign.map(Into::into), status.map(Into::into), limit, offset).await.gql()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Job mutations.
#[derive(Default)]
pub struct RunsMutation;

#[Object]
impl RunsMutation {
    /// Runs a job now for your restaurant. A dry run changes and sends nothing and lists who
    /// would be affected.
    #[graphql(guard = "ADMIN")]
    async fn run_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The job to run now, for the caller's restaurant only.")] job: JobName,
        #[graphql(default = false, desc = "List who would be changed or emailed, and change and send nothing.")] dry_run: bool,
    ) -> async_graphql::Result<RunJobPayload> {
        let state = app(ctx);
        let restaurant = restaurants::get(&state.db, &scope(ctx).restaurant_id).await.gql()?;
        let summary = jobs::run_job(&state.jobs, &restaurant, job.into(), RunTrigger::Api, dry_run, None)
            .await
            .map_err(job_error)
            .gql()?
            .ok_or_else(|| ApiError::validation("job", "the run could not start"))
            .gql()?;
        let recipients = summary
            .report
            .recipients
            .into_iter()
            .map(|r| Recipient { customer_id: ID(r.customer_id.to_string()), name: r.name, email: r.email, occasion_date: r.occasion_date.map(Date) })
            .collect();
        Ok(RunJobPayload { run: summary.run.into(), recipients })
    }
}
