//! Writing an event for the scope's endpoints that receive it, inside the transaction of the
//! change it reports (a transactional outbox): the change and its events commit or roll back
//! together, and the request never waits for a receiver.
//!
//! A restaurant without endpoints costs no statement: each process keeps the set of
//! restaurants with enabled endpoints, read again every [`REFRESH`]. So that no replica misses
//! an event for want of knowing an endpoint, an endpoint receives events from [`ACTIVATION`]
//! after it is added or enabled (`active_from`), longer than any replica's set is old.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::entities::{WebhookStatus, webhook_delivery, webhook_endpoint};
use crate::{DomainError, DomainResult, Scope};

/// How often a process reads again which restaurants have enabled endpoints.
pub const REFRESH: Duration = Duration::from_secs(30);
/// How long after it is added or enabled an endpoint starts receiving events.
pub const ACTIVATION: chrono::Duration = chrono::Duration::seconds(60);
const _: () = assert!(REFRESH.as_secs() * 2 <= ACTIVATION.num_seconds() as u64, "every replica knows an endpoint before it is active");

/// The restaurants with enabled endpoints, and when they were read.
static LISTENING: Mutex<Option<(Instant, HashSet<String>)>> = Mutex::new(None);

/// Whether `restaurant` has enabled endpoints, as this process read at most [`REFRESH`] ago.
async fn listening(db: &impl ConnectionTrait, restaurant: &str) -> DomainResult<bool> {
    listening_where(db, |set| set.contains(restaurant)).await
}

/// Makes this process read the restaurants with endpoints again at its next event (an endpoint
/// was added or switched here; other replicas read again within [`REFRESH`]).
pub fn forget() {
    if let Ok(mut cache) = LISTENING.lock() {
        *cache = None;
    }
}

/// Whether any restaurant has enabled endpoints, as this process read at most [`REFRESH`] ago
/// (the delivery worker has nothing to do without).
pub async fn any_listening(db: &impl ConnectionTrait) -> DomainResult<bool> {
    listening_where(db, |set| !set.is_empty()).await
}

/// `test` of the set of restaurants with enabled endpoints, read again when older than
/// [`REFRESH`].
async fn listening_where(db: &impl ConnectionTrait, test: impl Fn(&HashSet<String>) -> bool) -> DomainResult<bool> {
    if let Ok(cache) = LISTENING.lock()
        && let Some((read, set)) = cache.as_ref()
        && read.elapsed() < REFRESH
    {
        return Ok(test(set));
    }
    let read = Instant::now();
    let set: HashSet<String> = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::RestaurantId)
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .distinct()
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let listens = test(&set);
    if let Ok(mut cache) = LISTENING.lock() {
        *cache = Some((read, set));
    }
    Ok(listens)
}

/// Records `event` (one of `rules::webhooks::EVENTS`) with `data` (ids and what changed, no
/// personal values) at `at`, one delivery per enabled, active endpoint of the scope that
/// receives it.
pub async fn record(db: &impl ConnectionTrait, scope: &Scope, event: &str, data: Value, at: DateTime<Utc>) -> DomainResult<u64> {
    record_for(db, &scope.restaurant_id, event, data, at).await
}

/// [`record`] for restaurant `restaurant` (a rule that holds a member's row, not a scope).
pub async fn record_for(db: &impl ConnectionTrait, restaurant: &str, event: &str, data: Value, at: DateTime<Utc>) -> DomainResult<u64> {
    use webhook_delivery::Column as D;
    use webhook_endpoint::Column as E;
    if !listening(db, restaurant).await? {
        return Ok(0);
    }
    let id = event_id();
    let body = json!({ "type": event, "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "data": data }).to_string();
    let listens = Condition::any()
        .add(E::Events.eq("*"))
        .add(E::Events.eq(event))
        .add(E::Events.like(format!("{event},%")))
        .add(E::Events.like(format!("%,{event}")))
        .add(E::Events.like(format!("%,{event},%")));
    let endpoints = Query::select()
        .expr(Expr::value(restaurant.to_string()))
        .column(E::Id)
        .expr(Expr::value(id))
        .expr(Expr::value(event))
        .expr(Expr::value(body))
        .expr(Expr::value(at))
        .expr(Expr::value(WebhookStatus::Pending))
        .expr(Expr::value(0))
        .expr(Expr::value(at))
        .from(webhook_endpoint::Entity)
        .and_where(E::RestaurantId.eq(restaurant))
        .and_where(E::Enabled.eq(true))
        .and_where(E::ActiveFrom.lte(at))
        .cond_where(listens)
        .to_owned();
    let insert = Query::insert()
        .into_table(webhook_delivery::Entity)
        .columns([D::RestaurantId, D::EndpointId, D::EventId, D::EventType, D::Payload, D::OccurredAt, D::Status, D::Attempts, D::NextAttemptAt])
        .select_from(endpoints)
        .map_err(DomainError::internal)?
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected())
}

/// A fresh event id (the `webhook-id` header): `evt_` and 24 random hex digits.
fn event_id() -> String {
    let mut bytes = [0u8; 12];
    rand::fill(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
}

/// Who an event is about: the member's id here and in the system it came from.
pub fn member(row: &crate::entities::customer::Model) -> Value {
    json!({ "customerId": row.id.to_string(), "externalId": row.external_id })
}

/// A member's tier moved from `from` to the row's.
pub fn tier_changed(row: &crate::entities::customer::Model, from: crate::entities::Tier) -> Value {
    let tier = |t: crate::entities::Tier| sea_orm::ActiveEnum::to_value(&t);
    json!({ "customerId": row.id.to_string(), "externalId": row.external_id, "from": tier(from), "to": tier(row.tier) })
}

/// A voucher as receivers hear of it: ids, what it gives and its state (never its code, which
/// redeems it).
pub fn voucher(v: &crate::entities::voucher::Model) -> Value {
    json!({
        "voucherId": v.id.to_string(),
        "customerId": v.customer_id.to_string(),
        "rewardId": v.reward_id.map(|r| r.to_string()),
        "source": v.source,
        "title": v.title,
        "pointsCost": v.points_cost,
        "status": sea_orm::ActiveEnum::to_value(&v.status),
        "expiresAt": v.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "redeemedOrderId": v.redeemed_order_id,
    })
}

/// A campaign's send finished: the campaign, the send, and how many of its deliveries ended in
/// each state (`sent`, `failed`, `skipped`, `held-out`).
pub fn campaign_sent(
    c: &crate::entities::campaign::Model,
    send: &crate::entities::campaign_send::Model,
    statuses: &[(crate::entities::DeliveryStatus, i64)],
) -> Value {
    let deliveries: serde_json::Map<String, Value> = statuses.iter().map(|(status, n)| (sea_orm::ActiveEnum::to_value(status), json!(n))).collect();
    json!({
        "campaignId": c.id.to_string(),
        "sendId": send.id.to_string(),
        "name": c.name,
        "slot": send.slot.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "audience": send.audience,
        "deliveries": deliveries,
    })
}
