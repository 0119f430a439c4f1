//! What one row of a member import (CSV or JSON Lines, `loyalty import customers`) may say,
//! checked and normalised as the API checks a member, each error naming the field; and the
//! shape of a refused value, which an error report shows instead of the value.

use chrono::{DateTime, NaiveDate, Utc};
use phonenumber::country;

use super::contact::{self, ContactError};
use super::tier;
use crate::entities::Tier;

/// One field's value as read from a file: a CSV cell or a JSON scalar as text, or a list (a
/// JSON array; a CSV cell splits on `;`). Empty cells and JSON nulls are left out of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    List(Vec<String>),
}

/// A row as read: (field name, value), in the file's order.
pub type RawRow = Vec<(String, Cell)>;

/// Why a row was refused: the field, a reason a person understands, and the value's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: String,
    pub reason: String,
    pub shape: String,
}

impl RowError {
    pub fn new(field: &str, reason: impl std::fmt::Display, value: Option<&Cell>) -> Self {
        Self { field: field.to_string(), reason: reason.to_string(), shape: value.map(shape_of).unwrap_or_default() }
    }
}

/// A row's fields by name, for a check; made only when the row names no other field.
pub(crate) struct Fields<'a> {
    raw: &'a RawRow,
}

impl<'a> Fields<'a> {
    /// The row's fields, refused when one is not among `known` (the fields of `what`).
    pub(crate) fn new(raw: &'a RawRow, known: &[&str], what: &str) -> Result<Self, RowError> {
        if let Some((name, value)) = raw.iter().find(|(name, _)| !known.contains(&name.as_str())) {
            return Err(RowError::new(name, format!("is not a field of {what} (fields: {})", known.join(", ")), Some(value)));
        }
        Ok(Self { raw })
    }

    /// The value of `name`, if the row has it.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Cell> {
        self.raw.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The single value of `name`, trimmed; none when absent or empty.
    pub(crate) fn text(&self, name: &str) -> Result<Option<&'a str>, RowError> {
        match self.get(name) {
            None => Ok(None),
            Some(Cell::Text(t)) => Ok(Some(t.trim()).filter(|t| !t.is_empty())),
            Some(list) => Err(RowError::new(name, "must be a single value, not a list", Some(list))),
        }
    }

    /// The single value of `name`, which the row must have.
    pub(crate) fn required(&self, name: &str) -> Result<&'a str, RowError> {
        self.text(name)?.ok_or_else(|| RowError::new(name, "is required", None))
    }

    /// An error of `name` with its value's shape.
    pub(crate) fn error(&self, name: &str, reason: impl std::fmt::Display) -> RowError {
        RowError::new(name, reason, self.get(name))
    }
}

/// The consent flags a row may grant (each false unless the row says true).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
    pub push_opt_in: bool,
    pub special_offers: bool,
    pub birthday_offers: bool,
    pub anniversary_offers: bool,
}

/// A member row, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// The member's id in the system they come from: what makes a second import of the same
    /// file change nothing.
    pub external_id: String,
    /// E.164.
    pub phone: String,
    pub name: String,
    pub email: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub anniversary: Option<NaiveDate>,
    pub member_since: Option<DateTime<Utc>>,
    /// The opening balance.
    pub points: i64,
    /// Points ever earned (at least the balance; the difference was redeemed before the move).
    pub lifetime_points: i64,
    /// The tier given, raised to what the lifetime points earn.
    pub tier: Tier,
    pub consent: Consent,
    pub allergies: Vec<String>,
    pub dietary_restrictions: Vec<String>,
}

/// Largest opening balance or lifetime total one member may bring.
pub const MAX_IMPORTED_POINTS: i64 = 1_000_000_000;
/// Longest external id.
pub const MAX_EXTERNAL_ID_LEN: usize = 100;

/// The fields a row may have, as named in a CSV header or a JSON object.
pub const FIELDS: [&str; 18] = [
    "externalId",
    "phone",
    "name",
    "email",
    "dateOfBirth",
    "anniversary",
    "memberSince",
    "points",
    "lifetimePoints",
    "tier",
    "emailOptIn",
    "smsOptIn",
    "pushNotifications",
    "specialOffers",
    "birthdayOffers",
    "anniversaryOffers",
    "allergies",
    "dietaryRestrictions",
];

/// Checks `raw` (phone numbers without `+country` read in `region`; dates not after `now`).
pub fn check_member(raw: &RawRow, region: country::Id, now: DateTime<Utc>) -> Result<MemberRow, RowError> {
    let row = Fields::new(raw, &FIELDS, "a member")?;
    let get = |name: &str| row.get(name);
    let text = |name: &'static str| row.text(name);
    let contact_err = |name: &'static str| move |e: ContactError| RowError::new(name, e, get(name));
    let required = |name: &'static str| row.required(name);
    let today = now.date_naive();
    let date = |name: &'static str| -> Result<Option<NaiveDate>, RowError> {
        text(name)?
            .map(|t| {
                let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| RowError::new(name, "must be a date like 1990-05-31", get(name)))?;
                contact::check_past_date(d, today).map_err(contact_err(name))
            })
            .transpose()
    };
    let external_id = required("externalId")?;
    if external_id.len() > MAX_EXTERNAL_ID_LEN {
        return Err(RowError::new("externalId", format!("must be at most {MAX_EXTERNAL_ID_LEN} characters"), get("externalId")));
    }
    let points = whole_points(text("points")?, "points", get("points"))?.unwrap_or(0);
    let lifetime_points = whole_points(text("lifetimePoints")?, "lifetimePoints", get("lifetimePoints"))?.unwrap_or(points);
    if lifetime_points < points {
        return Err(RowError::new("lifetimePoints", format!("must be at least the balance ({points})"), get("lifetimePoints")));
    }
    let given_tier = text("tier")?
        .map(|t| tier_named(t).ok_or_else(|| RowError::new("tier", "must be one of bronze, silver, gold, platinum, vip", get("tier"))))
        .transpose()?;
    let list = |name: &'static str| -> Result<Vec<String>, RowError> {
        let items = match get(name) {
            None => return Ok(Vec::new()),
            Some(Cell::List(items)) => items.clone(),
            Some(Cell::Text(t)) => t.split(';').map(str::to_string).filter(|s| !s.trim().is_empty()).collect(),
        };
        contact::normalize_list(&items).map_err(contact_err(name))
    };
    let flag = |name: &'static str| match text(name)?.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "no" | "n" | "0") => Ok(false),
        Some("true" | "yes" | "y" | "1") => Ok(true),
        Some(_) => Err(RowError::new(name, "must be true or false", get(name))),
    };
    Ok(MemberRow {
        external_id: external_id.to_string(),
        phone: contact::normalize_phone(required("phone")?, region).map_err(contact_err("phone"))?,
        name: contact::normalize_name(required("name")?).map_err(contact_err("name"))?,
        email: text("email")?.map(contact::normalize_email).transpose().map_err(contact_err("email"))?,
        date_of_birth: date("dateOfBirth")?,
        anniversary: date("anniversary")?,
        member_since: text("memberSince")?
            .map(|t| member_since(t, now).map_err(|reason| RowError::new("memberSince", reason, get("memberSince"))))
            .transpose()?,
        points,
        lifetime_points,
        tier: tier::next_tier(given_tier.unwrap_or(Tier::Bronze), lifetime_points),
        consent: Consent {
            email_opt_in: flag("emailOptIn")?,
            sms_opt_in: flag("smsOptIn")?,
            push_opt_in: flag("pushNotifications")?,
            special_offers: flag("specialOffers")?,
            birthday_offers: flag("birthdayOffers")?,
            anniversary_offers: flag("anniversaryOffers")?,
        },
        allergies: list("allergies")?,
        dietary_restrictions: list("dietaryRestrictions")?,
    })
}

fn whole_points(text: Option<&str>, name: &str, cell: Option<&Cell>) -> Result<Option<i64>, RowError> {
    text.map(|t| match t.parse::<i64>() {
        Ok(n) if (0..=MAX_IMPORTED_POINTS).contains(&n) => Ok(n),
        _ => Err(RowError::new(name, format!("must be a whole number from 0 to {MAX_IMPORTED_POINTS}"), cell)),
    })
    .transpose()
}

fn tier_named(t: &str) -> Option<Tier> {
    match t.to_ascii_lowercase().as_str() {
        "bronze" => Some(Tier::Bronze),
        "silver" => Some(Tier::Silver),
        "gold" => Some(Tier::Gold),
        "platinum" => Some(Tier::Platinum),
        "vip" => Some(Tier::Vip),
        _ => None,
    }
}

/// A day (`2019-03-01`, midnight UTC) or an RFC 3339 time, not in the future.
fn member_since(t: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
        .map_err(|_| "must be a date like 2019-03-01 or a time like 2019-03-01T18:30:00Z".to_string())?;
    if at > now {
        return Err("must not be in the future".into());
    }
    Ok(at)
}

/// What a value looks like without what it says: letters become `a`/`A`, digits `9`, other
/// characters stay; at most 40 characters, then the length (`+9 999 999 9999`, `aaa@aaaa.aaa`).
pub fn shape(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(40)
        .map(|c| match c {
            c if c.is_ascii_digit() => '9',
            c if c.is_uppercase() => 'A',
            c if c.is_alphabetic() => 'a',
            c => c,
        })
        .collect();
    let n = value.chars().count();
    if n > 40 {
        out.push_str(&format!("… ({n} characters)"));
    }
    out
}

fn shape_of(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => shape(t),
        Cell::List(items) => format!("[{}]", items.iter().map(|i| shape(i)).collect::<Vec<_>>().join(", ")),
    }
}

pub mod orders;

#[cfg(test)]
mod tests;
