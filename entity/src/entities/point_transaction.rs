//! `point_transactions`: the append-only points ledger. The customer's current, lifetime and
//! redeemed points always equal what these rows sum to (see [`crate::ops::ledger`]).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Why points changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LedgerKind {
    /// Points earned (purchases, manual awards).
    #[sea_orm(string_value = "earn")]
    Earn,
    /// Points spent on a reward or discount.
    #[sea_orm(string_value = "redeem")]
    Redeem,
    /// A correction by staff.
    #[sea_orm(string_value = "adjust")]
    Adjust,
    /// Points earned for referring a new member.
    #[sea_orm(string_value = "referral_bonus")]
    ReferralBonus,
    /// Points that expired.
    #[sea_orm(string_value = "expire")]
    Expire,
    /// Points an order earned, taken back when it was refunded (counts against lifetime too).
    #[sea_orm(string_value = "refund")]
    Refund,
    /// A balance brought from another system: the points ever earned there (positive), and
    /// those redeemed there (negative).
    #[sea_orm(string_value = "import")]
    Import,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "point_transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub customer_id: i64,
    pub kind: LedgerKind,
    /// Signed change of the current balance.
    pub delta: i64,
    /// Current balance right after this row.
    pub balance_after: i64,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    /// Who made the change (staff member, API key, job).
    pub actor: String,
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
