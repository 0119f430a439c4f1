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
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(endpoint).build()?;
            let resource = opentelemetry_sdk::Resource::builder().with_service_name("loyalty").build();
            Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
        }
        None => None,
    };
    // Traces have their own filter: quiet logs (`RUST_LOG=warn`) still export the spans.
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("loyalty")).with_filter(EnvFilter::new(DEFAULT_FILTER)));
    let _ = tracing_subscriber::registry().with(fmt.with_filter(filter)).with(otel).try_init();
    Ok(Telemetry(provider))
}
