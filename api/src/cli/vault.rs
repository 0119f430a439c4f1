//! `loyalty data-keys rotate` and `loyalty master-key rotate`: the keys of personal data.

use clap::Subcommand;
use entity::ops::restaurants;

use crate::config::Config;

#[derive(Subcommand)]
pub enum DataKeysCommand {
    /// Give every restaurant (or --restaurant) a new data key and re-wrap each customer key
    /// under it in batches, while the service serves; the old keys are then deleted. Also seals
    /// values written before encryption. Resumable: run it again after an interruption.
    Rotate {
        /// Customer keys re-wrapped per batch.
        #[arg(long, default_value_t = 500)]
        batch: u64,
    },
}

#[derive(Subcommand)]
pub enum MasterKeyCommand {
    /// Re-wrap every restaurant's keys under a new master key, in one transaction (as quick with
    /// a million customers as with ten). A key file in use (the embedded default's, or
    /// LOYALTY_MASTER_KEY_FILE) is replaced by the new key; with LOYALTY_MASTER_KEY, name the
    /// new key's file with --new-key-file. Then restart every service with the new key.
    Rotate {
        /// The new key's file: read if it exists, else created (owner-only) with a new key.
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<std::path::PathBuf>,
    },
}

/// Rotates the data keys of every restaurant, or of --restaurant when `restaurant_given`.
pub async fn rotate_data_keys(config: &Config, batch: u64, restaurant_given: bool) -> anyhow::Result<()> {
    let (db, vault) = super::connect::data_and_keys(config).await?;
    crate::db::seal_unsealed(&db, &vault).await?;
    let mut targets: Vec<String> = restaurants::list(&db).await?.into_iter().map(|r| r.id).collect();
    for id in vault.restaurants().await? {
        if !targets.contains(&id) {
            targets.push(id);
        }
    }
    if restaurant_given {
        targets.retain(|id| *id == config.restaurant);
    }
    for id in &targets {
        let n = vault.rotate(id, batch.max(1), |done| eprintln!("restaurant {id}: {done} customer keys re-wrapped")).await?;
        println!("restaurant {id}: new data key, {n} customer keys re-wrapped, old keys deleted");
    }
    Ok(())
}

/// Rotates the master key.
pub async fn rotate_master_key(config: &Config, MasterKeyCommand::Rotate { new_key_file }: MasterKeyCommand) -> anyhow::Result<()> {
    let (n, file) = crate::db::rotate_master_key(config, new_key_file.as_deref()).await?;
    println!("master key rotated: {n} restaurant keys re-wrapped; the new key is in {}", file.display());
    println!("restart every service with it (running ones keep working with the keys they hold, but open no new restaurant key until restarted)");
    Ok(())
}
