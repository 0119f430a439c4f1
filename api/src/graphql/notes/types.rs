//! The object type of staff notes.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::entities::note;

/// A staff note.
#[derive(SimpleObject)]
pub struct Note {
    /// The note's id.
    pub id: ID,
    /// The note.
    pub note: String,
    /// Who wrote it.
    pub added_by: String,
    /// When it was written.
    pub added_at: DateTime<Utc>,
}

impl From<note::Model> for Note {
    fn from(m: note::Model) -> Self {
        Self { id: ID(m.id.to_string()), note: m.note, added_by: m.added_by, added_at: m.created_at }
    }
}

/// One page of a member's staff notes.
#[derive(SimpleObject)]
pub struct NotePage {
    /// The items, newest first.
    pub items: Vec<Note>,
    /// Where the page ends.
    pub page_info: crate::graphql::paging::PageInfo,
}
