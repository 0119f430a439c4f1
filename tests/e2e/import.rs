//! `loyalty import customers`: members from another system, on both databases — sealed,
//! with their balances in the ledger and their consent audited; refused rows reported by
//! shape only; a second run (or a resumed one) writes nothing twice; one restaurant's import
//! is invisible to another.

use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;

const CSV: &str = "\
externalId,phone,name,email,dateOfBirth,memberSince,points,lifetimePoints,tier,emailOptIn,birthdayOffers,allergies
pos-1,(415) 555-0161,Ann Import,ann.import@example.com,1990-05-31,2019-03-01,120,900,silver,yes,true,nuts;shellfish
pos-2,+14155550162,Bob Import,bob.import@example.com,,,0,,,yes,,
pos-3,+14155550163,Cat Import,cat@,,,,,,,,
pos-4,+14155550164,Dan Import,,,,,,,maybe,,
pos-5,+14155550165,Eve Import,,,2020-01-01,12000,,,,,
";

const MEMBER: &str = "query($phone: String!) { findCustomer(phone: $phone) { name email loyaltyTier memberSince \
    loyaltyPoints { current lifetime redeemed } marketing { emailOptIn birthdayOffers smsOptIn } preferences { allergies } \
    pointsHistory(first: 10) { items { kind points balanceAfter } } } }";

/// `text` written to a file `name` of this test's own directory.
pub(crate) fn file(app: &TestApp, name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("loyalty-import-{}", app.base.rsplit(':').next().unwrap_or("0")));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn import(app: &TestApp, path: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["import", "customers", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    app.cli(&args).await
}

async fn count(app: &TestApp, key: Option<&str>) -> usize {
    let (_, body) = app.gql_as(Some(key.unwrap_or(&app.admin_key)), "{ customers(limit: 100) { items { id } } }", json!({})).await;
    body["data"]["customers"]["items"].as_array().map_or(0, Vec::len)
}

both!(members_arrive_sealed_with_their_balances_and_once, |app| async move {
    let path = file(&app, "members.csv", CSV);
    let dry = import(&app, &path, &["--dry-run"]).await;
    assert!(dry.contains("would import 3 members") && dry.contains("2 refused"), "{dry}");
    assert_eq!(count(&app, None).await, 0, "a dry run writes nothing");

    let out = import(&app, &path, &[]).await;
    assert!(out.contains("imported 3 members") && out.contains("0 already there") && out.contains("2 refused"), "{out}");
    let report = std::fs::read_to_string(format!("{}.errors.jsonl", path.display())).unwrap();
    let refused: Vec<Value> = report.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(refused[0], json!({ "line": 4, "field": "email", "reason": "is not a valid email address", "shape": "aaa@" }));
    assert_eq!((refused[1]["line"].as_u64(), refused[1]["field"].as_str()), (Some(5), Some("emailOptIn")));
    assert!(!report.contains("cat@") && !report.contains("Cat"), "the report shows shapes, not values: {report}");

    let ann = app.data(MEMBER, json!({ "phone": "+14155550161" })).await["findCustomer"].clone();
    assert_eq!(ann["name"], "Ann Import");
    assert_eq!(ann["email"], "ann.import@example.com");
    assert_eq!(ann["loyaltyTier"], "SILVER");
    assert!(ann["memberSince"].as_str().unwrap().starts_with("2019-03-01"), "{ann}");
    assert_eq!(ann["loyaltyPoints"], json!({ "current": 120, "lifetime": 900, "redeemed": 780 }));
    assert_eq!(ann["marketing"], json!({ "emailOptIn": true, "birthdayOffers": true, "smsOptIn": false }));
    assert_eq!(ann["preferences"]["allergies"], json!(["nuts", "shellfish"]));
    assert_eq!(
        ann["pointsHistory"]["items"],
        json!([{ "kind": "IMPORT", "points": -780, "balanceAfter": 120 }, { "kind": "IMPORT", "points": 900, "balanceAfter": 900 }]),
        "the ledger holds the balance"
    );
    let by_external = app.data("{ customer(externalId: \"pos-1\") { name externalId } }", json!({})).await;
    assert_eq!(by_external["customer"], json!({ "name": "Ann Import", "externalId": "pos-1" }));
    let eve = app.data(MEMBER, json!({ "phone": "+14155550165" })).await["findCustomer"].clone();
    assert_eq!(eve["loyaltyTier"], "VIP", "no tier given: 12,000 lifetime points decide");
    let labels = app.data("{ customer(externalId: \"pos-5\") { segments tags } }", json!({})).await;
    assert_eq!(labels["customer"], json!({ "segments": ["vip"], "tags": [] }), "the automatic segments are kept from the start");

    let db = app.db().await;
    let stored = crate::encryption::dump(&db, "SELECT phone, email FROM customer_personal").await;
    assert!(stored.lines().all(|l| l.starts_with("e1.")) && !stored.contains("4155550161") && !stored.contains("example.com"), "sealed as written: {stored}");
    let consent = crate::encryption::dump(&db, "SELECT action FROM audit_log WHERE action = 'consent.changed'").await;
    assert_eq!(consent.lines().count(), 3, "each consent granted is audited: {consent}");
    let built_in = app.data("{ campaigns(state: PAUSED) { items { id kind } } }", json!({})).await;
    let welcome = built_in["campaigns"]["items"].as_array().unwrap().iter().find(|c| c["kind"] == "WELCOME").unwrap()["id"].clone();
    app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": welcome })).await;
    let signed_up = json!({ "input": { "phone": "+14155550169", "name": "New Nia", "email": "nia@example.com", "marketing": { "emailOptIn": true } } });
    app.data("mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created } }", signed_up).await;
    app.data("mutation { runJob(job: WELCOME) { run { outcome } } }", json!({})).await;
    let welcomed = crate::encryption::dump(&db, "SELECT c.name FROM email_deliveries d JOIN customers c ON c.id = d.customer_id").await;
    assert_eq!(welcomed, "New Nia|\n", "a member who signed up is welcomed; those who came from another system are not new");

    let again = import(&app, &path, &[]).await;
    assert!(again.contains("imported 0 members") && again.contains("3 already there"), "{again}");
    assert_eq!(count(&app, None).await, 4, "the three imported once, and Nia");
});

both!(a_resumed_import_writes_each_member_once_and_only_for_its_restaurant, |app| async move {
    let rows: Vec<String> =
        (0..12).map(|i| format!(r#"{{"externalId": "j-{i}", "phone": "+1415555{:04}", "name": "Guest {i}", "points": {i}}}"#, 2000 + i)).collect();
    let half = file(&app, "half.jsonl", &rows[..7].join("\n"));
    let whole = file(&app, "whole.ndjson", &format!("{}\n\n", rows.join("\n")));
    import(&app, &half, &["--batch", "3"]).await;
    let out = import(&app, &whole, &["--batch", "5"]).await;
    assert!(out.contains("imported 5 members") && out.contains("7 already there") && out.contains("none refused"), "{out}");
    assert_eq!(count(&app, None).await, 12);
    let db = app.db().await;
    let sums = crate::encryption::dump(&db, "SELECT CAST(SUM(delta) AS TEXT) FROM point_transactions").await;
    assert_eq!(sums.trim_end_matches(['|', '\n']), (0..12).sum::<i64>().to_string(), "one ledger row per imported balance");

    let theirs = app.create_key("other", "admin").await;
    import(&app, &whole, &["--restaurant", "other"]).await;
    assert_eq!(count(&app, Some(&theirs)).await, 12, "the same people join the other restaurant as members of their own");
    assert_eq!(count(&app, None).await, 12, "ours are still ours alone");
    let (_, found) = app.gql_as(Some(&theirs), "{ findCustomer(phone: \"+14155552003\") { name loyaltyPoints { current } } }", json!({})).await;
    assert_eq!(found["data"]["findCustomer"], json!({ "name": "Guest 3", "loyaltyPoints": { "current": 3 } }));
    let find = "{ findCustomer(externalId: \"j-3\") { id } }";
    let ours = app.data(find, json!({})).await["findCustomer"]["id"].clone();
    let (_, mine) = app.gql_as(Some(&theirs), find, json!({})).await;
    assert!(ours.is_string() && mine["data"]["findCustomer"]["id"].is_string() && mine["data"]["findCustomer"]["id"] != ours, "each finds its own: {mine}");
    let third = app.create_key("third", "admin").await;
    let (_, none) = app.gql_as(Some(&third), find, json!({})).await;
    assert_eq!(none["data"]["findCustomer"], Value::Null, "a restaurant without the import finds no one");
});

both!(a_file_that_cannot_be_read_stops_before_writing, |app| async move {
    let path = file(&app, "odd.csv", "externalId,phone,name,favouriteDish\nx,+14155550170,Ann,Ramen\n");
    let (ok, _, err) = app.cli_result(&["import", "customers", path.to_str().unwrap()]).await;
    assert!(!ok && err.contains("favouriteDish") && err.contains("externalId, phone, name"), "{err}");
    let unknown = file(&app, "members.txt", "");
    let (ok, _, err) = app.cli_result(&["import", "customers", unknown.to_str().unwrap()]).await;
    assert!(!ok && err.contains("--format"), "{err}");
    assert_eq!(count(&app, None).await, 0);
});

const IMPORT: &str = "mutation($rows: [MemberImportInput!]!, $dry: Boolean!) { importCustomers(rows: $rows, dryRun: $dry) { \
    created unchanged refused rows { row outcome customerId field reason } } }";

both!(integrators_import_through_graphql_with_the_same_rules, |app| async move {
    let rows = json!([
        { "externalId": "crm-1", "phone": "+14155550181", "name": "Gia Graph", "email": "gia@example.com", "points": 40, "lifetimePoints": 60,
          "tier": "GOLD", "marketing": { "emailOptIn": true }, "allergies": ["sesame"], "dateOfBirth": "1988-02-29" },
        { "externalId": "crm-2", "phone": "12", "name": "Bad Phone" },
        { "externalId": "crm-1", "phone": "+14155550183", "name": "Twice" },
    ]);
    let dry = app.data(IMPORT, json!({ "rows": rows, "dry": true })).await["importCustomers"].clone();
    assert_eq!((dry["created"].as_i64(), dry["refused"].as_i64()), (Some(1), Some(2)), "{dry}");
    assert_eq!(dry["rows"][0]["outcome"], "WOULD_CREATE");
    assert_eq!(count(&app, None).await, 0, "a dry run writes nothing");

    let done = app.data(IMPORT, json!({ "rows": rows, "dry": false })).await["importCustomers"].clone();
    let id = done["rows"][0]["customerId"].clone();
    assert_eq!(done["rows"][0]["outcome"], "CREATED");
    assert_eq!(
        done["rows"][1],
        json!({ "row": 2, "outcome": "REFUSED", "customerId": null, "field": "phone",
        "reason": "is not a valid phone number; use international format, e.g. +14155550123" })
    );
    assert_eq!(done["rows"][2]["reason"], "repeats the member of line 1");
    let gia = app.data("query($id: ID!) { customer(id: $id) { externalId loyaltyTier loyaltyPoints { current lifetime redeemed } marketing { emailOptIn } preferences { allergies } dateOfBirth } }", json!({ "id": id })).await;
    assert_eq!(
        gia["customer"],
        json!({ "externalId": "crm-1", "loyaltyTier": "GOLD", "loyaltyPoints": { "current": 40, "lifetime": 60, "redeemed": 20 },
        "marketing": { "emailOptIn": true }, "preferences": { "allergies": ["sesame"] }, "dateOfBirth": "1988-02-29" })
    );

    let again = app.data(IMPORT, json!({ "rows": rows, "dry": false })).await["importCustomers"].clone();
    assert_eq!((again["created"].as_i64(), again["unchanged"].as_i64()), (Some(0), Some(2)), "{again}");
    assert_eq!(again["rows"][0]["customerId"], id);

    let staff = app.create_key("default", "staff").await;
    let (_, denied) = app.gql_as(Some(&staff), IMPORT, json!({ "rows": rows, "dry": false })).await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN", "{denied}");
    let theirs = app.create_key("other", "admin").await;
    let (_, body) = app.gql_as(Some(&theirs), IMPORT, json!({ "rows": [rows[0].clone()], "dry": false })).await;
    let their_id = body["data"]["importCustomers"]["rows"][0]["customerId"].clone();
    assert!(their_id.is_string() && their_id != id, "the other restaurant gets a member of its own: {body}");

    let many: Vec<Value> = (0..501).map(|i| json!({ "externalId": format!("bulk-{i}"), "phone": format!("+1415556{i:04}"), "name": "Bulk" })).collect();
    let (code, message, _) = app.error(IMPORT, json!({ "rows": many, "dry": false })).await;
    assert_eq!(code, "VALIDATION", "{message}");
    assert!(message.contains("at most 500"), "{message}");
    assert_eq!(count(&app, None).await, 1, "refused before any row was written");
    let three = "mutation { a: importCustomers(rows: []) { created } b: importCustomers(rows: []) { created } c: importCustomers(rows: []) { created } }";
    assert_eq!(app.error(three, json!({})).await.0, "TOO_COMPLEX", "one request holds at most two imports (1,000 members)");
});

both!(an_export_imports_again_into_the_same_members_and_balances, |app| async move {
    import(&app, &file(&app, "members.csv", CSV), &[]).await;
    let native = crate::create_customer(&app, "+14155550190", "Native Nat").await;
    app.data("mutation($id: ID!) { addPoints(customerId: $id, points: 70, reason: \"welcome\") { __typename } }", json!({ "id": native })).await;
    app.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 30) { __typename } }", json!({ "id": native })).await;

    let ours = file(&app, "ours.jsonl", "");
    app.cli(&["export", "customers", "--output", ours.to_str().unwrap()]).await;
    use std::os::unix::fs::PermissionsExt as _;
    let _ = std::fs::remove_file(&ours);
    app.cli(&["export", "customers", "--output", ours.to_str().unwrap()]).await;
    assert_eq!(std::fs::metadata(&ours).unwrap().permissions().mode() & 0o777, 0o600, "personal data: owner-only");
    let theirs_key = app.create_key("other", "admin").await;
    let out = import(&app, &ours, &["--restaurant", "other"]).await;
    assert!(out.contains("imported 4 members") && out.contains("none refused"), "{out}");
    let theirs = file(&app, "theirs.jsonl", "");
    app.cli(&["export", "customers", "--restaurant", "other", "--output", theirs.to_str().unwrap()]).await;
    let (a, b) = (std::fs::read_to_string(&ours).unwrap(), std::fs::read_to_string(&theirs).unwrap());
    assert_eq!(a.lines().count(), 4);
    assert_eq!(a, b, "the same members, balances, tiers, consent and personal values");
    assert!(a.contains(&format!("\"externalId\":\"{native}\"")), "a member who joined here carries its id: {a}");

    let ledger = |restaurant: &'static str| {
        let app = &app;
        async move {
            let text = app.cli(&["export", "ledger", "--restaurant", restaurant]).await;
            text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).collect::<Vec<_>>()
        }
    };
    let (our_ledger, their_ledger) = (ledger("default").await, ledger("other").await);
    let sum = |l: &[Value]| l.iter().map(|e| e["points"].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum(&our_ledger), sum(&their_ledger), "balance = ledger on both sides");
    assert!(their_ledger.iter().all(|e| e["kind"] == "import"), "{their_ledger:?}");
    let csv = app.cli(&["export", "customers", "--format", "csv"]).await;
    assert!(csv.starts_with("externalId,phone,name,email,") && csv.contains("nuts;shellfish"), "{csv}");
    let (_, none) = app.gql_as(Some(&theirs_key), "{ findCustomer(phone: \"+14155550190\") { loyaltyPoints { current lifetime redeemed } } }", json!({})).await;
    assert_eq!(none["data"]["findCustomer"]["loyaltyPoints"], json!({ "current": 40, "lifetime": 70, "redeemed": 30 }));
});

/// How many rows a query counts (as text, the same on both databases).
pub(crate) async fn rows_of(db: &sea_orm::DatabaseConnection, table_and_filter: &str) -> i64 {
    let text = crate::encryption::dump(db, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table_and_filter}")).await;
    text.trim_end_matches(['|', '\n']).parse().unwrap()
}

both!(an_import_killed_midway_resumes_to_exactly_one_of_everything, |app| async move {
    const N: usize = 2_000;
    let areas = ["415", "212", "312", "617", "213", "305", "404", "206", "512", "303"];
    let rows: String = (0..N)
        .map(|i| {
            format!(
                "{{\"externalId\":\"k-{i}\",\"phone\":\"+1{}{}{:04}\",\"name\":\"Killed {i}\",\"points\":5}}\n",
                areas[i % 10],
                200 + (i / 10) % 800,
                i / 8000
            )
        })
        .collect();
    let path = file(&app, "killed.jsonl", &rows);
    let db = app.db().await;
    let mut child = app.cli_child(&["import", "customers", path.to_str().unwrap(), "--batch", "25"]);
    while rows_of(&db, "customers").await == 0 && child.try_wait().unwrap().is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    child.kill().await.ok();
    let before = rows_of(&db, "customers").await;
    assert!(before > 0 && before % 25 == 0, "killed after whole batches only: {before}");

    let out = import(&app, &path, &[]).await;
    assert!(out.contains(&format!("imported {} members", N as i64 - before)) && out.contains(&format!("{before} already there")), "{out}");
    assert_eq!(rows_of(&db, "customers").await, N as i64);
    assert_eq!(rows_of(&db, "customer_personal").await, N as i64);
    assert_eq!(rows_of(&db, "point_transactions").await, N as i64, "one ledger entry per member, none twice");
    assert_eq!(rows_of(&db, "audit_log WHERE action = 'customer.created'").await, N as i64);
});
