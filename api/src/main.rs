//! `loyalty`: the loyalty service and its tools (the commands are in `api::cli`).

/// mimalloc instead of glibc's allocator: per-thread free lists, no arena lock waits and no
/// consolidation passes over freed chunks, which cost a list of sealed values about a third of
/// its CPU under glibc (BENCHMARKS.md, "What sealing personal data costs").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The one TLS provider (ring) for every HTTPS client of the process: webhooks, OTLP export.
    let _ = rustls::crypto::ring::default_provider().install_default();
    api::cli::run().await
}
