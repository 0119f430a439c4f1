//! `visits.refunded_items`: the order lines a refund has already taken back from the member's
//! favourite items (`[{"itemId": …, "quantity": …}]`), so a later full refund or void takes
//! back only what is left of that order's lines, never another order's counts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Visits {
    Table,
    RefundedItems,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Visits::Table).add_column(text_null(Visits::RefundedItems)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Visits::Table).drop_column(Visits::RefundedItems).to_owned()).await
    }
}
