//! Reading a restaurant's members and ledger out in pages (`loyalty export`), oldest first, for
//! another system or another deployment. A member's record has the fields of an import
//! ([`crate::rules::import::FIELDS`]), and an order those of an order import
//! ([`crate::rules::import::orders::ORDER_FIELDS`]), so an export imports again as it is.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use super::customers::Personal;
use super::customers::personal;
use crate::entities::{customer, point_transaction, visit};
use crate::rules::money::format_cents;
use crate::{DomainResult, Scope};

/// One page of the scope's members with an id above `after`, oldest first, with their
/// personal values opened; erased members are left out (nothing of them is left to move).
pub async fn members_page(db: &impl ConnectionTrait, scope: &Scope, after: i64, limit: u64) -> DomainResult<Vec<(customer::Model, Personal)>> {
    let condition = Condition::all().add(customer::Column::RestaurantId.eq(&scope.restaurant_id)).add(super::privacy::not_erased());
    members_where(db, scope, &condition, after, limit).await
}

/// One page of the members of `condition` (which names the scope's restaurant) with an id
/// above `after`, lowest id first, with their personal values opened.
pub async fn members_where(
    db: &impl ConnectionTrait,
    scope: &Scope,
    condition: &Condition,
    after: i64,
    limit: u64,
) -> DomainResult<Vec<(customer::Model, Personal)>> {
    use customer::Column as C;
    let rows = customer::Entity::find().filter(condition.clone()).filter(C::Id.gt(after)).order_by_asc(C::Id).limit(limit).all(db).await?;
    let opened = personal::open_many(db, scope, &rows).await?;
    Ok(rows.into_iter().zip(opened).collect())
}

/// A member as an import reads one: `externalId` is the id of the system it came from, or,
/// for a member who joined here, its id here.
pub fn member_record(c: &customer::Model, p: &Personal) -> Vec<(&'static str, Value)> {
    let date = |d: Option<chrono::NaiveDate>| d.map_or(Value::Null, |d| json!(d.to_string()));
    vec![
        ("externalId", json!(c.external_id.clone().unwrap_or_else(|| c.id.to_string()))),
        ("phone", json!(p.phone)),
        ("name", json!(c.name)),
        ("email", p.email.as_ref().map_or(Value::Null, |e| json!(e))),
        ("dateOfBirth", date(p.date_of_birth)),
        ("anniversary", date(p.anniversary)),
        ("memberSince", json!(c.member_since.to_rfc3339())),
        ("points", json!(c.points_current)),
        ("lifetimePoints", json!(c.points_lifetime)),
        ("tier", json!(sea_orm::ActiveEnum::to_value(&c.tier))),
        ("emailOptIn", json!(c.email_opt_in)),
        ("smsOptIn", json!(c.sms_opt_in)),
        ("pushNotifications", json!(c.push_opt_in)),
        ("specialOffers", json!(c.special_offers)),
        ("birthdayOffers", json!(c.birthday_offers)),
        ("anniversaryOffers", json!(c.anniversary_offers)),
        ("allergies", json!(p.allergies)),
        ("dietaryRestrictions", json!(p.dietary_restrictions)),
    ]
}

/// The fields of a ledger entry's record, in order.
pub const LEDGER_FIELDS: [&str; 8] = ["id", "customerId", "kind", "points", "balanceAfter", "reason", "actor", "createdAt"];

/// One page of the scope's ledger entries with an id above `after`, oldest first.
pub async fn ledger_page(db: &impl ConnectionTrait, scope: &Scope, after: i64, limit: u64) -> DomainResult<Vec<point_transaction::Model>> {
    use point_transaction::Column as L;
    Ok(point_transaction::Entity::find()
        .filter(L::RestaurantId.eq(&scope.restaurant_id))
        .filter(L::Id.gt(after))
        .order_by_asc(L::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A ledger entry's record ([`LEDGER_FIELDS`]).
pub fn ledger_record(e: &point_transaction::Model) -> Vec<(&'static str, Value)> {
    let kind: String = sea_orm::ActiveEnum::to_value(&e.kind);
    vec![
        ("id", json!(e.id)),
        ("customerId", json!(e.customer_id)),
        ("kind", json!(kind)),
        ("points", json!(e.delta)),
        ("balanceAfter", json!(e.balance_after)),
        ("reason", e.reason.as_ref().map_or(Value::Null, |r| json!(r))),
        ("actor", json!(e.actor)),
        ("createdAt", json!(e.created_at.to_rfc3339())),
    ]
}

/// One page of the scope's orders (visits with an order id) with an id above `after`, oldest
/// first, each with its member's `externalId` as [`member_record`] writes it; orders of erased
/// members are left out, as the members are.
pub async fn orders_page(db: &impl ConnectionTrait, scope: &Scope, after: i64, limit: u64) -> DomainResult<Vec<(visit::Model, String)>> {
    use customer::Column as C;
    use visit::Column as V;
    let orders = visit::Entity::find()
        .filter(V::RestaurantId.eq(&scope.restaurant_id))
        .filter(V::Id.gt(after))
        .filter(V::OrderId.is_not_null())
        .order_by_asc(V::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut ids: Vec<i64> = orders.iter().map(|v| v.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let members: std::collections::HashMap<i64, Option<String>> = customer::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::ExternalId)
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .filter(C::Id.is_in(ids))
        .filter(super::privacy::not_erased())
        .into_tuple::<(i64, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(orders
        .into_iter()
        .filter_map(|v| {
            let external = members.get(&v.customer_id)?.clone().unwrap_or_else(|| v.customer_id.to_string());
            Some((v, external))
        })
        .collect())
}

/// An order as an import reads one: its lines as objects `{"itemId", "quantity", "price"}`.
/// The amount is the order's charge as recorded; refunds are in the ledger's export.
pub fn order_record(v: &visit::Model, external_id: &str) -> Vec<(&'static str, Value)> {
    let text = |t: &Option<String>| t.as_ref().map_or(Value::Null, |t| json!(t));
    let lines: Vec<super::orders::Line> = v.items.as_deref().and_then(|i| serde_json::from_str(i).ok()).unwrap_or_default();
    let items: Vec<Value> = lines
        .iter()
        .map(|l| match l.price_cents {
            Some(p) => json!({ "itemId": l.item_id, "quantity": l.quantity, "price": format_cents(p) }),
            None => json!({ "itemId": l.item_id, "quantity": l.quantity }),
        })
        .collect();
    vec![
        ("orderId", text(&v.order_id)),
        ("externalId", json!(external_id)),
        ("phone", Value::Null),
        ("occurredAt", json!(v.visited_at.to_rfc3339())),
        ("amount", json!(format_cents(v.amount_cents))),
        ("location", text(&v.location)),
        ("channel", text(&v.channel)),
        ("items", if items.is_empty() { Value::Null } else { Value::Array(items) }),
    ]
}
