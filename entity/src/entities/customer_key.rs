//! `customer_keys` (key store): one key per customer, wrapped by a restaurant data key. Every
//! personal value of the customer is sealed under it; erasure deletes the row, which makes
//! those values unreadable in every copy of the database (crypto-shredding).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub restaurant_id: String,
    /// The `data_keys` row that wraps it.
    pub data_key_id: String,
    pub wrapped: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
