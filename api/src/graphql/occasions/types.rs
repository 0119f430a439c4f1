//! The object type of special occasions.

use async_graphql::{ID, SimpleObject};
use entity::entities::special_occasion;

use crate::graphql::scalars::Date;

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
