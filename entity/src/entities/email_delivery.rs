//! `email_deliveries`: one row per marketing email, written before it is sent. The unique key
//! `(customer_id, campaign, period_key)` (e.g. birthday + year) is what makes re-runs, replicas
//! and crashes never send a second copy; unsent rows are retried with backoff.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Where an email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Written, waiting to be sent (or retried).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Claimed by a worker that is sending it.
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Failed for good after the last attempt.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Not sent: consent was withdrawn, or the customer is gone.
    #[sea_orm(string_value = "skipped")]
    Skipped,
    /// In the campaign's control group: never sent, kept to measure the campaign against.
    #[sea_orm(string_value = "held-out")]
    HeldOut,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "email_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub customer_id: i64,
    /// `birthday`, `anniversary` or `win-back`.
    pub campaign: String,
    /// The occasion period this email belongs to, e.g. `2026` for a birthday.
    pub period_key: String,
    /// The occasion's date, when it has one.
    pub occasion_date: Option<Date>,
    /// Unused since migration 31, empty in new rows (the release before wrote a sealed copy of
    /// the address here; see [`Model::sent_to`]). Dropped once no replica of that release runs.
    pub email: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The marketer-built campaign and its send this email belongs to (built-in campaigns:
    /// none).
    pub campaign_id: Option<i64>,
    pub send_id: Option<i64>,
    /// When the member unsubscribed through this email's link.
    pub unsubscribed_at: Option<DateTimeUtc>,
    /// Proof of consent, written when the email was sent: each consent flag it relied on,
    /// its value then, and the audit entry that granted it.
    pub consent: Option<Json>,
    /// The address it was sent to: a sealed copy of the member's, written when the mail server
    /// accepted it (empty until then; the worker sends to the member's address of the moment).
    pub sent_to: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::customer::Entity", from = "Column::CustomerId", to = "super::customer::Column::Id", on_delete = "Cascade")]
    Customer,
}

impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
