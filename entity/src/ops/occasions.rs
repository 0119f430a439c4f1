//! Special occasions (spec endpoint 8 and "Special Occasions"): birthdays, anniversaries and
//! custom occasions, and which fall in the next days. Lookups go through the indexed month-day
//! keys, never a scan of all customers.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::customers::{self, Patch};
use super::{begin_write, now};
use crate::entities::{customer, special_occasion};
use crate::rules::occasions::{check_date, check_name};
use crate::rules::{contact, occasions};
use crate::{DomainError, DomainResult, Scope};

/// Most days `upcoming` looks ahead.
pub const MAX_DAYS: u32 = 366;

/// Kinds of occasion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OccasionKind {
    Birthday,
    Anniversary,
    Custom,
}

/// One occasion in the coming days.
#[derive(Debug, Clone)]
pub struct Upcoming {
    pub kind: OccasionKind,
    pub name: String,
    pub customer: customer::Model,
    /// The customer's personal values, opened.
    pub personal: customers::Personal,
    /// When it is celebrated this time.
    pub date: NaiveDate,
    pub days_until: i64,
    /// Age, years married, or years since a custom occasion, when the original year is known.
    pub years: Option<i32>,
    pub recurring: bool,
    pub occasion_id: Option<i64>,
}

/// Most occasions one answer lists.
pub const MAX_LIMIT: u64 = 5_000;

/// The first `limit` occasions from `today` through `days - 1` days later, by date, then
/// customer name. Birthdays and anniversaries are read in that order with `LIMIT`, so an answer
/// costs the same memory however many members a restaurant has. The customers are read with
/// `read`'s columns (and those the occasions need); with `open`, their personal values are
/// opened and the years of birthdays and anniversaries known (without, `personal` is empty
/// and those years `None`).
pub async fn upcoming(
    db: &impl ConnectionTrait,
    scope: &Scope,
    from: Option<NaiveDate>,
    days: u32,
    limit: u64,
    read: &customers::Projection,
    open: bool,
) -> DomainResult<Vec<Upcoming>> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(DomainError::validation("days", format!("must be between 1 and {MAX_DAYS}")));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(DomainError::validation("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let today = match from {
        Some(day) => day,
        None => super::restaurants::programme(db, scope).await?.today(super::now()),
    };
    let window = Window::new(today, days);
    use customer::Column as C;
    let read = if open { customers::Projection::All } else { read.with(C::Name).with(C::BirthMd).with(C::AnniversaryMd) };
    let mut out = profile_dates(db, scope, &window, limit, &read, open).await?;
    out.extend(custom_occasions(db, scope, &window, &read, open).await?);
    out.sort_by(|a, b| (a.date, &a.customer.name, a.kind, a.customer.id).cmp(&(b.date, &b.customer.name, b.kind, b.customer.id)));
    out.truncate(limit as usize);
    Ok(out)
}

/// The days of an `upcoming` answer, and which day each month-day key falls on.
struct Window {
    today: NaiveDate,
    last: NaiveDate,
    day_of: HashMap<i32, NaiveDate>,
}

impl Window {
    fn new(today: NaiveDate, days: u32) -> Self {
        let mut day_of: HashMap<i32, NaiveDate> = HashMap::new();
        for (day, keys) in occasions::window(today, days - 1) {
            for key in keys {
                day_of.entry(key).or_insert(day);
            }
        }
        Self { today, last: today + Duration::days(i64::from(days) - 1), day_of }
    }

    /// A recurring occasion of `c` on `date`, first celebrated on `since` (when known).
    fn upcoming(
        &self,
        kind: OccasionKind,
        name: String,
        (c, p): (&customer::Model, &customers::Personal),
        date: NaiveDate,
        since: Option<NaiveDate>,
    ) -> Upcoming {
        Upcoming {
            kind,
            name,
            customer: c.clone(),
            personal: p.clone(),
            date,
            days_until: (date - self.today).num_days(),
            years: since.map(|s| occasions::years_at(s, date)).filter(|y| *y > 0),
            recurring: true,
            occasion_id: None,
        }
    }
}

/// The first `limit` birthdays and anniversaries of the window, each read in date order.
async fn profile_dates(
    db: &impl ConnectionTrait,
    scope: &Scope,
    window: &Window,
    limit: u64,
    read: &customers::Projection,
    open: bool,
) -> DomainResult<Vec<Upcoming>> {
    use customer::Column as C;
    let unopened = customers::Personal::default();
    let mut out = Vec::new();
    for (kind, column) in [(OccasionKind::Birthday, C::BirthMd), (OccasionKind::Anniversary, C::AnniversaryMd)] {
        let needed = first_days_covering(db, scope, column, &window.day_of, limit).await?;
        if needed.is_empty() {
            continue;
        }
        let mut rank = Expr::case(column.eq(-1), 0);
        for key in &needed {
            rank = rank.case(column.eq(*key), (window.day_of[key] - window.today).num_days());
        }
        let people = customer::Entity::find()
            .filter(C::RestaurantId.eq(&scope.restaurant_id))
            .filter(column.is_in(needed))
            .order_by(Into::<Expr>::into(rank.finally(i64::from(MAX_DAYS))), Order::Asc)
            .order_by_asc(C::Name)
            .order_by_asc(C::Id)
            .limit(limit);
        let people = read.read(db, people).await?;
        let personal = open_if(db, scope, open, &people).await?;
        for (n, c) in people.iter().enumerate() {
            let p = personal.get(n).unwrap_or(&unopened);
            let (md, since, name) = match kind {
                OccasionKind::Birthday => (c.birth_md, p.date_of_birth, "Birthday"),
                _ => (c.anniversary_md, p.anniversary, "Anniversary"),
            };
            if let Some(date) = md.and_then(|k| window.day_of.get(&k)) {
                out.push(window.upcoming(kind, name.into(), (c, p), *date, since));
            }
        }
    }
    Ok(out)
}

/// The custom occasions of the window: recurring ones by month-day, one-off ones by date.
async fn custom_occasions(db: &impl ConnectionTrait, scope: &Scope, window: &Window, read: &customers::Projection, open: bool) -> DomainResult<Vec<Upcoming>> {
    use special_occasion::Column as S;
    let keys: Vec<i32> = window.day_of.keys().copied().collect();
    let custom = special_occasion::Entity::find()
        .filter(S::RestaurantId.eq(&scope.restaurant_id))
        .filter(
            Condition::any()
                .add(Condition::all().add(S::Recurring.eq(true)).add(S::Md.is_in(keys)))
                .add(Condition::all().add(S::Recurring.eq(false)).add(S::Date.gte(window.today)).add(S::Date.lte(window.last))),
        )
        .all(db)
        .await?;
    let ids: Vec<i64> = custom.iter().map(|o| o.customer_id).collect();
    let owner_rows = customers::by_ids(db, scope, &ids, read).await?;
    let personal = open_if(db, scope, open, &owner_rows).await?;
    let unopened = customers::Personal::default();
    let owners: HashMap<i64, (&customer::Model, &customers::Personal)> =
        owner_rows.iter().enumerate().map(|(n, c)| (c.id, (c, personal.get(n).unwrap_or(&unopened)))).collect();
    let mut out = Vec::new();
    for o in custom {
        let Some(&c) = owners.get(&o.customer_id) else { continue };
        let (date, since) = if o.recurring { (window.day_of.get(&o.md).copied(), Some(o.date)) } else { (Some(o.date), None) };
        if let Some(date) = date {
            out.push(Upcoming { recurring: o.recurring, occasion_id: Some(o.id), ..window.upcoming(OccasionKind::Custom, o.name.clone(), c, date, since) });
        }
    }
    Ok(out)
}

/// The personal values of `rows` when `open`, none otherwise.
async fn open_if(db: &impl ConnectionTrait, scope: &Scope, open: bool, rows: &[customer::Model]) -> DomainResult<Vec<customers::Personal>> {
    if open { customers::personal::open_many(db, scope, rows).await } else { Ok(Vec::new()) }
}

/// The month-day keys of the first days of the window that together hold at least `limit`
/// customers (all keys if they hold fewer), counted from the index: a chain with 2,700
/// birthdays a day then reads and sorts one day's customers, not the whole window's.
async fn first_days_covering(
    db: &impl ConnectionTrait,
    scope: &Scope,
    column: customer::Column,
    day_of: &HashMap<i32, NaiveDate>,
    limit: u64,
) -> DomainResult<Vec<i32>> {
    let counts: Vec<(Option<i32>, i64)> = customer::Entity::find()
        .select_only()
        .column(column)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(customer::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(column.is_in(day_of.keys().copied()))
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    let mut per_day: Vec<(NaiveDate, i32, i64)> = counts.into_iter().filter_map(|(key, n)| key.and_then(|k| Some((*day_of.get(&k)?, k, n)))).collect();
    per_day.sort();
    let mut total = 0;
    let mut last_day = None;
    for (day, _, n) in &per_day {
        if total >= limit as i64 && last_day != Some(*day) {
            break;
        }
        total += n;
        last_day = Some(*day);
    }
    Ok(per_day.into_iter().filter(|(day, _, _)| Some(*day) <= last_day).map(|(_, key, _)| key).collect())
}

/// Adds a custom occasion to a customer.
pub async fn add(
    db: &impl ConnectionTrait,
    scope: &Scope,
    customer_id: i64,
    name: &str,
    date: NaiveDate,
    recurring: bool,
) -> DomainResult<special_occasion::Model> {
    let name = check_name(name)?;
    let date = check_date(date)?;
    customers::find_by_id(db, scope, customer_id).await?;
    Ok(special_occasion::ActiveModel {
        restaurant_id: Set(scope.restaurant_id.clone()),
        customer_id: Set(customer_id),
        name: Set(name),
        date: Set(date),
        md: Set(occasions::month_day_key(date)),
        recurring: Set(recurring),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn find(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<special_occasion::Model> {
    special_occasion::Entity::find_by_id(id)
        .filter(special_occasion::Column::RestaurantId.eq(&scope.restaurant_id))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("special occasion {id}")))
}

/// Changes a custom occasion; `None` leaves a field.
pub async fn update(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: i64,
    name: Option<&str>,
    date: Option<NaiveDate>,
    recurring: Option<bool>,
) -> DomainResult<special_occasion::Model> {
    let name = name.map(check_name).transpose()?;
    let date = date.map(check_date).transpose()?;
    let mut active: special_occasion::ActiveModel = find(db, scope, id).await?.into();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(date) = date {
        active.date = Set(date);
        active.md = Set(occasions::month_day_key(date));
    }
    if let Some(recurring) = recurring {
        active.recurring = Set(recurring);
    }
    Ok(active.update(db).await?)
}

/// Removes a custom occasion.
pub async fn remove(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> DomainResult<special_occasion::Model> {
    let gone = find(db, scope, id).await?;
    special_occasion::Entity::delete_by_id(id).exec(db).await?;
    Ok(gone)
}

/// Sets or clears a customer's date of birth and anniversary.
pub async fn set_dates<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    date_of_birth: Patch<NaiveDate>,
    anniversary: Patch<NaiveDate>,
) -> DomainResult<customer::Model> {
    let today = now().date_naive();
    let check = |p: Patch<NaiveDate>, field: &'static str| match p {
        Patch::Set(d) => contact::check_past_date(d, today).map(Patch::Set).map_err(|e| DomainError::validation(field, e)),
        other => Ok(other),
    };
    let date_of_birth = check(date_of_birth, "dateOfBirth")?;
    let anniversary = check(anniversary, "anniversary")?;
    let txn = begin_write(db).await?;
    let row = customers::find_by_id(&txn, scope, customer_id).await?;
    let key = customers::personal::key_for(scope, Some(&row)).await?;
    let before = customers::personal::open_for(&txn, scope, customer_id, &key).await?;
    let indexes = customers::Indexes::of(scope).await?;
    let first = row.key_id.is_none();
    let mut active: customer::ActiveModel = row.into();
    let mut p = before.clone();
    customers::apply_dates(&mut active, &mut p, date_of_birth, anniversary);
    let mut values: customers::personal::Values = Default::default();
    customers::personal::seal_changed(&mut active, &mut values, &before, &p, &key, &indexes, first);
    active.updated_at = Set(now());
    let row = active.update(&txn).await?;
    customers::personal::write(&txn, scope, customer_id, values, false).await?;
    sea_orm::TransactionSession::commit(txn).await?;
    Ok(row)
}

/// The names of member `customer_id`'s custom occasions celebrated on `day` (for its email).
pub async fn names_on(db: &impl ConnectionTrait, scope: &Scope, customer_id: i64, day: NaiveDate) -> DomainResult<Vec<String>> {
    use special_occasion::Column as S;
    let keys = crate::rules::occasions::keys_celebrated_on(day);
    Ok(special_occasion::Entity::find()
        .filter(S::RestaurantId.eq(&scope.restaurant_id))
        .filter(S::CustomerId.eq(customer_id))
        .filter(S::Md.is_in(keys))
        .filter(Condition::any().add(S::Recurring.eq(true)).add(S::Date.eq(day)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.name)
        .collect())
}
