//! `special_occasions`: custom dates a customer celebrates (besides birthday and anniversary).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "special_occasions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub customer_id: i64,
    pub name: String,
    pub date: Date,
    /// [`crate::rules::occasions::month_day_key`] of `date`, for indexed lookups.
    pub md: i32,
    /// Whether it comes back every year on the same day.
    pub recurring: bool,
    pub created_at: DateTimeUtc,
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
