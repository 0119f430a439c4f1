//! Checks of a restaurant's settings. Every check names the field as GraphQL and the CLI spell
//! it, so a refused update says which value to fix; a refused update changes nothing.

use chrono_tz::Tz;

use super::programme::parse_time_of_day;
use crate::entities::restaurant;
use crate::{DomainError, DomainResult};

/// Longest restaurant id (the slug keys and tokens carry).
pub const MAX_ID_LEN: usize = 64;

/// Checks a restaurant id (the slug keys and tokens carry): 1 to 64 letters, digits, `-` or
/// `_`.
pub fn check_id(id: &str) -> DomainResult<()> {
    let ok = !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(DomainError::validation("restaurant", "must be 1 to 64 letters, digits, '-' or '_'")) }
}

fn text(field: &str, value: &str, max: usize) -> DomainResult<()> {
    if value.trim().is_empty() || value.trim() != value {
        return Err(DomainError::validation(field, "must not be empty or start or end with spaces"));
    }
    if value.chars().count() > max {
        return Err(DomainError::validation(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::validation(field, "must not contain control characters"));
    }
    Ok(())
}

/// An address emails can be sent from or replied to (`name@host`; `localhost` is allowed for
/// development).
fn address(field: &str, value: &str) -> DomainResult<()> {
    if value.len() > 254 || !email_address::EmailAddress::is_valid(value) || value.contains(['<', '>', ' ']) {
        return Err(DomainError::validation(field, "must be an email address such as hello@example.com"));
    }
    Ok(())
}

fn range(field: &str, value: i64, min: i64, max: i64) -> DomainResult<()> {
    if (min..=max).contains(&value) { Ok(()) } else { Err(DomainError::validation(field, format!("must be between {min} and {max}"))) }
}

/// Checks every setting of a restaurant row.
pub fn check(r: &restaurant::Model) -> DomainResult<()> {
    check_id(&r.id)?;
    text("name", &r.name, 100)?;
    if r.timezone.parse::<Tz>().is_err() {
        return Err(DomainError::validation("timezone", format!("{:?} is not an IANA time zone such as Europe/Paris", r.timezone)));
    }
    text("senderName", &r.sender_name, 100)?;
    address("mailFrom", &r.mail_from)?;
    if let Some(reply_to) = &r.reply_to {
        address("replyTo", reply_to)?;
    }
    if let Some(url) = &r.public_url {
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        if url.len() > 500 || rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::validation("publicUrl", "must be an http(s) URL such as https://loyalty.example.com"));
        }
    }
    if r.currency.len() != 3 || !r.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(DomainError::validation("currency", "must be a three-letter ISO 4217 code such as USD"));
    }
    range("pointsPerDollar", r.points_per_dollar, 1, 1_000)?;
    range("pointsPerRedeemedDollar", r.points_per_redeemed_dollar, 1, 100_000)?;
    range("referralBonus", r.referral_bonus, 0, 100_000)?;
    for (field, value) in [
        ("tierDiscounts.bronze", r.discount_bronze),
        ("tierDiscounts.silver", r.discount_silver),
        ("tierDiscounts.gold", r.discount_gold),
        ("tierDiscounts.platinum", r.discount_platinum),
        ("tierDiscounts.vip", r.discount_vip),
    ] {
        range(field, i64::from(value), 0, 100)?;
    }
    range("dormantDays", i64::from(r.dormant_days), 2, 3_650)?;
    range("atRiskDays", i64::from(r.at_risk_days), 1, i64::from(r.dormant_days) - 1)
        .map_err(|_| DomainError::validation("atRiskDays", "must be at least 1 and less than dormantDays"))?;
    range("occasionLeadDays", i64::from(r.occasion_lead_days), 0, 30)?;
    range("winBackDays", i64::from(r.win_back_days), 1, 365)?;
    range("frequencyCap.emails", i64::from(r.cap_emails), 1, 100)?;
    range("winBackVoucherPercent", i64::from(r.win_back_percent), 0, 100)?;
    range("pointsExpiryMonths", i64::from(r.expiry_months), 0, 120)?;
    let digest: Vec<&str> = r.digest_emails.split(',').filter(|a| !a.is_empty()).collect();
    if digest.len() > 10 || digest.iter().any(|a| crate::rules::contact::normalize_email(a).is_err()) {
        return Err(DomainError::validation("staffDigestEmails", "must be at most 10 valid email addresses"));
    }
    range("expiryWarningDays", i64::from(r.expiry_warning_days), 0, 365)?;
    range("welcomeFollowUpDays", i64::from(r.welcome_follow_up_days), 1, 90)?;
    range("nearingRewardPoints", i64::from(r.nearing_points), 1, 100_000)?;
    range("idempotencyRetentionDays", i64::from(r.keep_idempotency_days), 1, 3_650)?;
    range("jobRunRetentionDays", i64::from(r.keep_job_run_days), 7, 3_650)?;
    let least = [60, r.cap_days, r.win_back_days].into_iter().max().unwrap_or(60);
    range("deliveryRetentionDays", i64::from(r.keep_delivery_days), i64::from(least), 3_650).map_err(|_| {
        DomainError::validation(
            "deliveryRetentionDays",
            format!("must be from {least} (at least 60 days, the frequency cap's and the win-back period) to 3650"),
        )
    })?;
    if r.erase_inactive_months != 0 {
        range("eraseInactiveAfterMonths", i64::from(r.erase_inactive_months), 6, 240)
            .map_err(|_| DomainError::validation("eraseInactiveAfterMonths", "must be 0 (never) or 6 to 240 months"))?;
    }
    range("benefitVoucherDays", i64::from(r.benefit_days), 1, 366)?;
    range("frequencyCap.days", i64::from(r.cap_days), 0, 365)?;
    for (field, value) in [
        ("schedule.dormancy", &r.dormancy_at),
        ("schedule.birthday", &r.birthday_at),
        ("schedule.anniversary", &r.anniversary_at),
        ("schedule.winBack", &r.win_back_at),
    ] {
        if parse_time_of_day(value).is_none() {
            return Err(DomainError::validation(field, "must be a local time of day HH:MM, e.g. 09:00"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::restaurant_fixture;

    fn refused(change: impl FnOnce(&mut restaurant::Model)) -> String {
        let mut r = restaurant_fixture();
        change(&mut r);
        match check(&r) {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn the_fixture_passes() {
        check(&restaurant_fixture()).unwrap();
    }

    #[test]
    fn bad_values_name_their_field() {
        assert_eq!(refused(|r| r.id = "Bad Id".into()), "restaurant");
        assert_eq!(refused(|r| r.name = " ".into()), "name");
        assert_eq!(refused(|r| r.timezone = "Mars/Olympus".into()), "timezone");
        assert_eq!(refused(|r| r.mail_from = "not an address".into()), "mailFrom");
        assert_eq!(refused(|r| r.reply_to = Some("x@".into())), "replyTo");
        assert_eq!(refused(|r| r.public_url = Some("ftp://x".into())), "publicUrl");
        assert_eq!(refused(|r| r.currency = "usd".into()), "currency");
        assert_eq!(refused(|r| r.points_per_dollar = 0), "pointsPerDollar");
        assert_eq!(refused(|r| r.points_per_redeemed_dollar = -5), "pointsPerRedeemedDollar");
        assert_eq!(refused(|r| r.referral_bonus = -1), "referralBonus");
        assert_eq!(refused(|r| r.discount_gold = 101), "tierDiscounts.gold");
        assert_eq!(refused(|r| r.at_risk_days = 90), "atRiskDays");
        assert_eq!(refused(|r| r.occasion_lead_days = 31), "occasionLeadDays");
        assert_eq!(refused(|r| r.win_back_days = 0), "winBackDays");
        assert_eq!(refused(|r| r.welcome_follow_up_days = 0), "welcomeFollowUpDays");
        assert_eq!(refused(|r| r.nearing_points = 0), "nearingRewardPoints");
        assert_eq!(refused(|r| r.keep_idempotency_days = 0), "idempotencyRetentionDays");
        assert_eq!(refused(|r| r.keep_delivery_days = 59), "deliveryRetentionDays");
        assert_eq!(refused(|r| (r.win_back_days, r.keep_delivery_days) = (90, 80)), "deliveryRetentionDays");
        assert_eq!(refused(|r| r.erase_inactive_months = 3), "eraseInactiveAfterMonths");
        assert_eq!(refused(|r| r.birthday_at = "9am".into()), "schedule.birthday");
    }

    #[test]
    fn development_addresses_are_allowed() {
        let r = restaurant::Model { mail_from: "loyalty@localhost".into(), ..restaurant_fixture() };
        check(&r).unwrap();
    }
}
