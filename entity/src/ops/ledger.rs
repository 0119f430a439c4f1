//! The points ledger: every change of a balance is one appended row, written in the same
//! transaction as the customer's counters, so current/lifetime/redeemed always equal the
//! ledger's sums: current = Σ delta; redeemed = −Σ delta of `redeem` rows and of negative
//! `import` rows (redeemed before an import); lifetime = Σ positive deltas of the other kinds +
//! Σ delta of `refund` rows (a refund takes back what its order earned).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::state::{self, Delta};
use super::{idempotency, now};
use crate::entities::{LedgerKind, Tier, customer, point_transaction};
use crate::rules::inputs::{check_key, check_points, check_reason};
use crate::rules::programme::Programme;
use crate::{DomainError, DomainResult, Scope};

/// A customer's balance right after a points change: what the point mutations return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsOutcome {
    pub customer_id: i64,
    pub transaction_id: i64,
    pub delta: i64,
    pub current: i64,
    pub lifetime: i64,
    pub redeemed: i64,
    pub tier: Tier,
    /// For redemptions: the discount the points are worth, in cents.
    pub discount_cents: i64,
}

impl PointsOutcome {
    pub(crate) fn new(row: &customer::Model, entry: &point_transaction::Model, p: &Programme) -> Self {
        Self {
            customer_id: row.id,
            transaction_id: entry.id,
            delta: entry.delta,
            current: row.points_current,
            lifetime: row.points_lifetime,
            redeemed: row.points_redeemed,
            tier: row.tier,
            discount_cents: if entry.kind == LedgerKind::Redeem { p.redemption_value_cents(-entry.delta) } else { 0 },
        }
    }
}

/// Adds `points` to a customer (spec endpoint 4): tier upgrade and auto-tags follow.
pub async fn add_points<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    points: i64,
    reason: Option<&str>,
    idempotency_key: Option<&str>,
) -> DomainResult<idempotency::Outcome<PointsOutcome>> {
    let points = check_points("points", points)?;
    let reason = check_reason(reason)?;
    let key = idempotency_key.map(check_key).transpose()?;
    let request = (customer_id, points, reason.clone());
    let p = super::restaurants::programme(db, scope).await?;
    idempotency::run(db, scope, key.as_deref(), "addPoints", &request, async |txn| {
        let at = now();
        let delta = Delta { earned: points, ..Delta::default() };
        let (row, entry) = earn_in(txn, scope, &p, customer_id, delta, LedgerKind::Earn, reason, key.clone(), at).await?;
        let entry = entry.ok_or_else(|| DomainError::validation("points", "must be positive"))?;
        Ok(PointsOutcome::new(&row, &entry, &p))
    })
    .await
}

/// Redeems `points` (spec endpoint 5). Fails with `InsufficientPoints` rather than going below
/// zero; never lowers the tier.
pub async fn redeem_points<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    points: i64,
    reason: Option<&str>,
    idempotency_key: Option<&str>,
) -> DomainResult<idempotency::Outcome<PointsOutcome>> {
    let points = check_points("points", points)?;
    let reason = check_reason(reason)?;
    let key = idempotency_key.map(check_key).transpose()?;
    let request = (customer_id, points, reason.clone());
    let p = super::restaurants::programme(db, scope).await?;
    idempotency::run(db, scope, key.as_deref(), "redeemPoints", &request, async |txn| {
        let at = now();
        let row = state::apply(txn, scope, customer_id, Delta { redeemed: points, ..Delta::default() }, at).await?;
        let entry = append(txn, scope, &row, LedgerKind::Redeem, -points, reason, key.clone(), at).await?;
        Ok(PointsOutcome::new(&row, &entry, &p))
    })
    .await
}

/// Earns points inside a running transaction (orders, referral bonuses) and returns the
/// updated row and its ledger entry.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn earn_in(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    customer_id: i64,
    delta: Delta,
    kind: LedgerKind,
    reason: Option<String>,
    key: Option<String>,
    at: DateTime<Utc>,
) -> DomainResult<(customer::Model, Option<point_transaction::Model>)> {
    let row = state::apply(txn, scope, customer_id, delta, at).await?;
    let row = state::refresh(txn, p, row, at, delta.visit_cents.is_some()).await?;
    let entry = if delta.earned > 0 { Some(append(txn, scope, &row, kind, delta.earned, reason, key, at).await?) } else { None };
    Ok((row, entry))
}

/// Appends one ledger row for a change already applied to `row`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn append(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    row: &customer::Model,
    kind: LedgerKind,
    delta: i64,
    reason: Option<String>,
    key: Option<String>,
    at: DateTime<Utc>,
) -> DomainResult<point_transaction::Model> {
    let mut entry = entry(scope, row, kind, delta, reason, at);
    entry.idempotency_key = Set(key);
    let entry = entry.insert(txn).await?;
    if let Some(event) = crate::rules::webhooks::event_of(kind) {
        super::webhooks::events::record(txn, scope, event, points_event(row, &entry), at).await?;
    }
    Ok(entry)
}

/// What a points event tells a webhook receiver: the entry and the balances after it.
fn points_event(row: &customer::Model, entry: &point_transaction::Model) -> serde_json::Value {
    serde_json::json!({
        "customerId": row.id.to_string(),
        "externalId": row.external_id,
        "entryId": entry.id.to_string(),
        "kind": sea_orm::ActiveEnum::to_value(&entry.kind),
        "points": entry.delta,
        "balance": row.points_current,
        "lifetimePoints": row.points_lifetime,
        "tier": sea_orm::ActiveEnum::to_value(&row.tier),
        "reason": entry.reason,
    })
}

/// One ledger row for a change already applied to `row` (its balance after), not yet written.
pub(crate) fn entry(
    scope: &Scope,
    row: &customer::Model,
    kind: LedgerKind,
    delta: i64,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> point_transaction::ActiveModel {
    point_transaction::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        customer_id: Set(row.id),
        kind: Set(kind),
        delta: Set(delta),
        balance_after: Set(row.points_current),
        reason: Set(reason),
        idempotency_key: Set(None),
        actor: Set(scope.actor.clone()),
        created_at: Set(at),
        ..Default::default()
    }
}

/// A page of the ledgers of each of several customers (for a DataLoader), newest first.
pub async fn history_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<std::collections::HashMap<i64, super::Paged<point_transaction::Model>>> {
    Ok(super::newest_pages::<point_transaction::Entity>(db, scope, ids, (&super::BY_ID, &[]), page, |t| t.customer_id).await?)
}

/// A staff correction (`points` signed, not zero; a reason is required), as one `ADJUST` ledger
/// row. It never takes the balance below zero (`INSUFFICIENT_POINTS`); an upward correction
/// counts as earned (lifetime, tier), a downward one leaves lifetime as it is.
pub async fn adjust_points<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    points: i64,
    reason: &str,
    idempotency_key: Option<&str>,
) -> DomainResult<idempotency::Outcome<PointsOutcome>> {
    check_points("points", points.abs())?;
    let reason = check_reason(Some(reason))?.ok_or_else(|| DomainError::validation("reason", "an adjustment needs a reason"))?;
    let key = idempotency_key.map(check_key).transpose()?;
    let request = (customer_id, points, reason.clone());
    let p = super::restaurants::programme(db, scope).await?;
    idempotency::run(db, scope, key.as_deref(), "adjustPoints", &request, async |txn| {
        let at = now();
        let row = state::apply(txn, scope, customer_id, Delta { adjusted: points, ..Delta::default() }, at).await?;
        let row = state::refresh(txn, &p, row, at, false).await?;
        let entry = append(txn, scope, &row, LedgerKind::Adjust, points, Some(reason.clone()), key.clone(), at).await?;
        Ok(PointsOutcome::new(&row, &entry, &p))
    })
    .await
}

/// The customers (of every restaurant) whose balances differ from their ledger's sums: current
/// = all deltas, lifetime = positive deltas of every kind but redemptions and undone expiries
/// plus the refunds' (negative) deltas, redeemed = the redemptions. Empty when every balance holds; an
/// operator's check (after a data move, a restore).
pub async fn unbalanced(db: &impl ConnectionTrait) -> DomainResult<Vec<i64>> {
    use sea_orm::Statement;
    let sql = "SELECT c.id FROM customers c LEFT JOIN point_transactions t ON t.customer_id = c.id
               GROUP BY c.id, c.points_current, c.points_lifetime, c.points_redeemed
               HAVING c.points_current <> CAST(COALESCE(SUM(t.delta), 0) AS BIGINT)
                   OR c.points_lifetime <> CAST(COALESCE(SUM(CASE WHEN t.kind = 'refund' THEN t.delta WHEN t.delta > 0 AND t.kind NOT IN ('redeem', 'expire') THEN t.delta ELSE 0 END), 0) AS BIGINT)
                   OR c.points_redeemed <> CAST(COALESCE(SUM(CASE WHEN t.kind = 'redeem' THEN -t.delta ELSE 0 END), 0) AS BIGINT)
               ORDER BY c.id";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(rows.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect())
}
