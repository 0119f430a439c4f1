//! Model fits take turns in a process: a fit asked for while another runs waits at most its
//! wait and is then refused with a clear reason, writing nothing.

mod support;

use std::time::Duration;

use entity::Scope;
use entity::entities::model_fit;
use entity::ops::predict::{self, Period, Turns};
use entity::ops::restaurants::{self, RestaurantPatch};
use entity::testing::restaurant_fixture;
use sea_orm::{EntityTrait, PaginatorTrait};

#[tokio::test]
async fn a_fit_waits_its_turn_and_is_refused_past_its_wait() {
    for fresh in support::databases("predict_turns").await {
        let db = &fresh.db;
        restaurants::create(db, "a", &restaurant_fixture(), RestaurantPatch::default()).await.unwrap();
        let scope = Scope::new("a", "test", entity::vault::Vault::detached());
        let turns = Turns::default();
        let held = turns.take().await.unwrap();
        let refused = predict::fit(db, &scope, Period::default(), entity::ops::now(), &turns.waiting(Duration::from_millis(50))).await.unwrap_err();
        assert!(matches!(refused, entity::DomainError::InvalidState { .. }), "{}: {refused:?}", fresh.name);
        assert!(refused.to_string().contains("another model fit is running"), "{refused}");
        assert_eq!(model_fit::Entity::find().count(db).await.unwrap(), 0, "a refused fit writes nothing");

        let waiting = {
            let (db, scope, turns) = (db.clone(), scope.clone(), turns.waiting(Duration::from_secs(30)));
            tokio::spawn(async move { predict::fit(&db, &scope, Period::default(), entity::ops::now(), &turns).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "the second fit waits while the turn is held");
        drop(held);
        let fit = waiting.await.unwrap().expect("it runs once the turn is free");
        assert_eq!((fit.status.as_str(), fit.members), ("failed", 0), "too few members: kept with its reason");
        assert!(turns.waiting(Duration::ZERO).take().await.is_ok(), "the turn is free again after the fit");
        fresh.close().await;
    }
}
