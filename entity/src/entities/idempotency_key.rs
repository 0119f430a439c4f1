//! `idempotency_keys`: the saved result of a point-changing request, so a retry with the same
//! key returns the first result and changes nothing (see [`crate::ops::idempotency`]).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub restaurant_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Operation name, e.g. `addPoints`.
    pub operation: String,
    /// SHA-256 of the request's arguments: the same key with other arguments is refused.
    pub request_hash: String,
    /// The serialised result, set in the same transaction as the work.
    pub response: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
