//! `loyalty jobs list | run JOB [--dry-run]`.

use anyhow::Context as _;
use clap::Subcommand;
use clap::builder::TypedValueParser as _;
use entity::entities::RunTrigger;
use entity::ops::restaurants;

use crate::config::Config;

#[derive(Subcommand)]
pub enum JobsCommand {
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

/// Runs the command; `restaurant_given`: --restaurant (or its variable) was set.
pub async fn run(config: &Config, action: JobsCommand, restaurant_given: bool) -> anyhow::Result<()> {
    match action {
        JobsCommand::List => list(config).await,
        JobsCommand::Run { job, dry_run } => run_now(config, job, dry_run, restaurant_given).await,
    }
}

async fn list(config: &Config) -> anyhow::Result<()> {
    jobs::scheduler::parse_cron(&config.cron_deliveries)?;
    for job in jobs::Job::ALL {
        let when = match job.schedule() {
            jobs::Schedule::DeliveryCron => format!("cron {} (UTC)", config.cron_deliveries),
            jobs::Schedule::WhenDue => "every minute, when one is due".to_string(),
            jobs::Schedule::Daily { .. } => "daily, at each restaurant's local time".to_string(),
        };
        println!("{:<12} {:<40} {}", job.name(), when, job.description());
    }
    let db = super::connect::data(config).await?;
    for r in restaurants::list(&db).await? {
        let times: Vec<String> = jobs::scheduler::daily_times(&r).iter().map(|(j, at)| format!("{} {}", j.name(), at.format("%H:%M"))).collect();
        println!("restaurant {:<20} {:<24} {}", r.id, r.timezone, times.join(", "));
    }
    Ok(())
}

async fn run_now(config: &Config, job: jobs::Job, dry_run: bool, restaurant_given: bool) -> anyhow::Result<()> {
    let (db, vault) = super::connect::data_and_keys(config).await?;
    let ctx = jobs::JobContext::new(db, vault, config.jobs()).await?;
    let lifecycle = ctx.lifecycle.clone();
    // SIGTERM lets the batch being sent finish and be recorded, then the run stops.
    tokio::spawn(async move {
        crate::startup::shutdown_signal().await;
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
