//! Where and how an order was placed: `visits.location` (the POS's store or site) and
//! `visits.channel` (dine-in, takeaway, delivery, online, … as the POS names them), given by
//! `recordOrder` and the order import; empty for visits recorded before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_len_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Visits {
    Table,
    Location,
    Channel,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Visits::Location, Visits::Channel] {
            manager.alter_table(Table::alter().table(Visits::Table).add_column(string_len_null(column, 100)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Visits::Location, Visits::Channel] {
            manager.alter_table(Table::alter().table(Visits::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
