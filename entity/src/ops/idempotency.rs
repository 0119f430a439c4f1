//! Idempotent writes: the key is claimed by an insert in the same transaction as the work and
//! the result saved beside it; a retry with the same key gets the saved result and changes
//! nothing. Concurrent retries queue on the key's primary key (PostgreSQL) or the write lock
//! (SQLite), so exactly one of them does the work.

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait, sea_query::OnConflict};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use super::begin_write;
use crate::entities::idempotency_key;
use crate::{DomainError, DomainResult, Scope};

/// The result of an idempotent operation and whether it was replayed from an earlier call.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    pub value: T,
    pub replayed: bool,
}

/// Runs `work` in one write transaction. With a `key`, the first call's result is saved and
/// every later call with the same key and `request` returns it without running `work`; the
/// same key with another `operation` or `request` fails with `IdempotencyConflict`.
pub async fn run<D, T, R, F>(db: &D, scope: &Scope, key: Option<&str>, operation: &str, request: &R, work: F) -> DomainResult<Outcome<T>>
where
    D: TransactionTrait + ConnectionTrait,
    T: Serialize + DeserializeOwned,
    R: Serialize + ?Sized,
    F: AsyncFnOnce(&D::Transaction) -> DomainResult<T>,
{
    let txn = begin_write(db).await?;
    let Some(key) = key else {
        let value = work(&txn).await?;
        txn.commit().await?;
        return Ok(Outcome { value, replayed: false });
    };
    let hash = request_hash(operation, request);
    if !claim(&txn, scope, key, operation, &hash).await? {
        txn.rollback().await?;
        let value = replay(db, scope, key, &hash).await?;
        return Ok(Outcome { value, replayed: true });
    }
    let value = work(&txn).await?;
    let json = serde_json::to_value(&value).map_err(|e| DomainError::internal(e.to_string()))?;
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Response, sea_orm::sea_query::Expr::value(json))
        .filter(idempotency_key::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Outcome { value, replayed: false })
}

/// Inserts the key; `false` if it was already there (committed by an earlier call).
async fn claim(db: &impl ConnectionTrait, scope: &Scope, key: &str, operation: &str, hash: &str) -> DomainResult<bool> {
    let row = idempotency_key::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        key: Set(key.to_string()),
        operation: Set(operation.to_string()),
        request_hash: Set(hash.to_string()),
        response: Set(None),
        created_at: Set(super::now()),
    };
    let inserted = idempotency_key::Entity::insert(row)
        .on_conflict(OnConflict::columns([idempotency_key::Column::RestaurantId, idempotency_key::Column::Key]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The saved result for `key`, if the request matches the one that claimed it.
async fn replay<T: DeserializeOwned>(db: &impl ConnectionTrait, scope: &Scope, key: &str, hash: &str) -> DomainResult<T> {
    let conflict = || DomainError::IdempotencyConflict { key: key.to_string() };
    let saved = idempotency_key::Entity::find_by_id((scope.restaurant_id.clone(), key.to_string())).one(db).await?.ok_or_else(conflict)?;
    if saved.request_hash != hash {
        return Err(conflict());
    }
    let response = saved.response.ok_or_else(conflict)?;
    serde_json::from_value(response).map_err(|e| DomainError::internal(e.to_string()))
}

fn request_hash<R: Serialize + ?Sized>(operation: &str, request: &R) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(request).unwrap_or_default());
    hex::encode(hasher.finalize())
}
