//! Visits (spec endpoint 6).

pub mod types;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::ops::visits;

use crate::auth::STAFF;
use crate::error::IntoGql;
use crate::graphql::context::{app, scope};
use crate::graphql::customers::types::Customer;
use crate::graphql::scalars::Money;
use crate::graphql::types::customer_id;

/// A recorded visit and the customer's statistics after it.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct VisitPayload {
    /// The visit's id.
    pub visit_id: ID,
    /// The member.
    pub customer_id: ID,
    /// What it came to.
    pub amount: Money,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
    /// True when this is the saved result of an earlier request with the same idempotency key.
    pub replayed: bool,
}

#[ComplexObject]
impl VisitPayload {
    /// The customer as it is now: visit statistics, tags and status.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = customer_id(&self.customer_id).gql()?;
        Customer::load(ctx, id).await
    }
}

/// Visit mutations.
#[derive(Default)]
pub struct VisitMutation;

#[Object]
impl VisitMutation {
    /// Records a visit: total visits, first/last visit, total spent, average order value and
    /// auto-tags follow; a dormant customer becomes active.
    #[graphql(guard = "STAFF")]
    async fn record_visit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "What the visit's order came to, in the restaurant's currency; points are earned on it.")] order_amount: Money,
        #[graphql(
            desc = "A key of your choosing for this change: a retry with the same key and the same arguments returns the first answer instead of applying it twice."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<VisitPayload> {
        let id = super::types::customer_id(&customer_id).gql()?;
        let out = visits::record_visit(&app(ctx).db, scope(ctx), id, order_amount.0, idempotency_key.as_deref()).await.gql()?;
        let v = out.value;
        Ok(VisitPayload {
            visit_id: ID(v.visit_id.to_string()),
            customer_id: ID(v.customer_id.to_string()),
            amount: Money(v.amount_cents),
            visited_at: v.visited_at,
            replayed: out.replayed,
        })
    }
}
