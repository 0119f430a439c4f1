//! What a copy of the data alone gives an attacker: no secret that signs member tokens or
//! unsubscribe links, no key of an erased member; and a service that refuses to run on a key
//! store that is missing or belongs to other data.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

use crate::encryption::{UPSERT, contact_of, dump, id_of};
use crate::harness::{self, Backend, TestApp};
use crate::{both, create_customer, on_both};

/// Every `service_settings` row of the data: `(key, value)`.
async fn settings(app: &TestApp) -> Vec<(String, String)> {
    let db = app.db().await;
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT key, value FROM service_settings")).await.unwrap();
    rows.iter().map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap())).collect()
}

/// A member token for `customer` signed with `secret` the way the service signs its own.
fn member_token(secret: &str, customer: i64) -> String {
    let claims = json!({
        "sub": format!("customer:{customer}"), "restaurant": "default", "role": "customer", "customer_id": customer,
        "iss": "loyalty", "exp": chrono::Utc::now().timestamp() + 3600,
    });
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()))
        .unwrap()
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    app.gql_as(Some(token), "{ me { id phone } }", json!({})).await
}

both!(a_copy_of_the_data_signs_no_member_token_and_no_unsubscribe_link, |app| async move {
    let id = create_customer(&app, "+14155550111", "Ann Lee").await;
    let minted = app.data("mutation($id: ID!) { createMemberToken(customerId: $id, minutes: 30) { token } }", json!({ "id": id })).await;
    let (status, body) = me(&app, minted["createMemberToken"]["token"].as_str().unwrap()).await;
    assert_eq!((status, &body["data"]["me"]["phone"]), (200, &json!("+14155550111")), "the service's own token works: {body}");

    let rows = settings(&app).await;
    assert!(!rows.is_empty());
    let numeric: i64 = id.parse().unwrap();
    for (key, value) in &rows {
        assert!(!key.contains("secret"), "a secret sits in the data: {key}");
        let (status, body) = me(&app, &member_token(value, numeric)).await;
        assert_eq!(status, 401, "service_settings.{key} signs member tokens: {body}");
        let link = jobs::unsubscribe::Links::new(value).token(numeric);
        let (status, _) = app.get(&format!("/unsubscribe?token={link}")).await;
        assert_eq!(status, 400, "service_settings.{key} signs unsubscribe links");
    }
});

/// A secret an earlier version kept in the data is moved into the key store: tokens and links
/// signed with it stay valid, and the data no longer holds it.
async fn secrets_kept_in_the_data_move_into_the_key_store(backend: Backend) {
    let mut app = TestApp::empty(backend).await;
    let (ok, _, err) = app.cli_result(&["migrate"]).await;
    assert!(ok, "{err}");
    let legacy = "5a".repeat(32);
    app.sql(&format!("INSERT INTO service_settings (key, value) VALUES ('member_token_secret', '{legacy}'), ('unsubscribe_secret', '{legacy}')")).await;
    let key = app.cli(&["keys", "create", "--role", "admin"]).await.trim().to_string();
    app.start_service(&key).await;
    let id: i64 = create_customer(&app, "+14155550112", "Bo Chen").await.parse().unwrap();
    assert!(settings(&app).await.iter().all(|(k, _)| !k.contains("secret")), "moved out of the data");
    let (status, body) = me(&app, &member_token(&legacy, id)).await;
    assert_eq!((status, &body["data"]["me"]["phone"]), (200, &json!("+14155550112")), "a token signed before still works: {body}");
    let link = jobs::unsubscribe::Links::new(&legacy).token(id);
    assert_eq!(app.get(&format!("/unsubscribe?token={link}")).await.0, 200, "a link sent before still works");
}

on_both!(secrets_kept_in_the_data_move_into_the_key_store);

fn sqlite_file(url: &str) -> String {
    url.trim_start_matches("sqlite://").split('?').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_missing_or_foreign_key_store_is_refused() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    create_customer(&app, "+14155550113", "Cy Diaz").await;
    app.terminate().await;
    let keys = format!("{}.keys", sqlite_file(&app.db_url));
    let aside = format!("{keys}.aside");
    // A SQLite database is its file and its write-ahead log: they move together.
    let move_store = |from: &str, to: &str| {
        for side in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{to}{side}"));
            let _ = std::fs::rename(format!("{from}{side}"), format!("{to}{side}"));
        }
    };
    move_store(&keys, &aside);
    let (ok, _, err) = app.cli_result(&["migrate"]).await;
    assert!(!ok && err.contains("is empty, but the data holds sealed personal values") && err.contains("loyalty restore --keys"), "{err}");
    let (ok, _, err) = app.cli_result(&["migrate"]).await;
    assert!(!ok, "still refused on the next try (nothing was written meanwhile): {err}");

    let other = TestApp::spawn(Backend::Sqlite).await;
    create_customer(&other, "+14155550114", "Di Eng").await;
    let (ok, _, err) = other.cli_result(&["backup", "--keys", &format!("{keys}.other")]).await;
    assert!(ok, "{err}");
    move_store(&format!("{keys}.other"), &keys);
    let (ok, _, err) = app.cli_result(&["migrate"]).await;
    assert!(!ok && err.contains("belongs to other data"), "another deployment's key store is refused: {err}");

    move_store(&aside, &keys);
    let (ok, _, err) = app.cli_result(&["migrate"]).await;
    assert!(ok, "its own key store back: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_missing_key_store_is_refused() {
    let mut app = TestApp::spawn(Backend::Postgres).await;
    create_customer(&app, "+14155550115", "Ed Fox").await;
    app.terminate().await;
    let name = app.db_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    crate::harness::admin_sql(&format!("DROP DATABASE {name}_keys WITH (FORCE)")).await;
    let (ok, _, err) = app.cli_result(&["migrate"]).await;
    assert!(!ok && err.contains("is empty, but the data holds sealed personal values"), "{err}");
}

/// After an erasure, neither the key store's file nor its write-ahead log holds the erased
/// customer's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_erased_key_leaves_no_bytes_in_the_key_store_files() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ann = create_customer(&app, "+14155550116", "Ann Lee").await;
    create_customer(&app, "+14155550117", "Bob Ray").await;
    let keys = format!("{}.keys", sqlite_file(&app.db_url));
    let wrapped: String = {
        let db = app.db().await;
        let sql = format!("SELECT key_id FROM customers WHERE id = {ann}");
        let key_id: String = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap().try_get_by_index(0).unwrap();
        db.close().await.unwrap();
        let ks = Database::connect(format!("sqlite://{keys}?mode=ro")).await.unwrap();
        let sql = format!("SELECT wrapped FROM customer_keys WHERE id = '{key_id}'");
        let row = ks.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
        ks.close().await.unwrap();
        row.try_get_by_index(0).unwrap()
    };
    let needle = &wrapped.as_bytes()[10..50];
    let holds = |path: &str| std::fs::read(path).map(|b| b.windows(needle.len()).any(|w| w == needle)).unwrap_or(false);
    assert!(holds(&keys) || holds(&format!("{keys}-wal")), "the key is in the store before");
    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { name } }", json!({ "id": ann })).await;
    for file in [keys.clone(), format!("{keys}-wal")] {
        assert!(!holds(&file), "{file} still holds the erased customer's key");
    }
    let bob = app.data("{ findCustomer(phone: \"+14155550117\") { name } }", json!({})).await;
    assert_eq!(bob["findCustomer"]["name"], "Bob Ray", "the others still open");
}

/// A deployment that kept its keys in the data's own database (the layout of earlier
/// versions) has them moved into the key store's database at its next start: every member
/// still opens, and the data's database holds no key table any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keys_kept_in_the_data_move_to_their_own_database() {
    let mut app = TestApp::empty(Backend::Postgres).await;
    let same = [("LOYALTY_KEYSTORE_URL", app.db_url.clone())];
    let same: Vec<(&str, &str)> = same.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ok, out, err) = app.cli_with(&["keys", "create", "--role", "admin"], &same).await;
    assert!(ok, "{err}");
    app.start_service_with(out.trim(), &same).await;
    let id = create_customer(&app, "+14155550118", "Flo Gray").await;
    app.terminate().await;

    app.start_service(&app.admin_key.clone()).await;
    let found = app.data("query($id: ID!) { customer(id: $id) { phone } }", json!({ "id": id })).await;
    assert_eq!(found["customer"]["phone"], "+14155550118", "opens with the moved keys");
    let db = app.db().await;
    let sql =
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('customer_keys', 'data_keys', 'key_checks')";
    let left: i64 = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap().try_get_by_index(0).unwrap();
    assert_eq!(left, 0, "the key tables left the data's database");
}

/// The database, its key store and their backups are readable by their owner only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await;
    create_customer(&app, "+14155550119", "Gus Hale").await;
    let db = sqlite_file(&app.db_url);
    let (data_copy, keys_copy) = (format!("{db}.backup"), format!("{db}.keys.backup"));
    app.cli(&["backup", &data_copy]).await;
    app.cli(&["backup", "--keys", &keys_copy]).await;
    for file in [db.clone(), format!("{db}-wal"), format!("{db}.keys"), format!("{db}.keys-wal"), format!("{db}.master-key"), data_copy, keys_copy] {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        assert_eq!(meta.permissions().mode() & 0o077, 0, "{file} is readable by others: {:o}", meta.permissions().mode());
    }
    assert!(std::fs::metadata(format!("{db}.keys")).is_ok());
}

/// The default layout on PostgreSQL keeps the keys in a database of their own (`<name>_keys`),
/// so a copy of the data's database taken before an erasure no longer opens the member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_erasure_reaches_a_copy_taken_before_it() {
    let mut app = TestApp::empty(Backend::Postgres).await;
    let name = app.db_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let (keys_db, copy_db) = (format!("{name}_keys"), format!("{name}_copy"));
    let key = app.cli(&["keys", "create", "--role", "admin"]).await.trim().to_string();
    app.start_service(&key).await;
    app.data(UPSERT, json!({ "input": { "phone": "+14155550101", "name": "Ann", "email": "ann@example.com" } })).await;
    app.data(UPSERT, json!({ "input": { "phone": "+14155550102", "name": "Bob", "email": "bob@example.com" } })).await;
    let (ann, bob) = (id_of(&app, "+14155550101").await, id_of(&app, "+14155550102").await);
    let tables = dump(&app.db().await, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").await;
    assert!(!tables.contains("customer_keys") && !tables.contains("data_keys"), "no key table in the data's database: {tables}");
    app.terminate().await;
    harness::admin_sql(&format!("CREATE DATABASE {copy_db} TEMPLATE {name}")).await;
    app.start_service(&key).await;

    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { name } }", json!({ "id": ann })).await;
    let keys_url = harness::with_database(&harness::admin_url(), &keys_db);
    let old = app.serve_on(&harness::with_database(&harness::admin_url(), &copy_db), &[("LOYALTY_KEYSTORE_URL", keys_url.as_str())]).await;
    assert_eq!(contact_of(&old, &ann).await, Err("DATA_ERASED".into()), "the copy from before no longer opens the erased customer");
    assert_eq!(contact_of(&old, &bob).await, Ok(json!({ "phone": "+14155550102", "email": "bob@example.com" })));
    drop(old);
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    harness::admin_sql(&format!("DROP DATABASE IF EXISTS {copy_db} WITH (FORCE)")).await;
}
