//! Automation settings per restaurant: the delay of the second welcome email and how close to a
//! reward or tier a member must be for the "nearing a reward" email; and the index the
//! membership-anniversary automation reads (`member_since` ranges per restaurant).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    WelcomeFollowUpDays,
    NearingPoints,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    MemberSince,
}

const INDEX: &str = "ix_customers_member_since";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for mut col in [integer(R::WelcomeFollowUpDays).default(14).to_owned(), integer(R::NearingPoints).default(100).to_owned()] {
            manager.alter_table(Table::alter().table(R::Table).add_column(&mut col).to_owned()).await?;
        }
        manager.create_index(Index::create().name(INDEX).table(Customers::Table).col(Customers::RestaurantId).col(Customers::MemberSince).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        manager.drop_index(Index::drop().name(INDEX).table(Customers::Table).to_owned()).await?;
        for col in [R::WelcomeFollowUpDays, R::NearingPoints] {
            manager.alter_table(Table::alter().table(R::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
