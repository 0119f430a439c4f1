//! `loyalty serve`: connect, migrate, open the key store, build the state, serve until
//! stopped (draining first on SIGTERM), then hand back what the jobs hold.

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::graphql::context::AppState;
use crate::graphql::{build_introspection_schema, build_schema};
use crate::http::{HttpState, router};
use crate::{cache, credentials, db, documents, drain, http, metrics};

/// Connects, migrates and serves until SIGINT or SIGTERM. Prints
/// `listening on http://ADDR/graphql` on stdout once the port is bound.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // A bad schedule stops every replica at start, not only the ones that run the scheduler.
    jobs::scheduler::parse_cron(&config.cron_deliveries)?;
    let mut db = db::connect(&config).await.context("connecting to the database")?;
    let query_counter = config.count_queries.then(|| count_queries(&mut db));
    let _serving = db::hold_serving_lock(&config)?;
    let fresh = db::migrate(&db, &config).await.context("applying migrations")?;
    let vault = db::open_vault(&config, &db).await?;
    db::seal_unsealed(&db, &vault).await?;
    warm_up(vault.clone());
    // Bound before the first key is made, so a busy port does not cost the only printed key.
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {} (is another service on it? choose another address with --bind or LOYALTY_BIND)", config.bind))?;
    let first_key = first_admin_key(&db, &config).await?;
    let addr = listener.local_addr()?;
    let mut jobs_config = config.jobs();
    if config.public_url.is_none() {
        jobs_config.public_url = format!("http://{addr}");
    }
    let jobs = jobs::JobContext::new(db.clone(), vault.clone(), jobs_config).await.context("setting up the jobs")?;
    let mut scheduler = match config.scheduler {
        // A brand-new database has missed nothing: no catch-up of slots before it existed.
        true => Some(jobs::scheduler::start(jobs.clone(), !fresh).await.context("starting the scheduler")?),
        false => None,
    };
    let webhooks = match config.webhook_worker {
        true => Some(jobs::webhooks::spawn(jobs.clone()).context("starting the webhook worker")?),
        false => None,
    };
    let app = app_state(&config, db, vault, jobs).await?;
    let state = http_state(&config, app.clone(), query_counter);
    if let Some(bind) = config.metrics_bind {
        serve_metrics(bind, state.clone()).await?;
    }
    announce(addr, &config, first_key.as_deref());
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY, small responses wait on delayed ACKs (tens of milliseconds).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (lifecycle, draining) = (app.jobs.lifecycle.clone(), state.draining.clone());
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            drain::until_stopped(draining, std::time::Duration::from_secs(config.drain_secs)).await;
            // Runs in flight (a runJob request, a scheduled slot) claim no more emails from now.
            lifecycle.begin_stop();
        })
        .await?;
    if let Some(s) = scheduler.as_mut() {
        let _ = s.shutdown().await;
    }
    if let Some(worker) = webhooks {
        // Its batch in flight finishes and is recorded (a send is bounded by its timeout).
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), worker).await;
    }
    hand_back(app).await?;
    tracing::info!("loyalty service stopped");
    Ok(())
}

/// Counts (and at debug level logs) every SQL statement, for `/debug/sql-queries`.
fn count_queries(db: &mut sea_orm::DatabaseConnection) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = counter.clone();
    db.set_metric_callback(move |info| {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(target: "loyalty::sql", sql = %info.statement.sql, "statement");
    });
    counter
}

/// Loads customer keys into memory in the background.
fn warm_up(vault: entity::vault::Vault) {
    tokio::spawn(async move {
        match vault.warm_up().await {
            Ok(n) => tracing::info!(keys = n, "customer keys loaded into memory"),
            Err(e) => tracing::warn!(error = %e, "customer keys not preloaded"),
        }
    });
}

/// What resolvers share.
async fn app_state(config: &Config, db: sea_orm::DatabaseConnection, vault: entity::vault::Vault, jobs: jobs::JobContext) -> anyhow::Result<AppState> {
    use std::sync::Arc;
    use std::time::Duration;
    let member_secret = entity::ops::service::secret(&db, &vault, entity::ops::service::MEMBER_TOKEN_SECRET).await?;
    Ok(AppState {
        db,
        vault,
        policy: config.policy(),
        jobs,
        keys: Arc::new(credentials::KeyCache::new(Duration::from_secs(config.key_cache_secs))),
        stats: Arc::new(cache::StatsCache::new(Duration::from_secs(config.stats_cache_secs))),
        member_tokens: Arc::new(credentials::MemberTokens::new(&member_secret)),
        documents: Arc::new(documents::DocumentCache::new(config.document_cache)),
    })
}

/// What the HTTP handlers share: the schemas, CORS, limits, credentials.
fn http_state(config: &Config, app: AppState, query_counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>) -> HttpState {
    use std::sync::Arc;
    let schema = build_schema(config, Some(app.clone()));
    let introspection_schema = build_introspection_schema(config, Some(app.clone()));
    let operations = Arc::new(metrics::Operations::from_sdl(&schema.sdl()));
    HttpState {
        schema,
        introspection_schema,
        cors_origins: config.cors_origins.iter().map(|o| o.trim().trim_end_matches('/').to_string()).filter(|o| !o.is_empty()).collect(),
        app,
        limiter: Arc::new(credentials::RateLimiter::new(config.rate_limit)),
        jwt: config.jwt_secret.as_deref().map(|secret| Arc::new(credentials::JwtVerifier::new(secret, config.jwt_issuer.as_deref()))),
        query_counter,
        operations,
        metrics_token: config.metrics_token.as_deref().filter(|t| !t.is_empty()).map(Arc::from),
        draining: drain::Draining::default(),
        db_pool: config.pool_size(),
    }
}

/// Serves `/metrics` alone on `bind` (`--metrics-bind`).
async fn serve_metrics(bind: std::net::SocketAddr, state: HttpState) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind).await.with_context(|| format!("binding the metrics address {bind}"))?;
    println!("metrics on http://{}/metrics", listener.local_addr()?);
    let router = http::metrics_router(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// Says where the service listens (the tests wait for `listening on`) and how to use GraphiQL.
fn announce(addr: std::net::SocketAddr, config: &Config, first_key: Option<&str>) {
    tracing::info!(%addr, restaurant = %config.restaurant, "loyalty service started");
    println!("listening on http://{addr}/graphql");
    match first_key {
        Some(key) => println!("GraphiQL: http://{addr}/ — in its Headers tab put {{\"Authorization\": \"Bearer {key}\"}}"),
        None => println!("GraphiQL: http://{addr}/ — with an API key (from a checkout `cargo run --bin loyalty -- keys create --role admin` makes one)"),
    }
}

/// Hands back the emails this process claimed but did not send, and closes the pool.
async fn hand_back(app: AppState) -> anyhow::Result<()> {
    match app.jobs.lifecycle.stop(&app.db, STOP_GRACE).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(emails = n, "handed back emails claimed but not sent, for another replica"),
        Err(e) => tracing::error!(error = %e, "could not hand back the claimed emails; they return after the stale window"),
    }
    app.db.close().await?;
    Ok(())
}

/// On the first start (no key at all), creates an admin key for the configured restaurant and
/// prints it once, so GraphiQL can be used at once; returns it.
async fn first_admin_key(db: &sea_orm::DatabaseConnection, config: &Config) -> anyhow::Result<Option<String>> {
    if entity::ops::keys::any(db).await? {
        return Ok(None);
    }
    entity::ops::restaurants::ensure(db, &config.restaurant, &config.restaurant_defaults()).await?;
    let (row, key) = entity::ops::keys::create(db, &config.restaurant, entity::entities::Role::Admin, "first admin key", "first start").await?;
    tracing::warn!(prefix = %row.prefix, restaurant = %row.restaurant_id, "no API key existed: created an admin key (printed once on stdout)");
    println!("admin key for restaurant {:?} (shown once; keep it safe): {key}", row.restaurant_id);
    Ok(Some(key))
}

/// How long a stopping service waits for its delivery batches to finish.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    drain::signal().await;
    tracing::info!("shutting down");
}
