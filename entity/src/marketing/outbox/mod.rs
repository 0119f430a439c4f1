//! Campaign emails waiting, being sent and sent, of one restaurant. Every writer of an email
//! goes through [`enqueue`]: one row per (customer, kind, period), written once however often
//! or on however many replicas it runs. Rows are claimed (`pending` → `sending`) with a
//! conditional update, so two workers never take the same row; the jobs crate sends them and
//! records the outcome here.

pub mod write;

pub use write::{Letter, enqueue, enqueue_many};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait};

use super::kinds::Campaign;
use crate::entities::{CampaignState, DeliveryStatus, audit_entry, campaign, customer, email_delivery, restaurant};
use crate::ops::customers::{Personal, personal};
use crate::{DomainError, DomainResult, Scope};

/// Returns rows left `sending` since before `stale_before` (a worker that crashed mid-send) to
/// `pending`; returns how many.
pub async fn release_stale(db: &impl ConnectionTrait, scope: &Scope, stale_before: DateTime<Utc>) -> DomainResult<u64> {
    use email_delivery::Column as E;
    Ok(email_delivery::Entity::update_many()
        .col_expr(E::Status, Expr::value(DeliveryStatus::Pending))
        .filter(E::RestaurantId.eq(&scope.restaurant_id))
        .filter(E::Status.eq(DeliveryStatus::Sending))
        .filter(E::UpdatedAt.lt(stale_before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Claims up to `limit` due rows (of one campaign, or all) with ids above `after`: `pending` →
/// `sending`, attempts counted. A row another worker claimed first is not returned, nor one of
/// a paused or cancelled campaign.
///
/// A worker passes the highest id it claimed so far: the rows below are mostly sent, and
/// PostgreSQL, estimating pending rows evenly spread, may walk the primary key from the start
/// and test every sent row (80,000 rows, 70 ms a claim midway through a large campaign).
pub async fn claim(
    db: &impl ConnectionTrait,
    scope: &Scope,
    campaign: Option<Campaign>,
    now: DateTime<Utc>,
    after: i64,
    limit: u64,
) -> DomainResult<Vec<email_delivery::Model>> {
    use email_delivery::Column as E;
    let mut due = Query::select()
        .column(E::Id)
        .from(email_delivery::Entity)
        .and_where(E::RestaurantId.eq(&scope.restaurant_id))
        .and_where(E::Status.eq(DeliveryStatus::Pending))
        .and_where(E::NextAttemptAt.lte(now))
        .and_where(E::Id.gt(after))
        .order_by(E::Id, sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    if let Some(c) = campaign {
        due.and_where(E::Campaign.eq(c.name()));
    }
    let held = Query::select()
        .column(campaign::Column::Id)
        .from(campaign::Entity)
        .and_where(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .and_where(campaign::Column::State.is_in([CampaignState::Paused, CampaignState::Cancelled]))
        .to_owned();
    due.cond_where(Condition::any().add(E::CampaignId.is_null()).add(E::CampaignId.not_in_subquery(held)));
    Ok(email_delivery::Entity::update_many()
        .col_expr(E::Status, Expr::value(DeliveryStatus::Sending))
        .col_expr(E::Attempts, Expr::col(E::Attempts).add(1))
        .col_expr(E::UpdatedAt, Expr::value(crate::ops::now()))
        .filter(E::Id.in_subquery(due))
        .filter(E::Status.eq(DeliveryStatus::Pending))
        .exec_with_returning(db)
        .await?)
}

/// A member a claimed email goes to: the row, the personal values opened, and the address as
/// stored (sealed), which [`record`] keeps with the email once it is sent.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub customer: customer::Model,
    pub personal: Personal,
    pub sealed_email: Option<String>,
}

/// The scope's customers with these ids, by id (the recipients of a claimed batch).
pub async fn recipients(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<HashMap<i64, Recipient>> {
    let rows = customer::Entity::find()
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let personal = personal::rows(db, scope, ids).await?;
    let key_ids: Vec<&str> = rows.iter().filter_map(|c| c.key_id.as_deref()).collect();
    let keys = scope.vault.customer_keys(&scope.restaurant_id, &key_ids).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for c in rows {
        let sealed = personal.get(&c.id).ok_or_else(|| DomainError::internal(format!("customer {} has no personal row", c.id)))?;
        let opened = personal::open_with(sealed, c.key_id.as_ref().and_then(|id| keys.get(id)))?;
        out.insert(c.id, Recipient { sealed_email: sealed.email.as_ref().map(|e| e.0.clone()), personal: opened, customer: c });
    }
    Ok(out)
}

/// The scope's marketer-built campaigns with these ids, by id (what a claimed batch renders).
pub async fn campaigns(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<HashMap<i64, crate::entities::campaign::Model>> {
    Ok(campaign::Entity::find()
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// The `consent.changed` audit entries of these customers, newest first (what a claimed batch
/// proves its consent with).
pub async fn consent_entries(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<Vec<audit_entry::Model>> {
    use audit_entry::Column as A;
    Ok(audit_entry::Entity::find()
        .filter(A::RestaurantId.eq(&scope.restaurant_id))
        .filter(A::Action.eq("consent.changed"))
        .filter(A::CustomerId.is_in(ids.iter().copied()))
        .order_by_desc(A::Id)
        .all(db)
        .await?)
}

/// The proof of consent of one email: for each flag it needs (`emailOptIn`, `specialOffers` …),
/// the member's value at sending and the latest audit entry that set it (`null` when none did,
/// e.g. data imported before the audit trail).
pub fn consent_proof(c: &customer::Model, flags: &[&str], entries: &[audit_entry::Model], at: DateTime<Utc>) -> serde_json::Value {
    let value = |flag: &str| match flag {
        "emailOptIn" => c.email_opt_in,
        "specialOffers" => c.special_offers,
        "birthdayOffers" => c.birthday_offers,
        "anniversaryOffers" => c.anniversary_offers,
        "smsOptIn" => c.sms_opt_in,
        _ => c.push_opt_in,
    };
    let mut proof = serde_json::Map::new();
    for flag in flags {
        let granted = entries
            .iter()
            .find(|e| e.customer_id == Some(c.id) && e.details.get("flag").and_then(|f| f.as_str()) == Some(flag))
            .map(|e| serde_json::json!({ "auditEntryId": e.id, "at": e.created_at, "source": e.details.get("source"), "actor": e.actor }));
        proof.insert(flag.to_string(), serde_json::json!({ "value": value(flag), "grantedBy": granted }));
    }
    serde_json::json!({ "checkedAt": at, "flags": proof })
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Sent to `to` (the address sealed, as [`Recipient::sealed_email`]), relying on this
    /// consent (see [`consent_proof`]).
    Sent { consent: serde_json::Value, to: Option<String> },
    /// Not sent, for good (consent withdrawn, customer gone …).
    Skipped(String),
    /// Failed; try again at this time.
    Retry { at: DateTime<Utc>, error: String },
    /// Failed for good.
    Failed(String),
}

/// Records how the sends of claimed rows ended, in one transaction: one commit for the
/// outcomes a worker collected (a commit per email bound the send rate to the disk's flushes).
pub async fn record<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, outcomes: Vec<(i64, SendResult)>) -> DomainResult<()> {
    use email_delivery::Column as E;
    if outcomes.is_empty() {
        return Ok(());
    }
    let now = crate::ops::now();
    let txn = db.begin().await?;
    for (id, result) in outcomes {
        let update = email_delivery::Entity::update_many()
            .col_expr(E::UpdatedAt, Expr::value(now))
            .filter(E::Id.eq(id))
            .filter(E::RestaurantId.eq(&scope.restaurant_id));
        let update = match result {
            SendResult::Sent { consent, to } => update
                .col_expr(E::Consent, Expr::value(consent))
                .col_expr(E::SentTo, Expr::value(to))
                .col_expr(E::Status, Expr::value(DeliveryStatus::Sent))
                .col_expr(E::SentAt, Expr::value(now))
                .col_expr(E::LastError, Expr::value(Option::<String>::None)),
            SendResult::Skipped(why) => update.col_expr(E::Status, Expr::value(DeliveryStatus::Skipped)).col_expr(E::LastError, Expr::value(why)),
            SendResult::Retry { at, error } => update
                .col_expr(E::Status, Expr::value(DeliveryStatus::Pending))
                .col_expr(E::NextAttemptAt, Expr::value(at))
                .col_expr(E::LastError, Expr::value(error)),
            SendResult::Failed(error) => update.col_expr(E::Status, Expr::value(DeliveryStatus::Failed)).col_expr(E::LastError, Expr::value(error)),
        };
        update.exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// How many deliveries of `campaign` are in each status.
pub async fn status_counts(db: &impl ConnectionTrait, scope: &Scope, campaign: Campaign) -> DomainResult<Vec<(DeliveryStatus, i64)>> {
    use email_delivery::Column as E;
    Ok(email_delivery::Entity::find()
        .select_only()
        .column(E::Status)
        .column_as(E::Id.count(), "n")
        .filter(E::RestaurantId.eq(&scope.restaurant_id))
        .filter(E::Campaign.eq(campaign.name()))
        .group_by(E::Status)
        .into_tuple::<(DeliveryStatus, i64)>()
        .all(db)
        .await?)
}

/// Returns emails this process claimed but did not send (it is stopping) to `pending`, due at
/// once, so another replica sends them now; rows already recorded are left alone. Returns how
/// many were handed back. The ids are the process's own claims, whatever their restaurant.
pub async fn hand_back(db: &impl ConnectionTrait, ids: &[i64]) -> DomainResult<u64> {
    let update = Query::update()
        .table(email_delivery::Entity)
        .value(email_delivery::Column::Status, Expr::value(DeliveryStatus::Pending))
        .value(email_delivery::Column::NextAttemptAt, Expr::value(crate::ops::now()))
        .and_where(email_delivery::Column::Id.is_in(ids.iter().copied()))
        .and_where(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected())
}

/// The emails waiting to be sent, per restaurant: how many, and since when the oldest waits
/// (the creation of its lowest id). An operator's view across restaurants, for `/metrics`; it
/// names no customer. Each restaurant's figures come from its range of the claim index
/// `(restaurant_id, status, id)`: no index of its own that every enqueued email would enter.
pub async fn backlog(db: &impl ConnectionTrait) -> DomainResult<Vec<(String, i64, Option<DateTime<Utc>>)>> {
    use email_delivery::Column as E;
    const WAITING: [DeliveryStatus; 2] = [DeliveryStatus::Pending, DeliveryStatus::Sending];
    let of_restaurant = || Expr::col((email_delivery::Entity, E::RestaurantId)).equals((restaurant::Entity, restaurant::Column::Id));
    let count = Query::select().expr(E::Id.count()).from(email_delivery::Entity).and_where(of_restaurant()).and_where(E::Status.is_in(WAITING)).to_owned();
    let lowest = |status: DeliveryStatus| {
        Query::select().expr(E::Id.min()).from(email_delivery::Entity).and_where(of_restaurant()).and_where(E::Status.eq(status)).to_owned()
    };
    // The creation of the lowest id in each waiting status: two index probes (an `OR` of the
    // two would scan the table).
    let created = |status: DeliveryStatus| {
        let row = Query::select()
            .column(E::CreatedAt)
            .from(email_delivery::Entity)
            .and_where(Expr::col((email_delivery::Entity, E::Id)).eq(Expr::SubQuery(None, Box::new(lowest(status).into()))))
            .to_owned();
        Expr::SubQuery(None, Box::new(row.into()))
    };
    type Row = (String, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = restaurant::Entity::find()
        .select_only()
        .column(restaurant::Column::Id)
        .expr_as(Expr::SubQuery(None, Box::new(count.into())), "n")
        .expr_as(created(DeliveryStatus::Pending), "oldest_pending")
        .expr_as(created(DeliveryStatus::Sending), "oldest_sending")
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, n, _, _)| *n > 0)
        .map(|(restaurant, n, pending, sending)| (restaurant, n, pending.into_iter().chain(sending).min()))
        .collect())
}

/// One page of deliveries, newest first, after the delivery `after`, each with its address
/// opened: where it went, or for one not sent, where it will go (the member's address now).
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &DeliveryFilter,
    after: Option<i64>,
    first: u64,
) -> DomainResult<crate::ops::Paged<Listed>> {
    use email_delivery::Column as E;
    let mut q = email_delivery::Entity::find().filter(E::RestaurantId.eq(&scope.restaurant_id));
    if let Some(name) = filter.campaign {
        q = q.filter(E::Campaign.eq(name));
    }
    if let Some(id) = filter.customer_id {
        q = q.filter(E::CustomerId.eq(id));
    }
    if let Some(s) = filter.status {
        q = q.filter(E::Status.eq(s));
    }
    let page = crate::ops::newest_page(db, q, E::Id, after, first).await?;
    let unsent: Vec<i64> = page.items.iter().filter(|d| d.sent_at.is_none()).map(|d| d.customer_id).collect();
    let current = personal::rows(db, scope, &unsent).await?;
    let mut page = page.map(|delivery| {
        let email = match delivery.sent_at {
            Some(_) => delivery.sent_to.clone(),
            None => current.get(&delivery.customer_id).and_then(|p| p.email.as_ref()).map(|e| e.0.clone()),
        };
        Listed { delivery, email }
    });
    personal::open_emails(scope, page.items.iter_mut().filter_map(|l| l.email.as_mut())).await?;
    Ok(page)
}

/// A delivery as [`list`] shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub delivery: email_delivery::Model,
    /// Where it went (sent) or will go (not sent yet), opened; none when there is no address.
    pub email: Option<String>,
}

/// Which deliveries [`list`] shows.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// The campaign's stored name (a kind's name, or `custom` for every marketer's campaign).
    pub campaign: Option<&'static str>,
    pub customer_id: Option<i64>,
    pub status: Option<DeliveryStatus>,
}
