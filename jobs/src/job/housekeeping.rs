//! The daily housekeeping jobs: labels, point expiry, the staff brief, retention.

use entity::ops::{dormancy, expiry, predict, retention};

use super::{BackgroundJob, JobFuture, Run, Schedule, TimeOfDay};
use crate::mailer::{self, Sender};
use crate::{Campaign, JobError, JobReport, delivery};

const HOUSEKEEPING: Schedule = Schedule::Daily { at: TimeOfDay::Housekeeping, every_missed_day: false };

/// Keeps `dormant`, `at-risk` (and the expiry of `new-customer`) current.
pub struct Dormancy;

impl BackgroundJob for Dormancy {
    fn name(&self) -> &'static str {
        "dormancy"
    }
    fn description(&self) -> &'static str {
        "keep time-based tags and segments current: dormant, at-risk, new-customer expiry"
    }
    fn schedule(&self) -> Schedule {
        HOUSEKEEPING
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let changes = dormancy::run(&run.ctx.db, run.scope, &run.programme, run.now, run.dry_run).await?;
            Ok(JobReport { changed: changes.changed, recipients: changes.recipients, ..JobReport::default() })
        })
    }
}

/// Warns members whose points expire soon and expires the balances that are due.
pub struct PointsExpiry;

impl BackgroundJob for PointsExpiry {
    fn name(&self) -> &'static str {
        "points-expiry"
    }
    fn description(&self) -> &'static str {
        "warn members whose points expire soon, then expire the balances that are due (restaurants with a policy)"
    }
    fn schedule(&self) -> Schedule {
        HOUSEKEEPING
    }
    fn campaign(&self) -> Option<Campaign> {
        Some(Campaign::PointsExpiry)
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let done = expiry::run(&run.ctx.db, run.scope, &run.programme, run.now, run.dry_run).await?;
            let mut report = JobReport {
                changed: done.expired,
                enqueued: done.warned,
                skipped_consent: done.skipped_consent,
                recipients: done.recipients,
                ..JobReport::default()
            };
            if !run.dry_run {
                let sent = delivery::deliver(run.ctx, run.restaurant, run.scope, Some(Campaign::PointsExpiry), run.now).await?;
                (report.sent, report.failed, report.retrying) = (sent.sent, sent.failed, sent.retrying);
            }
            Ok(report)
        })
    }
}

/// Purges old idempotency keys, job runs and finished deliveries; erases inactive members when
/// the restaurant's policy says so.
pub struct Retention;

impl BackgroundJob for Retention {
    fn name(&self) -> &'static str {
        "retention"
    }
    fn description(&self) -> &'static str {
        "purge idempotency keys, job runs and finished deliveries past their retention; erase members inactive for eraseInactiveAfterMonths (when set)"
    }
    fn schedule(&self) -> Schedule {
        HOUSEKEEPING
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let done = retention::run(&run.ctx.db, run.scope, &run.programme, run.now, run.dry_run).await?;
            Ok(JobReport { purged: done.rows(), erased: done.erased, recipients: done.recipients, ..JobReport::default() })
        })
    }
}

/// The morning brief to staff: today's and tomorrow's occasions with each guest's tier,
/// favourites, allergies and latest note.
pub struct StaffDigest;

impl BackgroundJob for StaffDigest {
    fn name(&self) -> &'static str {
        "staff-digest"
    }
    fn description(&self) -> &'static str {
        "email the pre-shift brief (today's and tomorrow's occasions) to the restaurant's staff digest addresses"
    }
    fn schedule(&self) -> Schedule {
        HOUSEKEEPING
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(staff_digest(run))
    }
}

/// Sends the brief to each address of the restaurant's `digestEmails`.
async fn staff_digest(run: &Run<'_>) -> Result<JobReport, JobError> {
    let (ctx, restaurant, today) = (run.ctx, run.restaurant, run.today);
    let mut report = JobReport::default();
    let to: Vec<&str> = restaurant.digest_emails.split(',').filter(|a| !a.is_empty()).collect();
    if to.is_empty() {
        return Ok(report);
    }
    let guests = entity::ops::digest::brief(&ctx.db, run.scope, today).await?;
    report.changed = guests.len() as u64;
    if guests.is_empty() || run.dry_run {
        return Ok(report);
    }
    let email = mailer::digest(restaurant, today, &guests).map_err(JobError::Config)?;
    let sender = Sender::of(restaurant).map_err(|e| JobError::Config(e.to_string()))?;
    for (n, address) in to.into_iter().enumerate() {
        let message_id = format!("<digest-{}-{today}-{n}.{}@loyalty>", restaurant.id.replace(['<', '>', '@', ' '], "-"), ctx.deployment_id);
        let message = ctx.mailer.build_notice(&sender, address, &email, &message_id).map_err(|e| JobError::Config(e.to_string()))?;
        match ctx.mailer.send(message).await {
            Ok(()) => report.sent += 1,
            Err(e) => {
                tracing::error!(restaurant = %restaurant.id, error = %e, "staff digest not sent");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Fits the restaurant's predictive models (visits and spend) on its visits to date.
pub struct ModelFit;

impl BackgroundJob for ModelFit {
    fn name(&self) -> &'static str {
        "model-fit"
    }
    fn description(&self) -> &'static str {
        "fit the predictive models (BG/NBD visits, Gamma-Gamma spend) on the visits to date and score every member with the latest good fit"
    }
    fn schedule(&self) -> Schedule {
        HOUSEKEEPING
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            if run.dry_run {
                return Ok(JobReport::default());
            }
            predict::fit(&run.ctx.db, run.scope, predict::Period::default(), run.now, &run.ctx.fits).await?;
            let changed = match predict::latest(&run.ctx.db, run.scope).await? {
                Some(good) => predict::score(&run.ctx.db, run.scope, &good, run.now, run.ctx.config.value_discount_rate).await?,
                None => 0,
            };
            Ok(JobReport { changed, ..JobReport::default() })
        })
    }
}
