//! The spec's order integration: one mutation the POS calls when an order completes.

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::ops::{orders, refunds};

use super::context::{app, scope};
use super::customers::types::Customer;
use super::scalars::Money;
use super::types::{Tier, customer_id};
use crate::auth::STAFF;
use crate::error::IntoGql;

/// One line of an order.
#[derive(InputObject)]
pub struct OrderItemInput {
    /// The item's id in the POS.
    pub item_id: String,
    /// Its name.
    pub name: Option<String>,
    #[graphql(default = 1)]
    /// How many.
    pub quantity: i64,
    /// The line's price (all of its quantity), when the POS gives it.
    pub price: Option<Money>,
}

/// A completed order.
#[derive(InputObject)]
pub struct OrderInput {
    /// The member's phone number (any common format); or give `customerId`, not both.
    pub phone: Option<String>,
    /// The member's id; or give `phone`, not both.
    pub customer_id: Option<ID>,
    /// The POS order id; recording the same order again changes nothing.
    pub order_id: String,
    /// The order's final charge.
    pub amount: Money,
    #[graphql(default)]
    /// The order's lines (optional; they make favourites).
    pub items: Vec<OrderItemInput>,
    /// When the order happened, if before now: an order the POS queued while offline, up to
    /// `LOYALTY_LATE_ORDER_DAYS` (30) days back. The member ends as if it had come on time.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Where it was placed (the POS's store or site; up to 100 characters).
    pub location: Option<String>,
    /// How it was placed, as the POS names it (dine-in, takeaway, delivery, online, …).
    pub channel: Option<String>,
}

/// What an order earned.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderPayload {
    /// The order's id.
    pub order_id: String,
    /// The member.
    pub customer_id: ID,
    /// The visit it recorded.
    pub visit_id: ID,
    /// Points it earned.
    pub points_earned: i64,
    /// Balance after the change.
    pub current_points: i64,
    /// Lifetime points after the change.
    pub lifetime_points: i64,
    /// Tier after the change.
    pub tier: Tier,
    /// True when the order had been recorded before and this is the saved result.
    pub replayed: bool,
}

#[ComplexObject]
impl OrderPayload {
    /// The customer as it is now.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = customer_id(&self.customer_id).gql()?;
        Customer::load(ctx, id).await
    }
}

/// A refund (or void) of a recorded order.
#[derive(InputObject)]
pub struct RefundInput {
    /// The order to refund.
    pub order_id: String,
    /// How much to refund; omitted: whatever is left of the charge.
    pub amount: Option<Money>,
    /// The lines refunded (their favourite counts are taken back); a full refund or a void
    /// takes back every line of the order.
    #[graphql(default)]
    pub items: Vec<OrderItemInput>,
    /// Void the order: refund what is left and remove its visit.
    #[graphql(default = false)]
    pub void: bool,
    /// The POS's id of this refund: a retry with the same id changes nothing. A full refund or
    /// a void needs none (doing it twice changes nothing).
    pub refund_id: Option<String>,
}

/// What a refund took back.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct RefundPayload {
    /// The order's id.
    pub order_id: String,
    /// The member.
    pub customer_id: ID,
    /// Refunded by this call.
    pub refunded: Money,
    /// Refunded of the order in all.
    pub total_refunded: Money,
    /// Points taken back.
    pub points_reversed: i64,
    /// Points the refund should have taken back but the balance no longer held (recorded on
    /// the ledger row).
    pub points_not_recovered: i64,
    /// Balance after the change.
    pub current_points: i64,
    /// Lifetime points after the change.
    pub lifetime_points: i64,
    /// Tier after the change.
    pub tier: Tier,
    /// Whether the visit no longer counts (a full refund).
    pub visit_removed: bool,
    /// True when this refund had been made before and this is the saved result.
    pub replayed: bool,
}

#[ComplexObject]
impl RefundPayload {
    /// The customer as it is now.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = customer_id(&self.customer_id).gql()?;
        Customer::load(ctx, id).await
    }
}

fn items_of(items: Vec<OrderItemInput>) -> Vec<orders::OrderItem> {
    items.into_iter().map(|i| orders::OrderItem { item_id: i.item_id, name: i.name, quantity: i.quantity, price_cents: i.price.map(|p| p.0) }).collect()
}

/// Order mutations.
#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Records a completed order for the member with this phone number or id: points per whole
    /// dollar, a visit and favourite-item counts, in one transaction, once per order id.
    #[graphql(guard = "STAFF")]
    async fn record_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order: the member, its amount and lines, and its order id (which makes a retry harmless).")] input: OrderInput,
    ) -> async_graphql::Result<OrderPayload> {
        let state = app(ctx);
        let member = input.customer_id.as_ref().map(customer_id).transpose().gql()?;
        let order = orders::OrderInput {
            phone: input.phone,
            customer_id: member,
            order_id: input.order_id,
            amount_cents: input.amount.0,
            items: items_of(input.items),
            occurred_at: input.occurred_at,
            location: input.location,
            channel: input.channel,
            imported: false,
            no_points: false,
        };
        let out = orders::record_order(&state.db, scope(ctx), &state.policy, order).await.gql()?;
        let v = out.value;
        Ok(OrderPayload {
            order_id: v.order_id,
            customer_id: ID(v.customer_id.to_string()),
            visit_id: ID(v.visit_id.to_string()),
            points_earned: v.points_earned,
            current_points: v.current,
            lifetime_points: v.lifetime,
            tier: v.tier.into(),
            replayed: out.replayed,
        })
    }

    /// Refunds a recorded order, in full (no `amount`) or in part, or voids it: takes back its
    /// share of points (one `REFUND` ledger row; never below a zero balance, what could not be
    /// taken back is reported), total spent and favourite counts; a void also removes its visit.
    /// More than is left of the charge is `VALIDATION`. Tiers are lowered only if the
    /// restaurant's `refundsLowerTier` says so.
    #[graphql(guard = "STAFF")]
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order to refund, and the amount or lines given back.")] input: RefundInput,
    ) -> async_graphql::Result<RefundPayload> {
        let refund = refunds::RefundInput {
            order_id: input.order_id,
            amount_cents: input.amount.map(|m| m.0),
            items: items_of(input.items),
            void: input.void,
            refund_id: input.refund_id,
        };
        let out = refunds::refund_order(&app(ctx).db, scope(ctx), refund).await.gql()?;
        let v = out.value;
        Ok(RefundPayload {
            order_id: v.order_id,
            customer_id: ID(v.customer_id.to_string()),
            refunded: Money(v.refunded_cents),
            total_refunded: Money(v.total_refunded_cents),
            points_reversed: v.points_reversed,
            points_not_recovered: v.points_not_recovered,
            current_points: v.current,
            lifetime_points: v.lifetime,
            tier: v.tier.into(),
            visit_removed: v.visit_removed,
            replayed: out.replayed,
        })
    }
}
