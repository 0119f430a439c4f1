//! Signed webhooks of the caller's restaurant, for admins: endpoints (created, secret rotated,
//! disabled, enabled), each endpoint's delivery log, and replay of an event or a time range.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{WebhookStatus, webhook_delivery, webhook_endpoint};
use entity::ops::webhooks::{self, delivery};

use super::context::{app, scope};
use super::paging::{self, PageInfo};
use crate::auth::ADMIN;
use crate::error::{ApiError, IntoGql};

/// An endpoint id as given (one that is not a number names no endpoint).
fn endpoint_of(id: &ID) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::not_found(format!("webhook endpoint {}", id.as_str())))
}

/// Where a webhook endpoint's events go.
#[derive(SimpleObject)]
pub struct WebhookEndpoint {
    /// The endpoint's id.
    pub id: ID,
    /// Where messages are POSTed.
    pub url: String,
    /// The event types it receives (`*`: all).
    pub events: Vec<String>,
    /// Whether it receives events.
    pub enabled: bool,
    /// It receives the events of changes made from then on: a minute after it was added or
    /// enabled, by when every replica of the service knows of it.
    pub active_from: DateTime<Utc>,
    /// Why it was disabled (by an admin, or after its deliveries failed for days).
    pub disabled_reason: Option<String>,
    /// Whether its messages about a member carry the member's name, phone and email (as the
    /// member is when the message is sent).
    pub include_personal: bool,
    /// Until when messages also carry the previous secret's signature (after a rotation).
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<webhook_endpoint::Model> for WebhookEndpoint {
    fn from(e: webhook_endpoint::Model) -> Self {
        Self {
            id: ID(e.id.to_string()),
            url: e.url,
            events: e.events.split(',').map(str::to_string).collect(),
            enabled: e.enabled,
            active_from: e.active_from,
            disabled_reason: e.disabled_reason,
            include_personal: e.include_personal,
            previous_secret_until: e.previous_secret_until,
            created_at: e.created_at,
        }
    }
}

/// An endpoint with its signing secret, shown only now.
#[derive(SimpleObject)]
pub struct WebhookEndpointWithSecret {
    /// The signing secret (`whsec_…`), for the receiver's Standard Webhooks verifier; shown once.
    pub secret: String,
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
}

impl From<webhooks::WithSecret> for WebhookEndpointWithSecret {
    fn from(w: webhooks::WithSecret) -> Self {
        Self { secret: w.secret, endpoint: w.endpoint.into() }
    }
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::WebhookStatus")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Being sent.
    Sending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One event sent (or to be sent) to one endpoint.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    /// The event's id: the `webhook-id` header, the same on every attempt and replay.
    pub event_id: String,
    /// The event type, e.g. `points.earned`.
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Where it stands.
    pub status: WebhookDeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// The receiver's HTTP status at the last attempt (null: no answer).
    pub last_status: Option<i32>,
    /// What went wrong at the last attempt.
    pub last_error: Option<String>,
    /// How long the last attempt took, in milliseconds.
    pub last_latency_ms: Option<i32>,
    /// When the receiver took it.
    pub delivered_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub id: i64,
}

impl From<webhook_delivery::Model> for WebhookDelivery {
    fn from(d: webhook_delivery::Model) -> Self {
        let status: WebhookStatus = d.status;
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            payload: d.payload,
            occurred_at: d.occurred_at,
            status: status.into(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
            last_latency_ms: d.last_latency_ms,
            delivered_at: d.delivered_at,
        }
    }
}

/// One page of an endpoint's deliveries.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPage {
    /// The deliveries, newest first.
    pub items: Vec<WebhookDelivery>,
    /// Where the page ends.
    pub page_info: PageInfo,
}

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Your restaurant's webhook endpoints, oldest first.
    #[graphql(guard = "ADMIN")]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookEndpoint>> {
        Ok(webhooks::list(&app(ctx).db, scope(ctx)).await.gql()?.into_iter().map(Into::into).collect())
    }

    /// An endpoint's deliveries (its log: status, attempts, last answer, latency), newest first.
    #[graphql(guard = "ADMIN")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] endpoint_id: ID,
        #[graphql(default = 50, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryPage> {
        let endpoint = endpoint_of(&endpoint_id).gql()?;
        let (after, first) = paging::args("webhookDeliveries", first, after.as_deref(), 100).gql()?;
        let page = delivery::log(&app(ctx).db, scope(ctx), endpoint, after, first).await.gql()?;
        let page_info = paging::info("webhookDeliveries", &page, |d| d.id);
        Ok(WebhookDeliveryPage { items: page.items.into_iter().map(Into::into).collect(), page_info })
    }
}

/// Webhook mutations.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Adds an endpoint receiving `events` (`["*"]`: all); the signing secret is in the answer
    /// and never shown again.
    #[graphql(guard = "ADMIN")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where to POST messages (https; public addresses only).")] url: String,
        #[graphql(desc = "Event types to receive, e.g. `points.earned`; `*` for all.")] events: Vec<String>,
        #[graphql(desc = "Whether messages about a member carry the member's name, phone and email (false when not given).")] include_personal: Option<bool>,
    ) -> async_graphql::Result<WebhookEndpointWithSecret> {
        let allow_private = app(ctx).jobs.config.webhook_allow_private;
        let input = webhooks::EndpointInput { url, events, include_personal: include_personal.unwrap_or(false) };
        Ok(webhooks::create(&app(ctx).db, scope(ctx), &input, allow_private).await.gql()?.into())
    }

    /// Whether an endpoint's messages about a member carry the member's name, phone and email
    /// (read when each message is sent; events store ids only).
    #[graphql(guard = "ADMIN")]
    async fn set_webhook_endpoint_personal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
        #[graphql(desc = "Whether its messages carry personal values.")] include_personal: bool,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let id = endpoint_of(&id).gql()?;
        Ok(webhooks::set_personal(&app(ctx).db, scope(ctx), id, include_personal).await.gql()?.into())
    }

    /// Gives an endpoint a new signing secret (in the answer, shown once); for a day messages
    /// carry the old secret's signature too, so the receiver can switch without losing any.
    #[graphql(guard = "ADMIN")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> async_graphql::Result<WebhookEndpointWithSecret> {
        let id = endpoint_of(&id).gql()?;
        Ok(webhooks::rotate(&app(ctx).db, scope(ctx), id).await.gql()?.into())
    }

    /// Stops or resumes an endpoint's events (a disabled endpoint gets no new events; its
    /// pending ones still go).
    #[graphql(guard = "ADMIN")]
    async fn set_webhook_endpoint_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
        #[graphql(desc = "Whether it receives events.")] enabled: bool,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let id = endpoint_of(&id).gql()?;
        let reason = (!enabled).then(|| format!("disabled by {}", scope(ctx).actor));
        Ok(webhooks::set_enabled(&app(ctx).db, scope(ctx), id, enabled, reason).await.gql()?.into())
    }

    /// Sends an event again (to every endpoint it went to), now, with the same `webhook-id`;
    /// or, with `endpointId`, `from` and `to`, every event of that endpoint in the range.
    /// Returns how many deliveries were queued.
    #[graphql(guard = "ADMIN")]
    async fn replay_webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "One event's id.")] event_id: Option<String>,
        #[graphql(desc = "The endpoint whose events to replay (with `from` and `to`).")] endpoint_id: Option<ID>,
        #[graphql(desc = "From this instant (inclusive).")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "To this instant (exclusive).")] to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<u64> {
        let what = match (event_id, endpoint_id, from, to) {
            (Some(id), None, None, None) => delivery::Replay::Event(id),
            (None, Some(endpoint), Some(from), Some(to)) => delivery::Replay::Range { endpoint: endpoint_of(&endpoint).gql()?, from, to },
            _ => return Err(ApiError::validation("eventId", "give either eventId, or endpointId with from and to")).gql(),
        };
        delivery::replay(&app(ctx).db, scope(ctx), what, entity::ops::now()).await.gql()
    }
}
