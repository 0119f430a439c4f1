//! GraphQL mirrors of the entity enums, and id parsing.

use async_graphql::{Enum, ID};

use crate::error::ApiError;

/// Loyalty tier by lifetime points: bronze < 1,000 ≤ silver < 2,500 ≤ gold < 5,000 ≤ platinum
/// < 10,000 ≤ vip.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::Tier")]
pub enum Tier {
    Bronze,
    Silver,
    Gold,
    Platinum,
    Vip,
}

/// Membership status. `DORMANT` is set by the rules (no visit for over 90 days).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::CustomerStatus")]
pub enum CustomerStatus {
    Active,
    Inactive,
    Blocked,
    Dormant,
}

/// Preferred spice level.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::SpiceLevel")]
pub enum SpiceLevel {
    Mild,
    Medium,
    Hot,
    ExtraHot,
}

/// Preferred seating area.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::Seating")]
pub enum Seating {
    Indoor,
    Outdoor,
    Bar,
    Patio,
    Window,
    PrivateRoom,
}

/// Why points changed.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::entities::LedgerKind")]
pub enum LedgerKind {
    Earn,
    Redeem,
    Adjust,
    ReferralBonus,
    Expire,
    /// An order's points taken back on refund.
    Refund,
}

/// Parses a customer id; anything that is not one is simply not found.
pub fn customer_id(id: &ID) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::not_found(format!("customer {}", id.as_str())))
}
