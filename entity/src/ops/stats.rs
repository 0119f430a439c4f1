//! Analytics (spec endpoint 7 and "Analytics & Insights"), computed by SQL aggregates in the
//! database and never by loading customers into memory.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::entities::{CustomerStatus, Tier, customer, visit};
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
    Ok(customer::Entity::find()
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .order_by_desc(col)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Bucket size of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

/// Visits and revenue of one bucket.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct SeriesRow {
    /// First day of the bucket, `YYYY-MM-DD` (UTC).
    pub period: String,
    pub visits: i64,
    pub revenue_cents: i64,
    pub customers: i64,
}

/// The bucket expression, the one place where SQLite and PostgreSQL need different SQL.
fn bucket_sql(backend: DbBackend, interval: Interval) -> &'static str {
    match (backend, interval) {
        (DbBackend::Sqlite, Interval::Day) => "strftime('%Y-%m-%d', visited_at)",
        (DbBackend::Sqlite, Interval::Week) => "date(visited_at, '-' || ((CAST(strftime('%w', visited_at) AS INTEGER) + 6) % 7) || ' days')",
        (DbBackend::Sqlite, Interval::Month) => "strftime('%Y-%m-01', visited_at)",
        (_, Interval::Day) => "to_char(date_trunc('day', visited_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
        (_, Interval::Week) => "to_char(date_trunc('week', visited_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
        (_, Interval::Month) => "to_char(date_trunc('month', visited_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    }
}

/// Checks a reporting period.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> DomainResult<(DateTime<Utc>, DateTime<Utc>)> {
    if to < from {
        return Err(DomainError::validation("to", "must not be before from"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(DomainError::validation("to", "a period spans at most three years"));
    }
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = (to + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Ok((start, end))
}

/// Visits, revenue and visiting customers per bucket in `[start, end)`.
pub async fn series(
    db: &impl ConnectionTrait,
    scope: &Scope,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Interval,
) -> DomainResult<Vec<SeriesRow>> {
    let backend = db.get_database_backend();
    let bucket = bucket_sql(backend, interval);
    let (p1, p2, p3) = match backend {
        DbBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?", "?", "?"),
    };
    let sql = format!(
        "SELECT {bucket} AS period, COUNT(*) AS visits, CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS revenue_cents, \
         COUNT(DISTINCT customer_id) AS customers \
         FROM visits WHERE restaurant_id = {p1} AND visited_at >= {p2} AND visited_at < {p3} \
         GROUP BY {bucket} ORDER BY period"
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [scope.restaurant_id.clone().into(), start.into(), end.into()]);
    Ok(SeriesRow::find_by_statement(stmt).all(db).await?)
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
        customer::Entity::find()
            .filter(C::RestaurantId.eq(&scope.restaurant_id))
            .filter(C::Id.in_subquery(visitors.clone()))
            .filter(cond)
            .count(db)
            .await
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
