//! Database connection and migrations, and the embedded database's backup and restore.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

use entity::vault::crypto::Key;
use entity::vault::{Vault, VaultError};

use crate::config::Config;

/// Connects with the configured pool. SQLite runs in WAL mode with a busy timeout, so readers
/// never block and writers queue instead of failing; the file is created if missing.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    connect_url(&config.database_url, config.pool_size()).await
}

async fn connect_url(url: &str, pool: u32) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, pool, false).await
}

/// Connects to `url`; with `secure_delete`, SQLite overwrites what a delete frees (the key
/// store: an erased customer's key must not linger in free pages).
async fn connect_with(url: &str, pool: u32, secure_delete: bool) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url) {
        owner_only(&path).map_err(|e| DbErr::Custom(format!("making {} owner-only: {e}", path.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(pool)
        .min_connections(1)
        .acquire_timeout(entity::ops::settled::POOL_WAIT)
        // sqlx pings a pooled connection on every checkout by default: one more round trip per
        // request. Only connections idle long enough to have been dropped are pinged; a broken
        // busy one fails its statement and is discarded.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(entity::ops::settled::SQLITE_BUSY)
                .foreign_keys(true)
                .pragma("secure_delete", if secure_delete { "ON" } else { "OFF" })
        });
    Database::connect(options).await
}

/// Applies pending migrations, then gives every restaurant that has keys or customers but no
/// settings row one with the configured defaults, and every restaurant the built-in campaign
/// rows it lacks (a migration cannot know either). Returns
/// whether the database was brand new (no migration had been applied).
pub async fn migrate(db: &DatabaseConnection, config: &Config) -> anyhow::Result<bool> {
    let fresh = Migrator::get_pending_migrations(db).await?.len() == Migrator::migrations().len();
    Migrator::up(db, None).await?;
    config.check_restaurant_defaults().map_err(|e| anyhow::anyhow!("the defaults for new restaurants are invalid: {e}"))?;
    for id in entity::ops::restaurants::ensure_known(db, &config.restaurant_defaults()).await? {
        tracing::info!(restaurant = %id, "restaurant given the default settings");
    }
    let written = entity::marketing::builtins::install_everywhere(db).await?;
    if written > 0 {
        tracing::info!(rows = written, "built-in campaign rows written for restaurants from before they came with them");
    }
    let refreshed = entity::marketing::builtins::refresh_wording(db).await?;
    if refreshed > 0 {
        tracing::info!(rows = refreshed, "built-in campaigns nobody edited moved to today's default wording");
    }
    Ok(fresh)
}

/// The key store's URL: the configured one; by default the file `<database>.keys` beside a
/// SQLite database, and the database `<name>_keys` on the same PostgreSQL server (created when
/// missing), so that a backup of the data never carries the keys that erasure destroys.
pub fn keystore_url(config: &Config) -> String {
    if let Some(url) = &config.keystore_url {
        return url.clone();
    }
    match sqlite_path(&config.database_url) {
        Some(p) => format!("sqlite://{}.keys?mode=rwc", p.display()),
        None => with_database(&config.database_url, &format!("{}_keys", database_name(&config.database_url))),
    }
}

/// The database name of a PostgreSQL URL.
fn database_name(url: &str) -> &str {
    let path = url.split('?').next().unwrap_or_default();
    let after_host = path.split_once("://").map_or(path, |(_, rest)| rest);
    after_host.split_once('/').map_or("postgres", |(_, name)| name)
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let head = match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or_default()),
        None => base.to_string(),
    };
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

/// The default master key file beside a SQLite database.
fn default_key_file(config: &Config) -> Option<PathBuf> {
    sqlite_path(&config.database_url).map(|p| PathBuf::from(format!("{}.master-key", p.display())))
}

/// Connects to the key store (the data's connection when they are one database), applies its
/// migrations and opens it with the master key; refuses a missing or wrong key, and a key store
/// that is not the data's (`data`): an empty one while the data holds sealed values, or one the
/// data was not bound to. On the embedded default's first start, creates the master key file
/// (owner-only) and says so. A master-key rotation interrupted between its commit and the
/// replacement of the key file is finished here (the new key waits beside the file as
/// `<file>.new`).
pub async fn open_vault(config: &Config, data: &DatabaseConnection) -> anyhow::Result<Vault> {
    let store = keystore(config).await?;
    let where_keys = format!("the key store {}", redacted(&keystore_url(config)));
    if !keystore_in_use(&store).await? && entity::ops::service::holds_sealed(data).await? {
        bail!(
            "{where_keys} is empty, but the data holds sealed personal values: refusing to start, since a new key store would leave every member unreadable. \
             Restore the key store that belongs to this data (`loyalty restore --keys FILE` for the embedded default, or set LOYALTY_KEYSTORE_URL to it)"
        );
    }
    let vault = unlock(config, store).await?;
    if !entity::ops::service::bound_to(data, &vault).await? {
        bail!(
            "{where_keys} belongs to other data (its binding does not match this database's): refusing to start. \
             Point LOYALTY_KEYSTORE_URL at this data's key store, or restore it (`loyalty restore --keys FILE`)"
        );
    }
    Ok(vault)
}

/// Opens `store` with the configured master key (see [`open_vault`]).
async fn unlock(config: &Config, store: DatabaseConnection) -> anyhow::Result<Vault> {
    let file = master_key_file(config);
    let master = match (config.master_key.as_ref().filter(|k| !k.is_empty()), &file) {
        (Some(text), _) => Some(Key::parse(text).context("LOYALTY_MASTER_KEY")?),
        (None, Some(file)) if file.exists() || config.master_key_file.is_some() => Some(read_key_file(file)?),
        (None, Some(file)) if !keystore_in_use(&store).await? => {
            let key = Key::generate();
            write_key_file(file, &key)?;
            println!(
                "created the master key file {} (owner-only): keep it safe and apart from backups; without it the personal data cannot be read",
                file.display()
            );
            Some(key)
        }
        (None, _) => None,
    };
    match Vault::open(store.clone(), master).await {
        Err(VaultError::WrongMasterKey) if file.as_ref().is_some_and(|f| staged_key_file(f).exists()) => {
            let file = file.expect("checked above");
            let staged = staged_key_file(&file);
            let vault = Vault::open(store, Some(read_key_file(&staged)?)).await?;
            std::fs::rename(&staged, &file).with_context(|| format!("replacing {} by {}", file.display(), staged.display()))?;
            println!("finished an interrupted master key rotation: {} now holds the new key", file.display());
            Ok(vault)
        }
        opened => Ok(opened?),
    }
}

/// The file the master key is read from: LOYALTY_MASTER_KEY_FILE, or the embedded default's
/// file beside the database; `None` when the key is given in LOYALTY_MASTER_KEY.
fn master_key_file(config: &Config) -> Option<PathBuf> {
    if config.master_key.as_ref().is_some_and(|k| !k.is_empty()) {
        return None;
    }
    config.master_key_file.clone().or_else(|| default_key_file(config))
}

/// Where a rotation writes the new master key before it replaces `file` with it.
fn staged_key_file(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Rotates the master key: every restaurant's keys are re-wrapped under a new one in one
/// transaction of the key store. The new key is read from `new_key_file` (created owner-only
/// when missing); without it, the key file in use is replaced by a new key (written beside it
/// first, so an interruption loses nothing: see [`open_vault`]). Returns how many keys were
/// re-wrapped and the file holding the new key.
pub async fn rotate_master_key(config: &Config, new_key_file: Option<&Path>) -> anyhow::Result<(u64, PathBuf)> {
    let data = connect(config).await.context("connecting to the database")?;
    let vault = open_vault(config, &data).await?;
    data.close().await?;
    let (new, file, staged) = match (new_key_file, master_key_file(config)) {
        (Some(file), _) => {
            let key = if file.exists() {
                read_key_file(file)?
            } else {
                let key = Key::generate();
                write_key_file(file, &key)?;
                key
            };
            (key, file.to_path_buf(), None)
        }
        (None, Some(file)) => {
            let staged = staged_key_file(&file);
            // The current key opened the store, so a staged key left here was never committed.
            let _ = std::fs::remove_file(&staged);
            let key = Key::generate();
            write_key_file(&staged, &key)?;
            (key, file, Some(staged))
        }
        (None, None) => bail!("the master key is given in LOYALTY_MASTER_KEY: name a file for the new one with --new-key-file FILE (created if missing)"),
    };
    if vault.is_master_key(&new) {
        bail!("{} holds the master key in use already: give a new key", file.display());
    }
    let n = vault.rotate_master(&new).await?;
    if let Some(staged) = staged {
        std::fs::rename(&staged, &file)
            .with_context(|| format!("replacing {} by {} (the store is sealed under the new key: move it there by hand)", file.display(), staged.display()))?;
    }
    Ok((n, file))
}

/// The key store's connection pool, migrated: its own pool even when it is the data's
/// database, so that a key read or made inside a write transaction never waits for a
/// connection that transactions hold.
pub async fn keystore(config: &Config) -> anyhow::Result<DatabaseConnection> {
    use migration::keystore::KeystoreMigrator;
    let url = keystore_url(config);
    let default_pg = config.keystore_url.is_none() && sqlite_path(&config.database_url).is_none();
    if default_pg {
        crate::keystore::create_database(&config.database_url, database_name(&url)).await?;
    }
    let store = connect_with(&url, config.pool_size(), true).await.with_context(|| format!("connecting to the key store {}", redacted(&url)))?;
    KeystoreMigrator::up(&store, None).await.context("applying the key store's migrations")?;
    if default_pg {
        crate::keystore::move_out_of_data(&config.database_url, &store).await?;
    }
    Ok(store)
}

/// Seals the personal values written before encryption (once, after the migration that
/// brought it), restaurant by restaurant in batches, logging progress.
pub async fn seal_unsealed(db: &DatabaseConnection, vault: &Vault) -> anyhow::Result<u64> {
    let mut total = 0;
    for r in entity::ops::restaurants::list(db).await? {
        let scope = entity::Scope::new(r.id.clone(), "encryption", vault.clone());
        let mut after = 0;
        while let (n, Some(last)) = entity::ops::customers::personal::seal_unsealed(db, &scope, after, 1_000).await? {
            after = last;
            total += n;
            tracing::info!(restaurant = %r.id, sealed = total, "sealing personal data written before encryption");
        }
    }
    if total > 0 {
        // Every sealed row was rewritten: give PostgreSQL's planner fresh statistics and its
        // space back now rather than when autovacuum comes round.
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("VACUUM (ANALYZE) customers").await?;
        }
        println!("sealed the personal data of {total} customers written before encryption");
    }
    Ok(total)
}

async fn keystore_in_use(store: &DatabaseConnection) -> anyhow::Result<bool> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    Ok(entity::entities::key_check::Entity::find().count(store).await? > 0)
}

fn read_key_file(file: &Path) -> anyhow::Result<Key> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading the master key file {}", file.display()))?;
    Key::parse(&text).with_context(|| format!("the master key file {}", file.display()))
}

fn write_key_file(file: &Path, key: &Key) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(file).with_context(|| format!("creating the master key file {}", file.display()))?;
    writeln!(f, "{}", key.to_hex())?;
    f.sync_all()?;
    Ok(())
}

/// Creates the SQLite file `path` readable by its owner only (SQLite gives its write-ahead log
/// the same mode), or takes group and world access away from one that has it.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Err(e) = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
                    && e.kind() != std::io::ErrorKind::AlreadyExists
                {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
            Ok(meta) => {
                for side in ["", "-wal", "-shm"] {
                    let mut file = path.as_os_str().to_owned();
                    file.push(side);
                    let file = PathBuf::from(file);
                    let mode = if side.is_empty() { meta.permissions().mode() } else { std::fs::metadata(&file).map_or(0, |m| m.permissions().mode()) };
                    if mode & 0o077 != 0 {
                        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The file of a `sqlite:` database URL (`None` for other databases and in-memory ones).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The lock file beside a SQLite database: every running service holds it shared, `restore`
/// exclusively.
fn lock_file(db: &Path) -> std::io::Result<File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    OpenOptions::new().create(true).truncate(false).write(true).open(PathBuf::from(name))
}

/// Marks the SQLite database as served for as long as the returned file lives (`None` for
/// PostgreSQL), so that `restore` refuses to overwrite it.
pub fn hold_serving_lock(config: &Config) -> anyhow::Result<Option<File>> {
    let Some(path) = sqlite_path(&config.database_url) else { return Ok(None) };
    let file = lock_file(&path).with_context(|| format!("creating the lock file beside {}", path.display()))?;
    file.lock_shared().with_context(|| format!("locking {}", path.display()))?;
    Ok(Some(file))
}

/// Writes a consistent copy of the SQLite database to `to` while the service may be serving
/// (`VACUUM INTO`: one read transaction, so the copy is the database at one instant); returns
/// its size in bytes.
pub async fn backup(config: &Config, to: &Path, keys: bool) -> anyhow::Result<u64> {
    if sqlite_path(&config.database_url).is_none() {
        bail!("`loyalty backup` copies the embedded SQLite database; for PostgreSQL use pg_dump or point-in-time recovery (see docs/deployment.md)");
    }
    let url = if keys { keystore_url(config) } else { config.database_url.clone() };
    if sqlite_path(&url).is_none() {
        bail!("the key store is not a SQLite file: back it up with its own database's tools");
    }
    if to.exists() {
        bail!("{} exists already: choose a new file (a backup never overwrites one)", to.display());
    }
    let target = to.to_str().context("the backup path must be valid UTF-8")?;
    // Created empty and owner-only first: `VACUUM INTO` fills an empty file.
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(to).with_context(|| format!("creating {}", to.display()))?;
    let copied = async {
        let db = connect_url(&url, 1).await.context("connecting to the database")?;
        db.execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''"))).await.context("writing the backup")?;
        Ok::<_, anyhow::Error>(db.close().await?)
    };
    if let Err(e) = copied.await {
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    Ok(std::fs::metadata(to)?.len())
}

/// Replaces the SQLite database with the backup `from`, after checking the backup is a sound
/// loyalty database; refuses while a service runs on the database.
pub async fn restore(config: &Config, from: &Path, keys: bool) -> anyhow::Result<()> {
    let Some(data) = sqlite_path(&config.database_url) else {
        bail!("`loyalty restore` restores the embedded SQLite database; for PostgreSQL use pg_restore (see docs/deployment.md)");
    };
    let path = if keys { sqlite_path(&keystore_url(config)).context("the key store is not a SQLite file")? } else { data.clone() };
    let migrations_table = if keys { "seaql_keystore_migrations" } else { "seaql_migrations" };
    if !from.is_file() {
        bail!("{} is not a file", from.display());
    }
    let lock = lock_file(&data).with_context(|| format!("creating the lock file beside {}", data.display()))?;
    if lock.try_lock().is_err() {
        bail!("refusing to restore: a loyalty service is running on {} (stop every one first)", data.display());
    }
    let source = Database::connect(format!("sqlite://{}?mode=ro", from.display())).await.with_context(|| format!("opening {}", from.display()))?;
    let check = source.query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check")).await;
    let sound = matches!(&check, Ok(Some(row)) if row.try_get_by_index::<String>(0).is_ok_and(|v| v == "ok"));
    let migrations = source.query_one_raw(Statement::from_string(DbBackend::Sqlite, format!("SELECT COUNT(*) FROM {migrations_table}"))).await;
    source.close().await?;
    if !sound || migrations.is_err() {
        bail!("{} is not a sound loyalty database (integrity check or migrations table missing)", from.display());
    }
    let staging = path.with_extension("restoring");
    std::fs::copy(from, &staging).with_context(|| format!("copying {}", from.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(&staging, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&staging, &path).with_context(|| format!("replacing {}", path.display()))?;
    drop(lock);
    Ok(())
}

/// A database URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}
