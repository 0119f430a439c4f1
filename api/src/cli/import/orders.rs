//! `loyalty import orders FILE`: a restaurant's past orders, each recorded as `recordOrder`
//! records one at its own time, in batches ([`entity::ops::import_orders`]), so visits, favourites, tiers
//! and tags come out as if recorded live whatever the file's order; an order id recorded before
//! changes nothing, so a run after a crash resumes.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use entity::DomainError;
use entity::ops::import::Statistics;
use entity::ops::import_orders::{self, Imported};
use entity::rules::import::RowError;
use entity::rules::import::orders::{ORDER_FIELDS, OrderRow, check_order};
use entity::{Policy, Scope};
use sea_orm::DatabaseConnection;

use super::report::Report;
use super::{Format, Tally, open, progress, read};
use crate::config::Config;

/// How a run goes: `earn` points at the restaurant's rate, `batch` orders a transaction.
pub struct Options {
    pub dry_run: bool,
    pub earn: bool,
    pub batch: u64,
}

/// Runs `loyalty import orders`.
pub async fn run(config: &Config, file: &Path, format: Format, options: Options) -> anyhow::Result<()> {
    let (db, scope) = open(config).await?;
    let policy = config.policy();
    let rows = read::rows(format, file, &ORDER_FIELDS)?;
    let mut report = Report::create(file)?;
    let bar = progress(rows.size);
    let (started, mut pending) = (Instant::now(), Vec::new());
    let mut tally = Tally { statistics: Statistics::of(import_orders::GROWN), ..Tally::default() };
    for read in rows {
        bar.set_position(read.offset);
        match read.row.and_then(|raw| check_order(&raw, policy.phone_region, entity::ops::now())) {
            Ok(row) => pending.push((read.line, row)),
            Err(e) => report.refused(read.line, &e, &mut tally)?,
        }
        if pending.len() as u64 >= options.batch {
            write(&db, &scope, &policy, &mut pending, &options, &mut report, &mut tally).await?;
            bar.set_message(format!("{} orders", tally.created));
        }
    }
    write(&db, &scope, &policy, &mut pending, &options, &mut report, &mut tally).await?;
    bar.finish_and_clear();
    let refused = report.finish()?;
    let done = if options.dry_run { "dry run, nothing written: would record" } else { "recorded" };
    let mut out = format!(
        "{done} {} orders for {:?} in {:.1} s; {} already recorded",
        tally.created,
        config.restaurant,
        started.elapsed().as_secs_f64(),
        tally.unchanged
    );
    match refused {
        Some(path) => out.push_str(&format!("; {} refused, listed in {}", tally.refused, path.display())),
        None => out.push_str("; none refused"),
    }
    println!("{out}");
    Ok(())
}

/// Writes the pending rows as one batch and tallies how each ended.
async fn write(
    db: &DatabaseConnection,
    scope: &Scope,
    policy: &Policy,
    pending: &mut Vec<(u64, OrderRow)>,
    options: &Options,
    report: &mut Report,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let rows: Vec<OrderRow> = pending.iter().map(|(_, row)| row.clone()).collect();
    let first = pending[0].0;
    let outcomes = import_orders::import(db, scope, policy, &rows, options.dry_run, options.earn, &mut tally.statistics)
        .await
        .with_context(|| format!("recording the orders from line {first} on (nothing of this batch was written; run again to resume)"))?;
    for ((line, _), outcome) in pending.drain(..).zip(outcomes) {
        let refused = |field: &str, reason: String| RowError::new(field, reason, None);
        match outcome {
            Ok(Imported::Recorded | Imported::WouldRecord) => tally.created += 1,
            Ok(Imported::AlreadyThere) => tally.unchanged += 1,
            Err(DomainError::NotFound { what }) => {
                let field = if what.contains("externalId") { "externalId" } else { "phone" };
                report.refused(line, &refused(field, "no member of the restaurant has it (import the members first)".into()), tally)?;
            }
            Err(DomainError::Validation { field, message }) => report.refused(line, &refused(&field, message), tally)?,
            Err(DomainError::CustomerBlocked { .. }) => report.refused(line, &refused("externalId", "the member is blocked".into()), tally)?,
            Err(e) => report.refused(line, &refused("row", e.to_string()), tally)?,
        }
    }
    Ok(())
}
