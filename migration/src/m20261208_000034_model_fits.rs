//! Predictive models (BG/NBD for visits, Gamma-Gamma for spend): one row per fit of a
//! restaurant's models, kept so the last good fit stays in use when a later one fails, and so a
//! report shows what each fit said.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ModelFits {
    Table,
    Id,
    RestaurantId,
    FittedAt,
    CalibrationEnd,
    HoldoutEnd,
    Status,
    Reason,
    Members,
    Repeaters,
    Terms,
    FitMs,
    BgR,
    BgAlpha,
    BgA,
    BgB,
    BgLogLikelihood,
    GgP,
    GgQ,
    GgGamma,
    GgLogLikelihood,
    GgMembers,
    Report,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ModelFits as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(big_pk_auto(F::Id))
                    .col(string_len(F::RestaurantId, 64))
                    .col(timestamp_with_time_zone(F::FittedAt))
                    .col(date(F::CalibrationEnd))
                    .col(date(F::HoldoutEnd))
                    .col(string_len(F::Status, 16))
                    .col(text_null(F::Reason))
                    .col(big_integer(F::Members))
                    .col(big_integer(F::Repeaters))
                    .col(big_integer(F::Terms))
                    .col(big_integer(F::FitMs))
                    .col(double_null(F::BgR))
                    .col(double_null(F::BgAlpha))
                    .col(double_null(F::BgA))
                    .col(double_null(F::BgB))
                    .col(double_null(F::BgLogLikelihood))
                    .col(double_null(F::GgP))
                    .col(double_null(F::GgQ))
                    .col(double_null(F::GgGamma))
                    .col(double_null(F::GgLogLikelihood))
                    .col(big_integer_null(F::GgMembers))
                    .col(text_null(F::Report))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_model_fits_restaurant").table(F::Table).col(F::RestaurantId).col(F::Id).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ModelFits::Table).to_owned()).await
    }
}
