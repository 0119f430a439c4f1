//! Access control: every GraphQL request carries `Authorization: Bearer <API key>`; the key
//! decides the restaurant every read and write is scoped to, and the role that guards each
//! field (`viewer` < `staff` < `admin`). A missing or bad key is `UNAUTHENTICATED` (HTTP 401), a
//! role too low for a field `FORBIDDEN`, too many requests from one key `RATE_LIMITED` (429).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_graphql::{Context, ErrorExtensions, Guard};
use axum::http::HeaderMap;
use entity::entities::Role;
use entity::ops::keys::{self, Principal};
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

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = &ctx.data_unchecked::<RequestContext>().principal;
        if principal.role >= self.0 {
            Ok(())
        } else {
            Err(async_graphql::Error::new(format!("this needs the {} role; your key has {}", role_name(self.0), role_name(principal.role)))
                .extend_with(|_, e| e.set("code", "FORBIDDEN")))
        }
    }
}

/// A role's name as keys show it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Staff => "staff",
        Role::Admin => "admin",
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

/// The caller of a request.
pub async fn authenticate(db: &DatabaseConnection, headers: &HeaderMap) -> Result<Principal, AuthError> {
    let value = headers.get(axum::http::header::AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Invalid)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(AuthError::Invalid)?;
    match keys::authenticate(db, token).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(AuthError::Invalid),
        Err(e) => {
            tracing::error!(error = %e, "API key lookup failed");
            Err(AuthError::Internal)
        }
    }
}

/// A token bucket per API key: `rate` requests a second on average, bursts up to twice that.
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests per second per key; 0 turns limiting off.
    pub fn new(rate: u32) -> Self {
        Self { rate: f64::from(rate), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from the key's bucket; `false` when it is empty.
    pub fn allow(&self, key_id: i64) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let burst = self.rate * 2.0;
        let Ok(mut buckets) = self.buckets.lock() else { return true };
        let (tokens, last) = buckets.entry(key_id).or_insert((burst, now));
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
        let allowed = (0..20).filter(|_| limiter.allow(1)).count();
        assert_eq!(allowed, 10, "burst of twice the rate");
        assert!(limiter.allow(2), "each key has its own bucket");
        assert!((0..1000).all(|_| RateLimiter::new(0).allow(1)), "0 turns limiting off");
    }
}
