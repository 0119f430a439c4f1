//! Backups of the embedded SQLite database: `loyalty backup` under write load gives a copy
//! whose every balance equals its ledger, `loyalty restore` puts it in place, and refuses to
//! overwrite a database a service is running on.

use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::{add_points, assert_ledger_matches_on, create_customer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_write_load_restores_with_every_balance_equal_to_its_ledger() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(create_customer(&app, &format!("+1415555020{i}"), &format!("Guest {i}")).await);
    }
    let dir = tempdir();
    let backup = dir.join("backup.db");
    let backup_arg = backup.display().to_string();
    let load = async {
        for round in 0..40 {
            let id = &ids[round % ids.len()];
            add_points(&app, id, 10).await;
            app.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 5) { currentPoints } }", json!({ "id": id })).await;
        }
    };
    let copy = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        app.cli(&["backup", &backup_arg]).await
    };
    let ((), printed) = tokio::join!(load, copy);
    assert!(printed.starts_with("backed up the data to "), "{printed}");
    let (ok, _, err) = app.cli_result(&["backup", &backup_arg]).await;
    assert!(!ok && err.contains("exists already"), "a backup never overwrites a file: {err}");

    let (ok, _, err) = app.cli_result(&["restore", &backup_arg]).await;
    assert!(!ok && err.contains("a loyalty service is running"), "refused while the service runs: {err}");
    let (ok, _, err) = app.cli_result(&["restore", "/etc/hostname"]).await;
    assert!(!ok, "{err}");

    let restored_url = format!("sqlite://{}?mode=rwc", dir.join("restored.db").display());
    let out = app.cli(&["restore", &backup_arg, "--database-url", &restored_url]).await;
    assert!(out.starts_with("restored from"), "{out}");
    let (ok, _, err) = app.cli_result(&["restore", &dir.join("missing.db").display().to_string(), "--database-url", &restored_url]).await;
    assert!(!ok && err.contains("is not a file"), "{err}");
    let restored = sea_orm::Database::connect(&restored_url).await.unwrap();
    assert_ledger_matches_on(&restored).await;
    use sea_orm::{ConnectionTrait, Statement};
    let row = restored.query_one_raw(Statement::from_string(restored.get_database_backend(), "SELECT COUNT(*) AS n FROM customers")).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 5);
    restored.close().await.unwrap();
    let (ok, _, err) = app.cli_result(&["migrate", "--database-url", &restored_url]).await;
    assert!(!ok && err.contains("is empty, but the data holds sealed personal values"), "not without its key store: {err}");
    let live_keys = format!("sqlite://{}.keys?mode=rwc", app.db_url.trim_start_matches("sqlite://").split('?').next().unwrap());
    let (ok, _, err) = app.cli_result(&["migrate", "--database-url", &restored_url, "--keystore-url", &live_keys]).await;
    assert!(ok, "the restored database opens with its key store and is up to date: {err}");

    let (ok, _, err) = TestApp::spawn(Backend::Postgres).await.cli_result(&["backup", &dir.join("pg.db").display().to_string()]).await;
    assert!(!ok && err.contains("pg_dump"), "PostgreSQL is backed up with its own tools: {err}");
    std::fs::remove_dir_all(&dir).ok();
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("loyalty-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
