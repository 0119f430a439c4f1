//! Analytics (spec endpoint 7 and "Analytics & Insights"): all figures are SQL aggregates.

use async_graphql::{Context, Enum, Object, SimpleObject};
use std::future::Future;

use entity::ops::stats;
use entity::{DomainResult, Scope};
use sea_orm::DatabaseConnection;

use super::context::{app, scope};
use super::customers::types::Customer;
use super::scalars::{Date, Money};
use super::types::{CustomerStatus, Tier};
use crate::auth::VIEWER;
use crate::cache::TtlCache;
use crate::error::IntoGql;

/// Customers of one tier.
#[derive(SimpleObject)]
pub struct TierStats {
    /// The tier.
    pub tier: Tier,
    /// Members in it.
    pub count: i64,
    /// Their average lifetime points.
    pub avg_lifetime_points: f64,
    /// What they spent in all.
    pub total_spent: Money,
}

/// Customers in one status.
#[derive(SimpleObject)]
pub struct StatusStats {
    /// The status.
    pub status: CustomerStatus,
    /// Members with it.
    pub count: i64,
}

/// Programme totals.
#[derive(SimpleObject)]
pub struct StatsSummary {
    /// Members.
    pub total_customers: i64,
    /// Points ever earned.
    pub total_points_issued: i64,
    /// Points ever redeemed.
    pub total_points_redeemed: i64,
    /// What all visits came to.
    pub total_revenue: Money,
    /// Visits recorded.
    pub total_visits: i64,
    /// Spend per visit.
    pub avg_order_value: Money,
    /// Average revenue per customer.
    pub customer_lifetime_value: Money,
}

/// What the top-customer list ranks by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum TopCustomersBy {
    #[default]
    /// Most lifetime points first.
    LifetimePoints,
    /// Most spent first.
    TotalSpent,
}

/// Bucket size of a series.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum StatsInterval {
    #[default]
    /// One bucket a day.
    Day,
    /// Weeks start on Monday.
    Week,
    /// One bucket a month.
    Month,
}

/// Visits and revenue of one bucket (local dates of the restaurant).
#[derive(SimpleObject)]
pub struct SeriesPoint {
    /// First day of the bucket.
    pub period: Date,
    /// Visits in the bucket.
    pub visits: i64,
    /// What they came to.
    pub revenue: Money,
    /// Distinct customers who visited.
    pub customers: i64,
}

/// Figures of a period.
#[derive(SimpleObject)]
pub struct PeriodInsights {
    /// First day (inclusive).
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
    /// Visits in the period.
    pub visits: i64,
    /// What they came to.
    pub revenue: Money,
    /// Spend per visit.
    pub avg_order_value: Money,
    /// Customers whose first visit falls in the period.
    pub new_customers: i64,
    /// Customers who visited in the period and had come before.
    pub returning_customers: i64,
    /// Visits per visiting customer per 30 days in the period.
    pub visit_frequency: f64,
    /// One point per day or month.
    pub series: Vec<SeriesPoint>,
}

/// The caller's restaurant's value in `pick(cache)`, loaded with `load` when missing (the
/// loader owns its connection and scope: a stale value is refreshed in the background).
async fn cached<V, F, Fut>(ctx: &Context<'_>, pick: impl FnOnce(&crate::cache::StatsCache) -> &TtlCache<String, V>, load: F) -> async_graphql::Result<V>
where
    V: Clone + Send + Sync + 'static,
    F: FnOnce(DatabaseConnection, Scope) -> Fut,
    Fut: Future<Output = DomainResult<V>> + Send + 'static,
{
    let (state, scope) = (app(ctx), scope(ctx).clone());
    let (db, key) = (state.db.clone(), scope.restaurant_id.clone());
    pick(&state.stats).get_or_try_load(key, move || load(db, scope)).await.gql()
}

/// The loyalty programme's figures (spec endpoint 7).
pub struct LoyaltyStats;

/// The loyalty programme's figures for the caller's restaurant.
#[Object]
impl LoyaltyStats {
    /// Customers, average lifetime points and spend per tier, lowest tier first.
    async fn tier_distribution(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TierStats>> {
        let rows = cached(ctx, |c| &c.tiers, |db, scope| async move { stats::tiers(&db, &scope).await }).await?;
        Ok(rows
            .into_iter()
            .map(|r| TierStats {
                tier: r.tier.into(),
                count: r.count,
                avg_lifetime_points: entity::rules::series::round2(r.avg_lifetime_points),
                total_spent: Money(r.total_spent_cents),
            })
            .collect())
    }

    /// How many members have each status.
    async fn status_distribution(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StatusStats>> {
        let rows = cached(ctx, |c| &c.statuses, |db, scope| async move { stats::statuses(&db, &scope).await }).await?;
        Ok(rows.into_iter().map(|r| StatusStats { status: r.status.into(), count: r.count }).collect())
    }

    /// The best customers (1 to 100).
    async fn top_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "What to rank by: lifetime points or total spent.")] by: TopCustomersBy,
        #[graphql(default = 10, desc = "How many to return at most (the field's maximum applies).")] limit: i64,
    ) -> async_graphql::Result<Vec<Customer>> {
        let (limit, _) = entity::rules::paging::check(limit, 0, 100).gql()?;
        let by = match by {
            TopCustomersBy::LifetimePoints => stats::TopBy::LifetimePoints,
            TopCustomersBy::TotalSpent => stats::TopBy::TotalSpent,
        };
        let rows = stats::top(&app(ctx).db, scope(ctx), by, limit).await.gql()?;
        Ok(rows.into_iter().map(Customer::from).collect())
    }

    /// Totals: members, points issued and redeemed, revenue, visits, average order and value per member.
    async fn summary(&self, ctx: &Context<'_>) -> async_graphql::Result<StatsSummary> {
        let t = cached(ctx, |c| &c.totals, |db, scope| async move { stats::totals(&db, &scope).await }).await?;
        Ok(StatsSummary {
            total_customers: t.total_customers,
            total_points_issued: t.points_issued,
            total_points_redeemed: t.points_redeemed,
            total_revenue: Money(t.revenue_cents),
            total_visits: t.visits,
            avg_order_value: Money(t.average_order_cents()),
            customer_lifetime_value: Money(t.lifetime_value_cents()),
        })
    }

    /// Visits, revenue, new vs returning customers and a series for `from`–`to` (inclusive
    /// local dates of your restaurant, at most three years; buckets start at local midnight).
    async fn insights(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the series, in the restaurant's zone (inclusive).")] from: Date,
        #[graphql(desc = "Last day of the series, in the restaurant's zone (inclusive).")] to: Date,
        #[graphql(default, desc = "Length of each bucket of the series.")] interval: StatsInterval,
    ) -> async_graphql::Result<PeriodInsights> {
        let interval = match interval {
            StatsInterval::Day => stats::Interval::Day,
            StatsInterval::Week => stats::Interval::Week,
            StatsInterval::Month => stats::Interval::Month,
        };
        let i = stats::insights(&app(ctx).db, scope(ctx), from.0, to.0, interval).await.gql()?;
        Ok(PeriodInsights {
            from,
            to,
            visits: i.visits,
            revenue: Money(i.revenue_cents),
            avg_order_value: Money(i.average_order_cents),
            new_customers: i.new_customers,
            returning_customers: i.returning_customers,
            visit_frequency: i.visit_frequency,
            series: i
                .series
                .into_iter()
                .map(|p| SeriesPoint { period: Date(p.period), visits: p.visits, revenue: Money(p.revenue_cents), customers: p.customers })
                .collect(),
        })
    }
}

/// Statistics queries.
#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// The programme's figures; each field is computed only when asked for. The distributions
    /// and the summary may be up to twice `LOYALTY_STATS_CACHE_SECS` (30 by default) old.
    #[graphql(guard = "VIEWER")]
    async fn loyalty_stats(&self) -> LoyaltyStats {
        LoyaltyStats
    }
}
