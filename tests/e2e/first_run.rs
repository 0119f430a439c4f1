//! What a newcomer meets first: messages that say what to do — a key sent without `Bearer`, a
//! taken port, a PostgreSQL database started without a master key, a start with keys already
//! made, a dry run in the log.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::both;
use crate::harness::{Backend, MASTER_KEY, TestApp};

both!(a_key_without_bearer_is_told_the_header_format, |app| async move {
    let res = crate::harness::http_client()
        .post(format!("{}/graphql", app.base))
        .header("authorization", &app.admin_key)
        .json(&json!({ "query": "{ restaurant { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Bearer <API key>") && !message.contains("revoked"), "{message}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_names_the_setting_that_moves_it() {
    let app = TestApp::empty(Backend::Sqlite).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let (ok, _, err) = app.cli_with(&["serve"], &[("LOYALTY_BIND", &bind), ("LOYALTY_DRAIN_SECS", "0")]).await;
    assert!(!ok && err.contains("--bind or LOYALTY_BIND"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_without_a_master_key_says_what_to_set() {
    let app = TestApp::empty(Backend::Postgres).await;
    let (ok, _, err) = app.cli_with(&["migrate"], &[("LOYALTY_MASTER_KEY", "")]).await;
    assert!(!ok && err.contains("LOYALTY_MASTER_KEY") && err.contains("openssl rand -hex 32"), "{err}");
    assert!(!err.contains("holds keys sealed"), "an empty key store holds none: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_keys_made_says_how_to_make_one_from_a_checkout() {
    let app = TestApp::empty(Backend::Sqlite).await;
    app.cli(&["keys", "create", "--role", "admin"]).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve"])
        .env("DATABASE_URL", &app.db_url)
        .env("LOYALTY_MASTER_KEY", MASTER_KEY)
        .env("LOYALTY_BIND", "127.0.0.1:0")
        .env("LOYALTY_SCHEDULER", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let hint = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("GraphiQL:") {
                return line;
            }
        }
        panic!("no GraphiQL line");
    })
    .await
    .unwrap();
    assert!(hint.contains("cargo run --bin loyalty -- keys create --role admin"), "{hint}");
    child.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_says_so_in_the_log() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (ok, _, err) = app.cli_with(&["jobs", "run", "dormancy", "--dry-run", "--restaurant", "default"], &[("RUST_LOG", "info")]).await;
    assert!(ok, "{err}");
    assert!(err.contains("dry run finished: nothing was changed or sent"), "{err}");
}
