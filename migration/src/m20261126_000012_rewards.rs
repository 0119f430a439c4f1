//! The rewards catalogue of each restaurant and the vouchers members get for rewards: a short,
//! unguessable, single-use code with an expiry date, checked and used at the POS.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Rewards {
    Table,
    Id,
    RestaurantId,
    Name,
    Description,
    PointsCost,
    Kind,
    AmountCents,
    Percent,
    ItemId,
    MinTier,
    ActiveFrom,
    ActiveUntil,
    Stock,
    ValidDays,
    Archived,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Vouchers {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    RewardId,
    Code,
    Source,
    Title,
    PointsCost,
    Kind,
    AmountCents,
    Percent,
    ItemId,
    Status,
    IssuedAt,
    ExpiresAt,
    RedeemedAt,
    RedeemedOrderId,
    VoidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Rewards as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(big_pk_auto(R::Id))
                    .col(string_len(R::RestaurantId, 64))
                    .col(string_len(R::Name, 100))
                    .col(string_len_null(R::Description, 500))
                    .col(big_integer(R::PointsCost))
                    .col(string_len(R::Kind, 16))
                    .col(big_integer_null(R::AmountCents))
                    .col(small_integer_null(R::Percent))
                    .col(string_len_null(R::ItemId, 100))
                    .col(string_len(R::MinTier, 16))
                    .col(timestamp_with_time_zone_null(R::ActiveFrom))
                    .col(timestamp_with_time_zone_null(R::ActiveUntil))
                    .col(big_integer_null(R::Stock))
                    .col(integer(R::ValidDays))
                    .col(boolean(R::Archived).default(false))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_rewards_restaurant").table(R::Table).col(R::RestaurantId).col(R::Id).to_owned()).await?;

        use Vouchers as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(big_pk_auto(V::Id))
                    .col(string_len(V::RestaurantId, 64))
                    .col(big_integer(V::CustomerId))
                    .col(big_integer_null(V::RewardId))
                    .col(string_len(V::Code, 32))
                    .col(string_len(V::Source, 16))
                    .col(string_len(V::Title, 100))
                    .col(big_integer(V::PointsCost))
                    .col(string_len(V::Kind, 16))
                    .col(big_integer_null(V::AmountCents))
                    .col(small_integer_null(V::Percent))
                    .col(string_len_null(V::ItemId, 100))
                    .col(string_len(V::Status, 16))
                    .col(timestamp_with_time_zone(V::IssuedAt))
                    .col(timestamp_with_time_zone(V::ExpiresAt))
                    .col(timestamp_with_time_zone_null(V::RedeemedAt))
                    .col(string_len_null(V::RedeemedOrderId, 100))
                    .col(timestamp_with_time_zone_null(V::VoidedAt))
                    .foreign_key(ForeignKey::create().from(V::Table, V::CustomerId).to(Customers::Table, Customers::Id).on_delete(ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ux_vouchers_code").table(V::Table).col(V::Code).unique().to_owned()).await?;
        manager.create_index(Index::create().name("ix_vouchers_restaurant_customer").table(V::Table).col(V::RestaurantId).col(V::CustomerId).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Vouchers::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Rewards::Table).to_owned()).await
    }
}
