//! `loyalty`: the loyalty service and its tools.

use anyhow::Context as _;
use api::config::Config;
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
        Command::Schema => {
            print!("{}", api::graphql::build_schema(&config, None).sdl());
            Ok(())
        }
    }
}
