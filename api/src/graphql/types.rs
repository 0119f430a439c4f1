//! GraphQL mirrors of the entity enums, and id parsing.

use async_graphql::{Enum, ID};

use crate::error::ApiError;

/// Loyalty tier by lifetime points: bronze < 1,000 ≤ silver < 2,500 ≤ gold < 5,000 ≤ platinum
/// < 10,000 ≤ vip.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::Tier")]
pub enum Tier {
    /// Under 1,000 lifetime points.
    Bronze,
    /// 1,000 lifetime points or more.
    Silver,
    /// 2,500 lifetime points or more.
    Gold,
    /// 5,000 lifetime points or more.
    Platinum,
    /// 10,000 lifetime points or more.
    Vip,
}

/// Membership status. `DORMANT` is set by the rules (no visit for over 90 days).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::CustomerStatus")]
pub enum CustomerStatus {
    /// A member in good standing; a visit makes any member but a blocked one active.
    Active,
    /// Set by staff; stays until a visit or a change by staff.
    Inactive,
    /// Set by staff: earns and redeems nothing and gets no email; stays until staff change it.
    Blocked,
    /// No visit for more than the restaurant's `dormantDays` (set by the rules; a visit ends it).
    Dormant,
}

/// Preferred spice level.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::SpiceLevel")]
pub enum SpiceLevel {
    /// Mild.
    Mild,
    /// Medium.
    Medium,
    /// Hot.
    Hot,
    /// Extra hot.
    ExtraHot,
}

/// Preferred seating area.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::Seating")]
pub enum Seating {
    /// Indoors.
    Indoor,
    /// Outdoors.
    Outdoor,
    /// At the bar.
    Bar,
    /// On the patio.
    Patio,
    /// By a window.
    Window,
    /// In a private room.
    PrivateRoom,
}

/// Why points changed.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::LedgerKind")]
pub enum LedgerKind {
    /// Points earned on a visit or order.
    Earn,
    /// Points spent (on a reward or directly).
    Redeem,
    /// A correction by staff, with its reason.
    Adjust,
    /// The bonus for a member who joined with this member's referral code.
    ReferralBonus,
    /// Points that expired under the restaurant's expiry policy.
    Expire,
    /// An order's points taken back on refund.
    Refund,
    /// A balance brought from another system by an import: the points ever earned there
    /// (positive) and those redeemed there (negative).
    Import,
}

/// Parses a customer id; anything that is not one is simply not found.
pub fn customer_id(id: &ID) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::not_found(format!("customer {}", id.as_str())))
}
