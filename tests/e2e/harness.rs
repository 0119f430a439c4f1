//! Starts the real `loyalty` binary on a random port against a fresh database and talks to it
//! over HTTP like a frontend. SQLite: a new file per test. PostgreSQL: a new database per test
//! on `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped
//! afterwards. Set `TEST_LOG=1` to see the service's log (`TEST_RUST_LOG` sets its filter, e.g.
//! `loyalty::sql=debug` with `LOYALTY_COUNT_QUERIES` to see every statement).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The master key every test service gets (unless a test sets `LOYALTY_MASTER_KEY` itself; an
/// empty value leaves the embedded default's key file to the service).
pub const MASTER_KEY: &str = "7f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running service and how to reach it and its database.
pub struct TestApp {
    pub base: String,
    /// The admin key the service printed on its first start; every request uses it unless a
    /// test says otherwise.
    pub admin_key: String,
    pub db_url: String,
    pub backend: Backend,
    client: reqwest::Client,
    child: Option<Child>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Database {
        admin_url: String,
        name: String,
    },
    /// A replica: the database belongs to the app it was started from.
    None,
}

/// The PostgreSQL server's URL the tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Connects to the PostgreSQL server the tests create their databases on, or fails within
/// seconds saying how to get one.
async fn connect_admin(url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(url.to_string());
    options.connect_timeout(Duration::from_secs(3)).acquire_timeout(Duration::from_secs(3)).sqlx_logging(false);
    match tokio::time::timeout(Duration::from_secs(5), Database::connect(options)).await {
        Ok(Ok(conn)) => conn,
        outcome => {
            let why = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 5 s".into(),
            };
            panic!(
                "PostgreSQL is needed for the tests and could not be reached at {url} ({why}). Start it \
                 (on Debian: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or set \
                 TEST_DATABASE_URL to a server where this user may create databases."
            )
        }
    }
}

/// Runs one statement on the PostgreSQL server the tests use (`CREATE DATABASE …`).
pub async fn admin_sql(statement: &str) {
    let conn = connect_admin(&admin_url()).await;
    conn.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    conn.close().await.ok();
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestApp {
    /// Starts the service on `backend` with extra environment variables.
    pub async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
        let (db_url, cleanup) = new_database(backend).await;
        let (child, base, admin_key) = start(&db_url, env).await;
        assert!(admin_key.starts_with("lk_"), "the first start prints an admin key");
        TestApp { base, admin_key, db_url, backend, client: crate::harness::http_client(), child: Some(child), cleanup }
    }

    /// A fresh, empty database of `backend` with no service on it (yet); dropped with the value.
    pub async fn empty(backend: Backend) -> TestApp {
        let (db_url, cleanup) = new_database(backend).await;
        TestApp { base: String::new(), admin_key: String::new(), db_url, backend, client: crate::harness::http_client(), child: None, cleanup }
    }

    /// Starts the service on this value's database (made with [`TestApp::empty`] and filled
    /// since); requests then use `admin_key`.
    pub async fn start_service(&mut self, admin_key: &str) {
        self.start_service_with(admin_key, &[]).await;
    }

    /// [`TestApp::start_service`] with extra environment variables.
    pub async fn start_service_with(&mut self, admin_key: &str, env: &[(&str, &str)]) {
        let (child, base, _) = start(&self.db_url, env).await;
        (self.child, self.base, self.admin_key) = (Some(child), base, admin_key.to_string());
    }

    /// A service on another database `db_url` (a copy of this one, say) with extra environment
    /// variables and this app's admin key; the database is the test's to remove.
    pub async fn serve_on(&self, db_url: &str, env: &[(&str, &str)]) -> TestApp {
        let (child, base, _) = start(db_url, env).await;
        TestApp {
            base,
            admin_key: self.admin_key.clone(),
            db_url: db_url.to_string(),
            backend: self.backend,
            client: crate::harness::http_client(),
            child: Some(child),
            cleanup: Cleanup::None,
        }
    }

    /// Sends the service SIGTERM and waits for it to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        self.begin_terminate();
        let mut child = self.child.take().expect("a running service");
        tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("stops within a minute").expect("exit status")
    }

    /// Sends the service SIGTERM without waiting (it drains for `LOYALTY_DRAIN_SECS`, 0 in
    /// tests unless set); [`TestApp::terminate`] then waits for it.
    pub fn begin_terminate(&self) {
        let pid = self.child.as_ref().and_then(|c| c.id()).expect("a running service").to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    }

    /// Starts another service process on this app's database (a second replica), with extra
    /// environment variables; it stops when dropped and leaves the database to this app.
    pub async fn replica(&self, env: &[(&str, &str)]) -> TestApp {
        let (child, base, _) = start(&self.db_url, env).await;
        TestApp {
            base,
            admin_key: self.admin_key.clone(),
            db_url: self.db_url.clone(),
            backend: self.backend,
            client: crate::harness::http_client(),
            child: Some(child),
            cleanup: Cleanup::None,
        }
    }
}

/// A new SQLite file or PostgreSQL database, and how to remove it.
async fn new_database(backend: Backend) -> (String, Cleanup) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("loyalty-test-{id}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            (format!("sqlite://{}?mode=rwc", dir.join("loyalty.db").display()), Cleanup::Dir(dir))
        }
        Backend::Postgres => {
            let admin = admin_url();
            let name = format!("loyalty_test_{id}");
            let conn = connect_admin(&admin).await;
            conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
            conn.close().await.ok();
            (with_database(&admin, &name), Cleanup::Database { admin_url: admin, name })
        }
    }
}

/// The postal address test restaurants start with (marketing emails need one); a test that
/// wants none passes `LOYALTY_POSTAL_ADDRESS` empty.
pub const TEST_POSTAL_ADDRESS: &str = "12 Harbour Road\\nTestville 1010";

/// Starts `loyalty serve` on `db_url`; returns the process, its base URL and the admin key it
/// printed (empty when keys existed already).
async fn start(db_url: &str, env: &[(&str, &str)]) -> (Child, String, String) {
    let show_log = std::env::var_os("TEST_LOG").is_some();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loyalty"));
    cmd.arg("serve")
        .env("DATABASE_URL", db_url)
        .env("LOYALTY_MASTER_KEY", MASTER_KEY)
        .env("LOYALTY_BIND", "127.0.0.1:0")
        .env("LOYALTY_DB_POOL", "4")
        .env("LOYALTY_SCHEDULER", "false")
        .env("LOYALTY_WEBHOOK_WORKER", "false")
        .env("LOYALTY_RATE_LIMIT", "0")
        .env("LOYALTY_KEY_CACHE_SECS", "0")
        .env("LOYALTY_STATS_CACHE_SECS", "0")
        .env("LOYALTY_DRAIN_SECS", "0")
        .env("LOYALTY_POSTAL_ADDRESS", TEST_POSTAL_ADDRESS)
        .env("RUST_LOG", std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| if show_log { "info".into() } else { "warn".into() }))
        .stdout(Stdio::piped())
        .stderr(if show_log { Stdio::inherit() } else { Stdio::null() })
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start loyalty");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (base, admin_key) = tokio::time::timeout(Duration::from_secs(60), async {
        let mut admin_key = String::new();
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if line.starts_with("admin key for restaurant") {
                admin_key = line.rsplit(' ').next().unwrap_or_default().to_string();
            }
            if let Some(url) = line.strip_prefix("listening on ") {
                return (url.trim_end_matches("/graphql").to_string(), admin_key);
            }
        }
        panic!("loyalty exited before listening");
    })
    .await
    .expect("loyalty did not start within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base, admin_key)
}

impl TestApp {
    /// Starts the service on `backend` with the default configuration.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    /// Posts a GraphQL request with the admin key and returns the whole response body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_as(Some(&self.admin_key), query, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Posts a GraphQL request with `key` (or none) and returns the HTTP status and body.
    pub async fn gql_as(&self, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self.client.post(format!("{}/graphql", self.base)).json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.expect("POST /graphql");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Runs the `loyalty` command against this service's database and returns its stdout.
    pub async fn cli(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.cli_result(args).await;
        assert!(ok, "loyalty {args:?}: {stderr}");
        stdout
    }

    /// Runs the `loyalty` command against this service's database: `(success, stdout, stderr)`.
    pub async fn cli_result(&self, args: &[&str]) -> (bool, String, String) {
        self.cli_with(args, &[]).await
    }

    /// [`TestApp::cli_result`] with extra environment variables.
    pub async fn cli_with(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loyalty"));
        cmd.args(args)
            .env("DATABASE_URL", &self.db_url)
            .env("LOYALTY_MASTER_KEY", MASTER_KEY)
            .env("LOYALTY_POSTAL_ADDRESS", TEST_POSTAL_ADDRESS)
            .env("RUST_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = tokio::time::timeout(Duration::from_secs(120), cmd.output()).await.expect("loyalty finished within 2 minutes").expect("run loyalty");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// The `loyalty` command against this service's database, started and left running (a
    /// test that kills it midway).
    pub fn cli_child(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_loyalty"))
            .args(args)
            .env("DATABASE_URL", &self.db_url)
            .env("LOYALTY_MASTER_KEY", MASTER_KEY)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start loyalty")
    }

    /// A new API key for `restaurant` with `role`, made with the CLI.
    pub async fn create_key(&self, restaurant: &str, role: &str) -> String {
        self.cli(&["keys", "create", "--restaurant", restaurant, "--role", role]).await.trim().to_string()
    }

    /// The `data` of a request that must succeed.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The first error of a request that must fail: `(code, message, whole error)`.
    pub async fn error(&self, query: &str, variables: Value) -> (String, String, Value) {
        let (status, body) = self.gql_as(Some(&self.admin_key), query, variables).await;
        assert!(status == 200 || (status == 400 && body["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"), "HTTP {status}: {body}");
        let err = body["errors"][0].clone();
        assert!(!err.is_null(), "expected an error, got {body:#}");
        let code = err["extensions"]["code"].as_str().unwrap_or_else(|| panic!("error without code: {err:#}")).to_string();
        (code, err["message"].as_str().unwrap_or_default().to_string(), err)
    }

    /// A GET on a path, returning status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = self.client.get(format!("{}{path}", self.base)).send().await.expect("GET");
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }

    /// A direct connection to the service's database, for checking invariants.
    pub async fn db(&self) -> DatabaseConnection {
        Database::connect(&self.db_url).await.expect("connect to test database")
    }

    /// Runs one SQL statement directly (e.g. to move a visit into the past).
    pub async fn sql(&self, statement: &str) {
        let db = self.db().await;
        db.execute_unprepared(statement).await.expect("SQL");
        db.close().await.ok();
    }

    /// A timestamp `days` ago, as a SQL literal both databases compare correctly with stored
    /// values (on SQLite: the RFC 3339 text sqlx writes, since SQLite compares text).
    pub fn days_ago_sql(&self, days: i64) -> String {
        self.instant_sql(chrono::Utc::now() - chrono::Duration::days(days))
    }

    /// An instant as a SQL literal both databases compare correctly with stored values.
    pub fn instant_sql(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        match self.backend {
            Backend::Postgres => format!("'{}'::timestamptz", at.to_rfc3339()),
            Backend::Sqlite => format!("'{}'", at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
        }
        match &self.cleanup {
            Cleanup::None => {}
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        let conn = Database::connect(admin_url.as_str()).await.ok()?;
                        // The service's key store is the database beside it (`<name>_keys`).
                        for db in [name.clone(), format!("{name}_keys")] {
                            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await.ok()?;
                        }
                        conn.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// An HTTP client for the tests. reqwest's TLS (rustls, for the webhook worker) takes the
/// process's crypto provider, installed here as the service installs it at start.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Defines a test that runs once on SQLite and once on PostgreSQL:
/// `both!(name, |app| async move { ... })` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::harness::TestApp) {
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::harness::TestApp::spawn($crate::harness::Backend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::harness::TestApp::spawn($crate::harness::Backend::Postgres).await).await;
            }
        }
    };
}

/// Runs `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL, for tests
/// that start the service themselves (with their own settings).
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::harness::Backend::Postgres).await
            }
        }
    };
}
