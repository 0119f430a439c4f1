//! Webhook receivers that fail slowly or lose their sender: a receiver that takes longer than
//! the 10 s timeout delays only its own events (another endpoint's arrive meanwhile, and the
//! request that made them never waits), and is retried with the same `webhook-id`; a replica
//! killed while a message is on the wire leaves its claim, which another replica sends again
//! once stale — at least once, the same id, verified with the reference library.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::create_customer;
use crate::harness::{Backend, TestApp};
use crate::webhooks::{Answer, Receiver, until_delivered, verify};

const WORKER: [(&str, &str); 2] = [("LOYALTY_WEBHOOK_WORKER", "true"), ("LOYALTY_WEBHOOK_ALLOW_PRIVATE", "true")];

/// An endpoint for every event at `url`, active at once; its id and secret.
async fn endpoint(app: &TestApp, url: &str) -> (String, String) {
    let created = app
        .data("mutation($url: String!) { createWebhookEndpoint(url: $url, events: [\"*\"]) { secret endpoint { id } } }", json!({ "url": url }))
        .await["createWebhookEndpoint"]
        .clone();
    let id = created["endpoint"]["id"].as_str().unwrap().to_string();
    app.sql(&format!("UPDATE webhook_endpoints SET active_from = {} WHERE id = {id}", app.days_ago_sql(1))).await;
    (id, created["secret"].as_str().unwrap().to_string())
}

/// Waits (up to `secs`) until `receiver` got `n` requests.
async fn until_received(receiver: &Receiver, n: usize, secs: u64) -> Vec<crate::webhooks::Received> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let got = receiver.received();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the receiver got {} of {n} requests", receiver.received().len());
}

async fn a_slow_receiver_delays_only_its_own_events(backend: Backend) {
    let slow = Receiver::start(&[Answer::Slow(12)]).await;
    let fast = Receiver::start(&[]).await;
    let app = TestApp::spawn_with(backend, &WORKER).await;
    let (slow_endpoint, slow_secret) = endpoint(&app, &slow.url).await;
    endpoint(&app, &fast.url).await;
    let started = Instant::now();
    create_customer(&app, "+14155550121", "Ann").await;
    assert!(started.elapsed() < Duration::from_secs(2), "the request does not wait for a receiver");
    until_received(&slow, 1, 10).await;
    until_received(&fast, 1, 10).await;
    // While the slow receiver still holds its message, the next event reaches the other one.
    create_customer(&app, "+14155550122", "Bob").await;
    until_received(&fast, 2, 8).await;
    assert!(started.elapsed() < Duration::from_secs(9), "Bob's event arrived while Ann's first attempt to the slow receiver hung");

    // The hung attempt is given up at 10 s and retried with the same id.
    let log = "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { eventType attempts lastError status } } }";
    let mut timed_out = Value::Null;
    for _ in 0..150 {
        let items = app.data(log, json!({ "e": slow_endpoint })).await["webhookDeliveries"]["items"].clone();
        if let Some(d) = items.as_array().unwrap().iter().find(|d| d["lastError"].as_str().is_some_and(|e| e.contains("timed out"))) {
            timed_out = d.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((timed_out["status"].as_str(), timed_out["attempts"].as_i64()), (Some("PENDING"), Some(1)), "{timed_out}");
    let got = until_delivered(&app, &slow, 2).await;
    let ids: Vec<&str> = got.iter().map(|r| r.headers["webhook-id"].as_str()).collect();
    assert_eq!(ids.iter().filter(|id| **id == ids[0]).count(), 2, "Ann's message again, same id: {ids:?}");
    assert!(verify(&got, &slow_secret).await.iter().all(|v| v["ok"] == true));
}
crate::on_both!(a_slow_receiver_delays_only_its_own_events);

/// A replica killed while its message is on the wire: the row stays claimed; once the claim
/// is stale (5 minutes, here made so), another replica sends the same event again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_of_a_killed_replica_is_sent_by_another() {
    let receiver = Receiver::start(&[Answer::Slow(60)]).await;
    let app = TestApp::spawn_with(Backend::Postgres, &[("LOYALTY_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let (endpoint_id, secret) = endpoint(&app, &receiver.url).await;
    let doomed = app.replica(&WORKER).await;
    create_customer(&app, "+14155550131", "Ann").await;
    until_received(&receiver, 1, 10).await;
    drop(doomed);
    let status = "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { status attempts } } }";
    let items = app.data(status, json!({ "e": endpoint_id })).await["webhookDeliveries"]["items"].clone();
    assert_eq!(items, json!([{ "status": "SENDING", "attempts": 0 }]), "claimed by the killed replica");

    let survivor = app.replica(&WORKER).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 1, "a fresh claim is left to its holder");
    app.sql("UPDATE webhook_deliveries SET claimed_at = claimed_at - interval '6 minutes'").await;
    let got = until_received(&receiver, 2, 10).await;
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"], "the same event, the same id");
    assert_eq!(got[0].body, got[1].body);
    assert!(verify(&got, &secret).await.iter().all(|v| v["ok"] == true));
    let mut delivered = Value::Null;
    for _ in 0..100 {
        delivered = app.data(status, json!({ "e": endpoint_id })).await["webhookDeliveries"]["items"].clone();
        if delivered[0]["status"] == "DELIVERED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered, json!([{ "status": "DELIVERED", "attempts": 1 }]), "one row, delivered by the survivor");
    drop(survivor);
}
