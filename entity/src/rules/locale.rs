//! How emails write dates, numbers and the few words whose spelling differs, in the
//! restaurant's [`Locale`]. The wording itself is English everywhere.

use chrono::NaiveDate;

use crate::entities::Locale;

impl Locale {
    /// The locale's tag, e.g. `en-NZ` (the HTML `lang` attribute).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::EnUs => "en-US",
            Locale::EnGb => "en-GB",
            Locale::EnIe => "en-IE",
            Locale::EnAu => "en-AU",
            Locale::EnNz => "en-NZ",
            Locale::EnCa => "en-CA",
        }
    }

    /// Whether the month comes before the day ("January 6, 2027").
    fn month_first(self) -> bool {
        matches!(self, Locale::EnUs | Locale::EnCa)
    }

    /// A day as people there write it: "Wednesday, January 6, 2027" or "Wednesday 6 January 2027".
    pub fn date(self, day: NaiveDate) -> String {
        if self.month_first() { day.format("%A, %B %-d, %Y").to_string() } else { day.format("%A %-d %B %Y").to_string() }
    }

    /// A whole number with thousands separators: "10,612".
    pub fn number(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(d);
        }
        out
    }

    /// `word` (British spelling, lower case) spelt the locale's way: "favourite" → "favorite"
    /// in the United States.
    pub fn spell(self, word: &'static str) -> &'static str {
        if self != Locale::EnUs {
            return word;
        }
        match word {
            "favourite" => "favorite",
            "favourites" => "favorites",
            "Favourites" => "Favorites",
            "colour" => "color",
            "programme" => "program",
            _ => word,
        }
    }

    /// The locale of a tag (`en-nz`, `en_NZ` and `EN-NZ` too).
    pub fn parse(tag: &str) -> Option<Self> {
        use sea_orm::Iterable;
        let tag = tag.trim().replace('_', "-");
        Locale::iter().find(|l| l.tag().eq_ignore_ascii_case(&tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_locale() {
        let day = NaiveDate::from_ymd_opt(2027, 1, 6).expect("a day");
        assert_eq!(Locale::EnUs.date(day), "Wednesday, January 6, 2027");
        assert_eq!(Locale::EnNz.date(day), "Wednesday 6 January 2027");
    }

    #[test]
    fn numbers_have_separators() {
        assert_eq!(Locale::EnNz.number(10_612), "10,612");
        assert_eq!(Locale::EnUs.number(999), "999");
        assert_eq!(Locale::EnUs.number(-1_234_567), "-1,234,567");
        assert_eq!(Locale::EnUs.number(0), "0");
    }

    #[test]
    fn spelling_and_tags() {
        assert_eq!(Locale::EnUs.spell("Favourites"), "Favorites");
        assert_eq!(Locale::EnGb.spell("Favourites"), "Favourites");
        assert_eq!((Locale::EnUs.spell("programme"), Locale::EnNz.spell("programme")), ("program", "programme"));
        assert_eq!(Locale::parse("en_nz"), Some(Locale::EnNz));
        assert_eq!(Locale::parse("fr-FR"), None);
    }
}
