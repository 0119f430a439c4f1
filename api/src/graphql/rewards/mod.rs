//! The rewards catalogue and vouchers: admins manage the catalogue, every role reads it; staff
//! redeem a reward for a member (points → voucher) and, at the POS, check a voucher, use it once
//! or void it.

pub mod types;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::ops::rewards::{self as ops, RewardInput as DomainInput};

use crate::auth::{ADMIN, STAFF, VIEWER};
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::graphql::paging::{self, PageInfo};
use crate::graphql::points::PointsPayload;
use crate::graphql::scalars::Money;
use crate::graphql::types::{Tier, customer_id};
pub use types::{Reward, RewardKind, Voucher, VoucherStatus};

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

/// One page of the rewards catalogue.
#[derive(SimpleObject)]
pub struct RewardPage {
    /// The rewards, newest first.
    pub items: Vec<Reward>,
    /// Where the page ends.
    pub page_info: PageInfo,
}

/// A used voucher.
#[derive(SimpleObject)]
pub struct UseVoucherPayload {
    /// The voucher as the use left it (`REDEEMED`, with the order id).
    pub voucher: Voucher,
    /// True when the voucher had already been used on this same order and this is that use.
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
    /// Your restaurant's rewards catalogue, newest first, one page at a time (archived ones when
    /// asked for).
    #[graphql(guard = "VIEWER")]
    async fn rewards(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false, desc = "Also list rewards taken out of the catalogue.")] include_archived: bool,
        #[graphql(default = 50, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<RewardPage> {
        let (after, first) = paging::args("rewards", first, after.as_deref(), 100).gql()?;
        let page = ops::page(&app(ctx).db, scope(ctx), include_archived, after, first).await.gql()?;
        let page_info = paging::info("rewards", &page, |r| r.id);
        Ok(RewardPage { items: page.items.into_iter().map(Into::into).collect(), page_info })
    }

    /// A voucher by its code (as typed: any case, with or without the dash): whether it can be
    /// used now and what it gives.
    #[graphql(guard = "VIEWER")]
    async fn voucher(&self, ctx: &Context<'_>, #[graphql(desc = "The voucher's code.")] code: String) -> async_graphql::Result<Voucher> {
        Ok(ops::find(&app(ctx).db, scope(ctx), &code).await.gql()?.into())
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

    /// Uses a voucher once, for an order: `ALREADY_REDEEMED` when it was used on another
    /// order, `VOUCHER_EXPIRED` after its expiry, `VOUCHER_VOIDED` once voided. Repeating the
    /// call for the same order answers the same use again (`replayed: true`), so a POS may retry.
    #[graphql(guard = "STAFF")]
    async fn use_voucher(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The voucher's code, as the member shows it (any case, with or without the dash).")] code: String,
        #[graphql(desc = "The POS order it is used on (1 to 100 characters); the same order id again is a retry.")] order_id: String,
    ) -> async_graphql::Result<UseVoucherPayload> {
        let out = ops::use_voucher(&app(ctx).db, scope(ctx), &code, &order_id).await.gql()?;
        Ok(UseVoucherPayload { voucher: out.value.into(), replayed: out.replayed })
    }

    /// Cancels an unused voucher; its points go back to the member (one ledger row).
    #[graphql(guard = "STAFF")]
    async fn void_voucher(&self, ctx: &Context<'_>, #[graphql(desc = "The voucher's code.")] code: String) -> async_graphql::Result<Voucher> {
        Ok(ops::void_voucher(&app(ctx).db, scope(ctx), &code).await.gql()?.into())
    }
}
