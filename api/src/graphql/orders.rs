//! The spec's order integration: one mutation the POS calls when an order completes.

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use entity::ops::orders;

use super::customers::types::Customer;
use super::loaders::CustomerById;
use super::scalars::Money;
use super::types::{Tier, customer_id};
use super::context::{app, loader, scope};
use crate::auth::STAFF;
use crate::error::IntoGql;

/// One line of an order.
#[derive(InputObject)]
pub struct OrderItemInput {
    pub item_id: String,
    pub name: Option<String>,
    #[graphql(default = 1)]
    pub quantity: i64,
}

/// A completed order.
#[derive(InputObject)]
pub struct OrderInput {
    /// The member's phone number.
    pub phone: String,
    /// The POS order id; recording the same order again changes nothing.
    pub order_id: String,
    /// The order's final charge.
    pub amount: Money,
    #[graphql(default)]
    pub items: Vec<OrderItemInput>,
}

/// What an order earned.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderPayload {
    pub order_id: String,
    pub customer_id: ID,
    pub visit_id: ID,
    pub points_earned: i64,
    pub current_points: i64,
    pub lifetime_points: i64,
    pub tier: Tier,
    /// True when the order had been recorded before and this is the saved result.
    pub replayed: bool,
}

#[ComplexObject]
impl OrderPayload {
    /// The customer as it is now.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = customer_id(&self.customer_id).gql()?;
        Ok(loader(ctx).load_one(CustomerById(id)).await.gql()?.map(Customer))
    }
}

/// Order mutations.
#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Records a completed order for the member with this phone number: points per whole
    /// dollar, a visit and favourite-item counts, in one transaction, once per order id.
    #[graphql(guard = "STAFF")]
    async fn record_order(&self, ctx: &Context<'_>, input: OrderInput) -> async_graphql::Result<OrderPayload> {
        let state = app(ctx);
        let order = orders::OrderInput {
            phone: input.phone,
            order_id: input.order_id,
            amount_cents: input.amount.0,
            items: input
                .items
                .into_iter()
                .map(|i| orders::OrderItem { item_id: i.item_id, name: i.name, quantity: i.quantity })
                .collect(),
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
}
