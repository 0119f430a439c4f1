//! Customers: the profile type, lookups (spec endpoint 2), the filtered list (endpoint 3) and
//! create-or-update (endpoint 1).

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{LabelKind, customer, favorite_item, note, point_transaction, special_occasion, visit};
use entity::ops::customers::cursor::Cursor;
use entity::ops::customers::{self as ops, CustomerInput as DomainInput, MarketingInput, PageAt, Patch};
use entity::rules::{tier, visits as visit_rules};

use super::loaders::{CustomerById, FavoritesOf, HistoryOf, LabelsOf, NotesOf, OccasionsOf, ReferralsOf, VisitsOf};
use super::scalars::{Date, Money};
use super::types::{CustomerStatus, LedgerKind, Seating, SpiceLevel, Tier, customer_id};
use super::context::{app, loader, scope};
use crate::auth::{STAFF, VIEWER};
use crate::error::{ApiError, IntoGql};

/// Most rows a nested history field returns at once.
const MAX_HISTORY: u64 = 100;

/// A loyalty member of the caller's restaurant.
pub struct Customer(pub customer::Model);

/// Points balance.
#[derive(SimpleObject)]
pub struct LoyaltyPoints {
    /// Available to redeem.
    pub current: i64,
    /// Earned in total; decides the tier.
    pub lifetime: i64,
    /// Redeemed in total.
    pub redeemed: i64,
    /// Lifetime points still needed for the next tier; null at VIP.
    pub to_next_tier: Option<i64>,
}

/// Visit statistics.
#[derive(SimpleObject)]
pub struct VisitStats {
    pub total_visits: i64,
    pub first_visit: Option<DateTime<Utc>>,
    pub last_visit: Option<DateTime<Utc>>,
    pub total_spent: Money,
    pub average_order_value: Money,
    pub average_visits_per_month: f64,
}

/// Marketing consent.
#[derive(SimpleObject)]
pub struct Marketing {
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
    pub push_notifications: bool,
    pub special_offers: bool,
    pub birthday_offers: bool,
    pub anniversary_offers: bool,
}

/// Dining preferences.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Preferences {
    #[graphql(skip)]
    pub customer_id: i64,
    pub dietary_restrictions: Vec<String>,
    pub allergies: Vec<String>,
    pub spice_level: Option<SpiceLevel>,
    pub preferred_seating: Option<Seating>,
}

#[ComplexObject]
impl Preferences {
    /// Items ordered most, with how often.
    async fn favorite_items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FavoriteItem>> {
        let rows = loader(ctx).load_one(FavoritesOf(self.customer_id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(FavoriteItem::from).collect())
    }
}

/// A menu item and how many times the customer ordered it.
#[derive(SimpleObject)]
pub struct FavoriteItem {
    pub item_id: String,
    pub name: Option<String>,
    pub order_count: i64,
    pub last_ordered_at: DateTime<Utc>,
}

impl From<favorite_item::Model> for FavoriteItem {
    fn from(m: favorite_item::Model) -> Self {
        Self { item_id: m.item_id, name: m.name, order_count: m.order_count, last_ordered_at: m.last_ordered_at }
    }
}

/// Referral programme details.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Referral {
    /// This member's code to share.
    pub referral_code: String,
    #[graphql(skip)]
    pub customer_id: i64,
    #[graphql(skip)]
    pub referred_by_id: Option<i64>,
    pub referrals_count: i64,
    /// Points earned by referring others.
    pub referral_rewards: i64,
}

#[ComplexObject]
impl Referral {
    /// The member who referred this one.
    async fn referred_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = self.referred_by_id else { return Ok(None) };
        let row = loader(ctx).load_one(CustomerById(id)).await.gql()?;
        Ok(row.map(Customer))
    }

    /// The members this one referred, oldest first.
    async fn referrals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Customer>> {
        let rows = loader(ctx).load_one(ReferralsOf(self.customer_id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Customer).collect())
    }
}

/// Review summary.
#[derive(SimpleObject)]
pub struct Feedback {
    pub average_rating: Option<f64>,
    pub total_reviews: i64,
    pub last_review_date: Option<DateTime<Utc>>,
}

/// A special date the customer celebrates.
#[derive(SimpleObject)]
pub struct SpecialOccasion {
    pub id: ID,
    pub name: String,
    pub date: Date,
    pub recurring: bool,
}

impl From<special_occasion::Model> for SpecialOccasion {
    fn from(m: special_occasion::Model) -> Self {
        Self { id: ID(m.id.to_string()), name: m.name, date: Date(m.date), recurring: m.recurring }
    }
}

/// A staff note.
#[derive(SimpleObject)]
pub struct Note {
    pub id: ID,
    pub note: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

impl From<note::Model> for Note {
    fn from(m: note::Model) -> Self {
        Self { id: ID(m.id.to_string()), note: m.note, added_by: m.added_by, added_at: m.created_at }
    }
}

/// One row of the points ledger.
#[derive(SimpleObject)]
pub struct PointTransaction {
    pub id: ID,
    pub kind: LedgerKind,
    /// Signed change of the balance.
    pub points: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

impl From<point_transaction::Model> for PointTransaction {
    fn from(m: point_transaction::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            kind: m.kind.into(),
            points: m.delta,
            balance_after: m.balance_after,
            reason: m.reason,
            idempotency_key: m.idempotency_key,
            actor: m.actor,
            created_at: m.created_at,
        }
    }
}

/// One review.
#[derive(SimpleObject)]
pub struct Review {
    pub id: ID,
    /// Stars, 1 to 5.
    pub rating: i32,
    pub comment: Option<String>,
    /// The visit reviewed, if any.
    pub visit_id: Option<ID>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<entity::entities::feedback::Model> for Review {
    fn from(m: entity::entities::feedback::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            rating: i32::from(m.rating),
            comment: m.comment,
            visit_id: m.visit_id.map(|v| ID(v.to_string())),
            recorded_by: m.recorded_by,
            created_at: m.created_at,
        }
    }
}

/// A recorded visit.
#[derive(SimpleObject)]
pub struct Visit {
    pub id: ID,
    pub amount: Money,
    pub order_id: Option<String>,
    pub visited_at: DateTime<Utc>,
}

impl From<visit::Model> for Visit {
    fn from(m: visit::Model) -> Self {
        Self { id: ID(m.id.to_string()), amount: Money(m.amount_cents), order_id: m.order_id, visited_at: m.visited_at }
    }
}

pub(crate) fn check_history(limit: i64, offset: i64) -> Result<(u64, u64), ApiError> {
    Ok(entity::rules::paging::check(limit, offset, MAX_HISTORY)?)
}

#[Object]
impl Customer {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Account id in the ordering platform, when linked.
    async fn user_id(&self) -> Option<&str> {
        self.0.user_id.as_deref()
    }
    /// E.164 phone number.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn date_of_birth(&self) -> Option<Date> {
        self.0.date_of_birth.map(Date)
    }
    async fn anniversary(&self) -> Option<Date> {
        self.0.anniversary.map(Date)
    }
    async fn loyalty_tier(&self) -> Tier {
        self.0.tier.into()
    }
    async fn loyalty_points(&self) -> LoyaltyPoints {
        LoyaltyPoints {
            current: self.0.points_current,
            lifetime: self.0.points_lifetime,
            redeemed: self.0.points_redeemed,
            to_next_tier: tier::points_to_next_tier(self.0.points_lifetime),
        }
    }
    async fn member_since(&self) -> DateTime<Utc> {
        self.0.member_since
    }
    async fn visit_stats(&self) -> VisitStats {
        let c = &self.0;
        VisitStats {
            total_visits: c.total_visits,
            first_visit: c.first_visit_at,
            last_visit: c.last_visit_at,
            total_spent: Money(c.total_spent_cents),
            average_order_value: Money(visit_rules::average_order_cents(c.total_spent_cents, c.total_visits)),
            average_visits_per_month: visit_rules::average_visits_per_month(c.total_visits, c.first_visit_at, Utc::now()),
        }
    }
    async fn preferences(&self) -> Preferences {
        Preferences {
            customer_id: self.0.id,
            dietary_restrictions: self.0.dietary_restrictions.0.clone(),
            allergies: self.0.allergies.0.clone(),
            spice_level: self.0.spice_level.map(Into::into),
            preferred_seating: self.0.preferred_seating.map(Into::into),
        }
    }
    async fn marketing(&self) -> Marketing {
        let c = &self.0;
        Marketing {
            email_opt_in: c.email_opt_in,
            sms_opt_in: c.sms_opt_in,
            push_notifications: c.push_opt_in,
            special_offers: c.special_offers,
            birthday_offers: c.birthday_offers,
            anniversary_offers: c.anniversary_offers,
        }
    }
    /// Behaviour tags kept by the rules: high-value, frequent-visitor, new-customer, dormant.
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let tags = loader(ctx).load_one(LabelsOf(self.0.id, LabelKind::Tag)).await.gql()?;
        Ok(tags.unwrap_or_default())
    }
    /// Marketing segments.
    async fn segments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let segments = loader(ctx).load_one(LabelsOf(self.0.id, LabelKind::Segment)).await.gql()?;
        Ok(segments.unwrap_or_default())
    }
    async fn referral(&self) -> Referral {
        Referral {
            referral_code: self.0.referral_code.clone(),
            customer_id: self.0.id,
            referred_by_id: self.0.referred_by,
            referrals_count: self.0.referrals_count,
            referral_rewards: self.0.referral_rewards,
        }
    }
    async fn special_occasions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SpecialOccasion>> {
        let rows = loader(ctx).load_one(OccasionsOf(self.0.id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    async fn feedback(&self) -> Feedback {
        let c = &self.0;
        Feedback {
            average_rating: entity::rules::series::average_rating(c.rating_total, c.review_count),
            total_reviews: c.review_count,
            last_review_date: c.last_review_at,
        }
    }
    async fn status(&self) -> CustomerStatus {
        self.0.status.into()
    }
    /// Reviews the customer gave, newest first (`feedback` summarises them).
    async fn reviews(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Review>> {
        let rows = loader(ctx).load_one(super::loaders::ReviewsOf(self.0.id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    /// Staff notes, newest first.
    async fn notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Note>> {
        let rows = loader(ctx).load_one(NotesOf(self.0.id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    async fn last_activity(&self) -> DateTime<Utc> {
        self.0.last_activity_at
    }
    /// The points ledger, newest first.
    async fn points_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] limit: i64,
        #[graphql(default = 0)] offset: i64,
    ) -> async_graphql::Result<Vec<PointTransaction>> {
        let (limit, offset) = check_history(limit, offset).gql()?;
        let rows = loader(ctx).load_one(HistoryOf(self.0.id, limit, offset)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    /// Visits, newest first.
    async fn visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] limit: i64,
        #[graphql(default = 0)] offset: i64,
    ) -> async_graphql::Result<Vec<Visit>> {
        let (limit, offset) = check_history(limit, offset).gql()?;
        let rows = loader(ctx).load_one(VisitsOf(self.0.id, limit, offset)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Filters of the customer list; all given ones must match.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    pub tier: Option<Tier>,
    pub status: Option<CustomerStatus>,
    pub segment: Option<String>,
    pub tag: Option<String>,
    /// Case-insensitive fragment of the name or email, or digits of the phone number.
    pub search: Option<String>,
}

/// Order of the customer list.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(remote = "entity::ops::customers::CustomerSort")]
pub enum CustomerSort {
    /// Newest members first.
    #[default]
    Newest,
    /// By name, A to Z.
    Name,
    /// Most lifetime points first.
    LifetimePoints,
    /// Most recent visit first.
    LastVisit,
    /// Highest total spend first.
    TotalSpent,
}

/// One page of customers.
pub struct CustomerPage {
    page: ops::Page,
    filter: ops::CustomerFilter,
    total: tokio::sync::OnceCell<u64>,
}

impl CustomerPage {
    /// Counts the matches once per page, however many fields ask.
    async fn total(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        self.total
            .get_or_try_init(|| async { ops::count(&app(ctx).db, scope(ctx), &self.filter).await.gql() })
            .await
            .copied()
    }
}

#[Object]
impl CustomerPage {
    async fn items(&self) -> Vec<Customer> {
        self.page.items.iter().cloned().map(Customer).collect()
    }
    /// The page number; null for a page asked for with `after`.
    async fn page(&self) -> Option<u64> {
        self.page.page
    }
    async fn limit(&self) -> u64 {
        self.page.limit
    }
    async fn has_next_page(&self) -> bool {
        self.page.has_next_page
    }
    /// Pass as `after` (with the same filter and sort) to get the next page; null when the
    /// page is empty. Cursors stay fast however deep the list goes.
    async fn end_cursor(&self) -> Option<String> {
        self.page.end_cursor.as_ref().map(Cursor::encode)
    }
    /// All matching customers (counted only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        self.total(ctx).await
    }
    /// Pages at this limit (counted only when asked for).
    async fn total_pages(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(self.total(ctx).await?.div_ceil(self.page.limit))
    }
}

/// The one lookup among the arguments given.
fn lookup(id: Option<ID>, phone: Option<String>, email: Option<String>, referral_code: Option<String>, user_id: Option<String>) -> Result<ops::Lookup, ApiError> {
    let given = [id.is_some(), phone.is_some(), email.is_some(), referral_code.is_some(), user_id.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::validation("id", "give exactly one of id, phone, email, referralCode and userId"));
    }
    Ok(match (id, phone, email, referral_code, user_id) {
        (Some(id), ..) => ops::Lookup::Id(customer_id(&id)?),
        (_, Some(phone), ..) => ops::Lookup::Phone(phone),
        (_, _, Some(email), ..) => ops::Lookup::Email(email),
        (_, _, _, Some(code), _) => ops::Lookup::ReferralCode(code),
        (.., Some(user)) => ops::Lookup::UserId(user),
        _ => unreachable!("exactly one was given"),
    })
}

/// Customer queries.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// One customer by `id`, `phone`, `email`, `referralCode` or `userId` (give exactly one);
    /// `NOT_FOUND` when there is none in your restaurant.
    #[graphql(guard = "VIEWER")]
    async fn customer(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        phone: Option<String>,
        email: Option<String>,
        referral_code: Option<String>,
        user_id: Option<String>,
    ) -> async_graphql::Result<Customer> {
        let what = lookup(id, phone, email, referral_code, user_id).gql()?;
        let label = what.to_string();
        let row = ops::find(&app(ctx).db, scope(ctx), &app(ctx).policy, what).await.gql()?;
        row.map(Customer).ok_or_else(|| ApiError::not_found(label)).gql()
    }

    /// The member with this `phone`, `email`, `referralCode` or `userId` (give exactly one), or
    /// `null` when the person is not a member yet (the POS's "sign up?" path).
    #[graphql(guard = "VIEWER")]
    async fn find_customer(
        &self,
        ctx: &Context<'_>,
        phone: Option<String>,
        email: Option<String>,
        referral_code: Option<String>,
        user_id: Option<String>,
    ) -> async_graphql::Result<Option<Customer>> {
        let what = lookup(None, phone, email, referral_code, user_id).gql()?;
        Ok(ops::find(&app(ctx).db, scope(ctx), &app(ctx).policy, what).await.gql()?.map(Customer))
    }

    /// Customers matching `filter`, one page at a time (`limit` at most the configured
    /// maximum, 200 by default): by `page` number, or with `after` set to the previous page's
    /// `endCursor` (keyset pagination: as fast on the thousandth page as on the first).
    #[graphql(guard = "VIEWER")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerFilter>,
        #[graphql(default)] sort: CustomerSort,
        #[graphql(default = 1)] page: i64,
        #[graphql(default = 50)] limit: i64,
        after: Option<String>,
    ) -> async_graphql::Result<CustomerPage> {
        let state = app(ctx);
        let (page, limit) = ops::check_page(&state.policy, page, limit).gql()?;
        let at = match after {
            None => PageAt::Number(page),
            Some(_) if page != 1 => return Err(ApiError::validation("after", "give either page or after, not both")).gql(),
            Some(text) => PageAt::After(Cursor::decode(&text, sort.into()).gql()?),
        };
        let f = filter.unwrap_or_default();
        let filter = ops::CustomerFilter {
            tier: f.tier.map(Into::into),
            status: f.status.map(Into::into),
            segment: f.segment,
            tag: f.tag,
            search: f.search,
        };
        let page = ops::list(&state.db, scope(ctx), &filter, sort.into(), at, limit).await.gql()?;
        Ok(CustomerPage { page, filter, total: tokio::sync::OnceCell::new() })
    }
}

/// Dining preferences to set; omitted fields stay, `null` clears.
#[derive(InputObject, Default)]
pub struct PreferencesInput {
    pub dietary_restrictions: Option<Vec<String>>,
    pub allergies: Option<Vec<String>>,
    pub spice_level: MaybeUndefined<SpiceLevel>,
    pub preferred_seating: MaybeUndefined<Seating>,
}

/// Marketing consent to set; omitted flags stay (new customers start opted out).
#[derive(InputObject, Default)]
pub struct MarketingConsentInput {
    pub email_opt_in: Option<bool>,
    pub sms_opt_in: Option<bool>,
    pub push_notifications: Option<bool>,
    pub special_offers: Option<bool>,
    pub birthday_offers: Option<bool>,
    pub anniversary_offers: Option<bool>,
}

/// A customer profile to create or update, identified by phone number. Omitted fields stay as
/// they are; `null` clears an optional field.
#[derive(InputObject)]
pub struct CustomerInput {
    /// Any common format; stored in E.164. Numbers without `+country` are read in the
    /// configured region.
    pub phone: String,
    /// Required to create a customer.
    pub name: Option<String>,
    pub email: MaybeUndefined<String>,
    pub user_id: MaybeUndefined<String>,
    pub date_of_birth: MaybeUndefined<Date>,
    pub anniversary: MaybeUndefined<Date>,
    pub preferences: Option<PreferencesInput>,
    pub marketing: Option<MarketingConsentInput>,
    /// Replaces the customer's marketing segments.
    pub segments: Option<Vec<String>>,
    /// ACTIVE, INACTIVE or BLOCKED (DORMANT is set by the rules).
    pub status: Option<CustomerStatus>,
    /// Referral code of the member who referred this customer.
    pub referral_code: Option<String>,
}

fn patch<T, U: From<T>>(value: MaybeUndefined<T>) -> Patch<U> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v.into()),
    }
}

impl From<MarketingConsentInput> for MarketingInput {
    fn from(m: MarketingConsentInput) -> Self {
        MarketingInput {
            email_opt_in: m.email_opt_in,
            sms_opt_in: m.sms_opt_in,
            push_notifications: m.push_notifications,
            special_offers: m.special_offers,
            birthday_offers: m.birthday_offers,
            anniversary_offers: m.anniversary_offers,
        }
    }
}

impl From<CustomerInput> for DomainInput {
    fn from(input: CustomerInput) -> Self {
        let prefs = input.preferences.unwrap_or_default();
        let m = input.marketing.unwrap_or_default();
        DomainInput {
            phone: input.phone,
            name: input.name,
            email: patch(input.email),
            user_id: patch(input.user_id),
            date_of_birth: patch(input.date_of_birth),
            anniversary: patch(input.anniversary),
            dietary_restrictions: prefs.dietary_restrictions,
            allergies: prefs.allergies,
            spice_level: patch(prefs.spice_level),
            preferred_seating: patch(prefs.preferred_seating),
            marketing: m.into(),
            segments: input.segments,
            status: input.status.map(Into::into),
            referral_code: input.referral_code,
        }
    }
}

/// Result of a create-or-update.
#[derive(SimpleObject)]
pub struct UpsertCustomerPayload {
    /// Whether a new customer was created.
    pub created: bool,
    /// "Customer profile created" or "Customer profile updated".
    pub message: String,
    pub customer: Customer,
}

/// Customer mutations.
#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer, or updates the one with this phone number (spec endpoint 1).
    #[graphql(guard = "STAFF")]
    async fn upsert_customer(&self, ctx: &Context<'_>, input: CustomerInput) -> async_graphql::Result<UpsertCustomerPayload> {
        let state = app(ctx);
        let out = ops::upsert(&state.db, scope(ctx), &state.policy, input.into()).await.gql()?;
        let message = if out.created { "Customer profile created" } else { "Customer profile updated" };
        Ok(UpsertCustomerPayload { created: out.created, message: message.into(), customer: Customer(out.customer) })
    }
}
