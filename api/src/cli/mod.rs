//! The `loyalty` command: [`run`] parses the command line and dispatches to one module per
//! command (`serve` is [`crate::startup`]). Every command that needs the data connects and
//! migrates through `connect`.

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::Config;

mod connect;
pub mod export;
pub mod import;
pub mod jobs;
pub mod keys;
pub mod migrate_data;
pub mod model;
pub mod restaurants;
pub mod vault;

/// Customer loyalty & marketing service for restaurants (GraphQL).
#[derive(Parser)]
#[command(name = "loyalty", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve GraphQL (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load a demo restaurant's customers into the configured restaurant.
    DemoData,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// List the scheduled jobs or run one now.
    Jobs {
        #[command(subcommand)]
        action: jobs::JobsCommand,
    },
    /// Print everything held about one customer of --restaurant as JSON.
    ExportCustomer {
        /// The customer's id.
        id: i64,
    },
    /// Bring members from another system into --restaurant.
    Import {
        #[command(subcommand)]
        action: import::ImportCommand,
    },
    /// Write every member or ledger entry of --restaurant out (JSON Lines or CSV).
    Export {
        #[command(subcommand)]
        action: export::ExportCommand,
    },
    /// Fit --restaurant's predictive models (visits and spend) or show the latest fit.
    Model {
        #[command(subcommand)]
        action: model::ModelCommand,
    },
    /// Create, list and revoke API keys.
    Keys {
        #[command(subcommand)]
        action: keys::KeysCommand,
    },
    /// Create, list, show and change restaurants and their settings.
    Restaurants {
        #[command(subcommand)]
        action: restaurants::RestaurantsCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE (also while the service runs).
    /// The copy holds no key: back the key store up apart with --keys.
    Backup {
        file: std::path::PathBuf,
        /// Copy the key store (`<database>.keys`) instead of the data; keep such copies apart
        /// from the data's and only briefly: an erasure reaches a data backup at once, a key
        /// backup only once it is deleted.
        #[arg(long)]
        keys: bool,
    },
    /// Replace the SQLite database with the backup FILE (refused while a service runs on it).
    Restore {
        file: std::path::PathBuf,
        /// Restore the key store from a --keys backup instead of the data.
        #[arg(long)]
        keys: bool,
    },
    /// The keys of personal data.
    DataKeys {
        #[command(subcommand)]
        action: vault::DataKeysCommand,
    },
    /// The master key, which wraps every restaurant's keys.
    MasterKey {
        #[command(subcommand)]
        action: vault::MasterKeyCommand,
    },
    /// Copy every table and the keys from one deployment into another, empty one (e.g. the
    /// SQLite file into PostgreSQL), showing progress, then verify row counts, every balance and
    /// that every member's sealed values open.
    MigrateData {
        /// The source database URL (e.g. sqlite://loyalty.db).
        #[arg(long)]
        from: String,
        /// The target database URL (e.g. postgres://loyalty@db/loyalty); migrated first. Its
        /// key store is LOYALTY_KEYSTORE_URL, or the target's default.
        #[arg(long)]
        to: String,
        /// The source's key store, when not its default (`<file>.keys` beside SQLite).
        #[arg(long)]
        from_keystore_url: Option<String>,
    },
}

/// Parses the command line and runs the command (`serve` when none is given).
pub async fn run() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let restaurant_given = matches!(matches.value_source("restaurant"), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
    let cli = Cli::from_arg_matches(&matches)?;
    let config = cli.config;
    let _telemetry = crate::telemetry::init(config.log_format, config.otlp_endpoint.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::startup::serve(config).await,
        Command::Migrate => {
            let (db, vault) = connect::data_and_keys(&config).await?;
            crate::db::seal_unsealed(&db, &vault).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::DemoData => {
            let (db, vault) = connect::data_and_keys(&config).await?;
            let n = crate::demo::load(&db, &vault, &config).await?;
            println!("demo data loaded: {n} customers in restaurant {:?}", config.restaurant);
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::build_schema(&config, None).sdl());
            Ok(())
        }
        Command::Jobs { action } => jobs::run(&config, action, restaurant_given).await,
        Command::ExportCustomer { id } => {
            let (db, vault) = connect::data_and_keys(&config).await?;
            let scope = entity::Scope::new(config.restaurant.clone(), "cli", vault);
            let doc = entity::ops::privacy::export(&db, &scope, id).await?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(())
        }
        Command::Import { action } => import::run(&config, action).await,
        Command::Export { action } => export::run(&config, action).await,
        Command::Model { action } => model::run(&config, action).await,
        Command::Keys { action } => keys::run(&config, action).await,
        Command::Restaurants { action } => restaurants::run(&config, action).await,
        Command::Backup { file, keys } => {
            let bytes = crate::db::backup(&config, &file, keys).await?;
            println!("backed up {} to {} ({bytes} bytes)", if keys { "the key store" } else { "the data" }, file.display());
            Ok(())
        }
        Command::Restore { file, keys } => {
            crate::db::restore(&config, &file, keys).await?;
            println!("restored from {}; start the service to use it", file.display());
            Ok(())
        }
        Command::DataKeys { action: vault::DataKeysCommand::Rotate { batch } } => vault::rotate_data_keys(&config, batch, restaurant_given).await,
        Command::MasterKey { action } => vault::rotate_master_key(&config, action).await,
        Command::MigrateData { from, to, from_keystore_url } => migrate_data::run(&config, &from, &to, from_keystore_url).await,
    }
}
