//! Restaurants as tenants: their own settings (read by every role, changed by admins, audited,
//! checked), rules that follow them, jobs and emails per restaurant at its own local time, and
//! nothing of one restaurant reachable from another.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::smtp::SmtpSink;
use crate::{both, create_customer, on_both};

const SETTINGS: &str = "{ restaurant { id name timezone currency pointsPerDollar pointsPerRedeemedDollar referralBonus
    tierDiscounts { bronze silver gold platinum vip } dormantDays atRiskDays occasionLeadDays winBackDays
    schedule { dormancy birthday anniversary winBack } mailFrom senderName replyTo publicUrl } }";
const UPDATE: &str = "mutation($input: RestaurantInput!) { updateRestaurant(input: $input) { id name timezone pointsPerDollar replyTo } }";

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

async fn order(app: &TestApp, key: &str, phone: &str, order_id: &str) -> Value {
    let q = "mutation($phone: String!, $id: String!) { recordOrder(input: { phone: $phone, orderId: $id, amount: 45.99 }) { pointsEarned } }";
    let (_, body) = app.gql_as(Some(key), q, json!({ "phone": phone, "id": order_id })).await;
    body
}

both!(settings_are_read_by_all_changed_by_admins_audited_and_checked, |app| async move {
    let viewer = app.create_key("default", "viewer").await;
    let (_, body) = app.gql_as(Some(&viewer), SETTINGS, json!({})).await;
    let r = &body["data"]["restaurant"];
    assert_eq!((r["id"].as_str(), r["timezone"].as_str(), r["pointsPerDollar"].as_i64()), (Some("default"), Some("UTC"), Some(1)), "{body}");
    assert_eq!(r["tierDiscounts"], json!({ "bronze": 0, "silver": 5, "gold": 10, "platinum": 15, "vip": 20 }));
    assert_eq!(r["schedule"], json!({ "dormancy": "06:00", "birthday": "09:00", "anniversary": "09:05", "winBack": "10:00" }));
    assert_eq!((r["dormantDays"].as_i64(), r["atRiskDays"].as_i64()), (Some(90), Some(45)));
    let (_, denied) = app.gql_as(Some(&viewer), UPDATE, json!({ "input": { "pointsPerDollar": 2 } })).await;
    assert_eq!(code(&denied), Some("FORBIDDEN"));

    let before = app.data(SETTINGS, json!({})).await;
    for (input, field) in [
        (json!({ "timezone": "Mars/Olympus" }), "timezone"),
        (json!({ "pointsPerDollar": 0 }), "pointsPerDollar"),
        (json!({ "pointsPerDollar": -3 }), "pointsPerDollar"),
        (json!({ "pointsPerRedeemedDollar": 0 }), "pointsPerRedeemedDollar"),
        (json!({ "referralBonus": -1 }), "referralBonus"),
        (json!({ "mailFrom": "not an address" }), "mailFrom"),
        (json!({ "replyTo": "desk@" }), "replyTo"),
        (json!({ "publicUrl": "ftp://files" }), "publicUrl"),
        (json!({ "currency": "dollars" }), "currency"),
        (json!({ "tierDiscounts": { "gold": 150 } }), "tierDiscounts.gold"),
        (json!({ "schedule": { "birthday": "25:00" } }), "schedule.birthday"),
        (json!({ "atRiskDays": 100 }), "atRiskDays"),
        (json!({ "name": "  " }), "name"),
        (json!({ "name": "Renamed", "winBackDays": 0 }), "winBackDays"),
    ] {
        let (code_, message, err) = app.error(UPDATE, json!({ "input": input })).await;
        assert_eq!((code_.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some(field)), "{input}: {message}");
    }
    assert_eq!(app.data(SETTINGS, json!({})).await, before, "refused updates change nothing");

    let updated = app
        .data(UPDATE, json!({ "input": { "name": "Harbour Bistro", "pointsPerDollar": 3, "pointsPerRedeemedDollar": 50, "replyTo": "Desk@Harbour.example" } }))
        .await;
    assert_eq!(
        updated["updateRestaurant"],
        json!({ "id": "default", "name": "Harbour Bistro", "timezone": "UTC", "pointsPerDollar": 3, "replyTo": "desk@harbour.example" })
    );
    let audit = app.data("{ auditLog(action: RESTAURANT_UPDATED) { items { actor details } } }", json!({})).await;
    let entries = audit["auditLog"]["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["details"]["pointsPerDollar"], json!({ "from": 1, "to": 3 }));
    assert_eq!(entries[0]["details"]["name"]["to"], "Harbour Bistro");
    assert!(entries[0]["details"].get("timezone").is_none(), "only changed fields are recorded");

    // The rules follow the caller's restaurant: the same order earns 3 points per dollar here,
    // 1 in another restaurant; 100 points are worth $2 here.
    let other = app.create_key("other", "admin").await;
    create_customer(&app, "+14155550101", "Ann").await;
    let (_, twin) = app.gql_as(Some(&other), "mutation { upsertCustomer(input: { phone: \"+14155550101\", name: \"Ann B\" }) { created } }", json!({})).await;
    assert_eq!(twin["data"]["upsertCustomer"]["created"], true);
    assert_eq!(order(&app, &app.admin_key, "+14155550101", "o-1").await["data"]["recordOrder"]["pointsEarned"], 135);
    assert_eq!(order(&app, &other, "+14155550101", "o-1").await["data"]["recordOrder"]["pointsEarned"], 45);
    let id = app.data("{ customer(phone: \"+14155550101\") { id } }", json!({})).await["customer"]["id"].as_str().unwrap().to_string();
    let redeemed = app.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 100) { discount } }", json!({ "id": id })).await;
    assert_eq!(redeemed["redeemPoints"]["discount"].as_f64(), Some(2.0));
    assert_eq!(app.data("{ pointsPerRedeemedDollar }", json!({})).await["pointsPerRedeemedDollar"], 50);
    let (_, theirs) = app.gql_as(Some(&other), "{ pointsPerRedeemedDollar restaurant { id name pointsPerDollar } }", json!({})).await;
    assert_eq!(theirs["data"]["pointsPerRedeemedDollar"], 100, "another restaurant keeps its own rate");
    assert_eq!(theirs["data"]["restaurant"]["id"], "other");
    assert_eq!(theirs["data"]["restaurant"]["pointsPerDollar"], 1);
    let discounts = app.data("mutation { updateRestaurant(input: { tierDiscounts: { gold: 12 } }) { id } } ", json!({})).await;
    assert_eq!(discounts["updateRestaurant"]["id"], "default");
    let tiers = app.data("{ loyaltyTiers { tier discountPercent } }", json!({})).await;
    assert_eq!(tiers["loyaltyTiers"][2], json!({ "tier": "GOLD", "discountPercent": 12 }));
});

both!(operators_manage_restaurants_with_the_cli, |app| async move {
    let created = app
        .cli(&["restaurants", "create", "harbour", "--set", "name=Harbour Bistro", "--set", "timezone=Pacific/Auckland", "--set", "pointsPerDollar=2"])
        .await;
    let r: Value = serde_json::from_str(&created).unwrap();
    assert_eq!((r["id"].as_str(), r["timezone"].as_str(), r["pointsPerDollar"].as_i64()), (Some("harbour"), Some("Pacific/Auckland"), Some(2)));
    let list = app.cli(&["restaurants", "list"]).await;
    assert!(list.contains("harbour") && list.contains("default"), "{list}");
    let (ok, _, err) = app.cli_result(&["restaurants", "create", "harbour"]).await;
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = app.cli_result(&["restaurants", "update", "harbour", "--set", "timezone=Mars/Olympus"]).await;
    assert!(!ok && err.contains("timezone"), "{err}");
    let (ok, _, err) = app.cli_result(&["restaurants", "update", "harbour", "--set", "pointsPerDolar=3"]).await;
    assert!(!ok && err.contains("unknown setting"), "{err}");
    let shown: Value = serde_json::from_str(&app.cli(&["restaurants", "show", "harbour"]).await).unwrap();
    assert_eq!(shown["timezone"], "Pacific/Auckland", "a refused update changes nothing");
    let changed: Value =
        serde_json::from_str(&app.cli(&["restaurants", "update", "harbour", "--set", "tierDiscounts.gold=12", "--set", "schedule.birthday=08:30"]).await)
            .unwrap();
    assert_eq!((changed["discountGold"].as_i64(), changed["birthdayAt"].as_str()), (Some(12), Some("08:30")));

    // A database from before restaurants had settings: keys and customers, no row. Every start
    // (service or command) gives such a restaurant the configured defaults.
    create_customer(&app, "+14155550601", "Old Timer").await;
    app.sql("DELETE FROM restaurants WHERE id = 'default'").await;
    let (ok, _, _) = app.cli_result(&["restaurants", "show", "default", "--restaurant-name", "Back Again", "--timezone", "Europe/Paris"]).await;
    assert!(ok);
    let restored = app.data("{ restaurant { id name timezone } }", json!({})).await;
    assert_eq!(restored["restaurant"], json!({ "id": "default", "name": "Back Again", "timezone": "Europe/Paris" }));

    let key = app.create_key("brand-new", "admin").await;
    let (_, body) = app.gql_as(Some(&key), "{ restaurant { id timezone } }", json!({})).await;
    assert_eq!(body["data"]["restaurant"], json!({ "id": "brand-new", "timezone": "UTC" }), "a key for a new restaurant creates it with the defaults");

    let one: Value = serde_json::from_str(&app.cli(&["jobs", "run", "dormancy", "--restaurant", "harbour"]).await).unwrap();
    assert_eq!(one["changed"], 0, "{one}");
    let all: Value = serde_json::from_str(&app.cli(&["jobs", "run", "dormancy"]).await).unwrap();
    let ids: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(ids, ["brand-new", "default", "harbour"], "every restaurant when none is given");
    let runs = app.data("{ jobRuns { items { job trigger } } }", json!({})).await;
    assert_eq!(runs["jobRuns"]["items"], json!([{ "job": "DORMANCY", "trigger": "CLI" }]), "default sees its one run only");
});

/// The local date and UTC instant of the latest 09:00 in `tz` at or before `now`.
fn latest_nine(tz: chrono_tz::Tz, now: chrono::DateTime<Utc>) -> (chrono::NaiveDate, chrono::DateTime<Utc>) {
    let local = now.with_timezone(&tz);
    let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let day = if local.time() >= nine { local.date_naive() } else { local.date_naive() - Duration::days(1) };
    let at = tz.from_local_datetime(&day.and_time(nine)).earliest().unwrap().with_timezone(&Utc);
    (day, at)
}

fn birthday_on(day: chrono::NaiveDate) -> String {
    let year = if day.month() == 2 && day.day() == 29 { 1992 } else { 1990 };
    format!("{year}-{:02}-{:02}", day.month(), day.day())
}

async fn birthday_member(app: &TestApp, key: &str, phone: &str, name: &str, email: &str, dob: &str) {
    let q = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created } }";
    let consents = json!({ "emailOptIn": true, "birthdayOffers": true });
    let (_, body) =
        app.gql_as(Some(key), q, json!({ "input": { "phone": phone, "name": name, "email": email, "dateOfBirth": dob, "marketing": consents } })).await;
    assert_eq!(body["data"]["upsertCustomer"]["created"], true, "{body}");
}

async fn two_restaurants_in_two_zones_get_birthday_emails_at_their_own_local_nine(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url())]).await;
    let zones = [
        ("harbour", "Pacific/Auckland", "Harbour Bistro", "hello@harbour.example", chrono_tz::Pacific::Auckland),
        ("sunset", "America/Los_Angeles", "Sunset Grill", "team@sunset.example", chrono_tz::America::Los_Angeles),
    ];
    let now = Utc::now();
    let mut expected = Vec::new();
    for (i, (id, tz_name, name, from, tz)) in zones.iter().enumerate() {
        app.cli(&[
            "restaurants",
            "create",
            id,
            "--set",
            &format!("name={name}"),
            "--set",
            &format!("timezone={tz_name}"),
            "--set",
            &format!("senderName={name}"),
            "--set",
            &format!("mailFrom={from}"),
            "--set",
            "replyTo=desk@example.com",
        ])
        .await;
        let key = app.create_key(id, "admin").await;
        let (day, slot) = latest_nine(*tz, now);
        birthday_member(&app, &key, &format!("+1415555020{i}"), &format!("Guest{i} Lee"), &format!("guest{i}@example.com"), &birthday_on(day)).await;
        let not_today = birthday_on(day + Duration::days(2));
        birthday_member(&app, &key, &format!("+1415555030{i}"), &format!("Later{i}"), &format!("later{i}@example.com"), &not_today).await;
        expected.push((key, slot, *name, *from, i));
    }

    // A replica with the scheduler starts: every restaurant's 09:00 of the last 24 hours has
    // not run yet, so it runs now, each at its own slot.
    let scheduler = app.replica(&[("SMTP_URL", &sink.url()), ("LOYALTY_SCHEDULER", "true"), ("LOYALTY_CATCH_UP_HOURS", "24")]).await;
    let q = "{ jobRuns(job: BIRTHDAY) { items { trigger scheduledFor outcome sent } } }";
    for (key, slot, name, from, i) in &expected {
        let mut runs = Value::Null;
        for _ in 0..150 {
            runs = scheduler.gql_as(Some(key), q, json!({})).await.1["data"]["jobRuns"]["items"].clone();
            if runs.as_array().is_some_and(|r| !r.is_empty() && r[0]["outcome"] != "RUNNING") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(runs.as_array().map(Vec::len), Some(1), "{name}: {runs}");
        assert_eq!(
            (runs[0]["trigger"].as_str(), runs[0]["outcome"].as_str(), runs[0]["sent"].as_i64()),
            (Some("CATCH_UP"), Some("SUCCEEDED"), Some(1)),
            "{name}"
        );
        let at = chrono::DateTime::parse_from_rfc3339(runs[0]["scheduledFor"].as_str().unwrap()).unwrap();
        assert_eq!(at, *slot, "{name} runs at 09:00 of its own zone");
        let mails = sink.wait_for(2).await;
        let mail = mails.iter().find(|m| m.to == vec![format!("guest{i}@example.com")]).unwrap_or_else(|| panic!("{name}'s email"));
        let msg = mail.parsed();
        let sender = msg.from().and_then(|f| f.first()).unwrap();
        assert_eq!((sender.name(), sender.address()), (Some(*name), Some(*from)), "signed by its own restaurant");
        assert_eq!(msg.reply_to().and_then(|r| r.first()).and_then(|a| a.address()), Some("desk@example.com"));
        assert!(msg.body_text(0).unwrap().contains(&format!("Everyone at {name}")), "the restaurant's name in the text");
        let id = msg.message_id().unwrap().to_string();
        assert!(id.starts_with("delivery-") && id.ends_with("@loyalty") && id.len() > 30, "a deployment-unique Message-ID: {id}");
    }
    let mails = sink.received();
    assert_eq!(mails.len(), 2, "one email per restaurant's birthday guest, none for other days");
    assert_ne!(mails[0].parsed().message_id(), mails[1].parsed().message_id());
    drop(scheduler);
}

on_both!(two_restaurants_in_two_zones_get_birthday_emails_at_their_own_local_nine);

async fn each_admin_runs_and_sees_only_their_own_restaurants_jobs(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url()), ("LOYALTY_MAIL_RETRY_SECS", "0")]).await;
    let b = app.create_key("bistro-b", "admin").await;
    let today = Utc::now().date_naive();
    birthday_member(&app, &b, "+14155550301", "Bea", "bea@example.com", &birthday_on(today)).await;
    let q = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
    let (_, dormant) = app
        .gql_as(Some(&b), q, json!({ "input": { "phone": "+14155550302", "name": "Dora", "email": "dora@example.com", "marketing": { "emailOptIn": true, "specialOffers": true } } }))
        .await;
    let dora = dormant["data"]["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    app.gql_as(Some(&b), "mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": dora })).await;
    app.sql(&format!("UPDATE customers SET last_visit_at = {t}, first_visit_at = {t} WHERE id = {dora}", t = app.days_ago_sql(120))).await;

    let run =
        "mutation($job: JobName!, $dry: Boolean!) { runJob(job: $job, dryRun: $dry) { run { changed enqueued skippedForConsent sent } recipients { name } } }";
    for job in ["DORMANCY", "BIRTHDAY", "ANNIVERSARY", "WIN_BACK", "DELIVERIES"] {
        for dry in [true, false] {
            let out = app.data(run, json!({ "job": job, "dry": dry })).await;
            assert_eq!(
                out["runJob"]["run"],
                json!({ "changed": 0, "enqueued": 0, "skippedForConsent": 0, "sent": 0 }),
                "A's {job} (dry {dry}) touches nothing of B"
            );
            assert_eq!(out["runJob"]["recipients"], json!([]));
        }
    }
    assert!(sink.received().is_empty(), "no email for B's customers");
    let (_, b_view) = app
        .gql_as(
            Some(&b),
            "query($id: ID!) { customer(id: $id) { status tags } jobRuns { items { id } } campaignReports { sent pending lastRun { job } } deliveries { items { id } } }",
            json!({ "id": dora }),
        )
        .await;
    assert_eq!(
        b_view["data"]["customer"],
        json!({ "status": "ACTIVE", "tags": ["new-customer"] }),
        "A's dormancy run left B's customer alone (it would be dormant)"
    );
    assert_eq!(b_view["data"]["jobRuns"]["items"], json!([]), "B sees none of A's runs");
    assert_eq!(b_view["data"]["deliveries"]["items"], json!([]));
    for report in b_view["data"]["campaignReports"].as_array().unwrap() {
        assert_eq!(report, &json!({ "sent": 0, "pending": 0, "lastRun": null }));
    }

    for job in ["DORMANCY", "BIRTHDAY", "WIN_BACK"] {
        app.gql_as(Some(&b), run, json!({ "job": job, "dry": false })).await;
    }
    let mails = sink.wait_for(2).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["bea@example.com", "dora@example.com"], "B's own run reaches B's customers");
    let mine = app.data("{ jobRuns(first: 100) { items { job } } campaignReports { sent } deliveries { items { id } } }", json!({})).await;
    assert_eq!(mine["jobRuns"]["items"].as_array().unwrap().len(), 10, "A sees its own ten runs, none of B's");
    assert_eq!(mine["deliveries"]["items"], json!([]));
    assert!(mine["campaignReports"].as_array().unwrap().iter().all(|r| r["sent"] == 0), "A's reports count none of B's emails");
}

on_both!(each_admin_runs_and_sees_only_their_own_restaurants_jobs);

both!(every_operation_on_another_restaurants_objects_finds_nothing_and_changes_nothing, |app| async move {
    let b = app.create_key("bistro-b", "admin").await;
    let as_b = |q: &'static str, vars: Value| {
        let (app, b) = (&app, b.clone());
        async move {
            let (_, body) = app.gql_as(Some(&b), q, vars).await;
            assert!(body.get("errors").is_none(), "{body}");
            body["data"].clone()
        }
    };
    let ann = as_b(
        "mutation { upsertCustomer(input: { phone: \"+14155550401\", name: \"Bea\", email: \"bea@example.com\", dateOfBirth: \"1990-01-02\" }) { customer { id } } }",
        json!({}),
    )
    .await["upsertCustomer"]["customer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = as_b("mutation { upsertCustomer(input: { phone: \"+14155550402\", name: \"Bob\" }) { customer { id } } }", json!({})).await["upsertCustomer"]
        ["customer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    as_b("mutation($id: ID!) { addPoints(customerId: $id, points: 700) { currentPoints } }", json!({ "id": ann })).await;
    as_b("mutation($id: ID!) { addNote(customerId: $id, note: \"window seat\") { id } }", json!({ "id": ann })).await;
    let occasion = as_b("mutation($id: ID!) { addSpecialOccasion(customerId: $id, name: \"Graduation\", date: \"2020-06-01\") { id } }", json!({ "id": ann }))
        .await["addSpecialOccasion"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    as_b("mutation { createSegment(input: { name: \"wine-club\" }) { name } }", json!({})).await;
    as_b("mutation($id: ID!) { addCustomersToSegment(segment: \"wine-club\", customerIds: [$id]) { changed } }", json!({ "id": ann })).await;
    let prefix: String = b.split('_').take(2).collect::<Vec<_>>().join("_");
    let export = "query($id: ID!) { exportCustomer(id: $id) }";
    let snapshot = |id: String| async move {
        let mut doc = as_b(export, json!({ "id": id })).await["exportCustomer"].clone();
        doc.as_object_mut().unwrap().remove("exportedAt");
        doc
    };
    let before = (snapshot(ann.clone()).await, snapshot(bob.clone()).await);
    app.data("mutation { createSegment(input: { name: \"a-club\" }) { name } }", json!({})).await;

    // Restaurant A's admin, against each of B's objects.
    let table: Vec<(&str, String, &[&str])> = vec![
        ("customer by id", format!("{{ customer(id: \"{ann}\") {{ name }} }}"), &["NOT_FOUND"]),
        ("customer by phone", "{ customer(phone: \"+14155550401\") { name } }".into(), &["NOT_FOUND"]),
        ("addPoints", format!("mutation {{ addPoints(customerId: \"{ann}\", points: 5) {{ currentPoints }} }}"), &["NOT_FOUND"]),
        ("redeemPoints", format!("mutation {{ redeemPoints(customerId: \"{ann}\", points: 5) {{ currentPoints }} }}"), &["NOT_FOUND"]),
        ("recordVisit", format!("mutation {{ recordVisit(customerId: \"{ann}\", orderAmount: 5) {{ visitId }} }}"), &["NOT_FOUND"]),
        ("recordOrder", "mutation { recordOrder(input: { phone: \"+14155550401\", orderId: \"x1\", amount: 5 }) { pointsEarned } }".into(), &["NOT_FOUND"]),
        ("addNote", format!("mutation {{ addNote(customerId: \"{ann}\", note: \"x\") {{ id }} }}"), &["NOT_FOUND"]),
        ("recordFeedback", format!("mutation {{ recordFeedback(customerId: \"{ann}\", rating: 1) {{ replayed }} }}"), &["NOT_FOUND"]),
        ("addSpecialOccasion", format!("mutation {{ addSpecialOccasion(customerId: \"{ann}\", name: \"x\", date: \"2020-01-01\") {{ id }} }}"), &["NOT_FOUND"]),
        ("updateSpecialOccasion", format!("mutation {{ updateSpecialOccasion(id: \"{occasion}\", name: \"y\") {{ id }} }}"), &["NOT_FOUND"]),
        ("removeSpecialOccasion", format!("mutation {{ removeSpecialOccasion(id: \"{occasion}\") {{ removedId }} }}"), &["NOT_FOUND"]),
        ("setCustomerDates", format!("mutation {{ setCustomerDates(customerId: \"{ann}\", dateOfBirth: null) {{ id }} }}"), &["NOT_FOUND"]),
        ("renameSegment", "mutation { renameSegment(name: \"wine-club\", newName: \"beer-club\") { name } }".into(), &["NOT_FOUND"]),
        ("deleteSegment", "mutation { deleteSegment(name: \"wine-club\") { name } }".into(), &["NOT_FOUND"]),
        (
            "removeCustomersFromSegment",
            format!("mutation {{ removeCustomersFromSegment(segment: \"wine-club\", customerIds: [\"{ann}\"]) {{ changed }} }}"),
            &["NOT_FOUND"],
        ),
        ("revokeApiKey", format!("mutation {{ revokeApiKey(prefix: \"{prefix}\") {{ prefix }} }}"), &["NOT_FOUND"]),
        ("exportCustomer", format!("{{ exportCustomer(id: \"{ann}\") }}"), &["NOT_FOUND"]),
        ("eraseCustomer", format!("mutation {{ eraseCustomer(id: \"{ann}\") {{ id }} }}"), &["NOT_FOUND"]),
        ("mergeCustomers", format!("mutation {{ mergeCustomers(sourceId: \"{bob}\", targetId: \"{ann}\") {{ id }} }}"), &["NOT_FOUND"]),
    ];
    for (name, query, codes) in &table {
        let body = app.gql(query, json!({})).await;
        let got = code(&body);
        assert!(got.is_some_and(|c| codes.contains(&c)), "{name}: expected one of {codes:?}, got {body}");
    }
    for (name, query, empty) in [
        ("auditLog of B's customer", format!("{{ auditLog(customerId: \"{ann}\") {{ items {{ id }} }} }}"), json!({ "auditLog": { "items": [] } })),
        ("search", "{ customers(filter: { search: \"Bea\" }) { totalCount } }".into(), json!({ "customers": { "totalCount": 0 } })),
        ("segment filter", "{ customers(filter: { segment: \"wine-club\" }) { totalCount } }".into(), json!({ "customers": { "totalCount": 0 } })),
        ("occasions", "{ upcomingOccasions(days: 366) { name } }".into(), json!({ "upcomingOccasions": [] })),
        (
            "segments",
            "{ segments { items { name customerCount } } }".into(),
            json!({ "segments": app.data("{ segments { items { name customerCount } } }", json!({})).await["segments"].clone() }),
        ),
        ("jobRuns", "{ jobRuns { items { id } } }".into(), json!({ "jobRuns": { "items": [] } })),
        (
            "addCustomersToSegment with B's customer",
            format!("mutation {{ addCustomersToSegment(segment: \"a-club\", customerIds: [\"{ann}\"]) {{ changed failed {{ code }} }} }}"),
            json!({ "addCustomersToSegment": { "changed": 0, "failed": [{ "code": "NOT_FOUND" }] } }),
        ),
        ("deliveries", "{ deliveries { items { id } } }".into(), json!({ "deliveries": { "items": [] } })),
        ("restaurant", "{ restaurant { id } }".into(), json!({ "restaurant": { "id": "default" } })),
    ] {
        assert_eq!(app.data(&query, json!({})).await, empty, "{name}");
    }
    let segments = app.data("{ segments { items { name } } }", json!({})).await;
    assert!(!segments["segments"]["items"].as_array().unwrap().iter().any(|s| s["name"] == "wine-club"), "B's custom segment is not listed for A");
    app.data("mutation { updateRestaurant(input: { pointsPerDollar: 9 }) { id } }", json!({})).await;
    let (_, theirs) = app.gql_as(Some(&b), "{ restaurant { pointsPerDollar } }", json!({})).await;
    assert_eq!(theirs["data"]["restaurant"]["pointsPerDollar"], 1, "updateRestaurant changes the caller's restaurant only");
    assert_eq!((snapshot(ann).await, snapshot(bob).await), before, "nothing of B changed");
});

both!(schedules_that_cannot_run_as_written_are_refused_at_start, |app| async move {
    for cron in ["30 * * * * *", "*/20 * * * * *"] {
        let (ok, _, err) = app.cli_result(&["jobs", "list", "--cron-deliveries", cron]).await;
        assert!(!ok && err.contains("seconds) field must be 0"), "{cron}: {err}");
    }
    let (ok, out, _) = app.cli_result(&["jobs", "list", "--cron-deliveries", "0 */5 * * * *"]).await;
    assert!(ok && out.contains("default") && out.contains("birthday 09:00"), "{out}");
});

async fn a_run_whose_replica_died_is_abandoned_and_its_slot_run_again(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url())]).await;
    let (day, slot) = latest_nine(chrono_tz::UTC, Utc::now());
    birthday_member(&app, &app.admin_key, "+14155550501", "Ann", "ann@example.com", &birthday_on(day)).await;
    // A replica claimed today's birthday slot and died: its run is `running`, its heartbeat old.
    let old = app.instant_sql(Utc::now() - Duration::minutes(5));
    app.sql(&format!(
        "INSERT INTO job_runs (job, restaurant_id, scheduled_for, \"trigger\", dry_run, started_at, heartbeat_at, outcome, counts) \
         VALUES ('birthday', 'default', {}, 'schedule', false, {old}, {old}, 'running', '{{}}')",
        app.instant_sql(slot)
    ))
    .await;
    let scheduler = app.replica(&[("SMTP_URL", &sink.url()), ("LOYALTY_SCHEDULER", "true"), ("LOYALTY_CATCH_UP_HOURS", "24")]).await;
    let q = "{ jobRuns(job: BIRTHDAY) { items { trigger outcome sent scheduledFor } } }";
    let mut runs = Value::Null;
    for _ in 0..150 {
        runs = scheduler.data(q, json!({})).await["jobRuns"]["items"].clone();
        if runs[0]["outcome"] == "SUCCEEDED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "the same slot's row is taken over: {runs}");
    assert_eq!((runs[0]["trigger"].as_str(), runs[0]["outcome"].as_str(), runs[0]["sent"].as_i64()), (Some("CATCH_UP"), Some("SUCCEEDED"), Some(1)));
    assert_eq!(sink.wait_for(1).await.len(), 1, "the birthday email the dead replica never sent");
}

on_both!(a_run_whose_replica_died_is_abandoned_and_its_slot_run_again);
