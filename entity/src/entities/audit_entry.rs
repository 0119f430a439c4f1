//! `audit_log`: who did what to which customer, when, in which request. Point transactions
//! have their own ledger; everything else that changes a customer, consent or a key lands here.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    /// E.g. `customer.created`, `customer.updated`, `consent.changed`, `note.added`,
    /// `customer.erased`, `customer.merged`, `key.created`, `key.revoked`.
    pub action: String,
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
