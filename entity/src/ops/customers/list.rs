//! The filtered, sorted customer list (spec endpoint 3): page numbers or keyset cursors
//! ([`super::cursor`]), counts only when asked for.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Select};

use super::cursor::{self, Cursor};
use super::personal::Indexes;
use super::projection::Projection;
use crate::entities::{CustomerStatus, LabelKind, Tier, customer, customer_label, customer_prediction, segment};
use crate::ops::direct::Source;
use crate::rules::contact;
use crate::{DomainError, DomainResult, Policy, Scope};

/// Filters of the customer list (spec endpoint 3); all given ones must match.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub tier: Option<Tier>,
    pub status: Option<CustomerStatus>,
    pub segment: Option<String>,
    pub tag: Option<String>,
    /// Fragment of the name, whole email, or last four digits of the phone (see `search_condition`).
    pub search: Option<String>,
    /// Changed at or after this instant (`updated_at`).
    pub updated_since: Option<DateTime<Utc>>,
    /// Scored by the last `model-fit` run as less likely than this to be active.
    pub active_probability_below: Option<f64>,
    /// Scored by the last `model-fit` run with a 12-month value above this.
    pub predicted_value_above: Option<f64>,
}

pub use super::cursor::CustomerSort;

/// One page of customers.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<customer::Model>,
    /// The page number (from 1); `None` for a page asked for with a cursor.
    pub page: Option<u64>,
    pub limit: u64,
    pub has_next_page: bool,
    /// Where the next page starts (the last item's position), if the page has items.
    pub end_cursor: Option<Cursor>,
}

/// Which page of the list: a page number (`OFFSET`) or the rows after a cursor (keyset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    Number(u64),
    After(Cursor),
}

/// Checks `page` (from 1) and `limit` (1 to the policy's maximum).
pub fn check_page(policy: &Policy, page: i64, limit: i64) -> DomainResult<(u64, u64)> {
    if !(1..=1_000_000).contains(&page) {
        return Err(DomainError::validation("page", "must be between 1 and 1000000"));
    }
    let max = policy.max_page_size as i64;
    if !(1..=max).contains(&limit) {
        return Err(DomainError::validation("limit", format!("must be between 1 and {max}")));
    }
    Ok((page as u64, limit as u64))
}

/// The scope's customers matching `filter`. `ids_below` repeats a newest-first cursor's bound
/// inside the label subqueries: PostgreSQL merges them with the customers in id order and does
/// not carry the bound over by itself (a deep cursor page read 40k labels to skip them).
/// `rule` is the condition of a rule segment `filter.segment` names ([`rule_of`]).
fn filtered(scope: &Scope, filter: &CustomerFilter, ids_below: Option<i64>, rule: Option<Condition>, indexes: Option<&Indexes>) -> Select<customer::Entity> {
    use customer::Column as C;
    let mut select = super::projection::select().filter(C::RestaurantId.eq(&scope.restaurant_id));
    let segment = match rule {
        Some(rule) => {
            select = select.filter(rule);
            None
        }
        None => filter.segment.clone(),
    };
    if let Some(tier) = filter.tier {
        select = select.filter(C::Tier.eq(tier));
    }
    if let Some(status) = filter.status {
        select = select.filter(C::Status.eq(status));
    }
    if let Some(since) = filter.updated_since {
        select = select.filter(C::UpdatedAt.gte(since));
    }
    for (kind, name) in [(LabelKind::Tag, &filter.tag), (LabelKind::Segment, &segment)] {
        if let Some(name) = name {
            let mut labelled = Query::select()
                .column(customer_label::Column::CustomerId)
                .from(customer_label::Entity)
                .and_where(customer_label::Column::RestaurantId.eq(&scope.restaurant_id))
                .and_where(customer_label::Column::Kind.eq(kind))
                .and_where(customer_label::Column::Name.eq(name.trim().to_lowercase()))
                .to_owned();
            if let Some(id) = ids_below {
                labelled.and_where(customer_label::Column::CustomerId.lt(id));
            }
            select = select.filter(C::Id.in_subquery(labelled));
        }
    }
    if filter.active_probability_below.is_some() || filter.predicted_value_above.is_some() {
        let mut scored = crate::ops::predict::scored(scope, filter.active_probability_below, filter.predicted_value_above);
        if let Some(id) = ids_below {
            scored.and_where(customer_prediction::Column::CustomerId.lt(id));
        }
        select = select.filter(C::Id.in_subquery(scored));
    }
    if let (Some(search), Some(indexes)) = (search_text(filter), indexes) {
        select = select.filter(search_condition(search, indexes));
    }
    select
}

/// Longest search text accepted (longer ones are refused rather than sent to the database,
/// whose pattern matching has its own, differing limits).
pub const MAX_SEARCH_LEN: usize = 100;

fn search_text(filter: &CustomerFilter) -> Option<&str> {
    filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The blind indexes a search needs (none without a search).
async fn indexes_for(scope: &Scope, filter: &CustomerFilter) -> DomainResult<Option<Indexes>> {
    Ok(match search_text(filter) {
        Some(_) => Some(Indexes::of(scope).await?),
        None => None,
    })
}

/// The name contains the text (case-insensitive), or the text is the email address, or its
/// last four digits (at least four given) are the phone number's last four. Email and phone
/// are sealed, so they match through their blind indexes, never by fragment.
fn search_condition(search: &str, indexes: &Indexes) -> Condition {
    use customer::Column as C;
    let escaped: String = search
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
    let mut any = Condition::any().add(Expr::expr(Func::lower(Expr::col(C::Name))).like(pattern()));
    if let Ok(email) = contact::normalize_email(search) {
        any = any.add(C::EmailIndex.eq(indexes.email(&email)));
    }
    if let Some(last4) = indexes.last4(search) {
        any = any.add(C::PhoneLast4.eq(last4));
    }
    any
}

/// One page of the scope's customers matching `filter`, by page number or after a cursor,
/// reading the columns of `projection` (and those the cursor needs).
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &CustomerFilter,
    sort: CustomerSort,
    at: PageAt,
    limit: u64,
    projection: &Projection,
) -> DomainResult<Page> {
    list_from(&Source::of(db), scope, filter, sort, at, limit, projection).await
}

/// [`list`] on the pool itself, reading the page straight from it (`ops::direct`).
pub async fn list_on_pool(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &CustomerFilter,
    sort: CustomerSort,
    at: PageAt,
    limit: u64,
    projection: &Projection,
) -> DomainResult<Page> {
    list_from(&Source::pool(db), scope, filter, sort, at, limit, projection).await
}

async fn list_from(
    source: &Source<'_, impl ConnectionTrait>,
    scope: &Scope,
    filter: &CustomerFilter,
    sort: CustomerSort,
    at: PageAt,
    limit: u64,
    projection: &Projection,
) -> DomainResult<Page> {
    let db = source.db;
    check_filter(filter)?;
    let ids_below = match &at {
        PageAt::After(Cursor::Newest { id }) => Some(*id),
        _ => None,
    };
    let rule = rule_of(db, scope, filter).await?;
    let indexes = indexes_for(scope, filter).await?;
    let mut select = cursor::order(filtered(scope, filter, ids_below, rule, indexes.as_ref()), sort);
    if sort == CustomerSort::Updated {
        // In change order, a page stops where changes may still be committing: a row whose
        // transaction commits later never lands behind a cursor already handed out.
        select = select.filter(customer::Column::UpdatedAt.lt(crate::ops::settled::instant(db).await?));
    }
    let (select, page) = match at {
        PageAt::Number(1) => (select.limit(limit + 1), Some(1)),
        // A deeper page finds its ids first (from the indexes alone where they cover the
        // filter), then reads only those rows: the skipped rows are never fetched.
        PageAt::Number(page) => {
            let ids = select.select_only().column(customer::Column::Id).offset((page - 1) * limit).limit(limit + 1).into_query();
            let rows =
                super::projection::select().filter(customer::Column::RestaurantId.eq(&scope.restaurant_id)).filter(customer::Column::Id.in_subquery(ids));
            (cursor::order(rows, sort), Some(page))
        }
        PageAt::After(after) => (select.filter(after.condition()).limit(limit + 1), None),
    };
    let projection = match projection {
        Projection::All => Projection::All,
        Projection::Only(cols, personal) => Projection::only(cols.iter().copied().chain(Cursor::columns(sort))).with_personal(personal.iter().copied()),
    };
    let mut items = projection.read_from(source, select).await?;
    let has_next_page = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let end_cursor = items.last().map(|row| Cursor::after(sort, row));
    Ok(Page { items, page, limit, has_next_page, end_cursor })
}

/// Checks the free text of a filter.
fn check_filter(filter: &CustomerFilter) -> DomainResult<()> {
    if filter.search.as_deref().is_some_and(|s| s.trim().chars().count() > MAX_SEARCH_LEN) {
        return Err(DomainError::validation("search", format!("must be at most {MAX_SEARCH_LEN} characters")));
    }
    for (field, value) in [("tag", &filter.tag), ("segment", &filter.segment)] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 64) {
            return Err(DomainError::validation(field, "must be at most 64 characters"));
        }
    }
    if filter.active_probability_below.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(DomainError::validation("activeProbabilityBelow", "must be between 0 and 1"));
    }
    if filter.predicted_value_above.is_some_and(|v| !v.is_finite()) {
        return Err(DomainError::validation("predictedValueAbove", "must be a number"));
    }
    Ok(())
}

/// How many of the scope's customers match `filter`.
pub async fn count(db: &impl ConnectionTrait, scope: &Scope, filter: &CustomerFilter) -> DomainResult<u64> {
    check_filter(filter)?;
    let rule = rule_of(db, scope, filter).await?;
    let indexes = indexes_for(scope, filter).await?;
    Ok(filtered(scope, filter, None, rule, indexes.as_ref()).column(customer::Column::Id).count(db).await?)
}

/// The condition of the rule segment `filter.segment` names, if it names one (list and
/// automatic segments are labels).
async fn rule_of(db: &impl ConnectionTrait, scope: &Scope, filter: &CustomerFilter) -> DomainResult<Option<Condition>> {
    let Some(name) = filter.segment.as_deref().map(|n| n.trim().to_lowercase()) else { return Ok(None) };
    if crate::rules::segments::is_auto(&name) {
        return Ok(None);
    }
    let ruled = segment::Entity::find()
        .filter(segment::Column::RestaurantId.eq(&scope.restaurant_id))
        .filter(segment::Column::Name.eq(&name))
        .filter(segment::Column::Rule.is_not_null())
        .count(db)
        .await?;
    if ruled == 0 {
        return Ok(None);
    }
    let p = crate::ops::restaurants::programme(db, scope).await?;
    let target = crate::marketing::audience::Target { segment: Some(name), rule: None };
    Ok(Some(crate::marketing::audience::condition(db, scope, &p, &target, crate::ops::now()).await?))
}
