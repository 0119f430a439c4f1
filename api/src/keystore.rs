//! The PostgreSQL key store's own database: created beside the data's on first start, and the
//! keys of a deployment that kept them in the data's database (the layout of earlier versions)
//! moved into it, so that a `pg_dump` of the data carries no key.

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, Statement};

use entity::entities::{data_key, key_check};

/// Creates the database `name` on the server of `data_url` unless it exists (replicas starting
/// together may race: the loser's "already exists" is no error).
pub async fn create_database(data_url: &str, name: &str) -> anyhow::Result<()> {
    let db = Database::connect(data_url).await.context("connecting to the database")?;
    let exists =
        db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, "SELECT 1 FROM pg_database WHERE datname = $1", [name.into()])).await?.is_some();
    if !exists {
        let created = db.execute_unprepared(&format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""))).await;
        if let Err(e) = created {
            let text = e.to_string();
            if !text.contains("already exists") && !text.contains("pg_database_datname_index") {
                return Err(e).with_context(|| format!("creating the key store's database {name} (or create it yourself, or set LOYALTY_KEYSTORE_URL)"));
            }
        } else {
            println!("created the key store's database {name}: back it up apart from the data, and keep its backups briefly");
        }
    }
    db.close().await?;
    Ok(())
}

/// Moves keys kept in the data's own database into `store`: copied and verified, then the
/// key tables dropped from the data. An interrupted move is finished at the next start (the
/// store then holds the same key check as the data's leftover tables).
pub async fn move_out_of_data(data_url: &str, store: &DatabaseConnection) -> anyhow::Result<()> {
    let data = Database::connect(data_url).await.context("connecting to the database")?;
    let legacy = data.query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT to_regclass('key_checks') IS NOT NULL")).await?;
    if !legacy.map(|r| r.try_get_by_index::<bool>(0)).transpose()?.unwrap_or(false) {
        return Ok(data.close().await?);
    }
    let (theirs, ours) = (key_check::Entity::find_by_id(1).one(&data).await?, key_check::Entity::find_by_id(1).one(store).await?);
    match (&theirs, &ours) {
        (Some(_), None) => {
            let copied = entity::ops::transfer::copy_keys(&data, store, &mut |_, _, _| {}).await?;
            let keys: u64 = copied.iter().map(|c| c.rows).sum();
            println!("moved {keys} keys out of the data's database into the key store's own database");
        }
        (Some(t), Some(o)) if t.sealed == o.sealed && data_key::Entity::find().count(&data).await? == data_key::Entity::find().count(store).await? => {}
        (None, _) => {}
        (Some(_), Some(_)) => bail!(
            "the data's database holds key tables of its own and the key store's database holds other keys: \
             set LOYALTY_KEYSTORE_URL to the one that belongs to this data"
        ),
    }
    data.execute_unprepared("DROP TABLE IF EXISTS customer_keys, data_keys, key_checks, seaql_keystore_migrations").await?;
    Ok(data.close().await?)
}
