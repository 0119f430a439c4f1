//! The checks of list arguments: `limit`/`first` from 1 to a maximum, `offset` not negative,
//! and the opaque cursors of lists paged newest first by id (`after`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{DomainError, DomainResult};

/// Checks `first` (1 to `max`) and returns it unsigned.
pub fn check_first(first: i64, max: u64) -> DomainResult<u64> {
    u64::try_from(first).ok().filter(|l| (1..=max).contains(l)).ok_or_else(|| DomainError::validation("first", format!("must be between 1 and {max}")))
}

/// The cursor after the row `id` of the list `list` (opaque to clients).
pub fn cursor(list: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{id}"))
}

/// The id a cursor of `list` ends at; `VALIDATION` on `after` for anything else (a cursor of
/// another list, or text that is no cursor).
pub fn after(list: &str, cursor: Option<&str>) -> DomainResult<Option<i64>> {
    let Some(text) = cursor else { return Ok(None) };
    let bad = || DomainError::validation("after", "is not a cursor of this list (pass the endCursor of the previous page)");
    let raw = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (name, id) = raw.split_once(':').ok_or_else(bad)?;
    if name != list {
        return Err(bad());
    }
    id.parse::<i64>().map(Some).map_err(|_| bad())
}

/// Checks `limit` (1 to `max`) and `offset` (0 or more) and returns them unsigned.
pub fn check(limit: i64, offset: i64, max: u64) -> DomainResult<(u64, u64)> {
    let limit =
        u64::try_from(limit).ok().filter(|l| (1..=max).contains(l)).ok_or_else(|| DomainError::validation("limit", format!("must be between 1 and {max}")))?;
    let offset = u64::try_from(offset).map_err(|_| DomainError::validation("offset", "must not be negative"))?;
    Ok((limit, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_name_their_list() {
        let c = cursor("deliveries", 42);
        assert_eq!(after("deliveries", Some(&c)).unwrap(), Some(42));
        assert_eq!(after("deliveries", None).unwrap(), None);
        for bad in [cursor("auditLog", 42), "nope".into(), URL_SAFE_NO_PAD.encode("deliveries:x")] {
            assert!(matches!(after("deliveries", Some(&bad)), Err(DomainError::Validation { .. })), "{bad}");
        }
        assert_eq!(check_first(100, 100).unwrap(), 100);
        assert!(check_first(0, 100).is_err() && check_first(101, 100).is_err());
    }

    #[test]
    fn limits_and_offsets() {
        assert_eq!(check(1, 0, 100).unwrap(), (1, 0));
        assert_eq!(check(100, 7, 100).unwrap(), (100, 7));
        for (limit, offset, field) in [(0, 0, "limit"), (101, 0, "limit"), (-5, 0, "limit"), (10, -1, "offset")] {
            match check(limit, offset, 100) {
                Err(DomainError::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{limit}/{offset}: {other:?}"),
            }
        }
    }
}
