//! Scheduled jobs and email campaigns: month-day keys of birthdays and anniversaries (indexed,
//! so occasion lookups never scan all customers), job runs, email deliveries and service
//! settings.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_customers::Customers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Extra {
    BirthMd,
    AnniversaryMd,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Id,
    Job,
    ScheduledFor,
    Trigger,
    DryRun,
    StartedAt,
    FinishedAt,
    Outcome,
    Counts,
    Error,
}

#[derive(DeriveIden)]
enum EmailDeliveries {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    Campaign,
    PeriodKey,
    OccasionDate,
    Email,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum ServiceSettings {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Extra::BirthMd, Extra::AnniversaryMd] {
            manager.alter_table(Table::alter().table(Customers::Table).add_column(integer_null(col)).to_owned()).await?;
        }
        let backfill = match manager.get_database_backend() {
            DbBackend::Sqlite => {
                "UPDATE customers SET birth_md = CAST(strftime('%m%d', date_of_birth) AS INTEGER),
                                      anniversary_md = CAST(strftime('%m%d', anniversary) AS INTEGER)"
            }
            _ => {
                "UPDATE customers SET birth_md = EXTRACT(MONTH FROM date_of_birth) * 100 + EXTRACT(DAY FROM date_of_birth),
                                      anniversary_md = EXTRACT(MONTH FROM anniversary) * 100 + EXTRACT(DAY FROM anniversary)"
            }
        };
        manager.get_connection().execute_unprepared(backfill).await?;
        for (name, col) in [("ix_customers_restaurant_birth_md", Extra::BirthMd), ("ix_customers_restaurant_anniversary_md", Extra::AnniversaryMd)] {
            manager.create_index(Index::create().name(name).table(Customers::Table).col(Customers::RestaurantId).col(col).to_owned()).await?;
        }

        use JobRuns as J;
        manager
            .create_table(
                Table::create()
                    .table(J::Table)
                    .col(big_pk_auto(J::Id))
                    .col(string_len(J::Job, 32))
                    .col(timestamp_with_time_zone_null(J::ScheduledFor))
                    .col(string_len(J::Trigger, 16))
                    .col(boolean(J::DryRun))
                    .col(timestamp_with_time_zone(J::StartedAt))
                    .col(timestamp_with_time_zone_null(J::FinishedAt))
                    .col(string_len(J::Outcome, 16))
                    .col(json_binary(J::Counts))
                    .col(text_null(J::Error))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ux_job_runs_job_slot").table(J::Table).col(J::Job).col(J::ScheduledFor).unique().to_owned()).await?;
        manager.create_index(Index::create().name("ix_job_runs_started").table(J::Table).col(J::StartedAt).to_owned()).await?;

        use EmailDeliveries as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(big_pk_auto(E::Id))
                    .col(string_len(E::RestaurantId, 64))
                    .col(big_integer(E::CustomerId))
                    .col(string_len(E::Campaign, 32))
                    .col(string_len(E::PeriodKey, 32))
                    .col(date_null(E::OccasionDate))
                    .col(string_len(E::Email, 254))
                    .col(string_len(E::Status, 16))
                    .col(integer(E::Attempts).default(0))
                    .col(timestamp_with_time_zone(E::NextAttemptAt))
                    .col(text_null(E::LastError))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .col(timestamp_with_time_zone_null(E::SentAt))
                    .foreign_key(ForeignKey::create().from(E::Table, E::CustomerId).to(Customers::Table, Customers::Id).on_delete(ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_email_deliveries_once").table(E::Table).col(E::CustomerId).col(E::Campaign).col(E::PeriodKey).unique().to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_email_deliveries_due").table(E::Table).col(E::Status).col(E::NextAttemptAt).to_owned()).await?;
        manager
            .create_index(
                Index::create().name("ix_email_deliveries_restaurant_campaign").table(E::Table).col(E::RestaurantId).col(E::Campaign).col(E::Status).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServiceSettings::Table)
                    .col(string_len(ServiceSettings::Key, 64).primary_key())
                    .col(text(ServiceSettings::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ServiceSettings::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(EmailDeliveries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(JobRuns::Table).to_owned()).await?;
        for col in [Extra::BirthMd, Extra::AnniversaryMd] {
            manager.alter_table(Table::alter().table(Customers::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
