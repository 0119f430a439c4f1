//! The object type of special occasions.

use async_graphql::{ID, SimpleObject};
use entity::entities::special_occasion;

use crate::graphql::scalars::Date;

/// A special date the customer celebrates.
#[derive(SimpleObject)]
pub struct SpecialOccasion {
    /// The occasion's id.
    pub id: ID,
    /// What is celebrated.
    pub name: String,
    /// Its date; a recurring one comes back on that month and day.
    pub date: Date,
    /// Whether it comes back every year.
    pub recurring: bool,
}

impl From<special_occasion::Model> for SpecialOccasion {
    fn from(m: special_occasion::Model) -> Self {
        Self { id: ID(m.id.to_string()), name: m.name, date: Date(m.date), recurring: m.recurring }
    }
}

/// One page of a member's special occasions.
#[derive(SimpleObject)]
pub struct SpecialOccasionPage {
    /// The occasions, by date.
    pub items: Vec<SpecialOccasion>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}
