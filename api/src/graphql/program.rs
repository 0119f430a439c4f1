//! The loyalty programme's rules as they stand for your restaurant, for frontends to show.

use async_graphql::{Context, Object, SimpleObject};
use entity::ops::restaurants;
use entity::rules::tier;

use super::context::{app, scope};
use super::types::Tier;
use crate::auth::VIEWER;
use crate::error::IntoGql;

/// A tier, where it starts, and what it earns.
#[derive(SimpleObject)]
pub struct TierInfo {
    /// The tier.
    pub tier: Tier,
    /// Lifetime points it starts at.
    pub min_lifetime_points: i64,
    /// Discount on occasion offers, in percent (your restaurant's setting).
    pub discount_percent: i32,
}

/// Programme queries.
#[derive(Default)]
pub struct ProgramQuery;

#[Object]
impl ProgramQuery {
    /// The tiers, lowest first.
    #[graphql(guard = "VIEWER")]
    async fn loyalty_tiers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TierInfo>> {
        let p = restaurants::programme(&app(ctx).db, scope(ctx)).await.gql()?;
        Ok(tier::THRESHOLDS
            .iter()
            .map(|(t, min)| TierInfo { tier: (*t).into(), min_lifetime_points: *min, discount_percent: p.discount_percent(*t).into() })
            .collect())
    }

    /// Points that make one dollar of discount in your restaurant.
    #[graphql(guard = "VIEWER")]
    async fn points_per_redeemed_dollar(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(restaurants::programme(&app(ctx).db, scope(ctx)).await.gql()?.points_per_redeemed_dollar)
    }
}
