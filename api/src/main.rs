//! `loyalty`: the loyalty service and its tools.

use anyhow::Context as _;
use api::config::Config;
use entity::entities::Role;
use entity::ops::keys;
use clap::{Parser, Subcommand};

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
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key for --restaurant and print it (it is shown only this once).
    Create {
        /// viewer (read), staff (read and write) or admin (also campaigns and keys).
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
    Role::from_label(text).ok_or_else(|| format!("unknown role {text:?}: viewer, staff or admin"))
}

#[derive(Subcommand)]
enum JobsCommand {
    /// List the jobs with their schedules.
    List,
    /// Run one job now and print its report as JSON.
    Run {
        /// dormancy, birthday, anniversary, win-back or deliveries.
        job: jobs::Job,
        /// Change and send nothing; list who would be changed or emailed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    api::telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => api::serve(config).await,
        Command::Migrate => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::DemoData => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            let n = api::demo::load(&db, &config).await?;
            println!("demo data loaded: {n} customers in restaurant {:?}", config.restaurant);
            Ok(())
        }
        Command::Jobs { action: JobsCommand::List } => {
            let jobs_config = config.jobs();
            println!("time zone: {}", jobs_config.timezone);
            for (job, schedule) in &jobs_config.schedules {
                println!("{:<12} {:<16} {}", job.name(), schedule, job.description());
            }
            Ok(())
        }
        Command::Jobs { action: JobsCommand::Run { job, dry_run } } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            let ctx = jobs::JobContext::new(db, config.jobs()).await?;
            let summary = jobs::run_job(&ctx, job, jobs::Trigger::Cli, dry_run, None)
                .await?
                .context("the run could not start")?;
            println!("{}", serde_json::to_string_pretty(&summary.report)?);
            Ok(())
        }
        Command::ExportCustomer { id } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            let scope = entity::Scope::new(config.restaurant.clone(), "cli");
            let doc = entity::ops::privacy::export(&db, &scope, id).await?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(())
        }
        Command::Keys { action } => {
            let db = api::db::connect(&config).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            match action {
                KeysCommand::Create { role, name } => {
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
        Command::Schema => {
            print!("{}", api::graphql::build_schema(&config, None).sdl());
            Ok(())
        }
    }
}
