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

/// One guest on one day, with every occasion they celebrate that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guest {
    /// Who it is (one person may be listed on both days, never twice on one).
    #[serde(skip)]
    pub customer_id: i64,
    pub name: String,
    /// `Birthday`, `Anniversary` or the custom occasion's name; several joined with `and`.
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

/// How many people `guests` lists (a guest celebrating today and tomorrow is one person).
pub fn people(guests: &[Guest]) -> usize {
    let mut ids: Vec<i64> = guests.iter().map(|g| g.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// `guests` with the rows of one person on one day joined into one (their occasions, each with
/// its years, in one line), in the order first seen.
pub fn merge(guests: Vec<Guest>) -> Vec<Guest> {
    let label = |g: &Guest| match g.years {
        Some(y) => format!("{} ({y})", g.occasion),
        None => g.occasion.clone(),
    };
    let mut out: Vec<Guest> = Vec::with_capacity(guests.len());
    for g in guests {
        match out.iter_mut().find(|o| o.customer_id == g.customer_id && o.date == g.date) {
            Some(o) => {
                o.occasion = format!("{} and {}", label(o), label(&g));
                o.years = None;
            }
            None => out.push(g),
        }
    }
    out
}

/// Today's and tomorrow's guests of the scope's restaurant, by date then name; one row per
/// person and day.
pub async fn brief(db: &impl sea_orm::ConnectionTrait, scope: &Scope, today: NaiveDate) -> DomainResult<Vec<Guest>> {
    let upcoming = occasions::upcoming(db, scope, Some(today), 2, MAX_GUESTS, &super::customers::Projection::All, true).await?;
    let ids: Vec<i64> = upcoming.iter().map(|u| u.customer.id).collect();
    let favourites = batch::favorites_for(db, scope, &ids).await?;
    let notes = super::notes::for_customers(db, scope, &ids).await?;
    Ok(merge(
        upcoming
            .into_iter()
            .map(|u| {
                let c = &u.customer;
                let mut favs = favourites.get(&c.id).cloned().unwrap_or_default();
                favs.sort_by(|a, b| b.order_count.cmp(&a.order_count).then(a.item_id.cmp(&b.item_id)));
                Guest {
                    customer_id: c.id,
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
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest(id: i64, occasion: &str, day: u32, years: Option<i32>) -> Guest {
        Guest {
            customer_id: id,
            name: format!("Guest {id}"),
            occasion: occasion.into(),
            date: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            years,
            tier: "Gold".into(),
            phone: String::new(),
            allergies: Vec::new(),
            dietary: Vec::new(),
            favourites: Vec::new(),
            latest_note: None,
        }
    }

    #[test]
    fn one_person_is_one_row_a_day_and_counted_once() {
        let rows = vec![guest(1, "Birthday", 7, Some(30)), guest(2, "Birthday", 7, None), guest(1, "Anniversary", 7, Some(5)), guest(1, "Graduation", 8, None)];
        let merged = merge(rows);
        assert_eq!(merged.len(), 3, "{merged:?}");
        assert_eq!((merged[0].occasion.as_str(), merged[0].years), ("Birthday (30) and Anniversary (5)", None));
        assert_eq!(people(&merged), 2, "three people were counted as four: one guest listed on two days is one person");
    }
}
