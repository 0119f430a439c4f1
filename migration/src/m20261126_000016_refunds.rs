//! Refunds and voids of orders: a visit keeps the order's lines, the points it earned and what
//! has been refunded of it, so a refund can reverse exactly its share; restaurants choose
//! whether refunds may lower a tier.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Visits {
    Table,
    Items,
    PointsEarned,
    RefundedCents,
}

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    RefundsLowerTier,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Visits as V;
        manager.alter_table(Table::alter().table(V::Table).add_column(text_null(V::Items)).to_owned()).await?;
        manager.alter_table(Table::alter().table(V::Table).add_column(big_integer_null(V::PointsEarned)).to_owned()).await?;
        manager.alter_table(Table::alter().table(V::Table).add_column(big_integer(V::RefundedCents).default(0)).to_owned()).await?;
        manager.alter_table(Table::alter().table(Restaurants::Table).add_column(boolean(Restaurants::RefundsLowerTier).default(false)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Visits::Items, Visits::PointsEarned, Visits::RefundedCents] {
            manager.alter_table(Table::alter().table(Visits::Table).drop_column(col).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Restaurants::Table).drop_column(Restaurants::RefundsLowerTier).to_owned()).await
    }
}
