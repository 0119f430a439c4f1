//! Migration 30 (narrow customer rows) on a database written by the version before it: every
//! customer's six personal values move to `customer_personal` unchanged, across batches of ids,
//! the columns leave `customers`, and the values open as before.

mod support;

use entity::Scope;
use entity::entities::customer;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Statement};

/// Migrations before narrow rows.
const BEFORE: u32 = 29;

#[tokio::test]
async fn personal_values_move_to_their_own_table_unchanged() {
    for fresh in support::databases_at("narrow_rows", Some(BEFORE)).await {
        let db = &fresh.db;
        // Ids far apart: the copy goes in batches of 50,000 ids and must not miss any.
        for (id, phone, extra) in [
            (1, "+14155550101", "'ann@example.com', '1990-05-01', '2015-06-20', '[\"vegan\"]', '[\"nuts\"]'"),
            (120_001, "+14155550102", "NULL, NULL, NULL, '[]', '[]'"),
        ] {
            let sql = format!(
                "INSERT INTO customers (id, restaurant_id, phone, email, date_of_birth, anniversary, dietary_restrictions, allergies, name, tier, \
                 member_since, referral_code, status, last_activity_at, created_at, updated_at) \
                 VALUES ({id}, 'r', '{phone}', {extra}, 'Ann', 'bronze', '2026-01-01T00:00:00Z', 'CODE{id}', 'active', \
                 '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
            );
            db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{}: {e}", fresh.name));
        }
        Migrator::up(db, None).await.unwrap();

        let gone = db.query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT phone FROM customers")).await;
        assert!(gone.is_err(), "{}: the sealed columns left customers", fresh.name);
        let rows = customer::Entity::find().order_by_asc(customer::Column::Id).all(db).await.unwrap();
        let scope = Scope::new("r", "test", entity::vault::Vault::detached());
        let opened = entity::ops::customers::personal::open_many(db, &scope, &rows).await.unwrap();
        assert_eq!(opened.len(), 2, "{}", fresh.name);
        assert_eq!(opened[0].phone, "+14155550101");
        assert_eq!(opened[0].email.as_deref(), Some("ann@example.com"));
        assert_eq!(opened[0].date_of_birth, chrono::NaiveDate::from_ymd_opt(1990, 5, 1));
        assert_eq!(opened[0].anniversary, chrono::NaiveDate::from_ymd_opt(2015, 6, 20));
        assert_eq!((opened[0].dietary_restrictions.clone(), opened[0].allergies.clone()), (vec!["vegan".to_string()], vec!["nuts".to_string()]));
        assert_eq!((opened[1].phone.as_str(), opened[1].email.as_ref()), ("+14155550102", None), "{}", fresh.name);
        assert!(opened[1].allergies.is_empty() && opened[1].date_of_birth.is_none());

        // A read that will open values brings those values (and the key) with it, no others; a
        // narrow one reads none.
        use entity::entities::customer_personal::Column as P;
        use entity::ops::customers::Projection;
        let all = || customer::Entity::find().order_by_asc(customer::Column::Id);
        let opening = Projection::only([customer::Column::Name]).with_personal([P::Phone]).read(db, all()).await.unwrap();
        assert_eq!(opening.iter().map(|c| c.personal.as_ref().map(|p| p.customer_id)).collect::<Vec<_>>(), vec![Some(1), Some(120_001)], "{}", fresh.name);
        assert!(opening.iter().all(|c| c.key_id.is_none()), "{}: the key's column is read (written before encryption: none)", fresh.name);
        let first = entity::ops::customers::personal::open_with(opening[0].personal.as_ref().unwrap(), None).unwrap();
        assert_eq!((first.phone.as_str(), first.email.as_deref(), first.allergies.len()), ("+14155550101", None, 0), "{}: only the phone was read", fresh.name);
        let narrow = Projection::only([customer::Column::Name]).read(db, all()).await.unwrap();
        assert!(narrow.iter().all(|c| c.personal.is_none()), "{}", fresh.name);

        let elsewhere = Scope::new("other", "test", entity::vault::Vault::detached());
        let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
        assert!(
            entity::ops::customers::personal::rows(db, &elsewhere, &ids).await.unwrap().is_empty(),
            "{}: another restaurant reads none of them",
            fresh.name
        );

        db.execute_unprepared("DELETE FROM customers WHERE id = 120001").await.unwrap();
        let left = db.query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) FROM customer_personal")).await.unwrap().unwrap();
        assert_eq!(left.try_get_by_index::<i64>(0).unwrap(), 1, "{}: a customer's personal row goes with it", fresh.name);
        fresh.close().await;
    }
}
