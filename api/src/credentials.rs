//! Credentials the service checks and keeps: signed tokens of the login service
//! ([`JwtVerifier`]), members' own tokens ([`MemberTokens`]), recently checked API keys
//! ([`KeyCache`]) and per-caller request budgets ([`RateLimiter`]). Nothing here knows GraphQL;
//! `auth` turns a request's token into a principal with these.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use entity::entities::Role;
use entity::ops::keys::{MemberRef, Principal};

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
            // A configured issuer is required: a token without `iss` is refused too.
            validation.set_required_spec_claims(&["exp", "sub", "iss"]);
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

/// Whether `given` equals `secret`, in time that does not depend on where they differ.
pub fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len() && given.bytes().zip(secret.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
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

    pub(crate) fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        entries.get(hash).filter(|(_, at)| at.elapsed() < self.ttl).map(|(p, _)| p.clone())
    }

    pub(crate) fn put(&self, hash: String, principal: Principal) {
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
