//! The built-in campaigns' daily jobs: one [`Automation`] per campaign, each writing that day's
//! emails to the outbox and sending them.

use entity::entities::CampaignState;
use entity::marketing::{automations, builtins};

use super::{BackgroundJob, JobFuture, Run, Schedule, TimeOfDay};
use crate::{Campaign, JobError, JobReport, delivery};

/// The daily job of one built-in campaign.
pub struct Automation {
    name: &'static str,
    description: &'static str,
    campaign: Campaign,
    at: TimeOfDay,
    /// Date-bound: each missed day has its own recipients.
    every_missed_day: bool,
}

pub const BIRTHDAY: Automation = Automation {
    name: "birthday",
    description: "email birthday offers to opted-in customers",
    campaign: Campaign::Birthday,
    at: TimeOfDay::Birthday,
    every_missed_day: true,
};
pub const ANNIVERSARY: Automation = Automation {
    name: "anniversary",
    description: "email anniversary offers to opted-in customers",
    campaign: Campaign::Anniversary,
    at: TimeOfDay::Anniversary,
    every_missed_day: true,
};
pub const WIN_BACK: Automation = Automation {
    name: "win-back",
    description: "email win-back offers to dormant, opted-in customers",
    campaign: Campaign::WinBack,
    at: TimeOfDay::WinBack,
    every_missed_day: false,
};
pub const WELCOME: Automation = Automation {
    name: "welcome",
    description: "automation (off until switched on): welcome email after a first visit or sign-up",
    campaign: Campaign::Welcome,
    at: TimeOfDay::Birthday,
    every_missed_day: false,
};
pub const WELCOME_FOLLOW_UP: Automation = Automation {
    name: "welcome-follow-up",
    description: "automation (off until switched on): second welcome email welcomeFollowUpDays (14) after a first visit, if not returned",
    campaign: Campaign::WelcomeFollowUp,
    at: TimeOfDay::Birthday,
    every_missed_day: false,
};
pub const AT_RISK: Automation = Automation {
    name: "at-risk",
    description: "automation (off until switched on): nudge members who entered the at-risk window",
    campaign: Campaign::AtRisk,
    at: TimeOfDay::WinBack,
    every_missed_day: false,
};
pub const OCCASIONS: Automation = Automation {
    name: "occasions",
    description: "automation (off until switched on): email members on the custom occasions staff added",
    campaign: Campaign::Occasion,
    at: TimeOfDay::Anniversary,
    every_missed_day: true,
};
pub const MEMBER_ANNIVERSARY: Automation = Automation {
    name: "member-anniversary",
    description: "automation (off until switched on): email members on the anniversary of the day they joined",
    campaign: Campaign::MemberAnniversary,
    at: TimeOfDay::Anniversary,
    every_missed_day: true,
};
pub const NEARING_REWARD: Automation = Automation {
    name: "nearing-reward",
    description: "automation (off until switched on): email members within nearingRewardPoints of a reward or their next tier",
    campaign: Campaign::NearingReward,
    at: TimeOfDay::WinBack,
    every_missed_day: false,
};

impl BackgroundJob for Automation {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn schedule(&self) -> Schedule {
        Schedule::Daily { at: self.at, every_missed_day: self.every_missed_day }
    }
    fn campaign(&self) -> Option<Campaign> {
        Some(self.campaign)
    }
    fn run<'a>(&'a self, run: &'a Run<'a>) -> JobFuture<'a> {
        Box::pin(self.send(run))
    }
}

impl Automation {
    /// Writes the day's emails (unless the restaurant switched the campaign off) and sends them.
    async fn send(&self, run: &Run<'_>) -> Result<JobReport, JobError> {
        let (ctx, scope) = (run.ctx, run.scope);
        if !run.dry_run && builtins::one(&ctx.db, scope, self.campaign).await?.state == CampaignState::Paused {
            tracing::info!(job = self.name, restaurant = %run.restaurant.id, "switched off for this restaurant");
            return Ok(JobReport::default());
        }
        if !run.dry_run {
            entity::rules::restaurant::ready_to_market(run.restaurant)?;
        }
        let written = automations::enqueue(&ctx.db, scope, &run.programme, self.campaign, run.today, run.now, run.dry_run).await?;
        let mut report = JobReport {
            enqueued: written.enqueued,
            skipped_consent: written.skipped_consent,
            capped: written.capped,
            recipients: written.recipients,
            ..JobReport::default()
        };
        if !run.dry_run {
            let sent = delivery::deliver(ctx, run.restaurant, scope, Some(self.campaign), run.now).await?;
            (report.sent, report.failed, report.retrying) = (sent.sent, sent.failed, sent.retrying);
        }
        Ok(report)
    }
}
