//! Members brought from another system keep that system's id: `customers.external_id`, unique
//! per restaurant (many members have none), which makes a second import of the same file
//! change nothing and lets integrators find a member by the id they know.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    ExternalId,
}

const INDEX: &str = "ux_customers_external_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Customers as C;
        manager.alter_table(Table::alter().table(C::Table).add_column(string_len_null(C::ExternalId, 100)).to_owned()).await?;
        manager.create_index(Index::create().name(INDEX).table(C::Table).col(C::RestaurantId).col(C::ExternalId).unique().to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Customers::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Customers::Table).drop_column(Customers::ExternalId).to_owned()).await
    }
}
