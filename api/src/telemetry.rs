//! Logging with `tracing`: text or JSON lines on stderr, filtered by `RUST_LOG`; and, when an
//! OTLP endpoint is configured, the same spans (HTTP requests, GraphQL operations, job runs)
//! exported as OpenTelemetry traces over OTLP/HTTP (protobuf), batched off the request path.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// The filter without `RUST_LOG`: `info`, but not async-graphql's request, parse, validation
/// and field spans, which cost ~10% of the CPU of a list request (measured; turn them on with
/// `RUST_LOG=info,async_graphql=info` when looking for a slow resolver).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,async_graphql=warn";

/// Flushes and stops the trace export when dropped (keep it until the process ends).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("traces not flushed: {e}");
        }
    }
}

/// Installs the global subscriber (default filter [`DEFAULT_FILTER`]); with `otlp_endpoint`
/// (e.g. `http://127.0.0.1:4318/v1/traces`) also the OpenTelemetry export of its spans.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(endpoint).build()?;
            let resource = opentelemetry_sdk::Resource::builder().with_service_name("loyalty").build();
            Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
        }
        None => None,
    };
    let _ = subscriber(filter, format, provider.as_ref()).try_init();
    Ok(Telemetry(provider))
}

/// The log layer filtered by `filter`, and the trace export's when there is a `provider`.
fn subscriber(filter: EnvFilter, format: LogFormat, provider: Option<&SdkTracerProvider>) -> Box<dyn tracing::Subscriber + Send + Sync> {
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    let logs = tracing_subscriber::registry().with(fmt.with_filter(filter));
    match provider {
        // Not an absent layer (`None::<Layer>`): that one calls every span enabled, and the
        // schema, asking `tracing::enabled!`, would add async-graphql's spans on every field.
        None => Box::new(logs),
        // Traces have their own filter: quiet logs (`RUST_LOG=warn`) still export the spans.
        Some(p) => Box::new(logs.with(tracing_opentelemetry::layer().with_tracer(p.tracer("loyalty")).with_filter(EnvFilter::new(DEFAULT_FILTER)))),
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    /// async-graphql's spans (its extension costs CPU on every field) are on only when asked for.
    #[test]
    fn graphql_spans_follow_the_filter() {
        let graphql_spans = |filter: &str| {
            tracing::subscriber::with_default(
                subscriber(EnvFilter::new(filter), LogFormat::Text, None),
                || tracing::enabled!(target: "async_graphql::graphql", Level::INFO),
            )
        };
        assert!(!graphql_spans("warn"));
        assert!(!graphql_spans(DEFAULT_FILTER));
        assert!(graphql_spans("info,async_graphql=info"));
    }
}
