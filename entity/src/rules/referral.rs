//! Referral codes as in the spec's example `JOH8X9Y2Z`: three letters of the name and six
//! random characters from an alphabet without look-alikes (no 0/O, 1/I/L).

use rand::RngExt;

/// Characters used for the random part.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of the random part: 31^6 ≈ 887 million codes per name prefix.
pub const RANDOM_LEN: usize = 6;

/// The three-letter prefix of a referral code: the first ASCII letters of the name, upper-case,
/// padded with `X`.
pub fn prefix(name: &str) -> String {
    let mut p: String = name.chars().filter(char::is_ascii_alphabetic).take(3).map(|c| c.to_ascii_uppercase()).collect();
    while p.len() < 3 {
        p.push('X');
    }
    p
}

/// A new referral code for a customer called `name`.
pub fn generate(name: &str, rng: &mut impl rand::Rng) -> String {
    let mut code = prefix(name);
    for _ in 0..RANDOM_LEN {
        code.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    code
}

/// Normalises a code typed by a person: trimmed and upper-case.
pub fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_starts_with_name_letters() {
        let code = generate("John Doe", &mut rand::rng());
        assert!(code.starts_with("JOH"));
        assert_eq!(code.len(), 3 + RANDOM_LEN);
        assert!(code[3..].bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn short_and_non_latin_names_are_padded() {
        assert_eq!(prefix("Al"), "ALX");
        assert_eq!(prefix("李小龙"), "XXX");
        assert_eq!(prefix("José"), "JOS");
    }

    #[test]
    fn codes_differ() {
        let mut rng = rand::rng();
        let codes: std::collections::HashSet<_> = (0..1000).map(|_| generate("Ann", &mut rng)).collect();
        assert_eq!(codes.len(), 1000);
    }
}
