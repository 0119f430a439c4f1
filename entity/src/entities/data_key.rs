//! `data_keys` (key store): each restaurant's keys, wrapped by the master key. Purpose `data`
//! keys wrap the restaurant's customer keys (rotated by `loyalty data-keys rotate`); the one
//! `index` key makes the blind indexes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub restaurant_id: String,
    /// `data` or `index`.
    pub purpose: String,
    /// The key sealed by the master key.
    pub wrapped: String,
    /// `active` (wraps new customer keys) or `retiring` (being rotated away).
    pub state: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
