//! The customer list in change order (`sort: UPDATED`, what a sync client pages in) reads the
//! index `(restaurant_id, updated_at, id)`: a page after a cursor is one range scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    UpdatedAt,
    Id,
}

const INDEX: &str = "ix_customers_changed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Customers as C;
        manager.create_index(Index::create().name(INDEX).table(C::Table).col(C::RestaurantId).col(C::UpdatedAt).col(C::Id).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Customers::Table).to_owned()).await
    }
}
