//! Campaign results: a campaign may keep a stable random share of its audience as a control
//! group (held-out members get a `held-out` delivery row and no email), and its attribution
//! window says how many days after a send visits, revenue and redemptions count.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    HoldoutPercent,
    AttributionDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Campaigns as C;
        manager.alter_table(Table::alter().table(C::Table).add_column(integer(C::HoldoutPercent).default(0)).to_owned()).await?;
        manager.alter_table(Table::alter().table(C::Table).add_column(integer(C::AttributionDays).default(14)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Campaigns::Table).drop_column(Campaigns::HoldoutPercent).to_owned()).await?;
        manager.alter_table(Table::alter().table(Campaigns::Table).drop_column(Campaigns::AttributionDays).to_owned()).await
    }
}
