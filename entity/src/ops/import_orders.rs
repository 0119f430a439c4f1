//! Importing past orders (`loyalty import orders`) in batches: a batch's members and the order
//! ids already recorded are read with one query each, then its new orders are written in one
//! transaction, each as `recordOrder` writes one ([`super::orders::write`]) inside a savepoint
//! of its own, so a row that cannot be recorded (a blocked member, an order the POS recorded
//! meanwhile) leaves the others. An order id recorded before changes nothing, so a run after a
//! crash resumes.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession, TransactionTrait};

use super::customers::personal::Indexes;
use super::orders::{OrderInput, OrderItem};
use crate::entities::{customer, visit};
use crate::rules::import::orders::{Member, OrderRow};
use crate::{DomainError, DomainResult, Policy, Scope};

/// What importing an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Recorded,
    /// The order id was recorded before: nothing changed.
    AlreadyThere,
    /// A dry run: the member exists and the order would be recorded.
    WouldRecord,
}

/// The tables an order import grows, whose planner statistics it keeps current.
pub const GROWN: &[&str] = &["visits", "point_transactions", "favorite_items"];

/// How one row of a batch ended: recorded, already there, or refused (`NotFound` for an
/// unknown member, `CustomerBlocked`, `Validation`).
pub type Outcome = Result<Imported, DomainError>;

/// Records the orders of `rows` (in their order) for the members with their external ids or
/// phones, each at its own time however long ago. Without `earn`, an order earns no points (its
/// history only); a dry run writes nothing. One outcome per row; an error of the database fails
/// the batch (nothing of it is written). `statistics` counts the orders written.
pub async fn import<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    policy: &Policy,
    rows: &[OrderRow],
    dry_run: bool,
    earn: bool,
    statistics: &mut super::import::Statistics,
) -> DomainResult<Vec<Outcome>> {
    let members = members(db, scope, rows).await?;
    let mut seen = recorded(db, scope, rows).await?;
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut todo = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let outcome = match members.get(&row.member) {
            None => Err(DomainError::not_found(match &row.member {
                Member::External(id) => format!("customer with externalId {id}"),
                Member::Phone(phone) => format!("customer with phone {phone}"),
            })),
            Some(_) if !seen.insert(row.order_id.clone()) => Ok(Imported::AlreadyThere),
            Some(_) if dry_run => Ok(Imported::WouldRecord),
            Some(id) => {
                todo.push((i, *id));
                Ok(Imported::Recorded)
            }
        };
        outcomes.push(outcome);
    }
    if todo.is_empty() {
        return Ok(outcomes);
    }
    let p = super::restaurants::programme(db, scope).await?;
    let txn = super::begin_write(db).await?;
    for (i, customer_id) in todo {
        let input = input_of(&rows[i], earn);
        let place = super::orders::check(&input, policy, super::now());
        let points = if earn { p.points_for_amount(input.amount_cents) } else { 0 };
        let attempt = txn.begin().await?;
        let written = match place {
            Ok(place) => super::orders::write(&attempt, scope, &p, customer_id, &input, &place, points).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(_) => attempt.commit().await?,
            Err(DomainError::Database(e)) => return Err(e.into()),
            Err(e) => {
                attempt.rollback().await?;
                outcomes[i] = match e {
                    DomainError::InvalidState { .. } => Ok(Imported::AlreadyThere),
                    other => Err(other),
                };
            }
        }
    }
    txn.commit().await?;
    let written = outcomes.iter().filter(|o| matches!(o, Ok(Imported::Recorded))).count() as u64;
    statistics.after(db, written).await?;
    Ok(outcomes)
}

/// The members the rows name, by how they name them (erased members are not found).
async fn members(db: &impl ConnectionTrait, scope: &Scope, rows: &[OrderRow]) -> DomainResult<HashMap<Member, i64>> {
    use customer::Column as C;
    let mut found = HashMap::new();
    let external: HashSet<&str> = rows.iter().filter_map(|r| if let Member::External(id) = &r.member { Some(id.as_str()) } else { None }).collect();
    if !external.is_empty() {
        let hits: Vec<(i64, Option<String>)> = customer::Entity::find()
            .select_only()
            .column(C::Id)
            .column(C::ExternalId)
            .filter(C::RestaurantId.eq(&scope.restaurant_id))
            .filter(C::ExternalId.is_in(external))
            .filter(super::privacy::not_erased())
            .into_tuple()
            .all(db)
            .await?;
        found.extend(hits.into_iter().filter_map(|(id, ext)| Some((Member::External(ext?), id))));
    }
    let phones: HashSet<&str> = rows.iter().filter_map(|r| if let Member::Phone(p) = &r.member { Some(p.as_str()) } else { None }).collect();
    if !phones.is_empty() {
        let indexes = Indexes::of(scope).await?;
        let by_index: HashMap<String, &str> = phones.iter().map(|p| (indexes.phone(p), *p)).collect();
        let hits: Vec<(i64, Option<String>)> = customer::Entity::find()
            .select_only()
            .column(C::Id)
            .column(C::PhoneIndex)
            .filter(C::RestaurantId.eq(&scope.restaurant_id))
            .filter(C::PhoneIndex.is_in(by_index.keys().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(hits.into_iter().filter_map(|(id, index)| Some((Member::Phone(by_index.get(index?.as_str())?.to_string()), id))));
    }
    Ok(found)
}

/// The rows' order ids already recorded in the scope.
async fn recorded(db: &impl ConnectionTrait, scope: &Scope, rows: &[OrderRow]) -> DomainResult<HashSet<String>> {
    let ids: HashSet<&str> = rows.iter().map(|r| r.order_id.as_str()).collect();
    let found: Vec<Option<String>> = visit::Entity::find()
        .select_only()
        .column(visit::Column::OrderId)
        .filter(visit::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(visit::Column::OrderId.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The order a row gives, as `recordOrder` takes one.
fn input_of(row: &OrderRow, earn: bool) -> OrderInput {
    let items =
        row.lines.iter().map(|l| OrderItem { item_id: l.item_id.clone(), name: l.name.clone(), quantity: l.quantity, price_cents: l.price_cents }).collect();
    OrderInput {
        order_id: row.order_id.clone(),
        amount_cents: row.amount_cents,
        items,
        occurred_at: Some(row.occurred_at),
        location: row.location.clone(),
        channel: row.channel.clone(),
        imported: true,
        no_points: !earn,
        ..OrderInput::default()
    }
}
