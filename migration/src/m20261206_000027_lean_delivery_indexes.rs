//! Fewer indexes for every email written: a campaign enqueues hundreds of thousands of
//! `email_deliveries` rows at once and each row entered eight indexes (measured at 1,000,000
//! customers: 194 batches of 2,000 at ~100 ms each, most of the win-back enqueue).
//! - `ix_email_deliveries_due` `(status, next_attempt_at)` served only the `/metrics` backlog,
//!   which now reads each restaurant's range of the claim index `(restaurant_id, status, id)`;
//! - `ix_email_deliveries_restaurant_created` `(restaurant_id, created_at)` served only the
//!   daily retention purge, which reads the finished rows of one restaurant from the claim
//!   index too;
//! - `ix_email_deliveries_send` `(send_id)` keeps only the rows of marketer-built sends: the
//!   built-in campaigns (birthday, win-back, automations) have none and no longer enter it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailDeliveries {
    Table,
    RestaurantId,
    Status,
    NextAttemptAt,
    CreatedAt,
    SendId,
}

const DUE: &str = "ix_email_deliveries_due";
const RESTAURANT_CREATED: &str = "ix_email_deliveries_restaurant_created";
const SEND: &str = "ix_email_deliveries_send";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use EmailDeliveries as E;
        for name in [DUE, RESTAURANT_CREATED, SEND] {
            manager.drop_index(Index::drop().name(name).table(E::Table).if_exists().to_owned()).await?;
        }
        // Both databases take a partial index in this form, and use it for `send_id = ?`.
        manager
            .get_connection()
            .execute_unprepared(&format!("CREATE INDEX IF NOT EXISTS {SEND} ON email_deliveries (send_id) WHERE send_id IS NOT NULL"))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use EmailDeliveries as E;
        manager.drop_index(Index::drop().name(SEND).table(E::Table).if_exists().to_owned()).await?;
        for index in [
            Index::create().name(SEND).table(E::Table).col(E::SendId).to_owned(),
            Index::create().name(DUE).table(E::Table).col(E::Status).col(E::NextAttemptAt).to_owned(),
            Index::create().name(RESTAURANT_CREATED).table(E::Table).col(E::RestaurantId).col(E::CreatedAt).to_owned(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}
