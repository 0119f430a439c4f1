//! The HTTP surface: GraphQL over HTTP (`POST /graphql`, and `GET /graphql?query=…` for
//! queries), GraphiQL on `GET /graphql` and `/`, `GET /healthz`, CORS for browser frontends.
//!
//! GraphQL over HTTP follows the specification's rules: the response is
//! `application/graphql-response+json` when the client accepts it (a document that fails to
//! parse or validate, or whose variables do not fit, then answers 400) and `application/json`
//! otherwise (always 200 for a well-formed request); a `POST` must be `application/json`
//! (415 otherwise); a `GET` may only run queries (405 for mutations). Malformed requests get a
//! JSON GraphQL error with code `BAD_REQUEST` and no internal detail.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use entity::Scope;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::auth::{AuthError, authenticate};
use crate::credentials::{JwtVerifier, RateLimiter};
use crate::error::{ErrorCode, finish_errors};
use crate::graphql::LoyaltySchema;
use crate::graphql::context::{AppState, RequestContext};
use crate::graphql::execute::{execute, is_introspection, is_mutation};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub schema: LoyaltySchema,
    /// The schema without depth and complexity limits, for introspection-only documents.
    pub introspection_schema: LoyaltySchema,
    /// Origins browser frontends may call from (CORS); empty: none.
    pub cors_origins: Vec<String>,
    pub app: AppState,
    /// Requests per second per API key.
    pub limiter: std::sync::Arc<RateLimiter>,
    /// Accepts signed tokens (JWT), when an issuer secret is configured.
    pub jwt: Option<std::sync::Arc<JwtVerifier>>,
    /// SQL statements run so far, when `--count-queries` is on.
    pub query_counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// The schema's root fields, the operation labels of the metrics.
    pub operations: std::sync::Arc<crate::metrics::Operations>,
    /// The token `/metrics` on the main port asks for; `None`: not served there.
    pub metrics_token: Option<std::sync::Arc<str>>,
    /// Set once SIGTERM arrived: `/readyz` fails and every response closes its connection.
    pub draining: crate::drain::Draining,
    /// Connections in the database pool: how often a query that met lost connections runs
    /// again.
    pub db_pool: u32,
}

impl axum::extract::FromRef<HttpState> for AppState {
    fn from_ref(state: &HttpState) -> Self {
        state.app.clone()
    }
}

/// The service's router. The middleware is one `ServiceBuilder` stack applied once: each
/// `Router::layer` boxes the request's whole future again (callgrind: ~12k instructions per
/// request for five separate layers).
pub fn router(state: HttpState) -> Router {
    let cors = (!state.cors_origins.is_empty()).then(|| crate::cors::layer(&state.cors_origins));
    let middleware = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/", get(crate::graphiql::page))
        .merge(crate::graphiql::assets())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/debug/sql-queries", get(sql_queries))
        .route("/unsubscribe", get(crate::pages::unsubscribe_form).post(crate::pages::unsubscribe))
        .route("/preferences", get(crate::pages::preferences_form_page).post(crate::pages::save_preferences))
        .layer(axum::middleware::from_fn_with_state(state.draining.clone(), crate::drain::close_connections))
        .with_state(state)
        .layer(middleware);
    // CORS answers preflights itself, with a body of the router's type: outermost, on its own.
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The router of `--metrics-bind`: `/metrics` alone.
pub fn metrics_router(state: HttpState) -> Router {
    Router::new().route("/metrics", get(metrics_anywhere)).with_state(state)
}

/// The response format a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `application/graphql-response+json`: request errors answer 4xx.
    GraphqlResponse,
    /// `application/json`: every well-formed request answers 200.
    Json,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }
}

/// The format the `Accept` header prefers (the first acceptable one listed); `None` if it
/// accepts neither.
fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Some(Format::Json) };
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        if parts.any(|p| p.replace(' ', "") == "q=0") {
            continue;
        }
        match media.as_str() {
            "application/graphql-response+json" => return Some(Format::GraphqlResponse),
            "application/json" | "application/*" | "*/*" => return Some(Format::Json),
            _ => {}
        }
    }
    None
}

/// A JSON GraphQL error response for a request turned away before execution.
fn request_error(status: StatusCode, format: Format, error_code: ErrorCode, message: &str, request_id: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": error_code.as_str(), "requestId": request_id } }] });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    response
}

/// 406 for an `Accept` header that takes neither response format.
fn not_acceptable(request_id: &str) -> Response {
    request_error(StatusCode::NOT_ACCEPTABLE, Format::Json, ErrorCode::BadRequest, "accept application/graphql-response+json or application/json", request_id)
}

fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string()
}

/// Reads a GraphQL request from the JSON object of a POST body or from GET parameters.
/// A document or variables nested past [`crate::bounds::MAX_NESTING`] are refused here, before
/// anything parses or walks them.
fn parse_request(params: &serde_json::Map<String, serde_json::Value>) -> Result<async_graphql::Request, (ErrorCode, String)> {
    use serde_json::Value;
    let bad = |message: &str| (ErrorCode::BadRequest, message.to_string());
    let query = match params.get("query") {
        Some(Value::String(q)) if !q.trim().is_empty() => q.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err(bad("the request has no GraphQL document: send {\"query\": \"...\"}")),
        Some(_) => return Err(bad("\"query\" must be a string holding the GraphQL document")),
    };
    crate::bounds::check_document(&query).map_err(|e| (ErrorCode::TooComplex, e.message()))?;
    let mut request = async_graphql::Request::new(query);
    match params.get("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name.clone()),
        Some(_) => return Err(bad("\"operationName\" must be a string or null")),
    }
    match params.get("variables") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => {
            crate::bounds::check_json(v).map_err(|e| (ErrorCode::TooComplex, e.message()))?;
            request = request.variables(async_graphql::Variables::from_json(v.clone()));
        }
        Some(_) => return Err(bad("\"variables\" must be an object or null")),
    }
    match params.get("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err(bad("\"extensions\" must be an object or null")),
    }
    Ok(request)
}

/// `POST /graphql`: a JSON body `{query, operationName?, variables?, extensions?}`.
async fn graphql_post(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = request_id(&headers);
    let Some(format) = negotiate(&headers) else { return not_acceptable(&request_id) };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if media != "application/json" && media != "application/graphql-response+json" {
        let message = if media.is_empty() {
            "a GraphQL POST needs Content-Type: application/json"
        } else {
            "unsupported Content-Type: send the request as application/json"
        };
        return request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, format, ErrorCode::BadRequest, message, &request_id);
    }
    let params = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(params)) => params,
        Ok(serde_json::Value::Array(_)) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                format,
                ErrorCode::BadRequest,
                "batched requests are not supported: send one request object",
                &request_id,
            );
        }
        Ok(_) => return request_error(StatusCode::BAD_REQUEST, format, ErrorCode::BadRequest, "the body must be a JSON object", &request_id),
        Err(_) => {
            return request_error(StatusCode::BAD_REQUEST, format, ErrorCode::BadRequest, "the body is not valid JSON (or is nested too deeply)", &request_id);
        }
    };
    let request = match parse_request(&params) {
        Ok(r) => r,
        Err((code, message)) => return request_error(StatusCode::BAD_REQUEST, format, code, &message, &request_id),
    };
    run(&state, &headers, request, format, request_id).await
}

/// `GET /graphql`: GraphiQL for browsers; with `?query=…`, runs a query (never a mutation).
async fn graphql_get(State(state): State<HttpState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let request_id = request_id(&headers);
    let params = raw.as_deref().map(url_params).unwrap_or_default();
    if !params.contains_key("query") {
        return crate::graphiql::page().await;
    }
    let Some(format) = negotiate(&headers) else { return not_acceptable(&request_id) };
    let mut params = params;
    if let Some(serde_json::Value::String(v)) = params.get("variables").cloned() {
        match serde_json::from_str(&v) {
            Ok(json) => {
                params.insert("variables".into(), json);
            }
            Err(_) => return request_error(StatusCode::BAD_REQUEST, format, ErrorCode::BadRequest, "\"variables\" must be a JSON object", &request_id),
        }
    }
    let request = match parse_request(&params) {
        Ok(r) => r,
        Err((code, message)) => return request_error(StatusCode::BAD_REQUEST, format, code, &message, &request_id),
    };
    if is_mutation(&request.query, request.operation_name.as_deref()) {
        let mut response = request_error(StatusCode::METHOD_NOT_ALLOWED, format, ErrorCode::BadRequest, "mutations must be sent with POST", &request_id);
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    run(&state, &headers, request, format, request_id).await
}

/// `a=1&b=x%20y` as a map of strings.
fn url_params(query: &str) -> serde_json::Map<String, serde_json::Value> {
    let uri: axum::http::Uri = format!("/?{query}").parse().unwrap_or_default();
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    pairs.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect()
}

/// Runs the request ([`run_counted`]) and counts it for `/metrics`.
///
/// A query that met a lost database connection (a restart or failover ends every pooled one;
/// each fails once, fast, and is replaced) runs again, up to once per pooled connection: reads
/// are safe to repeat. A mutation is not repeated: it answers `DATABASE_UNAVAILABLE` and the
/// client retries it with its idempotency key.
async fn run(state: &HttpState, headers: &HeaderMap, request: async_graphql::Request, format: Format, request_id: String) -> Response {
    let started = std::time::Instant::now();
    let operation = state.operations.label(&request.query);
    let again = (request.query.clone(), request.operation_name.clone(), request.variables.clone());
    let mut attempt = std::time::Instant::now();
    let (mut response, mut code) = run_counted(state, headers, request, format, request_id.clone()).await;
    let mut retries = 0;
    while code == ErrorCode::DatabaseUnavailable.as_str()
        && retries < state.db_pool
        && attempt.elapsed() < LOST_CONNECTION_FAILS_WITHIN
        && !is_mutation(&again.0, again.1.as_deref())
    {
        retries += 1;
        attempt = std::time::Instant::now();
        let mut request = async_graphql::Request::new(again.0.clone()).variables(again.2.clone());
        request.operation_name.clone_from(&again.1);
        (response, code) = run_counted(state, headers, request, format, request_id.clone()).await;
    }
    crate::metrics::request(operation, code, started.elapsed().as_secs_f64());
    response
}

/// A request that failed on a lost connection failed within this; one that waited for the
/// pool (every connection busy) took its acquire timeout, and is not repeated.
const LOST_CONNECTION_FAILS_WITHIN: Duration = Duration::from_secs(1);

/// Authenticates, runs the request and writes the response in `format`; returns it with its
/// outcome code (`OK`, or the first error's code).
async fn run_counted(state: &HttpState, headers: &HeaderMap, request: async_graphql::Request, format: Format, request_id: String) -> (Response, &'static str) {
    let introspection = is_introspection(&request.query, request.operation_name.as_deref());
    let principal = match authenticate(&state.app.db, &state.app.keys, &state.app.member_tokens, state.jwt.as_ref(), headers).await {
        Ok(p) => p,
        // The schema is public (and can be switched off): GraphiQL lists it before a key is in.
        Err(AuthError::Missing | AuthError::Invalid | AuthError::NotBearer) if introspection => {
            entity::ops::keys::Principal { restaurant_id: String::new(), role: entity::entities::Role::Viewer, actor: "anonymous".into(), member: None }
        }
        Err(e) => return (refuse(&e, &request_id), e.code().as_str()),
    };
    if !state.limiter.allow(&principal.actor) {
        crate::metrics::rate_limited();
        return (refuse(&AuthError::RateLimited, &request_id), ErrorCode::RateLimited.as_str());
    }
    let scope = Scope::new(principal.restaurant_id.clone(), principal.actor.clone(), state.app.vault.clone()).in_request(request_id.clone());
    let ctx = RequestContext { scope, principal, request_id: request_id.clone() };
    let schema = if introspection { &state.introspection_schema } else { &state.schema };
    let span = tracing::info_span!("graphql", operation = request.operation_name.as_deref().unwrap_or("-"));
    let mut response = execute(schema, &state.app, ctx, request).instrument(span).await;
    finish_errors(&mut response, &request_id);
    // A request error (the document did not parse or validate, or its variables did not fit)
    // has no data at all; one before execution (parse, validation) has no path into it either.
    let request_failed = !response.errors.is_empty() && response.data == async_graphql::Value::Null;
    let before_execution = request_failed && response.errors.iter().all(|e| e.path.is_empty());
    let codes: Vec<&'static str> = response
        .errors
        .iter()
        .map(|e| ErrorCode::from_name(e.extensions.as_ref().and_then(|x| x.get("code")).map(ToString::to_string).unwrap_or_default().trim_matches('"')))
        .collect();
    let status = if codes.contains(&ErrorCode::DatabaseUnavailable.as_str()) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if request_failed && (format == Format::GraphqlResponse || codes.first() == Some(&ErrorCode::TooComplex.as_str())) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = body_of(&response, before_execution);
    let mut http = (status, body).into_response();
    http.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        http.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    (http, codes.first().copied().unwrap_or("OK"))
}

/// The response's JSON; one that failed before execution has no `data` entry (the GraphQL
/// spec's "should not be present", which the GraphQL-over-HTTP audit checks).
fn body_of(response: &async_graphql::Response, before_execution: bool) -> Vec<u8> {
    // Sized for a page of members at once: grown from empty, the buffer was copied ten times.
    let mut body = Vec::with_capacity(8 * 1024);
    let written = if before_execution {
        serde_json::to_writer(&mut body, &serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_writer(&mut body, response)
    };
    written.map(|()| body).unwrap_or_else(|_| br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.to_vec())
}

/// A GraphQL-shaped error for a request turned away before execution.
fn refuse(error: &AuthError, request_id: &str) -> Response {
    let status = match error {
        AuthError::Missing | AuthError::Invalid | AuthError::NotBearer => StatusCode::UNAUTHORIZED,
        AuthError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        AuthError::Internal => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut response = request_error(status, Format::Json, error.code(), &error.to_string(), request_id);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        // The bucket refills at least one request a second; the pool frees a connection sooner.
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

async fn sql_queries(State(state): State<HttpState>) -> impl IntoResponse {
    match &state.query_counter {
        Some(c) => (StatusCode::OK, c.load(std::sync::atomic::Ordering::Relaxed).to_string()),
        None => (StatusCode::NOT_FOUND, "query counting is off (LOYALTY_COUNT_QUERIES)".to_string()),
    }
}

/// Liveness: the process answers.
async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness: the database answers and every migration this build knows is applied.
async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    use migration::MigratorTrait;
    if state.draining.is_on() {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready: shutting down".to_string());
    }
    let check = async {
        state.app.db.ping().await?;
        migration::Migrator::get_pending_migrations(&state.app.db).await
    };
    // A load balancer asks often: a database that does not answer is "not ready" within
    // seconds, not after the pool's acquire timeout.
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(pending)) if pending.is_empty() => (StatusCode::OK, "ready".to_string()),
        Ok(Ok(pending)) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {} migrations are not applied", pending.len())),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database does not answer".to_string())
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database does not answer".to_string()),
    }
}

/// `/metrics` on the main port, for scrapers that send the `--metrics-token`.
async fn metrics(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let Some(token) = state.metrics_token.clone() else {
        return (StatusCode::NOT_FOUND, "metrics are not served on this port: see --metrics-bind and --metrics-token").into_response();
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
    if !crate::credentials::same_secret(given.trim(), &token) {
        let mut response = (StatusCode::UNAUTHORIZED, "metrics need Authorization: Bearer <the --metrics-token>").into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    metrics_anywhere(State(state)).await
}

async fn metrics_anywhere(State(state): State<HttpState>) -> Response {
    match crate::metrics::render(&state.app.db).await {
        Ok(text) => {
            let mut response = (StatusCode::OK, text).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics could not be read").into_response()
        }
    }
}
