//! One `runJob` run of a job per restaurant at a time: an admin repeating `runJob` while the
//! same job runs for the restaurant would run its work twice at once (a model fit is seconds of
//! both cores at a million members). A partial unique index over the running API runs lets
//! exactly one start, across replicas, on SQLite and PostgreSQL alike; a run whose replica died
//! is marked `abandoned` and frees it. Scheduled runs have their slots; the operator's CLI runs
//! are not limited. Duplicates running now (from before this index) are marked abandoned
//! first, keeping the newest.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ux_job_runs_one_api_run";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE job_runs SET outcome = 'abandoned', error = 'another run of the job was running' \
             WHERE outcome = 'running' AND \"trigger\" = 'api' AND id NOT IN \
             (SELECT MAX(id) FROM job_runs WHERE outcome = 'running' AND \"trigger\" = 'api' GROUP BY job, restaurant_id)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON job_runs (job, restaurant_id) WHERE outcome = 'running' AND \"trigger\" = 'api'"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}")).await?;
        Ok(())
    }
}
