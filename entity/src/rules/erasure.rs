//! How an erased member is marked: their phone and phone index hold `erased-{id}` (a real
//! index is a keyed hash, so the two never meet), which keeps the unique index satisfied and
//! tells every reader the member is gone.

use crate::entities::customer;

/// What an erased customer's phone and phone index start with.
pub const ERASED: &str = "erased-";

/// The marker erasure writes into customer `id`'s phone and phone index.
pub fn marker(id: i64) -> String {
    format!("{ERASED}{id}")
}

/// Whether `c` was erased (by `eraseCustomer` or the retention policy).
pub fn is_erased(c: &customer::Model) -> bool {
    c.phone_index.as_deref().is_some_and(|p| p.starts_with(ERASED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::customer_fixture;

    #[test]
    fn only_the_marker_counts_as_erased() {
        let mut c = customer_fixture(chrono::Utc::now());
        c.phone_index = Some("k3Jx9QbA1lM0erased-".into());
        assert!(!is_erased(&c), "a hash that merely contains the word is a live member");
        c.phone_index = Some(marker(c.id));
        assert!(is_erased(&c));
        c.phone_index = None;
        assert!(!is_erased(&c), "a row from before encryption has no index and is live");
    }
}
