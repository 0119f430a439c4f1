//! Personal data sealed at rest: the customers' phone, email, dates, allergies and dietary
//! needs become sealed text (`e1.…`, see `entity::crypto`), found through keyed blind indexes
//! (`phone_index` unique per restaurant, `email_index`, `phone_last4` for the search) instead
//! of their clear values; `key_id` names the customer's key in the key store. Rows written
//! before are sealed by the service's backfill at start. The trigram indexes on phone and email
//! go: they would index ciphertext.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    RestaurantId,
    PhoneIndex,
    EmailIndex,
    PhoneLast4,
    KeyId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Customers as C;
        for mut col in
            [string_len_null(C::PhoneIndex, 32), string_len_null(C::EmailIndex, 32), string_len_null(C::PhoneLast4, 32), string_len_null(C::KeyId, 40)]
        {
            manager.alter_table(Table::alter().table(C::Table).add_column(&mut col).to_owned()).await?;
        }
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP INDEX IF EXISTS ix_customers_email_trgm").await?;
            db.execute_unprepared("DROP INDEX IF EXISTS ix_customers_phone_trgm").await?;
            db.execute_unprepared(
                "ALTER TABLE customers ALTER COLUMN phone TYPE text, ALTER COLUMN email TYPE text, \
                 ALTER COLUMN date_of_birth TYPE text USING date_of_birth::text, \
                 ALTER COLUMN anniversary TYPE text USING anniversary::text, \
                 ALTER COLUMN dietary_restrictions TYPE text USING dietary_restrictions::text, \
                 ALTER COLUMN allergies TYPE text USING allergies::text",
            )
            .await?;
            db.execute_unprepared("ALTER TABLE email_deliveries ALTER COLUMN email TYPE text").await?;
        }
        // SQLite keeps any text in any column, whatever its declared type.
        manager.drop_index(Index::drop().name("ux_customers_restaurant_phone").table(C::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("ix_customers_restaurant_email").table(C::Table).to_owned()).await?;
        let indexes = [
            ("ux_customers_restaurant_phone_index", C::PhoneIndex, true),
            ("ix_customers_restaurant_email_index", C::EmailIndex, false),
            ("ix_customers_restaurant_phone_last4", C::PhoneLast4, false),
        ];
        for (name, col, unique) in indexes {
            let mut index = Index::create().name(name).table(C::Table).col(C::RestaurantId).col(col).to_owned();
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("sealed personal data cannot be unsealed by a migration".into()))
    }
}
