//! A realistic demo restaurant, so a newcomer sees data in GraphiQL at once: 24 members with
//! eight months of orders, every tier, regulars, at-risk and dormant members, birthdays this
//! week, consented and unconsented emails, redemptions, notes and referrals. Loading it twice
//! changes nothing: customers are upserted by phone, orders and bonuses are idempotent, and only
//! orders recorded now are placed in the past.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::ops::customers::{self, CustomerInput, MarketingInput, Patch};
use entity::ops::{dormancy, ledger, notes, orders, restaurants, visits};
use entity::{DomainError, Scope};
use sea_orm::DatabaseConnection;

use crate::config::Config;

const FIRST: [&str; 12] = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Priya", "Lucas", "Sofia", "Omar", "Hana", "Diego"];
const LAST: [&str; 4] = ["Nguyen", "Garcia", "Smith", "Okafor"];
const MENU: [(&str, &str, i64); 8] = [
    ("margherita", "Margherita Pizza", 14_50),
    ("burger", "House Burger", 16_00),
    ("pad-thai", "Pad Thai", 15_25),
    ("caesar", "Caesar Salad", 11_00),
    ("ramen", "Tonkotsu Ramen", 17_75),
    ("tiramisu", "Tiramisu", 8_50),
    ("lemonade", "Fresh Lemonade", 4_50),
    ("steak", "Ribeye Steak", 42_00),
];

/// The demo restaurant, with a placeholder postal address (marketing emails need one) until an
/// admin sets the real one.
async fn demo_restaurant(db: &DatabaseConnection, scope: &Scope, config: &Config) -> Result<(), DomainError> {
    restaurants::ensure(db, &config.restaurant, &config.restaurant_defaults()).await?;
    if restaurants::get(db, &config.restaurant).await?.postal_address.is_none() {
        let patch = restaurants::RestaurantPatch { postal_address: Some("100 Demo Street\nSpringfield 12345".into()), ..Default::default() };
        restaurants::update(db, scope, patch).await?;
    }
    Ok(())
}

/// Loads the demo customers, orders, redemptions and notes; returns how many customers.
pub async fn load(db: &DatabaseConnection, vault: &entity::vault::Vault, config: &Config) -> Result<usize, DomainError> {
    let scope = Scope::new(config.restaurant.clone(), "demo-data", vault.clone());
    demo_restaurant(db, &scope, config).await?;
    let policy = config.policy();
    let mut first_code: Option<String> = None;
    let count = FIRST.len() * 2;
    for i in 0..count {
        // Every member its own name (and so email): the second dozen shifts the surnames.
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i + i / FIRST.len()) % LAST.len()]);
        let name = format!("{first} {last}");
        let phone = format!("+1415555{:04}", 100 + i);
        let opted_in = i % 3 != 0;
        let input = CustomerInput {
            phone: phone.clone(),
            name: Some(name.clone()),
            email: Patch::Set(format!("{first}.{last}@example.com").to_lowercase()),
            date_of_birth: Patch::Set(date_of_birth(i)),
            anniversary: if i % 4 == 0 { Patch::Set(NaiveDate::from_ymd_opt(2012, 6, 20).unwrap_or_default()) } else { Patch::Keep },
            dietary_restrictions: Some(match i % 5 {
                0 => vec!["vegetarian".into()],
                1 => vec!["vegan".into(), "gluten-free".into()],
                _ => vec![],
            }),
            allergies: Some(if i % 6 == 0 { vec!["peanuts".into()] } else { vec![] }),
            marketing: MarketingInput {
                email_opt_in: Some(opted_in),
                sms_opt_in: Some(i % 2 == 0),
                special_offers: Some(opted_in),
                birthday_offers: Some(opted_in),
                anniversary_offers: Some(opted_in),
                ..MarketingInput::default()
            },
            segments: Some(if i % 7 == 0 { vec!["wine-club".into()] } else { vec![] }),
            referral_code: if i > 0 && i % 5 == 0 { first_code.clone() } else { None },
            ..CustomerInput::default()
        };
        let created = match customers::upsert(db, &scope, &policy, input).await {
            Ok(out) => out.customer,
            Err(DomainError::Validation { field, .. }) if field == "referralCode" => customers::find_by_phone(db, &scope, &policy, &phone).await?,
            Err(e) => return Err(e),
        };
        if i == 0 {
            first_code = Some(created.referral_code.clone());
        }
        // Member i's orders go back from `recent` days ago, one every `gap` days: some come
        // weekly, some are at risk (45-90 days), some dormant (over 90).
        let recent = (i as i64 * 13) % 150;
        let gap = 7 + (i as i64 % 4) * 6;
        for order in 0..(i % 9 + 1) {
            let items: Vec<orders::OrderItem> = (0..3)
                .map(|k| {
                    let (id, name, _) = MENU[(i + order + k * 3) % MENU.len()];
                    orders::OrderItem { item_id: id.into(), name: Some(name.into()), quantity: 1 + (k as i64 % 2), price_cents: None }
                })
                .collect();
            let amount = items.iter().map(|it| MENU.iter().find(|m| m.0 == it.item_id).map_or(0, |m| m.2) * it.quantity).sum::<i64>() * (1 + (i as i64 % 4));
            let order_id = format!("demo-{i}-{order}");
            let input = orders::OrderInput { phone: Some(phone.clone()), order_id: order_id.clone(), amount_cents: amount, items, ..Default::default() };
            if !orders::record_order(db, &scope, &policy, input).await?.replayed {
                let days = recent + (i % 9 - order) as i64 * gap;
                visits::backdate_order(db, &scope, &order_id, entity::ops::now() - Duration::days(days) - Duration::hours(i as i64 % 5)).await?;
            }
        }
        // Every tier is represented: bonus points by member.
        let bonus = [0, 1_000, 2_500, 5_000, 10_000][i % 5];
        if bonus > 0 {
            ledger::add_points(db, &scope, created.id, bonus, Some("Welcome bonus (demo)"), Some(&format!("demo-bonus-{i}"))).await?;
        }
        if i % 4 == 1 {
            let key = format!("demo-redeem-{i}");
            match ledger::redeem_points(db, &scope, created.id, 50, Some("Free dessert"), Some(&key)).await {
                Ok(_) | Err(DomainError::InsufficientPoints { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if i % 6 == 2 && notes::for_customers(db, &scope, &[created.id]).await?.is_empty() {
            notes::add_note(db, &scope, created.id, "Prefers window seating. Celebrates with dessert.").await?;
        }
    }
    // Dormant and at-risk labels for the orders just placed in the past.
    let programme = restaurants::programme(db, &scope).await?;
    dormancy::run(db, &scope, &programme, entity::ops::now(), false).await?;
    Ok(count)
}

/// Members 0-4 have their birthday this week (today and the next four days); the others are
/// spread over the year.
fn date_of_birth(i: usize) -> NaiveDate {
    let fallback = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
    if i < 5 {
        let day = Utc::now().date_naive() + Duration::days(i as i64);
        let year = 1984 + i as i32 * 3;
        return NaiveDate::from_ymd_opt(year, day.month(), day.day()).or_else(|| NaiveDate::from_ymd_opt(year, 2, 28)).unwrap_or(fallback);
    }
    NaiveDate::from_ymd_opt(1970 + (i as i32 * 7) % 35, 1 + (i as u32 * 5) % 12, 1 + (i as u32 * 11) % 28).unwrap_or(fallback)
}
