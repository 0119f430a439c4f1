//! What a campaign is, where it stands and when it goes out.

use async_graphql::Enum;

/// What a campaign is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::CampaignKind")]
pub enum CampaignKind {
    /// Built by the marketing team.
    Custom,
    /// Built in: birthday emails, with a voucher for the tier's discount when it has one.
    Birthday,
    /// Built in: anniversary emails.
    Anniversary,
    /// Built in: emails to dormant members, with the win-back voucher when one is set.
    WinBack,
    /// The warning before a member's points expire.
    PointsExpiry,
    /// Automation: one welcome email after a member's first visit or sign-up.
    Welcome,
    /// Automation: a nudge when a member enters the at-risk window.
    AtRisk,
    /// Automation: congratulations right after a tier upgrade.
    TierUp,
    /// Automation: custom occasions on their day.
    Occasion,
    /// Automation: the second welcome email, `welcomeFollowUpDays` after a first visit, if not
    /// returned.
    WelcomeFollowUp,
    /// Automation: the yearly anniversary of the day a member joined.
    MemberAnniversary,
    /// Automation: a member within `nearingRewardPoints` of a reward or of the next tier.
    NearingReward,
}

/// Where a campaign stands: DRAFT → SCHEDULED → SENDING → SENT, with PAUSED and CANCELLED.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::CampaignState")]
pub enum CampaignState {
    /// Being written; not scheduled.
    Draft,
    /// Waiting for its send time.
    Scheduled,
    /// Its emails are being written and sent.
    Sending,
    /// Held: nothing more is sent until it is resumed.
    Paused,
    /// Every email of its (last) send is out.
    Sent,
    /// Stopped for good; emails not yet sent are skipped.
    Cancelled,
    /// A built-in campaign: always on, run by its job.
    BuiltIn,
}

/// When a campaign goes out.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::ScheduleKind")]
pub enum ScheduleKind {
    /// Sent as soon as it is scheduled.
    Now,
    /// Sent once, at a local date and time.
    At,
    /// Sent on a cron schedule in the restaurant's zone.
    Recurring,
}

/// Where one send of a campaign stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::SendState")]
pub enum SendState {
    /// Its audience is being read and its emails written.
    Enqueuing,
    /// Its emails are written and being sent.
    Enqueued,
    /// Every email of it is final (sent, failed, skipped or held out).
    Done,
    /// Stopped with its campaign; emails not yet sent are skipped.
    Cancelled,
}
