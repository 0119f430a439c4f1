//! What happens to customers: the points ledger, visits, notes, favourite items, special
//! occasions, and the idempotency keys of point-changing requests.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_customers::Customers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PointTransactions {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    Kind,
    Delta,
    BalanceAfter,
    Reason,
    IdempotencyKey,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Visits {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    AmountCents,
    OrderId,
    VisitedAt,
}

#[derive(DeriveIden)]
enum CustomerNotes {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    Note,
    AddedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FavoriteItems {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    ItemId,
    Name,
    OrderCount,
    LastOrderedAt,
}

#[derive(DeriveIden)]
enum SpecialOccasions {
    Table,
    Id,
    RestaurantId,
    CustomerId,
    Name,
    Date,
    Recurring,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    RestaurantId,
    Key,
    Operation,
    RequestHash,
    Response,
    CreatedAt,
}

fn belongs_to_customer<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(Customers::Table, Customers::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ledger(manager).await?;
        visits(manager).await?;
        notes(manager).await?;
        favourites(manager).await?;
        occasions(manager).await?;
        idempotency(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            SpecialOccasions::Table.into_iden(),
            FavoriteItems::Table.into_iden(),
            CustomerNotes::Table.into_iden(),
            Visits::Table.into_iden(),
            PointTransactions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// The points ledger.
async fn ledger(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use PointTransactions as P;
    manager
        .create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Id))
                .col(string_len(P::RestaurantId, 64))
                .col(big_integer(P::CustomerId))
                .col(string_len(P::Kind, 16))
                .col(big_integer(P::Delta))
                .col(big_integer(P::BalanceAfter))
                .col(string_len_null(P::Reason, 500))
                .col(string_len_null(P::IdempotencyKey, 210))
                .col(string_len(P::Actor, 100))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .foreign_key(&mut belongs_to_customer(P::Table, P::CustomerId))
                .to_owned(),
        )
        .await?;
    manager.create_index(Index::create().name("ix_point_transactions_customer").table(P::Table).col(P::CustomerId).col(P::Id).to_owned()).await
}

/// Visits.
async fn visits(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Visits as V;
    manager
        .create_table(
            Table::create()
                .table(V::Table)
                .col(big_pk_auto(V::Id))
                .col(string_len(V::RestaurantId, 64))
                .col(big_integer(V::CustomerId))
                .col(big_integer(V::AmountCents))
                .col(string_len_null(V::OrderId, 100))
                .col(timestamp_with_time_zone(V::VisitedAt))
                .foreign_key(&mut belongs_to_customer(V::Table, V::CustomerId))
                .to_owned(),
        )
        .await?;
    manager.create_index(Index::create().name("ix_visits_customer_time").table(V::Table).col(V::CustomerId).col(V::VisitedAt).to_owned()).await?;
    manager.create_index(Index::create().name("ix_visits_restaurant_time").table(V::Table).col(V::RestaurantId).col(V::VisitedAt).to_owned()).await?;
    manager.create_index(Index::create().name("ux_visits_restaurant_order").table(V::Table).col(V::RestaurantId).col(V::OrderId).unique().to_owned()).await
}

/// Staff notes on customers.
async fn notes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use CustomerNotes as N;
    manager
        .create_table(
            Table::create()
                .table(N::Table)
                .col(big_pk_auto(N::Id))
                .col(string_len(N::RestaurantId, 64))
                .col(big_integer(N::CustomerId))
                .col(text(N::Note))
                .col(string_len(N::AddedBy, 100))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .foreign_key(&mut belongs_to_customer(N::Table, N::CustomerId))
                .to_owned(),
        )
        .await?;
    manager.create_index(Index::create().name("ix_customer_notes_customer").table(N::Table).col(N::CustomerId).col(N::CreatedAt).to_owned()).await
}

/// Favourite items.
async fn favourites(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use FavoriteItems as F;
    manager
        .create_table(
            Table::create()
                .table(F::Table)
                .col(big_pk_auto(F::Id))
                .col(string_len(F::RestaurantId, 64))
                .col(big_integer(F::CustomerId))
                .col(string_len(F::ItemId, 100))
                .col(string_len_null(F::Name, 200))
                .col(big_integer(F::OrderCount))
                .col(timestamp_with_time_zone(F::LastOrderedAt))
                .foreign_key(&mut belongs_to_customer(F::Table, F::CustomerId))
                .to_owned(),
        )
        .await?;
    manager.create_index(Index::create().name("ux_favorite_items_customer_item").table(F::Table).col(F::CustomerId).col(F::ItemId).unique().to_owned()).await
}

/// Special occasions.
async fn occasions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use SpecialOccasions as S;
    manager
        .create_table(
            Table::create()
                .table(S::Table)
                .col(big_pk_auto(S::Id))
                .col(string_len(S::RestaurantId, 64))
                .col(big_integer(S::CustomerId))
                .col(string_len(S::Name, 100))
                .col(date(S::Date))
                .col(boolean(S::Recurring).default(true))
                .col(timestamp_with_time_zone(S::CreatedAt))
                .foreign_key(&mut belongs_to_customer(S::Table, S::CustomerId))
                .to_owned(),
        )
        .await?;
    manager.create_index(Index::create().name("ix_special_occasions_customer").table(S::Table).col(S::CustomerId).to_owned()).await
}

/// Idempotency keys of mutations.
async fn idempotency(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use IdempotencyKeys as K;
    manager
        .create_table(
            Table::create()
                .table(K::Table)
                .col(string_len(K::RestaurantId, 64))
                .col(string_len(K::Key, 210))
                .col(string_len(K::Operation, 64))
                .col(string_len(K::RequestHash, 64))
                .col(json_binary_null(K::Response))
                .col(timestamp_with_time_zone(K::CreatedAt))
                .primary_key(Index::create().col(K::RestaurantId).col(K::Key))
                .to_owned(),
        )
        .await
}
