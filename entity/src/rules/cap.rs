//! The frequency cap: which emails count toward it. One table, read when an audience is
//! counted and when every kind of email is written, so an email the README calls exempt never
//! uses up a member's cap.

/// When an email of a kind counts toward the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    Always,
    /// Only when the restaurant's cap includes occasions.
    Occasion,
    Never,
}

/// Every kind of email by the name its deliveries carry.
const KINDS: [(&str, Counts); 12] = [
    ("custom", Counts::Always),
    ("win-back", Counts::Always),
    ("welcome", Counts::Always),
    ("welcome-2", Counts::Always),
    ("at-risk", Counts::Always),
    ("nearing-reward", Counts::Always),
    ("birthday", Counts::Occasion),
    ("anniversary", Counts::Occasion),
    ("occasion", Counts::Occasion),
    ("membership", Counts::Occasion),
    ("points-expiry", Counts::Never),
    ("tier-up", Counts::Never),
];

/// Whether an email of kind `name` counts toward the cap (an unknown kind does, to be safe).
pub fn counts(name: &str, occasions_included: bool) -> bool {
    match KINDS.iter().find(|(n, _)| *n == name).map_or(Counts::Always, |(_, c)| *c) {
        Counts::Always => true,
        Counts::Occasion => occasions_included,
        Counts::Never => false,
    }
}

/// The delivery names that count toward the cap.
pub fn counted(occasions_included: bool) -> Vec<&'static str> {
    KINDS.iter().map(|(n, _)| *n).filter(|n| counts(n, occasions_included)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_kinds_never_count_and_occasions_only_when_included() {
        for exempt in ["tier-up", "points-expiry"] {
            assert!(!counts(exempt, true) && !counts(exempt, false), "{exempt}");
        }
        for occasion in ["birthday", "anniversary", "occasion", "membership"] {
            assert!(counts(occasion, true) && !counts(occasion, false), "{occasion}");
        }
        assert!(counted(false).contains(&"custom") && counted(false).contains(&"win-back"));
        assert!(!counted(false).contains(&"membership") && counted(true).contains(&"membership"));
    }
}
