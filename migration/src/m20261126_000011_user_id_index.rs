//! Index for looking a member up by the login service's `userId` (customer apps).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    UserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name("ix_customers_restaurant_user_id").table(Customers::Table).col(Customers::RestaurantId).col(Customers::UserId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_customers_restaurant_user_id").table(Customers::Table).to_owned()).await
    }
}
