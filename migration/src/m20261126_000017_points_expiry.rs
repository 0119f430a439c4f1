//! Points expiry per restaurant: after how many months without activity a balance expires (0:
//! never), how many days ahead members are warned, and the bookkeeping that keeps a policy
//! change from ever moving a member's expiry date earlier (when the policy was switched on, and
//! when it was last shortened and from how long).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    ExpiryMonths,
    ExpiryWarningDays,
    ExpiryStartedAt,
    ExpiryShortenedAt,
    ExpiryPreviousMonths,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for mut col in [
            integer(R::ExpiryMonths).default(0).to_owned(),
            integer(R::ExpiryWarningDays).default(30).to_owned(),
            timestamp_with_time_zone_null(R::ExpiryStartedAt),
            timestamp_with_time_zone_null(R::ExpiryShortenedAt),
            integer(R::ExpiryPreviousMonths).default(0).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(R::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for col in [R::ExpiryMonths, R::ExpiryWarningDays, R::ExpiryStartedAt, R::ExpiryShortenedAt, R::ExpiryPreviousMonths] {
            manager.alter_table(Table::alter().table(R::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
