//! `webhook_deliveries`: one event for one endpoint, written in the transaction of the change
//! it reports; claimed (`pending` → `sending`) by one worker, sent signed, and retried with
//! backoff until delivered or out of attempts. Its `event_id` is the `webhook-id` header:
//! the same on every attempt and replay.

use sea_orm::entity::prelude::*;

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WebhookStatus {
    /// Waiting for its next attempt.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Claimed by a worker that is sending it.
    #[sea_orm(string_value = "sending")]
    Sending,
    /// The receiver answered 2xx.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Every attempt failed.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub endpoint_id: i64,
    pub event_id: String,
    pub event_type: String,
    /// The JSON body sent (`type`, `timestamp`, `data`).
    pub payload: String,
    pub occurred_at: DateTimeUtc,
    pub status: WebhookStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    /// The receiver's HTTP status of the last attempt (none: no answer).
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i32>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
