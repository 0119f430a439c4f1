//! A restaurant's webhook endpoints (created, listed, secret rotated, disabled and enabled by
//! its admins), the events its changes write for them ([`events`]) and their delivery
//! ([`delivery`]). A signing secret is never stored: it is derived from the key store's
//! `webhooks` secret, the restaurant, the endpoint and its `secret_version`, so nothing in a
//! backup of the data can sign a message, and rotating it is a counter.

pub mod delivery;
pub mod events;
pub mod personal;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::entities::webhook_endpoint;
use crate::rules::webhooks as rules;
use crate::{DomainError, DomainResult, Scope};

/// How long messages carry the previous secret's signature too after a rotation.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// An endpoint with its signing secret (`whsec_…`), shown when it is created or rotated.
pub struct WithSecret {
    pub endpoint: webhook_endpoint::Model,
    pub secret: String,
}

/// The signing secret of version `version` of the scope's endpoint `id`.
pub async fn secret(scope: &Scope, id: i64, version: i32) -> DomainResult<[u8; 32]> {
    Ok(derive(&root(scope).await?, scope, id, version))
}

/// The key store's `webhooks` secret every endpoint's secret is derived from.
async fn root(scope: &Scope) -> DomainResult<crate::vault::crypto::Key> {
    scope.vault.service_secret("webhooks", None).await
}

/// Version `version` of endpoint `id`'s secret, from `root`.
fn derive(root: &crate::vault::crypto::Key, scope: &Scope, id: i64, version: i32) -> [u8; 32] {
    root.derive("webhook-endpoint", &format!("{}/{id}/{version}", scope.restaurant_id))
}

/// What an endpoint is to receive: its `url` (checked by [`rules::check_url`]), its `events`,
/// and whether its messages carry members' personal values.
#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    pub url: String,
    pub events: Vec<String>,
    pub include_personal: bool,
}

/// Adds an endpoint receiving `input.events` at `input.url`.
pub async fn create(db: &impl ConnectionTrait, scope: &Scope, input: &EndpointInput, allow_private: bool) -> DomainResult<WithSecret> {
    let (url, events) = (input.url.as_str(), input.events.as_slice());
    let url = rules::check_url(url, allow_private)?;
    let events = rules::check_events(events)?;
    let existing = webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::RestaurantId.eq(&scope.restaurant_id)).count(db).await?;
    if existing >= rules::MAX_ENDPOINTS {
        return Err(DomainError::validation("url", format!("a restaurant has at most {} webhook endpoints; remove one first", rules::MAX_ENDPOINTS)));
    }
    let at = super::now();
    let endpoint = webhook_endpoint::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        url: Set(url.to_string()),
        events: Set(events),
        secret_version: Set(1),
        previous_secret_until: Set(None),
        enabled: Set(true),
        active_from: Set(at + events::ACTIVATION),
        disabled_reason: Set(None),
        include_personal: Set(input.include_personal),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    events::forget();
    let secret = rules::secret_text(&secret(scope, endpoint.id, 1).await?);
    Ok(WithSecret { endpoint, secret })
}

/// The scope's endpoints, oldest first.
pub async fn list(db: &impl ConnectionTrait, scope: &Scope) -> DomainResult<Vec<webhook_endpoint::Model>> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::RestaurantId.eq(&scope.restaurant_id))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await?)
}

/// The scope's endpoint `id`.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("webhook endpoint {id}")))
}

/// Moves endpoint `id` to a new secret; messages carry the old one's signature too for
/// [`ROTATION_OVERLAP_HOURS`], so receivers can switch without losing any.
pub async fn rotate(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<WithSecret> {
    use webhook_endpoint::Column as C;
    let at = super::now();
    let rows = webhook_endpoint::Entity::update_many()
        .col_expr(C::SecretVersion, Expr::col(C::SecretVersion).add(1))
        .col_expr(C::PreviousSecretUntil, Expr::value(at + Duration::hours(ROTATION_OVERLAP_HOURS)))
        .col_expr(C::UpdatedAt, Expr::value(at))
        .filter(C::Id.eq(id))
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .exec_with_returning(db)
        .await?;
    let endpoint = rows.into_iter().next().ok_or_else(|| DomainError::not_found(format!("webhook endpoint {id}")))?;
    let secret = rules::secret_text(&secret(scope, endpoint.id, endpoint.secret_version).await?);
    Ok(WithSecret { endpoint, secret })
}

/// Enables or disables endpoint `id` (`reason` says why it was disabled). An endpoint enabled
/// again receives events from [`events::ACTIVATION`] on.
pub async fn set_enabled(db: &impl ConnectionTrait, scope: &Scope, id: i64, enabled: bool, reason: Option<String>) -> DomainResult<webhook_endpoint::Model> {
    use webhook_endpoint::Column as C;
    let at = super::now();
    let mut update = webhook_endpoint::Entity::update_many()
        .col_expr(C::Enabled, Expr::value(enabled))
        .col_expr(C::DisabledReason, Expr::value(if enabled { None } else { reason }))
        .col_expr(C::UpdatedAt, Expr::value(at))
        .filter(C::Id.eq(id))
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .filter(C::Enabled.ne(enabled));
    if enabled {
        update = update.col_expr(C::ActiveFrom, Expr::value(at + events::ACTIVATION));
    }
    update.exec(db).await?;
    events::forget();
    get(db, scope, id).await
}

/// Whether endpoint `id`'s messages about a member carry the member's personal values.
pub async fn set_personal(db: &impl ConnectionTrait, scope: &Scope, id: i64, include: bool) -> DomainResult<webhook_endpoint::Model> {
    use webhook_endpoint::Column as C;
    webhook_endpoint::Entity::update_many()
        .col_expr(C::IncludePersonal, Expr::value(include))
        .col_expr(C::UpdatedAt, Expr::value(super::now()))
        .filter(C::Id.eq(id))
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .exec(db)
        .await?;
    get(db, scope, id).await
}

/// The `webhook-signature` header of a message to `endpoint`: the current secret's signature,
/// and during a rotation's overlap the previous one's after it.
pub async fn signature(scope: &Scope, endpoint: &webhook_endpoint::Model, id: &str, timestamp: i64, body: &str, now: DateTime<Utc>) -> DomainResult<String> {
    let root = root(scope).await?;
    let current = rules::sign(&derive(&root, scope, endpoint.id, endpoint.secret_version), id, timestamp, body);
    match endpoint.previous_secret_until {
        Some(until) if until > now && endpoint.secret_version > 1 => {
            let previous = rules::sign(&derive(&root, scope, endpoint.id, endpoint.secret_version - 1), id, timestamp, body);
            Ok(format!("{current} {previous}"))
        }
        _ => Ok(current),
    }
}
