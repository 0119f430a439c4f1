//! The domain layer's one error type.

use sea_orm::DbErr;

/// What can go wrong in a domain operation. Everything but [`DomainError::Database`] is the
/// caller's to fix; the message is written for people.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing does not exist in the caller's restaurant.
    #[error("{what} not found")]
    NotFound { what: String },
    /// An input was refused.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// A redemption asked for more points than the customer has.
    #[error("insufficient points: {available} available, {requested} requested")]
    InsufficientPoints { available: i64, requested: i64 },
    /// A blocked customer cannot earn, redeem or visit.
    #[error("customer {id} is blocked")]
    CustomerBlocked { id: i64 },
    /// An idempotency key was reused with different arguments.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyConflict { key: String },
    /// A voucher that cannot be used (already used, expired or voided).
    #[error("voucher {code}: {problem}")]
    Voucher { code: String, problem: crate::rules::rewards::VoucherProblem },
    /// A reward the member may not redeem now (tier, window, stock).
    #[error("{reason}")]
    RewardUnavailable { reason: String },
    /// The thing is not in a state that allows this (e.g. editing a sent campaign).
    #[error("{message}")]
    InvalidState { message: String },
    /// A unique value another thing already holds (a phone number another member has), or a
    /// concurrent change of the same thing won.
    #[error("{message}")]
    Conflict { message: String },
    /// A restaurant setting this needs is not set (e.g. the postal address before marketing).
    #[error("{message}")]
    SettingRequired { setting: String, message: String },
    /// Personal data whose key was destroyed by an erasure (a copy of the data from before it).
    #[error("{what}'s personal data was erased")]
    Erased { what: String },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// Something else failed that the caller cannot fix (details for the log only).
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// The thing's state does not allow the change.
    pub fn invalid_state(message: impl std::fmt::Display) -> Self {
        Self::InvalidState { message: message.to_string() }
    }

    /// A validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Validation { field: field.into(), message: message.to_string() }
    }

    /// An internal failure (logged, never shown to clients).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// A not-found error, e.g. `not_found(format!("customer {id}"))`.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }
}

/// Result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;
