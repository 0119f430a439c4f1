//! CORS for browser frontends (`LOYALTY_CORS_ORIGINS`).

use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// CORS for the configured origins (`*`: any origin). Bearer tokens travel in a header, so no
/// credentials (cookies) are allowed.
pub fn layer(origins: &[String]) -> CorsLayer {
    let allow =
        if origins.iter().any(|o| o == "*") { AllowOrigin::any() } else { AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok())) };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, header::HeaderName::from_static("x-request-id")])
        .expose_headers([header::HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(600))
}
