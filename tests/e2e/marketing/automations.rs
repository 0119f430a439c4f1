//! Built-in campaigns and automations: their rules stay while their wording changes; welcome
//! and at-risk emails once per occurrence, a holdout group measured against, the staff digest,
//! and which emails count toward the frequency cap.

use chrono::{Datelike, Duration, Utc};
use serde_json::json;

use super::{CREATE, as_key, content, member, opted_in, refused, run, spawn, visit};
use crate::harness::{Backend, TestApp};
use crate::smtp::SmtpSink;
use crate::{add_points, on_both};

async fn welcome_and_at_risk_automations_fire_once_per_occurrence_when_switched_on(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    app.data("mutation { updateRestaurant(input: { frequencyCap: { days: 0 } }) { id } }", json!({})).await;
    let listed = app.data("{ campaigns(state: PAUSED) { items { id kind } } }", json!({})).await;
    let id_of = |kind: &str| listed["campaigns"]["items"].as_array().unwrap().iter().find(|c| c["kind"] == kind).unwrap()["id"].as_str().unwrap().to_string();
    let (welcome, at_risk) = (id_of("WELCOME"), id_of("AT_RISK"));

    let ann = member(&app, "+14155550101", "Ann", opted_in("ann@example.com")).await;
    let bob = member(&app, "+14155550102", "Bob", json!({ "email": "bob@example.com" })).await;
    visit(&app, &ann).await;
    visit(&app, &bob).await;
    assert_eq!(run(&app, "WELCOME").await["sent"], 0, "automations start switched off");
    let on = app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": welcome })).await;
    assert_eq!(on["resumeCampaign"]["state"], "BUILT_IN");
    assert_eq!(run(&app, "WELCOME").await["sent"], 1, "Ann only: Bob gave no consent");
    assert_eq!(run(&app, "WELCOME").await["sent"], 0, "once per member");
    let mail = sink.wait_for(1).await;
    assert_eq!((mail[0].to[0].as_str(), mail[0].parsed().subject()), ("ann@example.com", Some("Welcome to Chez Test, Ann!")));

    app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": at_risk })).await;
    app.sql(&format!("UPDATE customers SET last_visit_at = {} WHERE id = {ann}", app.days_ago_sql(50))).await;
    run(&app, "DORMANCY").await;
    assert_eq!(run(&app, "AT_RISK").await["sent"], 1, "Ann entered the at-risk window");
    assert_eq!(run(&app, "AT_RISK").await["sent"], 0, "one nudge per entry, not one per day");
    visit(&app, &ann).await;
    run(&app, "DORMANCY").await;
    assert_eq!(run(&app, "AT_RISK").await["sent"], 0, "back to active");
    app.sql(&format!("UPDATE customers SET last_visit_at = {} WHERE id = {ann}", app.days_ago_sql(48))).await;
    run(&app, "DORMANCY").await;
    assert_eq!(run(&app, "AT_RISK").await["sent"], 1, "a new entry, a new nudge");
    let off = app.data("mutation($id: ID!) { pauseCampaign(id: $id) { state } }", json!({ "id": at_risk })).await;
    assert_eq!(off["pauseCampaign"]["state"], "PAUSED", "switched off again");
    let (code, _, _) = app.error("mutation($id: ID!) { cancelCampaign(id: $id) { state } }", json!({ "id": at_risk })).await;
    assert_eq!(code, "INVALID_STATE", "a built-in is switched off, not cancelled");
    assert_eq!(sink.wait_for(3).await.len(), 3);

    let tier_up = id_of("TIER_UP");
    add_points(&app, &ann, 1_200).await;
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 0, "off: no email for the upgrade");
    app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": tier_up })).await;
    add_points(&app, &ann, 1_500).await;
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 1, "right after the upgrade to gold");
    let mail = sink.wait_for(4).await;
    assert_eq!(mail[3].parsed().subject(), Some("Congratulations, Ann: you are now a Gold member!"));
    add_points(&app, &ann, 100).await;
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 0, "no upgrade, no email");

    let today = Utc::now().date_naive().to_string();
    app.data("mutation($id: ID!, $d: Date!) { addSpecialOccasion(customerId: $id, name: \"Graduation\", date: $d) { id } }", json!({ "id": ann, "d": today }))
        .await;
    app.data(
        "mutation($id: ID!) { addSpecialOccasion(customerId: $id, name: \"First date\", date: \"2020-01-01\", recurring: false) { id } }",
        json!({ "id": bob }),
    )
    .await;
    assert_eq!(run(&app, "OCCASION").await["sent"], 0, "off");
    app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": id_of("OCCASION") })).await;
    assert_eq!(run(&app, "OCCASION").await["sent"], 1, "Ann's graduation, on its day");
    assert_eq!(run(&app, "OCCASION").await["sent"], 0, "once");
    let mail = sink.wait_for(5).await;
    assert_eq!(mail[4].parsed().subject(), Some("Ann, let us celebrate your Graduation!"));
    let on_the_day = mail[4].parsed().body_text(0).unwrap().to_string();
    assert!(on_the_day.contains("Graduation is today") && !on_the_day.contains("coming up"), "sent on the day: {on_the_day} ({today})");

    let dan = member(&app, "+14155550104", "Dan", opted_in("dan@example.com")).await;
    visit(&app, &dan).await;
    app.sql(&format!("UPDATE customers SET first_visit_at = {} WHERE id IN ({dan}, {ann})", app.days_ago_sql(15))).await;
    app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": id_of("WELCOME_FOLLOW_UP") })).await;
    assert_eq!(run(&app, "WELCOME_FOLLOW_UP").await["sent"], 1, "Dan has not returned; Ann has");
    assert_eq!(run(&app, "WELCOME_FOLLOW_UP").await["sent"], 0, "once");
    let mail = sink.wait_for(6).await;
    assert_eq!(mail[5].to, vec!["dan@example.com"]);
}

on_both!(welcome_and_at_risk_automations_fire_once_per_occurrence_when_switched_on);

async fn a_holdout_group_is_kept_out_and_results_are_measured_against_it(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(member(&app, &format!("+141555504{i:02}"), &format!("Guest{i}"), opted_in(&format!("h{i}@example.com"))).await);
    }
    let mut input = content("Tasting menu", json!({ "rule": { "emailOptIn": true } }));
    input["input"]["holdoutPercent"] = json!(50);
    input["input"]["attributionDays"] = json!(7);
    let id = app.data(CREATE, input).await["createCampaign"]["id"].as_str().unwrap().to_string();
    app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }", json!({ "id": id })).await;
    run(&app, "CAMPAIGNS").await;

    let held = app.data("{ deliveries(status: HELD_OUT, first: 100) { items { customerId status } } }", json!({})).await;
    let held: Vec<String> = held["deliveries"]["items"].as_array().unwrap().iter().map(|d| d["customerId"].as_str().unwrap().to_string()).collect();
    assert!(!held.is_empty() && held.len() < 20, "a share is held out: {}", held.len());
    let mails = sink.wait_for(20 - held.len()).await;
    assert_eq!(mails.len(), 20 - held.len(), "the control group gets no email");
    let report = app.data("query($id: ID!) { campaign(id: $id) { holdoutPercent totals { heldOut enqueued sent } } }", json!({ "id": id })).await;
    assert_eq!(report["campaign"]["totals"], json!({ "heldOut": held.len(), "enqueued": 20 - held.len(), "sent": 20 - held.len() }));

    let recipients: Vec<&String> = ids.iter().filter(|i| !held.contains(i)).collect();
    for r in &recipients[..2] {
        visit(&app, r).await;
    }
    visit(&app, &held[0]).await;
    let q = "query($id: ID!) { campaign(id: $id) { sends(first: 1) { items { attribution { days visitRateLift
        recipients { members visitors visits revenue visitRate } holdout { members visitors visits revenue } } } } } }";
    let a = app.data(q, json!({ "id": id })).await["campaign"]["sends"]["items"][0]["attribution"].clone();
    assert_eq!(a["days"], 7);
    assert_eq!(a["recipients"]["members"].as_i64(), Some(recipients.len() as i64));
    assert_eq!((a["recipients"]["visitors"].as_i64(), a["recipients"]["visits"].as_i64(), a["recipients"]["revenue"].as_f64()), (Some(2), Some(2), Some(40.0)));
    assert_eq!((a["holdout"]["members"].as_i64(), a["holdout"]["visitors"].as_i64()), (Some(held.len() as i64), Some(1)));
    let lift = 2.0 / recipients.len() as f64 - 1.0 / held.len() as f64;
    assert!((a["visitRateLift"].as_f64().unwrap() - lift).abs() < 1e-9, "{a}");

    let (code, _, _) = app
        .error("mutation { createCampaign(input: { name: \"x\", subject: \"s\", bodyText: \"t\", bodyHtml: \"h\", holdoutPercent: 80 }) { id } }", json!({}))
        .await;
    assert_eq!(code, "VALIDATION");
}

on_both!(a_holdout_group_is_kept_out_and_results_are_measured_against_it);

async fn the_staff_digest_lists_todays_and_tomorrows_guests_with_their_allergies(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    app.data(
        "mutation { updateRestaurant(input: { timezone: \"UTC\", staffDigestEmails: [\"Host@Chez.test\", \"chef@chez.test\"] }) { staffDigestEmails } }",
        json!({}),
    )
    .await;
    let day = |offset: i64| (Utc::now().date_naive() + Duration::days(offset)).format("1992-%m-%d").to_string();
    let ann = member(
        &app,
        "+14155550101",
        "Ann Lee",
        json!({ "dateOfBirth": day(0), "anniversary": day(0), "preferences": { "allergies": ["peanuts"], "dietaryRestrictions": ["vegetarian"] } }),
    )
    .await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"window table, please\") { id } }", json!({ "id": ann })).await;
    app.data("mutation { recordOrder(input: { phone: \"+14155550101\", orderId: \"D-1\", amount: 40, items: [{ itemId: \"tiramisu\", name: \"Tiramisu\", quantity: 2 }] }) { pointsEarned } }", json!({})).await;
    member(&app, "+14155550102", "Bob Ray", json!({ "anniversary": day(1) })).await;
    member(&app, "+14155550103", "Cat Sun", json!({ "dateOfBirth": day(5) })).await;
    let other = app.create_key("elsewhere", "admin").await;
    let (_, body) = app
        .gql_as(
            Some(&other),
            "mutation($d: Date!) { upsertCustomer(input: { phone: \"+14155550109\", name: \"Zed Elsewhere\", dateOfBirth: $d }) { created } }",
            json!({ "d": day(0) }),
        )
        .await;
    assert_eq!(body["data"]["upsertCustomer"]["created"], true);

    let out = run(&app, "STAFF_DIGEST").await;
    assert_eq!((out["changed"].as_i64(), out["sent"].as_i64()), (Some(2), Some(2)), "two guests, two staff addresses: {out}");
    let mails = sink.wait_for(2).await;
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["chef@chez.test", "host@chez.test"]);
    let text = mails[0].parsed().body_text(0).unwrap().to_string();
    for expected in [
        "Ann Lee (Bronze), Birthday (",
        "Allergies: peanuts",
        "Dietary: vegetarian",
        "Favorites: Tiramisu",
        "Latest note: window table, please",
        "Bob Ray (Bronze), Anniversary",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(!text.contains("Cat Sun") && !text.contains("Zed"), "only today and tomorrow, only this restaurant: {text}");
    let brief_of = |back: i64| format!("Pre-shift brief for Chez Test, {}", (Utc::now().date_naive() - Duration::days(back)).format("%A, %B %-d, %Y"));
    assert!(text.contains(&brief_of(0)) || text.contains(&brief_of(1)), "the day the restaurant's way (en-US): {text}");
    assert!(mails[0].parsed().subject().unwrap().contains("2 guests"), "{:?}", mails[0].parsed().subject());
    assert_eq!(text.matches("Ann Lee").count(), 1, "a guest with two occasions on one day is listed once: {text}");
    let years = chrono::Datelike::year(&Utc::now().date_naive()) - 1992;
    assert!(text.contains(&format!("Birthday ({years}) and Anniversary ({years})")), "{text}");
    let html = mails[0].parsed().body_html(0).unwrap().to_string();
    assert!(!html.contains("<table") && html.contains("width=device-width"), "one block per guest, readable on a phone: {html}");
    assert!(html.contains("Allergies: <strong>peanuts</strong>") && html.contains("Latest note: window table, please"), "the safety data is shown: {html}");
    assert!(!mails[0].data.contains("List-Unsubscribe"), "a staff email, not marketing");
}

on_both!(the_staff_digest_lists_todays_and_tomorrows_guests_with_their_allergies);

/// Emails the cap exempts (tier-up, points-expiry warnings, and occasions while the cap leaves
/// them out) never use a member's cap up; marketing emails do.
async fn exempt_emails_do_not_use_up_the_frequency_cap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .data("mutation { upsertCustomer(input: { phone: \"+14155550150\", name: \"Cap Ann\", email: \"cap@example.com\", marketing: { emailOptIn: true } }) { customer { id } } }", json!({}))
        .await;
    let id = created["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    let deliver = |kinds: &[&str]| {
        let rows: Vec<String> =
            kinds.iter().map(|k| format!("('default', {id}, '{k}', 'cap-{k}', 'sealed', 'sent', 1, {at}, {at}, {at})", at = app.days_ago_sql(1))).collect();
        format!(
            "INSERT INTO email_deliveries (restaurant_id, customer_id, campaign, period_key, email, status, attempts, next_attempt_at, created_at, updated_at) VALUES {}",
            rows.join(", ")
        )
    };
    app.sql(&deliver(&["tier-up", "points-expiry", "membership", "occasion", "birthday"])).await;
    let campaign =
        app.data(CREATE, content("Cap check", json!({ "rule": { "emailOptIn": true } }))).await["createCampaign"]["id"].as_str().unwrap().to_string();
    let q = "query($id: ID!) { campaignAudience(id: $id) { recipients capped } }";
    let audience = app.data(q, json!({ "id": campaign })).await["campaignAudience"].clone();
    assert_eq!(audience, json!({ "recipients": 1, "capped": 0 }), "five exempt emails use up nothing");
    app.sql(&deliver(&["custom", "win-back"])).await;
    let audience = app.data(q, json!({ "id": campaign })).await["campaignAudience"].clone();
    assert_eq!(audience, json!({ "recipients": 0, "capped": 1 }), "two marketing emails reach the cap of 2");
}

on_both!(exempt_emails_do_not_use_up_the_frequency_cap);

async fn built_in_campaigns_keep_their_rules_and_take_new_wording(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let marketer = app.create_key("default", "marketer").await;
    let listed = as_key(&app, &marketer, "{ campaigns { items { id name kind state subject } } }", json!({})).await;
    let builtins = listed["campaigns"]["items"].as_array().unwrap();
    let kinds: Vec<&str> = builtins.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 11, "{listed}");
    assert!(kinds.contains(&"BIRTHDAY") && kinds.contains(&"ANNIVERSARY") && kinds.contains(&"WIN_BACK") && kinds.contains(&"POINTS_EXPIRY"));
    let birthday = builtins.iter().find(|c| c["kind"] == "BIRTHDAY").unwrap();
    assert_eq!(birthday["state"], "BUILT_IN");
    let id = birthday["id"].as_str().unwrap();

    let (code, _) = refused(&app, &marketer, "mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { id } }", json!({ "id": id })).await;
    assert_eq!(code, "VALIDATION", "a built-in runs on its job's schedule");
    let (code, _) =
        refused(&app, &marketer, "mutation($id: ID!) { updateCampaign(id: $id, input: { audience: { rule: {} } }) { id } }", json!({ "id": id })).await;
    assert_eq!(code, "VALIDATION", "its audience is its job's rule");
    as_key(
        &app,
        &marketer,
        "mutation($id: ID!) { updateCampaign(id: $id, input: { subject: \"{{ first_name }}, {{ years }} candles at {{ restaurant }}\" }) { subject } }",
        json!({ "id": id }),
    )
    .await;

    let d = Utc::now().date_naive();
    let birthday = format!("1992-{}", d.format("%m-%d"));
    member(
        &app,
        "+14155550101",
        "Ann Lee",
        json!({ "email": "ann@example.com", "dateOfBirth": birthday, "marketing": { "emailOptIn": true, "birthdayOffers": true } }),
    )
    .await;
    let out = run(&app, "BIRTHDAY").await;
    assert_eq!(out["sent"], 1, "{out}");
    let mail = sink.wait_for(1).await;
    let years = d.year() - 1992;
    assert_eq!(mail[0].parsed().subject(), Some(format!("Ann, {years} candles at Chez Test").as_str()));
    assert!(mail[0].parsed().body_text(0).unwrap().contains("wishes you a wonderful day"), "the body keeps its default wording");
}

on_both!(built_in_campaigns_keep_their_rules_and_take_new_wording);
