//! Records (field, value) as files: CSV with a header row, or JSON Lines. The imports read
//! these formats, the CLI's exports write them, and so do GraphQL's downloads.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use clap::ValueEnum;
use entity::rules::import::orders::line_text;
use serde_json::Value;

/// A file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// `given`, or the format `file`'s extension names.
    pub fn for_file(given: Option<Self>, file: &Path) -> anyhow::Result<Self> {
        given.or_else(|| Self::of(file)).context("name the file's format with --format csv or --format jsonl (its extension does not tell)")
    }

    fn of(file: &Path) -> Option<Self> {
        match file.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// Where records go, in their format.
pub enum Out<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

impl<W: Write> Out<W> {
    /// Records in `format` to `sink`; a CSV starts with `header`.
    pub fn new(format: Format, sink: W, header: &[&str]) -> anyhow::Result<Self> {
        Ok(match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(sink);
                w.write_record(header)?;
                Self::Csv(Box::new(w))
            }
            Format::Jsonl => Self::Jsonl(sink),
        })
    }

    /// Writes one record (JSON Lines leave out its null fields).
    pub fn write(&mut self, record: &[(&str, Value)]) -> anyhow::Result<()> {
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

    /// Flushes and hands back the sink.
    pub fn finish(self) -> anyhow::Result<W> {
        Ok(match self {
            Self::Csv(w) => w.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))?,
            Self::Jsonl(mut w) => {
                w.flush()?;
                w
            }
        })
    }
}

/// A JSON value as a CSV cell: lists joined with `;`, an order's line as `ITEM:QUANTITY[:PRICE]`,
/// nothing for null.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        Value::Object(_) => line_text(v),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_and_json_lines_of_the_same_records() {
        let records = [vec![("a", json!("x")), ("b", json!(["p", "q"])), ("c", Value::Null)], vec![("a", json!(1)), ("b", json!([])), ("c", json!(true))]];
        let mut csv = Out::new(Format::Csv, Vec::new(), &["a", "b", "c"]).unwrap();
        let mut jsonl = Out::new(Format::Jsonl, Vec::new(), &["a", "b", "c"]).unwrap();
        for r in &records {
            csv.write(r).unwrap();
            jsonl.write(r).unwrap();
        }
        assert_eq!(String::from_utf8(csv.finish().unwrap()).unwrap(), "a,b,c\nx,p;q,\n1,,true\n");
        assert_eq!(String::from_utf8(jsonl.finish().unwrap()).unwrap(), "{\"a\":\"x\",\"b\":[\"p\",\"q\"]}\n{\"a\":1,\"b\":[],\"c\":true}\n");
    }
}
