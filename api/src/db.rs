//! Database connection and migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::Config;

/// Connects with the configured pool. SQLite runs in WAL mode with a busy timeout, so readers
/// never block and writers queue instead of failing; the file is created if missing.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.pool_size())
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Applies pending migrations, then gives every restaurant that has keys or customers but no
/// settings row one with the configured defaults (a migration cannot know them). Returns
/// whether the database was brand new (no migration had been applied).
pub async fn migrate(db: &DatabaseConnection, config: &Config) -> anyhow::Result<bool> {
    let fresh = Migrator::get_pending_migrations(db).await?.len() == Migrator::migrations().len();
    Migrator::up(db, None).await?;
    config.check_restaurant_defaults().map_err(|e| anyhow::anyhow!("the defaults for new restaurants are invalid: {e}"))?;
    for id in entity::ops::restaurants::ensure_known(db, &config.restaurant_defaults()).await? {
        tracing::info!(restaurant = %id, "restaurant given the default settings");
    }
    Ok(fresh)
}
