//! Bringing members from another system (`loyalty import customers`): each checked row
//! ([`crate::rules::import::check_member`]) becomes a member with its personal values sealed
//! under a key of its own, its balance as `import` ledger rows, and each consent it grants
//! audited with source `import`. Rows are keyed by their external id, so importing the same file
//! again, or resuming one a crash cut short, writes nothing twice; a batch is one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession, TransactionTrait};
use serde_json::json;

use super::customers::personal::{self, Indexes, Personal};
use super::customers::upsert::new_row;
use super::{audit, begin_write, ledger, now, state};
use crate::entities::{AuditAction, LedgerKind, audit_entry, customer, customer_label, customer_personal, point_transaction};
use crate::rules::import::{MemberRow, RawRow, RowError, check_member};
use crate::rules::programme::Programme;
use crate::rules::{occasions, referral};
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
        let batch: Vec<&MemberRow> = fresh.iter().map(|&i| &rows[i].1).collect();
        let ids = insert_members(&txn, scope, &p, &indexes, &batch, &keys).await?;
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

/// Keeps the planner's statistics of the tables an import grows current (`customers` for
/// members; visits, ledger and favourites for orders): `ANALYZE` whenever the rows written since
/// the last one reach the number there were then (at least 1,000), a handful of times however
/// large the file. Without it the plans made while a table was nearly empty scan it for each
/// batch's lookups: quadratic (100,000 members took 581 s; with it, see BENCHMARKS.md).
#[derive(Debug)]
pub struct Statistics {
    tables: &'static [&'static str],
    at_last: u64,
    since: u64,
}

impl Default for Statistics {
    fn default() -> Self {
        Self::of(&["customers"])
    }
}

impl Statistics {
    /// Statistics of `tables`, refreshed together.
    pub fn of(tables: &'static [&'static str]) -> Self {
        Self { tables, at_last: 0, since: 0 }
    }

    /// Counts `written` rows and refreshes the statistics when due.
    pub async fn after(&mut self, db: &impl ConnectionTrait, written: u64) -> DomainResult<()> {
        self.since += written;
        if self.since >= self.at_last.max(1_000) {
            for table in self.tables {
                super::dialect::analyze(db, table).await?;
            }
            (self.at_last, self.since) = (self.at_last + self.since, 0);
        }
        Ok(())
    }
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
    match insert_members(&txn, scope, p, indexes, &[m], std::slice::from_ref(key)).await {
        Ok(ids) => {
            txn.commit().await?;
            Ok(RowOutcome::Created(ids[0]))
        }
        Err(DomainError::Database(e)) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            Ok(RowOutcome::Refused(RowError::new("externalId", "a member with this external id or phone was created while the import ran", None)))
        }
        Err(e) => Err(e),
    }
}

/// Writes members (each under its key): their rows one by one (for their ids), then their
/// personal values, balances, audit entries and labels a statement per kind. Returns their ids.
async fn insert_members(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    p: &Programme,
    indexes: &Indexes,
    rows: &[&MemberRow],
    keys: &[CustomerKey],
) -> DomainResult<Vec<i64>> {
    let at = now();
    let codes = referral_codes(txn, rows).await?;
    let (actives, values): (Vec<_>, Vec<_>) = rows.iter().zip(keys).zip(codes).map(|((m, key), code)| member_row(scope, m, key, indexes, code, at)).unzip();
    let inserted = insert_rows(txn, actives, rows).await?;
    let (mut personal_rows, mut ledger, mut audit, mut labels, mut ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((m, row), mut values) in rows.iter().zip(inserted).zip(values) {
        (values.customer_id, values.restaurant_id) = (Set(row.id), Set(scope.restaurant_id.clone()));
        personal_rows.push(values);
        ledger.extend(balance_entries(scope, &row, at));
        audit.extend(audit_entries(scope, &row, m));
        labels.extend(state::labels_of_new(&row, p, at));
        ids.push(row.id);
    }
    insert_all::<customer_personal::Entity>(txn, personal_rows).await?;
    insert_all::<point_transaction::Entity>(txn, ledger).await?;
    insert_all::<audit_entry::Entity>(txn, audit).await?;
    insert_all::<customer_label::Entity>(txn, labels).await?;
    Ok(ids)
}

/// The members' rows, written, in the order of `rows`: a statement per 1,000 where the database
/// returns what it inserted (PostgreSQL), else one by one.
async fn insert_rows(txn: &impl ConnectionTrait, actives: Vec<customer::ActiveModel>, rows: &[&MemberRow]) -> DomainResult<Vec<customer::Model>> {
    if !txn.support_returning() {
        let mut out = Vec::with_capacity(actives.len());
        for active in actives {
            out.push(active.insert(txn).await?);
        }
        return Ok(out);
    }
    let mut by_external = HashMap::with_capacity(actives.len());
    let mut actives = actives.into_iter().peekable();
    while actives.peek().is_some() {
        let chunk: Vec<_> = actives.by_ref().take(ROWS_PER_INSERT).collect();
        for row in customer::Entity::insert_many(chunk).exec_with_returning(txn).await? {
            by_external.insert(row.external_id.clone().unwrap_or_default(), row);
        }
    }
    rows.iter()
        .map(|m| by_external.remove(&m.external_id).ok_or_else(|| DomainError::internal(format!("member {} was not returned by its insert", m.external_id))))
        .collect()
}

/// Rows per insert statement (PostgreSQL takes 65,535 parameters, SQLite 32,766; a member's row
/// has about 40 columns).
const ROWS_PER_INSERT: usize = 1_000;

async fn insert_all<E: EntityTrait>(txn: &impl ConnectionTrait, rows: Vec<E::ActiveModel>) -> DomainResult<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        E::insert_many(rows.by_ref().take(ROWS_PER_INSERT).collect::<Vec<_>>()).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// A member's row and its sealed personal values, not yet written.
fn member_row(
    scope: &Scope,
    m: &MemberRow,
    key: &CustomerKey,
    indexes: &Indexes,
    code: String,
    at: DateTime<Utc>,
) -> (customer::ActiveModel, personal::Values) {
    let mut row = new_row(scope, m.name.clone(), code, at);
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
    (row, values)
}

/// A referral code for each member no customer has yet, drawn again where one is taken.
async fn referral_codes(txn: &impl ConnectionTrait, rows: &[&MemberRow]) -> DomainResult<Vec<String>> {
    use customer::Column as C;
    let names: Vec<&str> = rows.iter().map(|m| m.name.as_str()).collect();
    let mut codes = vec![String::new(); rows.len()];
    let mut redraw: Vec<usize> = (0..rows.len()).collect();
    for _ in 0..16 {
        draw(&names, &redraw, &mut codes);
        let taken: HashSet<String> = customer::Entity::find()
            .select_only()
            .column(C::ReferralCode)
            .filter(C::ReferralCode.is_in(codes.clone()))
            .into_tuple()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        redraw = codes.iter().enumerate().filter(|(_, c)| taken.contains(*c) || !seen.insert(c.as_str())).map(|(i, _)| i).collect();
        if redraw.is_empty() {
            return Ok(codes);
        }
    }
    Err(DomainError::internal("no free referral codes after 16 draws"))
}

fn draw(names: &[&str], which: &[usize], codes: &mut [String]) {
    let mut rng = rand::rng();
    for &i in which {
        codes[i] = referral::generate(names[i], &mut rng);
    }
}

/// The imported balance as the ledger holds it: the points ever earned, then those redeemed.
fn balance_entries(scope: &Scope, row: &customer::Model, at: DateTime<Utc>) -> Vec<point_transaction::ActiveModel> {
    let earned = customer::Model { points_current: row.points_lifetime, ..row.clone() };
    let mut out = Vec::new();
    if row.points_lifetime > 0 {
        out.push(ledger::entry(scope, &earned, LedgerKind::Import, row.points_lifetime, Some("Imported: points earned before the move".into()), at));
    }
    if row.points_redeemed > 0 {
        out.push(ledger::entry(scope, row, LedgerKind::Import, -row.points_redeemed, Some("Imported: points redeemed before the move".into()), at));
    }
    out
}

/// The member's creation (source `import`, its external id) and each consent the row grants.
fn audit_entries(scope: &Scope, row: &customer::Model, m: &MemberRow) -> Vec<audit_entry::ActiveModel> {
    let created = json!({ "source": "import", "externalId": m.external_id });
    let c = m.consent;
    let flags = [
        ("emailOptIn", c.email_opt_in),
        ("smsOptIn", c.sms_opt_in),
        ("pushNotifications", c.push_opt_in),
        ("specialOffers", c.special_offers),
        ("birthdayOffers", c.birthday_offers),
        ("anniversaryOffers", c.anniversary_offers),
    ];
    let consent = flags.into_iter().filter(|(_, on)| *on).map(|(flag, _)| json!({ "flag": flag, "from": false, "to": true, "source": "import" }));
    std::iter::once(audit::entry(scope, AuditAction::CustomerCreated, Some(row.id), created))
        .chain(consent.map(|details| audit::entry(scope, AuditAction::ConsentChanged, Some(row.id), details)))
        .collect()
}
