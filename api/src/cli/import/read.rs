//! Reading an import file as a stream of rows, each with its line and how far into the file it
//! ends: CSV with a header row, or JSON Lines. A row that cannot be read is an error of that
//! row; a CSV header naming an unknown field stops the import before it starts.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context as _;
use entity::rules::import::{Cell, RawRow, RowError};
use serde_json::Value;

use super::Format;

/// One row as read.
pub struct Read {
    /// The line it starts on (1 is the first).
    pub line: u64,
    /// Bytes of the file read so far.
    pub offset: u64,
    pub row: Result<RawRow, RowError>,
}

/// The rows of a file, and its size.
pub struct Rows {
    pub size: u64,
    inner: Box<dyn Iterator<Item = Read>>,
}

impl Iterator for Rows {
    type Item = Read;

    fn next(&mut self) -> Option<Read> {
        self.inner.next()
    }
}

/// The rows of `file`, read as `format`; a CSV header may name only `fields`.
pub fn rows(format: Format, file: &Path, fields: &'static [&'static str]) -> anyhow::Result<Rows> {
    let size = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?.len();
    let inner = match format {
        Format::Csv => csv_rows(file, fields)?,
        Format::Jsonl => json_lines(File::open(file).with_context(|| format!("opening {}", file.display()))?),
    };
    Ok(Rows { size, inner })
}

fn csv_rows(file: &Path, fields: &[&str]) -> anyhow::Result<Box<dyn Iterator<Item = Read>>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(file).with_context(|| format!("opening {}", file.display()))?;
    let headers: Vec<String> = reader.headers().context("reading the CSV header row")?.iter().map(str::to_string).collect();
    let unknown: Vec<&str> = headers.iter().map(String::as_str).filter(|h| !fields.contains(h)).collect();
    if !unknown.is_empty() {
        anyhow::bail!("the header row names columns the rows do not have: {} (the fields are: {})", unknown.join(", "), fields.join(", "));
    }
    if let Some(h) = headers.iter().enumerate().find_map(|(i, h)| headers[..i].contains(h).then_some(h)) {
        anyhow::bail!("the header row names the column {h} twice");
    }
    Ok(Box::new(reader.into_records().map(move |record| match record {
        Ok(r) => {
            let position = r.position().cloned().unwrap_or_else(csv::Position::new);
            let row = headers.iter().zip(r.iter()).filter(|(_, v)| !v.is_empty()).map(|(h, v)| (h.clone(), Cell::Text(v.to_string()))).collect();
            Read { line: position.line(), offset: position.byte() + r.as_slice().len() as u64, row: Ok(row) }
        }
        Err(e) => {
            let position = e.position().cloned().unwrap_or_else(csv::Position::new);
            Read { line: position.line(), offset: position.byte(), row: Err(RowError::new("row", csv_reason(&e), None)) }
        }
    })))
}

/// Why a CSV record could not be read, without its content.
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("has {len} fields where the header row has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8 text".into(),
        _ => "cannot be read as CSV".into(),
    }
}

fn json_lines(file: File) -> Box<dyn Iterator<Item = Read>> {
    let (mut line, mut offset) = (0u64, 0u64);
    Box::new(BufReader::new(file).split(b'\n').filter_map(move |bytes| {
        line += 1;
        let row = match bytes {
            Ok(bytes) => {
                offset += bytes.len() as u64 + 1;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                json_row(&bytes)
            }
            Err(e) => Err(RowError::new("row", format!("cannot be read: {}", e.kind()), None)),
        };
        Some(Read { line, offset, row })
    }))
}

fn json_row(bytes: &[u8]) -> Result<RawRow, RowError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| RowError::new("row", format!("is not valid JSON ({:?} at column {})", e.classify(), e.column()), None))?;
    let Value::Object(map) = value else { return Err(RowError::new("row", "is not a JSON object", None)) };
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let cell = match v {
                Value::Array(items) => Cell::List(items.into_iter().map(text).collect()),
                other => Cell::Text(text(other)),
            };
            (k, cell)
        })
        .collect())
}
