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
    /// The member.
    pub customer_id: ID,
    /// What the order came to.
    pub amount: Money,
    /// How much of it has been refunded.
    pub refunded: Money,
    /// The POS order id, when recorded from an order.
    pub order_id: Option<String>,
    /// When it happened (an order recorded late: when the POS said it happened).
    pub visited_at: DateTime<Utc>,
    /// Where the order was placed, when the POS said.
    pub location: Option<String>,
    /// How it was placed (dine-in, takeaway, delivery, online, …), when the POS said.
    pub channel: Option<String>,
    /// When it was last written here (recorded, refunded, moved by a merge).
    pub updated_at: DateTime<Utc>,
}

impl From<visit::Model> for Visit {
    fn from(m: visit::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            customer_id: ID(m.customer_id.to_string()),
            amount: Money(m.amount_cents),
            refunded: Money(m.refunded_cents),
            order_id: m.order_id,
            visited_at: m.visited_at,
            location: m.location,
            channel: m.channel,
            updated_at: m.updated_at,
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
