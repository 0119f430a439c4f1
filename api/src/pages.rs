//! The public HTML pages marketing emails link to, without a login: the one-click unsubscribe
//! link (RFC 8058; a GET shows a confirmation page, a POST — the button, or a mail client's
//! one-click request — opts the member out of email at once) and "Manage preferences" (a form
//! of the member's email choices). Forged or altered tokens are refused.

use std::collections::HashMap;

use axum::Form;
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
fn test_page(app: &AppState, q: &TokenQuery, what: &str) -> Option<Response> {
    let token = q.test.as_deref()?;
    Some(match app.jobs.links.verify_test(token) {
        Some(_) => page(
            StatusCode::OK,
            "This was a test email",
            &format!("<p>The {what} link works. In the campaign's real emails it opens the page of the member it was sent to; this test changed no one.</p>"),
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
    if let Some(test) = test_page(&app, &q, "unsubscribe") {
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
    if let Some(test) = test_page(&app, &q, "unsubscribe") {
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

/// The choices form of `page`, posting back to the same link.
fn preferences_form(q: &TokenQuery, p: &entity::ops::preferences::Page, note: &str) -> Response {
    let choices = p.choices;
    let box_for = |name: &str, on: bool, label: &str| {
        format!("<p><label><input type=\"checkbox\" name=\"{name}\"{}> {label}</label></p>", if on { " checked" } else { "" })
    };
    let name = escape_html(&p.restaurant.name);
    page(
        StatusCode::OK,
        &format!("Your emails from {}", p.restaurant.name),
        &format!(
            "{note}<form method=\"post\" action=\"/preferences?token={}{}\">{}{}{}{}<p><button type=\"submit\">Save my choices</button></p></form>",
            escape_html(&q.token),
            q.d.map(|d| format!("&amp;d={d}")).unwrap_or_default(),
            box_for("email", choices.email, &format!("Emails from {name} (news, your points and rewards)")),
            box_for("offers", choices.special_offers, "Special offers"),
            box_for("birthday", choices.birthday_offers, "Birthday offers"),
            box_for("anniversary", choices.anniversary_offers, "Anniversary offers"),
        ),
    )
}

/// `GET /preferences?token=…`: the member's email choices, as a form.
pub async fn preferences_form_page(State(app): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    if let Some(test) = test_page(&app, &q, "preferences") {
        return test;
    }
    let Some(customer_id) = app.jobs.links.verify(&q.token) else { return invalid() };
    match entity::ops::preferences::read(&app.db, customer_id).await {
        Ok(Some(p)) => preferences_form(&q, &p, ""),
        Ok(None) => gone(),
        Err(e) => failed(&e, customer_id),
    }
}

/// `POST /preferences?token=…`: saves the ticked choices (an unticked box turns that email off).
pub async fn save_preferences(State(app): State<AppState>, Query(q): Query<TokenQuery>, Form(form): Form<HashMap<String, String>>) -> Response {
    if let Some(test) = test_page(&app, &q, "preferences") {
        return test;
    }
    let Some(customer_id) = app.jobs.links.verify(&q.token) else { return invalid() };
    let choices = entity::ops::preferences::Choices {
        email: form.contains_key("email"),
        special_offers: form.contains_key("offers"),
        birthday_offers: form.contains_key("birthday"),
        anniversary_offers: form.contains_key("anniversary"),
    };
    match entity::ops::preferences::save(&app.db, &app.vault, customer_id, q.d, choices).await {
        Ok(Some(p)) => {
            tracing::info!(customer_id, restaurant = %p.restaurant.id, "customer saved email preferences");
            preferences_form(&q, &p, "<p><strong>Your choices are saved.</strong></p>")
        }
        Ok(None) => gone(),
        Err(e) => failed(&e, customer_id),
    }
}
