//! The core of personal values: the associated data of each sealed column, the values in
//! clear ([`Personal`]), the blind indexes, reading personal rows and opening one.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::customer::Sealed;
use crate::entities::customer_personal;
use crate::vault::CustomerKey;
use crate::vault::crypto::Key;
use crate::{DomainError, DomainResult, Scope};

/// Associated data of each sealed column (a value copied into another column does not open).
pub const PHONE: &str = "customers.phone";
pub(crate) const EMAIL: &str = "customers.email";
pub(crate) const BIRTH: &str = "customers.date_of_birth";
pub(crate) const ANNIVERSARY: &str = "customers.anniversary";
pub(crate) const DIETARY: &str = "customers.dietary_restrictions";
pub(crate) const ALLERGIES: &str = "customers.allergies";
/// Associated data of a staff note.
pub const NOTE: &str = "customer_notes.note";
/// Associated data of a review's comment.
pub const COMMENT: &str = "feedback.comment";
/// Associated data of personal values in audit details (sealed JSON values).
pub const AUDIT: &str = "audit";

/// A customer's personal values in clear.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Personal {
    pub phone: String,
    pub email: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub anniversary: Option<NaiveDate>,
    pub dietary_restrictions: Vec<String>,
    pub allergies: Vec<String>,
}

/// The blind indexes of one restaurant (its index key).
#[derive(Clone, Debug)]
pub struct Indexes(pub(crate) Key);

impl Indexes {
    /// The scope's restaurant's indexes.
    pub async fn of(scope: &Scope) -> DomainResult<Indexes> {
        Ok(Indexes(scope.vault.index_key(&scope.restaurant_id).await?))
    }

    /// Index of a normalised (E.164) phone number.
    pub fn phone(&self, e164: &str) -> String {
        self.0.blind_index("phone", e164)
    }

    /// Index of a normalised email address.
    pub fn email(&self, email: &str) -> String {
        self.0.blind_index("email", email)
    }

    /// A keyed digest of a personal `text` of kind `what`, for equality checks of stored
    /// requests (the idempotency record of a review with a comment).
    pub fn digest(&self, what: &str, text: &str) -> String {
        self.0.blind_index(what, text)
    }

    /// Index of the last four digits of a phone number (or of a search text's digits), `None`
    /// with fewer than four.
    pub fn last4(&self, text: &str) -> Option<String> {
        let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
        (digits.len() >= 4).then(|| self.0.blind_index("phone-last4", &digits[digits.len() - 4..].iter().collect::<String>()))
    }
}

/// Opens the personal values of `p` with its customer's key (`None`: values written before
/// encryption, or the key was erased — an error then).
pub fn open_with(p: &customer_personal::Model, key: Option<&CustomerKey>) -> DomainResult<Personal> {
    let open = |field: &str, sealed: &Sealed| -> DomainResult<String> {
        if !crate::vault::crypto::is_sealed(&sealed.0) {
            return Ok(sealed.0.clone());
        }
        match key {
            Some(k) => k.open(field, &sealed.0),
            None => Err(DomainError::Erased { what: format!("customer {}", p.customer_id) }),
        }
    };
    let date = |field: &str, v: &Option<Sealed>| -> DomainResult<Option<NaiveDate>> {
        let Some(v) = v else { return Ok(None) };
        let text = open(field, v)?;
        if text.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map(Some).map_err(|_| DomainError::internal(format!("{field}: not a date")))
    };
    let list = |field: &str, v: &Sealed| -> DomainResult<Vec<String>> {
        let text = open(field, v)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&text).map_err(|_| DomainError::internal(format!("{field}: not a list")))
    };
    Ok(Personal {
        phone: open(PHONE, &p.phone)?,
        email: p.email.as_ref().map(|e| open(EMAIL, e)).transpose()?,
        date_of_birth: date(BIRTH, &p.date_of_birth)?,
        anniversary: date(ANNIVERSARY, &p.anniversary)?,
        dietary_restrictions: list(DIETARY, &p.dietary_restrictions)?,
        allergies: list(ALLERGIES, &p.allergies)?,
    })
}

/// The personal rows of customers `ids` of the scope's restaurant, by customer id.
pub async fn rows(db: &impl ConnectionTrait, scope: &Scope, ids: &[i64]) -> DomainResult<HashMap<i64, customer_personal::Model>> {
    use customer_personal::Column as P;
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        let found = customer_personal::Entity::find()
            .filter(P::RestaurantId.eq(&scope.restaurant_id))
            .filter(P::CustomerId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        out.extend(found.into_iter().map(|p| (p.customer_id, p)));
    }
    Ok(out)
}

/// Customer `id`'s personal row (every customer has one).
pub async fn row(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<customer_personal::Model> {
    rows(db, scope, &[id]).await?.remove(&id).ok_or_else(|| missing(id))
}

pub(crate) fn missing(id: i64) -> DomainError {
    DomainError::internal(format!("customer {id} has no personal row"))
}
