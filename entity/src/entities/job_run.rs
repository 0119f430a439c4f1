//! `job_runs`: one row per run of a scheduled job. A scheduled run is unique per
//! `(job, scheduled_for)`, which is what keeps replicas from running the same slot twice.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Job name, e.g. `birthday`.
    pub job: String,
    /// The schedule slot (UTC minute) for scheduled runs; `None` for manual ones.
    pub scheduled_for: Option<DateTimeUtc>,
    /// `schedule`, `cli` or `api`.
    pub trigger: String,
    pub dry_run: bool,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// `running`, `succeeded` or `failed`.
    pub outcome: String,
    /// The run's counts as JSON (changed, enqueued, skippedForConsent, sent, failed, …).
    pub counts: Json,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
