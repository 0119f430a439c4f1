//! The object type of reviews.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

/// One review.
#[derive(SimpleObject)]
pub struct Review {
    /// The rating's id.
    pub id: ID,
    /// Stars, 1 to 5.
    pub rating: i32,
    /// What they said.
    pub comment: Option<String>,
    /// The visit reviewed, if any.
    pub visit_id: Option<ID>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
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

/// One page of a member's reviews.
#[derive(SimpleObject)]
pub struct ReviewPage {
    /// The items, newest first.
    pub items: Vec<Review>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}
