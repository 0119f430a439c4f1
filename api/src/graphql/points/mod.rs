//! Points: add (spec endpoint 4) and redeem (endpoint 5).

pub mod types;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use entity::ops::{idempotency::Outcome, ledger};

use crate::auth::STAFF;
use crate::error::IntoGql;
use crate::graphql::context::{app, scope};
use crate::graphql::customers::types::Customer;
use crate::graphql::scalars::Money;
use crate::graphql::types::{Tier, customer_id};

/// A customer's balance right after a points change.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PointsPayload {
    /// "Added 100 points" or "Redeemed 500 points".
    pub message: String,
    /// The member.
    pub customer_id: ID,
    /// The ledger entry it wrote.
    pub transaction_id: ID,
    /// Signed change.
    pub points: i64,
    /// Balance after the change.
    pub current_points: i64,
    /// Lifetime points after the change.
    pub lifetime_points: i64,
    /// Points redeemed in all, after the change.
    pub redeemed_points: i64,
    /// Tier after the change.
    pub tier: Tier,
    /// What redeemed points are worth (100 points = $1); 0 when adding.
    pub discount: Money,
    /// True when this is the saved result of an earlier request with the same idempotency key.
    pub replayed: bool,
}

#[ComplexObject]
impl PointsPayload {
    /// The customer as it is now.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = customer_id(&self.customer_id).gql()?;
        Customer::load(ctx, id).await
    }
}

impl From<Outcome<ledger::PointsOutcome>> for PointsPayload {
    fn from(out: Outcome<ledger::PointsOutcome>) -> Self {
        let v = out.value;
        let message = if v.delta >= 0 { format!("Added {} points", v.delta) } else { format!("Redeemed {} points", -v.delta) };
        Self {
            message,
            customer_id: ID(v.customer_id.to_string()),
            transaction_id: ID(v.transaction_id.to_string()),
            points: v.delta,
            current_points: v.current,
            lifetime_points: v.lifetime,
            redeemed_points: v.redeemed,
            tier: v.tier.into(),
            discount: Money(v.discount_cents),
            replayed: out.replayed,
        }
    }
}

/// Points mutations.
#[derive(Default)]
pub struct PointsMutation;

#[Object]
impl PointsMutation {
    /// Adds points (1 to 1,000,000); the tier upgrades automatically. With an idempotency
    /// key, a retry returns the first result and adds nothing.
    #[graphql(guard = "STAFF")]
    async fn add_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "Points to add (positive).")] points: i64,
        #[graphql(desc = "Why, as shown in the points history.")] reason: Option<String>,
        #[graphql(
            desc = "A key of your choosing for this change: a retry with the same key and the same arguments returns the first answer instead of applying it twice."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<PointsPayload> {
        let id = super::types::customer_id(&customer_id).gql()?;
        let out = ledger::add_points(&app(ctx).db, scope(ctx), id, points, reason.as_deref(), idempotency_key.as_deref()).await.gql()?;
        Ok(out.into())
    }

    /// Corrects a balance by `points` (signed, not zero) with a required reason: one `ADJUST`
    /// ledger row. Never takes the balance below zero (`INSUFFICIENT_POINTS`).
    #[graphql(guard = "STAFF")]
    async fn adjust_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "Points to add (positive) or take away (negative); the balance never goes below 0.")] points: i64,
        #[graphql(desc = "Why the balance is corrected (required; kept in the history and the audit log).")] reason: String,
        #[graphql(
            desc = "A key of your choosing for this change: a retry with the same key and the same arguments returns the first answer instead of applying it twice."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<PointsPayload> {
        let id = super::types::customer_id(&customer_id).gql()?;
        let out = ledger::adjust_points(&app(ctx).db, scope(ctx), id, points, &reason, idempotency_key.as_deref()).await.gql()?;
        let mut payload = PointsPayload::from(out);
        payload.message = format!("Adjusted by {} points", payload.points);
        payload.discount = Money(0);
        Ok(payload)
    }

    /// Redeems points for a discount (100 points = $1). Fails with INSUFFICIENT_POINTS rather
    /// than going below zero; never lowers the tier.
    #[graphql(guard = "STAFF")]
    async fn redeem_points(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "Points to spend (positive); refused when the balance is lower.")] points: i64,
        #[graphql(desc = "What they were spent on, as shown in the points history.")] reason: Option<String>,
        #[graphql(
            desc = "A key of your choosing for this change: a retry with the same key and the same arguments returns the first answer instead of applying it twice."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<PointsPayload> {
        let id = super::types::customer_id(&customer_id).gql()?;
        let out = ledger::redeem_points(&app(ctx).db, scope(ctx), id, points, reason.as_deref(), idempotency_key.as_deref()).await.gql()?;
        Ok(out.into())
    }
}
