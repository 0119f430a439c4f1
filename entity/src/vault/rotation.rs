//! Destroying and rotating keys: a customer's key on erasure (with, on SQLite, what the
//! write-ahead log still holds of it), a restaurant's data key (customer keys re-wrapped in
//! batches while the service serves) and the master key (every restaurant key re-wrapped in one
//! transaction).

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::crypto::Key;
use super::{CHECK, SECRET_PURPOSE, Vault, key_error};
use crate::entities::{customer_key, data_key, key_check};
use crate::{DomainError, DomainResult};

impl Vault {
    /// Destroys customer key `id`: every value sealed under it, in this database and in every
    /// copy of it, can no longer be opened. On SQLite the key store zeroes what a delete frees
    /// (`secure_delete`), and the write-ahead log, which still holds the key's earlier pages, is
    /// checkpointed and truncated before this returns.
    pub async fn shred(&self, restaurant_id: &str, id: &str) -> DomainResult<()> {
        let db = self.db()?;
        customer_key::Entity::delete_many()
            .filter(customer_key::Column::RestaurantId.eq(restaurant_id))
            .filter(customer_key::Column::Id.eq(id))
            .exec(db)
            .await?;
        self.0.customer_keys.remove(id);
        if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            truncate_wal(db).await?;
        }
        Ok(())
    }

    /// Re-wraps every data and index key of every restaurant under `new` and seals the key
    /// check with it, in one transaction of the key store: from its commit on, `new` is the
    /// master key and the old one opens nothing. Customer keys and the data are not touched, so
    /// it takes as long as there are restaurants. Returns how many keys were re-wrapped.
    pub async fn rotate_master(&self, new: &Key) -> DomainResult<u64> {
        use sea_orm::sea_query::Expr;
        let txn = crate::tx::begin_write(self.db()?).await?;
        // The check row first: it is what key creation on other services waits for.
        key_check::Entity::update_many()
            .col_expr(key_check::Column::Sealed, Expr::value(new.seal("master", "check", CHECK)))
            .filter(key_check::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        let rows = data_key::Entity::find().all(&txn).await?;
        for row in &rows {
            let key = self.unwrap_by_master(&row.wrapped)?;
            data_key::Entity::update_many()
                .col_expr(data_key::Column::Wrapped, Expr::value(new.wrap(&row.id, &key)))
                .filter(data_key::Column::Id.eq(&row.id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(rows.iter().filter(|r| r.purpose != SECRET_PURPOSE).count() as u64)
    }

    /// Rotates the restaurant's data key: a new key becomes active, every customer key is
    /// re-wrapped under it in batches of `batch` (`progress` told the count after each), then
    /// the old keys are deleted. Resumable: a rerun finishes what an interrupted one began.
    /// Values stay readable throughout (a customer key opens under the old or the new data key).
    pub async fn rotate(&self, restaurant_id: &str, batch: u64, mut progress: impl FnMut(u64)) -> DomainResult<u64> {
        let db = self.db()?;
        let old: Vec<String> = data_key::Entity::find()
            .select_only()
            .column(data_key::Column::Id)
            .filter(data_key::Column::RestaurantId.eq(restaurant_id))
            .filter(data_key::Column::Purpose.eq("data"))
            .into_tuple()
            .all(db)
            .await?;
        data_key::Entity::update_many()
            .col_expr(data_key::Column::State, sea_orm::sea_query::Expr::value("retiring"))
            .filter(data_key::Column::Id.is_in(old.clone()))
            .exec(db)
            .await?;
        self.forget_active(restaurant_id);
        let (new_id, new_key) = self.active_data_key(restaurant_id).await?;
        let mut done = 0;
        loop {
            let rows = wrapped_elsewhere(restaurant_id, &new_id).order_by_asc(customer_key::Column::Id).limit(batch).all(db).await?;
            if rows.is_empty() {
                let left =
                    data_key::Entity::delete_many().filter(data_key::Column::Id.is_in(old.clone())).filter(data_key::Column::Id.ne(&new_id)).exec(db).await;
                match left {
                    Ok(_) => break,
                    // A customer key was wrapped under an old key meanwhile and the foreign key
                    // refused the delete (SQLite reports it with more than one code): re-wrap it.
                    Err(_) if self.some_wrapped_elsewhere(restaurant_id, &new_id).await? => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            for row in rows {
                let key = self.data_key(&row.data_key_id).await?.unwrap_key(&row.wrapped).map_err(key_error)?;
                let rewrapped = new_key.wrap(&row.id, &key);
                customer_key::Entity::update_many()
                    .col_expr(customer_key::Column::Wrapped, sea_orm::sea_query::Expr::value(rewrapped))
                    .col_expr(customer_key::Column::DataKeyId, sea_orm::sea_query::Expr::value(new_id.clone()))
                    .filter(customer_key::Column::Id.eq(&row.id))
                    .filter(customer_key::Column::DataKeyId.eq(&row.data_key_id))
                    .exec(db)
                    .await?;
                done += 1;
            }
            progress(done);
        }
        let mut cached = self.0.data_keys.write().expect("lock");
        for id in old.iter().filter(|id| **id != new_id) {
            cached.remove(id);
        }
        Ok(done)
    }

    /// Whether any of the restaurant's customer keys is still wrapped under another data key
    /// than `active`.
    async fn some_wrapped_elsewhere(&self, restaurant_id: &str, active: &str) -> DomainResult<bool> {
        let found = wrapped_elsewhere(restaurant_id, active).select_only().column(customer_key::Column::Id).into_tuple::<String>().one(self.db()?).await?;
        Ok(found.is_some())
    }
}

/// Checkpoints SQLite's write-ahead log into the database and truncates it, waiting for
/// readers that still use older frames (up to ten tries a tenth of a second apart).
async fn truncate_wal(db: &DatabaseConnection) -> DomainResult<()> {
    use sea_orm::{ConnectionTrait, Statement};
    for _ in 0..10 {
        let row = db.query_one_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA wal_checkpoint(TRUNCATE)")).await?;
        let busy: i32 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
        if busy == 0 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(DomainError::internal("key store: the write-ahead log could not be truncated after an erasure (readers held it)"))
}

/// The restaurant's customer keys wrapped under another data key than `active` (what a
/// rotation still has to re-wrap).
fn wrapped_elsewhere(restaurant_id: &str, active: &str) -> sea_orm::Select<customer_key::Entity> {
    customer_key::Entity::find().filter(customer_key::Column::RestaurantId.eq(restaurant_id)).filter(customer_key::Column::DataKeyId.ne(active))
}
