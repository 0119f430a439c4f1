//! The loyalty programme's rules, for frontends to show.

use async_graphql::{Object, SimpleObject};
use entity::rules::{money, tier};

use super::types::Tier;
use crate::auth::VIEWER;

/// A tier, where it starts, and what it earns.
#[derive(SimpleObject)]
pub struct TierInfo {
    pub tier: Tier,
    pub min_lifetime_points: i64,
    /// Discount on occasion offers, in percent.
    pub discount_percent: i32,
}

/// Programme queries.
#[derive(Default)]
pub struct ProgramQuery;

#[Object]
impl ProgramQuery {
    /// The tiers, lowest first.
    #[graphql(guard = "VIEWER")]
    async fn loyalty_tiers(&self) -> Vec<TierInfo> {
        tier::THRESHOLDS
            .iter()
            .map(|(t, min)| TierInfo { tier: (*t).into(), min_lifetime_points: *min, discount_percent: tier::discount_percent(*t).into() })
            .collect()
    }

    /// Points that make one dollar of discount.
    #[graphql(guard = "VIEWER")]
    async fn points_per_redeemed_dollar(&self) -> i64 {
        money::POINTS_PER_REDEEMED_DOLLAR
    }
}
