//! Money is exact: integer cents everywhere, parsed from decimal text.

/// Largest single amount accepted (one million dollars).
pub const MAX_AMOUNT_CENTS: i64 = 1_000_000_00;

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a number like 45.99")]
    NotANumber,
    #[error("must not be negative")]
    Negative,
    #[error("must have at most 2 decimal places (cents)")]
    TooPrecise,
    #[error("must not exceed 1000000.00")]
    TooLarge,
}

/// Parses a non-negative decimal amount of dollars (`"45.99"`, `"12"`, `"0.5"`) into cents.
pub fn parse_cents(text: &str) -> Result<i64, MoneyError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
        return Err(MoneyError::NotANumber);
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 7 {
        return Err(MoneyError::TooLarge);
    }
    let dollars: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::NotANumber)? };
    let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| MoneyError::NotANumber)?;
    let total = dollars * 100 + cents;
    if total > MAX_AMOUNT_CENTS {
        return Err(MoneyError::TooLarge);
    }
    Ok(total)
}

/// Formats cents as a decimal amount, e.g. `4599` → `"45.99"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_cents() {
        assert_eq!(parse_cents("45.99"), Ok(4599));
        assert_eq!(parse_cents("12"), Ok(1200));
        assert_eq!(parse_cents("0.5"), Ok(50));
        assert_eq!(parse_cents(".5"), Ok(50));
        assert_eq!(parse_cents("3.10"), Ok(310));
        assert_eq!(parse_cents("3.100"), Ok(310));
        assert_eq!(parse_cents("1000000"), Ok(MAX_AMOUNT_CENTS));
    }

    #[test]
    fn refuses_bad_amounts() {
        assert_eq!(parse_cents("-1"), Err(MoneyError::Negative));
        assert_eq!(parse_cents("1.999"), Err(MoneyError::TooPrecise));
        assert_eq!(parse_cents("abc"), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents(""), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents("."), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents("1e5"), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents("1000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(parse_cents("99999999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn formats_cents() {
        assert_eq!(format_cents(4599), "45.99");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-120), "-1.20");
    }
}
