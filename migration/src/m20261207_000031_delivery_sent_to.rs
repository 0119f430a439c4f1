//! A delivery keeps the address it was sent to, written when the mail server accepted it, in
//! `sent_to` (copied here for rows already sent). `email` held a sealed copy of the member's
//! address written with every queued row (~100 bytes and a join per row when a campaign
//! enqueues), though the worker has always sent to the member's address of the moment; new
//! rows leave it empty. It stays (expand, then contract) so a replica of the previous release
//! keeps working during a rolling restart; a later migration drops it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailDeliveries {
    Table,
    Email,
    SentTo,
    Status,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use EmailDeliveries as E;
        manager.alter_table(Table::alter().table(E::Table).add_column(text_null(E::SentTo)).to_owned()).await?;
        let copy = Query::update()
            .table(E::Table)
            .value(E::SentTo, Expr::col(E::Email))
            .and_where(Expr::col(E::Status).eq("sent"))
            .and_where(Expr::col(E::Email).ne("erased"))
            .to_owned();
        manager.exec_stmt(copy).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(EmailDeliveries::Table).drop_column(EmailDeliveries::SentTo).to_owned()).await
    }
}
