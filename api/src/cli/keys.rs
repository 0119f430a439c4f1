//! `loyalty keys create | list | revoke`: API keys of --restaurant.

use clap::Subcommand;
use entity::entities::Role;
use entity::ops::{keys, restaurants};

use crate::config::Config;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key for --restaurant and print it (it is shown only this once).
    Create {
        /// viewer (read), staff (read and write), marketer (campaigns and segments) or admin (everything, keys too).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// What the key is for.
        #[arg(long, default_value = "created with the CLI")]
        name: String,
    },
    /// List the keys of --restaurant (of every restaurant with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Revoke a key by its prefix (as `keys list` shows it).
    Revoke { prefix: String },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::from_label(text).ok_or_else(|| format!("unknown role {text:?}: viewer, staff, marketer or admin"))
}

/// Runs the command.
pub async fn run(config: &Config, action: KeysCommand) -> anyhow::Result<()> {
    let db = super::connect::data(config).await?;
    match action {
        KeysCommand::Create { role, name } => {
            if restaurants::ensure(&db, &config.restaurant, &config.restaurant_defaults()).await? {
                eprintln!("restaurant {:?} created with the default settings (`loyalty restaurants update` changes them)", config.restaurant);
            }
            let (row, key) = keys::create(&db, &config.restaurant, role, &name, "cli").await?;
            eprintln!("created {} key {} for restaurant {:?}; it is shown only now:", row.role.label(), row.prefix, row.restaurant_id);
            println!("{key}");
        }
        KeysCommand::List { all } => {
            for k in keys::list(&db, (!all).then_some(config.restaurant.as_str())).await? {
                let state = k.revoked_at.map_or("active".to_string(), |at| format!("revoked {at}"));
                println!("{:<14} {:<16} {:<7} {:<28} {}", k.prefix, k.restaurant_id, k.role.label(), state, k.name);
            }
        }
        KeysCommand::Revoke { prefix } => {
            let k = keys::revoke(&db, None, &prefix, "cli").await?;
            println!("revoked {} ({} key of {:?})", k.prefix, k.role.label(), k.restaurant_id);
        }
    }
    Ok(())
}
