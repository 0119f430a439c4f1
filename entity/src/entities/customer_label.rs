//! `customer_labels`: the spec's `tags` and `segments` arrays, one row per label so both are
//! filterable by index on SQLite and PostgreSQL alike.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether a label is a behaviour tag (kept by the rules) or a marketing segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LabelKind {
    #[sea_orm(string_value = "tag")]
    Tag,
    #[sea_orm(string_value = "segment")]
    Segment,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "customer_labels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: LabelKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub restaurant_id: String,
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
