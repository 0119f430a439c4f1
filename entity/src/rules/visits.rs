//! Visit statistics derived from the stored counters.

use chrono::{DateTime, Utc};

/// Average order value in cents, rounded half up; zero before the first visit.
pub fn average_order_cents(total_spent_cents: i64, total_visits: i64) -> i64 {
    if total_visits <= 0 { 0 } else { (total_spent_cents + total_visits / 2) / total_visits }
}

/// Average days in a month, for visit frequency.
const DAYS_PER_MONTH: f64 = 30.4375;

/// Visits per month since the first visit (a first month counts as a whole month), to two
/// decimals; zero before the first visit.
pub fn average_visits_per_month(total_visits: i64, first_visit: Option<DateTime<Utc>>, now: DateTime<Utc>) -> f64 {
    let Some(first) = first_visit else { return 0.0 };
    let months = ((now - first).num_seconds() as f64 / 86_400.0 / DAYS_PER_MONTH).max(1.0);
    (total_visits as f64 / months * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn average_rounds_half_up_and_is_zero_without_visits() {
        assert_eq!(average_order_cents(0, 0), 0);
        assert_eq!(average_order_cents(100, 3), 33);
        assert_eq!(average_order_cents(5, 2), 3);
    }

    #[test]
    fn visits_per_month_counts_at_least_one_month() {
        let now = Utc::now();
        assert_eq!(average_visits_per_month(0, None, now), 0.0);
        assert_eq!(average_visits_per_month(3, Some(now - Duration::days(3)), now), 3.0);
        assert_eq!(average_visits_per_month(12, Some(now - Duration::days(365)), now), 1.0);
    }
}
