//! The webhook delivery worker: claims due deliveries of every restaurant (one worker per
//! replica; a claim is taken by one) as slots free up ([`SLOTS`], [`PER_ENDPOINT`]), POSTs each
//! to its endpoint signed per the Standard
//! Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and records
//! the outcome: delivered on a 2xx answer, else retried on the schedule of
//! `entity::rules::webhooks::RETRY_AFTER`. A receiver that is down, slow (the timeout), answers
//! an error or resets the connection only delays its own events; the request that made an event
//! never waits for it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::Scope;
use entity::entities::{webhook_delivery, webhook_endpoint};
use entity::ops::webhooks::{self, delivery};
use entity::rules::webhooks as rules;

use crate::{JobContext, JobError};

/// Deliveries one worker sends at once.
const SLOTS: usize = 20;
/// Deliveries one worker sends to one endpoint at once: a slow receiver holds no more slots.
const PER_ENDPOINT: usize = 4;
/// How long the worker waits when nothing was due.
const IDLE: Duration = Duration::from_secs(1);
/// Upper bound of one delivery (connect, send, answer).
const TIMEOUT: Duration = Duration::from_secs(10);
/// Most of a receiver's answer kept in the log.
const MAX_ERROR: usize = 300;

/// Starts the worker on its own task; it stops when the process begins to stop, after the
/// deliveries in flight end (within [`TIMEOUT`]).
pub fn spawn(ctx: JobContext) -> Result<tokio::task::JoinHandle<()>, JobError> {
    let client = client(ctx.config.webhook_allow_private)?;
    Ok(tokio::spawn(async move {
        let mut flight = Flight::default();
        while !ctx.lifecycle.is_stopping() {
            let started = match start_due(&ctx, &client, &mut flight, Utc::now()).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries failed; trying again shortly");
                    0
                }
            };
            if started == 0 {
                flight.wait(IDLE).await;
            }
            flight.reap();
        }
        while flight.tasks.join_next().await.is_some() {}
    }))
}

/// The deliveries a worker is sending: each a task that sends one and records its outcome,
/// returning its endpoint.
#[derive(Default)]
struct Flight {
    tasks: tokio::task::JoinSet<i64>,
    per_endpoint: HashMap<i64, usize>,
}

impl Flight {
    fn landed(&mut self, endpoint: i64) {
        if let Some(n) = self.per_endpoint.get_mut(&endpoint) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_endpoint.remove(&endpoint);
            }
        }
    }

    /// Counts off the deliveries that ended.
    fn reap(&mut self) {
        while let Some(done) = self.tasks.try_join_next() {
            if let Ok(endpoint) = done {
                self.landed(endpoint);
            }
        }
    }

    /// Waits until a delivery ends, or `idle` passes.
    async fn wait(&mut self, idle: Duration) {
        if self.tasks.is_empty() {
            return tokio::time::sleep(idle).await;
        }
        if let Ok(Some(Ok(endpoint))) = tokio::time::timeout(idle, self.tasks.join_next()).await {
            self.landed(endpoint);
        }
    }
}

/// Releases stale claims and starts sending the deliveries due at `now` that free slots allow;
/// returns how many it started. While no restaurant has an enabled endpoint (as this process
/// read at most 30 s ago) it asks the database nothing.
async fn start_due(ctx: &JobContext, client: &reqwest::Client, flight: &mut Flight, now: DateTime<Utc>) -> Result<usize, JobError> {
    let free = SLOTS.saturating_sub(flight.tasks.len());
    if free == 0 || !webhooks::events::any_listening(&ctx.db).await? {
        return Ok(0);
    }
    delivery::release_stale(&ctx.db, now).await?;
    let claimed = delivery::claim(&ctx.db, now, free as u64, &flight.per_endpoint, PER_ENDPOINT).await?;
    let n = claimed.len();
    for (row, endpoint) in claimed {
        *flight.per_endpoint.entry(endpoint.id).or_default() += 1;
        let (ctx, client) = (ctx.clone(), client.clone());
        flight.tasks.spawn(async move {
            let attempt = send(&ctx, &client, &row, &endpoint).await;
            tracing::debug!(delivery = row.id, event = %row.event_type, delivered = attempt.delivered(), status = ?attempt.status, "webhook attempt");
            if let Err(e) = delivery::record(&ctx.db, &row, &attempt, Utc::now(), rand::random::<f64>()).await {
                tracing::warn!(error = %e, delivery = row.id, "recording a webhook attempt failed; the claim is released after 5 minutes");
            }
            endpoint.id
        });
    }
    Ok(n)
}

/// The HTTP client: TLS with the ring provider and the system's roots, no redirects followed
/// (a receiver answering 3xx has not taken the message), no proxy from the environment; unless
/// `allow_private`, host names resolve through [`PublicOnly`], so a connection goes only to
/// the addresses checked (a name cannot resolve to a public address for the check and to a
/// private one for the connection).
pub fn client(allow_private: bool) -> Result<reqwest::Client, JobError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder();
    let builder = if allow_private { builder } else { builder.dns_resolver(Arc::new(PublicOnly)) };
    builder
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent("loyalty-webhooks/1")
        .build()
        .map_err(|e| JobError::Config(format!("webhook HTTP client: {e}")))
}

/// One attempt to deliver `row` to `endpoint`.
async fn send(ctx: &JobContext, client: &reqwest::Client, row: &webhook_delivery::Model, endpoint: &webhook_endpoint::Model) -> delivery::Attempt {
    let started = Instant::now();
    let outcome = attempt(ctx, client, row, endpoint).await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match outcome {
        Ok((status, _)) if (200..300).contains(&status) => delivery::Attempt { status: Some(status), error: None, latency_ms },
        Ok((status, body)) => delivery::Attempt { status: Some(status), error: Some(format!("HTTP {status}: {body}")), latency_ms },
        Err(error) => delivery::Attempt { status: None, error: Some(error), latency_ms },
    }
}

/// Signs and POSTs the message; the receiver's status and the start of its answer.
async fn attempt(
    ctx: &JobContext,
    client: &reqwest::Client,
    row: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
) -> Result<(u16, String), String> {
    let url = reqwest::Url::parse(&endpoint.url).map_err(|e| format!("bad URL: {e}"))?;
    if !ctx.config.webhook_allow_private {
        public_literal(&url)?;
    }
    let scope = Scope::new(endpoint.restaurant_id.clone(), "webhooks", ctx.vault.clone());
    let now = Utc::now();
    let timestamp = now.timestamp();
    let body = webhooks::personal::body(&ctx.db, &scope, endpoint, &row.payload).await.map_err(|e| format!("reading the member: {e}"))?;
    let signature = webhooks::signature(&scope, endpoint, &row.event_id, timestamp, &body, now).await.map_err(|e| format!("signing: {e}"))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &row.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Ok((status, body.chars().take(MAX_ERROR).collect()))
}

/// Refuses a URL whose host is a private address written out (names go through [`PublicOnly`]).
fn public_literal(url: &reqwest::Url) -> Result<(), String> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("no host".into()),
    };
    if rules::is_public(ip) { Ok(()) } else { Err(format!("{ip} is a private address; not sent")) }
}

/// Resolves a host name with the system's resolver and refuses it when any of its addresses is
/// loopback, private or link-local: the client connects only to addresses this checked.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
            match addrs.iter().find(|a| !rules::is_public(a.ip())) {
                Some(private) => Err(format!("{host} resolves to {}, a private address; not sent", private.ip()).into()),
                None if addrs.is_empty() => Err(format!("{host} resolves to no address").into()),
                None => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// A failed request in a few words (timeout, refused, reset, …).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { kind.to_string() } else { format!("{kind}: {cause}") }
}
