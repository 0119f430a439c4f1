//! Tier thresholds (spec "Loyalty Tier System"); each restaurant's tier discounts are in
//! [`super::programme::Programme`].

use crate::entities::Tier;

/// Lifetime points at which each tier starts, lowest first.
pub const THRESHOLDS: [(Tier, i64); 5] = [(Tier::Bronze, 0), (Tier::Silver, 1_000), (Tier::Gold, 2_500), (Tier::Platinum, 5_000), (Tier::Vip, 10_000)];

/// The tier that `lifetime_points` qualify for.
pub fn tier_for(lifetime_points: i64) -> Tier {
    THRESHOLDS.iter().rev().find(|(_, min)| lifetime_points >= *min).map_or(Tier::Bronze, |(tier, _)| *tier)
}

/// The tier after a points change: upgrades automatically, never downgrades.
pub fn next_tier(current: Tier, lifetime_points: i64) -> Tier {
    current.max(tier_for(lifetime_points))
}

/// The tier's name as members read it, e.g. `Gold`, `VIP`.
pub fn display_name(t: Tier) -> &'static str {
    match t {
        Tier::Bronze => "Bronze",
        Tier::Silver => "Silver",
        Tier::Gold => "Gold",
        Tier::Platinum => "Platinum",
        Tier::Vip => "VIP",
    }
}

/// The tier after `t`, or `None` at the top.
pub fn above(t: Tier) -> Option<Tier> {
    THRESHOLDS.iter().map(|(tier, _)| *tier).find(|tier| *tier > t)
}

/// Lifetime points needed for the next tier, or `None` at the top.
pub fn points_to_next_tier(lifetime_points: i64) -> Option<i64> {
    THRESHOLDS.iter().find(|(_, min)| *min > lifetime_points).map(|(_, min)| min - lifetime_points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_match_the_spec_at_every_boundary() {
        let cases = [
            (0, Tier::Bronze),
            (999, Tier::Bronze),
            (1_000, Tier::Silver),
            (2_499, Tier::Silver),
            (2_500, Tier::Gold),
            (4_999, Tier::Gold),
            (5_000, Tier::Platinum),
            (9_999, Tier::Platinum),
            (10_000, Tier::Vip),
            (i64::MAX, Tier::Vip),
        ];
        for (points, tier) in cases {
            assert_eq!(tier_for(points), tier, "{points} points");
        }
    }

    #[test]
    fn tiers_never_go_down() {
        assert_eq!(next_tier(Tier::Gold, 10), Tier::Gold);
        assert_eq!(next_tier(Tier::Silver, 2_500), Tier::Gold);
    }

    #[test]
    fn points_to_next_tier_counts_to_the_next_threshold() {
        assert_eq!(points_to_next_tier(0), Some(1_000));
        assert_eq!(points_to_next_tier(2_499), Some(1));
        assert_eq!(points_to_next_tier(10_000), None);
    }
}
