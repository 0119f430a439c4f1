//! `loyalty restaurants create | list | show | update`: restaurants and their settings.

use anyhow::Context as _;
use clap::Subcommand;
use entity::Scope;
use entity::entities::restaurant;
use entity::ops::restaurants::{self, RestaurantPatch};

use crate::config::Config;

#[derive(Subcommand)]
pub enum RestaurantsCommand {
    /// Create a restaurant with the configured defaults, changed by --set.
    Create {
        /// The restaurant's id (the slug its keys carry), e.g. harbour-bistro.
        id: String,
        /// A setting as FIELD=VALUE, named as in GraphQL's RestaurantInput (e.g.
        /// name="Harbour Bistro", timezone=Pacific/Auckland, pointsPerDollar=2,
        /// tierDiscounts.gold=12, schedule.birthday=08:30); repeatable.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// List every restaurant.
    List,
    /// Print a restaurant's settings as JSON (default: --restaurant).
    Show { id: Option<String> },
    /// Change settings of a restaurant (default: --restaurant) with --set FIELD=VALUE.
    Update {
        id: Option<String>,
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
    },
}

/// Runs the command.
pub async fn run(config: &Config, action: RestaurantsCommand) -> anyhow::Result<()> {
    let db = super::connect::data(config).await?;
    match action {
        RestaurantsCommand::Create { id, set } => {
            let r = restaurants::create(&db, &id, &config.restaurant_defaults(), patch_from(&set)?).await?;
            eprintln!("created restaurant {:?}", r.id);
            print_restaurant(&r)?;
        }
        RestaurantsCommand::List => {
            for r in restaurants::list(&db).await? {
                println!("{:<20} {:<24} {:<4} {}", r.id, r.timezone, r.currency, r.name);
            }
        }
        RestaurantsCommand::Show { id } => print_restaurant(&restaurants::get(&db, id.as_deref().unwrap_or(&config.restaurant)).await?)?,
        RestaurantsCommand::Update { id, set } => {
            let scope = Scope::new(id.unwrap_or_else(|| config.restaurant.clone()), "cli", entity::vault::Vault::detached());
            let r = restaurants::update(&db, &scope, patch_from(&set)?).await?;
            print_restaurant(&r)?;
        }
    }
    Ok(())
}

/// Builds a settings patch from `FIELD=VALUE` pairs (`a.b=v` for nested fields); values that
/// read as JSON numbers are numbers, everything else is text.
fn patch_from(pairs: &[String]) -> anyhow::Result<RestaurantPatch> {
    let mut doc = serde_json::Map::new();
    for pair in pairs {
        let (field, value) = pair.split_once('=').with_context(|| format!("{pair:?}: expected FIELD=VALUE"))?;
        let value = match value.parse::<i64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => serde_json::Value::from(value),
        };
        match field.split_once('.') {
            Some((outer, inner)) => {
                let entry = doc.entry(outer.to_string()).or_insert_with(|| serde_json::json!({}));
                entry.as_object_mut().with_context(|| format!("{outer} is not a group of settings"))?.insert(inner.to_string(), value);
            }
            None => {
                doc.insert(field.to_string(), value);
            }
        }
    }
    serde_json::from_value(serde_json::Value::Object(doc)).context("unknown setting (see `loyalty restaurants create --help`)")
}

fn print_restaurant(r: &restaurant::Model) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(r)?);
    Ok(())
}
