//! A database restart or failover ends every pooled connection. Reads met by a lost connection
//! run again on a fresh one (the client sees nothing); a write answers `DATABASE_UNAVAILABLE`
//! (503, `Retry-After`) and the client's retry with its idempotency key applies it once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::harness::{self, Backend, TestApp};
use crate::{assert_ledger_matches, create_customer};

const READ: &str = "{ customers(limit: 5) { totalCount items { id loyaltyPoints { current } } } }";
const ADD: &str = "mutation($id: ID!, $key: String!) { addPoints(customerId: $id, points: 1, idempotencyKey: $key) { currentPoints } }";

async fn post(client: &reqwest::Client, app: &TestApp, query: &str, variables: Value) -> (u16, Value) {
    let res = client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.admin_key)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("answered");
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_database_connections_fail_no_read_and_lose_or_double_no_write() {
    let app = Arc::new(TestApp::spawn_with(Backend::Postgres, &[("LOYALTY_KEY_CACHE_SECS", "600")]).await);
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(create_customer(&app, &format!("+1415555{:04}", 4100 + i), &format!("Guest {i}")).await);
    }
    let name = app.db_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let (failed_reads, retried_writes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (app, failed) = (app.clone(), failed_reads.clone());
            tokio::spawn(async move {
                let client = crate::harness::http_client();
                for _ in 0..120 {
                    let (status, body) = post(&client, &app, READ, json!({})).await;
                    if status != 200 || body.get("errors").is_some() {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("failed read: HTTP {status} {body}");
                    }
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (app, ids, retried) = (app.clone(), ids.clone(), retried_writes.clone());
            tokio::spawn(async move {
                let client = crate::harness::http_client();
                for i in 0..40 {
                    let vars = json!({ "id": ids[i % ids.len()], "key": format!("w{w}-{i}") });
                    let mut tries = 0;
                    loop {
                        let (status, body) = post(&client, &app, ADD, vars.clone()).await;
                        if status == 200 && body.get("errors").is_none() {
                            break;
                        }
                        assert_eq!(
                            (status, &body["errors"][0]["extensions"]["code"]),
                            (503, &json!("DATABASE_UNAVAILABLE")),
                            "a write fails only retryably: {body}"
                        );
                        tries += 1;
                        assert!(tries < 50, "the write went through in the end");
                        retried.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();
    let admin = sea_orm::Database::connect(harness::admin_url()).await.unwrap();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        admin.execute_unprepared(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")).await.unwrap();
    }
    for task in readers.into_iter().chain(writers) {
        task.await.unwrap();
    }
    assert_eq!(failed_reads.load(Ordering::Relaxed), 0, "no read failed");
    let page = app.data("{ customers(limit: 10) { items { loyaltyPoints { current } } } }", json!({})).await;
    let total: i64 = page["customers"]["items"].as_array().unwrap().iter().map(|c| c["loyaltyPoints"]["current"].as_i64().unwrap()).sum();
    assert_eq!(total, 80, "every write applied once ({} retried)", retried_writes.load(Ordering::Relaxed));
    assert_ledger_matches(&app).await;
}
