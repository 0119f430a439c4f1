//! Sending marketer-built campaigns. A due campaign is taken by one worker with a conditional
//! update (`scheduled` → `sending`) in the same transaction that writes its send row (unique per
//! campaign and slot), so replicas never start a slot twice. The send then writes one delivery
//! per recipient (`INSERT … SELECT … ON CONFLICT DO NOTHING` on the deliveries' unique key
//! `(customer, "custom", "send-ID")`) in batches, beating `claimed_at`; a send whose worker died
//! is taken over and finishes without duplicates. The delivery job sends the rows (consent is
//! checked again right before), and [`finish`] closes sends whose rows are all final.

pub use super::figures::{Figures, SendReport, Totals, reports, totals};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};

use super::audience::{self, Breakdown};
use super::campaigns::{consent_of, target_of};
use super::outbox::{self, Letter};
use crate::entities::{CampaignState, DeliveryStatus, ScheduleKind, SendState, campaign, campaign_send, customer, email_delivery};
use crate::ops::{begin_write, now};
use crate::rules::programme::Programme;
use crate::rules::schedule;
use crate::{DomainError, DomainResult, Scope};

/// Deliveries written per statement.
const BATCH: usize = 2_000;
/// A send whose `claimed_at` is older than this is taken to be from a worker that died.
pub const STALE_ENQUEUE_SECS: i64 = 120;
/// The `campaign` value of marketer-built campaigns' deliveries.
pub const CUSTOM: &str = "custom";

/// What starting and enqueuing sends did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enqueued {
    pub sends: u64,
    pub enqueued: u64,
    pub left_out: u64,
    pub capped: u64,
}

/// Whether any restaurant has a campaign due at `now` or a send whose worker died (one cheap
/// query the scheduler asks each minute).
pub async fn restaurants_with_work(db: &impl ConnectionTrait, now: DateTime<Utc>) -> DomainResult<Vec<String>> {
    let mut ids: Vec<String> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::RestaurantId)
        .filter(campaign::Column::State.eq(CampaignState::Scheduled))
        .filter(campaign::Column::NextRunAt.lte(now))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let stale: Vec<String> = campaign_send::Entity::find()
        .select_only()
        .column(campaign_send::Column::RestaurantId)
        .filter(campaign_send::Column::State.eq(SendState::Enqueuing))
        .filter(campaign_send::Column::ClaimedAt.lt(now - Duration::seconds(STALE_ENQUEUE_SECS)))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    ids.extend(stale);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Takes one due campaign: `scheduled` → `sending`, with its send row, in one transaction.
/// Returns `None` when another worker took it first.
async fn start<D: ConnectionTrait + TransactionTrait>(
    db: &D,
    scope: &Scope,
    p: &Programme,
    c: &campaign::Model,
    now: DateTime<Utc>,
) -> DomainResult<Option<campaign_send::Model>> {
    let Some(slot) = c.next_run_at else { return Ok(None) };
    let next = match (c.schedule_kind, &c.cron) {
        (Some(ScheduleKind::Recurring), Some(expr)) => {
            schedule::parse_cron(expr).ok().and_then(|cron| schedule::next_after(&cron, p.timezone, std::cmp::max(now, slot)))
        }
        _ => None,
    };
    let txn = begin_write(db).await?;
    let taken = campaign::Entity::update_many()
        .col_expr(campaign::Column::State, Expr::value(CampaignState::Sending))
        .col_expr(campaign::Column::NextRunAt, Expr::value(next))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(now))
        .filter(campaign::Column::Id.eq(c.id))
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::State.eq(CampaignState::Scheduled))
        .filter(campaign::Column::NextRunAt.eq(slot))
        .exec(&txn)
        .await?;
    if taken.rows_affected == 0 {
        return Ok(None);
    }
    let send = campaign_send::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        campaign_id: Set(c.id),
        slot: Set(slot),
        state: Set(SendState::Enqueuing),
        audience: Set(0),
        no_email: Set(0),
        no_consent: Set(0),
        blocked: Set(0),
        capped: Set(0),
        claimed_at: Set(Some(now)),
        started_at: Set(now),
        enqueued_at: Set(None),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(send))
}

/// Sends whose worker died mid-enqueue, taken over by this worker.
async fn take_stale(db: &impl ConnectionTrait, scope: &Scope, now: DateTime<Utc>) -> DomainResult<Vec<campaign_send::Model>> {
    let stale = campaign_send::Entity::find()
        .filter(campaign_send::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign_send::Column::State.eq(SendState::Enqueuing))
        .filter(campaign_send::Column::ClaimedAt.lt(now - Duration::seconds(STALE_ENQUEUE_SECS)))
        .all(db)
        .await?;
    let mut taken = Vec::new();
    for s in stale {
        let done = campaign_send::Entity::update_many()
            .col_expr(campaign_send::Column::ClaimedAt, Expr::value(now))
            .filter(campaign_send::Column::Id.eq(s.id))
            .filter(campaign_send::Column::ClaimedAt.eq(s.claimed_at))
            .exec(db)
            .await?;
        if done.rows_affected == 1 {
            taken.push(s);
        }
    }
    Ok(taken)
}

/// Starts every due campaign of the restaurant and writes the deliveries of its sends (and of
/// sends a dead worker left half-written).
pub async fn enqueue_due<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, p: &Programme, now: DateTime<Utc>) -> DomainResult<Enqueued> {
    let due = campaign::Entity::find()
        .filter(campaign::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign::Column::State.eq(CampaignState::Scheduled))
        .filter(campaign::Column::NextRunAt.lte(now))
        .order_by_asc(campaign::Column::NextRunAt)
        .all(db)
        .await?;
    let mut sends = Vec::new();
    for c in &due {
        if let Some(send) = start(db, scope, p, c, now).await? {
            sends.push(send);
        }
    }
    sends.extend(take_stale(db, scope, now).await?);
    let mut report = Enqueued::default();
    for send in sends {
        let c = super::campaigns::get(db, scope, send.campaign_id).await?;
        let b = enqueue(db, scope, p, &c, &send, now).await?;
        report.sends += 1;
        report.left_out += b.no_email + b.no_consent + b.blocked + b.capped;
        report.capped += b.capped;
        report.enqueued += enqueued_count(db, send.id).await?;
    }
    Ok(report)
}

async fn enqueued_count(db: &impl ConnectionTrait, send_id: i64) -> DomainResult<u64> {
    Ok(email_delivery::Entity::find().filter(email_delivery::Column::SendId.eq(send_id)).count(db).await?)
}

/// Writes one send's deliveries: records who is left out and why, then one row per eligible
/// member, in batches; members who share an address get one email between them (the
/// longest-standing member's). Stops (and marks the send cancelled) if the campaign is cancelled
/// meanwhile.
async fn enqueue(
    db: &(impl ConnectionTrait + TransactionTrait),
    scope: &Scope,
    p: &Programme,
    c: &campaign::Model,
    send: &campaign_send::Model,
    now: DateTime<Utc>,
) -> DomainResult<Breakdown> {
    use customer::Column as C;
    use email_delivery::Column as E;
    let audience_cond = audience::condition(db, scope, p, &target_of(c)?, now).await?;
    let own = Condition::any().add(E::SendId.is_null()).add(E::SendId.ne(send.id));
    let groups = audience::groups(audience_cond, consent_of(c), p, now, Some(own));
    let b = audience::breakdown(db, &groups).await?;
    campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::Audience, Expr::value(b.audience as i64))
        .col_expr(campaign_send::Column::NoEmail, Expr::value(b.no_email as i64))
        .col_expr(campaign_send::Column::NoConsent, Expr::value(b.no_consent as i64))
        .col_expr(campaign_send::Column::Blocked, Expr::value(b.blocked as i64))
        .col_expr(campaign_send::Column::Capped, Expr::value(b.capped as i64))
        .filter(campaign_send::Column::Id.eq(send.id))
        .exec(db)
        .await?;
    let members =
        customer::Entity::find().select_only().column(C::Id).column(C::EmailIndex).filter(groups.eligible).order_by_asc(C::Id).into_tuple().all(db).await?;
    let ids = crate::rules::audience::one_per_address(members);
    for chunk in ids.chunks(BATCH) {
        let state: Option<CampaignState> = campaign::Entity::find_by_id(c.id).select_only().column(campaign::Column::State).into_tuple().one(db).await?;
        if state == Some(CampaignState::Cancelled) {
            return Ok(b);
        }
        // The control group: a stable pseudo-random share of members per campaign (the same
        // members are held out of every send of it), decided in SQL.
        let held_out = Expr::col((customer::Entity, C::Id)).mul(2_654_435_761_i64).add(c.id * 7_919).modulo(100).lt(c.holdout_percent);
        let status = Expr::case(held_out, Expr::value(DeliveryStatus::HeldOut)).finally(Expr::value(DeliveryStatus::Pending));
        outbox::enqueue_many(db, &scope.restaurant_id, &Letter::custom(c.id, send.id, status.into()), chunk, now).await?;
        campaign_send::Entity::update_many()
            .col_expr(campaign_send::Column::ClaimedAt, Expr::value(crate::ops::now()))
            .filter(campaign_send::Column::Id.eq(send.id))
            .exec(db)
            .await?;
    }
    crate::ops::dialect::refresh_statistics(db, "email_deliveries", ids.len() as u64).await?;
    campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::State, Expr::value(SendState::Enqueued))
        .col_expr(campaign_send::Column::EnqueuedAt, Expr::value(crate::ops::now()))
        .filter(campaign_send::Column::Id.eq(send.id))
        .filter(campaign_send::Column::State.eq(SendState::Enqueuing))
        .exec(db)
        .await?;
    Ok(b)
}

/// Closes the restaurant's enqueued sends whose deliveries are all final: the send is `done`;
/// its campaign `sent` (one-off) or `scheduled` again (recurring), and a `campaign.sent` event
/// written in the same transaction (once: the close is a conditional update). Returns how many
/// closed.
pub async fn finish(db: &(impl ConnectionTrait + TransactionTrait), scope: &Scope) -> DomainResult<u64> {
    use email_delivery::Column as E;
    let open = campaign_send::Entity::find()
        .filter(campaign_send::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(campaign_send::Column::State.eq(SendState::Enqueued))
        .all(db)
        .await?;
    let mut closed = 0;
    for send in open {
        let unfinished = email_delivery::Entity::find()
            .filter(E::SendId.eq(send.id))
            .filter(E::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Sending]))
            .count(db)
            .await?;
        if unfinished == 0 && close(db, scope, &send).await? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Closes `send` (all its deliveries final) and its campaign, with the `campaign.sent` event, in
/// one transaction; false when another worker closed it first.
async fn close(db: &impl TransactionTrait, scope: &Scope, send: &campaign_send::Model) -> DomainResult<bool> {
    let txn = begin_write(db).await?;
    let at = now();
    let done = campaign_send::Entity::update_many()
        .col_expr(campaign_send::Column::State, Expr::value(SendState::Done))
        .col_expr(campaign_send::Column::FinishedAt, Expr::value(at))
        .filter(campaign_send::Column::Id.eq(send.id))
        .filter(campaign_send::Column::State.eq(SendState::Enqueued))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    let c = super::campaigns::get(&txn, scope, send.campaign_id).await?;
    let recurring = c.schedule_kind == Some(ScheduleKind::Recurring) && c.next_run_at.is_some();
    let (state, sent_at) = if recurring { (CampaignState::Scheduled, c.sent_at) } else { (CampaignState::Sent, Some(at)) };
    campaign::Entity::update_many()
        .col_expr(campaign::Column::State, Expr::value(state))
        .col_expr(campaign::Column::SentAt, Expr::value(sent_at))
        .col_expr(campaign::Column::UpdatedAt, Expr::value(at))
        .filter(campaign::Column::Id.eq(c.id))
        .filter(campaign::Column::State.eq(CampaignState::Sending))
        .exec(&txn)
        .await?;
    let statuses: Vec<(DeliveryStatus, i64)> = email_delivery::Entity::find()
        .select_only()
        .column(email_delivery::Column::Status)
        .column_as(email_delivery::Column::Id.count(), "n")
        .filter(email_delivery::Column::SendId.eq(send.id))
        .group_by(email_delivery::Column::Status)
        .into_tuple()
        .all(&txn)
        .await?;
    let data = crate::ops::webhooks::events::campaign_sent(&c, send, &statuses);
    crate::ops::webhooks::events::record(&txn, scope, "campaign.sent", data, at).await?;
    txn.commit().await?;
    Ok(true)
}

/// What one group of a send (its recipients, or its control group) did within the attribution
/// window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupResult {
    pub members: i64,
    /// Members with at least one visit in the window.
    pub visitors: i64,
    pub visits: i64,
    pub revenue_cents: i64,
    pub redemptions: i64,
}

/// A send's results: its recipients (emails sent) against its control group, over the
/// campaign's attribution window from the send's start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub days: i32,
    pub recipients: GroupResult,
    pub holdout: GroupResult,
}

/// The results of send `send_id` of the scope's restaurant, computed in SQL.
pub async fn attribution(db: &impl ConnectionTrait, scope: &Scope, send_id: i64) -> DomainResult<Attribution> {
    let send = campaign_send::Entity::find_by_id(send_id)
        .filter(campaign_send::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("send {send_id}")))?;
    let c = super::campaigns::get(db, scope, send.campaign_id).await?;
    let (from, to) = (send.started_at, send.started_at + Duration::days(i64::from(c.attribution_days)));
    let backend = db.get_database_backend();
    let ph = |n| crate::ops::dialect::placeholder(backend, n);
    let mut out = Attribution { days: c.attribution_days, ..Attribution::default() };
    for (status, group) in [(DeliveryStatus::Sent, &mut out.recipients), (DeliveryStatus::HeldOut, &mut out.holdout)] {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS members, \
                    CAST(COALESCE(SUM(CASE WHEN v.n > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS visitors, \
                    CAST(COALESCE(SUM(v.n), 0) AS BIGINT) AS visits, \
                    CAST(COALESCE(SUM(v.revenue), 0) AS BIGINT) AS revenue, \
                    CAST(COALESCE(SUM(r.n), 0) AS BIGINT) AS redemptions \
             FROM email_deliveries d \
             LEFT JOIN (SELECT customer_id, COUNT(*) AS n, SUM(amount_cents) AS revenue FROM visits \
                        WHERE restaurant_id = {p1} AND visited_at >= {p2} AND visited_at < {p3} GROUP BY customer_id) v ON v.customer_id = d.customer_id \
             LEFT JOIN (SELECT customer_id, COUNT(*) AS n FROM point_transactions \
                        WHERE restaurant_id = {p4} AND kind = 'redeem' AND delta < 0 AND created_at >= {p5} AND created_at < {p6} GROUP BY customer_id) r ON r.customer_id = d.customer_id \
             WHERE d.send_id = {p7} AND d.status = {p8}",
            p1 = ph(1),
            p2 = ph(2),
            p3 = ph(3),
            p4 = ph(4),
            p5 = ph(5),
            p6 = ph(6),
            p7 = ph(7),
            p8 = ph(8)
        );
        let values: Vec<sea_orm::Value> = vec![
            scope.restaurant_id.clone().into(),
            from.into(),
            to.into(),
            scope.restaurant_id.clone().into(),
            from.into(),
            to.into(),
            send.id.into(),
            sea_orm::ActiveEnum::to_value(&status).into(),
        ];
        let row = db.query_one_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?;
        if let Some(row) = row {
            let get = |c: &str| row.try_get::<i64>("", c).unwrap_or(0);
            *group = GroupResult {
                members: get("members"),
                visitors: get("visitors"),
                visits: get("visits"),
                revenue_cents: get("revenue"),
                redemptions: get("redemptions"),
            };
        }
    }
    Ok(out)
}
