//! Retention per restaurant: how long idempotency keys, job runs and finished deliveries are
//! kept, and the optional erasure of members inactive for so many months; with the indexes
//! the daily purge reads (each restaurant's rows by age).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    KeepIdempotencyDays,
    KeepJobRunDays,
    KeepDeliveryDays,
    EraseInactiveMonths,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    RestaurantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    RestaurantId,
    StartedAt,
}

#[derive(DeriveIden)]
enum EmailDeliveries {
    Table,
    RestaurantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    LastActivityAt,
}

const INDEXES: [&str; 4] =
    ["ix_idempotency_keys_restaurant_created", "ix_job_runs_restaurant_started", "ix_email_deliveries_restaurant_created", "ix_customers_restaurant_activity"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for mut col in [
            integer(R::KeepIdempotencyDays).default(30).to_owned(),
            integer(R::KeepJobRunDays).default(90).to_owned(),
            integer(R::KeepDeliveryDays).default(400).to_owned(),
            integer(R::EraseInactiveMonths).default(0).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(R::Table).add_column(&mut col).to_owned()).await?;
        }
        let indexes = [
            Index::create().name(INDEXES[0]).table(IdempotencyKeys::Table).col(IdempotencyKeys::RestaurantId).col(IdempotencyKeys::CreatedAt).to_owned(),
            Index::create().name(INDEXES[1]).table(JobRuns::Table).col(JobRuns::RestaurantId).col(JobRuns::StartedAt).to_owned(),
            Index::create().name(INDEXES[2]).table(EmailDeliveries::Table).col(EmailDeliveries::RestaurantId).col(EmailDeliveries::CreatedAt).to_owned(),
            Index::create().name(INDEXES[3]).table(Customers::Table).col(Customers::RestaurantId).col(Customers::LastActivityAt).to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        let tables = [IdempotencyKeys::Table.into_iden(), JobRuns::Table.into_iden(), EmailDeliveries::Table.into_iden(), Customers::Table.into_iden()];
        for (name, table) in INDEXES.into_iter().zip(tables) {
            manager.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        for col in [R::KeepIdempotencyDays, R::KeepJobRunDays, R::KeepDeliveryDays, R::EraseInactiveMonths] {
            manager.alter_table(Table::alter().table(R::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
