//! The key store and the keys in memory (envelope encryption): the master key (given to the
//! service, never stored) wraps each restaurant's data and index keys; a restaurant's data key
//! wraps each of its customers' keys; a customer's key seals that customer's personal values.
//! The key store is its own database connection (by default a file beside the SQLite
//! database), so a backup of the data carries no customer key: erasing a customer deletes its
//! key, and its values become unreadable in every older copy of the data too.
//!
//! Keys are created outside the callers' transactions (on the vault's own connection), so a
//! rolled-back write never leaves data sealed under a key that was not kept.

pub mod crypto;
mod rotation;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use self::crypto::{CryptoError, Key};
use crate::entities::{customer_key, data_key, key_check};
use crate::{DomainError, DomainResult};

/// Customer keys kept unwrapped in memory at most (about 100 bytes each). Past it the cache
/// keeps the keys read most (S3-FIFO eviction), so a regular's key stays in memory however
/// many customers the restaurants have.
const CUSTOMER_KEY_CACHE: usize = 100_000;
/// `data_keys.purpose` of the deployment's secrets (no restaurant's).
const SECRET_PURPOSE: &str = "secret";
/// The value sealed in `key_checks` to recognise the master key.
const CHECK: &[u8] = b"loyalty key store";

/// Why the key store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the key store holds keys sealed by a master key, and none was given (set LOYALTY_MASTER_KEY or LOYALTY_MASTER_KEY_FILE)")]
    NoMasterKey,
    #[error(
        "no master key was given, and it is needed to seal personal data: set LOYALTY_MASTER_KEY to 64 hex digits (`openssl rand -hex 32`) or LOYALTY_MASTER_KEY_FILE to a file holding them, and keep it apart from the backups (the embedded SQLite default makes its own)"
    )]
    MasterKeyNeeded,
    #[error("the master key given is not the one the key store was sealed with: refusing to start (check LOYALTY_MASTER_KEY / LOYALTY_MASTER_KEY_FILE)")]
    WrongMasterKey,
    #[error("key store: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Keys for sealing and opening personal data; cheap to clone.
#[derive(Clone)]
pub struct Vault(Arc<Inner>);

struct Inner {
    master: Key,
    /// `None`: a vault for scopes that never touch personal data (tests, audit-only scopes).
    db: Option<DatabaseConnection>,
    data_keys: RwLock<HashMap<String, Key>>,
    active: RwLock<HashMap<String, String>>,
    index_keys: RwLock<HashMap<String, Key>>,
    /// Unwrapped customer keys by id, with their restaurant.
    customer_keys: quick_cache::sync::Cache<String, (Arc<str>, Key)>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault")
    }
}

/// A customer's key with its id, ready to seal and open that customer's values.
#[derive(Clone, Debug)]
pub struct CustomerKey {
    pub id: String,
    key: Key,
}

impl CustomerKey {
    /// A fresh key that is in no key store.
    #[cfg(test)]
    pub(crate) fn for_tests(id: &str) -> Self {
        CustomerKey { id: id.into(), key: Key::generate() }
    }

    /// `plain` sealed for `field`.
    pub fn seal(&self, field: &str, plain: &str) -> String {
        self.key.seal(&self.id, field, plain.as_bytes())
    }

    /// A value of `field` this key sealed; plain text written before encryption as it is.
    pub fn open(&self, field: &str, sealed: &str) -> DomainResult<String> {
        open_with(&self.key, field, sealed)
    }
}

fn open_with(key: &Key, field: &str, sealed: &str) -> DomainResult<String> {
    if !crypto::is_sealed(sealed) {
        return Ok(sealed.to_string());
    }
    key.open_text(field, sealed).map_err(|e| DomainError::internal(format!("{field}: {e}")))
}

impl Vault {
    /// Opens the key store on `db` with `master`: checks the master key against the one the
    /// store was sealed with (recording it on first use), or refuses.
    pub async fn open(db: DatabaseConnection, master: Option<Key>) -> Result<Vault, VaultError> {
        let check = key_check::Entity::find_by_id(1).one(&db).await?;
        let master = match (check, master) {
            (Some(_), None) => return Err(VaultError::NoMasterKey),
            (Some(row), Some(master)) => {
                if !opens_check(&master, &row.sealed) {
                    return Err(VaultError::WrongMasterKey);
                }
                master
            }
            (None, master) => {
                if data_key::Entity::find().count(&db).await? > 0 {
                    return Err(VaultError::NoMasterKey);
                }
                let Some(master) = master else { return Err(VaultError::MasterKeyNeeded) };
                let row = key_check::ActiveModel { id: Set(1), sealed: Set(master.seal("master", "check", CHECK)), created_at: Set(Utc::now()) };
                key_check::Entity::insert(row)
                    .on_conflict(OnConflict::column(key_check::Column::Id).do_nothing().to_owned())
                    .exec_without_returning(&db)
                    .await?;
                let stored = key_check::Entity::find_by_id(1).one(&db).await?.ok_or(VaultError::WrongMasterKey)?;
                if !opens_check(&master, &stored.sealed) {
                    return Err(VaultError::WrongMasterKey);
                }
                master
            }
        };
        Ok(Vault::with(master, Some(db), CUSTOMER_KEY_CACHE))
    }

    fn with(master: Key, db: Option<DatabaseConnection>, cached_keys: usize) -> Vault {
        Vault(Arc::new(Inner {
            master,
            db,
            data_keys: RwLock::default(),
            active: RwLock::default(),
            index_keys: RwLock::default(),
            customer_keys: quick_cache::sync::Cache::new(cached_keys),
        }))
    }

    /// A vault with no key store: every key operation fails. For scopes that only record the
    /// audit log, and unit tests.
    pub fn detached() -> Vault {
        Vault::with(Key::generate(), None, 16)
    }

    fn db(&self) -> DomainResult<&DatabaseConnection> {
        self.0.db.as_ref().ok_or_else(|| DomainError::internal("no key store for this scope"))
    }

    /// The key store's connection (for the key rotation and data transfers).
    pub fn connection(&self) -> DomainResult<&DatabaseConnection> {
        self.db()
    }

    /// The restaurant's blind-index key, created on first use (one per restaurant, never
    /// rotated: the indexes would all change).
    pub async fn index_key(&self, restaurant_id: &str) -> DomainResult<Key> {
        if let Some(k) = self.0.index_keys.read().expect("lock").get(restaurant_id) {
            return Ok(k.clone());
        }
        let db = self.db()?;
        let id = format!("ix-{restaurant_id}");
        let fresh = data_key::ActiveModel {
            id: Set(id.clone()),
            restaurant_id: Set(restaurant_id.to_string()),
            purpose: Set("index".into()),
            wrapped: Set(self.0.master.wrap(&id, &Key::generate())),
            state: Set("active".into()),
            created_at: Set(Utc::now()),
        };
        self.store_data_key(fresh).await?;
        let row = data_key::Entity::find_by_id(id).one(db).await?.ok_or_else(|| DomainError::internal("index key vanished"))?;
        let key = self.unwrap_by_master(&row.wrapped)?;
        self.0.index_keys.write().expect("lock").insert(restaurant_id.to_string(), key.clone());
        Ok(key)
    }

    /// The restaurant's active data key (created on first use), with its id.
    async fn active_data_key(&self, restaurant_id: &str) -> DomainResult<(String, Key)> {
        let cached = self.0.active.read().expect("lock").get(restaurant_id).cloned();
        if let Some(id) = cached
            && let Some(key) = self.0.data_keys.read().expect("lock").get(&id)
        {
            return Ok((id, key.clone()));
        }
        let db = self.db()?;
        let found = data_key::Entity::find()
            .filter(data_key::Column::RestaurantId.eq(restaurant_id))
            .filter(data_key::Column::Purpose.eq("data"))
            .filter(data_key::Column::State.eq("active"))
            .order_by_desc(data_key::Column::CreatedAt)
            .one(db)
            .await?;
        let row = match found {
            Some(row) => row,
            None => {
                let id = crypto::new_key_id('r');
                let row = data_key::Model {
                    id: id.clone(),
                    restaurant_id: restaurant_id.to_string(),
                    purpose: "data".into(),
                    wrapped: self.0.master.wrap(&id, &Key::generate()),
                    state: "active".into(),
                    created_at: Utc::now(),
                };
                self.store_data_key(sea_orm::ActiveModelTrait::reset_all(data_key::ActiveModel::from(row.clone()))).await?;
                row
            }
        };
        let key = self.unwrap_by_master(&row.wrapped)?;
        self.0.data_keys.write().expect("lock").insert(row.id.clone(), key.clone());
        self.0.active.write().expect("lock").insert(restaurant_id.to_string(), row.id.clone());
        Ok((row.id, key))
    }

    /// Stores a new data or index key (kept if one with its id exists already), after checking
    /// in the same transaction that this service's master key is still the store's: a rotation
    /// of the master key locks the check row first, so no key is ever stored wrapped under a
    /// master key that was just retired.
    async fn store_data_key(&self, row: data_key::ActiveModel) -> DomainResult<()> {
        let txn = crate::tx::begin_write(self.db()?).await?;
        let check = key_check::Entity::find_by_id(1).lock_shared().one(&txn).await?;
        if check.is_some_and(|c| !opens_check(&self.0.master, &c.sealed)) {
            return Err(master_rotated());
        }
        data_key::Entity::insert(row).on_conflict(OnConflict::column(data_key::Column::Id).do_nothing().to_owned()).exec_without_returning(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The deployment's secret `name` (it signs member tokens or unsubscribe links), created
    /// on first use, or from `legacy` (a secret an older version kept in the data). Kept in
    /// the key store wrapped by the master key like a data key, so a backup of the data cannot
    /// sign anything, and a master-key rotation re-wraps it.
    pub async fn service_secret(&self, name: &str, legacy: Option<Key>) -> DomainResult<Key> {
        let db = self.db()?;
        let id = format!("sv-{name}");
        if let Some(row) = data_key::Entity::find_by_id(id.clone()).one(db).await? {
            return self.unwrap_by_master(&row.wrapped);
        }
        let secret = legacy.unwrap_or_else(Key::generate);
        let fresh = data_key::ActiveModel {
            id: Set(id.clone()),
            restaurant_id: Set(String::new()),
            purpose: Set(SECRET_PURPOSE.into()),
            wrapped: Set(self.0.master.wrap(&id, &secret)),
            state: Set("active".into()),
            created_at: Set(Utc::now()),
        };
        self.store_data_key(fresh).await?;
        let row = data_key::Entity::find_by_id(id).one(db).await?.ok_or_else(|| DomainError::internal("service secret vanished"))?;
        self.unwrap_by_master(&row.wrapped)
    }

    /// Whether `key` is the master key this vault was opened with.
    pub fn is_master_key(&self, key: &Key) -> bool {
        *key == self.0.master
    }

    /// A data or index key wrapped by the master key.
    fn unwrap_by_master(&self, wrapped: &str) -> DomainResult<Key> {
        self.0.master.unwrap_key(wrapped).map_err(|e| match e {
            CryptoError::Forged => master_rotated(),
            e => key_error(e),
        })
    }

    /// Forgets which data key is active (after a rotation started elsewhere).
    fn forget_active(&self, restaurant_id: &str) {
        self.0.active.write().expect("lock").remove(restaurant_id);
    }

    /// A new customer key for the restaurant, stored wrapped before it is used.
    pub async fn new_customer_key(&self, restaurant_id: &str) -> DomainResult<CustomerKey> {
        let db = self.db()?;
        for _ in 0..3 {
            let (data_id, data_key) = self.active_data_key(restaurant_id).await?;
            let id = crypto::new_key_id('c');
            let key = Key::generate();
            let row = customer_key::ActiveModel {
                id: Set(id.clone()),
                restaurant_id: Set(restaurant_id.to_string()),
                data_key_id: Set(data_id.clone()),
                wrapped: Set(data_key.wrap(&id, &key)),
                created_at: Set(Utc::now()),
            };
            match customer_key::Entity::insert(row).exec(db).await {
                Ok(_) => {
                    self.remember(restaurant_id, &id, key.clone());
                    return Ok(CustomerKey { id, key });
                }
                // The data key was retired by a rotation meanwhile (the foreign key refuses it).
                Err(_) if self.data_key_retired(&data_id).await? => self.forget_active(restaurant_id),
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::internal("no active data key to wrap a customer key"))
    }

    /// `n` new customer keys for the restaurant, stored wrapped in one statement (the backfill
    /// of values written before encryption).
    pub async fn new_customer_keys(&self, restaurant_id: &str, n: usize) -> DomainResult<Vec<CustomerKey>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let db = self.db()?;
        let (data_id, data_key) = self.active_data_key(restaurant_id).await?;
        let keys: Vec<CustomerKey> = (0..n).map(|_| CustomerKey { id: crypto::new_key_id('c'), key: Key::generate() }).collect();
        let rows = keys.iter().map(|k| customer_key::ActiveModel {
            id: Set(k.id.clone()),
            restaurant_id: Set(restaurant_id.to_string()),
            data_key_id: Set(data_id.clone()),
            wrapped: Set(data_key.wrap(&k.id, &k.key)),
            created_at: Set(Utc::now()),
        });
        customer_key::Entity::insert_many(rows).exec_without_returning(db).await?;
        for k in &keys {
            self.remember(restaurant_id, &k.id, k.key.clone());
        }
        Ok(keys)
    }

    async fn data_key_retired(&self, id: &str) -> DomainResult<bool> {
        let row = data_key::Entity::find_by_id(id).one(self.db()?).await?;
        Ok(row.is_none_or(|r| r.state != "active"))
    }

    fn remember(&self, restaurant_id: &str, id: &str, key: Key) {
        self.0.customer_keys.insert(id.to_string(), (Arc::from(restaurant_id), key));
    }

    /// The restaurant's customer key `id` if it is in memory (no await, no read of the key store).
    pub fn cached_customer_key(&self, restaurant_id: &str, id: &str) -> Option<CustomerKey> {
        self.0.customer_keys.get(id).filter(|(r, _)| &**r == restaurant_id).map(|(_, key)| CustomerKey { id: id.to_string(), key })
    }

    /// The customer key `id` of the restaurant, or `None` when it was erased.
    pub async fn customer_key(&self, restaurant_id: &str, id: &str) -> DomainResult<Option<CustomerKey>> {
        Ok(self.customer_keys(restaurant_id, &[id]).await?.remove(id))
    }

    /// The restaurant's customer keys among `ids` (erased ones are missing), in one read of
    /// the key store for those not in memory.
    pub async fn customer_keys(&self, restaurant_id: &str, ids: &[&str]) -> DomainResult<HashMap<String, CustomerKey>> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match self.cached_customer_key(restaurant_id, id) {
                Some(key) => {
                    found.insert(id.to_string(), key);
                }
                None => missing.push(id.to_string()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        missing.sort_unstable();
        missing.dedup();
        let rows = customer_key::Entity::find()
            .filter(customer_key::Column::RestaurantId.eq(restaurant_id))
            .filter(customer_key::Column::Id.is_in(missing))
            .all(self.db()?)
            .await?;
        for row in rows {
            let data_key = self.data_key(&row.data_key_id).await?;
            let key = data_key.unwrap_key(&row.wrapped).map_err(key_error)?;
            self.remember(restaurant_id, &row.id, key.clone());
            found.insert(row.id.clone(), CustomerKey { id: row.id, key });
        }
        Ok(found)
    }

    async fn data_key(&self, id: &str) -> DomainResult<Key> {
        if let Some(k) = self.0.data_keys.read().expect("lock").get(id) {
            return Ok(k.clone());
        }
        let row = data_key::Entity::find_by_id(id).one(self.db()?).await?.ok_or_else(|| key_error(CryptoError::UnknownKey(id.to_string())))?;
        let key = self.unwrap_by_master(&row.wrapped)?;
        self.0.data_keys.write().expect("lock").insert(id.to_string(), key.clone());
        Ok(key)
    }

    /// Loads customer keys into memory, up to nine tenths of the cache's size (run in the
    /// background at start, so that the first lookups of regulars read no key store). Returns
    /// how many.
    pub async fn warm_up(&self) -> DomainResult<usize> {
        let db = self.db()?;
        let mut loaded = 0;
        let mut after = String::new();
        loop {
            // Keyset pages: each reads from where the last ended (an offset would reread them);
            // small ones, so unwrapping a page holds a runtime thread for well under a
            // millisecond while requests are served.
            let rows = customer_key::Entity::find()
                .filter(customer_key::Column::Id.gt(after.as_str()))
                .order_by_asc(customer_key::Column::Id)
                .limit(500)
                .all(db)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            for row in rows {
                let key = self.data_key(&row.data_key_id).await?.unwrap_key(&row.wrapped).map_err(key_error)?;
                self.remember(&row.restaurant_id, &row.id, key);
                loaded += 1;
            }
            if loaded >= CUSTOMER_KEY_CACHE * 9 / 10 {
                break;
            }
        }
        Ok(loaded)
    }

    /// The restaurants that have keys in the store.
    pub async fn restaurants(&self) -> DomainResult<Vec<String>> {
        let ids: Vec<String> = data_key::Entity::find()
            .select_only()
            .column(data_key::Column::RestaurantId)
            .filter(data_key::Column::Purpose.ne(SECRET_PURPOSE))
            .distinct()
            .into_tuple()
            .all(self.db()?)
            .await?;
        Ok(ids)
    }
}

/// Whether the key check `sealed` opens with `master` (the store's master key).
fn opens_check(master: &Key, sealed: &str) -> bool {
    master.open("check", sealed).ok().as_deref() == Some(CHECK)
}

/// A data key that this service's master key does not open: the master key was rotated.
fn master_rotated() -> DomainError {
    DomainError::internal("key store: this service's master key is no longer the store's (it was rotated): restart the service with the new master key")
}

fn key_error(e: CryptoError) -> DomainError {
    DomainError::internal(format!("key store: {e}"))
}
