//! What an operator sees: `/metrics` counting a known sequence of requests, a job run and its
//! email; `/metrics` only with its token or on a separate address; liveness and readiness, which fails while the
//! database is unreachable or a migration is missing and recovers.

use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::smtp::SmtpSink;

/// The scrapers' token of the tests' `/metrics`.
const METRICS_TOKEN: &str = "scrape-7f3c2a1b";

/// `/metrics` on the main port with the scrapers' token: status and text.
async fn metrics(app: &TestApp) -> (u16, String) {
    let res = crate::harness::http_client().get(format!("{}/metrics", app.base)).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The value of the sample `name{labels}` in an OpenMetrics text (0 when absent).
fn sample(text: &str, series: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

async fn metrics_count_a_known_sequence_of_requests_and_a_job_run(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url()), ("LOYALTY_METRICS_TOKEN", METRICS_TOKEN)]).await;
    for _ in 0..3 {
        app.data("{ customers { totalCount } }", json!({})).await;
    }
    for _ in 0..2 {
        app.error("{ customer(id: \"999\") { id } }", json!({})).await;
    }
    let (status, _) = app.gql_as(None, "{ customers { totalCount } }", json!({})).await;
    assert_eq!(status, 401);
    app.gql("{ notAField }", json!({})).await;
    let created = app
        .data("mutation { upsertCustomer(input: { phone: \"+14155550100\", name: \"Ann Metrics\", email: \"ann@example.com\", marketing: { emailOptIn: true } }) { customer { id } } }", json!({}))
        .await;
    let id = created["upsertCustomer"]["customer"]["id"].clone();
    app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 10) { visitId } }", json!({ "id": id })).await;
    let welcome = app.data("{ campaigns(state: PAUSED) { items { id kind } } }", json!({})).await["campaigns"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "WELCOME")
        .unwrap()["id"]
        .clone();
    app.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": welcome })).await;
    app.data("mutation { runJob(job: WELCOME) { run { sent } } }", json!({})).await;
    app.data("mutation { runJob(job: DORMANCY) { run { changed } } }", json!({})).await;

    assert_eq!(app.get("/metrics").await.0, 401, "not without the token: metrics name every restaurant");
    let (status, text) = metrics(&app).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(sample(&text, "loyalty_graphql_requests_total{operation=\"customers\",code=\"OK\"}"), 3.0, "{text}");
    assert_eq!(sample(&text, "loyalty_graphql_requests_total{operation=\"customer\",code=\"NOT_FOUND\"}"), 2.0);
    assert_eq!(sample(&text, "loyalty_graphql_requests_total{operation=\"customers\",code=\"UNAUTHENTICATED\"}"), 1.0);
    assert_eq!(sample(&text, "loyalty_graphql_requests_total{operation=\"other\",code=\"VALIDATION\"}"), 1.0, "unknown fields are `other`, never their text");
    assert_eq!(sample(&text, "loyalty_graphql_requests_total{operation=\"runJob\",code=\"OK\"}"), 2.0);
    assert_eq!(sample(&text, "loyalty_graphql_request_duration_seconds_count{operation=\"customers\"}"), 4.0);
    assert!(!text.contains("notAField") && !text.contains("Ann"), "no document text or personal data in labels");
    assert_eq!(sample(&text, "loyalty_job_runs_total{job=\"welcome\",restaurant=\"default\",outcome=\"succeeded\"}"), 1.0);
    assert_eq!(sample(&text, "loyalty_job_runs_total{job=\"dormancy\",restaurant=\"default\",outcome=\"succeeded\"}"), 1.0);
    assert_eq!(sample(&text, "loyalty_emails_total{outcome=\"enqueued\"}"), 1.0);
    assert_eq!(sample(&text, "loyalty_emails_total{outcome=\"sent\"}"), 1.0);
    assert_eq!(sink.wait_for(1).await.len(), 1);
    assert_eq!(sample(&text, "loyalty_db_pool_connections{state=\"max\"}"), 4.0);
    assert_eq!(sample(&text, "loyalty_delivery_backlog{restaurant=\"default\"}"), 0.0, "every restaurant has a backlog series");
    assert!(text.contains("loyalty_delivery_backlog_oldest_age_seconds{restaurant=\"default\"} 0"), "{text}");
    for family in ["loyalty_delivery_backlog", "loyalty_delivery_backlog_oldest_age_seconds", "loyalty_rate_limited_requests"] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family} is exposed");
    }
    assert!(text.trim_end().ends_with("# EOF"));
}

on_both!(metrics_count_a_known_sequence_of_requests_and_a_job_run);

/// The backlog gauge counts each restaurant's waiting emails (pending and being sent) and the
/// age of its oldest, without one restaurant's emails showing in another's series.
async fn the_delivery_backlog_is_counted_per_restaurant(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_METRICS_TOKEN", METRICS_TOKEN)]).await;
    app.cli(&["restaurants", "create", "harbour", "--set", "name=Harbour Bistro"]).await;
    for phone in ["+14155550101", "+14155550102", "+14155550103"] {
        app.data(
            "mutation($phone: String!) { upsertCustomer(input: { phone: $phone, name: \"Backlog\", email: \"b@example.com\", marketing: { emailOptIn: true } }) { customer { id } } }",
            json!({ "phone": phone }),
        )
        .await;
    }
    app.sql(&format!(
        "INSERT INTO email_deliveries (restaurant_id, customer_id, campaign, period_key, email, status, attempts, next_attempt_at, created_at, updated_at) \
         SELECT restaurant_id, id, 'win-back', 'backlog', 'sealed', CASE WHEN id % 3 = 0 THEN 'sending' WHEN id % 3 = 1 THEN 'pending' ELSE 'sent' END, 0, {at}, {at}, {at} FROM customers",
        at = app.days_ago_sql(2)
    ))
    .await;
    let (status, text) = metrics(&app).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(sample(&text, "loyalty_delivery_backlog{restaurant=\"default\"}"), 2.0, "pending and sending, not sent: {text}");
    assert_eq!(sample(&text, "loyalty_delivery_backlog{restaurant=\"harbour\"}"), 0.0, "{text}");
    let age = sample(&text, "loyalty_delivery_backlog_oldest_age_seconds{restaurant=\"default\"}");
    assert!((2.0 * 86_400.0..3.0 * 86_400.0).contains(&age), "the oldest waits two days: {age}");
    assert!(text.contains("loyalty_delivery_backlog_oldest_age_seconds{restaurant=\"harbour\"} 0"), "{text}");
}

on_both!(the_delivery_backlog_is_counted_per_restaurant);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_requests_are_counted_and_metrics_can_move_to_their_own_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let app = TestApp::spawn_with(Backend::Sqlite, &[("LOYALTY_RATE_LIMIT", "1"), ("LOYALTY_METRICS_BIND", &bind)]).await;
    let mut refused = 0;
    for _ in 0..10 {
        let (status, _) = app.gql_as(Some(&app.admin_key), "{ customers { totalCount } }", json!({})).await;
        refused += u32::from(status == 429);
    }
    assert!(refused > 0, "a burst above the limit is refused");
    assert_eq!(app.get("/metrics").await.0, 404, "not on the public port without a token");
    let text = reqwest::get(format!("http://{bind}/metrics")).await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "loyalty_rate_limited_requests_total"), f64::from(refused), "{text}");
    assert_eq!(sample(&text, "loyalty_graphql_requests_total{operation=\"customers\",code=\"RATE_LIMITED\"}"), f64::from(refused));
}

async fn readiness_needs_every_migration_applied(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_string()));
    assert_eq!(app.get("/readyz").await, (200, "ready".to_string()));
    app.sql("DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)").await;
    assert_eq!(app.get("/readyz").await, (503, "not ready: 1 migrations are not applied".to_string()));
    assert_eq!(app.get("/healthz").await.0, 200, "the process is alive all the same");
}

on_both!(readiness_needs_every_migration_applied);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_the_database_is_unreachable_and_recovers() {
    let app = TestApp::spawn_with(Backend::Postgres, &[("LOYALTY_KEY_CACHE_SECS", "600")]).await;
    let unused_key = app.create_key("default", "viewer").await;
    assert_eq!(app.data("{ customers { totalCount } }", json!({})).await["customers"]["totalCount"], 0, "the admin key is now cached");
    let name = app.db_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    assert_eq!(app.get("/readyz").await.0, 200);
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
    use sea_orm::ConnectionTrait;
    admin.execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await.unwrap();
    admin.execute_unprepared(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")).await.unwrap();
    let (status, body) = app.get("/readyz").await;
    assert_eq!((status, body.as_str()), (503, "not ready: the database does not answer"));
    assert_eq!(app.get("/healthz").await.0, 200);
    // A cached key reaches the resolvers, whose queries fail; an unused one fails its check.
    for (what, key) in [("a resolver", app.admin_key.clone()), ("the key check", unused_key)] {
        let started = std::time::Instant::now();
        let res = crate::harness::http_client()
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&key)
            .json(&json!({ "query": "{ customers { totalCount } }" }))
            .send()
            .await
            .unwrap();
        let (status, retry) = (res.status().as_u16(), res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!((status, retry.as_deref(), &body["errors"][0]["extensions"]["code"]), (503, Some("1"), &json!("DATABASE_UNAVAILABLE")), "{what}: {body}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{what} answered at once, not after the pool's wait: {:?}", started.elapsed());
    }
    admin.execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await.unwrap();
    let mut ready = false;
    for _ in 0..40 {
        if app.get("/readyz").await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "ready again once the database answers");
    assert_eq!(app.data("{ customers { totalCount } }", json!({})).await["customers"]["totalCount"], 0);
}

/// A minimal OTLP/HTTP collector on loopback: records the path and body of every request.
async fn collector() -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                        .unwrap_or(0);
                    while buf.len() < end + 4 + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let path = head.split_whitespace().nth(1).unwrap_or_default().to_string();
                    store.lock().unwrap().push((path, buf[end + 4..end + 4 + length].to_vec()));
                    buf.drain(..end + 4 + length);
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if socket.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/v1/traces"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_job_spans_are_exported_over_otlp_when_configured() {
    let (endpoint, seen) = collector().await;
    let app = TestApp::spawn_with(Backend::Sqlite, &[("LOYALTY_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100")]).await;
    app.data("{ customers { totalCount } }", json!({})).await;
    app.data("mutation { runJob(job: DORMANCY) { run { outcome } } }", json!({})).await;
    let contains = |bytes: &[u8], word: &str| bytes.windows(word.len()).any(|w| w == word.as_bytes());
    let mut exported = false;
    for _ in 0..100 {
        let got = seen.lock().unwrap().clone();
        let body: Vec<u8> = got.iter().filter(|(path, _)| path == "/v1/traces").flat_map(|(_, b)| b.clone()).collect();
        if contains(&body, "graphql") && contains(&body, "job") && contains(&body, "dormancy") {
            assert!(contains(&body, "loyalty"), "the service name is on the resource");
            exported = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(exported, "the request's and the job run's spans reach the collector");
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_for_plain_smtp_to_another_machine_is_refused_at_start() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let plain = "smtp://user:secret@mail.example.com:587";
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
            .args(["serve", "--bind", "127.0.0.1:0", "--scheduler", "false"])
            .env("DATABASE_URL", &app.db_url)
            .env("LOYALTY_MASTER_KEY", crate::harness::MASTER_KEY)
            .env("SMTP_URL", plain)
            .output(),
    )
    .await
    .expect("refused at once, not served")
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("without TLS") && err.contains("tls=required"), "{err}");
    assert!(!err.contains("secret"), "the message does not repeat the password: {err}");
    let (ok, _, err) = app.cli_result(&["jobs", "run", "deliveries", "--smtp-url", plain]).await;
    assert!(!ok && err.contains("without TLS"), "{err}");
    let (ok, _, err) = app.cli_result(&["jobs", "run", "deliveries", "--smtp-url", &format!("{plain}?tls=required")]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = app.cli_result(&["jobs", "run", "deliveries", "--smtp-url", plain, "--allow-plain-smtp", "true"]).await;
    assert!(ok, "allowed when told so: {err}");
}

/// `loyalty jobs run --help` and the command table (docs/cli.md) list every job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_is_listed_in_the_help_and_the_readme() {
    let app = TestApp::empty(Backend::Sqlite).await;
    let (ok, help, err) = app.cli_result(&["jobs", "run", "--help"]).await;
    assert!(ok, "{err}");
    let table = include_str!("../../docs/cli.md");
    let row = table.lines().find(|l| l.starts_with("| `loyalty jobs run JOB")).expect("the command table's row");
    for job in jobs::Job::ALL {
        assert!(help.contains(job.name()), "{} missing from the help: {help}", job.name());
        assert!(row.contains(&format!("`{}`", job.name())), "{} missing from docs/cli.md", job.name());
    }
}
