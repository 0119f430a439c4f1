//! Rewards and vouchers: what a reward must hold, who may redeem it and when, voucher codes,
//! and whether a voucher can be used.

use chrono::{DateTime, Utc};
use rand::RngExt;

use crate::entities::{RewardKind, Tier, VoucherStatus, reward, voucher};
use crate::{DomainError, DomainResult};

/// Largest amount a reward may take off (cents).
pub const MAX_AMOUNT_OFF_CENTS: i64 = 10_000_00;
/// Longest validity of a voucher, in days.
pub const MAX_VALID_DAYS: i32 = 730;

/// Checks a catalogue entry before it is saved; the field named is the GraphQL input's.
pub fn check(r: &reward::Model) -> DomainResult<()> {
    let name = r.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DomainError::validation("name", "must be 1 to 100 characters"));
    }
    if r.description.as_deref().is_some_and(|d| d.chars().count() > 500) {
        return Err(DomainError::validation("description", "must be at most 500 characters"));
    }
    if !(1..=1_000_000).contains(&r.points_cost) {
        return Err(DomainError::validation("pointsCost", "must be between 1 and 1000000"));
    }
    match r.kind {
        RewardKind::AmountOff if !r.amount_cents.is_some_and(|c| (1..=MAX_AMOUNT_OFF_CENTS).contains(&c)) => {
            return Err(DomainError::validation("amountOff", "an amount-off reward needs an amount from 0.01 to 10000.00"));
        }
        RewardKind::PercentOff if !r.percent.is_some_and(|p| (1..=100).contains(&p)) => {
            return Err(DomainError::validation("percentOff", "a percent-off reward needs a percentage from 1 to 100"));
        }
        RewardKind::FreeItem if !r.item_id.as_deref().is_some_and(|i| !i.trim().is_empty() && i.len() <= 100) => {
            return Err(DomainError::validation("itemId", "a free-item reward needs the menu item id (1 to 100 characters)"));
        }
        _ => {}
    }
    if let (Some(from), Some(until)) = (r.active_from, r.active_until)
        && until <= from
    {
        return Err(DomainError::validation("activeUntil", "must be after activeFrom"));
    }
    if r.stock.is_some_and(|s| s < 0) {
        return Err(DomainError::validation("stock", "must not be negative"));
    }
    if !(1..=MAX_VALID_DAYS).contains(&r.valid_days) {
        return Err(DomainError::validation("validDays", format!("must be between 1 and {MAX_VALID_DAYS}")));
    }
    Ok(())
}

/// Why a member may not redeem a reward now, if they may not.
pub fn unavailable(r: &reward::Model, tier: Tier, now: DateTime<Utc>) -> Option<String> {
    if r.archived {
        return Some("this reward is no longer offered".into());
    }
    if r.active_from.is_some_and(|from| now < from) {
        return Some("this reward is not offered yet".into());
    }
    if r.active_until.is_some_and(|until| now >= until) {
        return Some("this reward is no longer offered".into());
    }
    if tier < r.min_tier {
        return Some(format!("this reward is for {:?} members and above", r.min_tier).to_lowercase());
    }
    if r.stock == Some(0) {
        return Some("this reward is out of stock".into());
    }
    None
}

/// The rewards of `catalogue` a member of `tier` holding `points` may redeem at `now`,
/// cheapest first.
pub fn redeemable(catalogue: &[reward::Model], tier: Tier, points: i64, now: DateTime<Utc>) -> Vec<reward::Model> {
    let mut out: Vec<reward::Model> = catalogue.iter().filter(|r| r.points_cost <= points && unavailable(r, tier, now).is_none()).cloned().collect();
    out.sort_by_key(|r| (r.points_cost, r.id));
    out
}

/// Why a voucher cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoucherProblem {
    AlreadyRedeemed,
    Expired,
    Voided,
}

impl std::fmt::Display for VoucherProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VoucherProblem::AlreadyRedeemed => "already redeemed",
            VoucherProblem::Expired => "expired",
            VoucherProblem::Voided => "voided",
        })
    }
}

/// Whether a voucher can be used at `now`.
pub fn usable(v: &voucher::Model, now: DateTime<Utc>) -> Result<(), VoucherProblem> {
    match v.status {
        VoucherStatus::Redeemed => Err(VoucherProblem::AlreadyRedeemed),
        VoucherStatus::Voided => Err(VoucherProblem::Voided),
        VoucherStatus::Issued if v.expires_at <= now => Err(VoucherProblem::Expired),
        VoucherStatus::Issued => Ok(()),
    }
}

/// Letters and digits without look-alikes (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh voucher code: ten characters from 31 (about 50 bits), shown as `XXXXX-XXXXX`.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let raw: String = (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("{}-{}", &raw[..5], &raw[5..])
}

/// A code as typed at the POS (any case, with or without the dash or spaces), as stored.
pub fn normalize_code(code: &str) -> Option<String> {
    let raw: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
    (raw.len() == 10 && raw.bytes().all(|b| ALPHABET.contains(&b))).then(|| format!("{}-{}", &raw[..5], &raw[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn reward() -> reward::Model {
        reward::Model {
            id: 1,
            restaurant_id: "r".into(),
            name: "Free dessert".into(),
            description: None,
            points_cost: 500,
            kind: RewardKind::FreeItem,
            amount_cents: None,
            percent: None,
            item_id: Some("tiramisu".into()),
            min_tier: Tier::Silver,
            active_from: None,
            active_until: None,
            stock: Some(2),
            valid_days: 30,
            archived: false,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn redeemable_rewards_are_those_the_tier_and_balance_allow_cheapest_first() {
        let cheap = reward::Model { id: 2, points_cost: 200, min_tier: Tier::Bronze, ..reward() };
        let gold = reward::Model { id: 3, min_tier: Tier::Gold, ..reward() };
        let gone = reward::Model { id: 4, stock: Some(0), ..reward() };
        let all = [reward(), cheap, gold, gone];
        let ids = |tier, points| redeemable(&all, tier, points, now()).iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(Tier::Silver, 500), vec![2, 1]);
        assert_eq!(ids(Tier::Silver, 499), vec![2]);
        assert_eq!(ids(Tier::Bronze, 10_000), vec![2]);
        assert_eq!(ids(Tier::Platinum, 10_000), vec![2, 1, 3]);
    }

    #[test]
    fn rewards_need_what_they_give() {
        check(&reward()).unwrap();
        let field = |r: reward::Model| match check(&r) {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(reward::Model { item_id: None, ..reward() }), "itemId");
        assert_eq!(field(reward::Model { kind: RewardKind::PercentOff, percent: Some(120), ..reward() }), "percentOff");
        assert_eq!(field(reward::Model { kind: RewardKind::AmountOff, ..reward() }), "amountOff");
        assert_eq!(field(reward::Model { points_cost: 0, ..reward() }), "pointsCost");
        assert_eq!(field(reward::Model { active_from: Some(now()), active_until: Some(now()), ..reward() }), "activeUntil");
    }

    #[test]
    fn availability_follows_tier_window_and_stock() {
        assert_eq!(unavailable(&reward(), Tier::Gold, now()), None);
        assert!(unavailable(&reward(), Tier::Bronze, now()).unwrap().contains("silver"));
        assert!(unavailable(&reward::Model { stock: Some(0), ..reward() }, Tier::Gold, now()).is_some());
        assert!(unavailable(&reward::Model { active_until: Some(now()), ..reward() }, Tier::Gold, now()).is_some());
        assert!(unavailable(&reward::Model { active_from: Some(now() + Duration::days(1)), ..reward() }, Tier::Gold, now()).is_some());
    }

    #[test]
    fn codes_are_normalized_as_typed() {
        let code = new_code();
        assert_eq!(normalize_code(&code.to_lowercase().replace('-', " ")), Some(code.clone()));
        assert_eq!(normalize_code("ABCDE-FGHJ0"), None, "look-alikes are never issued");
        assert_eq!(normalize_code("short"), None);
    }
}
