//! Narrow customer rows: the six sealed personal values (phone, email, date of birth,
//! anniversary, dietary restrictions, allergies: ~470 of a row's ~780 bytes) move to the 1:1
//! table `customer_personal`, read only where a value is opened. Lists, scans and jobs read
//! `customers` without them; the blind indexes and the key id stay on `customers`, where
//! lookups and filters use them. The values are copied as they are (sealed text opens the same
//! in either table). PostgreSQL gives the dropped columns' space back only on a rewrite of the
//! table (`VACUUM FULL customers` or `pg_repack`), an operator's choice (`docs/deployment.md`).

use sea_orm_migration::sea_orm::Statement;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    Phone,
    Email,
    DateOfBirth,
    Anniversary,
    DietaryRestrictions,
    Allergies,
}

#[derive(DeriveIden)]
enum CustomerPersonal {
    Table,
    CustomerId,
    RestaurantId,
    Phone,
    Email,
    DateOfBirth,
    Anniversary,
    DietaryRestrictions,
    Allergies,
}

/// Customers copied per statement.
const BATCH: i64 = 50_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CustomerPersonal as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_integer(P::CustomerId).primary_key())
                    .col(string_len(P::RestaurantId, 64))
                    .col(text(P::Phone))
                    .col(text_null(P::Email))
                    .col(text_null(P::DateOfBirth))
                    .col(text_null(P::Anniversary))
                    .col(text(P::DietaryRestrictions))
                    .col(text(P::Allergies))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_personal_customer")
                            .from(P::Table, P::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        copy_values(manager).await?;
        use Customers as C;
        for col in [C::Phone, C::Email, C::DateOfBirth, C::Anniversary, C::DietaryRestrictions, C::Allergies] {
            manager.alter_table(Table::alter().table(C::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("personal values stay apart from customers: migration 30 cannot be undone (and 23 before it neither)".into()))
    }
}

/// Copies every customer's six values, `BATCH` ids per statement.
async fn copy_values(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let range = db.query_one_raw(Statement::from_string(backend, "SELECT MIN(id), MAX(id) FROM customers")).await?;
    let (Some(first), Some(last)) =
        range.map_or((None, None), |r| (r.try_get_by_index::<Option<i64>>(0).ok().flatten(), r.try_get_by_index::<Option<i64>>(1).ok().flatten()))
    else {
        return Ok(());
    };
    let mut from = first;
    while from <= last {
        let sql = format!(
            "INSERT INTO customer_personal (customer_id, restaurant_id, phone, email, date_of_birth, anniversary, dietary_restrictions, allergies) \
             SELECT id, restaurant_id, phone, email, date_of_birth, anniversary, COALESCE(dietary_restrictions, '[]'), COALESCE(allergies, '[]') \
             FROM customers WHERE id >= {from} AND id < {}",
            from + BATCH
        );
        db.execute_unprepared(&sql).await?;
        from += BATCH;
    }
    Ok(())
}
