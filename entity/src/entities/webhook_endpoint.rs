//! `webhook_endpoints`: where a restaurant's events go. The signing secret is not stored: it
//! is derived from a key in the key store, the restaurant, the endpoint and `secret_version`
//! (`ops::webhooks::secret`), so a backup of the data cannot sign a message.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub url: String,
    /// The event types it receives, comma-separated (`rules::webhooks::EVENTS`).
    pub events: String,
    /// Raised by each rotation of the secret.
    pub secret_version: i32,
    /// Until then, messages are signed with the previous version's secret too (a receiver
    /// moving to the new secret verifies either).
    pub previous_secret_until: Option<DateTimeUtc>,
    pub enabled: bool,
    /// Events are recorded for it from this instant: a minute after it was added or enabled,
    /// by when every replica knows the restaurant has endpoints (`ops::webhooks::events`).
    pub active_from: DateTimeUtc,
    /// Why it was disabled (by an admin, or after its deliveries failed for days).
    pub disabled_reason: Option<String>,
    /// Its messages about a member carry the member's name and contact details (read when
    /// sent; events store ids only).
    pub include_personal: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
