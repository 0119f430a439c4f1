//! Migration 31 (a delivery keeps the address it was sent to): rows already sent keep their
//! copy of the address in `sent_to`, queued ones carry none, and `email` stays for a replica of
//! the previous release, which still writes and reads it.

mod support;

use entity::entities::email_delivery;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

/// Migrations before `sent_to`.
const BEFORE: u32 = 30;

#[tokio::test]
async fn sent_rows_keep_their_address_and_queued_rows_carry_none() {
    for fresh in support::databases_at("delivery_sent_to", Some(BEFORE)).await {
        let db = &fresh.db;
        let at = "'2026-01-01T00:00:00Z'";
        db.execute_unprepared(&format!(
            "INSERT INTO customers (id, restaurant_id, name, tier, member_since, referral_code, status, last_activity_at, created_at, updated_at) \
             VALUES (1, 'r', 'Ann', 'bronze', {at}, 'CODE1', 'active', {at}, {at}, {at})"
        ))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", fresh.name));
        let delivery = |period: &str, email: &str, status: &str| {
            format!(
                "INSERT INTO email_deliveries (restaurant_id, customer_id, campaign, period_key, email, status, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES ('r', 1, 'birthday', '{period}', '{email}', '{status}', 1, {at}, {at}, {at})"
            )
        };
        for (period, email, status) in [("2024", "e1.sealed-2024", "sent"), ("2025", "erased", "sent"), ("2026", "e1.sealed-2026", "pending")] {
            db.execute_unprepared(&delivery(period, email, status)).await.unwrap_or_else(|e| panic!("{}: {e}", fresh.name));
        }
        Migrator::up(db, None).await.unwrap();

        let rows = email_delivery::Entity::find().order_by_asc(email_delivery::Column::Id).all(db).await.unwrap();
        let sent_to: Vec<Option<&str>> = rows.iter().map(|d| d.sent_to.as_deref()).collect();
        assert_eq!(sent_to, vec![Some("e1.sealed-2024"), None, None], "{}: only an address a sent row went to is kept", fresh.name);
        db.execute_unprepared(&delivery("2027", "e1.sealed-2027", "pending"))
            .await
            .unwrap_or_else(|e| panic!("{}: the previous release still enqueues: {e}", fresh.name));
        fresh.close().await;
    }
}
