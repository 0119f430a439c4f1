//! Stopping mid-send: a process that gets SIGTERM while it sends a campaign finishes the batch
//! it holds, records it and claims nothing more, so no email is left claimed (`sending`) for
//! the stale window; another replica sends the rest at once, each email once.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::smtp::SmtpSink;

const MEMBERS: usize = 400;

async fn count(app: &TestApp, status: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.db().await;
    let sql = format!("SELECT COUNT(*) FROM email_deliveries WHERE status = '{status}'");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let n = row.try_get_by_index::<i64>(0).unwrap();
    db.close().await.ok();
    n
}

/// A service with a campaign to [`MEMBERS`] opted-in members, due now.
async fn due_campaign(backend: Backend, sink: &SmtpSink) -> TestApp {
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url())]).await;
    let upsert = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created } }";
    for chunk in (0..MEMBERS).collect::<Vec<_>>().chunks(20) {
        let requests = chunk.iter().map(|i| {
            let input = json!({ "phone": format!("+1415556{i:04}"), "name": format!("Guest {i}"), "email": format!("g{i}@example.com"), "marketing": { "emailOptIn": true } });
            app.data(upsert, json!({ "input": input }))
        });
        futures_util::future::join_all(requests).await;
    }
    let created = app
        .data(
            "mutation { createCampaign(input: { name: \"Big\", audience: { rule: { emailOptIn: true } }, subject: \"Hi {{ first_name }}\", bodyText: \"Hello\", bodyHtml: \"<p>Hello</p>\" }) { id } }",
            json!({}),
        )
        .await;
    let id = created["createCampaign"]["id"].clone();
    app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }", json!({ "id": id })).await;
    app
}

async fn a_process_stopped_mid_send_leaves_no_email_claimed(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = due_campaign(backend, &sink).await;
    let mut sender = tokio::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["jobs", "run", "campaigns", "--restaurant", "default"])
        .env("DATABASE_URL", &app.db_url)
        .env("LOYALTY_MASTER_KEY", crate::harness::MASTER_KEY)
        .env("SMTP_URL", sink.url())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = tokio::time::Instant::now();
    while count(&app, "sent").await == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the send did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = sender.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(30), sender.wait()).await.expect("stops within the grace period").unwrap();
    assert!(status.success(), "a stopped run ends cleanly: {status}");

    nothing_left_claimed(&app, &sink).await;
}

on_both!(a_process_stopped_mid_send_leaves_no_email_claimed);

/// After a stop mid-send: nothing `sending`, the run stopped early, and another process sends
/// the rest, each email once.
async fn nothing_left_claimed(app: &TestApp, sink: &SmtpSink) {
    assert_eq!(count(app, "sending").await, 0, "no email is left claimed for the stale window");
    let sent = count(app, "sent").await;
    assert!(sent < MEMBERS as i64, "the run stopped early ({sent} sent)");
    assert_eq!(sent + count(app, "pending").await, MEMBERS as i64, "nothing lost");

    let rest = app.data("mutation { runJob(job: DELIVERIES) { run { sent } } }", json!({})).await;
    assert_eq!(rest["runJob"]["run"]["sent"].as_i64().unwrap() + sent, MEMBERS as i64, "another process sends the rest at once");
    let mut to: Vec<String> = sink.wait_for(MEMBERS).await.into_iter().flat_map(|m| m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!((to.len(), sink.received().len()), (MEMBERS, MEMBERS), "each email once");
}

async fn a_replica_stopped_mid_send_finishes_its_batch_and_hands_back_the_rest(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = due_campaign(backend, &sink).await;
    let mut replica = app.replica(&[("SMTP_URL", &sink.url())]).await;
    let (url, key) = (format!("{}/graphql", replica.base), app.admin_key.clone());
    let running = tokio::spawn(async move {
        let body = json!({ "query": "mutation { runJob(job: CAMPAIGNS) { run { outcome sent } } }" });
        crate::harness::http_client().post(url).bearer_auth(key).json(&body).send().await.map(|r| r.status().as_u16())
    });
    let started = tokio::time::Instant::now();
    while count(&app, "sent").await == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the send did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = replica.terminate().await;
    assert!(status.success(), "the replica stops cleanly: {status}");
    assert_eq!(running.await.unwrap().ok(), Some(200), "the request in flight was answered before the replica stopped");
    nothing_left_claimed(&app, &sink).await;
}

on_both!(a_replica_stopped_mid_send_finishes_its_batch_and_hands_back_the_rest);
