//! `loyalty`: the loyalty service and its tools.

use anyhow::Context as _;
use api::config::Config;
use clap::builder::TypedValueParser as _;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use entity::Scope;
use entity::entities::{Role, RunTrigger, restaurant};
use entity::ops::keys;
use entity::ops::restaurants::{self, RestaurantPatch};

/// mimalloc instead of glibc's allocator: per-thread free lists, no arena lock waits and no
/// consolidation passes over freed chunks, which cost a list of sealed values about a third of
/// its CPU under glibc (BENCHMARKS.md, "What sealing personal data costs").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        action: JobsCommand,
    },
    /// Print everything held about one customer of --restaurant as JSON.
    ExportCustomer {
        /// The customer's id.
        id: i64,
    },
    /// Create, list and revoke API keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Create, list, show and change restaurants and their settings.
    Restaurants {
        #[command(subcommand)]
        action: RestaurantsCommand,
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
        action: DataKeysCommand,
    },
    /// The master key, which wraps every restaurant's keys.
    MasterKey {
        #[command(subcommand)]
        action: MasterKeyCommand,
    },
    /// Copy every table from one database into another, empty one (e.g. the SQLite file into
    /// PostgreSQL), showing progress, then verify row counts and every balance.
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

#[derive(Subcommand)]
enum DataKeysCommand {
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
enum MasterKeyCommand {
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

#[derive(Subcommand)]
enum RestaurantsCommand {
    /// Create a restaurant with the configured defaults, changed by --set.
    Create {
        /// The restaurant's id (the slug its keys carry), e.g. harbour-bistro.
        id: String,
        /// A setting as FIELD=VALUE, named as in GraphQL's RestaurantInput (e.g.
        /// name="Harbour Bistro", timezone=Pacific/Auckland, pointsPerDollar=2,
        /// tierDiscounts.gold=12, schedule.birthday=08:30); repeatable.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// List every restaurant.
    List,
    /// Print a restaurant's settings as JSON (default: --restaurant).
    Show { id: Option<String> },
    /// Change settings of a restaurant (default: --restaurant) with --set FIELD=VALUE.
    Update {
        id: Option<String>,
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
    },
}

/// Builds a settings patch from `FIELD=VALUE` pairs (`a.b=v` for nested fields); values that
/// read as JSON numbers are numbers, everything else is text.
fn patch_from(pairs: &[String]) -> anyhow::Result<RestaurantPatch> {
    let mut doc = serde_json::Map::new();
    for pair in pairs {
        let (field, value) = pair.split_once('=').with_context(|| format!("{pair:?}: expected FIELD=VALUE"))?;
        let value = match value.parse::<i64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => serde_json::Value::from(value),
        };
        match field.split_once('.') {
            Some((outer, inner)) => {
                let entry = doc.entry(outer.to_string()).or_insert_with(|| serde_json::json!({}));
                entry.as_object_mut().with_context(|| format!("{outer} is not a group of settings"))?.insert(inner.to_string(), value);
            }
            None => {
                doc.insert(field.to_string(), value);
            }
        }
    }
    serde_json::from_value(serde_json::Value::Object(doc)).context("unknown setting (see `loyalty restaurants create --help`)")
}

fn print_restaurant(r: &restaurant::Model) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(r)?);
    Ok(())
}

#[derive(Subcommand)]
enum KeysCommand {
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

#[derive(Subcommand)]
enum JobsCommand {
    /// List the jobs with their schedules.
    List,
    /// Run one job now for --restaurant (every restaurant when none is given) and print its
    /// report as JSON.
    Run {
        /// The job to run.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(jobs::Job::ALL.map(jobs::Job::name)).map(|name| name.parse::<jobs::Job>().expect("a listed job")))]
        job: jobs::Job,
        /// Change and send nothing; list who would be changed or emailed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let restaurant_given = matches!(matches.value_source("restaurant"), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
    let cli = Cli::from_arg_matches(&matches)?;
    let config = cli.config;
    let _telemetry = api::telemetry::init(config.log_format, config.otlp_endpoint.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => api::serve(config).await,
        Command::Backup { file, keys } => {
            let bytes = api::db::backup(&config, &file, keys).await?;
            let what = if keys { "the key store" } else { "the data" };
            println!("backed up {what} to {} ({bytes} bytes)", file.display());
            Ok(())
        }
        Command::Restore { file, keys } => {
            api::db::restore(&config, &file, keys).await?;
            println!("restored from {}; start the service to use it", file.display());
            Ok(())
        }
        Command::DataKeys { action: DataKeysCommand::Rotate { batch } } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            let vault = api::db::open_vault(&config, &db).await?;
            api::db::seal_unsealed(&db, &vault).await?;
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
        Command::MasterKey { action: MasterKeyCommand::Rotate { new_key_file } } => {
            let (n, file) = api::db::rotate_master_key(&config, new_key_file.as_deref()).await?;
            println!("master key rotated: {n} restaurant keys re-wrapped; the new key is in {}", file.display());
            println!("restart every service with it (running ones keep working with the keys they hold, but open no new restaurant key until restarted)");
            Ok(())
        }
        Command::MigrateData { from, to, from_keystore_url } => api::cli::migrate_data::run(&config, &from, &to, from_keystore_url).await,
        Command::Migrate => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            let vault = api::db::open_vault(&config, &db).await?;
            api::db::seal_unsealed(&db, &vault).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::DemoData => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            let vault = api::db::open_vault(&config, &db).await?;
            let n = api::demo::load(&db, &vault, &config).await?;
            println!("demo data loaded: {n} customers in restaurant {:?}", config.restaurant);
            Ok(())
        }
        Command::Jobs { action: JobsCommand::List } => {
            jobs::scheduler::parse_cron(&config.cron_deliveries)?;
            for job in jobs::Job::ALL {
                let when = if job == jobs::Job::Deliveries {
                    format!("cron {} (UTC)", config.cron_deliveries)
                } else {
                    "daily, at each restaurant's local time".to_string()
                };
                println!("{:<12} {:<40} {}", job.name(), when, job.description());
            }
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            for r in restaurants::list(&db).await? {
                let times: Vec<String> = jobs::scheduler::daily_times(&r).iter().map(|(j, at)| format!("{} {}", j.name(), at.format("%H:%M"))).collect();
                println!("restaurant {:<20} {:<24} {}", r.id, r.timezone, times.join(", "));
            }
            Ok(())
        }
        Command::Jobs { action: JobsCommand::Run { job, dry_run } } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            let vault = api::db::open_vault(&config, &db).await?;
            let ctx = jobs::JobContext::new(db, vault, config.jobs()).await?;
            let lifecycle = ctx.lifecycle.clone();
            // SIGTERM lets the batch being sent finish and be recorded, then the run stops.
            tokio::spawn(async move {
                api::shutdown_signal().await;
                lifecycle.begin_stop();
            });
            let targets = if restaurant_given { vec![restaurants::get(&ctx.db, &config.restaurant).await?] } else { restaurants::list(&ctx.db).await? };
            let mut reports = serde_json::Map::new();
            for r in &targets {
                let summary = jobs::run_job(&ctx, r, job, RunTrigger::Cli, dry_run, None).await?.context("the run could not start")?;
                reports.insert(r.id.clone(), serde_json::to_value(&summary.report)?);
            }
            let out = if restaurant_given { reports.into_iter().next().map(|(_, v)| v).unwrap_or_default() } else { serde_json::Value::Object(reports) };
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        Command::ExportCustomer { id } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            let vault = api::db::open_vault(&config, &db).await?;
            let scope = entity::Scope::new(config.restaurant.clone(), "cli", vault);
            let doc = entity::ops::privacy::export(&db, &scope, id).await?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(())
        }
        Command::Keys { action } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
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
        Command::Restaurants { action } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            let _ = api::db::migrate(&db, &config).await.context("applying migrations")?;
            match action {
                RestaurantsCommand::Create { id, set } => {
                    let r = restaurants::create(&db, &id, &config.restaurant_defaults(), patch_from(&set)?).await?;
                    eprintln!("created restaurant {:?}", r.id);
                    print_restaurant(&r)?;
                }
                RestaurantsCommand::List => {
                    for r in restaurants::list(&db).await? {
                        println!("{:<20} {:<24} {:<4} {}", r.id, r.timezone, r.currency, r.name);
                    }
                }
                RestaurantsCommand::Show { id } => print_restaurant(&restaurants::get(&db, id.as_deref().unwrap_or(&config.restaurant)).await?)?,
                RestaurantsCommand::Update { id, set } => {
                    let scope = Scope::new(id.unwrap_or_else(|| config.restaurant.clone()), "cli", entity::vault::Vault::detached());
                    let r = restaurants::update(&db, &scope, patch_from(&set)?).await?;
                    print_restaurant(&r)?;
                }
            }
            Ok(())
        }
        Command::Schema => {
            print!("{}", api::graphql::build_schema(&config, None).sdl());
            Ok(())
        }
    }
}
