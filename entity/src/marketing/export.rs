//! A marketer's export of an audience (a segment's members, or whom a campaign targets): the
//! fields a marketing tool needs (contact, tier, points, visits, consent), never allergies,
//! dietary needs or notes. GraphQL hands back a download of up to [`MAX_DOWNLOAD`] members; the
//! CLI (`loyalty export audience`) reads any size in pages.

use chrono::{DateTime, Utc};
use sea_orm::{Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use super::audience::{self, Target};
use crate::entities::customer;
use crate::ops::customers::Personal;
use crate::rules::programme::Programme;
use crate::{DomainError, DomainResult, Scope};

/// The fields of an audience record, in order.
pub const AUDIENCE_FIELDS: [&str; 14] = [
    "customerId",
    "externalId",
    "name",
    "email",
    "phone",
    "tier",
    "points",
    "lifetimePoints",
    "memberSince",
    "lastVisit",
    "emailOptIn",
    "smsOptIn",
    "specialOffers",
    "birthdayOffers",
];

/// Most members one GraphQL download holds.
pub const MAX_DOWNLOAD: u64 = 10_000;

/// Whose members to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// A segment (automatic, list or rule), by name.
    Segment(String),
    /// Whom a campaign targets (its segment and rule; consent and the cap are the send's
    /// business: each record carries the consent flags).
    Campaign(i64),
}

/// The audience's members (erased ones left out) as one condition on `customers`, and how
/// many they are.
pub async fn members(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, of: &Audience, now: DateTime<Utc>) -> DomainResult<(Condition, u64)> {
    let target = match of {
        Audience::Segment(name) => Target { segment: Some(name.clone()), rule: None },
        Audience::Campaign(id) => super::campaigns::target_of(&super::campaigns::get(db, scope, *id).await?)?,
    };
    let condition = audience::condition(db, scope, p, &target, now).await?.add(crate::ops::privacy::not_erased());
    let count = customer::Entity::find().filter(condition.clone()).count(db).await?;
    Ok((condition, count))
}

/// The audience for a download: refused when it holds more than [`MAX_DOWNLOAD`] members.
pub async fn for_download(db: &impl ConnectionTrait, scope: &Scope, p: &Programme, of: &Audience, now: DateTime<Utc>) -> DomainResult<Condition> {
    let (condition, count) = members(db, scope, p, of, now).await?;
    if count > MAX_DOWNLOAD {
        let field = if matches!(of, Audience::Segment(_)) { "segment" } else { "campaignId" };
        return Err(DomainError::validation(
            field,
            format!("the audience has {count} members, more than the {MAX_DOWNLOAD} a download holds: narrow it, or export it with `loyalty export audience`"),
        ));
    }
    Ok(condition)
}

/// Every member of a download's audience (at most [`MAX_DOWNLOAD`]), as records.
pub async fn download(db: &impl ConnectionTrait, scope: &Scope, of: &Audience, now: DateTime<Utc>) -> DomainResult<Vec<Vec<(&'static str, Value)>>> {
    let p = crate::ops::restaurants::programme(db, scope).await?;
    let condition = for_download(db, scope, &p, of, now).await?;
    let (mut records, mut after) = (Vec::new(), 0);
    loop {
        let page = page(db, scope, &condition, after, 1_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.id;
        records.extend(page.iter().map(|(c, p)| record(c, p)));
    }
    Ok(records)
}

/// One page of the members of `condition` with an id above `after`, lowest id first, with
/// their personal values opened.
pub async fn page(db: &impl ConnectionTrait, scope: &Scope, condition: &Condition, after: i64, limit: u64) -> DomainResult<Vec<(customer::Model, Personal)>> {
    crate::ops::export::members_where(db, scope, condition, after, limit).await
}

/// A member's audience record ([`AUDIENCE_FIELDS`]).
pub fn record(c: &customer::Model, p: &Personal) -> Vec<(&'static str, Value)> {
    let time = |t: Option<DateTime<Utc>>| t.map_or(Value::Null, |t| json!(t.to_rfc3339()));
    vec![
        ("customerId", json!(c.id.to_string())),
        ("externalId", c.external_id.as_ref().map_or(Value::Null, |e| json!(e))),
        ("name", json!(c.name)),
        ("email", p.email.as_ref().map_or(Value::Null, |e| json!(e))),
        ("phone", json!(p.phone)),
        ("tier", json!(sea_orm::ActiveEnum::to_value(&c.tier))),
        ("points", json!(c.points_current)),
        ("lifetimePoints", json!(c.points_lifetime)),
        ("memberSince", time(Some(c.member_since))),
        ("lastVisit", time(c.last_visit_at)),
        ("emailOptIn", json!(c.email_opt_in)),
        ("smsOptIn", json!(c.sms_opt_in)),
        ("specialOffers", json!(c.special_offers)),
        ("birthdayOffers", json!(c.birthday_offers)),
    ]
}
