//! Restaurants as tenants: one row per restaurant with its display, email and programme
//! settings. Job runs belong to one restaurant (a scheduled slot is unique per job, restaurant
//! and slot) and carry a heartbeat, so a run whose replica died can be told apart from one
//! that is still going. The rows of restaurants that already have keys or customers are
//! written by the service right after migrating, with the configured defaults
//! (`entity::ops::restaurants::ensure_known`), since a migration cannot know them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    Id,
    Name,
    Timezone,
    SenderName,
    MailFrom,
    ReplyTo,
    PublicUrl,
    Currency,
    PointsPerDollar,
    PointsPerRedeemedDollar,
    ReferralBonus,
    DiscountBronze,
    DiscountSilver,
    DiscountGold,
    DiscountPlatinum,
    DiscountVip,
    DormantDays,
    AtRiskDays,
    OccasionLeadDays,
    WinBackDays,
    DormancyAt,
    BirthdayAt,
    AnniversaryAt,
    WinBackAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Job,
    RestaurantId,
    ScheduledFor,
    HeartbeatAt,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(string_len(R::Id, 64).primary_key())
                    .col(string_len(R::Name, 100))
                    .col(string_len(R::Timezone, 64))
                    .col(string_len(R::SenderName, 100))
                    .col(string_len(R::MailFrom, 254))
                    .col(string_len_null(R::ReplyTo, 254))
                    .col(string_len_null(R::PublicUrl, 500))
                    .col(string_len(R::Currency, 3))
                    .col(big_integer(R::PointsPerDollar))
                    .col(big_integer(R::PointsPerRedeemedDollar))
                    .col(big_integer(R::ReferralBonus))
                    .col(small_integer(R::DiscountBronze))
                    .col(small_integer(R::DiscountSilver))
                    .col(small_integer(R::DiscountGold))
                    .col(small_integer(R::DiscountPlatinum))
                    .col(small_integer(R::DiscountVip))
                    .col(integer(R::DormantDays))
                    .col(integer(R::AtRiskDays))
                    .col(integer(R::OccasionLeadDays))
                    .col(integer(R::WinBackDays))
                    .col(string_len(R::DormancyAt, 5))
                    .col(string_len(R::BirthdayAt, 5))
                    .col(string_len(R::AnniversaryAt, 5))
                    .col(string_len(R::WinBackAt, 5))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        use JobRuns as J;
        manager.alter_table(Table::alter().table(J::Table).add_column(string_len(J::RestaurantId, 64).default("")).to_owned()).await?;
        manager.alter_table(Table::alter().table(J::Table).add_column(timestamp_with_time_zone_null(J::HeartbeatAt)).to_owned()).await?;
        manager.drop_index(Index::drop().name("ux_job_runs_job_slot").table(J::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create().name("ux_job_runs_restaurant_slot").table(J::Table).col(J::Job).col(J::RestaurantId).col(J::ScheduledFor).unique().to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_job_runs_restaurant").table(J::Table).col(J::RestaurantId).col(J::Id).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use JobRuns as J;
        manager.drop_index(Index::drop().name("ix_job_runs_restaurant").table(J::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ux_job_runs_restaurant_slot").table(J::Table).to_owned()).await?;
        manager.create_index(Index::create().name("ux_job_runs_job_slot").table(J::Table).col(J::Job).col(J::ScheduledFor).unique().to_owned()).await?;
        for col in [J::HeartbeatAt, J::RestaurantId] {
            manager.alter_table(Table::alter().table(J::Table).drop_column(col).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Restaurants::Table).to_owned()).await
    }
}
