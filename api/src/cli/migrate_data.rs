//! `loyalty migrate-data --from URL --to URL`: moves a whole deployment into another database
//! (the SQLite file into PostgreSQL). The source keeps its own key store (`--from-keystore-url`,
//! or its default); the target's is the configured one (`LOYALTY_KEYSTORE_URL`) or the
//! target's default. The target is marked while it fills: a move that fails is undone at once,
//! and one that was killed is undone by the next run before it starts again. Verified at the
//! end: the same rows in every table, every balance equal to its ledger, every member's sealed
//! values open with the target's key store.

use anyhow::{Context as _, bail};
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::db;
use entity::ops::transfer;

/// Runs the move; prints progress on stderr and the outcome on stdout.
pub async fn run(config: &Config, from: &str, to: &str, from_keystore: Option<String>) -> anyhow::Result<()> {
    let mut source_config = config.clone();
    (source_config.database_url, source_config.keystore_url) = (from.to_string(), from_keystore);
    let mut target_config = config.clone();
    target_config.database_url = to.to_string();

    let source = db::connect(&source_config).await.with_context(|| format!("connecting to {}", db::redacted(from)))?;
    db::migrate(&source, &source_config).await.context("bringing the source up to date")?;
    let source_vault = db::open_vault(&source_config, &source).await.context("opening the source's key store")?;
    db::seal_unsealed(&source, &source_vault).await?;

    let target = db::connect(&target_config).await.with_context(|| format!("connecting to {}", db::redacted(to)))?;
    db::migrate(&target, &target_config).await.context("migrating the target")?;
    let target_keys = db::keystore(&target_config).await.context("the target's key store")?;
    if transfer::interrupted(&target).await? {
        eprintln!("the target holds a move that did not finish: undoing it first");
        transfer::undo(&target, &target_keys).await?;
    } else if !transfer::is_empty(&target, &target_keys).await? {
        bail!("the target already holds restaurants, customers or keys: move data into an empty database and key store");
    }
    // What an empty target may hold (its own settings and key check) gives way to the source's.
    transfer::undo(&target, &target_keys).await?;
    transfer::begin(&target).await?;
    match copy(&source, &source_vault, &target, &target_keys).await {
        Ok(rows) => {
            let target_vault = db::open_vault(&target_config, &target).await.context("opening the target's key store")?;
            let opened = transfer::verify_sealed(&target, &target_vault).await.context("opening the moved members with the target's key store")?;
            transfer::finish(&target).await?;
            println!(
                "copied {rows} rows (the keys included); verified: the same rows in every table, every balance equals its ledger, the sealed values of all {opened} customers open"
            );
            Ok(())
        }
        Err(e) => {
            eprintln!("the move failed; undoing what it copied into the target");
            transfer::undo(&target, &target_keys).await.context("undoing the failed move (run it again: it undoes a move left half-done first)")?;
            Err(e)
        }
    }
}

/// Copies the data, then the keys; the number of rows.
async fn copy(
    source: &DatabaseConnection,
    source_vault: &entity::vault::Vault,
    target: &DatabaseConnection,
    target_keys: &DatabaseConnection,
) -> anyhow::Result<u64> {
    let mut last = String::new();
    let copied = transfer::copy_all(source, target, &mut |table, done, total| {
        if table != last || done == total || done % 10_000 == 0 {
            eprintln!("{table}: {done}/{total}");
            last = table.to_string();
        }
    })
    .await?;
    let keys = transfer::copy_keys(source_vault.connection()?, target_keys, &mut |table, done, total| {
        if done == total {
            eprintln!("{table}: {done}/{total}");
        }
    })
    .await?;
    Ok(copied.iter().chain(&keys).map(|c| c.rows).sum())
}
