//! What every resolver reads: the shared state ([`AppState`]), the request's context
//! ([`RequestContext`]: scope, principal, request id) and their accessors. The bottom of the
//! GraphQL layer: it imports no module above it.

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use entity::{Policy, Scope};
use sea_orm::DatabaseConnection;

use super::loaders;

/// Shared by all requests: the database and the program settings.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The keys of personal data.
    pub vault: entity::vault::Vault,
    pub policy: Policy,
    /// The scheduled jobs, for running them on demand and reporting on them.
    pub jobs: jobs::JobContext,
    /// API keys checked recently (cleared when a key is revoked).
    pub keys: std::sync::Arc<crate::credentials::KeyCache>,
    /// Recent whole-programme figures per restaurant.
    pub stats: std::sync::Arc<crate::cache::StatsCache>,
    /// Mints and checks members' own tokens.
    pub member_tokens: std::sync::Arc<crate::credentials::MemberTokens>,
    /// Parsed documents by their text.
    pub documents: std::sync::Arc<crate::documents::DocumentCache>,
}

/// Per request: who calls, for which restaurant, and the request's id for logs and errors.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub scope: Scope,
    pub principal: entity::ops::keys::Principal,
    pub request_id: String,
}

/// The shared state.
pub fn app<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The request's scope.
pub fn scope<'a>(ctx: &Context<'a>) -> &'a Scope {
    &ctx.data_unchecked::<RequestContext>().scope
}

/// The request's DataLoader.
pub fn loader<'a>(ctx: &Context<'a>) -> &'a DataLoader<loaders::DbLoader> {
    ctx.data_unchecked::<DataLoader<loaders::DbLoader>>()
}
