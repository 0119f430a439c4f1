//! Analytics (spec endpoint 7 and "Analytics & Insights"), computed by SQL aggregates in the
//! database and never by loading customers into memory.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Statement};

use super::dialect::placeholder;
use crate::entities::{CustomerStatus, Tier, customer, visit};
use crate::rules::inputs::check_period;
use crate::rules::programme::Programme;
use crate::rules::series::{bucket_bounds, visit_frequency};
use crate::rules::visits::average_order_cents;
use crate::{DomainError, DomainResult, Scope};

/// Customers, lifetime points and spend of one tier.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct TierRow {
    pub tier: Tier,
    pub count: i64,
    pub avg_lifetime_points: f64,
    pub total_spent_cents: i64,
}

/// Customers in one status.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct StatusRow {
    pub status: CustomerStatus,
    pub count: i64,
}

/// Programme totals.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Totals {
    pub total_customers: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub revenue_cents: i64,
    pub visits: i64,
}

impl Totals {
    /// Average order value over all visits.
    pub fn average_order_cents(&self) -> i64 {
        average_order_cents(self.revenue_cents, self.visits)
    }

    /// Customer lifetime value: average revenue per customer, rounded half up.
    pub fn lifetime_value_cents(&self) -> i64 {
        average_order_cents(self.revenue_cents, self.total_customers)
    }
}

fn int_sum(col: customer::Column) -> Expr {
    Expr::expr(Func::coalesce([Func::sum(Expr::col(col)).into(), Expr::value(0)])).cast_as(Alias::new("BIGINT"))
}

/// Tier distribution, lowest tier first; tiers without customers are left out.
pub async fn tiers(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<Vec<TierRow>> {
    use customer::Column as C;
    let mut rows: Vec<TierRow> = customer::Entity::find()
        .select_only()
        .column(C::Tier)
        .column_as(C::Id.count(), "count")
        .column_as(Expr::expr(Func::avg(Expr::col(C::PointsLifetime))).cast_as(Alias::new("DOUBLE PRECISION")), "avg_lifetime_points")
        .column_as(int_sum(C::TotalSpentCents), "total_spent_cents")
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .group_by(C::Tier)
        .into_model::<TierRow>()
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.tier);
    Ok(rows)
}

/// Status distribution.
pub async fn statuses(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<Vec<StatusRow>> {
    use customer::Column as C;
    Ok(customer::Entity::find()
        .select_only()
        .column(C::Status)
        .column_as(C::Id.count(), "count")
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .group_by(C::Status)
        .order_by_asc(C::Status)
        .into_model::<StatusRow>()
        .all(db)
        .await?)
}

/// Totals over all of the scope's customers.
pub async fn totals(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<Totals> {
    use customer::Column as C;
    customer::Entity::find()
        .select_only()
        .column_as(C::Id.count(), "total_customers")
        .column_as(int_sum(C::PointsLifetime), "points_issued")
        .column_as(int_sum(C::PointsRedeemed), "points_redeemed")
        .column_as(int_sum(C::TotalSpentCents), "revenue_cents")
        .column_as(int_sum(C::TotalVisits), "visits")
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .into_model::<Totals>()
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("totals"))
}

/// What the top-customer list ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopBy {
    LifetimePoints,
    TotalSpent,
}

/// The best customers by `by`.
pub async fn top(db: &impl ConnectionTrait, scope: &Scope, by: TopBy, limit: u64) -> DomainResult<Vec<customer::Model>> {
    use customer::Column as C;
    let col = match by {
        TopBy::LifetimePoints => C::PointsLifetime,
        TopBy::TotalSpent => C::TotalSpentCents,
    };
    Ok(customer::Entity::find().filter(C::RestaurantId.eq(&scope.restaurant_id)).order_by_desc(col).order_by_asc(C::Id).limit(limit).all(db).await?)
}

/// Bucket size of a time series.
pub use crate::rules::series::Interval;

/// Visits and revenue of one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPoint {
    /// First day of the bucket, a local date of the restaurant.
    pub period: NaiveDate,
    pub visits: i64,
    pub revenue_cents: i64,
    /// Distinct customers who visited.
    pub customers: i64,
}

/// Visits, revenue and visiting customers per bucket of `interval` over the local dates
/// `from`–`to`, the buckets' bounds being local midnights of the restaurant's zone. The bounds
/// are computed here and joined as a `VALUES` list, so the same SQL runs on SQLite (which has
/// no time zones) and PostgreSQL. Buckets without visits are left out.
pub async fn series(
    db: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    from: NaiveDate,
    to: NaiveDate,
    interval: Interval,
) -> DomainResult<Vec<SeriesPoint>> {
    #[derive(FromQueryResult)]
    struct Row {
        bucket: i64,
        visits: i64,
        revenue_cents: i64,
        customers: i64,
    }
    let days = bucket_bounds(from, to, interval);
    let (start, end) = (p.start_of(from), p.start_of(to + chrono::Duration::days(1)));
    let instants: Vec<DateTime<Utc>> = days.iter().map(|d| p.start_of(*d).clamp(start, end)).collect();
    let backend = db.get_database_backend();
    // Values in the order their placeholders appear (SQLite numbers `?` by position).
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut rows = Vec::new();
    for (n, pair) in instants.windows(2).enumerate() {
        let i = values.len();
        rows.push(format!("({n}, {}, {})", placeholder(backend, i + 1), placeholder(backend, i + 2)));
        values.push(pair[0].into());
        values.push(pair[1].into());
    }
    values.push(scope.restaurant_id.clone().into());
    let sql = format!(
        "WITH b(n, lo, hi) AS (VALUES {}) \
         SELECT CAST(b.n AS BIGINT) AS bucket, COUNT(v.id) AS visits, CAST(COALESCE(SUM(v.amount_cents), 0) AS BIGINT) AS revenue_cents, \
         COUNT(DISTINCT v.customer_id) AS customers \
         FROM b JOIN visits v ON v.visited_at >= b.lo AND v.visited_at < b.hi AND v.restaurant_id = {} \
         GROUP BY b.n ORDER BY b.n",
        rows.join(", "),
        placeholder(backend, values.len())
    );
    let found = Row::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).all(db).await?;
    found
        .into_iter()
        .map(|r| {
            let period = usize::try_from(r.bucket).ok().and_then(|i| days.get(i)).copied();
            let period = period.ok_or_else(|| DomainError::internal(format!("series bucket {} out of range", r.bucket)))?;
            Ok(SeriesPoint { period, visits: r.visits, revenue_cents: r.revenue_cents, customers: r.customers })
        })
        .collect()
}

/// The figures of a reporting period.
#[derive(Debug, Clone, PartialEq)]
pub struct Insights {
    pub visits: i64,
    pub revenue_cents: i64,
    pub average_order_cents: i64,
    pub new_customers: i64,
    pub returning_customers: i64,
    /// Visits per visiting customer per 30 days.
    pub visit_frequency: f64,
    pub series: Vec<SeriesPoint>,
}

/// Visits, revenue, new vs returning customers, visit frequency and a series for the local
/// dates `from`–`to` of the scope's restaurant.
pub async fn insights(db: &impl ConnectionTrait, scope: &Scope, from: NaiveDate, to: NaiveDate, interval: Interval) -> DomainResult<Insights> {
    check_period(from, to)?;
    let p = super::restaurants::programme(db, scope).await?;
    let (start, end) = (p.start_of(from), p.start_of(to + chrono::Duration::days(1)));
    let mix = mix(db, scope, start, end).await?;
    let series = series(db, scope, &p, from, to, interval).await?;
    let visitors = mix.new_customers + mix.returning_customers;
    Ok(Insights {
        visits: mix.visits,
        revenue_cents: mix.revenue_cents,
        average_order_cents: crate::rules::visits::average_order_cents(mix.revenue_cents, mix.visits),
        new_customers: mix.new_customers,
        returning_customers: mix.returning_customers,
        visit_frequency: visit_frequency(mix.visits, visitors, (to - from).num_days() + 1),
        series,
    })
}

/// New and returning customers in `[start, end)`: those whose first visit falls in the period,
/// and those who visited in it but had come before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMix {
    pub new_customers: i64,
    pub returning_customers: i64,
    pub visits: i64,
    pub revenue_cents: i64,
}

/// The customer mix of a period.
pub async fn mix(db: &impl ConnectionTrait, scope: &Scope, start: DateTime<Utc>, end: DateTime<Utc>) -> DomainResult<CustomerMix> {
    use customer::Column as C;
    use visit::Column as V;
    let visitors = Query::select()
        .column(V::CustomerId)
        .from(visit::Entity)
        .and_where(V::RestaurantId.eq(&scope.restaurant_id))
        .and_where(V::VisitedAt.gte(start))
        .and_where(V::VisitedAt.lt(end))
        .to_owned();
    let count = |cond: sea_orm::Condition| async {
        customer::Entity::find().filter(C::RestaurantId.eq(&scope.restaurant_id)).filter(C::Id.in_subquery(visitors.clone())).filter(cond).count(db).await
    };
    use sea_orm::PaginatorTrait;
    let new_customers = count(sea_orm::Condition::all().add(C::FirstVisitAt.gte(start))).await? as i64;
    let returning_customers = count(sea_orm::Condition::all().add(C::FirstVisitAt.lt(start))).await? as i64;
    #[derive(FromQueryResult)]
    struct Sums {
        visits: i64,
        revenue_cents: i64,
    }
    let sums = visit::Entity::find()
        .select_only()
        .column_as(V::Id.count(), "visits")
        .column_as(Expr::expr(Func::coalesce([Func::sum(Expr::col(V::AmountCents)).into(), Expr::value(0)])).cast_as(Alias::new("BIGINT")), "revenue_cents")
        .filter(V::RestaurantId.eq(&scope.restaurant_id))
        .filter(V::VisitedAt.gte(start))
        .filter(V::VisitedAt.lt(end))
        .into_model::<Sums>()
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("visit totals"))?;
    Ok(CustomerMix { new_customers, returning_customers, visits: sums.visits, revenue_cents: sums.revenue_cents })
}
