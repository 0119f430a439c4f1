//! Which columns of `customers` (and which personal values) a selection of `Customer` fields
//! needs: reads fetch only those.

use entity::entities::{customer, customer_personal};
use entity::ops::customers as ops;

/// The columns each field of [`Customer`] shows: the one table both the reads' projection
/// (from the GraphQL selection) and the resolvers' checks use. Nested lists and labels need
/// only the id, which every read includes. A selected field missing here makes the read fetch
/// every column; a field whose resolver asks for columns that were not read is an error, never
/// a default (a test checks that every field of the schema is listed).
pub const FIELD_COLUMNS: &[(&str, &[customer::Column])] = {
    use customer::Column as C;
    &[
        ("__typename", &[]),
        ("id", &[]),
        ("userId", &[C::UserId]),
        ("externalId", &[C::ExternalId]),
        ("phone", &[C::KeyId]),
        ("email", &[C::KeyId]),
        ("name", &[C::Name]),
        ("dateOfBirth", &[C::KeyId]),
        ("anniversary", &[C::KeyId]),
        ("loyaltyTier", &[C::Tier]),
        ("loyaltyPoints", &[C::PointsCurrent, C::PointsLifetime, C::PointsRedeemed, C::LastActivityAt]),
        ("memberSince", &[C::MemberSince]),
        ("visitStats", &[C::TotalVisits, C::FirstVisitAt, C::LastVisitAt, C::TotalSpentCents]),
        ("preferences", &[C::SpiceLevel, C::PreferredSeating, C::KeyId]),
        ("marketing", &[C::EmailOptIn, C::SmsOptIn, C::PushOptIn, C::SpecialOffers, C::BirthdayOffers, C::AnniversaryOffers]),
        ("tags", &[]),
        ("segments", &[]),
        ("referral", &[C::ReferralCode, C::ReferredBy, C::ReferralsCount, C::ReferralRewards]),
        ("specialOccasions", &[]),
        ("feedback", &[C::RatingTotal, C::ReviewCount, C::LastReviewAt]),
        ("status", &[C::Status]),
        ("erased", &[C::PhoneIndex]),
        ("reviews", &[]),
        ("notes", &[]),
        ("lastActivity", &[C::LastActivityAt]),
        ("pointsHistory", &[]),
        ("visits", &[]),
        ("prediction", &[]),
        ("vouchers", &[]),
        ("redeemableRewards", &[C::Tier, C::PointsCurrent]),
        ("createdAt", &[C::CreatedAt]),
        ("updatedAt", &[C::UpdatedAt]),
    ]
};

/// The sealed personal values each field shows (read from `customer_personal` with the
/// customer, and opened with its key, which [`FIELD_COLUMNS`] names): a lookup showing the
/// phone reads and opens the phone alone.
pub const FIELD_PERSONAL: &[(&str, &[customer_personal::Column])] = {
    use customer_personal::Column as P;
    &[
        ("phone", &[P::Phone]),
        ("email", &[P::Email]),
        ("dateOfBirth", &[P::DateOfBirth]),
        ("anniversary", &[P::Anniversary]),
        ("preferences", &[P::DietaryRestrictions, P::Allergies]),
    ]
};

/// The columns of `customers` that `field` needs (`None`: a field not listed).
pub fn columns_of(field: &str) -> Option<&'static [customer::Column]> {
    FIELD_COLUMNS.iter().find(|(name, _)| *name == field).map(|(_, cols)| *cols)
}

/// The personal values `field` shows.
pub fn personal_of(field: &str) -> &'static [customer_personal::Column] {
    FIELD_PERSONAL.iter().find(|(name, _)| *name == field).map_or(&[], |(_, cols)| *cols)
}

/// The columns a selection of customer fields needs (every column when it selects a field
/// [`FIELD_COLUMNS`] does not list).
pub fn projection(selection: async_graphql::Lookahead<'_>) -> ops::Projection {
    let (mut cols, mut personal) = (Vec::new(), Vec::new());
    for field in selection.selection_fields() {
        for child in field.selection_set() {
            match columns_of(child.name()) {
                Some(needed) => cols.extend_from_slice(needed),
                None => return ops::Projection::All,
            }
            personal.extend_from_slice(personal_of(child.name()));
        }
    }
    ops::Projection::only(cols).with_personal(personal)
}
