//! A realistic demo restaurant, so a newcomer sees data in GraphiQL at once. Loading it twice
//! changes nothing: customers are upserted by phone and orders are idempotent by order id.

use chrono::NaiveDate;
use entity::ops::customers::{self, CustomerInput, MarketingInput, Patch};
use entity::ops::{ledger, notes, orders};
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

/// Loads the demo customers, orders, redemptions and notes; returns how many customers.
pub async fn load(db: &DatabaseConnection, config: &Config) -> Result<usize, DomainError> {
    let scope = Scope::new(config.restaurant.clone(), "demo-data");
    entity::ops::restaurants::ensure(db, &config.restaurant, &config.restaurant_defaults()).await?;
    let policy = config.policy();
    let mut first_code: Option<String> = None;
    let count = FIRST.len() * 2;
    for i in 0..count {
        let name = format!("{} {}", FIRST[i % FIRST.len()], LAST[i % LAST.len()]);
        let phone = format!("+1415555{:04}", 100 + i);
        let opted_in = i % 3 != 0;
        let input = CustomerInput {
            phone: phone.clone(),
            name: Some(name.clone()),
            email: Patch::Set(format!("{}.{}@example.com", FIRST[i % FIRST.len()], LAST[i % LAST.len()]).to_lowercase()),
            date_of_birth: Patch::Set(NaiveDate::from_ymd_opt(1970 + (i as i32 * 7) % 35, 1 + (i as u32 * 5) % 12, 1 + (i as u32 * 11) % 28).unwrap_or_default()),
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
            Err(DomainError::Validation { field, .. }) if field == "referralCode" => {
                customers::find_by_phone(db, &scope, &policy, &phone).await?
            }
            Err(e) => return Err(e),
        };
        if i == 0 {
            first_code = Some(created.referral_code.clone());
        }
        for order in 0..(i % 9 + 1) {
            let items: Vec<orders::OrderItem> = (0..3)
                .map(|k| {
                    let (id, name, _) = MENU[(i + order + k * 3) % MENU.len()];
                    orders::OrderItem { item_id: id.into(), name: Some(name.into()), quantity: 1 + (k as i64 % 2) }
                })
                .collect();
            let amount = items.iter().map(|it| MENU.iter().find(|m| m.0 == it.item_id).map_or(0, |m| m.2) * it.quantity).sum::<i64>()
                * (1 + (i as i64 % 4));
            let input = orders::OrderInput { phone: phone.clone(), order_id: format!("demo-{i}-{order}"), amount_cents: amount, items };
            orders::record_order(db, &scope, &policy, input).await?;
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
    Ok(count)
}
