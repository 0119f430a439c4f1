//! The HTTP surface: `POST /graphql`, GraphiQL on `GET /graphql` and `/`, `GET /healthz`.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use entity::Scope;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::auth::{AuthError, RateLimiter, authenticate};
use crate::error::finish_errors;
use crate::graphql::{AppState, LoyaltySchema, RequestContext, execute};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub schema: LoyaltySchema,
    pub app: AppState,
    /// Requests per second per API key.
    pub limiter: std::sync::Arc<RateLimiter>,
    /// Accepts signed tokens (JWT), when an issuer secret is configured.
    pub jwt: Option<std::sync::Arc<crate::auth::JwtVerifier>>,
    /// SQL statements run so far, when `--count-queries` is on.
    pub query_counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// The service's router.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/", get(graphiql))
        .route("/healthz", get(healthz))
        .route("/debug/sql-queries", get(sql_queries))
        .route("/unsubscribe", get(crate::pages::unsubscribe_form).post(crate::pages::unsubscribe))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn graphql(State(state): State<HttpState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let principal = match authenticate(&state.app.db, &state.app.keys, state.jwt.as_ref(), &headers).await {
        Ok(p) => p,
        Err(e) => return refuse(&e, &request_id),
    };
    if !state.limiter.allow(&principal.actor) {
        return refuse(&AuthError::RateLimited, &request_id);
    }
    let scope = Scope::new(principal.restaurant_id.clone(), principal.actor.clone()).in_request(request_id.clone());
    let ctx = RequestContext { scope, principal, request_id: request_id.clone() };
    let request = request.into_inner();
    let span = tracing::info_span!("graphql", operation = request.operation_name.as_deref().unwrap_or("-"));
    let mut response = execute(&state.schema, &state.app, ctx, request).instrument(span).await;
    finish_errors(&mut response, &request_id);
    GraphQLResponse::from(response).into_response()
}

/// A GraphQL-shaped error for a request turned away before execution.
fn refuse(error: &AuthError, request_id: &str) -> Response {
    let status = match error {
        AuthError::Missing | AuthError::Invalid => StatusCode::UNAUTHORIZED,
        AuthError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        AuthError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({
        "errors": [{ "message": error.to_string(), "extensions": { "code": error.code(), "requestId": request_id } }]
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    }
    response
}

async fn graphiql() -> impl IntoResponse {
    use axum::http::{HeaderValue, header};
    let mut response = Html(GraphiQLSource::build().endpoint("/graphql").title("Loyalty GraphQL").finish()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn sql_queries(State(state): State<HttpState>) -> impl IntoResponse {
    match &state.query_counter {
        Some(c) => (StatusCode::OK, c.load(std::sync::atomic::Ordering::Relaxed).to_string()),
        None => (StatusCode::NOT_FOUND, "query counting is off (LOYALTY_COUNT_QUERIES)".to_string()),
    }
}

async fn healthz(State(state): State<HttpState>) -> impl IntoResponse {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
