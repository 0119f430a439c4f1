//! Logging with `tracing`: text or JSON lines on stderr, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter without `RUST_LOG`: `info`, but not async-graphql's request, parse, validation
/// and field spans, which cost ~10% of the CPU of a list request (measured; turn them on with
/// `RUST_LOG=info,async_graphql=info` when looking for a slow resolver).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,async_graphql=warn";

/// Installs the global subscriber (default filter [`DEFAULT_FILTER`]).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
