//! Points expiry, run daily per restaurant by the `points-expiry` job: a warning email (with
//! consent) `expiryWarningDays` before a balance expires, one per expiry date; then one
//! `EXPIRE` ledger row per member whose balance has expired, taking it to zero (a rerun finds
//! nothing left to take). Who has expired is decided in SQL from bounds the policy computes
//! ([`crate::rules::expiry::ExpiryPolicy::expired_by`]), never by loading every member.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, TransactionSession, TransactionTrait};

use super::{begin_write, ledger, state};
use crate::entities::{LedgerKind, customer, point_transaction};
use crate::marketing::automations::Recipient;
use crate::marketing::kinds::{Campaign, consented};
use crate::marketing::outbox::{self, Letter};
use crate::rules::expiry::ExpiredBy;
use crate::rules::programme::Programme;
use crate::{DomainResult, Scope};

/// Members whose balance has expired by the bounds.
fn expired(scope: &Scope, b: &ExpiredBy) -> Condition {
    use customer::Column as C;
    let mut all = Condition::all().add(C::RestaurantId.eq(&scope.restaurant_id)).add(C::PointsCurrent.gt(0)).add(C::LastActivityAt.lte(b.latest));
    if let Some((t, before)) = b.shortened {
        all = all.add(Condition::any().add(C::LastActivityAt.gte(t)).add(C::LastActivityAt.lte(before)));
    }
    all
}

/// What an expiry run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryRun {
    /// Members whose balance expired.
    pub expired: u64,
    /// Points that expired.
    pub points: i64,
    /// Warning emails written.
    pub warned: u64,
    /// Members with points expiring soon who were not warned for lack of consent or email.
    pub skipped_consent: u64,
    /// Dry runs: whose balance would expire.
    pub recipients: Vec<Recipient>,
}

/// Writes the warning emails of members whose points expire within the warning window (one per
/// member and expiry date), then expires the balances due at `now`.
pub async fn run<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, p: &Programme, now: DateTime<Utc>, dry_run: bool) -> DomainResult<ExpiryRun> {
    let mut report = ExpiryRun::default();
    if !dry_run {
        warn(db, scope, p, now, &mut report).await?;
    }
    let Some(due) = p.expiry.expired_by(now) else { return Ok(report) };
    if dry_run {
        let rows = customer::Entity::find().filter(expired(scope, &due)).all(db).await?;
        report.expired = rows.len() as u64;
        report.recipients = Recipient::of_all(db, scope, rows, None).await?;
        return Ok(report);
    }
    let ids: Vec<i64> = customer::Entity::find().select_only().column(customer::Column::Id).filter(expired(scope, &due)).into_tuple().all(db).await?;
    for id in ids {
        let txn = begin_write(db).await?;
        let c = state::lock(&txn, scope, id).await?;
        if c.points_current <= 0 || !due.holds(c.last_activity_at) {
            continue;
        }
        let row = customer::Entity::update_many()
            .col_expr(customer::Column::PointsCurrent, Expr::value(0))
            .filter(customer::Column::Id.eq(id))
            .exec_with_returning(&txn)
            .await?;
        let Some(row) = row.into_iter().next() else { continue };
        let months = p.expiry.months;
        let reason = format!("Expired after {months} months without activity");
        ledger::append(&txn, scope, &row, LedgerKind::Expire, -c.points_current, Some(reason), None, now).await?;
        txn.commit().await?;
        report.expired += 1;
        report.points += c.points_current;
    }
    Ok(report)
}

/// Writes the warning deliveries (campaign `points-expiry`, period and occasion date = the
/// expiry date) of members whose points expire within the warning window.
async fn warn(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, now: DateTime<Utc>, report: &mut ExpiryRun) -> DomainResult<()> {
    let window_end = now + Duration::days(i64::from(p.expiry_warning_days));
    let Some(soon) = p.expiry.expired_by(window_end) else { return Ok(()) };
    let mut due_soon = expired(scope, &soon);
    if let Some(now_due) = p.expiry.expired_by(now) {
        due_soon = due_soon.add(expired(scope, &now_due).not());
    }
    let campaign = Campaign::PointsExpiry;
    report.skipped_consent += customer::Entity::find().filter(due_soon.clone()).filter(consented(campaign).not()).count(db).await?;
    let rows: Vec<(i64, DateTime<Utc>)> = customer::Entity::find()
        .select_only()
        .columns([customer::Column::Id, customer::Column::LastActivityAt])
        .filter(due_soon)
        .filter(consented(campaign))
        .into_tuple()
        .all(db)
        .await?;
    for (id, last_activity) in rows {
        let Some(on) = p.expiry.expires_at(last_activity) else { continue };
        let day = on.with_timezone(&p.timezone).date_naive();
        let letter = Letter::builtin(campaign, Expr::value(day.to_string()), Some(day));
        report.warned += outbox::enqueue(db, &scope.restaurant_id, &letter, &[id], now).await?;
    }
    Ok(())
}

/// Undoes the expiries of the locked member `row` that an order at `order_at`, recorded late,
/// would have prevented ([`crate::rules::orders::undoes_expiry`]): each gives its points back
/// with a positive `EXPIRE` ledger row keyed `unexpire:ENTRY`, so a second late order does not
/// undo it again. Returns the row as it then is.
pub(crate) async fn undo_covered(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    row: customer::Model,
    order_at: DateTime<Utc>,
    order_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<customer::Model> {
    use point_transaction::Column as T;
    // The member's own entries (its row is the scope's, locked): by the `(customer_id, id)`
    // index, never the restaurant's whole ledger.
    let expiries = point_transaction::Entity::find()
        .filter(T::CustomerId.eq(row.id))
        .filter(T::Kind.eq(LedgerKind::Expire))
        .filter(T::Delta.lt(0))
        .filter(T::CreatedAt.gt(order_at))
        .all(txn)
        .await?;
    let mut row = row;
    for expired in expiries.into_iter().filter(|e| crate::rules::orders::undoes_expiry(&p.expiry, order_at, e.created_at)) {
        let key = format!("unexpire:{}", expired.id);
        let undone = point_transaction::Entity::find().filter(T::CustomerId.eq(row.id)).filter(T::IdempotencyKey.eq(&key)).count(txn).await? > 0;
        if undone {
            continue;
        }
        let back = -expired.delta;
        let updated = customer::Entity::update_many()
            .col_expr(customer::Column::PointsCurrent, Expr::col(customer::Column::PointsCurrent).add(back))
            .filter(customer::Column::Id.eq(row.id))
            .exec_with_returning(txn)
            .await?;
        let Some(updated) = updated.into_iter().next() else { break };
        let day = |at: DateTime<Utc>| at.with_timezone(&p.timezone).date_naive();
        let reason = format!("Expiry of {} undone: order #{order_id} of {} was recorded late", day(expired.created_at), day(order_at));
        ledger::append(txn, scope, &updated, LedgerKind::Expire, back, Some(reason), Some(key), now).await?;
        row = updated;
    }
    Ok(row)
}
