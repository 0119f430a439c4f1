//! API keys of the caller's restaurant, for admins.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{Role, api_key};
use entity::ops::keys;

use super::context::{app, scope};
use super::paging::{self, PageInfo};
use crate::auth::ADMIN;
use crate::error::IntoGql;

/// A key's role.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::entities::Role")]
pub enum KeyRole {
    /// Read customers and statistics.
    Viewer,
    /// Also change customers, points, visits, orders and notes.
    Staff,
    /// Customers without notes and allergies, statistics, segments and campaigns.
    Marketer,
    /// Also campaigns, jobs and keys.
    Admin,
}

/// An API key (never the key itself, except once on creation).
#[derive(SimpleObject)]
pub struct ApiKey {
    /// The key's id.
    pub id: ID,
    /// Who holds it.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub role: KeyRole,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was revoked (null: in use).
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(k: api_key::Model) -> Self {
        Self { id: ID(k.id.to_string()), name: k.name, prefix: k.prefix, role: k.role.into(), created_at: k.created_at, revoked_at: k.revoked_at }
    }
}

/// A new key: `key` is shown only now.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    /// The key itself: shown once, keep it safe.
    pub key: String,
    /// What is kept of it.
    pub api_key: ApiKey,
}

/// One page of API keys.
#[derive(SimpleObject)]
pub struct ApiKeyPage {
    /// The keys, newest first.
    pub items: Vec<ApiKey>,
    /// Where the page ends.
    pub page_info: PageInfo,
}

/// Key queries.
#[derive(Default)]
pub struct KeyQuery;

#[Object]
impl KeyQuery {
    /// Your restaurant's API keys (revoked ones too), newest first, one page at a time.
    #[graphql(guard = "ADMIN")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<ApiKeyPage> {
        let (after, first) = paging::args("apiKeys", first, after.as_deref(), 100).gql()?;
        let page = keys::page(&app(ctx).db, &scope(ctx).restaurant_id, after, first).await.gql()?;
        let page_info = paging::info("apiKeys", &page, |k| k.id);
        Ok(ApiKeyPage { items: page.items.into_iter().map(Into::into).collect(), page_info })
    }
}

/// Key mutations.
#[derive(Default)]
pub struct KeyMutation;

#[Object]
impl KeyMutation {
    /// Creates a key for your restaurant; the key is in the answer and never shown again.
    #[graphql(guard = "ADMIN")]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the key may do.")] role: KeyRole,
        #[graphql(desc = "A name that says who holds the key.")] name: String,
    ) -> async_graphql::Result<CreatedApiKey> {
        let role: Role = role.into();
        let (row, key) = keys::create(&app(ctx).db, &scope(ctx).restaurant_id, role, &name, &scope(ctx).actor).await.gql()?;
        tracing::info!(prefix = %row.prefix, role = %role.label(), "API key created");
        Ok(CreatedApiKey { key, api_key: row.into() })
    }

    /// Revokes one of your restaurant's keys; it stops working at once.
    #[graphql(guard = "ADMIN")]
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's prefix, as `apiKeys` lists it.")] prefix: String,
    ) -> async_graphql::Result<ApiKey> {
        let row = keys::revoke(&app(ctx).db, Some(&scope(ctx).restaurant_id), &prefix, &scope(ctx).actor).await.gql()?;
        app(ctx).keys.clear();
        tracing::info!(prefix = %row.prefix, "API key revoked");
        Ok(row.into())
    }
}
