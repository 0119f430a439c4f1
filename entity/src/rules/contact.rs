//! Validation and normalisation of contact details and profile fields.

use chrono::{Datelike, NaiveDate};
use phonenumber::country;

/// A phone-number region (ISO 3166 country).
pub use phonenumber::country::Id as RegionId;

/// Why a contact detail was refused; the text is shown to people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("is not a valid phone number; use international format, e.g. +14155550123")]
    InvalidPhone,
    #[error("is not a valid email address")]
    InvalidEmail,
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not be in the future")]
    FutureDate,
    #[error("must be after 1900-01-01")]
    TooOld,
    #[error("must have at most {0} entries")]
    TooMany(usize),
}

/// Longest name accepted.
pub const MAX_NAME_LEN: usize = 200;
/// Longest list entry (a dietary restriction or allergy) accepted.
pub const MAX_LIST_ENTRY_LEN: usize = 60;
/// Most entries in a preference list.
pub const MAX_LIST_ENTRIES: usize = 30;

/// Parses a region code such as `US` or `GB`.
pub fn parse_region(code: &str) -> Option<country::Id> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// Validates a phone number and returns it in E.164 (`+14155550123`). Numbers without a `+`
/// are read in `region`.
pub fn normalize_phone(raw: &str, region: country::Id) -> Result<String, ContactError> {
    let number = parse_phone(raw, region)?;
    if !number.is_valid() {
        return Err(ContactError::InvalidPhone);
    }
    Ok(number.e164())
}

/// A phone number read (in `region` when it has no `+`) but not yet checked against the
/// numbering plan: the check is most of the cost, and a lookup that finds the number stored
/// (checked when it was written) needs it only on a miss.
pub struct ParsedPhone(phonenumber::PhoneNumber);

impl ParsedPhone {
    /// The number in E.164 (`+14155550123`).
    pub fn e164(&self) -> String {
        self.0.format().mode(phonenumber::Mode::E164).to_string()
    }

    /// Whether the numbering plan has such a number.
    pub fn is_valid(&self) -> bool {
        phonenumber::is_valid(&self.0)
    }
}

/// Reads a phone number; an empty or unreadable one is an error.
pub fn parse_phone(raw: &str, region: country::Id) -> Result<ParsedPhone, ContactError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ContactError::Empty);
    }
    phonenumber::parse(Some(region), raw).map(ParsedPhone).map_err(|_| ContactError::InvalidPhone)
}

/// Validates an email address and returns it trimmed and lower-cased.
pub fn normalize_email(raw: &str) -> Result<String, ContactError> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || !email_address::EmailAddress::is_valid(&email) || !email.contains('.') {
        return Err(ContactError::InvalidEmail);
    }
    Ok(email)
}

/// `text` with every word that holds an email address replaced by `[address]`: SMTP servers
/// quote the recipient in their refusals, which are kept on the delivery and logged, where no
/// address may stand in clear.
pub fn redact_addresses(text: &str) -> String {
    let separator = |c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | ',' | ';' | '[' | ']' | ':');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(separator).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        let at = word.find('@');
        out.push_str(if at.is_some_and(|i| i > 0 && i + 1 < word.len()) { "[address]" } else { word });
        let sep = tail.chars().next().map_or(0, char::len_utf8);
        out.push_str(&tail[..sep]);
        rest = &tail[sep..];
    }
    out
}

/// A required, trimmed name.
pub fn normalize_name(raw: &str) -> Result<String, ContactError> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(ContactError::Empty);
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ContactError::TooLong(MAX_NAME_LEN));
    }
    Ok(name)
}

/// A past date such as a date of birth or wedding anniversary.
pub fn check_past_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, ContactError> {
    if date > today {
        return Err(ContactError::FutureDate);
    }
    if date.year() < 1900 {
        return Err(ContactError::TooOld);
    }
    Ok(date)
}

/// A preference list: trimmed, lower-case, without empty entries or duplicates, bounded.
pub fn normalize_list(raw: &[String]) -> Result<Vec<String>, ContactError> {
    let mut out: Vec<String> = Vec::new();
    for entry in raw {
        let entry = entry.trim().to_lowercase();
        if entry.is_empty() {
            continue;
        }
        if entry.chars().count() > MAX_LIST_ENTRY_LEN {
            return Err(ContactError::TooLong(MAX_LIST_ENTRY_LEN));
        }
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    if out.len() > MAX_LIST_ENTRIES {
        return Err(ContactError::TooMany(MAX_LIST_ENTRIES));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> country::Id {
        parse_region("us").unwrap()
    }

    #[test]
    fn addresses_in_smtp_errors_are_redacted() {
        assert_eq!(
            redact_addresses("550 5.1.1 <ann@example.com>: Recipient address rejected: user ann@example.com unknown"),
            "550 5.1.1 <[address]>: Recipient address rejected: user [address] unknown"
        );
        assert_eq!(redact_addresses("connection refused (os error 111)"), "connection refused (os error 111)");
        assert_eq!(redact_addresses("@ alone, trailing@ and ünïcode"), "@ alone, trailing@ and ünïcode");
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(normalize_phone("+1 (415) 555-0123", us()).unwrap(), "+14155550123");
        assert_eq!(normalize_phone("415 555 0123", us()).unwrap(), "+14155550123");
        assert_eq!(normalize_phone("+44 20 7946 0958", us()).unwrap(), "+442079460958");
    }

    #[test]
    fn bad_phones_are_refused() {
        assert_eq!(normalize_phone("12", us()), Err(ContactError::InvalidPhone));
        assert_eq!(normalize_phone("hello", us()), Err(ContactError::InvalidPhone));
        assert_eq!(normalize_phone("  ", us()), Err(ContactError::Empty));
    }

    #[test]
    fn a_parsed_phone_is_checked_apart() {
        let fine = parse_phone("415 555 0123", us()).unwrap();
        assert_eq!((fine.e164().as_str(), fine.is_valid()), ("+14155550123", true));
        let unassigned = parse_phone("+1 200 555 0123", us()).unwrap();
        assert!(!unassigned.is_valid(), "read, but no such area code");
        assert!(parse_phone("hello", us()).is_err());
        assert_eq!(parse_phone(" ", us()).err(), Some(ContactError::Empty));
    }

    #[test]
    fn emails_are_checked_and_lowercased() {
        assert_eq!(normalize_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(normalize_email("not-an-email").is_err());
        assert!(normalize_email("a@b").is_err());
    }

    #[test]
    fn names_are_required_and_collapsed() {
        assert_eq!(normalize_name("  John   Doe ").unwrap(), "John Doe");
        assert_eq!(normalize_name("   "), Err(ContactError::Empty));
        assert!(normalize_name(&"x".repeat(201)).is_err());
    }

    #[test]
    fn dates_must_be_past() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(check_past_date(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(), today).is_err());
        assert!(check_past_date(NaiveDate::from_ymd_opt(1899, 12, 31).unwrap(), today).is_err());
        assert!(check_past_date(NaiveDate::from_ymd_opt(1990, 5, 15).unwrap(), today).is_ok());
    }

    #[test]
    fn lists_are_normalised() {
        let raw = vec![" Vegan".to_string(), "vegan".into(), "".into(), "Gluten-Free".into()];
        assert_eq!(normalize_list(&raw).unwrap(), vec!["vegan", "gluten-free"]);
    }
}
