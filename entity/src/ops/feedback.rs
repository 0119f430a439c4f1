//! Customer feedback: a review (rating 1–5, optional comment, optionally about one visit) is
//! stored and the customer's review summary (average rating, count, last review) follows in
//! the same transaction.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::{idempotency, now};
use crate::entities::{customer, feedback, visit};
use crate::{DomainError, DomainResult, Scope};

/// Longest comment accepted.
pub const MAX_COMMENT_LEN: usize = 2_000;

/// Checks a rating (whole stars, 1 to 5) and a comment (trimmed; empty means none).
pub fn check(rating: i64, comment: Option<&str>) -> DomainResult<(i16, Option<String>)> {
    if !(1..=5).contains(&rating) {
        return Err(DomainError::validation("rating", "must be a whole number of stars from 1 to 5"));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_LEN) {
        return Err(DomainError::validation("comment", format!("must be at most {MAX_COMMENT_LEN} characters")));
    }
    Ok((rating as i16, comment.map(str::to_string)))
}

/// Records a review and updates the customer's summary atomically; with an idempotency key a
/// retried submission is stored once.
pub async fn record<D: TransactionTrait + ConnectionTrait>(
    db: &D,
    scope: &Scope,
    customer_id: i64,
    rating: i64,
    comment: Option<&str>,
    visit_id: Option<i64>,
    idempotency_key: Option<&str>,
) -> DomainResult<idempotency::Outcome<feedback::Model>> {
    let (rating, comment) = check(rating, comment)?;
    let key = idempotency_key.map(crate::rules::inputs::check_key).transpose()?;
    // The comment enters the retry check only as a keyed digest: the stored request hash must
    // not let anyone confirm a guessed comment.
    let digest = match &comment {
        Some(text) => Some(super::customers::Indexes::of(scope).await?.digest("feedback-comment", text)),
        None => None,
    };
    let request = (customer_id, rating, digest, visit_id);
    let mut outcome = idempotency::run(db, scope, key.as_deref(), "recordFeedback", &request, async |txn| {
        let at = now();
        use customer::Column as C;
        let updated = customer::Entity::update_many()
            .col_expr(C::RatingTotal, Expr::col(C::RatingTotal).add(i64::from(rating)))
            .col_expr(C::ReviewCount, Expr::col(C::ReviewCount).add(1))
            .col_expr(C::LastReviewAt, Expr::value(at))
            .col_expr(C::UpdatedAt, Expr::value(at))
            .filter(C::Id.eq(customer_id))
            .filter(C::RestaurantId.eq(&scope.restaurant_id))
            .exec(txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(DomainError::not_found(format!("customer {customer_id}")));
        }
        if let Some(visit_id) = visit_id {
            let found = visit::Entity::find_by_id(visit_id)
                .filter(visit::Column::CustomerId.eq(customer_id))
                .filter(visit::Column::RestaurantId.eq(&scope.restaurant_id))
                .one(txn)
                .await?;
            if found.is_none() {
                return Err(DomainError::not_found(format!("visit {visit_id} of customer {customer_id}")));
            }
        }
        let sealed = match &comment {
            Some(text) => {
                let c = super::customers::find_by_id(txn, scope, customer_id).await?;
                Some(super::customers::personal::seal_for(scope, &c, super::customers::personal::COMMENT, text).await?)
            }
            None => None,
        };
        let row = feedback::ActiveModel {
            restaurant_id: Set(scope.restaurant_id.clone()),
            customer_id: Set(customer_id),
            visit_id: Set(visit_id),
            rating: Set(rating),
            comment: Set(sealed),
            recorded_by: Set(scope.actor.clone()),
            created_at: Set(at),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        super::audit::record(
            txn,
            scope,
            crate::entities::AuditAction::FeedbackRecorded,
            Some(customer_id),
            serde_json::json!({ "feedbackId": row.id, "rating": rating }),
        )
        .await?;
        Ok(row)
    })
    .await?;
    super::customers::personal::open_texts(scope, super::customers::personal::COMMENT, outcome.value.comment.iter_mut()).await?;
    Ok(outcome)
}

/// A page of reviews of each of several customers (for a DataLoader), newest first, opened.
pub async fn pages_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[i64],
    page: (Option<i64>, u64),
) -> DomainResult<std::collections::HashMap<i64, super::Paged<feedback::Model>>> {
    let mut pages = super::newest_pages::<feedback::Entity>(db, scope, ids, (&super::BY_ID, &[]), page, |r| r.customer_id).await?;
    let comments = pages.values_mut().flat_map(|p| p.items.iter_mut()).filter_map(|r| r.comment.as_mut());
    super::customers::personal::open_texts(scope, super::customers::personal::COMMENT, comments).await?;
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_whole_stars_and_comments_are_trimmed() {
        assert_eq!(check(5, Some("  Lovely  ")).unwrap(), (5, Some("Lovely".to_string())));
        assert_eq!(check(1, Some("   ")).unwrap(), (1, None));
        for bad in [0, 6, -1] {
            assert!(matches!(check(bad, None), Err(DomainError::Validation { field, .. }) if field == "rating"));
        }
        let long = "x".repeat(MAX_COMMENT_LEN + 1);
        assert!(matches!(check(3, Some(&long)), Err(DomainError::Validation { field, .. }) if field == "comment"));
    }
}
