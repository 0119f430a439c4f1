//! `loyalty export customers | orders | ledger | audience`: every member or order (as an
//! import reads them), every ledger entry, or a marketer's audience (a segment's members or
//! whom a campaign targets, without allergies, dietary needs or notes) of --restaurant, oldest
//! first, as JSON Lines or CSV, to stdout or a file; read in pages, so any size streams through.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use entity::Scope;
use entity::marketing::export::{AUDIENCE_FIELDS, Audience};
use entity::ops::export;
use entity::rules::import::FIELDS;
use entity::rules::import::orders::ORDER_FIELDS;
use serde_json::Value;

use crate::config::Config;
use crate::records::{Format, Out};

/// Rows read per query.
const PAGE: u64 = 1_000;

/// Where an export goes, and how.
#[derive(Args)]
pub struct Target {
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Write here instead of to stdout (created owner-only: it may hold personal data).
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Every member of --restaurant but the erased, oldest first, with the fields
    /// `loyalty import customers` reads (so the file imports again), personal values in clear.
    Customers(Target),
    /// Every order of --restaurant's members but the erased, oldest first, with the fields
    /// `loyalty import orders` reads (each member by `externalId`, as the customers export gives it).
    Orders(Target),
    /// Every points ledger entry of --restaurant, oldest first.
    Ledger(Target),
    /// A segment's members, or whom a campaign targets, for a marketing tool: contact, tier,
    /// points, last visit and consent flags; never allergies, dietary needs or notes.
    Audience {
        /// The segment's name.
        #[arg(long, conflicts_with = "campaign", required_unless_present = "campaign")]
        segment: Option<String>,
        /// The campaign's id.
        #[arg(long)]
        campaign: Option<i64>,
        #[command(flatten)]
        target: Target,
    },
}

/// Runs the command.
pub async fn run(config: &Config, action: ExportCommand) -> anyhow::Result<()> {
    let (db, vault) = super::connect::data_and_keys(config).await?;
    let scope = Scope::new(config.restaurant.clone(), "export", vault);
    let (db, scope) = (&db, &scope);
    let (what, n) = match action {
        ExportCommand::Customers(to) => {
            let n = pages(&to, &FIELDS, async |after| {
                let page = export::members_page(db, scope, after, PAGE).await?;
                Ok(page.iter().map(|(c, p)| (c.id, export::member_record(c, p))).collect())
            })
            .await?;
            ("members", n)
        }
        ExportCommand::Orders(to) => {
            let n = pages(&to, &ORDER_FIELDS, async |after| {
                let page = export::orders_page(db, scope, after, PAGE).await?;
                Ok(page.iter().map(|(v, member)| (v.id, export::order_record(v, member))).collect())
            })
            .await?;
            ("orders", n)
        }
        ExportCommand::Ledger(to) => {
            let n = pages(&to, &export::LEDGER_FIELDS, async |after| {
                let page = export::ledger_page(db, scope, after, PAGE).await?;
                Ok(page.iter().map(|e| (e.id, export::ledger_record(e))).collect())
            })
            .await?;
            ("ledger entries", n)
        }
        ExportCommand::Audience { segment, campaign, target: to } => {
            let of = match (segment, campaign) {
                (Some(name), _) => Audience::Segment(name),
                (None, Some(id)) => Audience::Campaign(id),
                (None, None) => anyhow::bail!("name the audience with --segment NAME or --campaign ID"),
            };
            let p = entity::ops::restaurants::programme(db, scope).await?;
            let (condition, _) = entity::marketing::export::members(db, scope, &p, &of, entity::ops::now()).await?;
            let condition = &condition;
            let n = pages(&to, &AUDIENCE_FIELDS, async |after| {
                let page = entity::marketing::export::page(db, scope, condition, after, PAGE).await?;
                Ok(page.iter().map(|(c, p)| (c.id, entity::marketing::export::record(c, p))).collect())
            })
            .await?;
            ("members of the audience", n)
        }
    };
    eprintln!("exported {n} {what} of restaurant {:?}", config.restaurant);
    Ok(())
}

/// A page of records after an id, each with its id.
type Page = Vec<(i64, Vec<(&'static str, Value)>)>;

/// Writes every page `read` gives (each after the last id of the one before) to `to`; returns
/// how many records.
async fn pages(to: &Target, header: &[&str], mut read: impl AsyncFnMut(i64) -> anyhow::Result<Page>) -> anyhow::Result<u64> {
    let sink: Box<dyn Write> = match &to.output {
        Some(path) => Box::new(BufWriter::new(owner_only(path)?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut out = Out::new(to.format, sink, header)?;
    let (mut after, mut n) = (0, 0u64);
    loop {
        let page = read(after).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, record) in &page {
            out.write(record)?;
        }
        n += page.len() as u64;
    }
    out.finish()?;
    Ok(n)
}

fn owner_only(path: &PathBuf) -> anyhow::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| format!("creating {}", path.display()))
}
