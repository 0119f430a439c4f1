//! The jobs that send what is already written: the delivery retry and the marketer's campaigns.

use entity::marketing::sends;

use super::{BackgroundJob, JobFuture, Run, Schedule};
use crate::{JobReport, delivery};

/// Retries pending deliveries of every campaign.
pub struct Deliveries;

impl BackgroundJob for Deliveries {
    fn name(&self) -> &'static str {
        "deliveries"
    }
    fn description(&self) -> &'static str {
        "retry pending emails of every campaign"
    }
    fn schedule(&self) -> Schedule {
        Schedule::DeliveryCron
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            if run.dry_run {
                return Ok(JobReport::default());
            }
            let report = delivery::deliver(run.ctx, run.restaurant, run.scope, None, run.now).await?;
            sends::finish(&run.ctx.db, run.scope).await?;
            Ok(report)
        })
    }
}

/// Starts the marketer-built campaigns that are due and sends their emails.
pub struct Campaigns;

impl BackgroundJob for Campaigns {
    fn name(&self) -> &'static str {
        "campaigns"
    }
    fn description(&self) -> &'static str {
        "start due marketer-built campaigns and send their emails (checked every minute)"
    }
    fn schedule(&self) -> Schedule {
        Schedule::WhenDue
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            if run.dry_run {
                return Ok(JobReport::default());
            }
            entity::rules::restaurant::ready_to_market(run.restaurant)?;
            let written = sends::enqueue_due(&run.ctx.db, run.scope, &run.programme, run.now).await?;
            let mut report = delivery::deliver(run.ctx, run.restaurant, run.scope, None, run.now).await?;
            sends::finish(&run.ctx.db, run.scope).await?;
            report.sends = written.sends;
            report.enqueued = written.enqueued;
            report.capped = written.capped;
            report.skipped_consent = written.left_out - written.capped;
            Ok(report)
        })
    }
}
