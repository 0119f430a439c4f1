//! The key store's own migrations (tables `data_keys`, `customer_keys`, `key_checks`), kept
//! apart from the data's: the key store may be another database (by default a file beside the
//! SQLite database), so that a backup of the data does not carry the keys that erasure
//! destroys. Its applied migrations are listed in `seaql_keystore_migrations`.

use sea_orm_migration::sea_query::Alias;
use sea_orm_migration::{prelude::*, schema::*};

/// The key store's migrations.
pub struct KeystoreMigrator;

#[async_trait::async_trait]
impl MigratorTrait for KeystoreMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Keys)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_keystore_migrations").into_iden()
    }
}

struct Keys;

impl MigrationName for Keys {
    fn name(&self) -> &str {
        "k20261201_000001_keys"
    }
}

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Id,
    RestaurantId,
    Purpose,
    Wrapped,
    State,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CustomerKeys {
    Table,
    Id,
    RestaurantId,
    DataKeyId,
    Wrapped,
    CreatedAt,
}

#[derive(DeriveIden)]
enum KeyChecks {
    Table,
    Id,
    Sealed,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Keys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DataKeys as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(string_len(D::Id, 40).primary_key())
                    .col(string_len(D::RestaurantId, 64))
                    .col(string_len(D::Purpose, 8))
                    .col(text(D::Wrapped))
                    .col(string_len(D::State, 12))
                    .col(timestamp_with_time_zone(D::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_data_keys_restaurant").table(D::Table).col(D::RestaurantId).col(D::Purpose).to_owned()).await?;
        use CustomerKeys as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(string_len(K::Id, 40).primary_key())
                    .col(string_len(K::RestaurantId, 64))
                    .col(string_len(K::DataKeyId, 40))
                    .col(text(K::Wrapped))
                    .col(timestamp_with_time_zone(K::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_keys_data_key")
                            .from(K::Table, K::DataKeyId)
                            .to(D::Table, D::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("ix_customer_keys_data_key").table(K::Table).col(K::DataKeyId).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyChecks::Table)
                    .col(integer(KeyChecks::Id).primary_key())
                    .col(text(KeyChecks::Sealed))
                    .col(timestamp_with_time_zone(KeyChecks::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [CustomerKeys::Table.into_iden(), DataKeys::Table.into_iden(), KeyChecks::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
