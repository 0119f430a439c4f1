//! `campaign_sends`: one row per send of a campaign (a one-off campaign has one; a recurring one
//! one per slot), unique per (campaign, slot). It records who was left out and why; its
//! deliveries (`email_deliveries.send_id`) say what was enqueued, sent, failed or skipped.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Where a send stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SendState {
    /// Deliveries are being written (`claimed_at` beats while a worker does it).
    #[sea_orm(string_value = "enqueuing")]
    Enqueuing,
    /// Every delivery is written; the delivery job sends them.
    #[sea_orm(string_value = "enqueued")]
    Enqueued,
    /// Every delivery reached a final state.
    #[sea_orm(string_value = "done")]
    Done,
    /// The campaign was cancelled.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "campaign_sends")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub campaign_id: i64,
    /// The scheduled time this send is for.
    pub slot: DateTimeUtc,
    pub state: SendState,
    /// Members the audience matched.
    pub audience: i64,
    /// Left out: no email address.
    pub no_email: i64,
    /// Left out: no consent.
    pub no_consent: i64,
    /// Left out: blocked.
    pub blocked: i64,
    /// Left out: over the frequency cap.
    pub capped: i64,
    pub claimed_at: Option<DateTimeUtc>,
    pub started_at: DateTimeUtc,
    pub enqueued_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
