//! The parts of a customer object that are objects of their own: points, visit statistics,
//! consent, preferences and favourite items.

use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::{customer, favorite_item};
use entity::rules::tier;

use crate::auth::CARE;
use crate::error::IntoGql;
use crate::graphql::context::{app, loader, scope};
use crate::graphql::loaders::FavoritesOf;
use crate::graphql::scalars::{Date, Money};
use crate::graphql::types::{Seating, SpiceLevel};

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
    /// Points that expire.
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
    /// Visits recorded.
    pub total_visits: i64,
    /// The first visit (null before any).
    pub first_visit: Option<DateTime<Utc>>,
    /// The latest visit.
    pub last_visit: Option<DateTime<Utc>>,
    /// What all visits came to.
    pub total_spent: Money,
    /// Spend per visit.
    pub average_order_value: Money,
    /// Visits per month since the first one.
    pub average_visits_per_month: f64,
}

/// Marketing consent.
#[derive(SimpleObject)]
pub struct Marketing {
    /// Agrees to marketing email.
    pub email_opt_in: bool,
    /// Agrees to marketing SMS.
    pub sms_opt_in: bool,
    /// Agrees to push notifications.
    pub push_notifications: bool,
    /// Wants special offers: win-back, at-risk and occasion emails, campaigns with an offer.
    pub special_offers: bool,
    /// Wants birthday offers.
    pub birthday_offers: bool,
    /// Wants anniversary offers.
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
    /// Preferred spice level.
    pub spice_level: Option<SpiceLevel>,
    /// Preferred seating area.
    pub preferred_seating: Option<Seating>,
}

#[ComplexObject]
impl Preferences {
    /// Items ordered most, with how often, one page at a time (a ranking: an item may move to
    /// another page as its count changes).
    async fn favorite_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many to return (1 to 100).")] first: i64,
        #[graphql(desc = "The previous page's `pageInfo.endCursor`, for the next page.")] after: Option<String>,
    ) -> async_graphql::Result<FavoriteItemPage> {
        let (after, first) = crate::graphql::paging::args("favoriteItems", first, after.as_deref(), 100).gql()?;
        let page = loader(ctx).load_one(FavoritesOf(self.customer_id, after, first)).await.gql()?;
        let (items, page_info) = crate::graphql::paging::items("favoriteItems", page, |f| f.id);
        Ok(FavoriteItemPage { items, page_info })
    }
}

/// One page of a member's favourite items.
#[derive(SimpleObject)]
pub struct FavoriteItemPage {
    /// The items, most ordered first.
    pub items: Vec<FavoriteItem>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}

/// A menu item and how many times the customer ordered it.
#[derive(SimpleObject)]
pub struct FavoriteItem {
    /// The item's id in the POS.
    pub item_id: String,
    /// Its name.
    pub name: Option<String>,
    /// How often they ordered it.
    pub order_count: i64,
    /// When they last did.
    pub last_ordered_at: DateTime<Utc>,
}

impl From<favorite_item::Model> for FavoriteItem {
    fn from(m: favorite_item::Model) -> Self {
        Self { item_id: m.item_id, name: m.name, order_count: m.order_count, last_ordered_at: m.last_ordered_at }
    }
}
