//! A campaign's emails are written once per member and period: the plain insert that runs
//! first falls back to `ON CONFLICT DO NOTHING` when a batch meets rows that exist (a rerun, a
//! racing replica), also inside a transaction, which stays usable.

mod support;

use entity::marketing::kinds::Campaign;
use entity::marketing::outbox::{Letter, enqueue_many};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, Statement};

async fn count(db: &impl ConnectionTrait) -> i64 {
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) FROM email_deliveries")).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn a_batch_that_meets_written_rows_writes_only_the_new_ones() {
    for fresh in support::databases("enqueue_once").await {
        let db = &fresh.db;
        for id in 1..=4 {
            db.execute_unprepared(&format!(
                "INSERT INTO customers (id, restaurant_id, name, tier, member_since, referral_code, status, last_activity_at, created_at, updated_at, email_index) \
                 VALUES ({id}, 'r', 'Ann', 'bronze', '2026-01-01T00:00:00Z', 'CODE{id}', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'ix{id}')"
            ))
            .await
            .unwrap();
            db.execute_unprepared(&format!(
                "INSERT INTO customer_personal (customer_id, restaurant_id, phone, email, dietary_restrictions, allergies) VALUES ({id}, 'r', '+1415555010{id}', 'm{id}@example.com', '[]', '[]')"
            ))
            .await
            .unwrap();
        }
        let now = entity::ops::now();
        let letter = Letter::builtin(Campaign::WinBack, Expr::value("2026-12"), None);
        assert_eq!(enqueue_many(db, "r", &letter, &[1, 2], now).await.unwrap(), 2, "{}", fresh.name);
        assert_eq!(enqueue_many(db, "r", &letter, &[1, 2, 3], now).await.unwrap(), 1, "{}: a rerun writes only member 3", fresh.name);

        let txn = entity::tx::begin_write(db).await.unwrap();
        assert_eq!(enqueue_many(&txn, "r", &letter, &[2, 3, 4], now).await.unwrap(), 1, "{}", fresh.name);
        let other = Letter::builtin(Campaign::Birthday, Expr::value("2026"), None);
        assert_eq!(enqueue_many(&txn, "r", &other, &[1], now).await.unwrap(), 1, "{}: the transaction goes on after the conflict", fresh.name);
        txn.commit().await.unwrap();
        assert_eq!(count(db).await, 5, "{}", fresh.name);
        assert_eq!(enqueue_many(db, "r", &letter, &[9], now).await.unwrap(), 0, "{}: no such member", fresh.name);
        fresh.close().await;
    }
}
