//! `rewards`: a restaurant's catalogue of what members can redeem points for.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use super::Tier;

/// What a reward (and its voucher) gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    /// An amount off the bill (`amount_cents`).
    #[sea_orm(string_value = "amount_off")]
    AmountOff,
    /// A percentage off the bill (`percent`).
    #[sea_orm(string_value = "percent_off")]
    PercentOff,
    /// A menu item for free (`item_id`).
    #[sea_orm(string_value = "free_item")]
    FreeItem,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "rewards")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub name: String,
    pub description: Option<String>,
    pub points_cost: i64,
    pub kind: RewardKind,
    pub amount_cents: Option<i64>,
    pub percent: Option<i16>,
    pub item_id: Option<String>,
    /// The lowest tier that may redeem it.
    pub min_tier: Tier,
    pub active_from: Option<DateTimeUtc>,
    pub active_until: Option<DateTimeUtc>,
    /// Vouchers left to issue; `None`: unlimited.
    pub stock: Option<i64>,
    /// Days a voucher for it stays valid.
    pub valid_days: i32,
    /// Taken out of the catalogue (vouchers already issued stay valid).
    pub archived: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
