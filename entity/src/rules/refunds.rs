//! What a refund takes back: an order's points in proportion to the share of its charge
//! refunded so far (all of them once it is refunded in full), never more than the balance holds.

use crate::{DomainError, DomainResult};

/// Points of an order that earned `earned` for `amount_cents` that a refund of `refunded_cents`
/// in all accounts for: the proportional share, rounded down, and every point at a full refund.
pub fn points_for_refunded(earned: i64, refunded_cents: i64, amount_cents: i64) -> i64 {
    if amount_cents <= 0 || refunded_cents >= amount_cents {
        return earned.max(0);
    }
    (i128::from(earned.max(0)) * i128::from(refunded_cents.max(0)) / i128::from(amount_cents)) as i64
}

/// The points a refund of `amount` on top of `already` refunded takes back.
pub fn points_to_take(earned: i64, already: i64, amount: i64, amount_cents: i64) -> i64 {
    points_for_refunded(earned, already + amount, amount_cents) - points_for_refunded(earned, already, amount_cents)
}

/// The amount a refund is for: `requested`, or what is left of the charge; refused when more
/// than is left, or zero.
pub fn check_amount(requested: Option<i64>, amount_cents: i64, already: i64) -> DomainResult<i64> {
    let left = (amount_cents - already).max(0);
    match requested {
        None => Ok(left),
        Some(a) if a <= 0 => Err(DomainError::validation("amount", "must be more than zero")),
        Some(a) if a > left => Err(DomainError::validation(
            "amount",
            format!("is more than is left to refund of this order ({}.{:02} of {}.{:02})", left / 100, left % 100, amount_cents / 100, amount_cents % 100),
        )),
        Some(a) => Ok(a),
    }
}

/// An order line: an item and its quantity.
pub type Line = (String, i64);

/// Lines with the same item summed, in the order items first appear.
fn summed(lines: &[Line]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for (item, quantity) in lines {
        match out.iter_mut().find(|(i, _)| i == item) {
            Some((_, q)) => *q += quantity,
            None => out.push((item.clone(), *quantity)),
        }
    }
    out
}

/// What is left of an order's `ordered` lines after refunds took `taken` back: per item, the
/// quantity ordered less the quantity taken, items at zero left out.
pub fn lines_left(ordered: &[Line], taken: &[Line]) -> Vec<Line> {
    let taken = summed(taken);
    summed(ordered)
        .into_iter()
        .map(|(item, q)| {
            let gone = taken.iter().find(|(i, _)| *i == item).map_or(0, |(_, t)| *t);
            (item, q - gone)
        })
        .filter(|(_, q)| *q > 0)
        .collect()
}

/// The lines a refund takes back: what is left of the order for a full refund or a void
/// (`requested` empty), else `requested`, refused naming the item when more than is left.
pub fn lines_to_take(left: &[Line], requested: &[Line], whole: bool, order_id: &str) -> DomainResult<Vec<Line>> {
    if whole && requested.is_empty() {
        return Ok(left.to_vec());
    }
    let requested = summed(requested);
    for (item, quantity) in &requested {
        if !left.iter().any(|(i, q)| i == item && q >= quantity) {
            return Err(DomainError::validation("items", format!("item {item} (× {quantity}) is not left on order {order_id}")));
        }
    }
    Ok(requested)
}

/// `taken` and `more` together.
pub fn add_lines(taken: &[Line], more: &[Line]) -> Vec<Line> {
    summed(&[taken, more].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(item: &str, q: i64) -> Line {
        (item.to_string(), q)
    }

    #[test]
    fn a_full_refund_takes_back_only_what_is_left_of_its_own_order() {
        let order = [l("soup", 1), l("bread", 1)];
        let first = lines_to_take(&lines_left(&order, &[]), &[l("soup", 1)], false, "T-1").unwrap();
        assert_eq!(first, [l("soup", 1)]);
        let taken = add_lines(&[], &first);
        assert_eq!(lines_to_take(&lines_left(&order, &taken), &[], true, "T-1").unwrap(), [l("bread", 1)]);
        let all = add_lines(&taken, &[l("bread", 1)]);
        assert!(lines_left(&order, &all).is_empty(), "a void after that takes nothing");
        assert!(lines_to_take(&lines_left(&order, &taken), &[l("soup", 1)], false, "T-1").unwrap_err().to_string().contains("soup"));
        assert_eq!(lines_left(&[l("tea", 1), l("tea", 2)], &[l("tea", 1)]), [l("tea", 2)], "lines of one item add up");
    }

    #[test]
    fn partial_refunds_add_up_to_the_whole() {
        let (earned, amount) = (45, 4_599);
        let first = points_to_take(earned, 0, 1_000, amount);
        let second = points_to_take(earned, 1_000, 2_000, amount);
        let rest = points_to_take(earned, 3_000, 1_599, amount);
        assert_eq!(first, 9);
        assert_eq!(first + second + rest, earned, "every point once, never more");
        assert_eq!(points_to_take(earned, 0, amount, amount), earned);
        assert_eq!(points_to_take(0, 0, 500, 1_000), 0);
    }

    #[test]
    fn more_than_is_left_is_refused() {
        assert_eq!(check_amount(None, 5_000, 1_000).unwrap(), 4_000);
        assert_eq!(check_amount(Some(4_000), 5_000, 1_000).unwrap(), 4_000);
        assert!(check_amount(Some(4_001), 5_000, 1_000).unwrap_err().to_string().contains("40.00 of 50.00"));
        assert!(check_amount(Some(0), 5_000, 0).is_err());
        assert_eq!(check_amount(None, 5_000, 5_000).unwrap(), 0, "nothing left: nothing to do");
    }
}
