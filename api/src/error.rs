//! The API layer's errors and how they appear to clients: every GraphQL error carries a
//! stable `extensions.code`; internal causes are logged, never shown.

use async_graphql::{ErrorExtensions, Value};
use entity::DomainError;

/// Stable error codes clients can branch on.
pub mod code {
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const VALIDATION: &str = "VALIDATION";
    pub const INSUFFICIENT_POINTS: &str = "INSUFFICIENT_POINTS";
    pub const CUSTOMER_BLOCKED: &str = "CUSTOMER_BLOCKED";
    pub const IDEMPOTENCY_CONFLICT: &str = "IDEMPOTENCY_CONFLICT";
    pub const INTERNAL: &str = "INTERNAL";
    /// The HTTP request itself is malformed (not JSON, no document, wrong content type …).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
}

/// An error a resolver returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A domain operation refused or failed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A domain error shared by a DataLoader among the fields that asked for it.
    #[error(transparent)]
    Shared(#[from] std::sync::Arc<DomainError>),
}

impl ApiError {
    /// A validation error on an argument.
    pub fn validation(field: &str, message: impl std::fmt::Display) -> Self {
        Self::Domain(DomainError::validation(field, message))
    }

    /// A not-found error.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::Domain(DomainError::not_found(what))
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let err: &DomainError = match self {
            ApiError::Domain(err) => err,
            ApiError::Shared(err) => err,
        };
        match err {
            DomainError::NotFound { .. } => async_graphql::Error::new(err.to_string()).extend_with(|_, e| e.set("code", code::NOT_FOUND)),
            DomainError::Validation { field, .. } => {
                let field = field.clone();
                async_graphql::Error::new(err.to_string()).extend_with(move |_, e| {
                    e.set("code", code::VALIDATION);
                    e.set("field", field.as_str());
                })
            }
            DomainError::InsufficientPoints { available, requested } => {
                let (available, requested) = (*available, *requested);
                async_graphql::Error::new(err.to_string()).extend_with(move |_, e| {
                    e.set("code", code::INSUFFICIENT_POINTS);
                    e.set("available", available);
                    e.set("requested", requested);
                })
            }
            DomainError::CustomerBlocked { .. } => {
                async_graphql::Error::new(err.to_string()).extend_with(|_, e| e.set("code", code::CUSTOMER_BLOCKED))
            }
            DomainError::IdempotencyConflict { .. } => {
                async_graphql::Error::new(err.to_string()).extend_with(|_, e| e.set("code", code::IDEMPOTENCY_CONFLICT))
            }
            DomainError::Database(_) | DomainError::Internal(_) => {
                tracing::error!(error = %err, "internal error");
                async_graphql::Error::new("internal error; the request id identifies it in the service log")
                    .extend_with(|_, e| e.set("code", code::INTERNAL))
            }
        }
    }
}

/// Turns domain results into GraphQL results with their error codes.
pub trait IntoGql<T> {
    /// Maps the error through [`ApiError`].
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> IntoGql<T> for Result<T, E> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().extend())
    }
}

/// Gives every error in a response a `code` (errors raised by GraphQL itself, such as a
/// misspelt field or a bad argument, get `VALIDATION`) and the request id.
pub fn finish_errors(response: &mut async_graphql::Response, request_id: &str) {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code::VALIDATION);
        }
        ext.set("requestId", Value::String(request_id.to_string()));
    }
}
