//! Customer feedback: reviews with a 1–5 rating, summarised on the customer.

pub mod types;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use entity::ops::feedback;

use crate::auth::STAFF;
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::graphql::customers::types::Customer;
use crate::graphql::types::customer_id;
use types::Review;

/// A recorded review and the customer's summary after it.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct FeedbackPayload {
    /// The rating recorded.
    pub review: Review,
    #[graphql(skip)]
    pub customer_id: i64,
    /// True when this is the saved result of an earlier request with the same idempotency key.
    pub replayed: bool,
}

#[ComplexObject]
impl FeedbackPayload {
    /// The customer as it is now, with `feedback { averageRating totalReviews lastReviewDate }`.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Customer::load(ctx, self.customer_id).await
    }
}

/// Feedback mutations.
#[derive(Default)]
pub struct FeedbackMutation;

#[Object]
impl FeedbackMutation {
    /// Records a customer's review (rating 1–5, optional comment of at most 2,000 characters,
    /// optionally about one of their visits); the average rating, review count and last review
    /// date follow at once. Send an `idempotencyKey` from apps that retry.
    #[graphql(guard = "STAFF")]
    async fn record_feedback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "The member's rating, 1 to 5.")] rating: i32,
        #[graphql(desc = "What the member said (optional).")] comment: Option<String>,
        #[graphql(desc = "The visit the feedback is about (optional).")] visit_id: Option<ID>,
        #[graphql(
            desc = "A key of your choosing for this change: a retry with the same key and the same arguments returns the first answer instead of applying it twice."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<FeedbackPayload> {
        let id = self::customer_id(&customer_id).gql()?;
        let visit = match visit_id {
            Some(v) => Some(v.parse::<i64>().map_err(|_| ApiError::validation("visitId", "is not a visit id")).gql()?),
            None => None,
        };
        let out = feedback::record(&app(ctx).db, scope(ctx), id, i64::from(rating), comment.as_deref(), visit, idempotency_key.as_deref()).await.gql()?;
        Ok(FeedbackPayload { customer_id: out.value.customer_id, review: out.value.into(), replayed: out.replayed })
    }
}
