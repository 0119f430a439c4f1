//! Job runs, for operators: recent runs and running a job now (with a dry run that lists
//! recipients).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::DomainError;
use entity::entities::job_run;
use entity::ops::{job_runs, restaurants};
use jobs::{Job, JobError};

use super::context::{app, scope};
use super::paging::{self, PageInfo};
use super::scalars::Date;
use crate::auth::ADMIN;
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
    #[graphql(name = "OCCASION")]
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
    /// Fits the predictive models (visits and spend) on the visits to date
    /// (`predictionModels`, `Customer.prediction`).
    ModelFit,
}

/// What started a job run.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::RunTrigger")]
pub enum RunTrigger {
    /// The scheduler, at the slot's time.
    Schedule,
    /// A scheduled slot run late: no replica was up at its time, or its run was abandoned.
    CatchUp,
    /// `loyalty jobs run`.
    Cli,
    /// `runJob`.
    Api,
}

/// How a job run stands or ended.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::RunOutcome")]
pub enum RunOutcome {
    /// Still running.
    Running,
    /// Finished without error.
    Succeeded,
    /// Stopped on an error (`error` says which).
    Failed,
    /// Its replica stopped while running it; the slot is run again.
    Abandoned,
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
    /// The job.
    pub job: JobName,
    /// What started it.
    pub trigger: RunTrigger,
    /// Whether it only listed what it would do.
    pub dry_run: bool,
    /// The slot it ran for (null for a manual run).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished (null while running).
    pub finished_at: Option<DateTime<Utc>>,
    /// How it stands or ended.
    pub outcome: RunOutcome,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Customers whose tags or status changed (dormancy); members scored (model-fit).
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

impl TryFrom<job_run::Model> for JobRun {
    type Error = ApiError;

    fn try_from(m: job_run::Model) -> Result<Self, ApiError> {
        let n = |k: &str| m.counts.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
        let job = Job::ALL
            .into_iter()
            .find(|j| j.name() == m.job)
            .ok_or_else(|| ApiError::Domain(DomainError::internal(format!("a run of an unknown job {:?}", m.job))))?;
        Ok(Self {
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
            job: job.into(),
            trigger: m.trigger.into(),
            dry_run: m.dry_run,
            scheduled_for: m.scheduled_for,
            started_at: m.started_at,
            finished_at: m.finished_at,
            outcome: m.outcome.into(),
            error: m.error,
        })
    }
}

/// One page of job runs.
#[derive(SimpleObject)]
pub struct JobRunPage {
    /// The runs, newest first.
    pub items: Vec<JobRun>,
    /// Where the page ends.
    pub page_info: PageInfo,
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

/// Job run queries.
#[derive(Default)]
pub struct RunsQuery;

#[Object]
impl RunsQuery {
    /// Job runs of your restaurant, newest first, one page at a time; optionally of one job.
    #[graphql(guard = "ADMIN")]
    async fn job_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only runs of this job.")] job: Option<JobName>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<JobRunPage> {
        let (after, first) = paging::args("jobRuns", first, after.as_deref(), 100).gql()?;
        let job = job.map(|j| Job::from(j).name());
        let page = job_runs::page(&app(ctx).db, scope(ctx), job, after, first).await.gql()?;
        let page_info = paging::info("jobRuns", &page, |r| r.id);
        Ok(JobRunPage { items: page.items.into_iter().map(JobRun::try_from).collect::<Result<_, _>>().gql()?, page_info })
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
        let summary = jobs::run_job(&state.jobs, &restaurant, job.into(), entity::entities::RunTrigger::Api, dry_run, None)
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
        Ok(RunJobPayload { run: JobRun::try_from(summary.run).gql()?, recipients })
    }
}
