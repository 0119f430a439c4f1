//! Occasions (spec endpoint 8): what is coming up, and custom occasions and dates to change.

pub mod types;

use async_graphql::{Context, Enum, ID, MaybeUndefined, Object, SimpleObject};
use entity::ops::customers::Patch;
use entity::ops::occasions::{self, OccasionKind};

use crate::auth::{STAFF, VIEWER};
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::graphql::customers::types::{Customer, projection};
use crate::graphql::scalars::Date;
use types::SpecialOccasion;

/// Kind of occasion.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OccasionType {
    /// The member's birthday.
    Birthday,
    /// The member's anniversary.
    Anniversary,
    /// An occasion staff added.
    Custom,
}

/// A removed occasion.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct RemoveSpecialOccasionPayload {
    /// The id the occasion had.
    pub removed_id: ID,
    #[graphql(skip)]
    pub customer_id: i64,
}

#[async_graphql::ComplexObject]
impl RemoveSpecialOccasionPayload {
    /// The member it belonged to, as they are now.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Customer::load(ctx, self.customer_id).await
    }
}

/// An occasion in the coming days.
#[derive(SimpleObject)]
pub struct UpcomingOccasion {
    /// Birthday, anniversary or one staff added.
    #[graphql(name = "type")]
    pub kind: OccasionType,
    /// "Birthday", "Anniversary" or the custom occasion's name.
    pub name: String,
    /// The member.
    pub customer: Customer,
    /// The day it is celebrated (29 February birthdays: 28 February in other years).
    pub date: Date,
    /// Days from today (0: today).
    pub days_until: i64,
    /// Age, years married or years since, when the original year is known.
    pub years: Option<i32>,
    /// Whether it comes back every year.
    pub recurring: bool,
    /// The custom occasion's id.
    pub occasion_id: Option<ID>,
}

fn occasion_id(id: &ID) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| ApiError::not_found(format!("special occasion {}", id.as_str())))
}

/// Occasion queries.
#[derive(Default)]
pub struct OccasionQuery;

#[Object]
impl OccasionQuery {
    /// Birthdays, anniversaries and custom occasions on `days` days (1 to 366) starting `from`
    /// (default: today in the restaurant's time zone), by date; the first `limit` (1 to 5,000).
    #[graphql(guard = "VIEWER")]
    async fn upcoming_occasions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 7, desc = "How many days ahead, today included.")] days: i64,
        #[graphql(desc = "First day (default: today in the restaurant's zone).")] from: Option<Date>,
        #[graphql(default = 500, desc = "How many to return at most (the field's maximum applies).")] limit: i64,
    ) -> async_graphql::Result<Vec<UpcomingOccasion>> {
        let state = app(ctx);
        let days = u32::try_from(days).map_err(|_| ApiError::validation("days", "must be between 1 and 366")).gql()?;
        let limit = u64::try_from(limit).map_err(|_| ApiError::validation("limit", "must be between 1 and 5000")).gql()?;
        // The customers' columns the selection shows; their personal values opened only for
        // the years (the customer's own fields open theirs when shown).
        let selection = ctx.look_ahead();
        let read = projection(selection.field("customer"));
        let rows = occasions::upcoming(&state.db, scope(ctx), from.map(|d| d.0), days, limit, &read, selection.field("years").exists()).await.gql()?;
        Ok(rows
            .into_iter()
            .map(|u| UpcomingOccasion {
                kind: match u.kind {
                    OccasionKind::Birthday => OccasionType::Birthday,
                    OccasionKind::Anniversary => OccasionType::Anniversary,
                    OccasionKind::Custom => OccasionType::Custom,
                },
                name: u.name,
                customer: Customer::projected(u.customer, read.clone()),
                date: Date(u.date),
                days_until: u.days_until,
                years: u.years,
                recurring: u.recurring,
                occasion_id: u.occasion_id.map(|id| ID(id.to_string())),
            })
            .collect())
    }
}

/// Occasion mutations.
#[derive(Default)]
pub struct OccasionMutation;

#[Object]
impl OccasionMutation {
    /// Adds a custom occasion (recurring every year by default).
    #[graphql(guard = "STAFF")]
    async fn add_special_occasion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "What is celebrated, e.g. \"Wedding anniversary\".")] name: String,
        #[graphql(desc = "Its date (YYYY-MM-DD); a recurring occasion is celebrated on that month and day each year.")] date: Date,
        #[graphql(default = true, desc = "Whether it comes back every year (default) or happens once.")] recurring: bool,
    ) -> async_graphql::Result<SpecialOccasion> {
        let id = super::types::customer_id(&customer_id).gql()?;
        Ok(occasions::add(&app(ctx).db, scope(ctx), id, &name, date.0, recurring).await.gql()?.into())
    }

    /// Changes a custom occasion; omitted fields stay.
    #[graphql(guard = "STAFF")]
    async fn update_special_occasion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The occasion's id.")] id: ID,
        #[graphql(desc = "Its new name (unchanged when left out).")] name: Option<String>,
        #[graphql(desc = "Its new date (unchanged when left out).")] date: Option<Date>,
        #[graphql(desc = "Whether it recurs (unchanged when left out).")] recurring: Option<bool>,
    ) -> async_graphql::Result<SpecialOccasion> {
        let id = occasion_id(&id).gql()?;
        Ok(occasions::update(&app(ctx).db, scope(ctx), id, name.as_deref(), date.map(|d| d.0), recurring).await.gql()?.into())
    }

    /// Removes a custom occasion; answers its id and the member it belonged to.
    #[graphql(guard = "STAFF")]
    async fn remove_special_occasion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The occasion's id.")] id: ID,
    ) -> async_graphql::Result<RemoveSpecialOccasionPayload> {
        let gone = occasions::remove(&app(ctx).db, scope(ctx), occasion_id(&id).gql()?).await.gql()?;
        Ok(RemoveSpecialOccasionPayload { removed_id: id, customer_id: gone.customer_id })
    }

    /// Sets or clears (`null`) a customer's date of birth and anniversary; omitted ones stay.
    #[graphql(guard = "STAFF")]
    async fn set_customer_dates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "Date of birth (YYYY-MM-DD); null removes it.")] date_of_birth: MaybeUndefined<Date>,
        #[graphql(desc = "Anniversary (YYYY-MM-DD); null removes it.")] anniversary: MaybeUndefined<Date>,
    ) -> async_graphql::Result<Customer> {
        let id = super::types::customer_id(&customer_id).gql()?;
        let patch = |v: MaybeUndefined<Date>| match v {
            MaybeUndefined::Undefined => Patch::Keep,
            MaybeUndefined::Null => Patch::Clear,
            MaybeUndefined::Value(d) => Patch::Set(d.0),
        };
        let row = occasions::set_dates(&app(ctx).db, scope(ctx), id, patch(date_of_birth), patch(anniversary)).await.gql()?;
        Ok(Customer::from(row))
    }
}
