//! Tier benefits as vouchers: a voucher issued by a campaign (birthday, win-back) carries the
//! period it is for, unique per member and source, so a member gets one birthday voucher a year
//! whatever retries and replicas do; restaurants set the win-back offer and how long benefit
//! vouchers stay valid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Vouchers {
    Table,
    CustomerId,
    Source,
    PeriodKey,
}

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    WinBackPercent,
    BenefitDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Vouchers as V;
        manager.alter_table(Table::alter().table(V::Table).add_column(string_len_null(V::PeriodKey, 32)).to_owned()).await?;
        manager
            .create_index(Index::create().name("ux_vouchers_benefit").table(V::Table).col(V::CustomerId).col(V::Source).col(V::PeriodKey).unique().to_owned())
            .await?;
        use Restaurants as R;
        manager.alter_table(Table::alter().table(R::Table).add_column(small_integer(R::WinBackPercent).default(0)).to_owned()).await?;
        manager.alter_table(Table::alter().table(R::Table).add_column(integer(R::BenefitDays).default(30)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ux_vouchers_benefit").table(Vouchers::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Vouchers::Table).drop_column(Vouchers::PeriodKey).to_owned()).await?;
        for col in [Restaurants::WinBackPercent, Restaurants::BenefitDays] {
            manager.alter_table(Table::alter().table(Restaurants::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
