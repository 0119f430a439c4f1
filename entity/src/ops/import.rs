//! Bringing members from another system (`loyalty import customers`): each checked row
//! ([`crate::rules::import::check_member`]) becomes a member with its personal values sealed
//! under a key of its own, its balance as `import` ledger rows, and each consent it grants
//! audited with source `import`. Rows are keyed by their external id, so importing the same file
//! again, or resuming one a crash cut short, writes nothing twice; a batch is one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession, TransactionTrait};
use serde_json::json;

use super::customers::personal::{self, Indexes, Personal};
use super::customers::upsert::{new_row, unused_referral_code};
use super::{begin_write, ledger, now, state};
use crate::entities::{AuditAction, LedgerKind, customer};
use crate::rules::import::{MemberRow, RawRow, RowError, check_member};
use crate::rules::occasions;
use crate::rules::programme::Programme;
use crate::vault::CustomerKey;
use crate::{DomainError, DomainResult, Scope};

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// Written as member `id`.
    Created(i64),
    /// Would be written (a dry run).
    WouldCreate,
    /// Member `id` has this external id already: nothing written.
    Unchanged(i64),
    Refused(RowError),
}

/// Imports a batch of checked rows, each with its line in the file, into the scope's
/// restaurant (`dry_run`: decides every row, writes nothing). One outcome per row, in order.
pub async fn members<D: TransactionTrait + ConnectionTrait>(db: &D, scope: &Scope, rows: &[(u64, MemberRow)], dry_run: bool) -> DomainResult<Vec<RowOutcome>> {
    let indexes = Indexes::of(scope).await?;
    let mut outcomes = decide(db, scope, &indexes, rows).await?;
    let fresh: Vec<usize> = outcomes.iter().enumerate().filter(|(_, o)| **o == RowOutcome::WouldCreate).map(|(i, _)| i).collect();
    if dry_run || fresh.is_empty() {
        return Ok(outcomes);
    }
    let p = super::restaurants::programme(db, scope).await?;
    let keys = scope.vault.new_customer_keys(&scope.restaurant_id, fresh.len()).await?;
    let written = async {
        let txn = begin_write(db).await?;
        let mut ids = Vec::with_capacity(fresh.len());
        for (&i, key) in fresh.iter().zip(&keys) {
            ids.push(insert_member(&txn, scope, &p, &indexes, &rows[i].1, key).await?);
        }
        txn.commit().await?;
        DomainResult::Ok(ids)
    };
    match written.await {
        Ok(ids) => fresh.iter().zip(ids).for_each(|(&i, id)| outcomes[i] = RowOutcome::Created(id)),
        // A member created meanwhile with one of these phones or ids: each row again alone.
        Err(DomainError::Database(_)) => {
            for (&i, key) in fresh.iter().zip(&keys) {
                outcomes[i] = alone(db, scope, &p, &indexes, &rows[i].1, key).await?;
            }
        }
        Err(e) => return Err(e),
    }
    Ok(outcomes)
}

/// Most rows one call of [`check_and_import`] takes (the GraphQL path; files go through the CLI).
pub const MAX_ROWS_PER_CALL: usize = 500;

/// Checks each raw row ([`check_member`], phones read in `region`) and imports those that pass
/// as [`members`] does: one outcome per row, in order. At most [`MAX_ROWS_PER_CALL`] rows.
pub async fn check_and_import<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    region: phonenumber::country::Id,
    raws: &[RawRow],
    dry_run: bool,
) -> DomainResult<Vec<RowOutcome>> {
    if raws.len() > MAX_ROWS_PER_CALL {
        return Err(DomainError::validation("rows", format!("at most {MAX_ROWS_PER_CALL} rows per call; import a file with `loyalty import customers`")));
    }
    let at = now();
    let checked: Vec<Result<MemberRow, RowError>> = raws.iter().map(|raw| check_member(raw, region, at)).collect();
    let valid: Vec<(u64, MemberRow)> = checked.iter().enumerate().filter_map(|(i, c)| c.as_ref().ok().map(|m| (i as u64 + 1, m.clone()))).collect();
    let mut written = members(db, scope, &valid, dry_run).await?.into_iter();
    Ok(checked.into_iter().map(|c| c.map_or_else(RowOutcome::Refused, |_| written.next().unwrap_or(RowOutcome::WouldCreate))).collect())
}

/// Which rows are new, which the restaurant has already (by external id), and which clash
/// with a member (or an earlier row) over the phone or the external id.
async fn decide(db: &impl ConnectionTrait, scope: &Scope, indexes: &Indexes, rows: &[(u64, MemberRow)]) -> DomainResult<Vec<RowOutcome>> {
    use customer::Column as C;
    let in_scope = || customer::Entity::find().select_only().column(C::Id).filter(C::RestaurantId.eq(&scope.restaurant_id));
    let external: HashMap<String, i64> = in_scope()
        .column(C::ExternalId)
        .filter(C::ExternalId.is_in(rows.iter().map(|(_, m)| m.external_id.clone())))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, ext)| (ext, id))
        .collect();
    let phones: Vec<String> = rows.iter().map(|(_, m)| indexes.phone(&m.phone)).collect();
    let by_phone: HashMap<String, i64> = in_scope()
        .column(C::PhoneIndex)
        .filter(C::PhoneIndex.is_in(phones.clone()))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, i)| (i, id))
        .collect();
    let (mut seen_ids, mut seen_phones) = (HashMap::new(), HashMap::new());
    let mut out = Vec::with_capacity(rows.len());
    for ((line, m), phone) in rows.iter().zip(&phones) {
        let outcome = if let Some(&id) = external.get(&m.external_id) {
            RowOutcome::Unchanged(id)
        } else if let Some(first) = seen_ids.insert(m.external_id.as_str(), *line) {
            RowOutcome::Refused(RowError::new("externalId", format!("repeats the member of line {first}"), None))
        } else if let Some(&id) = by_phone.get(phone) {
            RowOutcome::Refused(RowError::new("phone", format!("belongs to member {id}, who has another or no external id"), None))
        } else if let Some(first) = seen_phones.insert(phone.as_str(), *line) {
            RowOutcome::Refused(RowError::new("phone", format!("is the phone of the member of line {first}"), None))
        } else {
            RowOutcome::WouldCreate
        };
        out.push(outcome);
    }
    Ok(out)
}

/// One row in a transaction of its own: a clash with a member written meanwhile refuses it.
async fn alone<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    p: &Programme,
    indexes: &Indexes,
    m: &MemberRow,
    key: &CustomerKey,
) -> DomainResult<RowOutcome> {
    let txn = begin_write(db).await?;
    match insert_member(&txn, scope, p, indexes, m, key).await {
        Ok(id) => {
            txn.commit().await?;
            Ok(RowOutcome::Created(id))
        }
        Err(DomainError::Database(e)) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Ok(RowOutcome::Refused(RowError::new("externalId", "a member with this external id or phone was created while the import ran", None)))
        }
        Err(e) => Err(e),
    }
}

/// Writes one member: the row, its personal values, its balance, the audit of its creation and
/// consent, and its tags and segments. Returns its id.
async fn insert_member(txn: &impl ConnectionTrait, scope: &Scope, p: &Programme, indexes: &Indexes, m: &MemberRow, key: &CustomerKey) -> DomainResult<i64> {
    let at = now();
    let mut row = new_row(scope, m.name.clone(), unused_referral_code(txn, &m.name).await?, at);
    row.external_id = Set(Some(m.external_id.clone()));
    row.member_since = Set(m.member_since.unwrap_or(at));
    row.birth_md = Set(m.date_of_birth.map(occasions::month_day_key));
    row.anniversary_md = Set(m.anniversary.map(occasions::month_day_key));
    (row.points_current, row.points_lifetime, row.points_redeemed) = (Set(m.points), Set(m.lifetime_points), Set(m.lifetime_points - m.points));
    row.tier = Set(m.tier);
    let c = m.consent;
    (row.email_opt_in, row.sms_opt_in, row.push_opt_in) = (Set(c.email_opt_in), Set(c.sms_opt_in), Set(c.push_opt_in));
    (row.special_offers, row.birthday_offers, row.anniversary_offers) = (Set(c.special_offers), Set(c.birthday_offers), Set(c.anniversary_offers));
    let clear = Personal {
        phone: m.phone.clone(),
        email: m.email.clone(),
        date_of_birth: m.date_of_birth,
        anniversary: m.anniversary,
        dietary_restrictions: m.dietary_restrictions.clone(),
        allergies: m.allergies.clone(),
    };
    let mut values: personal::Values = Default::default();
    personal::seal_into(&mut row, &mut values, &clear, key, indexes);
    let row = row.insert(txn).await?;
    personal::write(txn, scope, row.id, values, true).await?;
    write_balance(txn, scope, &row, at).await?;
    audit(txn, scope, &row, m).await?;
    Ok(state::refresh(txn, p, row, at, false).await?.id)
}

/// The imported balance as the ledger holds it: the points ever earned, then those redeemed.
async fn write_balance(txn: &impl ConnectionTrait, scope: &Scope, row: &customer::Model, at: DateTime<Utc>) -> DomainResult<()> {
    let earned = customer::Model { points_current: row.points_lifetime, ..row.clone() };
    if row.points_lifetime > 0 {
        ledger::append(txn, scope, &earned, LedgerKind::Import, row.points_lifetime, Some("Imported: points earned before the move".into()), None, at).await?;
    }
    if row.points_redeemed > 0 {
        ledger::append(txn, scope, row, LedgerKind::Import, -row.points_redeemed, Some("Imported: points redeemed before the move".into()), None, at).await?;
    }
    Ok(())
}

/// The member's creation (source `import`, its external id) and each consent the row grants.
async fn audit(txn: &impl ConnectionTrait, scope: &Scope, row: &customer::Model, m: &MemberRow) -> DomainResult<()> {
    let created = json!({ "source": "import", "externalId": m.external_id });
    super::audit::record(txn, scope, AuditAction::CustomerCreated, Some(row.id), created).await?;
    let c = m.consent;
    let flags = [
        ("emailOptIn", c.email_opt_in),
        ("smsOptIn", c.sms_opt_in),
        ("pushNotifications", c.push_opt_in),
        ("specialOffers", c.special_offers),
        ("birthdayOffers", c.birthday_offers),
        ("anniversaryOffers", c.anniversary_offers),
    ];
    for (flag, _) in flags.into_iter().filter(|(_, on)| *on) {
        let details = json!({ "flag": flag, "from": false, "to": true, "source": "import" });
        super::audit::record(txn, scope, AuditAction::ConsentChanged, Some(row.id), details).await?;
    }
    Ok(())
}
