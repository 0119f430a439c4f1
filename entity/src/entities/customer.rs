//! `customers`: one row per loyalty member of one restaurant.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Loyalty tier, derived from lifetime points (see [`crate::rules::tier`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    #[sea_orm(string_value = "bronze")]
    Bronze,
    #[sea_orm(string_value = "silver")]
    Silver,
    #[sea_orm(string_value = "gold")]
    Gold,
    #[sea_orm(string_value = "platinum")]
    Platinum,
    #[sea_orm(string_value = "vip")]
    Vip,
}

/// Membership status. `dormant` is set by the rules, the others by staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum CustomerStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "inactive")]
    Inactive,
    #[sea_orm(string_value = "blocked")]
    Blocked,
    #[sea_orm(string_value = "dormant")]
    Dormant,
}

/// Preferred spice level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SpiceLevel {
    #[sea_orm(string_value = "mild")]
    Mild,
    #[sea_orm(string_value = "medium")]
    Medium,
    #[sea_orm(string_value = "hot")]
    Hot,
    #[sea_orm(string_value = "extra-hot")]
    ExtraHot,
}

/// Preferred seating area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Seating {
    #[sea_orm(string_value = "indoor")]
    Indoor,
    #[sea_orm(string_value = "outdoor")]
    Outdoor,
    #[sea_orm(string_value = "bar")]
    Bar,
    #[sea_orm(string_value = "patio")]
    Patio,
    #[sea_orm(string_value = "window")]
    Window,
    #[sea_orm(string_value = "private-room")]
    PrivateRoom,
}

/// A list of short strings stored as a JSON array (dietary restrictions, allergies, before
/// they are sealed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct StringList(pub Vec<String>);

pub use super::sealed::Sealed;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    /// Id of the customer's account in the ordering platform, when linked.
    pub user_id: Option<String>,
    /// In clear, for staff lists and the search (see `docs/encryption.md`).
    pub name: String,
    /// [`crate::rules::occasions::month_day_key`] of the date of birth, for indexed lookups.
    pub birth_md: Option<i32>,
    /// [`crate::rules::occasions::month_day_key`] of the anniversary.
    pub anniversary_md: Option<i32>,

    pub tier: Tier,
    pub points_current: i64,
    pub points_lifetime: i64,
    pub points_redeemed: i64,
    pub member_since: DateTimeUtc,

    pub total_visits: i64,
    pub first_visit_at: Option<DateTimeUtc>,
    pub last_visit_at: Option<DateTimeUtc>,
    pub total_spent_cents: i64,

    pub spice_level: Option<SpiceLevel>,
    pub preferred_seating: Option<Seating>,

    pub email_opt_in: bool,
    pub sms_opt_in: bool,
    pub push_opt_in: bool,
    pub special_offers: bool,
    pub birthday_offers: bool,
    pub anniversary_offers: bool,

    #[sea_orm(unique)]
    pub referral_code: String,
    pub referred_by: Option<i64>,
    pub referrals_count: i64,
    /// Points earned by referring others.
    pub referral_rewards: i64,

    /// Sum of all ratings (1–5) given; the average is derived.
    pub rating_total: i64,
    pub review_count: i64,
    pub last_review_at: Option<DateTimeUtc>,

    pub status: CustomerStatus,
    pub last_activity_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,

    // The sealed values (phone, email, dates, dietary needs, allergies) live in
    // `customer_personal`; their blind indexes and the key id stay here, for lookups and scans.
    /// Keyed blind index of the E.164 phone (exact lookups, uniqueness).
    pub phone_index: Option<String>,
    /// Keyed blind index of the email.
    pub email_index: Option<String>,
    /// Keyed blind index of the phone's last four digits (the search).
    pub phone_last4: Option<String>,
    /// The customer's key in the key store; `None` before the backfill and after erasure.
    pub key_id: Option<String>,
    /// The member's id in the system they were imported from (unique per restaurant).
    pub external_id: Option<String>,

    /// The customer's personal row, when the read fetched it with this one (a projection that
    /// reads `key_id` does: see [`crate::ops::customers::Projection`]); not a column.
    #[sea_orm(ignore)]
    #[serde(skip)]
    pub personal: Option<super::customer_personal::Model>,
}

/// The rows that belong to a customer name it (`belongs_to` on their side); the customer names
/// none of them, so the entity modules import in one direction only.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
