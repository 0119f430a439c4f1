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

/// An http(s) URL of at most 500 characters.
fn http_url(field: &str, url: &str, example: &str) -> DomainResult<()> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if url.len() > 500 || rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::validation(field, format!("must be an http(s) URL such as {example}")));
    }
    Ok(())
}

/// Longest postal address, in characters.
pub const MAX_POSTAL_ADDRESS: usize = 300;

/// The settings emails are dressed in: address, phone, links, logo, colour.
fn check_letterhead(r: &restaurant::Model) -> DomainResult<()> {
    if let Some(address) = &r.postal_address {
        if address.chars().count() > MAX_POSTAL_ADDRESS || address.lines().count() > 6 {
            return Err(DomainError::validation("postalAddress", format!("must be at most 6 lines and {MAX_POSTAL_ADDRESS} characters")));
        }
        for line in address.lines() {
            text("postalAddress", line, MAX_POSTAL_ADDRESS)?;
        }
    }
    if let Some(phone) = &r.phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if phone.len() > 40 || !(5..=20).contains(&digits) || !phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
            return Err(DomainError::validation("phone", "must be a phone number as members should read it, such as +64 9 555 0100"));
        }
    }
    for (field, url) in [("websiteUrl", &r.website_url), ("bookingUrl", &r.booking_url), ("logoUrl", &r.logo_url)] {
        if let Some(url) = url {
            http_url(field, url, "https://harbour-bistro.example.com")?;
        }
    }
    if parse_color(&r.brand_color).is_none() {
        return Err(DomainError::validation("brandColor", "must be a colour as #rrggbb, such as #1f6f5c"));
    }
    Ok(())
}

/// The red, green and blue of `#rrggbb`.
pub fn parse_color(color: &str) -> Option<[u8; 3]> {
    let hex = color.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
    let part = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([part(0)?, part(2)?, part(4)?])
}

/// The text colour readable on `background` (`#rrggbb`): white on dark colours, near-black on
/// light ones (WCAG relative luminance).
pub fn text_on(background: &str) -> &'static str {
    let Some(rgb) = parse_color(background) else { return "#ffffff" };
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    // White wins when its contrast (1.05 / (L + 0.05)) beats near-black's ((L + 0.05) / 0.05).
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 { "#ffffff" } else { "#111111" }
}

/// Refuses a marketing send while the restaurant lacks what every marketing email must show
/// (its postal address), naming the setting.
pub fn ready_to_market(r: &restaurant::Model) -> DomainResult<()> {
    if r.postal_address.is_none() {
        return Err(DomainError::SettingRequired {
            setting: "postalAddress".into(),
            message: format!(
                "restaurant {:?} has no postal address: set postalAddress (updateRestaurant) before marketing emails go out; \
                 the law (CAN-SPAM, GDPR transparency) expects it in every marketing email's footer",
                r.id
            ),
        });
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
        http_url("publicUrl", url, "https://loyalty.example.com")?;
    }
    check_letterhead(r)?;
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
    range("atRiskProbability", i64::from(r.at_risk_probability_bp), 2, 9_999)
        .map_err(|_| DomainError::validation("atRiskProbability", "must be above 0 and below 1"))?;
    range("winBackProbability", i64::from(r.win_back_probability_bp), 1, i64::from(r.at_risk_probability_bp) - 1)
        .map_err(|_| DomainError::validation("winBackProbability", "must be above 0 and below atRiskProbability"))?;
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
    fn letterhead_values_name_their_field() {
        assert_eq!(refused(|r| r.postal_address = Some("1 Quay St\n\tAuckland".into())), "postalAddress");
        assert_eq!(refused(|r| r.postal_address = Some("x".repeat(301))), "postalAddress");
        assert_eq!(refused(|r| r.phone = Some("call us".into())), "phone");
        assert_eq!(refused(|r| r.booking_url = Some("www.example.com".into())), "bookingUrl");
        assert_eq!(refused(|r| r.logo_url = Some("javascript:alert(1)".into())), "logoUrl");
        assert_eq!(refused(|r| r.brand_color = "teal".into()), "brandColor");
        let r = restaurant::Model { postal_address: Some("1 Quay Street\nAuckland 1010".into()), phone: Some("+64 9 555 0100".into()), ..restaurant_fixture() };
        check(&r).unwrap();
    }

    #[test]
    fn text_stays_readable_on_the_brand_colour() {
        assert_eq!(text_on("#2f4f4f"), "#ffffff");
        assert_eq!(text_on("#ffd700"), "#111111");
        assert_eq!(text_on("#ffffff"), "#111111");
    }

    #[test]
    fn marketing_needs_a_postal_address() {
        let r = restaurant::Model { postal_address: None, ..restaurant_fixture() };
        assert!(matches!(ready_to_market(&r), Err(DomainError::SettingRequired { setting, .. }) if setting == "postalAddress"));
        ready_to_market(&restaurant_fixture()).unwrap();
    }

    #[test]
    fn development_addresses_are_allowed() {
        let r = restaurant::Model { mail_from: "loyalty@localhost".into(), ..restaurant_fixture() };
        check(&r).unwrap();
    }
}
