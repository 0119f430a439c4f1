//! `api_keys`: bearer tokens bound to one restaurant and one role. Only a SHA-256 hash of the
//! key is stored (keys are 160 random bits, so a fast hash is enough); the key itself is shown
//! once, when it is created.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a key may do (spec RBAC: `RESTAURANT_READ` / `RESTAURANT_UPDATE`, plus admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `RESTAURANT_READ`: read customers and statistics.
    #[sea_orm(string_value = "viewer")]
    Viewer,
    /// `RESTAURANT_UPDATE`: also points, redemptions, visits, orders, notes, profiles.
    #[sea_orm(string_value = "staff")]
    Staff,
    /// Reads customers (not staff notes, allergies or dietary needs) and statistics, manages
    /// segments and campaigns; no points, keys, erasure or merges.
    #[sea_orm(string_value = "marketer")]
    Marketer,
    /// Also campaigns, jobs and keys.
    #[sea_orm(string_value = "admin")]
    Admin,
}

impl Role {
    /// The role's name as keys, tokens and the CLI spell it (`viewer`, `staff`, `marketer`, `admin`).
    pub fn label(self) -> String {
        self.to_value()
    }

    /// The role with this name.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::try_from_value(&label.to_string()).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub restaurant_id: String,
    pub role: Role,
    /// What the key is for, e.g. `POS terminal 2`.
    pub name: String,
    /// The key's first characters, safe to show (`lk_ab12cd34`).
    #[sea_orm(unique)]
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    #[sea_orm(unique)]
    pub key_hash: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
