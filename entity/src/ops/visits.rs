//! Visits (spec endpoint 6): counters, averages and auto-tags follow each visit.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::state::{self, Delta};
use super::{idempotency, now};
use crate::entities::visit;
use crate::rules::inputs::{check_amount, check_key};
use crate::{DomainError, DomainResult, Scope};

/// What recording a visit returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitOutcome {
    pub customer_id: i64,
    pub visit_id: i64,
    pub amount_cents: i64,
    pub visited_at: DateTime<Utc>,
}

/// Records a visit with an order amount (no points: orders earn them, see
/// [`super::orders::record_order`]).
pub async fn record_visit<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    amount_cents: i64,
    idempotency_key: Option<&str>,
) -> DomainResult<idempotency::Outcome<VisitOutcome>> {
    let amount_cents = check_amount("orderAmount", amount_cents)?;
    let key = idempotency_key.map(check_key).transpose()?;
    let p = super::restaurants::programme(db, scope).await?;
    idempotency::run(db, scope, key.as_deref(), "recordVisit", &(customer_id, amount_cents), async |txn| {
        let at = now();
        let row = state::apply(txn, scope, customer_id, Delta { visit_cents: Some(amount_cents), ..Delta::default() }, at).await?;
        state::refresh(txn, &p, row, at, true).await?;
        let visit = insert(txn, scope, customer_id, amount_cents, None, at).await?;
        Ok(VisitOutcome { customer_id, visit_id: visit.id, amount_cents, visited_at: at })
    })
    .await
}

/// Inserts the visit row for a change already applied to the customer.
pub(crate) async fn insert(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    customer_id: i64,
    amount_cents: i64,
    order_id: Option<String>,
    at: DateTime<Utc>,
) -> DomainResult<visit::Model> {
    Ok(visit::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        customer_id: Set(customer_id),
        amount_cents: Set(amount_cents),
        order_id: Set(order_id),
        visited_at: Set(at),
        updated_at: Set(super::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Visits newest first by when they happened (a visit recorded late sorts by its own time).
const BY_TIME: super::Newest = super::Newest {
    order: "visited_at DESC, id DESC",
    after: "(visited_at, id) < (SELECT p.visited_at, p.id FROM visits p WHERE p.id = ?)",
    parent: "customer_id",
};

/// A page of visits of each of several customers in one query (for a DataLoader), newest first.
pub async fn pages_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<std::collections::HashMap<i64, super::Paged<visit::Model>>> {
    Ok(super::newest_pages::<visit::Entity>(db, scope, ids, (&BY_TIME, &[]), page, |v| v.customer_id).await?)
}

/// Places an already recorded order at `at` (demo data, imports of past orders): its visit and
/// ledger rows move there, and the customer's first and last visit, member-since and last
/// activity follow, in one transaction. Counters and balances do not change.
pub async fn backdate_order<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, order_id: &str, at: DateTime<Utc>) -> DomainResult<()> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::entities::{customer, point_transaction};
    let txn = super::begin_write(db).await?;
    let Some(order) =
        visit::Entity::find().filter(visit::Column::RestaurantId.eq(&scope.restaurant_id)).filter(visit::Column::OrderId.eq(order_id)).one(&txn).await?
    else {
        return Err(DomainError::not_found(format!("order {order_id}")));
    };
    visit::Entity::update_many()
        .col_expr(visit::Column::VisitedAt, Expr::value(at))
        .col_expr(visit::Column::UpdatedAt, Expr::value(super::now()))
        .filter(visit::Column::Id.eq(order.id))
        .exec(&txn)
        .await?;
    point_transaction::Entity::update_many()
        .col_expr(point_transaction::Column::CreatedAt, Expr::value(at))
        .filter(point_transaction::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(point_transaction::Column::IdempotencyKey.eq(format!("order:{order_id}")))
        .exec(&txn)
        .await?;
    let times: Vec<DateTime<Utc>> =
        visit::Entity::find().filter(visit::Column::CustomerId.eq(order.customer_id)).all(&txn).await?.into_iter().map(|v| v.visited_at).collect();
    let (first, last) = (times.iter().min().copied(), times.iter().max().copied());
    let c = super::customers::find_by_id(&txn, scope, order.customer_id).await?;
    let mut active: customer::ActiveModel = c.clone().into();
    active.first_visit_at = Set(first);
    active.last_visit_at = Set(last);
    active.last_activity_at = Set(last.unwrap_or(c.last_activity_at));
    active.member_since = Set(first.map_or(c.member_since, |f| f.min(c.member_since)));
    active.update(&txn).await?;
    sea_orm::TransactionSession::commit(txn).await?;
    Ok(())
}
