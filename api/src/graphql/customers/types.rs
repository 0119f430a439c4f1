//! The customer object type and the types of its fields, as staff frontends see a member.

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{LabelKind, customer, favorite_item};
use entity::ops::customers::cursor::Cursor;
use entity::ops::customers::{self as ops};
use entity::rules::{tier, visits as visit_rules};

use crate::auth::CARE;
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, loader, scope};
use crate::graphql::feedback::types::Review;
use crate::graphql::loaders::{CustomerById, FavoritesOf, HistoryOf, LabelsOf, NotesOf, OccasionsOf, ReferralsOf, VisitsOf};
use crate::graphql::notes::types::Note;
use crate::graphql::occasions::types::SpecialOccasion;
use crate::graphql::points::types::PointTransaction;
use crate::graphql::scalars::{Date, Money};
use crate::graphql::types::{CustomerStatus, Seating, SpiceLevel, Tier};
use crate::graphql::visits::types::Visit;

/// Most rows a nested history field returns at once.
const MAX_HISTORY: u64 = 100;

/// A loyalty member of the caller's restaurant.
pub struct Customer(pub customer::Model);

/// Points balance.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct LoyaltyPoints {
    /// Available to redeem.
    pub current: i64,
    /// Earned in total; decides the tier.
    pub lifetime: i64,
    /// Redeemed in total.
    pub redeemed: i64,
    /// Lifetime points still needed for the next tier; null at VIP.
    pub to_next_tier: Option<i64>,
    #[graphql(skip)]
    pub last_activity: DateTime<Utc>,
}

/// Points that will expire, and when.
#[derive(SimpleObject)]
pub struct ExpiringPoints {
    pub points: i64,
    /// The day they expire, in the restaurant's zone.
    pub on: Date,
}

#[ComplexObject]
impl LoyaltyPoints {
    /// What will expire next and when, under the restaurant's expiry policy (null when its
    /// points never expire or the balance is empty). Any activity moves the date on.
    async fn expiring(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ExpiringPoints>> {
        if self.current <= 0 {
            return Ok(None);
        }
        let p = entity::ops::restaurants::programme(&app(ctx).db, scope(ctx)).await.gql()?;
        Ok(p.expiry.expires_at(self.last_activity).map(|at| ExpiringPoints { points: self.current, on: Date(at.with_timezone(&p.timezone).date_naive()) }))
    }
}

impl LoyaltyPoints {
    /// The balance of a customer row.
    pub fn of(c: &customer::Model) -> Self {
        Self {
            current: c.points_current,
            lifetime: c.points_lifetime,
            redeemed: c.points_redeemed,
            to_next_tier: tier::points_to_next_tier(c.points_lifetime),
            last_activity: c.last_activity_at,
        }
    }
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

impl Marketing {
    /// The consent flags of a customer row.
    pub fn of(c: &customer::Model) -> Self {
        Self {
            email_opt_in: c.email_opt_in,
            sms_opt_in: c.sms_opt_in,
            push_notifications: c.push_opt_in,
            special_offers: c.special_offers,
            birthday_offers: c.birthday_offers,
            anniversary_offers: c.anniversary_offers,
        }
    }
}

/// Dining preferences.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Preferences {
    #[graphql(skip)]
    pub customer_id: i64,
    /// Not for marketers.
    #[graphql(guard = "CARE")]
    pub dietary_restrictions: Vec<String>,
    /// Not for marketers.
    #[graphql(guard = "CARE")]
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
        Self {
            item_id: m.item_id,
            name: m.name,
            order_count: m.order_count,
            last_ordered_at: m.last_ordered_at,
        }
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
        LoyaltyPoints::of(&self.0)
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
        Marketing::of(&self.0)
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
        let rows = loader(ctx).load_one(crate::graphql::loaders::ReviewsOf(self.0.id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    /// Staff notes, newest first (not for marketers).
    #[graphql(guard = "CARE")]
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
    async fn visits(&self, ctx: &Context<'_>, #[graphql(default = 20)] limit: i64, #[graphql(default = 0)] offset: i64) -> async_graphql::Result<Vec<Visit>> {
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

/// One page of customers.
pub struct CustomerPage {
    pub(crate) page: ops::Page,
    pub(crate) filter: ops::CustomerFilter,
    pub(crate) total: tokio::sync::OnceCell<u64>,
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
