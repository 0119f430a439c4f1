//! Finer planner statistics for the name search (PostgreSQL; nothing on SQLite). A search for a
//! name fragment (`lower(name) LIKE '%rossi%'`) is estimated from the statistics of the trigram
//! index's expression, by default a 100-entry histogram: a common surname that falls between
//! its bounds was estimated at 99 rows where 50,000 matched, and the planner then read and
//! sorted all 50,000 instead of walking the newest customers until 51 matched (measured at
//! 1,000,000 customers: 44 searches/s against 906). A target of 1,000 samples 300,000 rows and
//! keeps a 1,000-entry histogram and most-common list, so a fragment's share is estimated to
//! about a thousandth.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_target(manager, 1000).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_target(manager, -1).await
    }
}

/// Sets the statistics target of the name and of the trigram index's `lower(name)`, then
/// gathers them again (`-1`: the server's default).
async fn set_target(manager: &SchemaManager<'_>, target: i32) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!("ALTER TABLE customers ALTER COLUMN name SET STATISTICS {target}")).await?;
    // The trigram index exists only where pg_trgm is available (migration 8).
    let indexed = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT 1 AS ok WHERE to_regclass('ix_customers_name_trgm') IS NOT NULL"))
        .await?
        .is_some();
    if indexed {
        db.execute_unprepared(&format!("ALTER INDEX ix_customers_name_trgm ALTER COLUMN 1 SET STATISTICS {target}")).await?;
    }
    db.execute_unprepared("ANALYZE customers").await?;
    Ok(())
}
