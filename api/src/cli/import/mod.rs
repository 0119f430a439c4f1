//! `loyalty import customers FILE`: members from another system into --restaurant, read as a
//! stream (CSV or JSON Lines, [`read`]) and written in batches ([`entity::ops::import`]), with a
//! progress bar on a terminal and the refused rows in a report beside the file ([`report`]);
//! `loyalty import orders FILE` ([`orders`]) their orders.

mod orders;
mod read;
mod report;
mod workers;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::Subcommand;
use entity::Scope;
use entity::ops::import::{self, RowOutcome};
use entity::rules::import::{MemberRow, check_member};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;

use crate::config::Config;
pub use crate::records::Format;
use report::Report;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import members from FILE: CSV with a header row (lists separated by `;`) or JSON Lines
    /// (one object per line), fields named as in docs/integration.md. Keyed by `externalId`:
    /// importing the same file again, or after a crash, writes nothing twice. Refused rows are
    /// listed in FILE.errors.jsonl (line, field, reason, and the value's shape, not the value).
    Customers {
        file: PathBuf,
        /// The file's format (by default from its extension: .csv, or .jsonl / .ndjson).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Check every row and report what an import would do; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Members written per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=5000))]
        batch: u64,
    },
    /// Import orders from FILE (CSV or JSON Lines): orderId, the member's externalId or phone,
    /// occurredAt, amount, location, channel, items. Each is recorded as `recordOrder` records
    /// an order at its own time, however long ago, so the members end as if every order had
    /// come on time, whatever the file's order; keyed by orderId: importing again changes
    /// nothing. Refused rows are listed in FILE.errors.jsonl.
    Orders {
        file: PathBuf,
        /// The file's format (by default from its extension: .csv, or .jsonl / .ndjson).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Check every row and find its member; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Record the orders' history only (visits, spend, favourites, tags), no points: for
        /// members whose balances came with their import.
        #[arg(long)]
        no_points: bool,
        /// Orders written per transaction.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=2000))]
        batch: u64,
        /// Batches written at once (each member's orders by one writer, in the file's order).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
        writers: u64,
    },
}

/// What a run did (or, dry, would do).
#[derive(Debug, Default)]
struct Tally {
    created: u64,
    unchanged: u64,
    refused: u64,
    statistics: import::Statistics,
}

/// Runs the command.
pub async fn run(config: &Config, action: ImportCommand) -> anyhow::Result<()> {
    let (file, format, dry_run, batch) = match action {
        ImportCommand::Customers { file, format, dry_run, batch } => (file, format, dry_run, batch),
        ImportCommand::Orders { file, format, dry_run, no_points, batch, writers } => {
            let options = orders::Options { dry_run, earn: !no_points, batch, writers };
            return orders::run(config, &file, Format::for_file(format, &file)?, options).await;
        }
    };
    let format = Format::for_file(format, &file)?;
    let (db, scope) = open(config).await?;
    let rows = read::rows(format, &file, &entity::rules::import::FIELDS)?;
    let mut report = Report::create(&file)?;
    let bar = progress(rows.size);
    let started = Instant::now();
    let (mut tally, mut pending) = (Tally::default(), Vec::new());
    let region = config.policy().phone_region;
    for read in rows {
        bar.set_position(read.offset);
        match read.row.and_then(|raw| check_member(&raw, region, entity::ops::now())) {
            Ok(m) => pending.push((read.line, m)),
            Err(e) => report.refused(read.line, &e, &mut tally)?,
        }
        if pending.len() as u64 >= batch {
            write(&db, &scope, &mut pending, dry_run, &mut report, &mut tally).await?;
            bar.set_message(format!("{} members", tally.created));
        }
    }
    write(&db, &scope, &mut pending, dry_run, &mut report, &mut tally).await?;
    bar.finish_and_clear();
    let refused = report.finish()?;
    println!("{}", summary(&tally, dry_run, &config.restaurant, started.elapsed().as_secs_f64(), refused.as_deref()));
    Ok(())
}

/// The database and the scope of --restaurant (created with the default settings if new).
async fn open(config: &Config) -> anyhow::Result<(DatabaseConnection, Scope)> {
    let (db, vault) = super::connect::data_and_keys(config).await?;
    if entity::ops::restaurants::ensure(&db, &config.restaurant, &config.restaurant_defaults()).await? {
        eprintln!("restaurant {:?} created with the default settings (`loyalty restaurants update` changes them)", config.restaurant);
    }
    Ok((db, Scope::new(config.restaurant.clone(), "import", vault)))
}

/// Writes (or, dry, decides) the rows gathered so far, and empties `pending`.
async fn write(
    db: &DatabaseConnection,
    scope: &Scope,
    pending: &mut Vec<(u64, MemberRow)>,
    dry_run: bool,
    report: &mut Report,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let outcomes = import::members(db, scope, pending, dry_run).await.context("writing members")?;
    let before = tally.created;
    for ((line, _), outcome) in pending.iter().zip(outcomes) {
        match outcome {
            RowOutcome::Created(_) | RowOutcome::WouldCreate => tally.created += 1,
            RowOutcome::Unchanged(_) => tally.unchanged += 1,
            RowOutcome::Refused(e) => report.refused(*line, &e, tally)?,
        }
    }
    if !dry_run {
        tally.statistics.after(db, tally.created - before).await?;
    }
    pending.clear();
    Ok(())
}

/// A bar over the file's bytes, with the rate and time left; hidden off a terminal.
fn progress(size: u64) -> ProgressBar {
    let bar = ProgressBar::new(size);
    let style =
        ProgressStyle::with_template("{bar:40} {percent:>3}% {binary_bytes_per_sec} {msg} (about {eta} left)").unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn summary(t: &Tally, dry_run: bool, restaurant: &str, seconds: f64, refused_file: Option<&Path>) -> String {
    let mut out = if dry_run {
        format!("dry run, nothing written: would import {} members into {restaurant:?}", t.created)
    } else {
        format!("imported {} members into {restaurant:?} in {seconds:.1} s", t.created)
    };
    out.push_str(&format!("; {} already there (same externalId)", t.unchanged));
    match refused_file {
        Some(path) => out.push_str(&format!("; {} refused, listed in {}", t.refused, path.display())),
        None => out.push_str("; none refused"),
    }
    out
}
