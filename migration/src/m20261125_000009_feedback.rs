//! Customer feedback: one row per review (rating 1–5, optional comment and visit); the
//! customer's `rating_total`, `review_count` and `last_review_at` summarise them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Feedback {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    VisitId,
    Rating,
    Comment,
    RecordedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Feedback as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(big_pk_auto(F::Id))
                    .col(string_len(F::RestaurantId, 64))
                    .col(big_integer(F::CustomerId))
                    .col(big_integer_null(F::VisitId))
                    .col(small_integer(F::Rating))
                    .col(text_null(F::Comment))
                    .col(string_len(F::RecordedBy, 100))
                    .col(timestamp_with_time_zone(F::CreatedAt))
                    .foreign_key(ForeignKey::create().from(F::Table, F::CustomerId).to(Customers::Table, Customers::Id).on_delete(ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_feedback_customer").table(F::Table).col(F::CustomerId).col(F::CreatedAt).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Feedback::Table).to_owned()).await
    }
}
