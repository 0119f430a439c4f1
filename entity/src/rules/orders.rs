//! Orders recorded late: when an order may say it happened (`occurredAt`), where and through
//! which channel, and which points expiry a late order undoes. A late order must leave the
//! member as if it had arrived on time; what the counters cannot show by themselves (an expiry
//! that ran between the order and its arrival) is decided here.

use chrono::{DateTime, Duration, Utc};

use super::expiry::ExpiryPolicy;
use crate::{DomainError, DomainResult};

/// How far ahead of the service's clock a POS's clock may be.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
/// Default of how old a live order may be (`LOYALTY_LATE_ORDER_DAYS`); older ones are imported.
pub const DEFAULT_LATE_DAYS: u32 = 30;
/// Longest location or channel name.
pub const MAX_NAME: usize = 100;
/// Most line items in one order.
pub const MAX_ITEMS: usize = 200;
/// Largest quantity of one line item.
pub const MAX_QUANTITY: i64 = 1_000;

/// An order id: trimmed, 1 to 100 characters.
pub fn check_order_id(order_id: &str) -> DomainResult<String> {
    let order_id = order_id.trim();
    if order_id.is_empty() || order_id.len() > 100 {
        return Err(DomainError::validation("orderId", "must be 1 to 100 characters"));
    }
    Ok(order_id.to_string())
}

/// When an order happened: `occurred_at` (at most [`CLOCK_SKEW`] ahead of `now`, at most
/// `late_days` behind it; imports: no bound) or `now`. Truncated to microseconds, as stored.
pub fn occurred_at(occurred_at: Option<DateTime<Utc>>, now: DateTime<Utc>, late_days: Option<u32>) -> DomainResult<DateTime<Utc>> {
    let Some(at) = occurred_at else { return Ok(now) };
    let at = chrono::DurationRound::duration_trunc(at, Duration::microseconds(1)).unwrap_or(at);
    if at > now + CLOCK_SKEW {
        return Err(DomainError::validation("occurredAt", format!("{} is in the future (the service's clock says {})", at.to_rfc3339(), now.to_rfc3339())));
    }
    if let Some(late_days) = late_days
        && at < now - Duration::days(i64::from(late_days))
    {
        return Err(DomainError::validation(
            "occurredAt",
            format!("is more than {late_days} days ago; older orders are brought in with `loyalty import orders`"),
        ));
    }
    Ok(std::cmp::min(at, now))
}

/// A location or channel name: trimmed, 1 to [`MAX_NAME`] characters, or none.
pub fn name(field: &str, value: Option<&str>) -> DomainResult<Option<String>> {
    let Some(value) = value.map(str::trim) else { return Ok(None) };
    if value.is_empty() || value.chars().count() > MAX_NAME || value.chars().any(char::is_control) {
        return Err(DomainError::validation(field, format!("must be 1 to {MAX_NAME} characters without control characters")));
    }
    Ok(Some(value.to_string()))
}

/// Whether an order at `order_at` undoes an expiry that ran at `expired_at`: the expiry ran
/// after the order, before the balance would have expired had the order been recorded on time.
pub fn undoes_expiry(policy: &ExpiryPolicy, order_at: DateTime<Utc>, expired_at: DateTime<Utc>) -> bool {
    order_at < expired_at && policy.expires_at(order_at).is_none_or(|expires| expires > expired_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
    }

    #[test]
    fn an_order_may_be_a_little_ahead_and_up_to_the_window_behind() {
        assert_eq!(occurred_at(None, now(), Some(30)).unwrap(), now());
        assert_eq!(occurred_at(Some(now() + Duration::minutes(4)), now(), Some(30)).unwrap(), now(), "a fast POS clock counts as now");
        let err = occurred_at(Some(now() + Duration::minutes(6)), now(), Some(30)).unwrap_err();
        assert!(err.to_string().starts_with("occurredAt: 2026-06-15T12:06:00+00:00 is in the future"), "{err}");
        let late = now() - Duration::days(30) + Duration::seconds(1);
        assert_eq!(occurred_at(Some(late), now(), Some(30)).unwrap(), late);
        let err = occurred_at(Some(now() - Duration::days(31)), now(), Some(30)).unwrap_err();
        assert_eq!(err.to_string(), "occurredAt: is more than 30 days ago; older orders are brought in with `loyalty import orders`");
        let years = now() - Duration::days(3_000);
        assert_eq!(occurred_at(Some(years), now(), None).unwrap(), years, "an import reaches any time back");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("location", Some("  Harbour St ")).unwrap().as_deref(), Some("Harbour St"));
        assert_eq!(name("location", None).unwrap(), None);
        assert!(name("channel", Some(" ")).is_err());
        assert!(name("channel", Some(&"x".repeat(101))).is_err());
        assert!(name("channel", Some("dine\nin")).is_err());
    }

    #[test]
    fn a_late_order_undoes_an_expiry_it_would_have_prevented() {
        let twelve = ExpiryPolicy { months: 12, ..Default::default() };
        let order = now() - Duration::days(2);
        assert!(undoes_expiry(&twelve, order, now()), "the expiry ran after the order, within its year");
        assert!(!undoes_expiry(&twelve, order, order - Duration::days(1)), "an expiry before the order stands");
        assert!(!undoes_expiry(&twelve, now() - Duration::days(400), now()), "a year had passed since the order anyway");
        assert!(undoes_expiry(&ExpiryPolicy::default(), order, now()), "with expiry off no expiry is earned by time");
    }
}
