//! The object type of visits.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::visit;

use crate::graphql::scalars::Money;

/// A recorded visit.
#[derive(SimpleObject)]
pub struct Visit {
    /// The visit's id.
    pub id: ID,
    /// What the order came to.
    pub amount: Money,
    /// The POS order id, when recorded from an order.
    pub order_id: Option<String>,
    /// When it happened (an order recorded late: when the POS said it happened).
    pub visited_at: DateTime<Utc>,
    /// Where the order was placed, when the POS said.
    pub location: Option<String>,
    /// How it was placed (dine-in, takeaway, delivery, online, …), when the POS said.
    pub channel: Option<String>,
}

impl From<visit::Model> for Visit {
    fn from(m: visit::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            amount: Money(m.amount_cents),
            order_id: m.order_id,
            visited_at: m.visited_at,
            location: m.location,
            channel: m.channel,
        }
    }
}

/// One page of a member's visits.
#[derive(SimpleObject)]
pub struct VisitPage {
    /// The visits, newest first.
    pub items: Vec<Visit>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}
