//! The one check of list arguments: `limit` from 1 to a maximum, `offset` not negative.

use crate::{DomainError, DomainResult};

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
