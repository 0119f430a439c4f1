//! Writing an event for the scope's endpoints that receive it, inside the transaction of the
//! change it reports (a transactional outbox): the change and its events commit or roll back
//! together, and the request never waits for a receiver. One statement whether or not any
//! endpoint listens.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use serde_json::{Value, json};

use crate::entities::{WebhookStatus, webhook_delivery, webhook_endpoint};
use crate::{DomainError, DomainResult, Scope};

/// Records `event` (one of `rules::webhooks::EVENTS`) with `data` (ids and what changed, no
/// personal values) at `at`, one delivery per enabled endpoint of the scope that receives it.
pub async fn record(db: &impl ConnectionTrait, scope: &Scope, event: &str, data: Value, at: DateTime<Utc>) -> DomainResult<u64> {
    use webhook_delivery::Column as D;
    use webhook_endpoint::Column as E;
    let id = event_id();
    let body = json!({ "type": event, "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "data": data }).to_string();
    let listens = Condition::any()
        .add(E::Events.eq("*"))
        .add(E::Events.eq(event))
        .add(E::Events.like(format!("{event},%")))
        .add(E::Events.like(format!("%,{event}")))
        .add(E::Events.like(format!("%,{event},%")));
    let endpoints = Query::select()
        .expr(Expr::value(scope.restaurant_id.clone()))
        .column(E::Id)
        .expr(Expr::value(id))
        .expr(Expr::value(event))
        .expr(Expr::value(body))
        .expr(Expr::value(at))
        .expr(Expr::value(WebhookStatus::Pending))
        .expr(Expr::value(0))
        .expr(Expr::value(at))
        .from(webhook_endpoint::Entity)
        .and_where(E::RestaurantId.eq(&scope.restaurant_id))
        .and_where(E::Enabled.eq(true))
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
