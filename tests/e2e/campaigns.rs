//! Scheduled jobs and campaigns, run on demand over GraphQL, with emails delivered to a real
//! SMTP server on loopback and read back.

use chrono::{Datelike, Duration, Timelike, Utc};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::smtp::SmtpSink;
use crate::{add_points, customer, on_both};

const UPSERT: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
const RUN: &str = "mutation($job: JobName!, $dry: Boolean!) { runJob(job: $job, dryRun: $dry) {
    run { job outcome dryRun changed enqueued skippedForConsent sent failed retrying }
    recipients { customerId name email occasionDate } } }";

async fn spawn(backend: Backend, sink: &SmtpSink) -> TestApp {
    TestApp::spawn_with(
        backend,
        &[
            ("SMTP_URL", &sink.url()),
            ("LOYALTY_MAIL_RETRY_SECS", "0"),
            ("LOYALTY_RESTAURANT_NAME", "Chez Test"),
            ("LOYALTY_MAIL_FROM", "Chez Test <hello@chez.test>"),
        ],
    )
    .await
}

async fn member(app: &TestApp, phone: &str, name: &str, extra: Value) -> String {
    let mut input = json!({ "phone": phone, "name": name });
    input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.data(UPSERT, json!({ "input": input })).await["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
}

async fn run(app: &TestApp, job: &str, dry: bool) -> Value {
    app.data(RUN, json!({ "job": job, "dry": dry })).await["runJob"].clone()
}

fn birthday_in(days: i64) -> String {
    let d = Utc::now().date_naive() + Duration::days(days);
    format!("1990-{:02}-{:02}", d.month(), d.day().min(28))
}

fn all_consents() -> Value {
    json!({ "emailOptIn": true, "birthdayOffers": true, "anniversaryOffers": true, "specialOffers": true })
}

async fn birthday_emails_respect_consent_and_send_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink).await;
    let today = birthday_in(0);
    let ann = member(&app, "+14155550101", "Ann Lee", json!({ "email": "ann@example.com", "dateOfBirth": today, "marketing": all_consents() })).await;
    add_points(&app, &ann, 2_500).await;
    member(
        &app,
        "+14155550102",
        "Bob",
        json!({ "email": "bob@example.com", "dateOfBirth": today, "marketing": { "emailOptIn": true, "birthdayOffers": false } }),
    )
    .await;
    member(&app, "+14155550103", "Cat", json!({ "email": "cat@example.com", "dateOfBirth": today, "marketing": all_consents(), "status": "BLOCKED" })).await;
    member(&app, "+14155550104", "Dan", json!({ "dateOfBirth": today, "marketing": all_consents() })).await;
    member(&app, "+14155550105", "Eve", json!({ "email": "eve@example.com", "dateOfBirth": birthday_in(3), "marketing": all_consents() })).await;

    let dry = run(&app, "BIRTHDAY", true).await;
    assert_eq!(dry["recipients"].as_array().unwrap().len(), 1, "{dry:#}");
    assert_eq!(dry["recipients"][0]["email"], "ann@example.com");
    assert_eq!(dry["run"]["skippedForConsent"], 3);
    assert!(sink.received().is_empty(), "a dry run sends nothing");

    let out = run(&app, "BIRTHDAY", false).await;
    assert_eq!(out["run"]["outcome"], "SUCCEEDED");
    assert_eq!((out["run"]["enqueued"].as_i64(), out["run"]["sent"].as_i64()), (Some(1), Some(1)), "{out:#}");
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["ann@example.com".to_string()]);
    let msg = mails[0].parsed();
    assert_eq!(msg.subject(), Some("Happy Birthday, Ann! 🎂"));
    let text = msg.body_text(0).unwrap().replace("\r\n", "\n");
    let html = msg.body_html(0).unwrap().to_string();
    assert!(text.contains("Your birthday gift as a Gold member is below.\n") && text.contains("10% off\nShow this code when you pay: "), "{text}");
    // The voucher's last day, the restaurant's way (en-US); the day before when the send crossed midnight.
    let last_day = |back: i64| format!("Valid until {}", (Utc::now().date_naive() + Duration::days(30 - back)).format("%A, %B %-d, %Y"));
    let valid_until = [last_day(0), last_day(1)].into_iter().find(|v| text.contains(v.as_str())).unwrap_or_else(|| panic!("{text}"));
    assert!(html.contains("<strong>Gold</strong> member is below") && html.contains(&valid_until) && html.contains("class=\"offer\""), "{html}");
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_string());
    assert_eq!(header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let list_unsubscribe = header("List-Unsubscribe").unwrap();
    let link = list_unsubscribe.trim_matches(['<', '>']).to_string();
    assert!(text.contains(&link), "the text part carries the same link");
    assert!(link.starts_with(&format!("{}/unsubscribe?d=", app.base)), "{link}");

    let again = run(&app, "BIRTHDAY", false).await;
    assert_eq!((again["run"]["enqueued"].as_i64(), again["run"]["sent"].as_i64()), (Some(0), Some(0)));
    assert_eq!(sink.received().len(), 1, "a second run sends nothing new");

    let reports = app.data("{ campaignReports { campaign pending sent failed skipped lastRun { job sent } } }", json!({})).await;
    assert_eq!(
        reports["campaignReports"][0],
        json!({ "campaign": "BIRTHDAY", "pending": 0, "sent": 1, "failed": 0, "skipped": 0, "lastRun": { "job": "BIRTHDAY", "sent": 0 } })
    );

    let path = link.trim_start_matches(&app.base).to_string();
    let (status, page) = app.get(&path).await;
    assert_eq!(status, 200);
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert!(page.contains("marketing emails from Chez Test"), "the page names the restaurant: {page}");
    let flipped = if path.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}", &path[..path.len() - 1]);
    assert_eq!(app.get(&forged).await.0, 400);
    let client = crate::harness::http_client();
    let forged_post = client.post(format!("{}{forged}", app.base)).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap();
    assert_eq!(forged_post.status().as_u16(), 400);
    assert!(customer_consent(&app, &ann).await, "a forged token changes nothing");
    let one_click = client.post(&link).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap();
    assert_eq!(one_click.status().as_u16(), 200);
    assert!(one_click.text().await.unwrap().contains("ann@example.com will receive no more marketing emails"));
    assert!(!customer_consent(&app, &ann).await);
}

async fn customer_consent(app: &TestApp, id: &str) -> bool {
    app.data("query($id: ID!) { customer(id: $id) { marketing { emailOptIn } } }", json!({ "id": id })).await["customer"]["marketing"]["emailOptIn"]
        .as_bool()
        .unwrap()
}

async fn smtp_outage_ends_with_exactly_one_email(backend: Backend) {
    let mut sink = SmtpSink::start().await;
    sink.stop().await;
    let app = spawn(backend, &sink).await;
    member(&app, "+14155550101", "Ann", json!({ "email": "ann@example.com", "anniversary": birthday_in(0), "marketing": all_consents() })).await;

    let down = run(&app, "ANNIVERSARY", false).await;
    assert_eq!((down["run"]["sent"].as_i64(), down["run"]["retrying"].as_i64()), (Some(0), Some(1)), "{down:#}");
    let pending = app.data("{ deliveries(campaign: ANNIVERSARY) { items { status attempts lastError } } }", json!({})).await;
    assert_eq!(pending["deliveries"]["items"][0]["status"], "PENDING");
    assert_eq!(pending["deliveries"]["items"][0]["attempts"], 1);
    assert!(pending["deliveries"]["items"][0]["lastError"].as_str().unwrap().contains("SMTP"));

    sink.restart().await;
    let up = run(&app, "DELIVERIES", false).await;
    assert_eq!(up["run"]["sent"], 1, "{up:#}");
    assert_eq!(run(&app, "DELIVERIES", false).await["run"]["sent"], 0);
    assert_eq!(run(&app, "ANNIVERSARY", false).await["run"]["enqueued"], 0);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1, "exactly one email after the outage");
    assert!(mails[0].parsed().subject().unwrap().starts_with("Happy anniversary, Ann"));
    let sent = app.data("{ deliveries(status: SENT) { items { campaign attempts } } }", json!({})).await;
    assert_eq!(sent["deliveries"]["items"], json!([{ "campaign": "ANNIVERSARY", "attempts": 2 }]));
}

async fn dormancy_and_win_back(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink).await;
    let mut ids = Vec::new();
    for (i, days) in [89, 90, 91].into_iter().enumerate() {
        let id =
            member(&app, &format!("+1415555010{i}"), &format!("Guest{days}"), json!({ "email": format!("g{days}@example.com"), "marketing": all_consents() }))
                .await;
        app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": id })).await;
        app.sql(&format!("UPDATE customers SET last_visit_at = {t}, first_visit_at = {t} WHERE id = {id}", t = app.days_ago_sql(days))).await;
        ids.push(id);
    }
    let dry = run(&app, "DORMANCY", true).await;
    assert_eq!(dry["run"]["changed"], 10, "{dry:#}");
    assert_eq!(dry["recipients"].as_array().unwrap().len(), 3);
    assert_eq!(customer(&app, &ids[2]).await["status"], "ACTIVE", "a dry run changes nothing");

    let first = run(&app, "DORMANCY", false).await;
    assert_eq!(first["run"]["changed"], 10, "dormant tag and segment, two at-risk, six new-customer labels expired");
    for (id, status, tags, segments) in [
        (&ids[0], "ACTIVE", json!([]), json!(["at-risk"])),
        (&ids[1], "ACTIVE", json!([]), json!(["at-risk"])),
        (&ids[2], "DORMANT", json!(["dormant"]), json!(["dormant"])),
    ] {
        let c = customer(&app, id).await;
        assert_eq!((c["status"].clone(), c["tags"].clone(), c["segments"].clone()), (json!(status), tags, segments), "{}", c["name"]);
    }
    assert_eq!(run(&app, "DORMANCY", false).await["run"]["changed"], 0, "a second run changes nothing");

    let win_back = run(&app, "WIN_BACK", false).await;
    assert_eq!(win_back["run"]["sent"], 1, "{win_back:#}");
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["g91@example.com".to_string()]);
    assert_eq!(mails[0].parsed().subject(), Some("We miss you, Guest91"));
    assert_eq!(run(&app, "WIN_BACK", false).await["run"]["enqueued"], 0, "at most one win-back per period");
    let runs = app.data("{ jobRuns(job: DORMANCY, first: 5) { items { trigger outcome dryRun } } }", json!({})).await;
    assert_eq!(runs["jobRuns"]["items"].as_array().unwrap().len(), 3);
    assert_eq!(runs["jobRuns"]["items"][0], json!({ "trigger": "API", "outcome": "SUCCEEDED", "dryRun": false }));
}

on_both!(birthday_emails_respect_consent_and_send_once);
on_both!(smtp_outage_ends_with_exactly_one_email);
on_both!(dormancy_and_win_back);

async fn a_starting_scheduler_runs_the_slot_it_missed(backend: Backend) {
    let at = |t: chrono::DateTime<Utc>| t.format("%H:%M").to_string();
    let now = Utc::now();
    let missed = (now - Duration::minutes(30)).with_second(0).unwrap().with_nanosecond(0).unwrap();
    let later = now + Duration::hours(3);
    let env = [
        ("LOYALTY_TIMEZONE", "UTC"),
        ("LOYALTY_CATCH_UP_HOURS", "2"),
        ("LOYALTY_BIRTHDAY_AT", &at(missed)),
        ("LOYALTY_DORMANCY_AT", &at(later)),
        ("LOYALTY_ANNIVERSARY_AT", &at(later)),
        ("LOYALTY_WIN_BACK_AT", &at(later)),
        ("LOYALTY_CRON_DELIVERIES", &format!("0 {} {} * * *", later.minute(), later.hour())),
    ];
    let first = TestApp::spawn_with(backend, &[env.as_slice(), &[("LOYALTY_SCHEDULER", "true")]].concat()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(first.data("{ jobRuns { items { id } } }", json!({})).await["jobRuns"]["items"], json!([]), "a brand-new database runs no catch-up");
    let app = first.replica(&[env.as_slice(), &[("LOYALTY_SCHEDULER", "true")]].concat()).await;
    let q = "query($job: JobName!) { jobRuns(job: $job) { items { trigger scheduledFor outcome } } }";
    let mut runs = Value::Null;
    for _ in 0..100 {
        runs = app.data(q, json!({ "job": "BIRTHDAY" })).await["jobRuns"]["items"].clone();
        if runs.as_array().is_some_and(|r| !r.is_empty() && r[0]["outcome"] != "RUNNING") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(runs[0]["trigger"], "CATCH_UP");
    assert_eq!(runs[0]["outcome"], "SUCCEEDED");
    let slot = chrono::DateTime::parse_from_rfc3339(runs[0]["scheduledFor"].as_str().unwrap()).unwrap();
    assert_eq!(slot, missed, "recorded under the slot it stands for, so no replica runs it again");
    let dormancy = app.data(q, json!({ "job": "DORMANCY" })).await;
    assert_eq!(dormancy["jobRuns"]["items"], json!([]), "a slot older than LOYALTY_CATCH_UP_HOURS is left alone");
}

on_both!(a_starting_scheduler_runs_the_slot_it_missed);

/// `runJob` of a job already running for the restaurant through `runJob` (on any replica) is
/// refused with the run named; another job, or the same job once the run ends or its replica
/// dies (its heartbeat stops), runs. Racing `runJob`s run the job once at a time.
async fn a_second_run_job_of_a_running_job_is_refused_until_it_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let replica = app.replica(&[]).await;
    let now = app.instant_sql(Utc::now());
    app.sql(&format!(
        "INSERT INTO job_runs (job, restaurant_id, \"trigger\", dry_run, started_at, heartbeat_at, outcome, counts) \
         VALUES ('dormancy', 'default', 'api', false, {now}, {now}, 'running', '{{}}')"
    ))
    .await;
    let dormancy = json!({ "job": "DORMANCY", "dry": false });
    for node in [&app, &replica] {
        let (code, message, _) = node.error(RUN, dormancy.clone()).await;
        assert_eq!(code, "INVALID_STATE", "{message}");
        assert!(message.starts_with("job dormancy is already running for this restaurant (run "), "{message}");
        assert!(message.ends_with("wait for it to finish"), "{message}");
    }
    let other = app.data(RUN, json!({ "job": "RETENTION", "dry": false })).await;
    assert_eq!(other["runJob"]["run"]["outcome"], "SUCCEEDED", "another job runs");

    app.sql(&format!("UPDATE job_runs SET heartbeat_at = {} WHERE job = 'dormancy'", app.instant_sql(Utc::now() - Duration::minutes(5)))).await;
    let freed = app.data(RUN, dormancy.clone()).await;
    assert_eq!(freed["runJob"]["run"]["outcome"], "SUCCEEDED", "a run whose replica died frees the job");

    let racing = [&app, &replica, &app, &replica].map(|node| node.gql(RUN, dormancy.clone()));
    let answers = futures_util::future::join_all(racing).await;
    let succeeded = answers.iter().filter(|a| a["data"]["runJob"]["run"]["outcome"] == "SUCCEEDED").count();
    let refused = answers.iter().filter(|a| a["errors"][0]["extensions"]["code"] == "INVALID_STATE").count();
    assert!(succeeded >= 1 && succeeded + refused == 4, "each racing run ran or was refused: {answers:?}");
}

on_both!(a_second_run_job_of_a_running_job_is_refused_until_it_ends);
