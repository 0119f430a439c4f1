//! Indexes that give the customer list its rows in its default order (newest first) inside one
//! restaurant, so a page is read in order instead of filtered out of the whole table:
//! - `(restaurant_id, id)`, on PostgreSQL with `name` included: the unfiltered list and the name
//!   search walk one restaurant's newest members without reading other restaurants' rows, and
//!   the search tests names in the index without visiting the table;
//! - `(restaurant_id, tier, id)` and `(restaurant_id, status, id)` replace the indexes on
//!   `(restaurant_id, tier)` and `(restaurant_id, status)`: a tier or status filter reads the
//!   matching members newest first, and a deep page's ids come from the index alone
//!   (`entity::ops::customers::list`).
//!
//! None of these columns change when points do, so point updates stay in place (HOT).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    Id,
    Tier,
    Status,
}

const BY_ID: &str = "ix_customers_restaurant_id";
/// The indexes replaced (old name, new name, the column between the restaurant and the id).
const REPLACED: [(&str, &str, Customers); 2] = [
    ("ix_customers_restaurant_tier", "ix_customers_restaurant_tier_id", Customers::Tier),
    ("ix_customers_restaurant_status", "ix_customers_restaurant_status_id", Customers::Status),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Customers as C;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(&format!("CREATE INDEX IF NOT EXISTS {BY_ID} ON customers (restaurant_id, id) INCLUDE (name)")).await?;
        } else {
            manager.create_index(Index::create().name(BY_ID).table(C::Table).col(C::RestaurantId).col(C::Id).if_not_exists().to_owned()).await?;
        }
        for (old, new, col) in REPLACED {
            manager.create_index(Index::create().name(new).table(C::Table).col(C::RestaurantId).col(col).col(C::Id).if_not_exists().to_owned()).await?;
            manager.drop_index(Index::drop().name(old).table(C::Table).if_exists().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Customers as C;
        for (old, new, col) in REPLACED {
            manager.create_index(Index::create().name(old).table(C::Table).col(C::RestaurantId).col(col).if_not_exists().to_owned()).await?;
            manager.drop_index(Index::drop().name(new).table(C::Table).if_exists().to_owned()).await?;
        }
        manager.drop_index(Index::drop().name(BY_ID).table(C::Table).if_exists().to_owned()).await
    }
}
