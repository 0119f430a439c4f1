//! Signed webhooks: each restaurant's endpoints (where, which events, the version of a signing
//! secret that is derived from a key in the key store and never stored here) and one delivery
//! row per event and endpoint, written in the transaction of the change it reports (a
//! transactional outbox) and claimed by the delivery worker as email deliveries are.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    RestaurantId,
    Url,
    Events,
    SecretVersion,
    PreviousSecretUntil,
    Enabled,
    ActiveFrom,
    DisabledReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    RestaurantId,
    EndpointId,
    EventId,
    EventType,
    Payload,
    OccurredAt,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedAt,
    LastStatus,
    LastError,
    LastLatencyMs,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookDeliveries as D;
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(big_pk_auto(E::Id))
                    .col(string_len(E::RestaurantId, 64))
                    .col(string_len(E::Url, 2000))
                    .col(text(E::Events))
                    .col(integer(E::SecretVersion).default(1))
                    .col(timestamp_with_time_zone_null(E::PreviousSecretUntil))
                    .col(boolean(E::Enabled).default(true))
                    .col(timestamp_with_time_zone(E::ActiveFrom))
                    .col(text_null(E::DisabledReason))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_webhook_endpoints_restaurant").table(E::Table).col(E::RestaurantId).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(big_pk_auto(D::Id))
                    .col(string_len(D::RestaurantId, 64))
                    .col(big_integer(D::EndpointId))
                    .col(string_len(D::EventId, 40))
                    .col(string_len(D::EventType, 64))
                    .col(text(D::Payload))
                    .col(timestamp_with_time_zone(D::OccurredAt))
                    .col(string_len(D::Status, 16))
                    .col(integer(D::Attempts).default(0))
                    .col(timestamp_with_time_zone(D::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(D::ClaimedAt))
                    .col(integer_null(D::LastStatus))
                    .col(text_null(D::LastError))
                    .col(integer_null(D::LastLatencyMs))
                    .col(timestamp_with_time_zone_null(D::DeliveredAt))
                    .foreign_key(ForeignKey::create().from(D::Table, D::EndpointId).to(E::Table, E::Id).on_delete(ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        // The worker's claim: due rows of any restaurant, oldest first.
        manager.create_index(Index::create().name("ix_webhook_deliveries_due").table(D::Table).col(D::Status).col(D::NextAttemptAt).to_owned()).await?;
        // An endpoint's delivery log, newest first; one row per event and endpoint.
        manager
            .create_index(Index::create().name("ux_webhook_deliveries_event").table(D::Table).col(D::EndpointId).col(D::EventId).unique().to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_webhook_deliveries_log").table(D::Table).col(D::RestaurantId).col(D::EndpointId).col(D::Id).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await
    }
}
