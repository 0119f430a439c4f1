//! Upcoming occasions from an index: a month-day key on special occasions, like the one on
//! customers' birthdays and anniversaries.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SpecialOccasions {
    Table,
    RestaurantId,
    Md,
    Date,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SpecialOccasions as S;
        manager.alter_table(Table::alter().table(S::Table).add_column(integer(S::Md).default(0)).to_owned()).await?;
        let backfill = match manager.get_database_backend() {
            DbBackend::Sqlite => "UPDATE special_occasions SET md = CAST(strftime('%m%d', date) AS INTEGER)",
            _ => "UPDATE special_occasions SET md = EXTRACT(MONTH FROM date) * 100 + EXTRACT(DAY FROM date)",
        };
        manager.get_connection().execute_unprepared(backfill).await?;
        manager.create_index(Index::create().name("ix_special_occasions_restaurant_md").table(S::Table).col(S::RestaurantId).col(S::Md).to_owned()).await?;
        manager.create_index(Index::create().name("ix_special_occasions_restaurant_date").table(S::Table).col(S::RestaurantId).col(S::Date).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_special_occasions_restaurant_date").table(SpecialOccasions::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ix_special_occasions_restaurant_md").table(SpecialOccasions::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(SpecialOccasions::Table).drop_column(SpecialOccasions::Md).to_owned()).await
    }
}
