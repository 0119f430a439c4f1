//! Stopping without dropping requests. On SIGTERM (what platforms send before they replace a
//! replica) the service answers `/readyz` with 503 at once, keeps serving for the drain period
//! with `Connection: close` on every response (so clients holding a kept-alive connection open
//! a new one, to a replica that is ready), then stops accepting and finishes what is in flight.
//! SIGINT (Ctrl-C at a terminal) skips the drain.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Whether the service is draining; cheap to clone.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether a stop has begun.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Middleware: while draining, every response closes its connection.
pub async fn close_connections(State(draining): State<Draining>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if draining.is_on() {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (a platform replacing the replica).
    Terminate,
}

/// Waits for SIGINT or SIGTERM.
pub async fn signal() -> Stop {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => Stop::Interrupt,
        () = terminate => Stop::Terminate,
    }
}

/// Waits for SIGTERM or SIGINT. On SIGTERM, marks `draining` and waits `period` more, serving
/// all along; returns when the listener should stop accepting.
pub async fn until_stopped(draining: Draining, period: Duration) {
    match signal().await {
        Stop::Interrupt => tracing::info!("interrupted: shutting down"),
        Stop::Terminate => {
            draining.start();
            tracing::info!(seconds = period.as_secs_f64(), "terminated: not ready, draining connections before shutting down");
            tokio::time::sleep(period).await;
            tracing::info!("shutting down");
        }
    }
}
