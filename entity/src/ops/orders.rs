//! The spec's "Integration with Orders": a completed order earns points (the restaurant's
//! `pointsPerDollar` per whole dollar),
//! counts as a visit and updates favourite items, all in one transaction, once per order id.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use super::state::Delta;
use super::{customers, expiry, idempotency, ledger, now};
use crate::entities::{LedgerKind, Tier, favorite_item, visit};
use crate::rules::inputs::check_amount;
use crate::rules::orders as rules;
use crate::{DomainError, DomainResult, Policy, Scope};

pub use crate::rules::orders::{MAX_ITEMS, MAX_QUANTITY};

/// A completed order from the POS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrderInput {
    /// The member's phone number (any format the policy's region reads), or
    pub phone: Option<String>,
    /// the member's id: exactly one of the two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
    pub order_id: String,
    /// The order's final charge in cents.
    pub amount_cents: i64,
    pub items: Vec<OrderItem>,
    /// When it happened, if before now (an order the POS queued while offline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Where it was placed (the POS's store or site).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// How it was placed (dine-in, takeaway, delivery, online, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Brought in by an import: `occurred_at` may reach any time back.
    #[serde(skip)]
    pub imported: bool,
    /// Recorded for its history only (visits, spend, favourites): no points, and no expiry
    /// undone (an import whose members brought their balances with them).
    #[serde(skip)]
    pub no_points: bool,
}

/// One line of an order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderItem {
    pub item_id: String,
    pub name: Option<String>,
    pub quantity: i64,
    /// The line's price in cents (all of its quantity), when the POS gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
}

/// An order line as a visit keeps it (for refunds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub item_id: String,
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
}

/// What recording an order returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderOutcome {
    pub customer_id: i64,
    pub order_id: String,
    pub visit_id: i64,
    pub points_earned: i64,
    pub transaction_id: Option<i64>,
    pub current: i64,
    pub lifetime: i64,
    pub tier: Tier,
}

pub(crate) use crate::rules::orders::check_order_id;

pub(crate) fn check_items(items: &[OrderItem]) -> DomainResult<()> {
    if items.len() > MAX_ITEMS {
        return Err(DomainError::validation("items", format!("at most {MAX_ITEMS} items per order")));
    }
    for item in items {
        if item.item_id.trim().is_empty() || item.item_id.len() > 100 {
            return Err(DomainError::validation("items.itemId", "must be 1 to 100 characters"));
        }
        if !(1..=MAX_QUANTITY).contains(&item.quantity) {
            return Err(DomainError::validation("items.quantity", format!("must be 1 to {MAX_QUANTITY}")));
        }
        if let Some(price) = item.price_cents {
            check_amount("items.price", price)?;
        }
    }
    Ok(())
}

/// The order's checked place: `(when, location, channel)`.
pub(crate) type Place = (DateTime<Utc>, Option<String>, Option<String>);

pub(crate) fn check(input: &OrderInput, policy: &Policy, now: DateTime<Utc>) -> DomainResult<Place> {
    check_order_id(&input.order_id)?;
    check_amount("amount", input.amount_cents)?;
    check_items(&input.items)?;
    let window = (!input.imported).then_some(policy.late_order_days);
    let at = rules::occurred_at(input.occurred_at, now, window)?;
    Ok((at, rules::name("location", input.location.as_deref())?, rules::name("channel", input.channel.as_deref())?))
}

/// Records a completed order for the member with the order's phone number or id. The order id
/// is the idempotency key: the same order twice earns once. An order that happened earlier
/// (`occurred_at`) leaves the member as if it had come on time: visit dates and last activity
/// move only as far as it reaches, and an expiry it would have prevented is undone.
pub async fn record_order<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    policy: &Policy,
    input: OrderInput,
) -> DomainResult<idempotency::Outcome<OrderOutcome>> {
    let (visited_at, location, channel) = check(&input, policy, now())?;
    let customer = match (&input.phone, input.customer_id) {
        (Some(phone), None) => customers::find_by_phone(db, scope, policy, phone).await?,
        (None, Some(id)) => customers::find_by_id(db, scope, id).await?,
        _ => return Err(DomainError::validation("customerId", "give exactly one of phone and customerId")),
    };
    let order_id = input.order_id.trim().to_string();
    let key = format!("order:{order_id}");
    let p = super::restaurants::programme(db, scope).await?;
    let points = if input.no_points { 0 } else { p.points_for_amount(input.amount_cents) };
    let place = (visited_at, location, channel);
    idempotency::run(db, scope, Some(&key), "recordOrder", &input, async |txn| write(txn, scope, &p, customer.id, &input, &place, points).await).await
}

/// Writes order `input` of member `customer_id` (checked, at its `place`) earning `points`, in
/// the running transaction: the ledger entry, the visit with its lines, favourites, and an
/// expiry the order covers undone. An order id recorded before is `InvalidState`.
pub(crate) async fn write(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    p: &crate::rules::programme::Programme,
    customer_id: i64,
    input: &OrderInput,
    place: &Place,
    points: i64,
) -> DomainResult<OrderOutcome> {
    let (visited_at, location, channel) = place.clone();
    let order_id = input.order_id.trim().to_string();
    // Its key may have been purged after the retention window; the visit still knows it.
    let recorded =
        visit::Entity::find().filter(visit::Column::RestaurantId.eq(&scope.restaurant_id)).filter(visit::Column::OrderId.eq(&order_id)).one(txn).await?;
    if let Some(v) = recorded {
        return Err(DomainError::invalid_state(format!("order {order_id} was already recorded on {}", v.visited_at.date_naive())));
    }
    let at = now();
    let late = (visited_at < at).then_some(visited_at);
    let delta = Delta { earned: points, visit_cents: Some(input.amount_cents), visited_at: late, ..Delta::default() };
    let (reason, key) = (Some(format!("Order #{order_id}")), Some(format!("order:{order_id}")));
    let (row, entry) = ledger::earn_in(txn, scope, p, customer_id, delta, LedgerKind::Earn, reason, key, at).await?;
    let lines: Vec<Line> =
        input.items.iter().map(|i| Line { item_id: i.item_id.trim().to_string(), quantity: i.quantity, price_cents: i.price_cents }).collect();
    let visit = visit::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        customer_id: Set(row.id),
        amount_cents: Set(input.amount_cents),
        order_id: Set(Some(order_id.clone())),
        visited_at: Set(visited_at),
        items: Set(Some(serde_json::to_string(&lines).unwrap_or_default())),
        points_earned: Set(Some(points)),
        location: Set(location),
        channel: Set(channel),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    count_items(txn, scope, row.id, &input.items, visited_at).await?;
    let row = match late.filter(|_| !input.no_points) {
        Some(order_at) => expiry::undo_covered(txn, scope, p, row, order_at, &order_id, at).await?,
        None => row,
    };
    Ok(OrderOutcome {
        customer_id: row.id,
        order_id,
        visit_id: visit.id,
        points_earned: points,
        transaction_id: entry.map(|e| e.id),
        current: row.points_current,
        lifetime: row.points_lifetime,
        tier: row.tier,
    })
}

/// Adds the order's quantities to the customer's favourite-item counts.
async fn count_items(txn: &impl ConnectionTrait, scope: &Scope, customer_id: i64, items: &[OrderItem], at: DateTime<Utc>) -> DomainResult<()> {
    use favorite_item::Column as F;
    for item in items {
        let row = favorite_item::ActiveModel {
            restaurant_id: Set(scope.restaurant_id.clone()),
            customer_id: Set(customer_id),
            item_id: Set(item.item_id.trim().to_string()),
            name: Set(item.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(String::from)),
            order_count: Set(item.quantity),
            last_ordered_at: Set(at),
            ..Default::default()
        };
        favorite_item::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([F::CustomerId, F::ItemId])
                    .value(F::OrderCount, Expr::col((favorite_item::Entity, F::OrderCount)).add(item.quantity))
                    .value(
                        F::LastOrderedAt,
                        Expr::case(Expr::col((favorite_item::Entity, F::LastOrderedAt)).lt(at), at)
                            .finally(Expr::col((favorite_item::Entity, F::LastOrderedAt))),
                    )
                    .update_column(F::Name)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
