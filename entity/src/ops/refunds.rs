//! Refunds and voids of orders (`refundOrder`): what the order earned is reversed in one
//! transaction — its share of points (one `REFUND` ledger row linked to the order; never below a
//! zero balance, and what could not be taken back is recorded on the row and the result), total
//! spent (so the average order value), favourite-item counts, and for a void its visit. The
//! visit row is updated with a conditional `UPDATE` (refunded + amount ≤ charge), so concurrent
//! refunds can never refund more than was charged; tiers are lowered only when the restaurant
//! allows it.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::orders::{Line, OrderItem, check_items, check_order_id};
use super::{audit, idempotency, ledger, now, state};
use crate::entities::{LedgerKind, Tier, favorite_item, visit};
use crate::rules::inputs::check_key;
use crate::rules::{refunds, tier};
use crate::{DomainError, DomainResult, Scope};

/// A refund from the POS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefundInput {
    pub order_id: String,
    /// Cents to refund; `None`: whatever is left of the charge.
    pub amount_cents: Option<i64>,
    /// The lines refunded (their favourite counts are taken back); a full refund or a void
    /// takes back every line of the order.
    pub items: Vec<OrderItem>,
    /// Void the order: refund what is left and remove its visit.
    pub void: bool,
    /// The POS's id of this refund, making a retry of a partial refund safe.
    pub refund_id: Option<String>,
}

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOutcome {
    pub customer_id: i64,
    pub order_id: String,
    /// Refunded by this call.
    pub refunded_cents: i64,
    /// Refunded of the order in all.
    pub total_refunded_cents: i64,
    pub points_reversed: i64,
    /// Points the refund should have taken back but the balance no longer held.
    pub points_not_recovered: i64,
    pub current: i64,
    pub lifetime: i64,
    pub tier: Tier,
    pub visit_removed: bool,
}

/// The idempotency key of a refund: the POS's refund id, or for a full refund or a void the
/// order itself (so doing it twice changes nothing). A partial refund without an id has none.
fn key_of(order_id: &str, input: &RefundInput) -> DomainResult<Option<String>> {
    Ok(match (&input.refund_id, input.void, input.amount_cents) {
        (Some(id), _, _) => Some(format!("refund:{order_id}:{}", check_key(id)?)),
        (None, true, _) => Some(format!("void:{order_id}")),
        (None, false, None) => Some(format!("refund:{order_id}:full")),
        (None, false, Some(_)) => None,
    })
}

/// Refunds (or voids) order `order_id` of the scope's restaurant.
pub async fn refund_order<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    input: RefundInput,
) -> DomainResult<idempotency::Outcome<RefundOutcome>> {
    let order_id = check_order_id(&input.order_id)?;
    check_items(&input.items)?;
    let key = key_of(&order_id, &input)?;
    let p = super::restaurants::programme(db, scope).await?;
    idempotency::run(db, scope, key.as_deref(), "refundOrder", &input, async |txn| {
        let at = now();
        let v = visit::Entity::find()
            .filter(visit::Column::RestaurantId.eq(&scope.restaurant_id))
            .filter(visit::Column::OrderId.eq(&order_id))
            .one(txn)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("order {order_id}")))?;
        let amount = refunds::check_amount(if input.void { None } else { input.amount_cents }, v.amount_cents, v.refunded_cents)?;
        // The conditional update also locks the order's row, so the lines read next are the
        // ones every earlier refund of it left.
        let taken = visit::Entity::update_many()
            .col_expr(visit::Column::RefundedCents, Expr::col(visit::Column::RefundedCents).add(amount))
            .col_expr(visit::Column::UpdatedAt, Expr::value(at))
            .filter(visit::Column::Id.eq(v.id))
            .filter(Expr::col(visit::Column::RefundedCents).add(amount).lte(Expr::col(visit::Column::AmountCents)))
            .exec(txn)
            .await?;
        if taken.rows_affected == 0 {
            return Err(DomainError::invalid_state(format!("order {order_id} was refunded meanwhile; read it again")));
        }
        let reversed_lines = lines_to_reverse(txn, &v, &input, &order_id).await?;
        let earned = v.points_earned.unwrap_or_else(|| p.points_for_amount(v.amount_cents));
        let to_take = refunds::points_to_take(earned, v.refunded_cents, amount, v.amount_cents);
        let c = state::lock(txn, scope, v.customer_id).await?;
        let points = std::cmp::Ord::min(to_take, std::cmp::Ord::max(c.points_current, 0));
        let not_recovered = to_take - points;
        let lifetime = c.points_lifetime - points;
        let new_tier = if p.refunds_lower_tier { tier::tier_for(lifetime) } else { c.tier };
        if input.void {
            visit::Entity::delete_by_id(v.id).exec(txn).await?;
        }
        let row = state::unearn(txn, scope, &c, points, amount, input.void, new_tier, at).await?;
        take_back_favourites(txn, c.id, &reversed_lines).await?;
        let row = state::refresh(txn, &p, row, at, false).await?;
        if to_take > 0 {
            let mut reason = format!("Refund of order #{order_id}: {}.{:02}", amount / 100, amount % 100);
            if not_recovered > 0 {
                reason.push_str(&format!(" ({not_recovered} points not recovered: the balance was too low)"));
            }
            ledger::append(txn, scope, &row, LedgerKind::Refund, -points, Some(reason), key.clone(), at).await?;
        }
        let details =
            json!({ "orderId": order_id, "refundedCents": amount, "pointsReversed": points, "pointsNotRecovered": not_recovered, "void": input.void });
        let event = if input.void { "order.voided" } else { "order.refunded" };
        let mut data = super::webhooks::events::member(&row);
        if let (Some(d), Some(more)) = (data.as_object_mut(), details.as_object()) {
            d.extend(more.clone());
        }
        super::webhooks::events::record(txn, scope, event, data, at).await?;
        audit::record(
            txn,
            scope,
            if input.void { crate::entities::AuditAction::OrderVoided } else { crate::entities::AuditAction::OrderRefunded },
            Some(c.id),
            details,
        )
        .await?;
        Ok(RefundOutcome {
            customer_id: c.id,
            order_id: order_id.clone(),
            refunded_cents: amount,
            total_refunded_cents: v.refunded_cents + amount,
            points_reversed: points,
            points_not_recovered: not_recovered,
            current: row.points_current,
            lifetime: row.points_lifetime,
            tier: row.tier,
            visit_removed: input.void,
        })
    })
    .await
}

/// The order's lines this refund takes back from favourites (what is left of them for a full
/// refund or a void), recorded on the order as taken (`v`, whose row the caller has locked).
async fn lines_to_reverse(txn: &impl ConnectionTrait, v: &visit::Model, input: &RefundInput, order_id: &str) -> DomainResult<Vec<Line>> {
    let parse = |text: Option<&str>| -> Vec<refunds::Line> {
        let lines: Vec<Line> = text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
        lines.into_iter().map(|l| (l.item_id, l.quantity)).collect()
    };
    let row = visit::Entity::find_by_id(v.id).one(txn).await?.ok_or_else(|| DomainError::not_found(format!("order {order_id}")))?;
    let taken = parse(row.refunded_items.as_deref());
    let left = refunds::lines_left(&parse(row.items.as_deref()), &taken);
    let requested: Vec<refunds::Line> = input.items.iter().map(|i| (i.item_id.trim().to_string(), i.quantity)).collect();
    // The row as this refund left it (its amount added): a full refund is one that reached the
    // whole charge, whatever refunds ran meanwhile.
    let whole = input.void || (input.items.is_empty() && row.refunded_cents >= row.amount_cents);
    let reversed = refunds::lines_to_take(&left, &requested, whole, order_id)?;
    if !reversed.is_empty() {
        let all: Vec<Line> =
            refunds::add_lines(&taken, &reversed).into_iter().map(|(item_id, quantity)| Line { item_id, quantity, price_cents: None }).collect();
        let text = serde_json::to_string(&all).map_err(|e| DomainError::internal(e.to_string()))?;
        visit::Entity::update_many().col_expr(visit::Column::RefundedItems, Expr::value(text)).filter(visit::Column::Id.eq(v.id)).exec(txn).await?;
    }
    Ok(reversed.into_iter().map(|(item_id, quantity)| Line { item_id, quantity, price_cents: None }).collect())
}

/// Takes the lines' quantities off the member's favourite-item counts (dropping items that reach
/// zero).
async fn take_back_favourites(txn: &impl ConnectionTrait, customer_id: i64, lines: &[Line]) -> DomainResult<()> {
    use favorite_item::Column as F;
    for line in lines {
        favorite_item::Entity::update_many()
            .col_expr(F::OrderCount, Expr::col(F::OrderCount).sub(line.quantity))
            .filter(F::CustomerId.eq(customer_id))
            .filter(F::ItemId.eq(&line.item_id))
            .exec(txn)
            .await?;
    }
    favorite_item::Entity::delete_many().filter(F::CustomerId.eq(customer_id)).filter(F::OrderCount.lte(0)).exec(txn).await?;
    Ok(())
}
