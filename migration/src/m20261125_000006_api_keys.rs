//! API keys for access control: one restaurant and one role each, stored as a hash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    RestaurantId,
    Role,
    Name,
    Prefix,
    KeyHash,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ApiKeys as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(big_pk_auto(K::Id))
                    .col(string_len(K::RestaurantId, 64))
                    .col(string_len(K::Role, 16))
                    .col(string_len(K::Name, 100))
                    .col(string_len_uniq(K::Prefix, 16))
                    .col(string_len_uniq(K::KeyHash, 64))
                    .col(timestamp_with_time_zone(K::CreatedAt))
                    .col(timestamp_with_time_zone_null(K::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_api_keys_restaurant").table(K::Table).col(K::RestaurantId).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}
