//! Changing a member's phone number: the one way to move a member to a new number, since
//! create-or-update finds members by it.

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr, TransactionSession, TransactionTrait};

use super::lookup::{find_by_id, find_by_phone_index};
use super::personal::{self, Indexes};
use crate::entities::customer::{self, Sealed};
use crate::ops::{begin_write, now};
use crate::rules::contact;
use crate::{DomainError, DomainResult, Policy, Scope};

/// What a phone change returns.
#[derive(Debug, Clone)]
pub struct PhoneChange {
    pub customer: customer::Model,
    /// False when the member already had this number (nothing was written).
    pub changed: bool,
}

/// Gives member `customer_id` the phone number `phone` (any format the policy's region reads):
/// sealed, re-indexed (lookups by the old number no longer find the member, the last-four
/// search follows the new one) and audited as `customer.phone_changed`, in one transaction.
/// `CONFLICT` when another member has the number; `INVALID_STATE` for an erased member. The
/// write is conditional on the number read, so a concurrent change of the same member is
/// never overwritten unseen (the loser answers `CONFLICT`).
pub async fn change_phone<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    policy: &Policy,
    customer_id: i64,
    phone: &str,
) -> DomainResult<PhoneChange> {
    let phone = contact::normalize_phone(phone, policy.phone_region).map_err(|e| DomainError::validation("phone", e))?;
    let indexes = Indexes::of(scope).await?;
    let index = indexes.phone(&phone);
    let txn = begin_write(db).await?;
    let before = find_by_id(&txn, scope, customer_id).await?;
    if crate::rules::erasure::is_erased(&before) {
        return Err(DomainError::invalid_state(format!("customer {customer_id} was erased: there is no phone number to change")));
    }
    if before.phone_index.as_deref() == Some(index.as_str()) {
        return Ok(PhoneChange { customer: before, changed: false });
    }
    if let Some(holder) = find_by_phone_index(&txn, scope, &index).await? {
        return Err(taken(&phone, holder.id));
    }
    let key = personal::key_for(scope, Some(&before)).await?;
    let old = personal::open_for(&txn, scope, customer_id, &key).await?.phone;
    let at = now();
    use customer::Column as C;
    let written = customer::Entity::update_many()
        .col_expr(C::PhoneIndex, Expr::value(index))
        .col_expr(C::PhoneLast4, Expr::value(indexes.last4(&phone)))
        .col_expr(C::KeyId, Expr::value(key.id.clone()))
        .col_expr(C::UpdatedAt, Expr::value(at))
        .filter(C::Id.eq(customer_id))
        .filter(C::RestaurantId.eq(&scope.restaurant_id))
        .filter(match &before.phone_index {
            Some(read) => C::PhoneIndex.eq(read.as_str()),
            None => C::PhoneIndex.is_null(),
        })
        .exec_with_returning(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => taken(&phone, 0),
            _ => e.into(),
        })?;
    let Some(after) = written.into_iter().next() else {
        return Err(DomainError::Conflict { message: format!("customer {customer_id}'s phone number was changed by another request; read it again") });
    };
    let values = personal::Values { phone: Set(Sealed(key.seal(personal::PHONE, &phone))), ..Default::default() };
    personal::write(&txn, scope, customer_id, values, false).await?;
    let sealed = |v: &str| key.seal(personal::AUDIT, &serde_json::Value::String(v.to_string()).to_string());
    let details = serde_json::json!({ "changes": { "phone": { "from": sealed(&old), "to": sealed(&phone) } } });
    crate::ops::audit::record(&txn, scope, crate::entities::AuditAction::CustomerPhoneChanged, Some(customer_id), details).await?;
    txn.commit().await?;
    Ok(PhoneChange { customer: after, changed: true })
}

fn taken(phone: &str, holder: i64) -> DomainError {
    let who = if holder > 0 { format!("customer {holder}") } else { "another member".to_string() };
    DomainError::Conflict { message: format!("{who} already has the phone number {phone} (merge the two with mergeCustomers)") }
}
