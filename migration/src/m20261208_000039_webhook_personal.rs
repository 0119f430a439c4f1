//! `webhook_endpoints.include_personal`: whether an endpoint's messages about a member carry
//! the member's name and contact details (read when the message is sent, never stored with the
//! event); off unless an admin turns it on.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::boolean;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    IncludePersonal,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = boolean(WebhookEndpoints::IncludePersonal).default(false).to_owned();
        manager.alter_table(Table::alter().table(WebhookEndpoints::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(WebhookEndpoints::Table).drop_column(WebhookEndpoints::IncludePersonal).to_owned()).await
    }
}
