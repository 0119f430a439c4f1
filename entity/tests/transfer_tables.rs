//! `migrate-data` copies every table: the list it copies and undoes is every table a migrated
//! database has, but the migrations' own bookkeeping and the key store's tables.

mod support;

use entity::ops::transfer::TABLES;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

#[tokio::test]
async fn every_table_is_moved() {
    for fresh in support::databases("transfer_tables").await {
        let sql = match fresh.db.get_database_backend() {
            DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            _ => "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
        };
        let rows = fresh.db.query_all_raw(Statement::from_string(fresh.db.get_database_backend(), sql)).await.unwrap();
        let mut tables: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
        tables.retain(|t| !["seaql_migrations", "customer_keys", "data_keys", "key_checks"].contains(&t.as_str()));
        tables.sort();
        let mut moved: Vec<String> = TABLES.iter().map(ToString::to_string).collect();
        moved.sort();
        assert_eq!(tables, moved, "{}", fresh.name);
        fresh.close().await;
    }
}
