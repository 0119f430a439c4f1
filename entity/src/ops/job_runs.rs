//! The record of job runs, per restaurant. A scheduled run first inserts its
//! `(job, restaurant, scheduled_for)` row; the unique index lets exactly one replica do so, on
//! SQLite and PostgreSQL alike. A running run beats its heartbeat; one whose heartbeat stopped
//! (its replica died) is marked `abandoned`, and its slot can be claimed again. A run asked for
//! through the API starts unless the same job runs so for the restaurant now: a partial unique
//! index over running API runs lets one start, across replicas.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr};

use super::now;
use crate::entities::{RunOutcome, RunTrigger, job_run};
use crate::{DomainError, DomainResult, Scope};

/// A run whose heartbeat is older than this is taken to be from a replica that died.
pub const STALE_RUN_SECS: i64 = 90;

/// Records the start of a run of `job` for the scope's restaurant. With `slot` (a scheduled
/// run) returns `None` when the slot is taken: run by another replica, or running there now.
/// An abandoned slot is claimed again. An API run is refused with `InvalidState` while another
/// API run of the job is running for the restaurant; the CLI's runs always start.
pub async fn start(
    db: &impl ConnectionTrait,
    scope: &Scope,
    job: &str,
    trigger: RunTrigger,
    dry_run: bool,
    slot: Option<DateTime<Utc>>,
) -> DomainResult<Option<job_run::Model>> {
    let at = now();
    let row = job_run::ActiveModel {
        job: Set(job.to_string()),
        restaurant_id: Set(scope.restaurant_id.clone()),
        scheduled_for: Set(slot),
        trigger: Set(trigger),
        dry_run: Set(dry_run),
        started_at: Set(at),
        heartbeat_at: Set(Some(at)),
        finished_at: Set(None),
        outcome: Set(RunOutcome::Running),
        counts: Set(serde_json::json!({})),
        error: Set(None),
        ..Default::default()
    };
    let Some(slot) = slot else {
        return match trigger {
            RunTrigger::Api => start_api(db, scope, job, row).await.map(Some),
            _ => Ok(Some(row.insert(db).await?)),
        };
    };
    use job_run::Column as J;
    let inserted = job_run::Entity::insert(row)
        .on_conflict(OnConflict::columns([J::Job, J::RestaurantId, J::ScheduledFor]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let find = || job_run::Entity::find().filter(J::Job.eq(job)).filter(J::RestaurantId.eq(&scope.restaurant_id)).filter(J::ScheduledFor.eq(slot));
    if inserted == 1 {
        return Ok(find().one(db).await?);
    }
    let reclaimed = job_run::Entity::update_many()
        .col_expr(J::Outcome, Expr::value(RunOutcome::Running))
        .col_expr(J::Trigger, Expr::value(RunTrigger::CatchUp))
        .col_expr(J::StartedAt, Expr::value(at))
        .col_expr(J::HeartbeatAt, Expr::value(at))
        .col_expr(J::FinishedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(J::Error, Expr::value(Option::<String>::None))
        .filter(J::Job.eq(job))
        .filter(J::RestaurantId.eq(&scope.restaurant_id))
        .filter(J::ScheduledFor.eq(slot))
        .filter(J::Outcome.eq(RunOutcome::Abandoned))
        .exec(db)
        .await?;
    if reclaimed.rows_affected == 1 { Ok(find().one(db).await?) } else { Ok(None) }
}

/// Inserts an API run; when one of the job is running for the restaurant, frees it if its
/// heartbeat stopped (its replica died) and tries once more, else refuses.
async fn start_api(db: &impl ConnectionTrait, scope: &Scope, job: &str, row: job_run::ActiveModel) -> DomainResult<job_run::Model> {
    use job_run::Column as J;
    let running = || {
        job_run::Entity::find()
            .filter(J::Job.eq(job))
            .filter(J::RestaurantId.eq(&scope.restaurant_id))
            .filter(J::Trigger.eq(RunTrigger::Api))
            .filter(J::Outcome.eq(RunOutcome::Running))
    };
    for attempt in 0..2 {
        match row.clone().insert(db).await {
            Ok(run) => return Ok(run),
            Err(e) if attempt == 0 && matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                job_run::Entity::update_many()
                    .col_expr(J::Outcome, Expr::value(RunOutcome::Abandoned))
                    .col_expr(J::FinishedAt, Expr::value(now()))
                    .col_expr(J::Error, Expr::value("its replica stopped beating its heartbeat"))
                    .filter(J::Job.eq(job))
                    .filter(J::RestaurantId.eq(&scope.restaurant_id))
                    .filter(J::Trigger.eq(RunTrigger::Api))
                    .filter(J::Outcome.eq(RunOutcome::Running))
                    .filter(J::HeartbeatAt.lt(now() - Duration::seconds(STALE_RUN_SECS)))
                    .exec(db)
                    .await?;
            }
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let other = running().one(db).await?;
    let since = other.map(|r| format!(" (run {}, started {})", r.id, r.started_at.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_default();
    Err(DomainError::invalid_state(format!("job {job} is already running for this restaurant{since}: wait for it to finish")))
}

/// Marks a running run alive.
pub async fn heartbeat(db: &impl ConnectionTrait, run_id: i64) -> DomainResult<()> {
    job_run::Entity::update_many()
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(now()))
        .filter(job_run::Column::Id.eq(run_id))
        .filter(job_run::Column::Outcome.eq(RunOutcome::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// Records how a run ended: its counts, or its error.
pub async fn finish(db: &impl ConnectionTrait, run: job_run::Model, result: Result<serde_json::Value, String>) -> DomainResult<job_run::Model> {
    let mut active: job_run::ActiveModel = run.into();
    active.finished_at = Set(Some(now()));
    match result {
        Ok(counts) => {
            active.outcome = Set(RunOutcome::Succeeded);
            active.counts = Set(counts);
        }
        Err(error) => {
            active.outcome = Set(RunOutcome::Failed);
            active.error = Set(Some(error));
        }
    }
    Ok(active.update(db).await?)
}

/// Marks runs still `running` whose heartbeat is older than `stale_before` as `abandoned`
/// (their replica died), in every restaurant; returns how many. Scheduler housekeeping.
pub async fn abandon_stale(db: &impl ConnectionTrait, stale_before: DateTime<Utc>) -> DomainResult<u64> {
    use job_run::Column as J;
    Ok(job_run::Entity::update_many()
        .col_expr(J::Outcome, Expr::value(RunOutcome::Abandoned))
        .col_expr(J::FinishedAt, Expr::value(now()))
        .col_expr(J::Error, Expr::value("its replica stopped beating its heartbeat"))
        .filter(J::Outcome.eq(RunOutcome::Running))
        .filter(J::HeartbeatAt.lt(stale_before))
        .exec(db)
        .await?
        .rows_affected)
}

/// `(job, slot)` of the scope's scheduled runs of slots after `since` that ran or are running
/// (abandoned ones are not: their slots are still to be run).
pub async fn slots_since(db: &impl ConnectionTrait, scope: &Scope, since: DateTime<Utc>) -> DomainResult<Vec<(String, DateTime<Utc>)>> {
    use job_run::Column as J;
    let rows: Vec<(String, Option<DateTime<Utc>>)> = job_run::Entity::find()
        .select_only()
        .column(J::Job)
        .column(J::ScheduledFor)
        .filter(J::RestaurantId.eq(&scope.restaurant_id))
        .filter(J::ScheduledFor.gt(since))
        .filter(J::Outcome.ne(RunOutcome::Abandoned))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(job, slot)| Some((job, slot?))).collect())
}

/// The scope's newest runs, optionally of one job.
/// One page of the scope's runs, newest first (optionally of one job), after the run `after`.
pub async fn page(db: &impl ConnectionTrait, scope: &Scope, job: Option<&str>, after: Option<i64>, first: u64) -> DomainResult<super::Paged<job_run::Model>> {
    use job_run::Column as J;
    let mut q = job_run::Entity::find().filter(J::RestaurantId.eq(&scope.restaurant_id));
    if let Some(job) = job {
        q = q.filter(J::Job.eq(job));
    }
    Ok(super::newest_page(db, q, J::Id, after, first).await?)
}

/// The scope's newest `limit` runs (optionally of one job).
pub async fn recent(db: &impl ConnectionTrait, scope: &Scope, job: Option<&str>, limit: u64) -> DomainResult<Vec<job_run::Model>> {
    use job_run::Column as J;
    let mut q = job_run::Entity::find().filter(J::RestaurantId.eq(&scope.restaurant_id)).order_by_desc(J::Id).limit(limit);
    if let Some(job) = job {
        q = q.filter(J::Job.eq(job));
    }
    Ok(q.all(db).await?)
}
