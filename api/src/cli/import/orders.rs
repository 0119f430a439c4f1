//! `loyalty import orders FILE`: a restaurant's past orders, each recorded as `recordOrder`
//! records one at its own time, in batches ([`entity::ops::import_orders`]), so visits, favourites, tiers
//! and tags come out as if recorded live whatever the file's order; an order id recorded before
//! changes nothing, so a run after a crash resumes.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use entity::DomainError;
use entity::ops::import_orders::Imported;
use entity::rules::import::RowError;
use entity::rules::import::orders::{ORDER_FIELDS, check_order};

use super::report::Report;
use super::workers::{Context, Writers, Written};
use super::{Format, Tally, open, progress, read};
use crate::config::Config;

/// How a run goes: `earn` points at the restaurant's rate, `batch` orders a transaction,
/// `writers` batches at once.
pub struct Options {
    pub dry_run: bool,
    pub earn: bool,
    pub batch: u64,
    pub writers: u64,
}

/// Runs `loyalty import orders`.
pub async fn run(config: &Config, file: &Path, format: Format, options: Options) -> anyhow::Result<()> {
    let (db, scope) = open(config).await?;
    let policy = config.policy();
    let rows = read::rows(format, file, &ORDER_FIELDS)?;
    let mut report = Report::create(file)?;
    let bar = progress(rows.size);
    let (started, mut tally) = (Instant::now(), Tally::default());
    let region = policy.phone_region;
    let ctx = Context { db, scope, policy, dry_run: options.dry_run, earn: options.earn };
    let mut writers = Writers::start(&ctx, options.writers as usize, options.batch as usize);
    for read in rows {
        bar.set_position(read.offset);
        match read.row.and_then(|raw| check_order(&raw, region, entity::ops::now())) {
            Ok(row) => writers.push(read.line, row).await?,
            Err(e) => report.refused(read.line, &e, &mut tally)?,
        }
        for written in writers.written() {
            tally_batch(written, &mut report, &mut tally)?;
            bar.set_message(format!("{} orders", tally.created));
        }
    }
    for written in writers.finish().await? {
        tally_batch(written, &mut report, &mut tally)?;
    }
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

/// Tallies how each row of a written batch ended (a failed batch stops the run: nothing of it
/// was written, and running again resumes).
fn tally_batch((lines, outcomes): Written, report: &mut Report, tally: &mut Tally) -> anyhow::Result<()> {
    let first = lines.first().copied().unwrap_or_default();
    let outcomes = outcomes.with_context(|| format!("recording the orders from line {first} on (nothing of this batch was written; run again to resume)"))?;
    for (line, outcome) in lines.into_iter().zip(outcomes) {
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
