//! Access control: every GraphQL request carries `Authorization: Bearer <token>`: an API key,
//! or a signed token (JWT) from the configured login service. The token decides the restaurant
//! every read and write is scoped to, and the role that guards each field (`viewer` < `staff` <
//! `admin`, and `marketer`: campaigns and segments, customers without notes and allergies). A member's own token (role `customer`: issued by the login service, or minted by
//! staff with `createMemberToken`) reaches only `me` and `updateMyConsent`. A missing or bad key
//! is `UNAUTHENTICATED` (HTTP 401), a role too low for a field `FORBIDDEN`, too many requests from
//! one key `RATE_LIMITED` (429).

use async_graphql::{Context, ErrorExtensions, Guard};
use axum::http::HeaderMap;
use entity::entities::Role;
use entity::ops::keys::{self, Principal};
use sea_orm::DatabaseConnection;

use crate::credentials::{JwtVerifier, KeyCache, MemberTokens};
use crate::error::ErrorCode;
use crate::graphql::context::RequestContext;

/// A field open to these roles; `name` is how an error names them.
pub struct RoleGuard(pub &'static [Role], pub &'static str);

/// Reading customers and statistics (`RESTAURANT_READ`): every staff role.
pub const VIEWER: RoleGuard = RoleGuard(&[Role::Viewer, Role::Staff, Role::Marketer, Role::Admin], "viewer, staff, marketer or admin");
/// Staff notes, allergies and dietary needs: every staff role but the marketer's.
pub const CARE: RoleGuard = RoleGuard(&[Role::Viewer, Role::Staff, Role::Admin], "viewer, staff or admin");
/// Changing customers, points, visits, orders and notes (`RESTAURANT_UPDATE`).
pub const STAFF: RoleGuard = RoleGuard(&[Role::Staff, Role::Admin], "staff or admin");
/// Managing segments: staff and marketers.
pub const SEGMENTS: RoleGuard = RoleGuard(&[Role::Staff, Role::Marketer, Role::Admin], "staff, marketer or admin");
/// Campaigns, their audiences, sends and reports.
pub const MARKETING: RoleGuard = RoleGuard(&[Role::Marketer, Role::Admin], "marketer or admin");
/// Jobs, keys, privacy and the restaurant's settings.
pub const ADMIN: RoleGuard = RoleGuard(&[Role::Admin], "admin");

fn forbidden(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", ErrorCode::Forbidden.as_str()))
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = &ctx.data_unchecked::<RequestContext>().principal;
        if principal.member.is_some() {
            return Err(forbidden("a member's token reaches only `me` and `updateMyConsent`".into()));
        }
        if self.0.contains(&principal.role) {
            Ok(())
        } else {
            Err(async_graphql::Error::new(format!("this needs the {} role; your key has {}", self.1, principal.role.label()))
                .extend_with(|_, e| e.set("code", ErrorCode::Forbidden.as_str())))
        }
    }
}

/// A field for a member's own token (customer apps) only.
pub struct MemberGuard;

/// `me` and `updateMyConsent`.
pub const MEMBER: MemberGuard = MemberGuard;

impl Guard for MemberGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match ctx.data_unchecked::<RequestContext>().principal.member {
            Some(_) => Ok(()),
            None => Err(forbidden("this is for a member's own token (customer apps); staff read members with `customer`".into())),
        }
    }
}

/// Why a request was turned away before GraphQL ran.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token: send Authorization: Bearer <API key>")]
    Missing,
    #[error("the bearer token is not a valid API key (it may have been revoked)")]
    Invalid,
    #[error("the Authorization header must read `Bearer <API key>`: the word Bearer, a space, then the key")]
    NotBearer,
    #[error("too many requests for this API key; retry shortly")]
    RateLimited,
    #[error("could not check the API key: the database is unavailable; retry shortly")]
    Internal,
}

impl AuthError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Missing | AuthError::Invalid | AuthError::NotBearer => ErrorCode::Unauthenticated,
            AuthError::RateLimited => ErrorCode::RateLimited,
            AuthError::Internal => ErrorCode::DatabaseUnavailable,
        }
    }
}

/// The caller of a request.
pub async fn authenticate(
    db: &DatabaseConnection,
    cache: &KeyCache,
    members: &MemberTokens,
    jwt: Option<&std::sync::Arc<JwtVerifier>>,
    headers: &HeaderMap,
) -> Result<Principal, AuthError> {
    let value = headers.get(axum::http::header::AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Invalid)?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).ok_or(AuthError::NotBearer)?;
    if !token.starts_with("lk_") {
        return members.verify(token).or_else(|| jwt.and_then(|v| v.verify(token))).ok_or(AuthError::Invalid);
    }
    let hash = keys::hash(token.trim());
    if let Some(p) = cache.get(&hash) {
        return Ok(p);
    }
    match keys::authenticate(db, token).await {
        Ok(Some(p)) => {
            cache.put(hash, p.clone());
            Ok(p)
        }
        Ok(None) => Err(AuthError::Invalid),
        Err(e) => {
            tracing::error!(error = %e, "API key lookup failed");
            Err(AuthError::Internal)
        }
    }
}
