//! Staff notes (spec endpoint 9).

pub mod types;

use async_graphql::{Context, ID, Object};
use entity::ops::notes;

use crate::auth::STAFF;
use crate::error::IntoGql;
use crate::graphql::context::{app, scope};
use types::Note;

/// Note mutations.
#[derive(Default)]
pub struct NoteMutation;

#[Object]
impl NoteMutation {
    /// Adds a staff note (1 to 2,000 characters) to a customer.
    #[graphql(guard = "STAFF")]
    async fn add_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "The note for staff (allergies, preferences, anything to remember).")] note: String,
    ) -> async_graphql::Result<Note> {
        let id = super::types::customer_id(&customer_id).gql()?;
        Ok(notes::add_note(&app(ctx).db, scope(ctx), id, &note).await.gql()?.into())
    }
}
