//! Checks of single inputs shared by several operations: points amounts, money amounts, free
//! text reasons, idempotency keys, reporting periods. Each names the field it refuses.

use chrono::NaiveDate;

use super::money::MAX_AMOUNT_CENTS;
use crate::{DomainError, DomainResult};

/// Largest number of points one operation may add or redeem.
pub const MAX_POINTS_PER_OPERATION: i64 = 1_000_000;

/// Checks a points amount for one operation.
pub fn check_points(field: &str, points: i64) -> DomainResult<i64> {
    if points <= 0 {
        return Err(DomainError::validation(field, "must be a positive whole number"));
    }
    if points > MAX_POINTS_PER_OPERATION {
        return Err(DomainError::validation(field, format!("must be at most {MAX_POINTS_PER_OPERATION} in one operation")));
    }
    Ok(points)
}

/// Longest idempotency key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// Checks a client-supplied key.
pub fn check_key(key: &str) -> DomainResult<String> {
    let key = key.trim();
    if key.is_empty() {
        return Err(DomainError::validation("idempotencyKey", "must not be empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(DomainError::validation("idempotencyKey", format!("must be at most {MAX_KEY_LEN} characters")));
    }
    Ok(key.to_string())
}

/// Longest reason text accepted.
pub const MAX_REASON_LEN: usize = 500;

/// Checks an optional free-text reason.
pub fn check_reason(reason: Option<&str>) -> DomainResult<Option<String>> {
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    if reason.chars().count() > MAX_REASON_LEN {
        return Err(DomainError::validation("reason", format!("must be at most {MAX_REASON_LEN} characters")));
    }
    Ok(Some(reason.to_string()))
}

/// Checks an order amount in cents.
pub fn check_amount(field: &str, cents: i64) -> DomainResult<i64> {
    if cents < 0 {
        return Err(DomainError::validation(field, "must not be negative"));
    }
    if cents > MAX_AMOUNT_CENTS {
        return Err(DomainError::validation(field, "must not exceed 1000000.00"));
    }
    Ok(cents)
}

/// Checks a reporting period: `from`–`to` inclusive, at most three years.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> DomainResult<()> {
    if to < from {
        return Err(DomainError::validation("to", "must not be before from"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(DomainError::validation("to", "a period spans at most three years"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: DomainResult<impl std::fmt::Debug>) -> String {
        match r {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn each_check_names_its_field() {
        assert_eq!(check_points("points", 5).unwrap(), 5);
        assert_eq!(field(check_points("points", 0)), "points");
        assert_eq!(field(check_points("points", MAX_POINTS_PER_OPERATION + 1)), "points");
        assert_eq!(check_amount("amount", 0).unwrap(), 0);
        assert_eq!(field(check_amount("orderAmount", -1)), "orderAmount");
        assert_eq!(check_reason(Some("  ")).unwrap(), None);
        assert_eq!(field(check_reason(Some(&"x".repeat(MAX_REASON_LEN + 1)))), "reason");
        assert_eq!(check_key(" k ").unwrap(), "k");
        assert_eq!(field(check_key(&"k".repeat(MAX_KEY_LEN + 1))), "idempotencyKey");
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(check_period(d("2026-01-01"), d("2026-01-01")).is_ok());
        assert_eq!(field(check_period(d("2026-01-02"), d("2026-01-01"))), "to");
    }
}
