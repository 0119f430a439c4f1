//! The email choices members make on the page every marketing email links to ("Manage
//! preferences", a signed link, no login): emails at all, special offers, birthday offers and
//! anniversary offers. Each change is audited like a staff change, with source
//! `preferences-page`; only the choices that changed are written.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait};
use serde_json::json;

use super::{audit, begin_write, now};
use crate::entities::{AuditAction, customer, email_delivery, restaurant};
use crate::vault::Vault;
use crate::{DomainResult, Scope};

/// A member's email choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    /// Marketing emails at all (`emailOptIn`).
    pub email: bool,
    /// Emails with an offer (`specialOffers`).
    pub special_offers: bool,
    /// Birthday offers (`birthdayOffers`).
    pub birthday_offers: bool,
    /// Anniversary offers (`anniversaryOffers`).
    pub anniversary_offers: bool,
}

impl Choices {
    /// The choices `c` has made.
    pub fn of(c: &customer::Model) -> Self {
        Self { email: c.email_opt_in, special_offers: c.special_offers, birthday_offers: c.birthday_offers, anniversary_offers: c.anniversary_offers }
    }

    /// Each choice with its GraphQL name and column.
    fn flags(self) -> [(&'static str, customer::Column, bool); 4] {
        [
            ("emailOptIn", customer::Column::EmailOptIn, self.email),
            ("specialOffers", customer::Column::SpecialOffers, self.special_offers),
            ("birthdayOffers", customer::Column::BirthdayOffers, self.birthday_offers),
            ("anniversaryOffers", customer::Column::AnniversaryOffers, self.anniversary_offers),
        ]
    }
}

/// What the page shows: whose restaurant, and the member's choices.
#[derive(Debug, Clone)]
pub struct Page {
    pub restaurant: restaurant::Model,
    pub choices: Choices,
}

/// The page of the member a signed link names; `None` if the member no longer exists.
pub async fn read(db: &impl ConnectionTrait, customer_id: i64) -> DomainResult<Option<Page>> {
    let Some(c) = customer::Entity::find_by_id(customer_id).one(db).await? else { return Ok(None) };
    Ok(Some(Page { restaurant: super::restaurants::get(db, &c.restaurant_id).await?, choices: Choices::of(&c) }))
}

/// Saves the member's choices, in the member's own restaurant: each change audited, only the
/// changed columns written. Turning email off from a delivery's link counts as that
/// campaign's unsubscribe.
pub async fn save<D: ConnectionTrait + TransactionTrait>(
    db: &D,
    vault: &Vault,
    customer_id: i64,
    delivery: Option<i64>,
    new: Choices,
) -> DomainResult<Option<Page>> {
    let txn = begin_write(db).await?;
    let Some(c) = customer::Entity::find_by_id(customer_id).one(&txn).await? else { return Ok(None) };
    let scope = Scope::new(c.restaurant_id.clone(), "customer", vault.clone());
    let old = Choices::of(&c);
    let mut update = customer::Entity::update_many().col_expr(customer::Column::UpdatedAt, Expr::value(now()));
    let mut changed = false;
    for ((flag, column, from), (_, _, to)) in old.flags().into_iter().zip(new.flags()) {
        if from != to {
            audit::record(&txn, &scope, AuditAction::ConsentChanged, Some(c.id), json!({ "flag": flag, "from": from, "to": to, "source": "preferences-page" }))
                .await?;
            update = update.col_expr(column, Expr::value(to));
            changed = true;
        }
    }
    if changed {
        update.filter(customer::Column::Id.eq(c.id)).filter(customer::Column::RestaurantId.eq(&scope.restaurant_id)).exec(&txn).await?;
    }
    if let Some(id) = delivery.filter(|_| old.email && !new.email) {
        email_delivery::Entity::update_many()
            .col_expr(email_delivery::Column::UnsubscribedAt, Expr::value(now()))
            .filter(email_delivery::Column::Id.eq(id))
            .filter(email_delivery::Column::CustomerId.eq(c.id))
            .exec(&txn)
            .await?;
    }
    let restaurant = super::restaurants::get(&txn, &scope.restaurant_id).await?;
    txn.commit().await?;
    Ok(Some(Page { restaurant, choices: new }))
}
