//! Proof of consent per delivery: the consent flags an email relied on at the moment it was
//! sent, each with the audit entry that granted it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailDeliveries {
    Table,
    Consent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(EmailDeliveries::Table).add_column(json_binary_null(EmailDeliveries::Consent)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(EmailDeliveries::Table).drop_column(EmailDeliveries::Consent).to_owned()).await
    }
}
