//! Delivering webhook events: due rows of every restaurant are claimed (`pending` →
//! `sending`) with a conditional update, so two workers (replicas) never send the same row at
//! once; the outcome is recorded only by the worker holding the claim. A row left `sending` by
//! a crashed worker returns to `pending` after [`STALE_SENDING`] and is sent again with the
//! same `webhook-id` (at least once). Admins read an endpoint's log and replay events.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::{WebhookStatus, webhook_delivery, webhook_endpoint};
use crate::ops::Paged;
use crate::rules::webhooks as rules;
use crate::{DomainError, DomainResult, Scope};

/// A row claimed this long ago and still `sending` belongs to a worker that stopped.
pub const STALE_SENDING: Duration = Duration::minutes(5);

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The receiver's HTTP status (none: no answer).
    pub status: Option<u16>,
    /// Why it failed (none: a 2xx answer).
    pub error: Option<String>,
    pub latency_ms: i32,
}

impl Attempt {
    /// Whether the receiver took the message (a 2xx answer).
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Returns rows claimed before `now - STALE_SENDING` and still `sending` to `pending`.
pub async fn release_stale(db: &impl ConnectionTrait, now: DateTime<Utc>) -> DomainResult<u64> {
    use webhook_delivery::Column as D;
    Ok(webhook_delivery::Entity::update_many()
        .col_expr(D::Status, Expr::value(WebhookStatus::Pending))
        .col_expr(D::ClaimedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(D::Status.eq(WebhookStatus::Sending))
        .filter(D::ClaimedAt.lt(now - STALE_SENDING))
        .exec(db)
        .await?
        .rows_affected)
}

/// Claims up to `limit` rows due at `now`, of any restaurant, oldest due first, at most
/// `per_endpoint` for an endpoint counting the `in_flight` ones this worker is sending to it
/// already (a slow receiver holds no more of the worker's slots); a row another worker claimed
/// first is not returned. Each comes with its endpoint.
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
    in_flight: &HashMap<i64, usize>,
    per_endpoint: usize,
) -> DomainResult<Vec<(webhook_delivery::Model, webhook_endpoint::Model)>> {
    use webhook_delivery::Column as D;
    let full: Vec<i64> = in_flight.iter().filter(|(_, n)| **n >= per_endpoint).map(|(e, _)| *e).collect();
    let candidates: Vec<(i64, i64)> = webhook_delivery::Entity::find()
        .select_only()
        .column(D::Id)
        .column(D::EndpointId)
        .filter(D::Status.eq(WebhookStatus::Pending))
        .filter(D::NextAttemptAt.lte(now))
        .filter(D::EndpointId.is_not_in(full))
        .order_by_asc(D::NextAttemptAt)
        .limit(limit * 4)
        .into_tuple()
        .all(db)
        .await?;
    let mut taken: HashMap<i64, usize> = HashMap::new();
    let mut due = Vec::new();
    for (id, endpoint) in candidates {
        let n = taken.entry(endpoint).or_insert_with(|| in_flight.get(&endpoint).copied().unwrap_or(0));
        if *n < per_endpoint && (due.len() as u64) < limit {
            *n += 1;
            due.push(id);
        }
    }
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(D::Status, Expr::value(WebhookStatus::Sending))
        .col_expr(D::ClaimedAt, Expr::value(now))
        .filter(D::Id.is_in(due))
        .filter(D::Status.eq(WebhookStatus::Pending))
        .exec_with_returning(db)
        .await?;
    let ids: Vec<i64> = claimed.iter().map(|d| d.endpoint_id).collect();
    let endpoints = webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::Id.is_in(ids)).all(db).await?;
    Ok(claimed.into_iter().filter_map(|d| endpoints.iter().find(|e| e.id == d.endpoint_id).map(|e| (d, e.clone()))).collect())
}

/// Records `attempt` of the claimed row `row` at `now`: delivered, retried after the backoff
/// (`jitter` in [0, 1)), or failed for good; an endpoint whose every delivery failed over the
/// whole retry schedule is disabled with the reason. Nothing is written if the claim was lost.
pub async fn record(db: &impl ConnectionTrait, row: &webhook_delivery::Model, attempt: &Attempt, now: DateTime<Utc>, jitter: f64) -> DomainResult<()> {
    use webhook_delivery::Column as D;
    let attempts = row.attempts + 1;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(D::Attempts, Expr::value(attempts))
        .col_expr(D::ClaimedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(D::LastStatus, Expr::value(attempt.status.map(i32::from)))
        .col_expr(D::LastError, Expr::value(attempt.error.clone()))
        .col_expr(D::LastLatencyMs, Expr::value(attempt.latency_ms));
    let retry = rules::retry_after(attempts, jitter);
    update = if attempt.delivered() {
        update.col_expr(D::Status, Expr::value(WebhookStatus::Delivered)).col_expr(D::DeliveredAt, Expr::value(now))
    } else if let Some(wait) = retry {
        let next = now + Duration::from_std(wait).map_err(DomainError::internal)?;
        update.col_expr(D::Status, Expr::value(WebhookStatus::Pending)).col_expr(D::NextAttemptAt, Expr::value(next))
    } else {
        update.col_expr(D::Status, Expr::value(WebhookStatus::Failed))
    };
    let written =
        update.filter(D::Id.eq(row.id)).filter(D::Status.eq(WebhookStatus::Sending)).filter(D::ClaimedAt.eq(row.claimed_at)).exec(db).await?.rows_affected;
    if written == 1 && !attempt.delivered() && retry.is_none() {
        disable_if_dead(db, row, attempt, now).await?;
    }
    Ok(())
}

/// Disables the row's endpoint when none of its deliveries succeeded over the retry schedule.
async fn disable_if_dead(db: &impl ConnectionTrait, row: &webhook_delivery::Model, attempt: &Attempt, now: DateTime<Utc>) -> DomainResult<()> {
    use webhook_delivery::Column as D;
    let span: std::time::Duration = rules::RETRY_AFTER.iter().sum();
    let since = now - Duration::from_std(span).map_err(DomainError::internal)?;
    let alive = webhook_delivery::Entity::find().filter(D::EndpointId.eq(row.endpoint_id)).filter(D::DeliveredAt.gte(since)).one(db).await?.is_some();
    if alive {
        return Ok(());
    }
    let last = match (attempt.status, &attempt.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    };
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(format!("every delivery failed for {} days; the last answer: {last}", span.as_secs() / 86_400)),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(row.endpoint_id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the scope's endpoint `endpoint`'s deliveries, newest first, after cursor id `after`.
pub async fn log(db: &impl ConnectionTrait, scope: &Scope, endpoint: i64, after: Option<i64>, first: u64) -> DomainResult<Paged<webhook_delivery::Model>> {
    use webhook_delivery::Column as D;
    let q = webhook_delivery::Entity::find().filter(D::RestaurantId.eq(&scope.restaurant_id)).filter(D::EndpointId.eq(endpoint));
    Ok(crate::ops::newest_page(db, q, D::Id, after, first).await?)
}

/// Which deliveries to send again.
pub enum Replay {
    /// One event (to every endpoint it went to).
    Event(String),
    /// An endpoint's events that occurred in `[from, to)`.
    Range { endpoint: i64, from: DateTime<Utc>, to: DateTime<Utc> },
}

/// Sends the scope's deliveries `what` names again, now, with a fresh retry schedule and the
/// same `webhook-id`; rows being sent right now are left to finish. Returns how many.
pub async fn replay(db: &impl ConnectionTrait, scope: &Scope, what: Replay, now: DateTime<Utc>) -> DomainResult<u64> {
    use webhook_delivery::Column as D;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(D::Status, Expr::value(WebhookStatus::Pending))
        .col_expr(D::Attempts, Expr::value(0))
        .col_expr(D::NextAttemptAt, Expr::value(now))
        .filter(D::RestaurantId.eq(&scope.restaurant_id))
        .filter(D::Status.ne(WebhookStatus::Sending));
    update = match what {
        Replay::Event(id) => update.filter(D::EventId.eq(id)),
        Replay::Range { endpoint, from, to } => update.filter(D::EndpointId.eq(endpoint)).filter(D::OccurredAt.gte(from)).filter(D::OccurredAt.lt(to)),
    };
    Ok(update.exec(db).await?.rows_affected)
}
