//! `loyalty import orders FILE`: a restaurant's past orders, each recorded as `recordOrder`
//! records one at its own time ([`entity::ops::orders::import`]), so visits, favourites, tiers
//! and tags come out as if recorded live whatever the file's order; an order id recorded before
//! changes nothing, so a run after a crash resumes.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use entity::DomainError;
use entity::ops::orders::{self, Imported};
use entity::rules::import::RowError;
use entity::rules::import::orders::{ORDER_FIELDS, check_order};

use super::report::Report;
use super::{Format, Tally, open, progress, read};
use crate::config::Config;

/// Runs `loyalty import orders` (`earn`: the orders earn points at the restaurant's rate).
pub async fn run(config: &Config, file: &Path, format: Format, dry_run: bool, earn: bool) -> anyhow::Result<()> {
    let (db, scope) = open(config).await?;
    let policy = config.policy();
    let rows = read::rows(format, file, &ORDER_FIELDS)?;
    let mut report = Report::create(file)?;
    let bar = progress(rows.size);
    let (started, mut tally) = (Instant::now(), Tally::default());
    for read in rows {
        bar.set_position(read.offset);
        let row = match read.row.and_then(|raw| check_order(&raw, policy.phone_region, entity::ops::now())) {
            Ok(row) => row,
            Err(e) => {
                report.refused(read.line, &e, &mut tally)?;
                continue;
            }
        };
        match orders::import(&db, &scope, &policy, &row, dry_run, earn).await {
            Ok(Imported::Recorded | Imported::WouldRecord) => tally.created += 1,
            Ok(Imported::AlreadyThere) => tally.unchanged += 1,
            Err(DomainError::NotFound { what }) => {
                let field = if what.contains("externalId") { "externalId" } else { "phone" };
                report.refused(read.line, &RowError::new(field, "no member of the restaurant has it (import the members first)", None), &mut tally)?;
            }
            Err(DomainError::Validation { field, message }) => {
                report.refused(read.line, &RowError::new(&field, message, None), &mut tally)?;
            }
            Err(DomainError::CustomerBlocked { .. }) => report.refused(read.line, &RowError::new("externalId", "the member is blocked", None), &mut tally)?,
            Err(e) => return Err(e).with_context(|| format!("recording the order of line {}", read.line)),
        }
        if tally.created % 1_000 == 0 {
            bar.set_message(format!("{} orders", tally.created));
        }
    }
    bar.finish_and_clear();
    let refused = report.finish()?;
    let done = if dry_run { "dry run, nothing written: would record" } else { "recorded" };
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
