//! `campaigns`: the emails the marketing team builds: content (minijinja templates), audience
//! (a segment or an inline rule), schedule and state. The built-in birthday, anniversary and
//! win-back campaigns have a row each (kind other than `custom`) that carries their editable
//! wording; their audience and timing stay the rules of their jobs.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// What a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CampaignKind {
    /// Built by the marketing team.
    #[sea_orm(string_value = "custom")]
    Custom,
    #[sea_orm(string_value = "birthday")]
    Birthday,
    #[sea_orm(string_value = "anniversary")]
    Anniversary,
    #[sea_orm(string_value = "win-back")]
    WinBack,
    #[sea_orm(string_value = "points-expiry")]
    PointsExpiry,
    #[sea_orm(string_value = "welcome")]
    Welcome,
    #[sea_orm(string_value = "at-risk")]
    AtRisk,
    #[sea_orm(string_value = "tier-up")]
    TierUp,
    #[sea_orm(string_value = "occasion")]
    Occasion,
    #[sea_orm(string_value = "welcome-2")]
    WelcomeFollowUp,
    #[sea_orm(string_value = "membership")]
    MemberAnniversary,
    #[sea_orm(string_value = "nearing-reward")]
    NearingReward,
}

/// Where a campaign stands: draft → scheduled → sending → sent, with paused and cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CampaignState {
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Waits for `next_run_at`.
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    /// A send is being enqueued or delivered.
    #[sea_orm(string_value = "sending")]
    Sending,
    /// Nothing more goes out until resumed.
    #[sea_orm(string_value = "paused")]
    Paused,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Built-in campaigns: always on, run by their jobs.
    #[sea_orm(string_value = "built-in")]
    BuiltIn,
}

/// When a campaign goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ScheduleKind {
    /// As soon as it is scheduled.
    #[sea_orm(string_value = "now")]
    Now,
    /// Once, at a local date and time.
    #[sea_orm(string_value = "at")]
    At,
    /// On a cron schedule in the restaurant's zone.
    #[sea_orm(string_value = "recurring")]
    Recurring,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub name: String,
    pub kind: CampaignKind,
    /// Built-in campaigns: their kind again, unique per restaurant (custom ones: none).
    pub builtin_key: Option<String>,
    pub state: CampaignState,
    /// Target segment (automatic, list or rule), or none with `audience_rule`.
    pub audience_segment: Option<String>,
    /// Inline audience rule (JSON).
    pub audience_rule: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub offer: Option<String>,
    pub schedule_kind: Option<ScheduleKind>,
    /// `At`: the local date and time, `YYYY-MM-DDTHH:MM`.
    pub send_at_local: Option<String>,
    /// `Recurring`: cron with a seconds field of 0, in the restaurant's zone.
    pub cron: Option<String>,
    /// When the next send starts (UTC).
    pub next_run_at: Option<DateTimeUtc>,
    /// A paused campaign's state before the pause.
    pub resume_state: Option<CampaignState>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// Share of the audience (percent) kept as a control group: not emailed, recorded.
    pub holdout_percent: i32,
    /// Days after a send during which recipients' visits, revenue and redemptions count.
    pub attribution_days: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
