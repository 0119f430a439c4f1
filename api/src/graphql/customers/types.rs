//! The customer object type and the types of its fields, as staff frontends see a member.

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{LabelKind, customer};
use entity::ops::customers::cursor::Cursor;
use entity::ops::customers::{self as ops};
use entity::rules::visits as visit_rules;

use crate::auth::{CARE, VIEWER};
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, loader, scope};
use crate::graphql::feedback::types::ReviewPage;
use crate::graphql::loaders::{
    Catalogue, CustomerById, CustomerKeyOf, HistoryOf, LabelsOf, NotesOf, OccasionsOf, PersonalOf, PredictionOf, ReferralsOf, VisitsOf, VouchersOf,
};
use crate::graphql::notes::types::NotePage;
use crate::graphql::occasions::types::SpecialOccasionPage;
use crate::graphql::paging;
use crate::graphql::points::types::PointTransactionPage;
use crate::graphql::predict::CustomerPrediction;
use crate::graphql::rewards::types::{Reward, VoucherPage};
use crate::graphql::scalars::{Date, Money};
use crate::graphql::types::{CustomerStatus, Tier};
use crate::graphql::visits::types::VisitPage;

use super::parts::{LoyaltyPoints, Marketing, Preferences, VisitStats};
pub use super::projection::{FIELD_COLUMNS, columns_of, personal_of, projection};

/// Most rows a nested history field returns at once.
const MAX_HISTORY: u64 = 100;

/// A loyalty member of the caller's restaurant, read in full or with the columns its
/// selection needs ([`projection`]).
pub struct Customer {
    row: customer::Model,
    read: ops::Projection,
    /// The personal values, opened on the first field that shows one.
    opened: tokio::sync::OnceCell<ops::Personal>,
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
    /// Members who joined with their code.
    pub referrals_count: i64,
    /// Points earned by referring others.
    pub referral_rewards: i64,
}

#[ComplexObject]
impl Referral {
    /// The member who referred this one.
    async fn referred_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = self.referred_by_id else { return Ok(None) };
        Customer::load(ctx, id).await
    }

    /// The members this one referred, oldest first, one page at a time.
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<ReferredPage> {
        let (after, first) = paging::args("referrals", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(ReferralsOf(self.customer_id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("referrals", page, |c| c.id);
        Ok(ReferredPage { items, page_info })
    }
}

/// One page of the members a member referred.
#[derive(SimpleObject)]
pub struct ReferredPage {
    /// The members, oldest first.
    pub items: Vec<Customer>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}

/// Review summary.
#[derive(SimpleObject)]
pub struct Feedback {
    /// Average rating, 1 to 5 (null before any).
    pub average_rating: Option<f64>,
    /// Ratings given.
    pub total_reviews: i64,
    /// When they last rated a visit.
    pub last_review_date: Option<DateTime<Utc>>,
}

impl From<customer::Model> for Customer {
    /// A customer read in full.
    fn from(row: customer::Model) -> Self {
        Customer { row, read: ops::Projection::All, opened: Default::default() }
    }
}

impl Customer {
    /// Customer `id` of the caller's restaurant through the request's loader, read with the
    /// columns the current field's selection needs.
    pub async fn load(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<Customer>> {
        let read = projection(ctx.look_ahead());
        let row = loader(ctx).load_one(CustomerById(id, read.clone())).await.gql()?;
        Ok(row.map(|row| Customer::projected(row, read)))
    }

    /// A customer read with `read`'s columns only.
    pub fn projected(row: customer::Model, read: ops::Projection) -> Self {
        Customer { row, read, opened: Default::default() }
    }

    /// The personal values for resolving `field` (its columns checked): the personal row read
    /// with the customer (or else through the request's loader, batched across the page) and
    /// the customer's key, opened once.
    async fn personal(&self, ctx: &Context<'_>, field: &str) -> async_graphql::Result<&ops::Personal> {
        let row = self.field(field)?;
        self.opened
            .get_or_try_init(|| async {
                let values = match &row.personal {
                    Some(values) => Some(values.clone()),
                    None => loader(ctx).load_one(PersonalOf(row.id)).await.map_err(ApiError::Shared)?,
                };
                let values = values.ok_or_else(|| ApiError::Domain(entity::DomainError::internal(format!("customer {} has no personal row", row.id))))?;
                let key = match &row.key_id {
                    Some(id) => match scope(ctx).vault.cached_customer_key(&scope(ctx).restaurant_id, id) {
                        Some(key) => Some(key),
                        None => loader(ctx).load_one(CustomerKeyOf(id.clone())).await.map_err(ApiError::Shared)?,
                    },
                    None => None,
                };
                ops::personal::open_with(&values, key.as_ref()).map_err(ApiError::Domain)
            })
            .await
            .gql()
    }

    /// The row, for resolving `field`: an error if the read did not fetch its columns.
    fn field(&self, field: &str) -> async_graphql::Result<&customer::Model> {
        if let ops::Projection::Only(..) = self.read {
            let missing = columns_of(field).is_none_or(|cols| cols.iter().any(|c| !self.read.includes(*c)))
                || personal_of(field).iter().any(|p| !self.read.includes_personal(*p));
            if missing {
                tracing::error!(field, "a customer field was resolved without its columns");
                return Err(ApiError::Domain(entity::DomainError::internal(format!("customer field {field} resolved without its columns")))).gql();
            }
        }
        Ok(&self.row)
    }
}

/// A member of the loyalty programme as staff, marketers and integrations see them (what a role
/// may not read answers `FORBIDDEN`).
#[Object]
impl Customer {
    /// The member's id.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// Account id in the ordering platform, when linked.
    async fn user_id(&self) -> async_graphql::Result<Option<&str>> {
        Ok(self.field("userId")?.user_id.as_deref())
    }
    /// The member's id in the system they were imported from (`loyalty import customers`).
    async fn external_id(&self) -> async_graphql::Result<Option<&str>> {
        Ok(self.field("externalId")?.external_id.as_deref())
    }
    /// E.164 phone number.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.personal(ctx, "phone").await?.phone)
    }
    /// Email address, if given.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.personal(ctx, "email").await?.email.as_deref())
    }
    /// Name as staff greet them.
    async fn name(&self) -> async_graphql::Result<&str> {
        Ok(&self.field("name")?.name)
    }
    /// Date of birth, if given.
    async fn date_of_birth(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Date>> {
        Ok(self.personal(ctx, "dateOfBirth").await?.date_of_birth.map(Date))
    }
    /// Anniversary, if given.
    async fn anniversary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Date>> {
        Ok(self.personal(ctx, "anniversary").await?.anniversary.map(Date))
    }
    /// Tier by lifetime points.
    async fn loyalty_tier(&self) -> async_graphql::Result<Tier> {
        Ok(self.field("loyaltyTier")?.tier.into())
    }
    /// Current balance, lifetime points and points redeemed.
    async fn loyalty_points(&self) -> async_graphql::Result<LoyaltyPoints> {
        Ok(LoyaltyPoints::of(self.field("loyaltyPoints")?))
    }
    /// When they joined.
    async fn member_since(&self) -> async_graphql::Result<DateTime<Utc>> {
        Ok(self.field("memberSince")?.member_since)
    }
    /// Visits, spend and the first and last visit.
    async fn visit_stats(&self) -> async_graphql::Result<VisitStats> {
        let c = self.field("visitStats")?;
        Ok(VisitStats {
            total_visits: c.total_visits,
            first_visit: c.first_visit_at,
            last_visit: c.last_visit_at,
            total_spent: Money(c.total_spent_cents),
            average_order_value: Money(visit_rules::average_order_cents(c.total_spent_cents, c.total_visits)),
            average_visits_per_month: visit_rules::average_visits_per_month(c.total_visits, c.first_visit_at, Utc::now()),
        })
    }
    /// Dietary needs, allergies, spice level and seating (not for marketers).
    async fn preferences(&self, ctx: &Context<'_>) -> async_graphql::Result<Preferences> {
        let p = self.personal(ctx, "preferences").await?;
        let c = self.field("preferences")?;
        Ok(Preferences {
            customer_id: c.id,
            dietary_restrictions: p.dietary_restrictions.clone(),
            allergies: p.allergies.clone(),
            spice_level: c.spice_level.map(Into::into),
            preferred_seating: c.preferred_seating.map(Into::into),
        })
    }
    /// Consent to email, SMS, push and the kinds of offers.
    async fn marketing(&self) -> async_graphql::Result<Marketing> {
        Ok(Marketing::of(self.field("marketing")?))
    }
    /// Behaviour tags kept by the rules: high-value, frequent-visitor, new-customer, dormant.
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let tags = loader(ctx).load_one(LabelsOf(self.row.id, LabelKind::Tag)).await.gql()?;
        Ok(tags.unwrap_or_default())
    }
    /// Marketing segments.
    async fn segments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let segments = loader(ctx).load_one(LabelsOf(self.row.id, LabelKind::Segment)).await.gql()?;
        Ok(segments.unwrap_or_default())
    }
    /// Their referral code, who referred them and how many they referred.
    async fn referral(&self) -> async_graphql::Result<Referral> {
        let c = self.field("referral")?;
        Ok(Referral {
            referral_code: c.referral_code.clone(),
            customer_id: c.id,
            referred_by_id: c.referred_by,
            referrals_count: c.referrals_count,
            referral_rewards: c.referral_rewards,
        })
    }
    /// Occasions staff added (anniversaries of their own, celebrations), by date, one page at a time.
    async fn special_occasions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<SpecialOccasionPage> {
        let (after, first) = paging::args("specialOccasions", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(OccasionsOf(self.row.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("specialOccasions", page, |o| o.id);
        Ok(SpecialOccasionPage { items, page_info })
    }
    /// Their ratings: average, count and latest.
    async fn feedback(&self) -> async_graphql::Result<Feedback> {
        let c = self.field("feedback")?;
        Ok(Feedback {
            average_rating: entity::rules::series::average_rating(c.rating_total, c.review_count),
            total_reviews: c.review_count,
            last_review_date: c.last_review_at,
        })
    }
    /// Membership status.
    async fn status(&self) -> async_graphql::Result<CustomerStatus> {
        Ok(self.field("status")?.status.into())
    }
    /// Whether the member was erased (`eraseCustomer`, or the restaurant's retention policy):
    /// their personal data is gone for good and `phone` holds a placeholder, not a number.
    async fn erased(&self) -> async_graphql::Result<bool> {
        Ok(entity::ops::privacy::is_erased(self.field("erased")?))
    }
    /// Reviews the customer gave, newest first, one page at a time (`feedback` summarises them).
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<ReviewPage> {
        let (after, first) = paging::args("reviews", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(crate::graphql::loaders::ReviewsOf(self.row.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("reviews", page, |r| r.id);
        Ok(ReviewPage { items, page_info })
    }
    /// Staff notes, newest first, one page at a time (not for marketers).
    #[graphql(guard = "CARE")]
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<NotePage> {
        let (after, first) = paging::args("notes", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(NotesOf(self.row.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("notes", page, |n| n.id);
        Ok(NotePage { items, page_info })
    }
    /// What the restaurant's latest model fit predicts for the member today (null before a
    /// first fit or a first visit); not for member tokens.
    #[graphql(guard = "VIEWER")]
    async fn prediction(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CustomerPrediction>> {
        Ok(loader(ctx).load_one(PredictionOf(self.row.id)).await.gql()?.map(Into::into))
    }
    /// The member's last loyalty activity: earning, redeeming or a visit (joining counts as the
    /// first). Points expire counting from it; a profile change does not move it.
    async fn last_activity(&self) -> async_graphql::Result<DateTime<Utc>> {
        Ok(self.field("lastActivity")?.last_activity_at)
    }
    /// The points ledger, newest first, one page at a time.
    async fn points_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<PointTransactionPage> {
        let (after, first) = paging::args("pointsHistory", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(HistoryOf(self.row.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("pointsHistory", page, |t| t.id);
        Ok(PointTransactionPage { items, page_info })
    }
    /// Visits, newest first by when they happened, one page at a time.
    async fn visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<VisitPage> {
        let (after, first) = paging::args("visits", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(VisitsOf(self.row.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("visits", page, |v| v.id);
        Ok(VisitPage { items, page_info })
    }
    /// The member's vouchers, newest first, one page at a time: all, or only those the POS can
    /// use now (`usableOnly`: issued, not expired, not voided).
    async fn vouchers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false, desc = "Only vouchers that can be used now.")] usable_only: bool,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<VoucherPage> {
        let (after, first) = paging::args("vouchers", first, after.as_deref(), MAX_HISTORY).gql()?;
        let page = loader(ctx).load_one(VouchersOf(self.row.id, usable_only, after, first)).await.gql()?;
        let (items, page_info) = paging::items("vouchers", page, |v| v.id);
        Ok(VoucherPage { items, page_info })
    }
    /// The rewards this member may redeem now with `redeemReward`: offered now, in stock, for
    /// their tier, and within their balance; cheapest first.
    async fn redeemable_rewards(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Reward>> {
        let c = self.field("redeemableRewards")?;
        let catalogue = loader(ctx).load_one(Catalogue).await.gql()?.unwrap_or_default();
        let now = entity::ops::now();
        Ok(entity::rules::rewards::redeemable(&catalogue, c.tier, c.points_current, now).into_iter().map(Into::into).collect())
    }
    /// When the record was created.
    async fn created_at(&self) -> async_graphql::Result<DateTime<Utc>> {
        Ok(self.field("createdAt")?.created_at)
    }
    /// When the record last changed.
    async fn updated_at(&self) -> async_graphql::Result<DateTime<Utc>> {
        Ok(self.field("updatedAt")?.updated_at)
    }
}

/// One page of customers.
pub struct CustomerPage {
    pub(crate) page: ops::Page,
    /// The columns the page's rows were read with.
    pub(crate) read: ops::Projection,
    pub(crate) filter: ops::CustomerFilter,
    pub(crate) total: tokio::sync::OnceCell<u64>,
}

impl CustomerPage {
    /// Counts the matches once per page, however many fields ask.
    async fn total(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        self.total.get_or_try_init(|| async { ops::count(&app(ctx).db, scope(ctx), &self.filter).await.gql() }).await.copied()
    }
}

/// One page of a customer list, with what is needed to ask for the next one.
#[Object]
impl CustomerPage {
    /// The customers of this page.
    async fn items(&self) -> Vec<Customer> {
        self.page.items.iter().cloned().map(|row| Customer::projected(row, self.read.clone())).collect()
    }
    /// The page number; null for a page asked for with `after`.
    async fn page(&self) -> Option<u64> {
        self.page.page
    }
    /// The page size asked for.
    async fn limit(&self) -> u64 {
        self.page.limit
    }
    /// Whether another page follows.
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
