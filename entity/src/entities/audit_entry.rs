//! `audit_log`: who did what to which customer, when, in which request. Point transactions
//! have their own ledger; everything else that changes a customer, consent or a key lands here.

use sea_orm::entity::prelude::*;

/// What an audit entry records: the one list of actions the code writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
pub enum AuditAction {
    #[sea_orm(string_value = "customer.created")]
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[sea_orm(string_value = "customer.updated")]
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    #[sea_orm(string_value = "customer.phone_changed")]
    #[serde(rename = "customer.phone_changed")]
    CustomerPhoneChanged,
    #[sea_orm(string_value = "customer.erased")]
    #[serde(rename = "customer.erased")]
    CustomerErased,
    #[sea_orm(string_value = "customer.merged")]
    #[serde(rename = "customer.merged")]
    CustomerMerged,
    #[sea_orm(string_value = "consent.changed")]
    #[serde(rename = "consent.changed")]
    ConsentChanged,
    #[sea_orm(string_value = "note.added")]
    #[serde(rename = "note.added")]
    NoteAdded,
    #[sea_orm(string_value = "feedback.recorded")]
    #[serde(rename = "feedback.recorded")]
    FeedbackRecorded,
    #[sea_orm(string_value = "order.refunded")]
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    #[sea_orm(string_value = "order.voided")]
    #[serde(rename = "order.voided")]
    OrderVoided,
    #[sea_orm(string_value = "key.created")]
    #[serde(rename = "key.created")]
    KeyCreated,
    #[sea_orm(string_value = "key.revoked")]
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    #[sea_orm(string_value = "restaurant.updated")]
    #[serde(rename = "restaurant.updated")]
    RestaurantUpdated,
    #[sea_orm(string_value = "campaign.created")]
    #[serde(rename = "campaign.created")]
    CampaignCreated,
    #[sea_orm(string_value = "campaign.updated")]
    #[serde(rename = "campaign.updated")]
    CampaignUpdated,
    #[sea_orm(string_value = "campaign.scheduled")]
    #[serde(rename = "campaign.scheduled")]
    CampaignScheduled,
    #[sea_orm(string_value = "campaign.paused")]
    #[serde(rename = "campaign.paused")]
    CampaignPaused,
    #[sea_orm(string_value = "campaign.resumed")]
    #[serde(rename = "campaign.resumed")]
    CampaignResumed,
    #[sea_orm(string_value = "campaign.cancelled")]
    #[serde(rename = "campaign.cancelled")]
    CampaignCancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    /// What happened.
    pub action: AuditAction,
    pub customer_id: Option<i64>,
    /// The acting key (`key:ID:NAME`), job, or `customer` (unsubscribe link).
    pub actor: String,
    pub request_id: String,
    /// What changed: fields with old and new values, a consent flag and its source, …
    pub details: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
