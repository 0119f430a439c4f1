//! The staff digest: each morning, per restaurant, today's and tomorrow's occasions (birthdays,
//! anniversaries, custom occasions) with each guest's tier, favourites, allergies, dietary needs
//! and latest note — the pre-shift brief. Read only; the jobs crate sends it.

use chrono::NaiveDate;
use serde::Serialize;

use super::customers::batch;
use super::occasions::{self, OccasionKind};
use crate::rules::tier;
use crate::{DomainResult, Scope};

/// Most guests one digest lists.
pub const MAX_GUESTS: u64 = 200;

/// One guest with an occasion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guest {
    pub name: String,
    /// `Birthday`, `Anniversary` or the custom occasion's name.
    pub occasion: String,
    pub date: NaiveDate,
    /// Age or years, when known.
    pub years: Option<i32>,
    pub tier: String,
    pub phone: String,
    pub allergies: Vec<String>,
    pub dietary: Vec<String>,
    /// The three items ordered most.
    pub favourites: Vec<String>,
    pub latest_note: Option<String>,
}

/// Today's and tomorrow's guests of the scope's restaurant, by date then name.
pub async fn brief(db: &impl sea_orm::ConnectionTrait, scope: &Scope, today: NaiveDate) -> DomainResult<Vec<Guest>> {
    let upcoming = occasions::upcoming(db, scope, Some(today), 2, MAX_GUESTS, &super::customers::Projection::All, true).await?;
    let ids: Vec<i64> = upcoming.iter().map(|u| u.customer.id).collect();
    let favourites = batch::favorites_for(db, scope, &ids).await?;
    let notes = super::notes::for_customers(db, scope, &ids).await?;
    Ok(upcoming
        .into_iter()
        .map(|u| {
            let c = &u.customer;
            let mut favs = favourites.get(&c.id).cloned().unwrap_or_default();
            favs.sort_by(|a, b| b.order_count.cmp(&a.order_count).then(a.item_id.cmp(&b.item_id)));
            Guest {
                occasion: match u.kind {
                    OccasionKind::Birthday => "Birthday".into(),
                    OccasionKind::Anniversary => "Anniversary".into(),
                    OccasionKind::Custom => u.name.clone(),
                },
                name: c.name.clone(),
                date: u.date,
                years: u.years,
                tier: tier::display_name(c.tier).into(),
                phone: u.personal.phone.clone(),
                allergies: u.personal.allergies.clone(),
                dietary: u.personal.dietary_restrictions.clone(),
                favourites: favs.into_iter().take(3).map(|f| f.name.unwrap_or(f.item_id)).collect(),
                latest_note: notes.iter().find(|n| n.customer_id == c.id).map(|n| n.note.clone()),
            }
        })
        .collect())
}
