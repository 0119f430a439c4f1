//! Rolling restarts: a replica told to stop (SIGTERM) reports "not ready" at once, serves what
//! reaches it for the drain period with `Connection: close`, then stops; a load balancer that
//! follows `/readyz` (played here by the test) loses no request while the replicas are
//! replaced one after the other under keep-alive load.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::on_both;

const DRAIN: (&str, &str) = ("LOYALTY_DRAIN_SECS", "3");
const QUERY: &str = "{ restaurant { id } customers(limit: 1) { totalCount } }";

/// A stopping replica answers every request sent on a kept-alive connection during its drain,
/// each with `Connection: close`, after `/readyz` turned 503; then it exits cleanly.
async fn a_stopping_replica_drains_before_it_stops(backend: Backend) {
    let mut app = TestApp::spawn_with(backend, &[DRAIN]).await;
    let client = crate::harness::http_client();
    let post = || client.post(format!("{}/graphql", app.base)).bearer_auth(&app.admin_key).json(&json!({ "query": QUERY })).send();
    let first = post().await.unwrap();
    assert!(first.headers().get("connection").is_none_or(|v| v != "close"), "kept alive while serving");
    app.begin_terminate();
    let mut not_ready = false;
    for _ in 0..40 {
        if app.get("/readyz").await == (503, "not ready: shutting down".to_string()) {
            not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(not_ready, "not ready at once");
    for _ in 0..10 {
        let res = post().await.expect("answered while draining");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"), "each connection is closed after its answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.terminate().await.success(), "exits cleanly after the drain");
}

on_both!(a_stopping_replica_drains_before_it_stops);

/// The replicas a load balancer sends to: those whose `/readyz` answered 200 last.
#[derive(Clone, Default)]
struct Balancer {
    ready: Arc<Mutex<Vec<String>>>,
}

impl Balancer {
    fn add(&self, base: &str) {
        self.ready.lock().unwrap().push(base.to_string());
    }

    fn pick(&self, n: usize) -> Option<String> {
        let ready = self.ready.lock().unwrap();
        (!ready.is_empty()).then(|| ready[n % ready.len()].clone())
    }

    /// Polls every replica's `/readyz` every 50 ms and keeps only the ready ones in rotation.
    fn watch(&self, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        let ready = self.ready.clone();
        tokio::spawn(async move {
            let client = crate::harness::http_client();
            while !stop.load(Ordering::Relaxed) {
                let bases: Vec<String> = ready.lock().unwrap().clone();
                for base in bases {
                    let ok = matches!(client.get(format!("{base}/readyz")).send().await, Ok(r) if r.status() == 200);
                    if !ok {
                        ready.lock().unwrap().retain(|b| *b != base);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }
}

/// Two replicas restarted one after the other under keep-alive load: every request is
/// answered, none with a 5xx.
async fn two_replicas_restarted_in_turn_answer_every_request(backend: Backend) {
    let mut a = TestApp::spawn_with(backend, &[DRAIN]).await;
    let mut b = a.replica(&[DRAIN]).await;
    let balancer = Balancer::default();
    balancer.add(&a.base);
    balancer.add(&b.base);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = balancer.watch(stop.clone());
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())));
    let load: Vec<_> = (0..4)
        .map(|worker| {
            let (balancer, stop, sent, failed, key) = (balancer.clone(), stop.clone(), sent.clone(), failed.clone(), a.admin_key.clone());
            tokio::spawn(async move {
                let client = crate::harness::http_client();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let Some(base) = balancer.pick(n) else {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    let outcome = client.post(format!("{base}/graphql")).bearer_auth(&key).json(&json!({ "query": QUERY })).send().await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    match outcome {
                        Ok(r) if r.status().is_success() => {}
                        Ok(r) => failed.lock().unwrap().push(format!("{base}: HTTP {}", r.status())),
                        Err(e) => failed.lock().unwrap().push(format!("{base}: {}", e.without_url())),
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    a.begin_terminate();
    let a2 = b.replica(&[DRAIN]).await;
    balancer.add(&a2.base);
    assert!(a.terminate().await.success());
    b.begin_terminate();
    let b2 = a2.replica(&[DRAIN]).await;
    balancer.add(&b2.base);
    assert!(b.terminate().await.success());
    tokio::time::sleep(Duration::from_millis(500)).await;

    stop.store(true, Ordering::Relaxed);
    for worker in load {
        worker.await.unwrap();
    }
    watcher.await.unwrap();
    let failed = failed.lock().unwrap().clone();
    assert!(failed.is_empty(), "{} of {} requests failed: {failed:?}", failed.len(), sent.load(Ordering::Relaxed));
    assert!(sent.load(Ordering::Relaxed) > 50, "the load ran throughout");
}

on_both!(two_replicas_restarted_in_turn_answer_every_request);
