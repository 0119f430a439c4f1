//! `loyalty export customers | ledger`: every member (as an import reads them) or every ledger
//! entry of --restaurant, oldest first, as JSON Lines or CSV, to stdout or a file; read in pages,
//! so any size streams through.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use entity::Scope;
use entity::ops::export;
use entity::rules::import::FIELDS;
use serde_json::Value;

use super::import::Format;
use crate::config::Config;

/// Rows read per query.
const PAGE: u64 = 1_000;

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Every member of --restaurant but the erased, oldest first, with the fields
    /// `loyalty import customers` reads (so the file imports again), personal values in clear.
    Customers {
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write here instead of to stdout (created owner-only: it holds personal data).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Every points ledger entry of --restaurant, oldest first.
    Ledger {
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write here instead of to stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Runs the command.
pub async fn run(config: &Config, action: ExportCommand) -> anyhow::Result<()> {
    let (db, vault) = super::connect::data_and_keys(config).await?;
    let scope = Scope::new(config.restaurant.clone(), "export", vault);
    let (what, n) = match action {
        ExportCommand::Customers { format, output } => {
            let mut out = Out::open(format, output.as_ref(), &FIELDS)?;
            let (mut after, mut n) = (0, 0u64);
            loop {
                let page = export::members_page(&db, &scope, after, PAGE).await?;
                let Some((last, _)) = page.last() else { break };
                after = last.id;
                for (c, p) in &page {
                    out.write(&export::member_record(c, p))?;
                }
                n += page.len() as u64;
            }
            out.finish()?;
            ("members", n)
        }
        ExportCommand::Ledger { format, output } => {
            let mut out = Out::open(format, output.as_ref(), &export::LEDGER_FIELDS)?;
            let (mut after, mut n) = (0, 0u64);
            loop {
                let page = export::ledger_page(&db, &scope, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for e in &page {
                    out.write(&export::ledger_record(e))?;
                }
                n += page.len() as u64;
            }
            out.finish()?;
            ("ledger entries", n)
        }
    };
    eprintln!("exported {n} {what} of restaurant {:?}", config.restaurant);
    Ok(())
}

/// Where records go, in their format.
enum Out {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Jsonl(Box<dyn Write>),
}

impl Out {
    fn open(format: Format, path: Option<&PathBuf>, header: &[&str]) -> anyhow::Result<Self> {
        let sink: Box<dyn Write> = match path {
            Some(path) => Box::new(BufWriter::new(owner_only(path)?)),
            None => Box::new(BufWriter::new(std::io::stdout().lock())),
        };
        Ok(match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(sink);
                w.write_record(header)?;
                Self::Csv(Box::new(w))
            }
            Format::Jsonl => Self::Jsonl(sink),
        })
    }

    fn write(&mut self, record: &[(&str, Value)]) -> anyhow::Result<()> {
        match self {
            Self::Csv(w) => w.write_record(record.iter().map(|(_, v)| cell(v)))?,
            Self::Jsonl(w) => {
                let object: serde_json::Map<String, Value> = record.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v.clone())).collect();
                serde_json::to_writer(&mut *w, &object)?;
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Self::Csv(mut w) => w.flush()?,
            Self::Jsonl(mut w) => w.flush()?,
        }
        Ok(())
    }
}

/// A JSON value as a CSV cell: lists joined with `;`, nothing for null.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

fn owner_only(path: &PathBuf) -> anyhow::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| format!("creating {}", path.display()))
}
