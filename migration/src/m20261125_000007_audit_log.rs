//! The audit trail of profile changes, consent changes, notes, erasures, merges and keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    RestaurantId,
    Action,
    CustomerId,
    Actor,
    RequestId,
    Details,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditLog as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(big_pk_auto(A::Id))
                    .col(string_len(A::RestaurantId, 64))
                    .col(string_len(A::Action, 32))
                    .col(big_integer_null(A::CustomerId))
                    .col(string_len(A::Actor, 140))
                    .col(string_len(A::RequestId, 64))
                    .col(json_binary(A::Details))
                    .col(timestamp_with_time_zone(A::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_audit_log_restaurant_time").table(A::Table).col(A::RestaurantId).col(A::Id).to_owned()).await?;
        manager.create_index(Index::create().name("ix_audit_log_restaurant_customer").table(A::Table).col(A::RestaurantId).col(A::CustomerId).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await
    }
}
