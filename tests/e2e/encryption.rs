//! Personal data at rest: what the database holds is sealed, yet lookups, search, occasions and
//! emails work as before; the master key is checked at start; data keys rotate while the service
//! writes; an erasure destroys the customer's key, so a copy of the data taken before it no
//! longer reveals that customer (while it still does everyone else).

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::both;
use crate::harness::{self, Backend, TestApp};
use crate::smtp::SmtpSink;

/// The SQLite file of a `sqlite://` URL.
fn sqlite_file(url: &str) -> String {
    url.trim_start_matches("sqlite://").split('?').next().unwrap().to_string()
}

/// Every value of `sql`'s rows as text, joined (what someone reading the database sees).
pub(crate) async fn dump(db: &DatabaseConnection, sql: &str) -> String {
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap();
    let mut out = String::new();
    for row in rows {
        for i in 0.. {
            match row.try_get_by_index::<Option<String>>(i) {
                Ok(v) => out.push_str(&v.unwrap_or_default()),
                Err(_) => break,
            }
            out.push('|');
        }
        out.push('\n');
    }
    out
}

/// The key store's connection: the file beside a SQLite database, the database `<name>_keys`
/// beside a PostgreSQL one (unless the test gave it another).
async fn keystore(app: &TestApp) -> DatabaseConnection {
    match app.backend {
        Backend::Sqlite => Database::connect(format!("sqlite://{}.keys?mode=ro", sqlite_file(&app.db_url))).await.unwrap(),
        Backend::Postgres => {
            let name = app.db_url.rsplit('/').next().unwrap().split('?').next().unwrap();
            Database::connect(harness::with_database(&app.db_url, &format!("{name}_keys"))).await.unwrap()
        }
    }
}

pub(crate) const UPSERT: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";

async fn ann(app: &TestApp, birthday: chrono::NaiveDate) -> String {
    let input = json!({
        "phone": "+1 415 555 0142", "name": "Ann Lee", "email": "Ann.Lee@Example.com",
        "dateOfBirth": birthday.to_string(), "anniversary": "2015-06-20",
        "preferences": { "allergies": ["peanuts"], "dietaryRestrictions": ["vegan"] },
        "marketing": { "emailOptIn": true, "birthdayOffers": true }
    });
    let id = app.data(UPSERT, json!({ "input": input })).await["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"Allergic to shellfish, ask the chef\") { id note } }", json!({ "id": id })).await;
    let fb = app
        .data("mutation($id: ID!) { recordFeedback(customerId: $id, rating: 5, comment: \"Loved the tiramisu\") { review { comment } } }", json!({ "id": id }))
        .await;
    assert_eq!(fb["recordFeedback"]["review"]["comment"], "Loved the tiramisu", "{fb}");
    app.data(UPSERT, json!({ "input": { "phone": "+14155550142", "email": "ann@example.org" } })).await;
    id
}

both!(personal_values_are_sealed_at_rest_and_still_found, |app| async move {
    let today = chrono::Utc::now().date_naive();
    let soon = today + chrono::Duration::days(2);
    let birthday = soon.with_year(1992).unwrap_or(soon);
    let id = ann(&app, birthday).await;

    let db = app.db().await;
    let at_rest = [
        dump(&db, "SELECT phone, email, date_of_birth, anniversary, allergies, dietary_restrictions FROM customer_personal").await,
        dump(&db, "SELECT name FROM customers").await,
        dump(&db, "SELECT note FROM customer_notes").await,
        dump(&db, "SELECT comment FROM feedback").await,
        dump(&db, "SELECT CAST(details AS TEXT) FROM audit_log").await,
    ]
    .join("\n");
    assert!(at_rest.contains("Ann Lee"), "the name stays in clear for staff lists: {at_rest}");
    for secret in ["4155550142", "5550142", "ann.lee", "ann@example.org", "peanuts", "vegan", "2015-06-20", &birthday.to_string(), "shellfish", "tiramisu"] {
        assert!(!at_rest.to_lowercase().contains(secret), "{secret} is readable in the database: {at_rest}");
    }
    let ks = keystore(&app).await;
    let keys = dump(&ks, "SELECT wrapped FROM customer_keys").await;
    assert!(!keys.is_empty() && keys.lines().all(|l| l.starts_with("e1.")), "customer keys are stored wrapped: {keys}");

    let fields = "id phone email dateOfBirth anniversary preferences { allergies dietaryRestrictions } notes { items { note } } reviews { items { comment } }";
    let by_phone = app.data(&format!("{{ findCustomer(phone: \"(415) 555-0142\") {{ {fields} }} }}"), json!({})).await["findCustomer"].clone();
    assert_eq!(by_phone["id"], id.as_str(), "found by phone in another format");
    assert_eq!(by_phone["phone"], "+14155550142");
    assert_eq!(by_phone["email"], "ann@example.org");
    assert_eq!(by_phone["dateOfBirth"], birthday.to_string());
    assert_eq!(by_phone["anniversary"], "2015-06-20");
    assert_eq!(by_phone["preferences"], json!({ "allergies": ["peanuts"], "dietaryRestrictions": ["vegan"] }));
    assert_eq!(by_phone["notes"]["items"][0]["note"], "Allergic to shellfish, ask the chef");
    assert_eq!(by_phone["reviews"]["items"][0]["comment"], "Loved the tiramisu");
    let by_email = app.data("{ findCustomer(email: \" ANN@example.ORG\") { id } }", json!({})).await;
    assert_eq!(by_email["findCustomer"]["id"], id.as_str());
    assert!(
        app.data("{ findCustomer(email: \"ann.lee@example.com\") { id } }", json!({})).await["findCustomer"].is_null(),
        "the old address no longer finds her"
    );

    let search = |text: &'static str| {
        let app = &app;
        async move {
            let page = app.data("query($s: String) { customers(filter: { search: $s }) { items { name } } }", json!({ "s": text })).await;
            page["customers"]["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("lee").await, ["Ann Lee"], "by name");
    assert_eq!(search("0142").await, ["Ann Lee"], "by the last four digits");
    assert_eq!(search("555-0142").await, ["Ann Lee"], "by the last digits, formatted");
    assert_eq!(search("ann@example.org").await, ["Ann Lee"], "by the whole address");
    assert!(search("0143").await.is_empty());

    let occasions = app.data("{ upcomingOccasions(days: 7) { type customer { id dateOfBirth } } }", json!({})).await;
    let list = occasions["upcomingOccasions"].as_array().unwrap();
    assert!(list.iter().any(|o| o["type"] == "BIRTHDAY" && o["customer"]["id"] == id.as_str()), "the birthday is found by month and day: {occasions}");

    let export = app.data("query($id: ID!) { exportCustomer(id: $id) }", json!({ "id": id })).await["exportCustomer"].to_string();
    for clear in ["+14155550142", "ann@example.org", "peanuts", "shellfish", "tiramisu", "ann.lee@example.com"] {
        assert!(export.contains(clear), "the export shows {clear} in clear: {export}");
    }
    assert!(!export.contains("\"e1."), "no sealed value in the export: {export}");
    let audit = app.data("query($id: ID!) { auditLog(customerId: $id, action: CUSTOMER_UPDATED) { items { details } } }", json!({ "id": id })).await;
    assert_eq!(
        audit["auditLog"]["items"][0]["details"]["changes"]["email"],
        json!({ "from": "ann.lee@example.com", "to": "ann@example.org" }),
        "the audit log shows the change in clear to an admin: {audit}"
    );

    // Another restaurant with the same phone: its own customer, its own blind index.
    let other = app.create_key("other-bistro", "admin").await;
    let (_, body) = app.gql_as(Some(&other), UPSERT, json!({ "input": { "phone": "+14155550142", "name": "Other Ann" } })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let (_, found) = app.gql_as(Some(&other), "{ findCustomer(phone: \"+14155550142\") { name phone } }", json!({})).await;
    assert_eq!(found["data"]["findCustomer"], json!({ "name": "Other Ann", "phone": "+14155550142" }));
    let indexes = dump(&db, "SELECT phone_index FROM customers ORDER BY id").await;
    let lines: Vec<&str> = indexes.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_ne!(lines[0], lines[1], "each restaurant has its own index key");
    let (_, theirs) = app.gql_as(Some(&other), "{ customers(filter: { search: \"0142\" }) { items { name } } }", json!({})).await;
    assert_eq!(theirs["data"]["customers"]["items"], json!([{ "name": "Other Ann" }]));
});

both!(birthday_emails_reach_the_sealed_address, |app| async move {
    let sink = SmtpSink::start().await;
    let today = chrono::Utc::now().date_naive();
    let birthday = today.with_year(1992).unwrap_or(today);
    ann(&app, birthday).await;
    let run = "mutation($job: JobName!) { runJob(job: $job) { run { outcome } } }";
    app.data(run, json!({ "job": "BIRTHDAY" })).await;
    let db = app.db().await;
    assert_eq!(dump(&db, "SELECT COALESCE(sent_to, 'none') FROM email_deliveries").await, "none|\n", "a queued email carries no address");
    let pending = app.data("{ deliveries(first: 5) { items { email status } } }", json!({})).await;
    assert_eq!(pending["deliveries"]["items"][0], json!({ "email": "ann@example.org", "status": "PENDING" }), "where it will go");
    let mailer = app.replica(&[("SMTP_URL", &sink.url())]).await;
    mailer.data(run, json!({ "job": "DELIVERIES" })).await;
    let mail = sink.wait_for(1).await;
    assert!(mail[0].to.iter().any(|a| a == "ann@example.org"), "{:?}", mail[0].to);
    let stored = dump(&db, "SELECT sent_to FROM email_deliveries").await;
    assert!(!stored.contains("ann@example.org") && stored.starts_with("e1."), "the delivery keeps the address sealed: {stored}");
    let listed = app.data("{ deliveries(first: 5) { items { email } } }", json!({})).await;
    assert_eq!(listed["deliveries"]["items"][0]["email"], "ann@example.org");
});

both!(a_missing_or_wrong_master_key_is_refused_at_start, |app| async move {
    create_one(&app).await;
    let other = "0000000000000000000000000000000000000000000000000000000000000001";
    let (ok, _, err) = app.cli_with(&["migrate"], &[("LOYALTY_MASTER_KEY", other)]).await;
    assert!(!ok && err.contains("not the one the key store was sealed with"), "{err}");
    let (ok, _, err) = app.cli_with(&["migrate"], &[("LOYALTY_MASTER_KEY", "")]).await;
    assert!(!ok && err.contains("none was given"), "{err}");
    let (ok, _, err) = app.cli_with(&["migrate"], &[("LOYALTY_MASTER_KEY", "not-a-key")]).await;
    assert!(!ok && err.contains("32 bytes"), "{err}");
    let (ok, _, err) = app.cli_with(&["serve", "--bind", "127.0.0.1:0"], &[("LOYALTY_MASTER_KEY", other)]).await;
    assert!(!ok && err.contains("refusing to start"), "the service does not start either: {err}");
    let (ok, _, err) = app.cli_with(&["migrate"], &[]).await;
    assert!(ok, "the right key works: {err}");
});

async fn create_one(app: &TestApp) -> String {
    let data = app.data(UPSERT, json!({ "input": { "phone": "+14155550199", "name": "Zoe", "email": "zoe@example.com" } })).await;
    data["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_creates_its_master_key_file_once() {
    let mut app = TestApp::spawn_with(Backend::Sqlite, &[("LOYALTY_MASTER_KEY", "")]).await;
    let file = format!("{}.master-key", sqlite_file(&app.db_url));
    let meta = std::fs::metadata(&file).expect("the key file beside the database");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "owner-only");
    let id = create_one(&app).await;
    let key = app.admin_key.clone();
    app.terminate().await;
    app.start_service_with(&key, &[("LOYALTY_MASTER_KEY", "")]).await;
    let c = app.data("query($id: ID!) { customer(id: $id) { phone email } }", json!({ "id": id })).await;
    assert_eq!(c["customer"], json!({ "phone": "+14155550199", "email": "zoe@example.com" }), "read back with the same file after a restart");
    app.terminate().await;
    let moved = format!("{file}.away");
    std::fs::rename(&file, &moved).unwrap();
    let (ok, _, err) = app.cli_with(&["migrate"], &[("LOYALTY_MASTER_KEY", "")]).await;
    assert!(!ok && err.contains("none was given"), "without its key file the data is not opened, and no new key is made: {err}");
    assert!(!std::path::Path::new(&file).exists());
    let (ok, _, err) = app.cli_with(&["migrate"], &[("LOYALTY_MASTER_KEY", ""), ("LOYALTY_MASTER_KEY_FILE", &moved)]).await;
    assert!(ok, "the key file named explicitly: {err}");
}

both!(rotating_one_restaurants_keys_leaves_the_others_alone, |app| async move {
    create_one(&app).await;
    let other = app.create_key("other-bistro", "admin").await;
    let (_, body) = app.gql_as(Some(&other), UPSERT, json!({ "input": { "phone": "+14155550198", "name": "Yan", "email": "yan@example.com" } })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let ks = keystore(&app).await;
    let keys_of = |r: &'static str| {
        let ks = &ks;
        async move { dump(ks, &format!("SELECT id FROM data_keys WHERE purpose = 'data' AND restaurant_id = '{r}'")).await }
    };
    let (ours, theirs) = (keys_of("default").await, keys_of("other-bistro").await);
    let (ok, out, err) = app.cli_with(&["data-keys", "rotate", "--restaurant", "default"], &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("restaurant default:") && !out.contains("other-bistro"), "{out}");
    assert_ne!(keys_of("default").await, ours, "ours rotated");
    assert_eq!(keys_of("other-bistro").await, theirs, "theirs untouched");
    let (_, found) = app.gql_as(Some(&other), "{ findCustomer(phone: \"+14155550198\") { email } }", json!({})).await;
    assert_eq!(found["data"]["findCustomer"]["email"], "yan@example.com");
});

both!(rotation_under_concurrent_writes_loses_nothing, |app| async move {
    for i in 0..30 {
        app.data(UPSERT, json!({ "input": { "phone": format!("+1415556{i:04}"), "name": format!("Guest {i}"), "email": format!("guest{i}@example.com") } }))
            .await;
    }
    let ks = keystore(&app).await;
    let before = dump(&ks, "SELECT id FROM data_keys WHERE purpose = 'data'").await;
    let writes = async {
        for i in 30..60 {
            app.data(
                UPSERT,
                json!({ "input": { "phone": format!("+1415556{i:04}"), "name": format!("Guest {i}"), "email": format!("guest{i}@example.com") } }),
            )
            .await;
            let j = i - 30;
            app.data(UPSERT, json!({ "input": { "phone": format!("+1415556{j:04}"), "email": format!("renamed{j}@example.com") } })).await;
        }
    };
    let rotate = async { app.cli_with(&["data-keys", "rotate", "--batch", "7"], &[]).await };
    let ((), (ok, out, err)) = tokio::join!(writes, rotate);
    assert!(ok, "{err}");
    assert!(out.contains("customer keys re-wrapped, old keys deleted"), "{out}");
    assert!(err.contains("re-wrapped"), "progress is shown: {err}");
    let (ok, out, err) = app.cli_with(&["data-keys", "rotate"], &[]).await;
    assert!(ok, "a second rotation (or a resumed one) works too: {err}");
    assert!(out.contains("60 customer keys re-wrapped"), "{out}");

    let after = dump(&ks, "SELECT id FROM data_keys WHERE purpose = 'data'").await;
    assert_eq!(after.lines().count(), 1, "one data key is left: {after}");
    assert!(!before.contains(after.trim_end_matches(['|', '\n'])), "and it is a new one: {before} / {after}");
    let page = app.data("{ customers(limit: 100, sort: NAME) { totalCount items { name email } } }", json!({})).await;
    assert_eq!(page["customers"]["totalCount"], 60);
    for c in page["customers"]["items"].as_array().unwrap() {
        let i: usize = c["name"].as_str().unwrap().trim_start_matches("Guest ").parse().unwrap();
        let expected = if i < 30 { format!("renamed{i}@example.com") } else { format!("guest{i}@example.com") };
        assert_eq!(c["email"], expected.as_str(), "every value readable after the rotation");
    }
});

/// The customer's id, by phone.
pub(crate) async fn id_of(app: &TestApp, phone: &str) -> String {
    app.data("query($p: String) { findCustomer(phone: $p) { id } }", json!({ "p": phone })).await["findCustomer"]["id"].as_str().unwrap().to_string()
}

/// A customer's phone and email as `app` shows them, or the error code.
pub(crate) async fn contact_of(app: &TestApp, id: &str) -> Result<Value, String> {
    let body = app.gql("query($id: ID!) { customer(id: $id) { phone email } }", json!({ "id": id })).await;
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => Err(code.to_string()),
        None => Ok(body["data"]["customer"].clone()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_erasure_reaches_a_backup_taken_before_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.data(UPSERT, json!({ "input": { "phone": "+14155550101", "name": "Ann", "email": "ann@example.com" } })).await;
    app.data(UPSERT, json!({ "input": { "phone": "+14155550102", "name": "Bob", "email": "bob@example.com" } })).await;
    let (ann, bob) = (id_of(&app, "+14155550101").await, id_of(&app, "+14155550102").await);
    let dir = std::path::PathBuf::from(sqlite_file(&app.db_url)).parent().unwrap().join("copy");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("loyalty.db");
    let out = app.cli(&["backup", &copy.display().to_string()]).await;
    assert!(out.starts_with("backed up the data"), "{out}");

    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { name } }", json!({ "id": ann })).await;
    let live_keys = format!("sqlite://{}.keys?mode=rwc", sqlite_file(&app.db_url));
    let old = app.serve_on(&format!("sqlite://{}?mode=rwc", copy.display()), &[("LOYALTY_KEYSTORE_URL", &live_keys)]).await;
    assert_eq!(contact_of(&old, &ann).await, Err("DATA_ERASED".into()), "the copy from before no longer opens the erased customer");
    assert_eq!(contact_of(&old, &bob).await, Ok(json!({ "phone": "+14155550102", "email": "bob@example.com" })), "everyone else still opens");
    let copied = dump(&old.db().await, "SELECT phone, email FROM customer_personal").await;
    assert!(!copied.contains("ann@example.com") && !copied.contains("4155550101"), "the copy held Ann only sealed: {copied}");
    assert_eq!(contact_of(&app, &ann).await, Ok(json!({ "phone": format!("erased-{ann}"), "email": null })));

    let keys_copy = dir.join("keys.db");
    let out = app.cli(&["backup", "--keys", &keys_copy.display().to_string()]).await;
    assert!(out.starts_with("backed up the key store"), "{out}");
}

use chrono::Datelike;

both!(values_written_before_encryption_are_sealed_at_the_next_start, |app| async move {
    let mut app = app;
    let id = create_one(&app).await;
    // What the migration leaves of a customer written by an older version: values in clear, no
    // key, no blind index.
    app.sql("UPDATE customer_personal SET phone = '+14155550199', email = 'zoe@example.com', allergies = '[\"nuts\"]', dietary_restrictions = '[]', date_of_birth = NULL, anniversary = NULL").await;
    app.sql("UPDATE customers SET key_id = NULL, phone_index = NULL, email_index = NULL, phone_last4 = NULL").await;
    let key = app.admin_key.clone();
    app.terminate().await;
    app.start_service(&key).await;
    let db = app.db().await;
    let stored = dump(&db, "SELECT phone, email, allergies FROM customer_personal").await;
    assert!(!stored.contains("zoe@") && !stored.contains("nuts") && !stored.contains("4155550199"), "sealed at start: {stored}");
    let found = app.data("{ findCustomer(email: \"zoe@example.com\") { id phone preferences { allergies } } }", json!({})).await;
    assert_eq!(found["findCustomer"], json!({ "id": id, "phone": "+14155550199", "preferences": { "allergies": ["nuts"] } }));
});

both!(a_merge_seals_what_moves_under_the_targets_key, |app| async move {
    let today = chrono::Utc::now().date_naive();
    let source = ann(&app, today.with_year(1992).unwrap_or(today)).await;
    let target = create_one(&app).await;
    let ks = keystore(&app).await;
    let before = dump(&ks, "SELECT id FROM customer_keys").await.lines().count();
    app.data("mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id } }", json!({ "s": source, "t": target })).await;
    let merged = app
        .data("query($id: ID!) { customer(id: $id) { email dateOfBirth notes { items { note } } reviews { items { comment } } } }", json!({ "id": target }))
        .await;
    assert_eq!(merged["customer"]["notes"]["items"][0]["note"], "Allergic to shellfish, ask the chef", "{merged}");
    assert_eq!(merged["customer"]["reviews"]["items"][0]["comment"], "Loved the tiramisu");
    assert_eq!(merged["customer"]["email"], "zoe@example.com", "the target keeps its own address");
    assert_eq!(dump(&ks, "SELECT id FROM customer_keys").await.lines().count(), before - 1, "the source's key is gone with it");
});

/// A fresh path for a key file outside the database's folder.
fn new_key_path(app: &TestApp) -> std::path::PathBuf {
    let name = app.db_url.rsplit('/').next().unwrap().split('?').next().unwrap().replace('.', "-");
    std::env::temp_dir().join(format!("loyalty-test-{}-{name}.master-key", std::process::id()))
}

both!(the_master_key_rotates_and_the_old_one_opens_nothing, |app| async move {
    let mut app = app;
    let id = create_one(&app).await;
    let other = app.create_key("other-bistro", "admin").await;
    let (_, body) = app.gql_as(Some(&other), UPSERT, json!({ "input": { "phone": "+14155550198", "name": "Yan", "email": "yan@example.com" } })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let ks = keystore(&app).await;
    let (data_before, customers_before) =
        (dump(&ks, "SELECT id, wrapped FROM data_keys ORDER BY id").await, dump(&ks, "SELECT id, wrapped FROM customer_keys ORDER BY id").await);
    let minted = app.data("mutation($id: ID!) { createMemberToken(customerId: $id, minutes: 30) { token } }", json!({ "id": id })).await;
    let member_token = minted["createMemberToken"]["token"].as_str().unwrap().to_string();

    let (ok, _, err) = app.cli_with(&["master-key", "rotate"], &[]).await;
    assert!(!ok && err.contains("--new-key-file"), "a key given in the environment needs a file for the new one: {err}");
    let file = new_key_path(&app);
    let _ = std::fs::remove_file(&file);
    let (ok, out, err) = app.cli_with(&["master-key", "rotate", "--new-key-file", file.to_str().unwrap()], &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("4 restaurant keys re-wrapped"), "a data and an index key for each restaurant: {out}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the new key file is owner-only");
    let data_after = dump(&ks, "SELECT id, wrapped FROM data_keys ORDER BY id").await;
    let ids = |d: &str| d.lines().map(|l| l.split('|').next().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&data_after), ids(&data_before), "the same keys");
    assert!(data_after.lines().zip(data_before.lines()).all(|(a, b)| a != b), "each wrapped anew: {data_before} / {data_after}");
    assert_eq!(dump(&ks, "SELECT id, wrapped FROM customer_keys ORDER BY id").await, customers_before, "customer keys untouched");

    let contact = json!({ "phone": "+14155550199", "email": "zoe@example.com" });
    assert_eq!(contact_of(&app, &id).await, Ok(contact.clone()), "the running service keeps working with the keys it holds");
    let third = app.create_key("third-bistro", "admin").await;
    let (_, body) = app.gql_as(Some(&third), UPSERT, json!({ "input": { "phone": "+14155550197", "name": "Xia" } })).await;
    assert!(body.get("errors").is_some(), "but it stores no key under the retired master key: {body}");

    let (ok, _, err) = app.cli_with(&["migrate"], &[]).await;
    assert!(!ok && err.contains("not the one the key store was sealed with"), "the old key opens nothing: {err}");
    let key = app.admin_key.clone();
    app.terminate().await;
    let new_key = [("LOYALTY_MASTER_KEY", ""), ("LOYALTY_MASTER_KEY_FILE", file.to_str().unwrap())];
    app.start_service_with(&key, &new_key).await;
    assert_eq!(contact_of(&app, &id).await, Ok(contact), "restarted with the new key");
    let (_, found) = app.gql_as(Some(&other), "{ findCustomer(phone: \"+14155550198\") { email } }", json!({})).await;
    assert_eq!(found["data"]["findCustomer"]["email"], "yan@example.com", "the other restaurant too");
    let (status, me) = app.gql_as(Some(&member_token), "{ me { id } }", json!({})).await;
    assert_eq!((status, &me["data"]["me"]["id"]), (200, &json!(id)), "the member-token secret was re-wrapped with the rest: {me}");
    let (_, body) = app.gql_as(Some(&third), UPSERT, json!({ "input": { "phone": "+14155550197", "name": "Xia" } })).await;
    assert!(body.get("errors").is_none(), "a new restaurant's keys are made under the new key: {body}");
    let (ok, out, err) = app.cli_with(&["master-key", "rotate", "--new-key-file", file.to_str().unwrap()], &new_key).await;
    assert!(!ok && err.contains("in use already"), "{out} {err}");
    let _ = std::fs::remove_file(&file);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_defaults_key_file_is_replaced_by_a_rotation_even_an_interrupted_one() {
    let no_env = [("LOYALTY_MASTER_KEY", "")];
    let mut app = TestApp::spawn_with(Backend::Sqlite, &no_env).await;
    let file = format!("{}.master-key", sqlite_file(&app.db_url));
    let staged = format!("{file}.new");
    let id = create_one(&app).await;
    let key = app.admin_key.clone();
    let first = std::fs::read_to_string(&file).unwrap();

    let (ok, out, err) = app.cli_with(&["master-key", "rotate"], &no_env).await;
    assert!(ok && out.contains(&file), "{out} {err}");
    let second = std::fs::read_to_string(&file).unwrap();
    assert_ne!(first, second, "the file holds the new key");
    assert!(!std::path::Path::new(&staged).exists());
    app.terminate().await;
    app.start_service_with(&key, &no_env).await;
    let contact = json!({ "phone": "+14155550199", "email": "zoe@example.com" });
    assert_eq!(contact_of(&app, &id).await, Ok(contact.clone()));
    app.terminate().await;

    // Interrupted after the key store committed and before the file was replaced.
    let (ok, _, err) = app.cli_with(&["master-key", "rotate"], &no_env).await;
    assert!(ok, "{err}");
    let third = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&staged, &third).unwrap();
    std::fs::write(&file, &second).unwrap();
    let (ok, out, err) = app.cli_with(&["migrate"], &no_env).await;
    assert!(ok && out.contains("finished an interrupted master key rotation"), "{out} {err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), third);
    assert!(!std::path::Path::new(&staged).exists());
    app.start_service_with(&key, &no_env).await;
    assert_eq!(contact_of(&app, &id).await, Ok(contact));
}
