//! Personal values in webhook messages: an endpoint an admin allows them gets the member's
//! name, phone and email in messages about the member (read when sent, signed with the rest),
//! another endpoint gets ids only, the stored events hold ids only, and an erased member's
//! messages carry nothing of them.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::webhooks::{Receiver, until_delivered, verify};

const UPSERT: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";

/// The message bodies `receiver` took, as JSON.
fn bodies(receiver: &Receiver) -> Vec<Value> {
    receiver.received().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect()
}

async fn personal_values_go_only_where_allowed(backend: Backend) {
    let (allowed, plain) = (Receiver::start(&[]).await, Receiver::start(&[]).await);
    let app = TestApp::spawn_with(backend, &[("LOYALTY_WEBHOOK_WORKER", "true"), ("LOYALTY_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let create = "mutation($url: String!, $p: Boolean) { createWebhookEndpoint(url: $url, events: [\"*\"], includePersonal: $p) { secret endpoint { id includePersonal } } }";
    let a = app.data(create, json!({ "url": allowed.url, "p": true })).await["createWebhookEndpoint"].clone();
    let b = app.data(create, json!({ "url": plain.url })).await["createWebhookEndpoint"].clone();
    assert_eq!((a["endpoint"]["includePersonal"].as_bool(), b["endpoint"]["includePersonal"].as_bool()), (Some(true), Some(false)));
    app.sql(&format!("UPDATE webhook_endpoints SET active_from = {}", app.days_ago_sql(1))).await;

    let input = json!({ "phone": "+14155550141", "name": "Ann Personal", "email": "ann.p@example.com" });
    let ann = app.data(UPSERT, json!({ "input": input })).await["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 5) { currentPoints } }", json!({ "c": ann })).await;
    let got = until_delivered(&app, &allowed, 2).await;
    until_delivered(&app, &plain, 2).await;
    assert!(verify(&got, a["secret"].as_str().unwrap()).await.iter().all(|v| v["ok"] == true), "the personal values are signed with the rest");
    let member = json!({ "name": "Ann Personal", "phone": "+14155550141", "email": "ann.p@example.com" });
    assert!(bodies(&allowed).iter().all(|m| m["data"]["member"] == member), "{:?}", bodies(&allowed));
    assert!(bodies(&plain).iter().all(|m| m["data"].get("member").is_none()), "ids only: {:?}", bodies(&plain));
    let log = "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { payload } } }";
    let stored = app.data(log, json!({ "e": a["endpoint"]["id"] })).await.to_string();
    assert!(!stored.contains("ann.p@example.com") && !stored.contains("Ann Personal"), "events are stored with ids only: {stored}");

    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { erased } }", json!({ "id": ann })).await;
    until_delivered(&app, &allowed, 3).await;
    let erased = bodies(&allowed).into_iter().find(|m| m["type"] == "customer.erased").expect("the erasure is an event");
    assert_eq!(erased["data"]["member"], Value::Null, "nothing of an erased member is sent");

    let switched = app
        .data("mutation($id: ID!) { setWebhookEndpointPersonal(id: $id, includePersonal: true) { includePersonal } }", json!({ "id": b["endpoint"]["id"] }))
        .await;
    assert_eq!(switched["setWebhookEndpointPersonal"]["includePersonal"], true);
    app.data(UPSERT, json!({ "input": { "phone": "+14155550142", "name": "Bob Personal" } })).await;
    until_delivered(&app, &plain, 4).await;
    let bob = bodies(&plain).into_iter().find(|m| m["data"]["member"]["name"] == "Bob Personal");
    assert!(bob.is_some_and(|m| m["data"]["member"]["email"].is_null()), "turned on: Bob's message carries him");
    let other = app.create_key("elsewhere", "admin").await;
    let (_, theirs) = app
        .gql_as(Some(&other), "mutation($id: ID!) { setWebhookEndpointPersonal(id: $id, includePersonal: true) { id } }", json!({ "id": b["endpoint"]["id"] }))
        .await;
    assert_eq!(theirs["errors"][0]["extensions"]["code"], "NOT_FOUND", "another restaurant cannot touch it");
}
crate::on_both!(personal_values_go_only_where_allowed);
