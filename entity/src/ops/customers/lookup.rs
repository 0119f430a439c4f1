//! Finding one member: by id, phone, email, referral code, the login service's userId or the
//! id of the system they were imported from.

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::personal::Indexes;
use super::projection::Projection;
use crate::ops::direct::Source;

use crate::entities::customer;
use crate::rules::contact;
use crate::{DomainError, DomainResult, Policy, Scope};

/// Customer `id` in the scope's restaurant, or `NotFound`.
pub async fn find_by_id(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<customer::Model> {
    customer::Entity::find_by_id(id)
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("customer {id}")))
}

/// How a frontend names a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Id(i64),
    /// Any format the policy's region reads.
    Phone(String),
    Email(String),
    ReferralCode(String),
    /// The login service's id of the person.
    UserId(String),
    /// The member's id in the system they were imported from.
    ExternalId(String),
}

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Id(id) => write!(f, "customer {id}"),
            Lookup::Phone(v) => write!(f, "customer with phone {v}"),
            Lookup::Email(v) => write!(f, "customer with email {v}"),
            Lookup::ReferralCode(v) => write!(f, "customer with referral code {v}"),
            Lookup::UserId(v) => write!(f, "customer with userId {v}"),
            Lookup::ExternalId(v) => write!(f, "customer with externalId {v}"),
        }
    }
}

/// The scope's member named by `lookup`, or `None` (the POS's "not a member yet"), with the
/// columns of `projection`. A malformed phone or email is a `VALIDATION` error, not a miss.
pub async fn find(db: &impl ConnectionTrait, scope: &Scope, policy: &Policy, lookup: Lookup, projection: &Projection) -> DomainResult<Option<customer::Model>> {
    find_from(&Source::of(db), scope, policy, lookup, projection).await
}

/// [`find`] on the pool itself, reading straight from it (`ops::direct`): the POS's lookup.
pub async fn find_on_pool(
    db: &DatabaseConnection,
    scope: &Scope,
    policy: &Policy,
    lookup: Lookup,
    projection: &Projection,
) -> DomainResult<Option<customer::Model>> {
    find_from(&Source::pool(db), scope, policy, lookup, projection).await
}

async fn find_from(
    db: &Source<'_, impl ConnectionTrait>,
    scope: &Scope,
    policy: &Policy,
    lookup: Lookup,
    projection: &Projection,
) -> DomainResult<Option<customer::Model>> {
    use customer::Column as C;
    let column_is = |column: C, value: sea_orm::Value| super::projection::select().filter(C::RestaurantId.eq(&scope.restaurant_id)).filter(column.eq(value));
    let query = match lookup {
        Lookup::Id(id) => column_is(C::Id, id.into()),
        Lookup::Phone(phone) => {
            // Every stored number was checked when written: the numbering plan (most of a
            // lookup's CPU) is asked only when no member has the number, to tell a typo from a
            // guest who is not a member yet.
            let phone = contact::parse_phone(&phone, policy.phone_region).map_err(|e| DomainError::validation("phone", e))?;
            let query = column_is(C::PhoneIndex, Indexes::of(scope).await?.phone(&phone.e164()).into());
            let found = projection.read_from(db, query.limit(1)).await?.pop();
            if found.is_none() && !phone.is_valid() {
                return Err(DomainError::validation("phone", contact::ContactError::InvalidPhone));
            }
            return Ok(found);
        }
        Lookup::Email(email) => {
            let email = contact::normalize_email(&email).map_err(|e| DomainError::validation("email", e))?;
            column_is(C::EmailIndex, Indexes::of(scope).await?.email(&email).into())
        }
        Lookup::ReferralCode(code) => {
            let code = code.trim().to_uppercase();
            if code.is_empty() || code.len() > 20 {
                return Err(DomainError::validation("referralCode", "must be 1 to 20 characters"));
            }
            column_is(C::ReferralCode, code.into())
        }
        Lookup::UserId(user) => {
            let user = user.trim().to_string();
            if user.is_empty() || user.len() > 100 {
                return Err(DomainError::validation("userId", "must be 1 to 100 characters"));
            }
            column_is(C::UserId, user.into())
        }
        Lookup::ExternalId(id) => {
            let id = id.trim().to_string();
            if id.is_empty() || id.len() > crate::rules::import::MAX_EXTERNAL_ID_LEN {
                return Err(DomainError::validation("externalId", "must be 1 to 100 characters"));
            }
            column_is(C::ExternalId, id.into())
        }
    };
    Ok(projection.read_from(db, query.limit(1)).await?.pop())
}

/// The member a customer token stands for, or `NotFound` (erased, merged away, or never
/// linked to the login service's user).
pub async fn find_member(db: &impl ConnectionTrait, scope: &Scope, member: &crate::ops::keys::MemberRef) -> DomainResult<customer::Model> {
    let lookup = match member {
        crate::ops::keys::MemberRef::Id(id) => Lookup::Id(*id),
        crate::ops::keys::MemberRef::UserId(user) => Lookup::UserId(user.clone()),
    };
    let label = lookup.to_string();
    find(db, scope, &Policy::default(), lookup, &Projection::All).await?.ok_or_else(|| DomainError::not_found(label))
}

/// The customer with this phone number (any format the policy's region reads), or `NotFound`.
pub async fn find_by_phone(db: &impl ConnectionTrait, scope: &Scope, policy: &Policy, phone: &str) -> DomainResult<customer::Model> {
    let phone = contact::normalize_phone(phone, policy.phone_region).map_err(|e| DomainError::validation("phone", e))?;
    let index = Indexes::of(scope).await?.phone(&phone);
    find_by_phone_index(db, scope, &index).await?.ok_or_else(|| DomainError::not_found(format!("customer with phone {phone}")))
}

/// The customer whose phone has the blind index `index` ([`Indexes::phone`]).
pub(crate) async fn find_by_phone_index(db: &impl ConnectionTrait, scope: &Scope, index: &str) -> DomainResult<Option<customer::Model>> {
    Ok(customer::Entity::find().filter(customer::Column::RestaurantId.eq(&scope.restaurant_id)).filter(customer::Column::PhoneIndex.eq(index)).one(db).await?)
}
