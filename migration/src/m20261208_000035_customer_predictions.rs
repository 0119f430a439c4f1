//! Each member's latest prediction (probability still active, visits ahead, 12-month value),
//! written by the `model-fit` job after each fit so lists and segments can filter on them. A
//! table of its own, one row per member: rewriting it daily never touches `customers`. No
//! foreign key (a million-row rewrite would check each): erasure deletes a member's row, and a
//! row whose member was merged away goes with the next scoring's rows of older fits.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerPredictions {
    Table,
    CustomerId,
    RestaurantId,
    FitId,
    ScoredOn,
    ActiveProbability,
    #[sea_orm(iden = "expected_visits_90")]
    ExpectedVisits90,
    #[sea_orm(iden = "value_12_months")]
    Value12Months,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CustomerPredictions as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_integer(P::CustomerId).primary_key())
                    .col(string_len(P::RestaurantId, 64))
                    .col(big_integer(P::FitId))
                    .col(date(P::ScoredOn))
                    .col(double(P::ActiveProbability))
                    .col(double(P::ExpectedVisits90))
                    .col(double_null(P::Value12Months))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [("ix_customer_predictions_active", P::ActiveProbability), ("ix_customer_predictions_value", P::Value12Months)] {
            manager.create_index(Index::create().name(name).table(P::Table).col(P::RestaurantId).col(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CustomerPredictions::Table).to_owned()).await
    }
}
