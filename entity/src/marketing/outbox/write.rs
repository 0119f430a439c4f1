//! The one way an email enters the outbox.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, InsertStatement, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, TransactionTrait};

use crate::entities::{DeliveryStatus, customer, email_delivery};
use crate::marketing::kinds::{CUSTOM, Campaign};
use crate::{DomainError, DomainResult};

/// Rows written per statement.
const ENQUEUE_BATCH: usize = 2_000;

/// What a batch of emails is: its kind and period (the key that makes it once per member), and
/// for a marketer's campaign its campaign and send.
pub struct Letter {
    kind: &'static str,
    /// A value, or a column expression of `customers` (at-risk: the last visit).
    period: SimpleExpr,
    occasion_date: Option<NaiveDate>,
    /// `pending`, or an expression of `customers` that holds some out.
    status: SimpleExpr,
    campaign_id: Option<i64>,
    send_id: Option<i64>,
}

impl Letter {
    /// An email of a built-in campaign for `period`.
    pub fn builtin(campaign: Campaign, period: impl Into<SimpleExpr>, occasion_date: Option<NaiveDate>) -> Self {
        Self { kind: campaign.name(), period: period.into(), occasion_date, status: Expr::value(DeliveryStatus::Pending), campaign_id: None, send_id: None }
    }

    /// An email of send `send_id` of a marketer's campaign; `status` decides who is held out.
    pub fn custom(campaign_id: i64, send_id: i64, status: SimpleExpr) -> Self {
        Self {
            kind: CUSTOM,
            period: Expr::value(format!("send-{send_id}")),
            occasion_date: None,
            status,
            campaign_id: Some(campaign_id),
            send_id: Some(send_id),
        }
    }
}

/// Writes `letter` for each of `customers` of restaurant `restaurant_id` that has an email
/// address, unless that member already has it for the same period (`ON CONFLICT DO NOTHING`:
/// a rerun, a retry or a second replica writes nothing twice); returns how many it wrote.
/// Consent and the frequency cap are the caller's to have checked. For a member or a few;
/// campaigns write with [`enqueue_many`].
pub async fn enqueue(db: &impl ConnectionTrait, restaurant_id: &str, letter: &Letter, customers: &[i64], now: DateTime<Utc>) -> DomainResult<u64> {
    let mut written = 0;
    for chunk in customers.chunks(ENQUEUE_BATCH) {
        let insert = insert_of(restaurant_id, letter, chunk, now)?.on_conflict(once()).to_owned();
        written += db.execute(&insert).await?.rows_affected();
    }
    Ok(written)
}

/// [`enqueue`] for a campaign's thousands: each batch written as a plain insert, and with `ON
/// CONFLICT DO NOTHING` only when it meets a row that exists ([`crate::tx::insert_once`]).
pub async fn enqueue_many(
    db: &(impl ConnectionTrait + TransactionTrait),
    restaurant_id: &str,
    letter: &Letter,
    customers: &[i64],
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    let mut written = 0;
    for chunk in customers.chunks(ENQUEUE_BATCH) {
        written += crate::tx::insert_once(db, &insert_of(restaurant_id, letter, chunk, now)?, once()).await?;
    }
    Ok(written)
}

/// One email per member, campaign and period.
fn once() -> OnConflict {
    use email_delivery::Column as E;
    OnConflict::columns([E::CustomerId, E::Campaign, E::PeriodKey]).do_nothing().to_owned()
}

/// The `INSERT … SELECT` of `letter` for `customers` that have an email address (its blind
/// index is set; the address itself is read when the email is sent).
fn insert_of(restaurant_id: &str, letter: &Letter, customers: &[i64], now: DateTime<Utc>) -> DomainResult<InsertStatement> {
    use customer::Column as C;
    use email_delivery::Column as E;
    let select = Query::select()
        .column(C::RestaurantId)
        .column(C::Id)
        .expr(Expr::value(letter.kind))
        .expr(letter.period.clone())
        .expr(Expr::value(letter.occasion_date))
        .expr(Expr::value(""))
        .expr(letter.status.clone())
        .expr(Expr::value(0))
        .expr(Expr::value(now))
        .expr(Expr::value(now))
        .expr(Expr::value(now))
        .expr(Expr::value(letter.campaign_id))
        .expr(Expr::value(letter.send_id))
        .from(customer::Entity)
        .and_where(C::Id.is_in(customers.iter().copied()))
        .and_where(C::RestaurantId.eq(restaurant_id))
        .and_where(C::EmailIndex.is_not_null())
        .to_owned();
    let columns = [
        E::RestaurantId,
        E::CustomerId,
        E::Campaign,
        E::PeriodKey,
        E::OccasionDate,
        E::Email,
        E::Status,
        E::Attempts,
        E::NextAttemptAt,
        E::CreatedAt,
        E::UpdatedAt,
        E::CampaignId,
        E::SendId,
    ];
    Ok(Query::insert().into_table(email_delivery::Entity).columns(columns).select_from(select).map_err(|e| DomainError::internal(e.to_string()))?.to_owned())
}
