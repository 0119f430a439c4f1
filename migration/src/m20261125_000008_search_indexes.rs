//! Indexes that serve the free-text customer search (`LOWER(name) LIKE '%…%'`, email, phone
//! digits) on PostgreSQL: trigram GIN indexes from the `pg_trgm` extension, created when the
//! server offers it. SQLite (small, embedded) searches without them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        let available = db
            .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'pg_trgm'"))
            .await?
            .is_some();
        if !available {
            return Ok(());
        }
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
        db.execute_unprepared("CREATE INDEX IF NOT EXISTS ix_customers_name_trgm ON customers USING gin (lower(name) gin_trgm_ops)").await?;
        db.execute_unprepared("CREATE INDEX IF NOT EXISTS ix_customers_email_trgm ON customers USING gin (lower(email) gin_trgm_ops)").await?;
        db.execute_unprepared("CREATE INDEX IF NOT EXISTS ix_customers_phone_trgm ON customers USING gin (phone gin_trgm_ops)").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for ix in ["ix_customers_name_trgm", "ix_customers_email_trgm", "ix_customers_phone_trgm"] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {ix}")).await?;
        }
        Ok(())
    }
}
