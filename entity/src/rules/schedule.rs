//! When a campaign goes out: a local date and time, or a cron expression, both in the
//! restaurant's time zone. The scheduler works in whole minutes, so a cron expression must have
//! a seconds field of `0`.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use super::programme::local_instant;
use crate::{DomainError, DomainResult};

/// Parses a cron expression with seconds (`sec min hour day month weekday`), refusing a seconds
/// field other than `0` (it would never, or only once a minute, run).
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    let seconds = expr.split_whitespace().next().unwrap_or_default();
    if seconds != "0" {
        return Err(format!("cron expression {expr:?}: jobs run on whole minutes, so its first (seconds) field must be 0, e.g. \"0 */15 * * * *\""));
    }
    CronParser::builder().seconds(Seconds::Required).dom_and_dow(true).build().parse(expr).map_err(|e| format!("cron expression {expr:?}: {e}"))
}

/// The first minute after `after` that `cron` matches in zone `tz`.
pub fn next_after(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false).ok().map(|t| t.with_timezone(&Utc))
}

/// A local date and time (`YYYY-MM-DDTHH:MM`) in `tz`, which must be after `now`.
pub fn check_send_at(field: &str, text: &str, tz: Tz, now: DateTime<Utc>) -> DomainResult<(String, DateTime<Utc>)> {
    let local = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| DomainError::validation(field, "must be a local date and time YYYY-MM-DDTHH:MM, e.g. 2026-12-24T18:00"))?;
    let at = local_instant(tz, local);
    if at <= now {
        return Err(DomainError::validation(field, format!("{text} in {tz} is in the past")));
    }
    Ok((local.format("%Y-%m-%dT%H:%M").to_string(), at))
}

/// A recurring schedule: the expression and its first run after `now` in `tz`.
pub fn check_cron(field: &str, expr: &str, tz: Tz, now: DateTime<Utc>) -> DomainResult<(String, DateTime<Utc>)> {
    let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let cron = parse_cron(&expr).map_err(|e| DomainError::validation(field, e))?;
    let next = next_after(&cron, tz, now).ok_or_else(|| DomainError::validation(field, "never matches a future time"))?;
    Ok((expr, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_times_are_in_the_restaurant_zone_and_must_be_ahead() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let auckland: Tz = "Pacific/Auckland".parse().unwrap();
        let (text, at) = check_send_at("sendAt", "2026-11-27T09:00", auckland, now).unwrap();
        assert_eq!((text.as_str(), at), ("2026-11-27T09:00", Utc.with_ymd_and_hms(2026, 11, 26, 20, 0, 0).unwrap()));
        assert!(check_send_at("sendAt", "2026-11-26T09:00", auckland, now + chrono::Duration::days(1)).is_err(), "past");
        assert!(check_send_at("sendAt", "tomorrow", auckland, now).is_err());
    }

    #[test]
    fn cron_runs_in_the_zone_and_needs_whole_minutes() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let (expr, next) = check_cron("cron", "0  0 18 * * FRI", la, now).unwrap();
        assert_eq!(expr, "0 0 18 * * FRI");
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap(), "Friday 18:00 PST");
        assert!(check_cron("cron", "30 * * * * *", la, now).unwrap_err().to_string().contains("must be 0"));
        assert!(parse_cron("every day").is_err());
    }
}
