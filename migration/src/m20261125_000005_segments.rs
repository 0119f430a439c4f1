//! Custom marketing segments of a restaurant.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Segments {
    Table,
    Id,
    RestaurantId,
    Name,
    Description,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Segments as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_pk_auto(S::Id))
                    .col(string_len(S::RestaurantId, 64))
                    .col(string_len(S::Name, 60))
                    .col(string_len_null(S::Description, 500))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ux_segments_restaurant_name").table(S::Table).col(S::RestaurantId).col(S::Name).unique().to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Segments::Table).to_owned()).await
    }
}
