//! The rewards catalogue and vouchers: admins manage the catalogue, every role reads it; staff
//! redeem a reward for a member (points → voucher) and, at the POS, check a voucher, use it once
//! or void it.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{reward, voucher};
use entity::ops::rewards::{self as ops, RewardInput as DomainInput};
use entity::rules::rewards::usable;

use crate::auth::{ADMIN, STAFF, VIEWER};
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::graphql::points::PointsPayload;
use crate::graphql::scalars::Money;
use crate::graphql::types::{Tier, customer_id};

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
    /// Why not, when it cannot be used: `already redeemed`, `expired` or `voided`.
    pub unusable_because: Option<String>,
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
            unusable_because: problem.map(|p| p.to_string()),
            issued_at: v.issued_at,
            expires_at: v.expires_at,
            redeemed_at: v.redeemed_at,
            redeemed_order_id: v.redeemed_order_id,
        }
    }
}

/// A reward to create, or the changes to one (omitted fields stay).
#[derive(InputObject, Default)]
pub struct RewardInput {
    /// Its name, as members see it.
    pub name: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Points it costs (positive).
    pub points_cost: Option<i64>,
    /// What the voucher gives; with `amountOff`, `percentOff` or `itemId` to match.
    pub kind: Option<RewardKind>,
    /// For `AMOUNT_OFF`.
    pub amount_off: Option<Money>,
    /// For `PERCENT_OFF`, 1 to 100.
    pub percent_off: Option<i32>,
    /// For `FREE_ITEM`: the menu item id.
    pub item_id: Option<String>,
    /// The lowest tier that may redeem it.
    pub min_tier: Option<Tier>,
    /// Redeemable from this time.
    pub active_from: Option<DateTime<Utc>>,
    /// Redeemable until this time.
    pub active_until: Option<DateTime<Utc>>,
    /// Vouchers left to issue; null: unlimited.
    pub stock: Option<i64>,
    /// Days a voucher stays valid (1 to 730; 30 by default).
    pub valid_days: Option<i32>,
    /// Take it out of the catalogue (true) or put it back (false).
    pub archived: Option<bool>,
}

impl From<RewardInput> for DomainInput {
    fn from(i: RewardInput) -> Self {
        Self {
            name: i.name,
            description: i.description,
            points_cost: i.points_cost,
            kind: i.kind.map(Into::into),
            amount_cents: i.amount_off.map(|m| m.0),
            percent: i.percent_off.map(|p| i16::try_from(p).unwrap_or(i16::MAX)),
            item_id: i.item_id,
            min_tier: i.min_tier.map(Into::into),
            active_from: i.active_from,
            active_until: i.active_until,
            stock: i.stock,
            valid_days: i.valid_days,
            archived: i.archived,
        }
    }
}

/// A redeemed reward: the voucher issued and the balance after.
#[derive(SimpleObject)]
pub struct RedeemRewardPayload {
    /// The voucher issued.
    pub voucher: Voucher,
    /// The balance after.
    pub points: PointsPayload,
    /// True when this is the saved result of an earlier request with the same idempotency key.
    pub replayed: bool,
}

fn reward_id(id: &ID) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::not_found(format!("reward {}", id.as_str())))
}

/// Reward and voucher queries.
#[derive(Default)]
pub struct RewardQuery;

#[Object]
impl RewardQuery {
    /// Your restaurant's rewards catalogue, newest first (archived ones when asked for).
    #[graphql(guard = "VIEWER")]
    async fn rewards(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false, desc = "Also list rewards taken out of the catalogue.")] include_archived: bool,
    ) -> async_graphql::Result<Vec<Reward>> {
        Ok(ops::list(&app(ctx).db, scope(ctx), include_archived).await.gql()?.into_iter().map(Into::into).collect())
    }

    /// A voucher by its code (as typed: any case, with or without the dash): whether it can be
    /// used now and what it gives.
    #[graphql(guard = "VIEWER")]
    async fn voucher(&self, ctx: &Context<'_>, #[graphql(desc = "The voucher's code.")] code: String) -> async_graphql::Result<Voucher> {
        Ok(ops::find(&app(ctx).db, scope(ctx), &code).await.gql()?.into())
    }

    /// A member's vouchers, newest first.
    #[graphql(guard = "VIEWER")]
    async fn vouchers(&self, ctx: &Context<'_>, #[graphql(desc = "Only this member's vouchers.")] customer_id: ID) -> async_graphql::Result<Vec<Voucher>> {
        let id = self::customer_id(&customer_id).gql()?;
        Ok(ops::vouchers_of(&app(ctx).db, scope(ctx), id).await.gql()?.into_iter().map(Into::into).collect())
    }
}

/// Reward and voucher mutations.
#[derive(Default)]
pub struct RewardMutation;

#[Object]
impl RewardMutation {
    /// Adds a reward to the catalogue.
    #[graphql(guard = "ADMIN")]
    async fn create_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reward: name, points cost, kind and value, availability.")] input: RewardInput,
    ) -> async_graphql::Result<Reward> {
        Ok(ops::create(&app(ctx).db, scope(ctx), input.into()).await.gql()?.into())
    }

    /// Changes a reward (`archived: true` takes it out of the catalogue).
    #[graphql(guard = "ADMIN")]
    async fn update_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reward's id.")] id: ID,
        #[graphql(desc = "What to change; fields left out keep their value.")] input: RewardInput,
    ) -> async_graphql::Result<Reward> {
        let id = reward_id(&id).gql()?;
        Ok(ops::update(&app(ctx).db, scope(ctx), id, input.into()).await.gql()?.into())
    }

    /// Redeems a reward for a member: takes its points and issues a voucher, once per
    /// idempotency key. `REWARD_UNAVAILABLE` (tier, window, stock), `INSUFFICIENT_POINTS`.
    #[graphql(guard = "STAFF")]
    async fn redeem_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "The reward to redeem; its points are taken and a voucher issued.")] reward_id: ID,
        #[graphql(
            desc = "A key of your choosing for this change: a retry with the same key and the same arguments returns the first answer instead of applying it twice."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<RedeemRewardPayload> {
        let customer = self::customer_id(&customer_id).gql()?;
        let reward = self::reward_id(&reward_id).gql()?;
        let out = ops::redeem_reward(&app(ctx).db, scope(ctx), customer, reward, idempotency_key.as_deref()).await.gql()?;
        let replayed = out.replayed;
        let points = entity::ops::idempotency::Outcome { value: out.value.points, replayed };
        Ok(RedeemRewardPayload { voucher: out.value.voucher.into(), points: points.into(), replayed })
    }

    /// Uses a voucher once, for an order: `ALREADY_REDEEMED` on a second use,
    /// `VOUCHER_EXPIRED` after its expiry, `VOUCHER_VOIDED` once voided.
    #[graphql(guard = "STAFF")]
    async fn redeem_voucher(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The voucher's code, as the member shows it.")] code: String,
        #[graphql(desc = "The order it is used on.")] order_id: String,
    ) -> async_graphql::Result<Voucher> {
        Ok(ops::redeem_voucher(&app(ctx).db, scope(ctx), &code, &order_id).await.gql()?.into())
    }

    /// Cancels an unused voucher; its points go back to the member (one ledger row).
    #[graphql(guard = "STAFF")]
    async fn void_voucher(&self, ctx: &Context<'_>, #[graphql(desc = "The voucher's code.")] code: String) -> async_graphql::Result<Voucher> {
        Ok(ops::void_voucher(&app(ctx).db, scope(ctx), &code).await.gql()?.into())
    }
}
