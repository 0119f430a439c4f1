//! `job_runs`: one row per run of a job for one restaurant. A scheduled run is unique per
//! `(job, restaurant_id, scheduled_for)`, which is what keeps replicas from running the same
//! slot twice; a running run's `heartbeat_at` moves on while it works, so a run whose replica
//! died can be marked `abandoned` and its slot taken again.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// How a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Its heartbeat stopped: the replica running it died.
    #[sea_orm(string_value = "abandoned")]
    Abandoned,
}

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RunTrigger {
    /// The scheduler, at the slot's time.
    #[sea_orm(string_value = "schedule")]
    Schedule,
    /// A scheduled slot run late: no replica was up at its time, or its run was abandoned.
    #[sea_orm(string_value = "catch-up")]
    CatchUp,
    #[sea_orm(string_value = "cli")]
    Cli,
    #[sea_orm(string_value = "api")]
    Api,
}

impl RunTrigger {
    /// The name stored and shown (`schedule`, `catch-up`, `cli`, `api`).
    pub fn label(self) -> String {
        self.to_value()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Job name, e.g. `birthday`.
    pub job: String,
    /// The restaurant the run worked for.
    pub restaurant_id: String,
    /// The schedule slot (UTC minute) for scheduled runs; `None` for manual ones.
    pub scheduled_for: Option<DateTimeUtc>,
    pub trigger: RunTrigger,
    pub dry_run: bool,
    pub started_at: DateTimeUtc,
    /// Last sign of life of a running run.
    pub heartbeat_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub outcome: RunOutcome,
    /// The run's counts as JSON (changed, enqueued, skippedConsent, sent, failed, …).
    pub counts: Json,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
