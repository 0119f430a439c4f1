//! Retention, per restaurant: what piles up is purged once past the restaurant's window, in
//! small batches (each its own short statement, so no lock is held for long) — idempotency
//! keys (a retry after the window is a new request), finished job runs, finished deliveries
//! (never pending or sending ones). The audit trail is kept. And, when the restaurant asks for
//! it, members without any activity for so many months are erased as `eraseCustomer` does
//! (one audit entry each), the spec's "regular data cleanup for inactive customers".

use chrono::{DateTime, Duration, Months, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use crate::entities::{DeliveryStatus, RunOutcome, customer, email_delivery, idempotency_key, job_run};
use crate::marketing::automations::{DRY_RUN_LIST, Recipient};
use crate::rules::programme::Programme;
use crate::{DomainResult, Scope};

/// Rows one delete statement removes at most.
const BATCH: u64 = 1_000;

/// What a retention run purged and erased (a dry run: would).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub idempotency_keys: u64,
    pub job_runs: u64,
    pub deliveries: u64,
    /// Members erased for inactivity.
    pub erased: u64,
    /// Dry runs: the members who would be erased.
    pub recipients: Vec<Recipient>,
}

impl Purged {
    /// Rows purged in all.
    pub fn rows(&self) -> u64 {
        self.idempotency_keys + self.job_runs + self.deliveries
    }
}

/// The members of the scope's restaurant that the inactivity policy erases at `now`: no
/// activity since the cutoff — no earning, redeeming or visit (`last_activity_at`) and no
/// profile change (`updated_at`) — not erased already.
fn inactive(scope: &Scope, cutoff: DateTime<Utc>) -> Condition {
    use customer::Column as C;
    Condition::all()
        .add(C::RestaurantId.eq(&scope.restaurant_id))
        .add(C::LastActivityAt.lt(cutoff))
        .add(C::UpdatedAt.lt(cutoff))
        .add(C::MemberSince.lt(cutoff))
        .add(super::privacy::not_erased())
}

/// Applies the scope's restaurant's retention at `now`.
pub async fn run<D: ConnectionTrait + TransactionTrait>(db: &D, scope: &Scope, p: &Programme, now: DateTime<Utc>, dry_run: bool) -> DomainResult<Purged> {
    let r = p.retention;
    let keys_before = now - Duration::days(i64::from(r.idempotency_days));
    let runs_before = now - Duration::days(i64::from(r.job_run_days));
    let deliveries_before = now - Duration::days(i64::from(r.delivery_days));
    let finished = [DeliveryStatus::Sent, DeliveryStatus::Failed, DeliveryStatus::Skipped, DeliveryStatus::HeldOut];
    let keys = || Condition::all().add(idempotency_key::Column::RestaurantId.eq(&scope.restaurant_id)).add(idempotency_key::Column::CreatedAt.lt(keys_before));
    let runs = || {
        Condition::all()
            .add(job_run::Column::RestaurantId.eq(&scope.restaurant_id))
            .add(job_run::Column::StartedAt.lt(runs_before))
            .add(job_run::Column::Outcome.ne(RunOutcome::Running))
    };
    let deliveries = || {
        Condition::all()
            .add(email_delivery::Column::RestaurantId.eq(&scope.restaurant_id))
            .add(email_delivery::Column::CreatedAt.lt(deliveries_before))
            .add(email_delivery::Column::Status.is_in(finished))
    };
    let cutoff = (r.erase_inactive_months > 0).then(|| now.checked_sub_months(Months::new(r.erase_inactive_months)).unwrap_or(now));

    let mut out = Purged::default();
    if dry_run {
        out.idempotency_keys = idempotency_key::Entity::find().filter(keys()).count(db).await?;
        out.job_runs = job_run::Entity::find().filter(runs()).count(db).await?;
        out.deliveries = email_delivery::Entity::find().filter(deliveries()).count(db).await?;
        if let Some(cutoff) = cutoff {
            out.erased = customer::Entity::find().filter(inactive(scope, cutoff)).count(db).await?;
            let rows = customer::Entity::find().filter(inactive(scope, cutoff)).order_by_asc(customer::Column::Id).limit(DRY_RUN_LIST).all(db).await?;
            out.recipients = Recipient::of_all(db, scope, rows, None).await?;
        }
        return Ok(out);
    }

    loop {
        let batch = Query::select().column(idempotency_key::Column::Key).from(idempotency_key::Entity).cond_where(keys()).limit(BATCH).to_owned();
        let delete = Query::delete()
            .from_table(idempotency_key::Entity)
            .and_where(idempotency_key::Column::RestaurantId.eq(&scope.restaurant_id))
            .and_where(idempotency_key::Column::Key.in_subquery(batch))
            .to_owned();
        let n = db.execute(&delete).await?.rows_affected();
        out.idempotency_keys += n;
        if n < BATCH {
            break;
        }
    }
    out.job_runs = delete_by_id(db, job_run::Entity, job_run::Column::Id, runs()).await?;
    out.deliveries = delete_by_id(db, email_delivery::Entity, email_delivery::Column::Id, deliveries()).await?;
    if let Some(cutoff) = cutoff {
        loop {
            let ids: Vec<i64> = customer::Entity::find()
                .select_only()
                .column(customer::Column::Id)
                .filter(inactive(scope, cutoff))
                .order_by_asc(customer::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(db)
                .await?;
            for id in &ids {
                super::privacy::erase(db, scope, *id).await?;
            }
            out.erased += ids.len() as u64;
            if (ids.len() as u64) < BATCH {
                break;
            }
        }
    }
    Ok(out)
}

/// Deletes the rows matching `which` in batches of [`BATCH`] by their id; returns how many.
async fn delete_by_id<E: EntityTrait>(db: &impl ConnectionTrait, table: E, id: E::Column, which: Condition) -> DomainResult<u64> {
    let mut deleted = 0;
    loop {
        let batch = Query::select().column(id).from(table).cond_where(which.clone()).limit(BATCH).to_owned();
        let delete = Query::delete().from_table(table).and_where(Expr::col(id).in_subquery(batch)).to_owned();
        let n = db.execute(&delete).await?.rows_affected();
        deleted += n;
        if n < BATCH {
            return Ok(deleted);
        }
    }
}
