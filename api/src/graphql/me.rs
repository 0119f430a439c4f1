//! Customer apps: a member's own token reads only that member (`me`) and changes only their own
//! consent (`updateMyConsent`, audited with source `customer-app`). Staff mint short-lived
//! member tokens with `createMemberToken`. The `Member` type leaves out what is for staff only:
//! notes, allergies and preferences, tags and segments, feedback, ledger actors, referrers.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{customer, point_transaction};
use entity::ops::customers as ops;

use super::context::{app, loader, scope};
use super::customers::MarketingConsentInput;
use super::customers::parts::{LoyaltyPoints, Marketing};
use super::loaders::{HistoryOf, OccasionsOf, VisitsOf, VouchersOf};
use super::occasions::types::SpecialOccasionPage;
use super::paging;
use super::scalars::Date;
use super::types::{LedgerKind, Tier, customer_id};
use crate::auth::{MEMBER, STAFF};
use crate::error::{ApiError, IntoGql};

/// A member as their own app sees them.
pub struct Member(pub customer::Model, pub entity::ops::customers::Personal);

impl Member {
    /// The member of `row`, its personal values opened.
    pub async fn open(db: &sea_orm::DatabaseConnection, scope: &entity::Scope, row: customer::Model) -> Result<Self, ApiError> {
        let personal = entity::ops::customers::personal::open(db, scope, &row).await?;
        Ok(Member(row, personal))
    }
}

/// One change of the member's points.
#[derive(SimpleObject)]
pub struct MemberPointTransaction {
    /// Why points changed.
    pub kind: LedgerKind,
    /// Signed change of the balance.
    pub points: i64,
    /// Balance right after.
    pub balance_after: i64,
    /// The reason given.
    pub reason: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// One page of the member's points ledger.
#[derive(SimpleObject)]
pub struct MemberPointTransactionPage {
    /// The transactions, newest first.
    pub items: Vec<MemberPointTransaction>,
    /// Where the page ends.
    pub page_info: super::paging::PageInfo,
}

impl From<point_transaction::Model> for MemberPointTransaction {
    fn from(m: point_transaction::Model) -> Self {
        Self { kind: m.kind.into(), points: m.delta, balance_after: m.balance_after, reason: m.reason, created_at: m.created_at }
    }
}

/// The member's referral code and what it earned.
#[derive(SimpleObject)]
pub struct MemberReferral {
    /// Their code to share.
    pub referral_code: String,
    /// Friends who joined with it.
    pub referrals_count: i64,
    /// Points earned from referrals.
    pub referral_rewards: i64,
}

/// A member as their own app sees them (`me`): their profile, points and offers, never staff notes.
#[Object]
impl Member {
    /// Their member id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Their name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Their phone number (E.164).
    async fn phone(&self) -> &str {
        &self.1.phone
    }
    /// Their email address, if given.
    async fn email(&self) -> Option<&str> {
        self.1.email.as_deref()
    }
    /// Their date of birth, if given.
    async fn date_of_birth(&self) -> Option<Date> {
        self.1.date_of_birth.map(Date)
    }
    /// Their anniversary, if given.
    async fn anniversary(&self) -> Option<Date> {
        self.1.anniversary.map(Date)
    }
    /// When they joined.
    async fn member_since(&self) -> DateTime<Utc> {
        self.0.member_since
    }
    /// Their tier by lifetime points.
    async fn loyalty_tier(&self) -> Tier {
        self.0.tier.into()
    }
    /// Balance, and the lifetime points still needed for the next tier.
    async fn loyalty_points(&self) -> LoyaltyPoints {
        LoyaltyPoints::of(&self.0)
    }
    /// Their referral code and how many friends joined with it.
    async fn referral(&self) -> MemberReferral {
        MemberReferral { referral_code: self.0.referral_code.clone(), referrals_count: self.0.referrals_count, referral_rewards: self.0.referral_rewards }
    }
    /// The member's own consent, which `updateMyConsent` changes.
    async fn marketing(&self) -> Marketing {
        Marketing::of(&self.0)
    }
    /// Occasions the restaurant keeps for them, by date, one page at a time.
    async fn special_occasions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<SpecialOccasionPage> {
        let (after, first) = paging::args("specialOccasions", first, after.as_deref(), 100).gql()?;
        let page = loader(ctx).load_one(OccasionsOf(self.0.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("specialOccasions", page, |o| o.id);
        Ok(SpecialOccasionPage { items, page_info })
    }
    /// Points earned and redeemed, newest first, one page at a time.
    async fn points_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<MemberPointTransactionPage> {
        let (after, first) = paging::args("pointsHistory", first, after.as_deref(), 100).gql()?;
        let page = loader(ctx).load_one(HistoryOf(self.0.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("pointsHistory", page, |t| t.id);
        Ok(MemberPointTransactionPage { items, page_info })
    }
    /// The member's vouchers (rewards redeemed, birthday and win-back offers), newest first, one
    /// page at a time.
    async fn vouchers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false, desc = "Only vouchers that can be used now.")] usable_only: bool,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<super::rewards::types::VoucherPage> {
        let (after, first) = paging::args("vouchers", first, after.as_deref(), 100).gql()?;
        let page = loader(ctx).load_one(VouchersOf(self.0.id, usable_only, after, first)).await.gql()?;
        let (items, page_info) = paging::items("vouchers", page, |v| v.id);
        Ok(super::rewards::types::VoucherPage { items, page_info })
    }
    /// Visits, newest first by when they happened, one page at a time.
    async fn visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<super::visits::types::VisitPage> {
        let (after, first) = paging::args("visits", first, after.as_deref(), 100).gql()?;
        let page = loader(ctx).load_one(VisitsOf(self.0.id, after, first)).await.gql()?;
        let (items, page_info) = paging::items("visits", page, |v| v.id);
        Ok(super::visits::types::VisitPage { items, page_info })
    }
}

/// A member token made by staff.
#[derive(SimpleObject)]
pub struct MemberToken {
    /// `Authorization: Bearer <token>` for the member's app; shown once.
    pub token: String,
    /// The member it is for.
    pub customer_id: ID,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The member's principal.
fn member<'a>(ctx: &Context<'a>) -> Result<&'a entity::ops::keys::MemberRef, ApiError> {
    ctx.data_unchecked::<super::context::RequestContext>().principal.member.as_ref().ok_or_else(|| ApiError::not_found("member"))
}

/// Member queries.
#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The member whose token this is (customer apps only).
    #[graphql(guard = "MEMBER")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Member> {
        let row = ops::find_member(&app(ctx).db, scope(ctx), member(ctx).gql()?).await.gql()?;
        Member::open(&app(ctx).db, scope(ctx), row).await.gql()
    }
}

/// Member mutations.
#[derive(Default)]
pub struct MeMutation;

/// Longest life of a member token minted by staff, in minutes (a day).
const MAX_TOKEN_MINUTES: i64 = 1_440;

#[Object]
impl MeMutation {
    /// Changes the member's own consent (customer apps only); each change is audited with source
    /// `customer-app`. Omitted flags stay.
    #[graphql(guard = "MEMBER")]
    async fn update_my_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consent flags to change; those left out stay.")] input: MarketingConsentInput,
    ) -> async_graphql::Result<Member> {
        let (db, scope) = (&app(ctx).db, scope(ctx));
        let me = ops::find_member(db, scope, member(ctx).gql()?).await.gql()?;
        let row = ops::update_consent(db, scope, me.id, &input.into(), "customer-app").await.gql()?;
        Member::open(db, scope, row).await.gql()
    }

    /// A short-lived token for one member's app or a kiosk (`minutes`, 1 to 1,440; 60 by
    /// default): it reaches only `me` and `updateMyConsent`.
    #[graphql(guard = "STAFF")]
    async fn create_member_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "customerId", desc = "The member the token is for.")] member_id: ID,
        #[graphql(default = 60, desc = "How long the token is valid, in minutes (1 to 1,440).")] minutes: i64,
    ) -> async_graphql::Result<MemberToken> {
        if !(1..=MAX_TOKEN_MINUTES).contains(&minutes) {
            return Err(ApiError::validation("minutes", format!("must be between 1 and {MAX_TOKEN_MINUTES}"))).gql();
        }
        let (state, scope) = (app(ctx), scope(ctx));
        let id = customer_id(&member_id).gql()?;
        let member = ops::find_by_id(&state.db, scope, id).await.gql()?;
        let expires_at = Utc::now() + chrono::Duration::minutes(minutes);
        let token =
            state.member_tokens.mint(&scope.restaurant_id, member.id, expires_at).map_err(|e| ApiError::Domain(entity::DomainError::internal(e))).gql()?;
        Ok(MemberToken { token, customer_id: ID(member.id.to_string()), expires_at })
    }
}
