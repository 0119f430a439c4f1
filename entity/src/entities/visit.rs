//! `visits`: one row per recorded visit or order.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "visits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub customer_id: i64,
    pub amount_cents: i64,
    /// The POS order id, unique per restaurant, when the visit came from an order.
    pub order_id: Option<String>,
    pub visited_at: DateTimeUtc,
    /// An order's lines (`[{"itemId": …, "quantity": …, "priceCents": …}]`), for reversing
    /// favourites on refund.
    pub items: Option<String>,
    /// Points the order earned (orders recorded before refunds existed: none, and a refund
    /// uses the restaurant's current rate).
    pub points_earned: Option<i64>,
    /// How much of the order's charge has been refunded.
    pub refunded_cents: i64,
    /// The order's lines already taken back from favourites by refunds (same shape as `items`).
    pub refunded_items: Option<String>,
    /// Where the order was placed (the POS's store or site), when it said.
    pub location: Option<String>,
    /// How it was placed (dine-in, takeaway, delivery, online, …), when the POS said.
    pub channel: Option<String>,
    /// When the row was last written (recorded, refunded, moved by a merge): the order of
    /// `orderChanges`.
    pub updated_at: DateTimeUtc,
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
