//! Access control: every GraphQL request carries `Authorization: Bearer <token>`: an API key,
//! or a signed token (JWT) from the configured login service. The token decides the restaurant
//! every read and write is scoped to, and the role that guards each field (`viewer` < `staff` <
//! `admin`). A member's own token (role `customer`: issued by the login service, or minted by
//! staff with `createMemberToken`) reaches only `me` and `updateMyConsent`. A missing or bad key
//! is `UNAUTHENTICATED` (HTTP 401), a role too low for a field `FORBIDDEN`, too many requests from
//! one key `RATE_LIMITED` (429).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_graphql::{Context, ErrorExtensions, Guard};
use axum::http::HeaderMap;
use entity::entities::Role;
use entity::ops::keys::{self, MemberRef, Principal};
use sea_orm::DatabaseConnection;

use crate::graphql::RequestContext;

/// A field open to `role` and above.
pub struct RoleGuard(pub Role);

/// Reading customers and statistics (`RESTAURANT_READ`).
pub const VIEWER: RoleGuard = RoleGuard(Role::Viewer);
/// Changing customers, points, visits, orders and notes (`RESTAURANT_UPDATE`).
pub const STAFF: RoleGuard = RoleGuard(Role::Staff);
/// Campaigns, jobs and keys.
pub const ADMIN: RoleGuard = RoleGuard(Role::Admin);

fn forbidden(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "FORBIDDEN"))
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = &ctx.data_unchecked::<RequestContext>().principal;
        if principal.member.is_some() {
            return Err(forbidden("a member's token reaches only `me` and `updateMyConsent`".into()));
        }
        if principal.role >= self.0 {
            Ok(())
        } else {
            Err(async_graphql::Error::new(format!("this needs the {} role; your key has {}", self.0.label(), principal.role.label()))
                .extend_with(|_, e| e.set("code", "FORBIDDEN")))
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
    #[error("too many requests for this API key; retry shortly")]
    RateLimited,
    #[error("could not check the API key")]
    Internal,
}

impl AuthError {
    /// The error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Invalid => "UNAUTHENTICATED",
            AuthError::RateLimited => "RATE_LIMITED",
            AuthError::Internal => "INTERNAL",
        }
    }
}

/// Claims a signed token must carry.
#[derive(Debug, serde::Deserialize)]
struct Claims {
    /// Who the login service says the caller is.
    sub: String,
    /// The restaurant the token acts for.
    restaurant: String,
    /// `viewer`, `staff`, `admin`, or `customer` for a member's own token.
    role: String,
    /// For `customer` tokens: the member's id (else the member whose `userId` is `sub`).
    #[serde(default)]
    customer_id: Option<i64>,
}

/// Issuer of the member tokens this service mints.
const MEMBER_ISSUER: &str = "loyalty";

/// Checks HS256 tokens of one login service: signature, expiry (`exp` is required), and the
/// issuer when one is configured.
pub struct JwtVerifier {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

impl JwtVerifier {
    /// A verifier for tokens signed with `secret` (and issued by `issuer`, when given).
    pub fn new(secret: &str, issuer: Option<&str>) -> Self {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
        }
        Self { key: jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()), validation }
    }

    /// The principal of a genuine, unexpired token.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).ok()?.claims;
        let restaurant = claims.restaurant.trim();
        if restaurant.is_empty() || restaurant.len() > 64 {
            return None;
        }
        let sub: String = claims.sub.chars().take(100).collect();
        let (role, member) = match claims.role.as_str() {
            "customer" => (Role::Viewer, Some(claims.customer_id.map_or_else(|| MemberRef::UserId(sub.clone()), MemberRef::Id))),
            other => (Role::from_label(other)?, None),
        };
        let actor = if member.is_some() { format!("member:{sub}") } else { format!("jwt:{sub}") };
        Some(Principal { restaurant_id: restaurant.to_string(), role, actor, member })
    }
}

/// Short-lived member tokens minted by staff (`createMemberToken`) for a member's app or a
/// kiosk: HS256 under a secret the service generates and keeps, issuer `loyalty`.
pub struct MemberTokens {
    encoding: jsonwebtoken::EncodingKey,
    verifier: JwtVerifier,
}

impl MemberTokens {
    /// Tokens signed with `secret`.
    pub fn new(secret: &str) -> Self {
        Self { encoding: jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()), verifier: JwtVerifier::new(secret, Some(MEMBER_ISSUER)) }
    }

    /// A token for member `customer_id` of `restaurant`, valid until `expires`.
    pub fn mint(&self, restaurant: &str, customer_id: i64, expires: chrono::DateTime<chrono::Utc>) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = serde_json::json!({
            "sub": format!("customer:{customer_id}"), "restaurant": restaurant, "role": "customer",
            "customer_id": customer_id, "iss": MEMBER_ISSUER, "exp": expires.timestamp(),
        });
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)
    }

    /// The member principal of a genuine token this service minted.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        self.verifier.verify(token).filter(|p| p.member.is_some())
    }
}

/// API keys checked in the last few seconds, by the key's hash.
pub struct KeyCache {
    ttl: std::time::Duration,
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl KeyCache {
    /// Remembers keys for `ttl` (zero: not at all).
    pub fn new(ttl: std::time::Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        entries.get(hash).filter(|(_, at)| at.elapsed() < self.ttl).map(|(p, _)| p.clone())
    }

    fn put(&self, hash: String, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
            }
            entries.insert(hash, (principal, Instant::now()));
        }
    }

    /// Forgets every key (after a revocation through the API).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
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
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(AuthError::Invalid)?;
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

/// A token bucket per caller: `rate` requests a second on average, bursts up to twice that.
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests per second per key; 0 turns limiting off.
    pub fn new(rate: u32) -> Self {
        Self { rate: f64::from(rate), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from the caller's bucket; `false` when it is empty.
    pub fn allow(&self, caller: &str) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let burst = self.rate * 2.0;
        let Ok(mut buckets) = self.buckets.lock() else { return true };
        if !buckets.contains_key(caller) {
            buckets.insert(caller.to_string(), (burst, now));
        }
        let Some((tokens, last)) = buckets.get_mut(caller) else { return true };
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_refuses() {
        let limiter = RateLimiter::new(5);
        let allowed = (0..20).filter(|_| limiter.allow("a")).count();
        assert_eq!(allowed, 10, "burst of twice the rate");
        assert!(limiter.allow("b"), "each caller has its own bucket");
        assert!((0..1000).all(|_| RateLimiter::new(0).allow("a")), "0 turns limiting off");
    }
}
