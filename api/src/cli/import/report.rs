//! The refused rows of an import, one JSON object per line in `FILE.errors.jsonl` beside the
//! file: the line, the field, the reason and the value's shape (never the value: it may be
//! personal). Written only when a row is refused; a run without refusals removes an old one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use entity::rules::import::RowError;

use super::Tally;

pub struct Report {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl Report {
    /// The report of `file`'s import; an earlier run's report is removed.
    pub fn create(file: &Path) -> anyhow::Result<Self> {
        let mut name = file.as_os_str().to_owned();
        name.push(".errors.jsonl");
        let path = PathBuf::from(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).with_context(|| format!("removing the old report {}", path.display())),
            _ => {}
        }
        Ok(Self { path, out: None })
    }

    /// Records that the row of `line` was refused.
    pub fn refused(&mut self, line: u64, e: &RowError, tally: &mut Tally) -> anyhow::Result<()> {
        tally.refused += 1;
        let out = match &mut self.out {
            Some(out) => out,
            None => self.out.insert(BufWriter::new(File::create(&self.path).with_context(|| format!("creating {}", self.path.display()))?)),
        };
        let entry = serde_json::json!({ "line": line, "field": e.field, "reason": e.reason, "shape": e.shape });
        writeln!(out, "{entry}").with_context(|| format!("writing {}", self.path.display()))
    }

    /// Flushes the report; its path when a row was refused.
    pub fn finish(self) -> anyhow::Result<Option<PathBuf>> {
        match self.out {
            Some(mut out) => {
                out.flush().with_context(|| format!("writing {}", self.path.display()))?;
                Ok(Some(self.path))
            }
            None => Ok(None),
        }
    }
}
