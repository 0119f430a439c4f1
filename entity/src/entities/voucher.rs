//! `vouchers`: single-use codes a member holds, for a reward (or, later, a tier benefit). The
//! code is unique across restaurants; a voucher is used at most once (a conditional update).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use super::reward::RewardKind;

/// Where a voucher stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum VoucherStatus {
    /// Can be used until it expires.
    #[sea_orm(string_value = "issued")]
    Issued,
    #[sea_orm(string_value = "redeemed")]
    Redeemed,
    /// Cancelled before use; its points went back.
    #[sea_orm(string_value = "voided")]
    Voided,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "vouchers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub customer_id: i64,
    pub reward_id: Option<i64>,
    pub code: String,
    /// `reward` (bought with points), or the campaign that gave it: `birthday`, `win-back`.
    pub source: String,
    /// What it is called on the receipt, e.g. the reward's name.
    pub title: String,
    /// Points it cost (returned when voided).
    pub points_cost: i64,
    pub kind: RewardKind,
    pub amount_cents: Option<i64>,
    pub percent: Option<i16>,
    pub item_id: Option<String>,
    pub status: VoucherStatus,
    pub issued_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub redeemed_at: Option<DateTimeUtc>,
    pub redeemed_order_id: Option<String>,
    pub voided_at: Option<DateTimeUtc>,
    /// Benefit vouchers: the period they are for (a birthday's year, a win-back's date),
    /// unique per member and source.
    pub period_key: Option<String>,
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
