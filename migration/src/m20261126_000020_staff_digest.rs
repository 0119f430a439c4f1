//! The staff digest: the addresses each restaurant's morning brief goes to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    DigestEmails,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Restaurants::Table).add_column(string_len(Restaurants::DigestEmails, 1000).default("")).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Restaurants::Table).drop_column(Restaurants::DigestEmails).to_owned()).await
    }
}
