//! Connecting for a command: the data, migrated, and its key store.

use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::config::Config;

/// The configured database, connected and migrated.
pub async fn data(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = crate::db::connect(config).await.context("connecting to the database")?;
    crate::db::migrate(&db, config).await.context("applying migrations")?;
    Ok(db)
}

/// The configured database, connected and migrated, and its key store opened.
pub async fn data_and_keys(config: &Config) -> anyhow::Result<(DatabaseConnection, entity::vault::Vault)> {
    let db = data(config).await?;
    let vault = crate::db::open_vault(config, &db).await?;
    Ok((db, vault))
}
