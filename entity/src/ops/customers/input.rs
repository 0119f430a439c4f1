//! What a create-or-update of a customer may say: the fields, patches of optional ones, and
//! consent flags.

use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use serde::Serialize;

use crate::entities::{CustomerStatus, Seating, SpiceLevel, customer};

/// A change to an optional field: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)),
        }
    }

    pub(super) fn map_result<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)?),
        })
    }

    /// Applies the change to a value in memory.
    pub(crate) fn apply(self, target: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *target = None,
            Patch::Set(v) => *target = Some(v),
        }
    }

    pub(super) fn apply_to(self, target: &mut sea_orm::ActiveValue<Option<T>>)
    where
        Option<T>: Into<sea_orm::Value>,
    {
        match self {
            Patch::Keep => {}
            Patch::Clear => *target = Set(None),
            Patch::Set(v) => *target = Set(Some(v)),
        }
    }
}

/// Marketing consent flags; `None` leaves a flag as it is (new customers start opted out).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MarketingInput {
    pub email_opt_in: Option<bool>,
    pub sms_opt_in: Option<bool>,
    pub push_notifications: Option<bool>,
    pub special_offers: Option<bool>,
    pub birthday_offers: Option<bool>,
    pub anniversary_offers: Option<bool>,
}

impl MarketingInput {
    /// Sets the flags given on `active`, leaving the others.
    pub(crate) fn apply_to(&self, active: &mut customer::ActiveModel) {
        let m = self;
        for (value, target) in [
            (m.email_opt_in, &mut active.email_opt_in),
            (m.sms_opt_in, &mut active.sms_opt_in),
            (m.push_notifications, &mut active.push_opt_in),
            (m.special_offers, &mut active.special_offers),
            (m.birthday_offers, &mut active.birthday_offers),
            (m.anniversary_offers, &mut active.anniversary_offers),
        ] {
            if let Some(v) = value {
                *target = Set(v);
            }
        }
    }
}

/// Fields of a create-or-update. `phone` identifies the customer; `name` is required to create.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerInput {
    pub phone: String,
    pub name: Option<String>,
    pub email: Patch<String>,
    pub user_id: Patch<String>,
    pub date_of_birth: Patch<NaiveDate>,
    pub anniversary: Patch<NaiveDate>,
    pub dietary_restrictions: Option<Vec<String>>,
    pub allergies: Option<Vec<String>>,
    pub spice_level: Patch<SpiceLevel>,
    pub preferred_seating: Patch<Seating>,
    pub marketing: MarketingInput,
    /// Replaces the customer's marketing segments.
    pub segments: Option<Vec<String>>,
    /// `active`, `inactive` or `blocked`; `dormant` is set by the rules only.
    pub status: Option<CustomerStatus>,
    /// Referral code of the existing member who referred this customer.
    pub referral_code: Option<String>,
}
