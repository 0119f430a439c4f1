//! The catalogue's and vouchers' object types (shared with the member types that show them).

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{reward, voucher};
use entity::rules::rewards::usable;

use crate::graphql::scalars::Money;
use crate::graphql::types::Tier;

/// What a reward (and its voucher) gives.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::RewardKind")]
pub enum RewardKind {
    /// An amount off the bill.
    AmountOff,
    /// A percentage off the bill.
    PercentOff,
    /// A menu item for free.
    FreeItem,
}

/// Where a voucher stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::VoucherStatus")]
pub enum VoucherStatus {
    /// Valid and not used yet (until it expires).
    Issued,
    /// Used on an order.
    Redeemed,
    /// Cancelled by staff; it can no longer be used.
    Voided,
}

/// Why a voucher cannot be used now.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::rules::rewards::VoucherProblem")]
pub enum VoucherProblem {
    /// It was used on an order (`redeemedOrderId`).
    AlreadyRedeemed,
    /// It is past `expiresAt`.
    Expired,
    /// Staff voided it; its points went back.
    Voided,
}

/// A reward of the catalogue.
#[derive(SimpleObject)]
pub struct Reward {
    /// The reward's id.
    pub id: ID,
    /// Its name, as members see it.
    pub name: String,
    /// What it is (optional).
    pub description: Option<String>,
    /// Points it costs.
    pub points_cost: i64,
    /// What the voucher gives: an amount off, a percentage off or an item.
    pub kind: RewardKind,
    /// Amount off (kind amount).
    pub amount_off: Option<Money>,
    /// Percent off (kind percent).
    pub percent_off: Option<i32>,
    /// The free item's id in the POS (kind item).
    pub item_id: Option<String>,
    /// The lowest tier that may redeem it.
    pub min_tier: Tier,
    /// Redeemable from this time (null: already).
    pub active_from: Option<DateTime<Utc>>,
    /// Redeemable until this time (null: no end).
    pub active_until: Option<DateTime<Utc>>,
    /// Vouchers left to issue; null: unlimited.
    pub stock: Option<i64>,
    /// Days a voucher for it stays valid.
    pub valid_days: i32,
    /// Taken out of the catalogue (kept for the vouchers already issued).
    pub archived: bool,
}

impl From<reward::Model> for Reward {
    fn from(r: reward::Model) -> Self {
        Self {
            id: ID(r.id.to_string()),
            name: r.name,
            description: r.description,
            points_cost: r.points_cost,
            kind: r.kind.into(),
            amount_off: r.amount_cents.map(Money),
            percent_off: r.percent.map(i32::from),
            item_id: r.item_id,
            min_tier: r.min_tier.into(),
            active_from: r.active_from,
            active_until: r.active_until,
            stock: r.stock,
            valid_days: r.valid_days,
            archived: r.archived,
        }
    }
}

/// A member's single-use voucher.
#[derive(SimpleObject)]
pub struct Voucher {
    /// The voucher's id.
    pub id: ID,
    /// What the member shows at the POS, e.g. `K7M2Q-XP4RT`.
    pub code: String,
    /// The member it belongs to.
    pub customer_id: ID,
    /// What it is called on the receipt.
    pub title: String,
    /// What it gives.
    pub kind: RewardKind,
    /// Amount off (kind amount).
    pub amount_off: Option<Money>,
    /// Percent off (kind percent).
    pub percent_off: Option<i32>,
    /// The free item's id in the POS (kind item).
    pub item_id: Option<String>,
    /// Issued, redeemed or voided.
    pub status: VoucherStatus,
    /// Whether the POS can use it now.
    pub usable: bool,
    /// Why not, when it cannot be used.
    pub unusable_because: Option<VoucherProblem>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// When it was used.
    pub redeemed_at: Option<DateTime<Utc>>,
    /// The order it was used on.
    pub redeemed_order_id: Option<String>,
}

impl From<voucher::Model> for Voucher {
    fn from(v: voucher::Model) -> Self {
        let problem = usable(&v, entity::ops::now()).err();
        Self {
            id: ID(v.id.to_string()),
            code: v.code,
            customer_id: ID(v.customer_id.to_string()),
            title: v.title,
            kind: v.kind.into(),
            amount_off: v.amount_cents.map(Money),
            percent_off: v.percent.map(i32::from),
            item_id: v.item_id,
            status: v.status.into(),
            usable: problem.is_none(),
            unusable_because: problem.map(Into::into),
            issued_at: v.issued_at,
            expires_at: v.expires_at,
            redeemed_at: v.redeemed_at,
            redeemed_order_id: v.redeemed_order_id,
        }
    }
}

/// One page of a member's vouchers.
#[derive(SimpleObject)]
pub struct VoucherPage {
    /// The items, newest first.
    pub items: Vec<Voucher>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}
