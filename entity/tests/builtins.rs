//! The built-in campaign rows come with their restaurant: reading them writes nothing, a
//! restaurant from before gets the ones it lacks at start, and no restaurant sees another's.

mod support;

use entity::Scope;
use entity::entities::{CampaignState, campaign};
use entity::marketing::builtins;
use entity::marketing::kinds::{Campaign, KINDS};
use entity::ops::restaurants::{self, RestaurantPatch};
use entity::testing::restaurant_fixture;
use entity::vault::Vault;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

#[tokio::test]
async fn a_restaurant_comes_with_its_builtin_campaigns_and_reading_them_writes_nothing() {
    for fresh in support::databases("builtins").await {
        let db = &fresh.db;
        let defaults = restaurant_fixture();
        restaurants::create(db, "a", &defaults, RestaurantPatch::default()).await.unwrap();
        assert!(restaurants::ensure(db, "b", &defaults).await.unwrap());
        let (a, b) = (Scope::new("a", "test", Vault::detached()), Scope::new("b", "test", Vault::detached()));
        let rows = campaign::Entity::find().count(db).await.unwrap();
        assert_eq!(rows, 2 * KINDS.len() as u64, "{}", fresh.name);

        let all = builtins::all(db, &a).await.unwrap();
        assert_eq!(all.len(), KINDS.len());
        assert!(all.values().all(|c| c.restaurant_id == "a"), "{}: only its own rows", fresh.name);
        assert_eq!(all[&Campaign::Birthday].state, CampaignState::BuiltIn);
        assert_eq!(all[&Campaign::Welcome].state, CampaignState::Paused, "automations start switched off");
        assert_eq!(builtins::one(db, &b, Campaign::WinBack).await.unwrap().restaurant_id, "b");
        assert_eq!(builtins::install_everywhere(db).await.unwrap(), 0, "{}: nothing to write", fresh.name);
        assert_eq!(campaign::Entity::find().count(db).await.unwrap(), rows, "{}: reading wrote nothing", fresh.name);

        campaign::Entity::delete_many()
            .filter(campaign::Column::RestaurantId.eq("b"))
            .filter(campaign::Column::Kind.eq(Campaign::TierUp.kind().stored))
            .exec(db)
            .await
            .unwrap();
        assert!(builtins::all(db, &b).await.is_err(), "a missing row is an error, not written by a read");
        assert_eq!(builtins::install_everywhere(db).await.unwrap(), 1, "{}: a restaurant from before gets what it lacks", fresh.name);
        assert_eq!(builtins::all(db, &b).await.unwrap().len(), KINDS.len());
        fresh.close().await;
    }
}
