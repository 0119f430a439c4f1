//! Sync of the ledger and the orders in change order (`ledgerChanges`, `orderChanges`):
//! - `visits.updated_at`, set when a visit is written and when a refund or a merge changes it.
//!   On PostgreSQL the column's default is the time of the write (`now()`), so a replica still
//!   running the code before this migration during a rolling upgrade stamps its visits too, and
//!   rows written before the migration carry its time (no table rewrite); SQLite (one process)
//!   copies `visited_at` into the rows it has;
//! - `(restaurant_id, updated_at, id)` on visits and `(restaurant_id, created_at, id)` on the
//!   ledger: a sync page reads one restaurant's changes in order from the index. Ledger rows are
//!   never updated and visits seldom, so no HOT update of a hot row is lost.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Visits {
    Table,
    RestaurantId,
    UpdatedAt,
    Id,
}

#[derive(DeriveIden)]
enum PointTransactions {
    Table,
    RestaurantId,
    CreatedAt,
    Id,
}

const VISITS_INDEX: &str = "ix_visits_restaurant_updated";
const LEDGER_INDEX: &str = "ix_point_transactions_restaurant_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ALTER TABLE visits ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()").await?;
        } else {
            let column = timestamp_with_time_zone(Visits::UpdatedAt).default("1970-01-01 00:00:00+00:00").to_owned();
            manager.alter_table(Table::alter().table(Visits::Table).add_column(column).to_owned()).await?;
            db.execute_unprepared("UPDATE visits SET updated_at = visited_at").await?;
        }
        let visits = Index::create().name(VISITS_INDEX).table(Visits::Table).col(Visits::RestaurantId).col(Visits::UpdatedAt).col(Visits::Id).to_owned();
        manager.create_index(visits).await?;
        let ledger = Index::create()
            .name(LEDGER_INDEX)
            .table(PointTransactions::Table)
            .col(PointTransactions::RestaurantId)
            .col(PointTransactions::CreatedAt)
            .col(PointTransactions::Id)
            .to_owned();
        manager.create_index(ledger).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(LEDGER_INDEX).table(PointTransactions::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name(VISITS_INDEX).table(Visits::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Visits::Table).drop_column(Visits::UpdatedAt).to_owned()).await
    }
}
