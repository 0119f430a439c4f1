//! Campaigns the marketing team builds, end to end over HTTP with a marketer's key: a rule
//! segment, a campaign for it, preview, test email, a schedule in the restaurant's zone, the
//! send at that slot through a real SMTP server on loopback, pause and resume, the frequency
//! cap, refusals, roles and tenant isolation.

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::smtp::SmtpSink;
use crate::{add_points, on_both};

mod automations;
mod emails;
mod export;

const UPSERT: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
const RUN: &str = "mutation($job: JobName!) { runJob(job: $job) { run { outcome sends enqueued capped sent failed changed } } }";
const CAMPAIGN: &str = "id name state subject offer audience { segment rule { minTier emailOptIn } } schedule { kind sendAt cron } nextSendAt sentAt
    totals { sends audience enqueued sent skippedForConsent capped unsubscribes }
    sends { items { state audience noEmail skippedForConsent blocked capped enqueued pending sent failed skipped } }";

async fn spawn(backend: Backend, sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![("SMTP_URL", sink.url()), ("LOYALTY_MAIL_RETRY_SECS", "0".into()), ("LOYALTY_RESTAURANT_NAME", "Chez Test".into())];
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::spawn_with(backend, &env).await
}

async fn member(app: &TestApp, phone: &str, name: &str, extra: Value) -> String {
    let mut input = json!({ "phone": phone, "name": name });
    input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.data(UPSERT, json!({ "input": input })).await["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
}

async fn visit(app: &TestApp, id: &str) {
    app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": id })).await;
}

async fn run(app: &TestApp, job: &str) -> Value {
    app.data(RUN, json!({ "job": job })).await["runJob"]["run"].clone()
}

/// A request with `key` that must succeed.
async fn as_key(app: &TestApp, key: &str, query: &str, variables: Value) -> Value {
    let (status, body) = app.gql_as(Some(key), query, variables).await;
    assert!(status == 200 && body.get("errors").is_none(), "{query}: {body:#}");
    body["data"].clone()
}

/// The code and message of a request with `key` that must fail.
async fn refused(app: &TestApp, key: &str, query: &str, variables: Value) -> (String, String) {
    let (_, body) = app.gql_as(Some(key), query, variables).await;
    let err = &body["errors"][0];
    assert!(!err.is_null(), "{query} should fail: {body:#}");
    (err["extensions"]["code"].as_str().unwrap_or_default().to_string(), err["message"].as_str().unwrap_or_default().to_string())
}

fn opted_in(email: &str) -> Value {
    json!({ "email": email, "marketing": { "emailOptIn": true, "specialOffers": true } })
}

const CREATE: &str = "mutation($input: CampaignInput!) { createCampaign(input: $input) { id state } }";

fn content(name: &str, audience: Value) -> Value {
    json!({ "input": {
        "name": name,
        "audience": audience,
        "subject": "{{ first_name }}, a {{ tier }} evening at {{ restaurant }}",
        "bodyText": "Hi {{ first_name }},\nYou have {{ points }} points.\n",
        "bodyHtml": "<p>Hi {{ name }},</p><p>You have <b>{{ points }}</b> points.</p>",
    } })
}

async fn a_marketer_builds_a_rule_campaign_and_it_goes_out_once_at_its_local_time(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    app.data("mutation { updateRestaurant(input: { timezone: \"America/Los_Angeles\" }) { timezone } }", json!({})).await;
    let marketer = app.create_key("default", "marketer").await;

    let ann = members(&app).await;
    let id = segment_and_campaign(&app, &marketer).await;
    audience_preview_and_test(&app, &marketer, &sink, &id, &ann).await;
    let mails = scheduled_send(&app, &marketer, &sink, &id).await;
    after_the_send(&app, &marketer, &sink, &id, &ann, &mails).await;
}

/// Six members: Ann (Gold, opted in), Bob (no consent), Cat (Bronze), Dan (lapsed), Eve (no
/// email), Fay (blocked); returns Ann's id.
async fn members(app: &TestApp) -> String {
    let ann = member(app, "+14155550101", "Ann <Lee>", opted_in("ann@example.com")).await;
    let bob = member(app, "+14155550102", "Bob", json!({ "email": "bob@example.com" })).await;
    let cat = member(app, "+14155550103", "Cat", opted_in("cat@example.com")).await;
    let dan = member(app, "+14155550104", "Dan", opted_in("dan@example.com")).await;
    let eve = member(app, "+14155550105", "Eve", json!({ "marketing": { "emailOptIn": true } })).await;
    let fay = member(app, "+14155550106", "Fay", opted_in("fay@example.com")).await;
    for (id, points) in [(&ann, 3_000), (&bob, 3_000), (&dan, 6_000), (&eve, 2_600), (&fay, 12_000)] {
        add_points(app, id, points).await;
    }
    for id in [&ann, &bob, &cat, &dan, &eve, &fay] {
        visit(app, id).await;
    }
    app.sql(&format!("UPDATE customers SET last_visit_at = {} WHERE id = {dan}", app.days_ago_sql(90))).await;
    app.data("mutation { upsertCustomer(input: { phone: \"+14155550106\", name: \"Fay\", status: BLOCKED }) { customer { id } } }", json!({})).await;

    ann
}

/// The rule segment `gold-regulars` and a draft campaign for it; returns the campaign's id.
async fn segment_and_campaign(app: &TestApp, marketer: &str) -> String {
    let rule = json!({ "minTier": "GOLD", "visitedWithinDays": 60, "emailOptIn": true });
    let seg = as_key(app, marketer, "mutation($r: AudienceRuleInput!) { createSegment(input: { name: \"gold-regulars\", rule: $r }) { name customerCount rule { minTier visitedWithinDays emailOptIn } } }", json!({ "r": rule })).await;
    assert_eq!(seg["createSegment"]["customerCount"], 3, "Ann, Eve (no email) and Fay (blocked): {seg}");
    assert_eq!(seg["createSegment"]["rule"], rule);
    let listed = as_key(app, marketer, "{ segments { items { name customerCount } } }", json!({})).await;
    assert!(listed["segments"]["items"].as_array().unwrap().contains(&json!({ "name": "gold-regulars", "customerCount": 3 })), "{listed}");
    let members = as_key(app, marketer, "{ customers(filter: { segment: \"gold-regulars\" }) { totalCount } }", json!({})).await;
    assert_eq!(members["customers"]["totalCount"], 3, "the customer list filters by a rule segment too");

    let created = as_key(app, marketer, CREATE, content("Gold evening", json!({ "segment": "gold-regulars" }))).await;
    let id = created["createCampaign"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["createCampaign"]["state"], "DRAFT");

    id
}

/// Who it reaches, the preview for Ann, and a test email that is not a delivery.
async fn audience_preview_and_test(app: &TestApp, marketer: &str, sink: &SmtpSink, id: &str, ann: &str) {
    let audience = as_key(
        app,
        marketer,
        "query($id: ID!) { campaignAudience(id: $id) { audience recipients noEmail noConsent blocked capped sample { customerId name } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        audience["campaignAudience"],
        json!({ "audience": 3, "recipients": 1, "noEmail": 1, "noConsent": 0, "blocked": 1, "capped": 0, "sample": [{ "customerId": ann, "name": "Ann <Lee>" }] })
    );

    let preview =
        as_key(app, marketer, "query($id: ID!, $c: ID!) { previewCampaign(id: $id, customerId: $c) { subject text html } }", json!({ "id": id, "c": ann }))
            .await;
    let preview = &preview["previewCampaign"];
    assert_eq!(preview["subject"], "Ann, a Gold evening at Chez Test");
    assert!(
        preview["text"].as_str().unwrap().contains("You have 3,000 points.") && preview["text"].as_str().unwrap().contains("/unsubscribe?token="),
        "{preview}"
    );
    assert!(preview["html"].as_str().unwrap().contains("<p>Hi Ann &lt;Lee&gt;,</p>"), "variables are escaped in HTML: {preview}");

    let sent =
        as_key(app, marketer, "mutation($id: ID!) { sendTestEmail(id: $id, to: \"Marketer@chez.test\") { to subject messageId } }", json!({ "id": id })).await;
    assert_eq!(sent["sendTestEmail"]["to"], "marketer@chez.test");
    assert!(sent["sendTestEmail"]["subject"].as_str().unwrap().starts_with("[Test] "), "{sent}");
    let test_mail = sink.wait_for(1).await;
    assert_eq!(test_mail.len(), 1);
    assert_eq!(test_mail[0].to, vec!["marketer@chez.test"]);
    let parsed = test_mail[0].parsed();
    assert_eq!(parsed.subject(), Some("[Test] Alex, a Gold evening at Chez Test"));
    assert!(test_mail[0].data.contains("X-Loyalty-Test: yes"));
    // Its unsubscribe link works (it was a bare /unsubscribe that answered 400) and unsubscribes no one.
    let link = parsed.header_raw("List-Unsubscribe").unwrap().trim().trim_matches(['<', '>']).to_string();
    assert!(link.contains("/unsubscribe?test=") && parsed.body_text(0).unwrap().contains(&link), "{link}");
    let client = crate::harness::http_client();
    let shown = client.get(&link).send().await.unwrap();
    assert_eq!(shown.status().as_u16(), 200);
    assert!(shown.text().await.unwrap().contains("this test changed no one"));
    let preferences = link.replace("/unsubscribe?", "/preferences?");
    assert!(parsed.body_text(0).unwrap().contains(&preferences), "the footer's preferences link is the test's too");
    let page = client.get(&preferences).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "the test email's preferences link works");
    assert!(page.text().await.unwrap().contains("The preferences link works"));
    let one_click = client.post(&link).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap();
    assert_eq!(one_click.status().as_u16(), 200);
    let forged = link.replace("test=", "test=9");
    assert_eq!(client.get(&forged).send().await.unwrap().status().as_u16(), 400, "a forged test link is refused");
    let deliveries = app.data("{ deliveries { items { id } } }", json!({})).await;
    assert_eq!(deliveries["deliveries"]["items"], json!([]), "a test email is not a delivery");
}

/// Scheduled for 18:30 tomorrow in Los Angeles, it goes out once when due; returns the mails.
async fn scheduled_send(app: &TestApp, marketer: &str, sink: &SmtpSink, id: &str) -> Vec<crate::smtp::Mail> {
    let tomorrow = (Utc::now().with_timezone(&chrono_tz::America::Los_Angeles) + Duration::days(1)).date_naive();
    let local = format!("{tomorrow}T18:30");
    let scheduled = as_key(
        app,
        marketer,
        &format!("mutation($id: ID!, $at: String!) {{ scheduleCampaign(id: $id, schedule: {{ sendAt: $at }}) {{ {CAMPAIGN} }} }}"),
        json!({ "id": id, "at": local }),
    )
    .await;
    let c = &scheduled["scheduleCampaign"];
    assert_eq!((c["state"].as_str(), c["schedule"]["kind"].as_str(), c["schedule"]["sendAt"].as_str()), (Some("SCHEDULED"), Some("AT"), Some(local.as_str())));
    let expected =
        chrono_tz::America::Los_Angeles.from_local_datetime(&NaiveDateTime::parse_from_str(&local, "%Y-%m-%dT%H:%M").unwrap()).unwrap().with_timezone(&Utc);
    let next: chrono::DateTime<Utc> = c["nextSendAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(next, expected, "18:30 in Los Angeles");

    assert_eq!(run(app, "CAMPAIGNS").await["sends"], 0, "not due yet");
    app.sql(&format!("UPDATE campaigns SET next_run_at = {} WHERE id = {id}", app.instant_sql(next - Duration::days(2)))).await;
    let out = run(app, "CAMPAIGNS").await;
    assert_eq!((out["sends"].as_i64(), out["enqueued"].as_i64(), out["sent"].as_i64()), (Some(1), Some(1), Some(1)), "{out}");
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to, vec!["ann@example.com"]);
    let parsed = mails[1].parsed();
    assert_eq!(parsed.subject(), Some("Ann, a Gold evening at Chez Test"));
    assert!(mails[1].data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(mails[1].data.contains("List-Unsubscribe: <"), "the RFC 8058 headers whatever the template says");

    mails
}

/// A second run sends nothing; the delivery carries its proof of consent; the campaign is sent
/// and counts the unsubscribe.
async fn after_the_send(app: &TestApp, marketer: &str, sink: &SmtpSink, id: &str, ann: &str, mails: &[crate::smtp::Mail]) {
    let again = run(app, "CAMPAIGNS").await;
    assert_eq!((again["sends"].as_i64(), again["sent"].as_i64()), (Some(0), Some(0)), "a second run sends nothing");
    let proof = as_key(app, marketer, "{ deliveries { items { customerId consent } } }", json!({})).await;
    let consent = &proof["deliveries"]["items"][0]["consent"];
    assert_eq!(proof["deliveries"]["items"][0]["customerId"], ann);
    assert_eq!(consent["flags"]["emailOptIn"]["value"], true, "{consent}");
    assert!(consent["flags"]["emailOptIn"]["grantedBy"]["auditEntryId"].is_number(), "the audit entry that granted it: {consent}");
    assert_eq!(consent["flags"]["emailOptIn"]["grantedBy"]["source"], "api");
    assert!(consent["flags"].get("specialOffers").is_none(), "no offer, so only emailOptIn was relied on");
    let export = app.data("query($id: ID!) { exportCustomer(id: $id) }", json!({ "id": ann })).await;
    assert_eq!(export["exportCustomer"]["emailDeliveries"][0]["consent"], *consent, "the export carries it");
    assert_eq!(sink.received().len(), 2);

    let after = as_key(app, marketer, &format!("query($id: ID!) {{ campaign(id: $id) {{ {CAMPAIGN} }} }}"), json!({ "id": id })).await;
    let c = &after["campaign"];
    assert_eq!(c["state"], "SENT");
    assert!(c["sentAt"].is_string());
    assert_eq!(
        c["sends"]["items"],
        json!([{ "state": "DONE", "audience": 3, "noEmail": 1, "skippedForConsent": 0, "blocked": 1, "capped": 0, "enqueued": 1, "pending": 0, "sent": 1, "failed": 0, "skipped": 0 }])
    );

    let edit = refused(app, marketer, "mutation($id: ID!) { updateCampaign(id: $id, input: { subject: \"New\" }) { id } }", json!({ "id": id })).await;
    assert_eq!(edit.0, "INVALID_STATE", "{edit:?}");
    assert!(edit.1.contains("sent"), "{edit:?}");

    let link = mails[1].parsed().body_text(0).unwrap().lines().find(|l| l.contains("/unsubscribe?d=")).unwrap().trim().to_string();
    let path = &link[link.find("/unsubscribe").unwrap()..];
    let res = crate::harness::http_client().post(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let totals = as_key(app, marketer, "query($id: ID!) { campaign(id: $id) { totals { unsubscribes sent } } }", json!({ "id": id })).await;
    assert_eq!(totals["campaign"]["totals"], json!({ "unsubscribes": 1, "sent": 1 }), "the unsubscribe is counted on the campaign");
}

on_both!(a_marketer_builds_a_rule_campaign_and_it_goes_out_once_at_its_local_time);

async fn pause_stops_a_send_midway_and_resume_finishes_it_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[("LOYALTY_MAIL_MAX_PER_RUN", "2")]).await;
    app.data("mutation { updateRestaurant(input: { frequencyCap: { emails: 1, days: 7 } }) { frequencyCap { emails days includeOccasions } } }", json!({}))
        .await;
    for i in 0..5 {
        member(&app, &format!("+1415555020{i}"), &format!("Guest{i}"), opted_in(&format!("g{i}@example.com"))).await;
    }
    let created = app.data(CREATE, content("Spring menu", json!({ "rule": { "emailOptIn": true } }))).await;
    let id = created["createCampaign"]["id"].as_str().unwrap().to_string();
    let scheduled =
        app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state schedule { kind } } }", json!({ "id": id })).await;
    assert_eq!(scheduled["scheduleCampaign"], json!({ "state": "SCHEDULED", "schedule": { "kind": "NOW" } }));

    let first = run(&app, "CAMPAIGNS").await;
    assert_eq!((first["enqueued"].as_i64(), first["sent"].as_i64()), (Some(5), Some(2)), "{first}");
    let paused = app.data("mutation($id: ID!) { pauseCampaign(id: $id) { state } }", json!({ "id": id })).await;
    assert_eq!(paused["pauseCampaign"]["state"], "PAUSED");
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 0, "nothing goes out while paused");
    let (code, _, _) = app.error("mutation($id: ID!) { pauseCampaign(id: $id) { state } }", json!({ "id": id })).await;
    assert_eq!(code, "INVALID_STATE");
    let resumed = app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": id })).await;
    assert_eq!(resumed["resumeCampaign"]["state"], "SENDING");
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 2);
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 1);
    assert_eq!(run(&app, "DELIVERIES").await["sent"], 0);
    let mut to: Vec<String> = sink.wait_for(5).await.into_iter().flat_map(|m| m.to).collect();
    to.sort();
    assert_eq!(to, (0..5).map(|i| format!("g{i}@example.com")).collect::<Vec<_>>(), "each guest once");
    let done = app.data("query($id: ID!) { campaign(id: $id) { state totals { sent enqueued } } }", json!({ "id": id })).await;
    assert_eq!(done["campaign"], json!({ "state": "SENT", "totals": { "sent": 5, "enqueued": 5 } }));

    let second = app.data(CREATE, content("Summer menu", json!({ "rule": { "emailOptIn": true } }))).await;
    let second = second["createCampaign"]["id"].as_str().unwrap().to_string();
    let audience = app.data("query($id: ID!) { campaignAudience(id: $id) { audience recipients capped } }", json!({ "id": second })).await;
    assert_eq!(audience["campaignAudience"], json!({ "audience": 5, "recipients": 0, "capped": 5 }), "one marketing email per 7 days");
    app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }", json!({ "id": second })).await;
    let capped = run(&app, "CAMPAIGNS").await;
    assert_eq!((capped["enqueued"].as_i64(), capped["capped"].as_i64()), (Some(0), Some(5)), "capped members are counted, not sent: {capped}");

    app.sql("UPDATE customers SET status = 'dormant'").await;
    let win_back = run(&app, "WIN_BACK").await;
    assert_eq!((win_back["enqueued"].as_i64(), win_back["capped"].as_i64()), (Some(0), Some(5)), "win-back is marketing: capped too: {win_back}");

    let third = app.data(CREATE, content("Cancelled", json!({ "rule": { "emailOptIn": true } }))).await;
    let third = third["createCampaign"]["id"].as_str().unwrap().to_string();
    let cancelled = app.data("mutation($id: ID!) { cancelCampaign(id: $id) { state } }", json!({ "id": third })).await;
    assert_eq!(cancelled["cancelCampaign"]["state"], "CANCELLED");
    let dup = app.data("mutation($id: ID!) { duplicateCampaign(id: $id) { name state audience { rule { emailOptIn } } } }", json!({ "id": third })).await;
    assert_eq!(dup["duplicateCampaign"], json!({ "name": "Copy of Cancelled", "state": "DRAFT", "audience": { "rule": { "emailOptIn": true } } }));
}

on_both!(pause_stops_a_send_midway_and_resume_finishes_it_once);

async fn bad_templates_times_and_roles_are_refused_and_restaurants_are_isolated(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    let marketer = app.create_key("default", "marketer").await;
    let ann = member(&app, "+14155550101", "Ann", opted_in("ann@example.com")).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"allergic to nuts\") { id } }", json!({ "id": ann })).await;

    let id = templates_segments_and_schedules_are_checked(&app, &marketer).await;
    a_marketer_stays_in_marketing(&app, &marketer, &ann).await;
    another_restaurant_sees_none_of_it(&app, &sink, &id, &ann).await;
}

/// Broken templates, unknown variables, contradictory rules and bad schedules are refused with
/// `VALIDATION`; returns the id of a campaign that passed.
async fn templates_segments_and_schedules_are_checked(app: &TestApp, marketer: &str) -> String {
    let mut broken = content("Broken", json!({ "rule": {} }));
    broken["input"]["bodyText"] = json!("Hello\n{% if first_name %}\nno end");
    let (code, message) = refused(app, marketer, CREATE, broken).await;
    assert_eq!(code, "VALIDATION");
    assert!(message.starts_with("bodyText: line "), "{message}");
    let mut unknown = content("Unknown", json!({ "rule": {} }));
    unknown["input"]["bodyHtml"] = json!("<p>Hi</p>\n<p>{{ favourite_dish }}</p>");
    let (code, message) = refused(app, marketer, CREATE, unknown).await;
    assert_eq!(code, "VALIDATION");
    assert!(message.contains("line 2: unknown variable `favourite_dish`"), "{message}");
    let (code, message) =
        refused(app, marketer, "mutation { createSegment(input: { name: \"odd\", rule: { minVisits: 5, maxVisits: 2 } }) { name } }", json!({})).await;
    assert_eq!((code.as_str(), message.contains("rule.minVisits")), ("VALIDATION", true), "{message}");

    let id =
        as_key(app, marketer, CREATE, content("Fine", json!({ "rule": { "emailOptIn": true } }))).await["createCampaign"]["id"].as_str().unwrap().to_string();
    let schedule = "mutation($id: ID!, $s: CampaignScheduleInput!) { scheduleCampaign(id: $id, schedule: $s) { state } }";
    let (code, message) = refused(app, marketer, schedule, json!({ "id": id, "s": { "sendAt": "2020-01-01T09:00" } })).await;
    assert_eq!((code.as_str(), message.contains("in the past")), ("VALIDATION", true), "{message}");
    let (code, _) = refused(app, marketer, schedule, json!({ "id": id, "s": { "sendNow": true, "cron": "0 0 9 * * *" } })).await;
    assert_eq!(code, "VALIDATION");
    let (code, message) = refused(app, marketer, schedule, json!({ "id": id, "s": { "cron": "15 0 9 * * *" } })).await;
    assert_eq!((code.as_str(), message.contains("must be 0")), ("VALIDATION", true), "{message}");
    let weekly = as_key(
        app,
        marketer,
        "mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { cron: \"0 0 18 * * FRI\" }) { state schedule { cron } nextSendAt } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(weekly["scheduleCampaign"]["schedule"]["cron"], "0 0 18 * * FRI");

    id
}

/// A marketer cannot erase, merge, create keys, give points or read notes and allergies; staff
/// cannot see campaigns.
async fn a_marketer_stays_in_marketing(app: &TestApp, marketer: &str, ann: &str) {
    for q in [
        format!("mutation {{ eraseCustomer(id: \"{ann}\") {{ id }} }}"),
        format!("mutation {{ mergeCustomers(sourceId: \"{ann}\", targetId: \"{ann}\") {{ id }} }}"),
        "mutation { createApiKey(role: VIEWER, name: \"x\") { key } }".to_string(),
        format!("mutation {{ addPoints(customerId: \"{ann}\", points: 5) {{ currentPoints }} }}"),
        format!("mutation {{ adjustPoints(customerId: \"{ann}\", points: 5, reason: \"x\") {{ currentPoints }} }}"),
        format!("{{ customer(id: \"{ann}\") {{ notes {{ items {{ note }} }} }} }}"),
        format!("{{ customer(id: \"{ann}\") {{ preferences {{ allergies }} }} }}"),
    ] {
        let (code, _) = refused(app, marketer, &q, json!({})).await;
        assert_eq!(code, "FORBIDDEN", "{q}");
    }
    let reads = as_key(
        app,
        marketer,
        &format!("{{ customer(id: \"{ann}\") {{ name loyaltyTier marketing {{ emailOptIn }} }} loyaltyStats {{ summary {{ totalCustomers }} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(reads["customer"]["name"], "Ann");

    let staff = app.create_key("default", "staff").await;
    let (code, _) = refused(app, &staff, "{ campaigns { items { id } } }", json!({})).await;
    assert_eq!(code, "FORBIDDEN", "campaigns are for marketers and admins");
}

/// Another restaurant's admin finds none of this restaurant's campaigns, segments or members.
async fn another_restaurant_sees_none_of_it(app: &TestApp, sink: &SmtpSink, id: &str, ann: &str) {
    let other = app.create_key("elsewhere", "admin").await;
    for q in [
        format!("{{ campaign(id: \"{id}\") {{ id }} }}"),
        format!("{{ campaignAudience(id: \"{id}\") {{ audience }} }}"),
        format!("{{ previewCampaign(id: \"{id}\", customerId: \"{ann}\") {{ subject }} }}"),
        format!("mutation {{ updateCampaign(id: \"{id}\", input: {{ name: \"x\" }}) {{ id }} }}"),
        format!("mutation {{ pauseCampaign(id: \"{id}\") {{ id }} }}"),
        format!("mutation {{ cancelCampaign(id: \"{id}\") {{ id }} }}"),
        format!("mutation {{ duplicateCampaign(id: \"{id}\") {{ id }} }}"),
        format!("mutation {{ sendTestEmail(id: \"{id}\", to: \"x@example.com\") {{ to }} }}"),
        format!("mutation {{ scheduleCampaign(id: \"{id}\", schedule: {{ sendNow: true }}) {{ id }} }}"),
        "mutation { updateSegmentRule(name: \"nope\", rule: {}) { name } }".to_string(),
    ] {
        let (code, _) = refused(app, &other, &q, json!({})).await;
        assert_eq!(code, "NOT_FOUND", "{q}");
    }
    let theirs = as_key(app, &other, CREATE, content("Theirs", json!({ "rule": {} }))).await["createCampaign"]["id"].as_str().unwrap().to_string();
    let audience =
        as_key(app, &other, "query($id: ID!) { campaignAudience(id: $id) { audience } campaigns(kind: CUSTOM) { items { name } } }", json!({ "id": theirs }))
            .await;
    assert_eq!(
        audience,
        json!({ "campaignAudience": { "audience": 0 }, "campaigns": { "items": [{ "name": "Theirs" }] } }),
        "only their own members and campaigns"
    );
    let seg = as_key(app, &other, "mutation { createSegment(input: { name: \"everyone\", rule: {} }) { customerCount } }", json!({})).await;
    assert_eq!(seg["createSegment"]["customerCount"], 0);
    assert!(sink.received().is_empty());
}

on_both!(bad_templates_times_and_roles_are_refused_and_restaurants_are_isolated);

async fn replicas_racing_for_a_due_campaign_send_each_email_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink, &[]).await;
    for i in 0..30 {
        member(&app, &format!("+141555503{i:02}"), &format!("Guest{i}"), opted_in(&format!("r{i}@example.com"))).await;
    }
    let id = app.data(CREATE, content("Race", json!({ "rule": { "emailOptIn": true } }))).await["createCampaign"]["id"].as_str().unwrap().to_string();
    app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }", json!({ "id": id })).await;
    // `runJob` here while another process (the CLI, as a second replica would) runs the job.
    let smtp = sink.url();
    let env = [("SMTP_URL", smtp.as_str())];
    let cli = app.cli_with(&["jobs", "run", "campaigns", "--restaurant", "default"], &env);
    let (a, (ok, out, err)) = tokio::join!(run(&app, "CAMPAIGNS"), cli);
    assert!(ok, "{err}");
    let b: Value = serde_json::from_str(&out).expect("the CLI's report");
    assert_eq!(a["sends"].as_i64().unwrap() + b["sends"].as_i64().unwrap(), 1, "one replica starts the send: {a} {b}");
    assert_eq!(a["sent"].as_i64().unwrap() + b["sent"].as_i64().unwrap(), 30, "{a} {b}");
    let mut to: Vec<String> = sink.wait_for(30).await.into_iter().flat_map(|m| m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!((to.len(), sink.received().len()), (30, 30), "each member once");
    let done = app.data("query($id: ID!) { campaign(id: $id) { state totals { sends enqueued sent } } }", json!({ "id": id })).await;
    assert_eq!(done["campaign"], json!({ "state": "SENT", "totals": { "sends": 1, "enqueued": 30, "sent": 30 } }));
}

on_both!(replicas_racing_for_a_due_campaign_send_each_email_once);
