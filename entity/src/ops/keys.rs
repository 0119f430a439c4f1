//! API keys: create (the key is returned once), list, revoke, and authenticate a bearer token.

use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};

use super::now;
use crate::entities::{Role, api_key};
use crate::{DomainError, DomainResult};

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub restaurant_id: String,
    pub role: Role,
    /// Recorded on ledger rows, notes and the audit log: `key:ID:NAME` or `jwt:SUBJECT`.
    pub actor: String,
    /// For a member's own token (customer apps): which member. Such a principal may read and
    /// change only that member (`me`, `updateMyConsent`); every staff field refuses it.
    pub member: Option<MemberRef>,
}

/// The member a customer token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    /// Minted by staff for this customer id.
    Id(i64),
    /// Issued by the login service: the member whose `userId` is the token's subject.
    UserId(String),
}

const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

fn random(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// SHA-256 of a key, hex.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn check_restaurant(restaurant_id: &str) -> DomainResult<String> {
    let r = restaurant_id.trim();
    crate::rules::restaurant::check_id(r)?;
    Ok(r.to_string())
}

/// Creates a key; returns its row and the key itself, which is never shown again.
pub async fn create(db: &impl ConnectionTrait, restaurant_id: &str, role: Role, name: &str, actor: &str) -> DomainResult<(api_key::Model, String)> {
    let restaurant_id = check_restaurant(restaurant_id)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DomainError::validation("name", "must be 1 to 100 characters"));
    }
    let prefix = format!("lk_{}", random(8));
    let key = format!("{prefix}_{}", random(32));
    let row = api_key::ActiveModel {
        restaurant_id: Set(restaurant_id),
        role: Set(role),
        name: Set(name.to_string()),
        prefix: Set(prefix),
        key_hash: Set(hash(&key)),
        created_at: Set(now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let details = serde_json::json!({ "prefix": row.prefix, "role": row.role, "name": row.name });
    super::audit::record(
        db,
        &crate::Scope::new(row.restaurant_id.clone(), actor, crate::vault::Vault::detached()),
        crate::entities::AuditAction::KeyCreated,
        None,
        details,
    )
    .await?;
    Ok((row, key))
}

/// Keys, optionally of one restaurant, newest first.
pub async fn list(db: &impl ConnectionTrait, restaurant_id: Option<&str>) -> DomainResult<Vec<api_key::Model>> {
    let mut q = api_key::Entity::find().order_by_desc(api_key::Column::Id);
    if let Some(r) = restaurant_id {
        q = q.filter(api_key::Column::RestaurantId.eq(r));
    }
    Ok(q.all(db).await?)
}

/// One page of a restaurant's keys, newest first, after the key `after`.
pub async fn page(db: &impl ConnectionTrait, restaurant_id: &str, after: Option<i64>, first: u64) -> DomainResult<super::Paged<api_key::Model>> {
    let q = api_key::Entity::find().filter(api_key::Column::RestaurantId.eq(restaurant_id));
    Ok(super::newest_page(db, q, api_key::Column::Id, after, first).await?)
}

/// Whether any key exists (the first start creates an admin key when none does).
pub async fn any(db: &impl ConnectionTrait) -> DomainResult<bool> {
    Ok(api_key::Entity::find().count(db).await? > 0)
}

/// Revokes the key with `prefix` (of `restaurant_id`, when given); it stops working at once.
pub async fn revoke(db: &impl ConnectionTrait, restaurant_id: Option<&str>, prefix: &str, actor: &str) -> DomainResult<api_key::Model> {
    let mut q = api_key::Entity::find().filter(api_key::Column::Prefix.eq(prefix.trim()));
    if let Some(r) = restaurant_id {
        q = q.filter(api_key::Column::RestaurantId.eq(r));
    }
    let key = q.one(db).await?.ok_or_else(|| DomainError::not_found(format!("API key {}", prefix.trim())))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    api_key::Entity::update_many().col_expr(api_key::Column::RevokedAt, Expr::value(now())).filter(api_key::Column::Id.eq(key.id)).exec(db).await?;
    let details = serde_json::json!({ "prefix": key.prefix, "role": key.role, "name": key.name });
    super::audit::record(
        db,
        &crate::Scope::new(key.restaurant_id.clone(), actor, crate::vault::Vault::detached()),
        crate::entities::AuditAction::KeyRevoked,
        None,
        details,
    )
    .await?;
    Ok(api_key::Entity::find_by_id(key.id).one(db).await?.unwrap_or(key))
}

/// The principal of a bearer token, if it is a live key.
pub async fn authenticate(db: &impl ConnectionTrait, token: &str) -> DomainResult<Option<Principal>> {
    let token = token.trim();
    if !token.starts_with("lk_") || token.len() > 100 {
        return Ok(None);
    }
    let key = api_key::Entity::find().filter(api_key::Column::KeyHash.eq(hash(token))).filter(api_key::Column::RevokedAt.is_null()).one(db).await?;
    Ok(key.map(|k| Principal { actor: format!("key:{}:{}", k.id, k.name), restaurant_id: k.restaurant_id, role: k.role, member: None }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashed() {
        assert_ne!(random(32), random(32));
        assert_eq!(hash("abc").len(), 64);
        assert!(check_restaurant("bad id!").is_err());
        assert_eq!(check_restaurant(" main-st ").unwrap(), "main-st");
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin > Role::Staff && Role::Staff > Role::Viewer);
    }
}
