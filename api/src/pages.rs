//! The public HTML pages: the one-click unsubscribe link of marketing emails (RFC 8058). A GET
//! shows a confirmation page; a POST (the button, or a mail client's one-click request) opts
//! the customer out of email at once, without a login. Forged or altered tokens are refused.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use entity::rules::content::escape_html;

use crate::graphql::context::AppState;

/// The link's query.
#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
    /// The delivery whose email carried the link (for the campaign's unsubscribe count).
    #[serde(default)]
    d: Option<i64>,
    /// A test email's token (`sendTestEmail`): the link works, and unsubscribes no one.
    #[serde(default)]
    test: Option<String>,
}

/// The page of a test email's link, or `None` when the link is a member's.
fn test_page(app: &AppState, q: &TokenQuery) -> Option<Response> {
    let token = q.test.as_deref()?;
    Some(match app.jobs.links.verify_test(token) {
        Some(_) => page(
            StatusCode::OK,
            "This was a test email",
            "<p>The unsubscribe link works. In the campaign's real emails it unsubscribes the member it was sent to; this test unsubscribed no one.</p>",
        ),
        None => invalid(),
    })
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head><body style=\"font-family: sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem;\">\
         <h1>{title}</h1>{body}</body></html>",
        title = escape_html(title)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn invalid() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "This link is not valid",
        "<p>The unsubscribe link is incomplete or was changed. Please use the link from the email exactly as it is.</p>",
    )
}

fn failed(e: &entity::DomainError, customer_id: i64) -> Response {
    tracing::error!(error = %e, customer_id, "unsubscribe failed");
    page(StatusCode::INTERNAL_SERVER_ERROR, "Please try again", "<p>Something went wrong on our side.</p>")
}

fn gone() -> Response {
    page(StatusCode::NOT_FOUND, "Nothing to unsubscribe", "<p>We no longer hold this membership.</p>")
}

/// `GET /unsubscribe?token=…`: asks for confirmation, naming the restaurant.
pub async fn unsubscribe_form(State(app): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    if let Some(test) = test_page(&app, &q) {
        return test;
    }
    let Some(customer_id) = app.jobs.links.verify(&q.token) else { return invalid() };
    let restaurant = match entity::ops::privacy::restaurant_of(&app.db, customer_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return gone(),
        Err(e) => return failed(&e, customer_id),
    };
    page(
        StatusCode::OK,
        &format!("Unsubscribe from {} emails", restaurant.name),
        &format!(
            "<p>Do you want to stop receiving marketing emails from {}?</p>\
             <form method=\"post\" action=\"/unsubscribe?token={}{}\"><button type=\"submit\">Unsubscribe</button></form>",
            escape_html(&restaurant.name),
            escape_html(&q.token),
            q.d.map(|d| format!("&amp;d={d}")).unwrap_or_default()
        ),
    )
}

/// `POST /unsubscribe?token=…`: opts out at once.
pub async fn unsubscribe(State(app): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    if let Some(test) = test_page(&app, &q) {
        return test;
    }
    let Some(customer_id) = app.jobs.links.verify(&q.token) else { return invalid() };
    match entity::ops::privacy::unsubscribe(&app.db, &app.vault, customer_id, q.d).await {
        Ok(Some(done)) => {
            tracing::info!(customer_id, restaurant = %done.restaurant.id, "customer unsubscribed from email");
            page(
                StatusCode::OK,
                "You are unsubscribed",
                &format!(
                    "<p>{} will receive no more marketing emails from {}.</p>",
                    escape_html(done.email.as_deref().unwrap_or("Your address")),
                    escape_html(&done.restaurant.name)
                ),
            )
        }
        Ok(None) => gone(),
        Err(e) => failed(&e, customer_id),
    }
}
