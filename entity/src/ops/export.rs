//! Reading a restaurant's members and ledger out in pages (`loyalty export`), oldest first, for
//! another system or another deployment. A member's record has the fields of an import
//! ([`crate::rules::import::FIELDS`]), so an export imports again as it is.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use super::customers::Personal;
use super::customers::personal;
use crate::entities::{customer, point_transaction};
use crate::{DomainResult, Scope};

/// One page of the scope's members with an id above `after`, oldest first, with their
/// personal values opened; erased members are left out (nothing of them is left to move).
pub async fn members_page(db: &impl ConnectionTrait, scope: &Scope, after: i64, limit: u64) -> DomainResult<Vec<(customer::Model, Personal)>> {
    use customer::Column as C;
    let rows = customer::Entity::find()
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .filter(C::Id.gt(after))
        .filter(C::PhoneIndex.is_not_null())
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?;
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
