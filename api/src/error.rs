//! The API layer's errors and how they appear to clients: every GraphQL error carries a
//! stable `extensions.code`; internal causes are logged, never shown.

use async_graphql::{ErrorExtensions, Value};
use entity::DomainError;
use entity::rules::rewards::VoucherProblem;

/// The stable error codes clients branch on (`extensions.code`); every layer's errors map into
/// one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum ErrorCode {
    /// No such thing in your restaurant (also for malformed ids).
    NotFound,
    /// A bad argument (`extensions.field` names it), or a malformed GraphQL request.
    Validation,
    /// A redemption above the balance.
    InsufficientPoints,
    /// Points, visits or orders for a blocked member.
    CustomerBlocked,
    /// An idempotency key reused with other arguments.
    IdempotencyConflict,
    /// No, a malformed, expired or revoked token (HTTP 401).
    Unauthenticated,
    /// The token's role (or kind) may not use the field.
    Forbidden,
    /// Too many requests for one key (HTTP 429).
    RateLimited,
    /// A voucher was already used.
    AlreadyRedeemed,
    /// A voucher is past its expiry date.
    VoucherExpired,
    /// A voucher was voided.
    VoucherVoided,
    /// The member may not redeem this reward now (tier, window, stock).
    RewardUnavailable,
    /// The thing's state does not allow this now (e.g. editing a sent campaign).
    InvalidState,
    /// The HTTP request itself is malformed (not JSON, no document, wrong content type …).
    BadRequest,
    /// The request asks for more than one request may (nesting, aliases, cost): HTTP 400.
    TooComplex,
    /// Another member already has the value (a phone number), or a concurrent change of the same
    /// thing won: read it again.
    Conflict,
    /// A restaurant setting this needs is not set (`extensions.setting` names it, e.g.
    /// `postalAddress` before any marketing email): set it with `updateRestaurant`.
    SettingRequired,
    /// Personal data whose key an erasure destroyed (read from a copy taken before it).
    DataErased,
    /// The database cannot be reached or has no connection free now: retry shortly (HTTP 503
    /// with `Retry-After`).
    DatabaseUnavailable,
    /// The service failed; details only in the log.
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::NotFound,
        ErrorCode::Validation,
        ErrorCode::InsufficientPoints,
        ErrorCode::CustomerBlocked,
        ErrorCode::IdempotencyConflict,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::AlreadyRedeemed,
        ErrorCode::VoucherExpired,
        ErrorCode::VoucherVoided,
        ErrorCode::RewardUnavailable,
        ErrorCode::InvalidState,
        ErrorCode::BadRequest,
        ErrorCode::TooComplex,
        ErrorCode::Conflict,
        ErrorCode::SettingRequired,
        ErrorCode::DataErased,
        ErrorCode::DatabaseUnavailable,
        ErrorCode::Internal,
    ];

    /// The code named `name` as clients see it, as its own static text (`OTHER` for a name that
    /// is no code), so that metrics labels stay a fixed set.
    pub fn from_name(name: &str) -> &'static str {
        Self::ALL.iter().map(|c| c.as_str()).find(|c| *c == name).unwrap_or("OTHER")
    }

    /// The code as clients see it, e.g. `NOT_FOUND`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::InsufficientPoints => "INSUFFICIENT_POINTS",
            ErrorCode::CustomerBlocked => "CUSTOMER_BLOCKED",
            ErrorCode::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::AlreadyRedeemed => "ALREADY_REDEEMED",
            ErrorCode::VoucherExpired => "VOUCHER_EXPIRED",
            ErrorCode::VoucherVoided => "VOUCHER_VOIDED",
            ErrorCode::RewardUnavailable => "REWARD_UNAVAILABLE",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::TooComplex => "TOO_COMPLEX",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::SettingRequired => "SETTING_REQUIRED",
            ErrorCode::DataErased => "DATA_ERASED",
            ErrorCode::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// The code of a domain error.
    pub fn of(err: &DomainError) -> Self {
        match err {
            DomainError::NotFound { .. } => ErrorCode::NotFound,
            DomainError::Validation { .. } => ErrorCode::Validation,
            DomainError::InsufficientPoints { .. } => ErrorCode::InsufficientPoints,
            DomainError::CustomerBlocked { .. } => ErrorCode::CustomerBlocked,
            DomainError::IdempotencyConflict { .. } => ErrorCode::IdempotencyConflict,
            DomainError::Voucher { problem, .. } => match problem {
                VoucherProblem::AlreadyRedeemed => ErrorCode::AlreadyRedeemed,
                VoucherProblem::Expired => ErrorCode::VoucherExpired,
                VoucherProblem::Voided => ErrorCode::VoucherVoided,
            },
            DomainError::RewardUnavailable { .. } => ErrorCode::RewardUnavailable,
            DomainError::InvalidState { .. } => ErrorCode::InvalidState,
            DomainError::Conflict { .. } => ErrorCode::Conflict,
            DomainError::SettingRequired { .. } => ErrorCode::SettingRequired,
            DomainError::Erased { .. } => ErrorCode::DataErased,
            DomainError::Database(e) if unavailable(e) => ErrorCode::DatabaseUnavailable,
            DomainError::Database(_) | DomainError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Whether a database error says the database cannot be reached or has no connection free
/// now (worth a retry), rather than that the statement failed.
pub fn unavailable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => match &**s {
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
            Sqlx::Database(db) => db.code().is_some_and(|c| retry_later(&c)),
            _ => false,
        },
        _ => false,
    }
}

/// Database error codes that say "not now" rather than "not this": PostgreSQL's connection
/// exceptions (class 08), operator intervention (57P01 terminated by an administrator or a
/// failover, 57P02 crash, 57P03 cannot connect now) and too many connections (53300); SQLite's
/// busy and locked (5, 6 and their extended codes 261, 517, 262).
fn retry_later(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || matches!(code, "53300" | "5" | "6" | "261" | "517" | "262")
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
        let code = ErrorCode::of(err).as_str();
        match err {
            DomainError::Validation { field, .. } => {
                let field = field.clone();
                async_graphql::Error::new(err.to_string()).extend_with(move |_, e| {
                    e.set("code", code);
                    e.set("field", field.as_str());
                })
            }
            DomainError::SettingRequired { setting, .. } => {
                let setting = setting.clone();
                async_graphql::Error::new(err.to_string()).extend_with(move |_, e| {
                    e.set("code", code);
                    e.set("setting", setting.as_str());
                })
            }
            DomainError::InsufficientPoints { available, requested } => {
                let (available, requested) = (*available, *requested);
                async_graphql::Error::new(err.to_string()).extend_with(move |_, e| {
                    e.set("code", code);
                    e.set("available", available);
                    e.set("requested", requested);
                })
            }
            DomainError::Database(e) if unavailable(e) => {
                tracing::warn!(error = %err, "the database is unavailable");
                async_graphql::Error::new("the database is unavailable or busy; retry shortly").extend_with(move |_, e| e.set("code", code))
            }
            DomainError::Database(_) | DomainError::Internal(_) => {
                tracing::error!(error = %err, "internal error");
                async_graphql::Error::new("internal error; the request id identifies it in the service log").extend_with(move |_, e| e.set("code", code))
            }
            _ => async_graphql::Error::new(err.to_string()).extend_with(move |_, e| e.set("code", code)),
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

/// The code of an error raised by GraphQL itself: a limit of the schema is `TOO_COMPLEX`, the
/// rest `VALIDATION`.
fn error_code_of_graphql(message: &str) -> ErrorCode {
    const LIMITS: [&str; 3] = ["Query is too complex.", "Query is nested too deep.", "The recursion depth of the query cannot be greater than"];
    if LIMITS.iter().any(|l| message.starts_with(l)) { ErrorCode::TooComplex } else { ErrorCode::Validation }
}

/// Gives every error in a response a `code` (errors raised by GraphQL itself, such as a
/// misspelt field or a bad argument, get `VALIDATION`) and the request id.
pub fn finish_errors(response: &mut async_graphql::Response, request_id: &str) {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", error_code_of_graphql(&error.message).as_str());
        }
        ext.set("requestId", Value::String(request_id.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnAcquireErr, DbErr};

    use super::*;

    #[test]
    fn a_pool_timeout_or_lost_connection_is_unavailable_not_internal() {
        let timeout = DomainError::Database(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout));
        assert_eq!(ErrorCode::of(&timeout), ErrorCode::DatabaseUnavailable);
        let broken = DomainError::Database(DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(sea_orm::sqlx::Error::PoolClosed))));
        assert_eq!(ErrorCode::of(&broken), ErrorCode::DatabaseUnavailable);
        assert_eq!(ErrorCode::of(&DomainError::Database(DbErr::Custom("constraint".into()))), ErrorCode::Internal);
        assert!(retry_later("57P01") && retry_later("08006") && retry_later("5") && !retry_later("23505") && !retry_later("2067"));
    }
}
