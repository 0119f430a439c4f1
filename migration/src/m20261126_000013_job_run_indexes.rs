//! Indexes for the scheduler's own queries on `job_runs`, which grows by about a hundred rows a
//! day per restaurant: runs still `running` (checked for a stale heartbeat every minute) and a
//! restaurant's slots since a time (the catch-up).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    RestaurantId,
    ScheduledFor,
    Outcome,
    HeartbeatAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use JobRuns as J;
        manager.create_index(Index::create().name("ix_job_runs_outcome_heartbeat").table(J::Table).col(J::Outcome).col(J::HeartbeatAt).to_owned()).await?;
        manager.create_index(Index::create().name("ix_job_runs_restaurant_slot").table(J::Table).col(J::RestaurantId).col(J::ScheduledFor).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_job_runs_restaurant_slot").table(JobRuns::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ix_job_runs_outcome_heartbeat").table(JobRuns::Table).to_owned()).await
    }
}
