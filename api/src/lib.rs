//! The loyalty service: GraphQL over the `entity` operations, served by axum, configured by
//! one [`config::Config`], run by the `loyalty` command (`src/main.rs`).

pub mod auth;
pub mod bounds;
pub mod cache;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod documents;
pub mod drain;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod keystore;
pub mod metrics;
pub mod pages;
pub mod telemetry;

use anyhow::Context as _;
use tokio::net::TcpListener;

use config::Config;
use graphql::context::AppState;
use graphql::{build_introspection_schema, build_schema};
use http::{HttpState, router};

/// Connects, migrates and serves until SIGINT or SIGTERM. Prints
/// `listening on http://ADDR/graphql` on stdout once the port is bound.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // A bad schedule stops every replica at start, not only the ones that run the scheduler.
    jobs::scheduler::parse_cron(&config.cron_deliveries)?;
    let mut db = db::connect(&config).await.context("connecting to the database")?;
    let query_counter = config.count_queries.then(|| {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = counter.clone();
        db.set_metric_callback(move |info| {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::debug!(target: "loyalty::sql", sql = %info.statement.sql, "statement");
        });
        counter
    });
    let _serving = db::hold_serving_lock(&config)?;
    let fresh = db::migrate(&db, &config).await.context("applying migrations")?;
    let vault = db::open_vault(&config, &db).await?;
    db::seal_unsealed(&db, &vault).await?;
    {
        let vault = vault.clone();
        tokio::spawn(async move {
            match vault.warm_up().await {
                Ok(n) => tracing::info!(keys = n, "customer keys loaded into memory"),
                Err(e) => tracing::warn!(error = %e, "customer keys not preloaded"),
            }
        });
    }
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
    let mut scheduler = if config.scheduler {
        // A brand-new database has missed nothing: no catch-up of slots before it existed.
        Some(jobs::scheduler::start(jobs.clone(), !fresh).await.context("starting the scheduler")?)
    } else {
        None
    };
    let keys = std::sync::Arc::new(credentials::KeyCache::new(std::time::Duration::from_secs(config.key_cache_secs)));
    let stats = std::sync::Arc::new(cache::StatsCache::new(std::time::Duration::from_secs(config.stats_cache_secs)));
    let member_secret = entity::ops::service::secret(&db, &vault, entity::ops::service::MEMBER_TOKEN_SECRET).await?;
    let member_tokens = std::sync::Arc::new(credentials::MemberTokens::new(&member_secret));
    let documents = std::sync::Arc::new(documents::DocumentCache::new(config.document_cache));
    let app = AppState { db, vault, policy: config.policy(), jobs, keys, stats, member_tokens, documents };
    let schema = build_schema(&config, Some(app.clone()));
    let introspection_schema = build_introspection_schema(&config, Some(app.clone()));
    let cors_origins: Vec<String> = config.cors_origins.iter().map(|o| o.trim().trim_end_matches('/').to_string()).filter(|o| !o.is_empty()).collect();
    let limiter = std::sync::Arc::new(credentials::RateLimiter::new(config.rate_limit));
    let jwt = config.jwt_secret.as_deref().map(|secret| std::sync::Arc::new(credentials::JwtVerifier::new(secret, config.jwt_issuer.as_deref())));
    let operations = std::sync::Arc::new(metrics::Operations::from_sdl(&schema.sdl()));
    let metrics_token = config.metrics_token.as_deref().filter(|t| !t.is_empty()).map(std::sync::Arc::from);
    let draining = drain::Draining::default();
    let state = HttpState {
        schema,
        introspection_schema,
        cors_origins,
        app: app.clone(),
        limiter,
        jwt,
        query_counter,
        operations,
        metrics_token,
        draining: draining.clone(),
        db_pool: config.pool_size(),
    };
    if let Some(bind) = config.metrics_bind {
        let metrics_listener = TcpListener::bind(bind).await.with_context(|| format!("binding the metrics address {bind}"))?;
        println!("metrics on http://{}/metrics", metrics_listener.local_addr()?);
        let router = http::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics_listener, router).with_graceful_shutdown(shutdown_signal()).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    tracing::info!(%addr, restaurant = %config.restaurant, "loyalty service started");
    println!("listening on http://{addr}/graphql");
    match &first_key {
        Some(key) => println!("GraphiQL: http://{addr}/ — in its Headers tab put {{\"Authorization\": \"Bearer {key}\"}}"),
        None => println!("GraphiQL: http://{addr}/ — with an API key (from a checkout `cargo run --bin loyalty -- keys create --role admin` makes one)"),
    }
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY, small responses wait on delayed ACKs (tens of milliseconds).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let lifecycle = app.jobs.lifecycle.clone();
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
    match app.jobs.lifecycle.stop(&app.db, STOP_GRACE).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(emails = n, "handed back emails claimed but not sent, for another replica"),
        Err(e) => tracing::error!(error = %e, "could not hand back the claimed emails; they return after the stale window"),
    }
    app.db.close().await?;
    tracing::info!("loyalty service stopped");
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
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
