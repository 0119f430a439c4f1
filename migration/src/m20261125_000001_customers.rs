//! Customers and their labels (tags, segments), with the spec's "Performance" indexes:
//! unique (restaurant_id, phone); (restaurant_id, email); (restaurant_id, tier);
//! (restaurant_id, status); unique referral_code; tags and segments through
//! `customer_labels (restaurant_id, kind, name, customer_id)`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Customers {
    Table,
    Id,
    RestaurantId,
    UserId,
    Phone,
    Email,
    Name,
    DateOfBirth,
    Anniversary,
    Tier,
    PointsCurrent,
    PointsLifetime,
    PointsRedeemed,
    MemberSince,
    TotalVisits,
    FirstVisitAt,
    LastVisitAt,
    TotalSpentCents,
    DietaryRestrictions,
    Allergies,
    SpiceLevel,
    PreferredSeating,
    EmailOptIn,
    SmsOptIn,
    PushOptIn,
    SpecialOffers,
    BirthdayOffers,
    AnniversaryOffers,
    ReferralCode,
    ReferredBy,
    ReferralsCount,
    ReferralRewards,
    RatingTotal,
    ReviewCount,
    LastReviewAt,
    Status,
    LastActivityAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomerLabels {
    Table,
    CustomerId,
    Kind,
    Name,
    RestaurantId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        customers(manager).await?;
        customer_indexes(manager).await?;
        labels(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CustomerLabels::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Customers::Table).to_owned()).await
    }
}

/// The customers table.
async fn customers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Customers as C;
    manager
        .create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Id))
                .col(string_len(C::RestaurantId, 64))
                .col(string_len_null(C::UserId, 100))
                .col(string_len(C::Phone, 20))
                .col(string_len_null(C::Email, 254))
                .col(string_len(C::Name, 200))
                .col(date_null(C::DateOfBirth))
                .col(date_null(C::Anniversary))
                .col(string_len(C::Tier, 16))
                .col(big_integer(C::PointsCurrent).default(0).check(Expr::col(C::PointsCurrent).gte(0)))
                .col(big_integer(C::PointsLifetime).default(0))
                .col(big_integer(C::PointsRedeemed).default(0))
                .col(timestamp_with_time_zone(C::MemberSince))
                .col(big_integer(C::TotalVisits).default(0))
                .col(timestamp_with_time_zone_null(C::FirstVisitAt))
                .col(timestamp_with_time_zone_null(C::LastVisitAt))
                .col(big_integer(C::TotalSpentCents).default(0))
                .col(json_binary(C::DietaryRestrictions))
                .col(json_binary(C::Allergies))
                .col(string_len_null(C::SpiceLevel, 16))
                .col(string_len_null(C::PreferredSeating, 16))
                .col(boolean(C::EmailOptIn).default(false))
                .col(boolean(C::SmsOptIn).default(false))
                .col(boolean(C::PushOptIn).default(false))
                .col(boolean(C::SpecialOffers).default(false))
                .col(boolean(C::BirthdayOffers).default(false))
                .col(boolean(C::AnniversaryOffers).default(false))
                .col(string_len(C::ReferralCode, 16))
                .col(big_integer_null(C::ReferredBy))
                .col(big_integer(C::ReferralsCount).default(0))
                .col(big_integer(C::ReferralRewards).default(0))
                .col(big_integer(C::RatingTotal).default(0))
                .col(big_integer(C::ReviewCount).default(0))
                .col(timestamp_with_time_zone_null(C::LastReviewAt))
                .col(string_len(C::Status, 16))
                .col(timestamp_with_time_zone(C::LastActivityAt))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .col(timestamp_with_time_zone(C::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_customers_referred_by")
                        .from(C::Table, C::ReferredBy)
                        .to(C::Table, C::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await
}

/// The customers table's indexes.
async fn customer_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Customers as C;
    let indexes = [
        ("ux_customers_restaurant_phone", vec![C::RestaurantId, C::Phone], true),
        ("ix_customers_restaurant_email", vec![C::RestaurantId, C::Email], false),
        ("ix_customers_restaurant_tier", vec![C::RestaurantId, C::Tier], false),
        ("ix_customers_restaurant_status", vec![C::RestaurantId, C::Status], false),
        ("ux_customers_referral_code", vec![C::ReferralCode], true),
        ("ix_customers_referred_by", vec![C::ReferredBy], false),
        ("ix_customers_restaurant_last_visit", vec![C::RestaurantId, C::LastVisitAt], false),
    ];
    for (name, cols, unique) in indexes {
        let mut index = Index::create().name(name).table(C::Table).to_owned();
        for col in cols {
            index.col(col);
        }
        if unique {
            index.unique();
        }
        manager.create_index(index).await?;
    }
    Ok(())
}

/// The labels (tags and segments) of customers.
async fn labels(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use CustomerLabels as L;
    use Customers as C;
    manager
        .create_table(
            Table::create()
                .table(L::Table)
                .col(big_integer(L::CustomerId))
                .col(string_len(L::Kind, 16))
                .col(string_len(L::Name, 60))
                .col(string_len(L::RestaurantId, 64))
                .primary_key(Index::create().col(L::CustomerId).col(L::Kind).col(L::Name))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_customer_labels_customer")
                        .from(L::Table, L::CustomerId)
                        .to(C::Table, C::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("ix_customer_labels_restaurant_kind_name")
                .table(L::Table)
                .col(L::RestaurantId)
                .col(L::Kind)
                .col(L::Name)
                .col(L::CustomerId)
                .to_owned(),
        )
        .await
}
