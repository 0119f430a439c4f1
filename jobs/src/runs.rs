//! The record of job runs. A scheduled run first inserts its `(job, scheduled_for)` row; the
//! unique index lets exactly one replica do so, on SQLite and PostgreSQL alike.

use chrono::{DateTime, Utc};
use entity::entities::job_run;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{Job, JobError, JobReport, Trigger};

/// `(job, slot)` of the scheduled runs (on time or caught up) of slots after `since`.
pub async fn slots_since(db: &impl ConnectionTrait, since: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>, JobError> {
    let rows = job_run::Entity::find()
        .filter(job_run::Column::ScheduledFor.gt(since))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((r.job, r.scheduled_for?))).collect())
}

/// Records the start of a run; `None` if `slot` was already taken.
pub async fn start(
    db: &impl ConnectionTrait,
    job: Job,
    trigger: Trigger,
    dry_run: bool,
    slot: Option<DateTime<Utc>>,
) -> Result<Option<job_run::Model>, JobError> {
    let row = job_run::ActiveModel {
        job: Set(job.name().to_string()),
        scheduled_for: Set(slot),
        trigger: Set(trigger.name().to_string()),
        dry_run: Set(dry_run),
        started_at: Set(entity::ops::now()),
        finished_at: Set(None),
        outcome: Set("running".into()),
        counts: Set(serde_json::json!({})),
        error: Set(None),
        ..Default::default()
    };
    if slot.is_none() {
        return Ok(Some(row.insert(db).await?));
    }
    let inserted = job_run::Entity::insert(row)
        .on_conflict_do_nothing_on([job_run::Column::Job, job_run::Column::ScheduledFor])
        .exec_without_returning(db)
        .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(1)) {
        return Ok(None);
    }
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job.name()))
        .filter(job_run::Column::ScheduledFor.eq(slot))
        .one(db)
        .await?)
}

/// Records how a run ended.
pub async fn finish(
    db: &impl ConnectionTrait,
    run: job_run::Model,
    result: &Result<JobReport, JobError>,
) -> Result<job_run::Model, JobError> {
    let mut active: job_run::ActiveModel = run.into();
    active.finished_at = Set(Some(entity::ops::now()));
    match result {
        Ok(report) => {
            let mut counts = serde_json::to_value(report).unwrap_or_default();
            if let Some(map) = counts.as_object_mut() {
                map.remove("recipients");
            }
            active.outcome = Set("succeeded".into());
            active.counts = Set(counts);
        }
        Err(e) => {
            active.outcome = Set("failed".into());
            active.error = Set(Some(e.to_string()));
        }
    }
    Ok(active.update(db).await?)
}

/// The newest runs, optionally of one job.
pub async fn recent(db: &impl ConnectionTrait, job: Option<Job>, limit: u64) -> Result<Vec<job_run::Model>, JobError> {
    let mut q = job_run::Entity::find().order_by_desc(job_run::Column::Id).limit(limit);
    if let Some(job) = job {
        q = q.filter(job_run::Column::Job.eq(job.name()));
    }
    Ok(q.all(db).await?)
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::Database;

    use super::*;

    #[tokio::test]
    async fn a_scheduled_slot_runs_once() {
        let path = std::env::temp_dir().join(format!("loyalty-runs-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let slot = Some(entity::ops::now());
        let first = start(&db, Job::Birthday, Trigger::Schedule, false, slot).await.unwrap();
        assert!(first.is_some());
        let second = start(&db, Job::Birthday, Trigger::Schedule, false, slot).await.unwrap();
        assert!(second.is_none(), "a second replica finds the slot taken");
        assert!(start(&db, Job::Dormancy, Trigger::Schedule, false, slot).await.unwrap().is_some(), "other jobs have their own slots");
        assert!(start(&db, Job::Birthday, Trigger::Cli, false, None).await.unwrap().is_some(), "manual runs always start");
        let done = finish(&db, first.unwrap(), &Ok(JobReport { sent: 3, ..JobReport::default() })).await.unwrap();
        assert_eq!(done.outcome, "succeeded");
        assert_eq!(done.counts["sent"], 3);
        assert_eq!(recent(&db, Some(Job::Birthday), 10).await.unwrap().len(), 2);
        db.close().await.unwrap();
        let _ = std::fs::remove_file(&path);
    }
}
