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

/// The birthday email's HTML as it was written before the one layout took over its offer.
const BIRTHDAY_HTML_BEFORE: &str = r#"<p>Happy birthday, {{ first_name }}!</p>
<p>Everyone at {{ restaurant }} wishes you a wonderful day.</p>
{% if voucher_code %}
<p>Your birthday gift as a <strong>{{ tier }}</strong> member:</p>
<p>Show this code when you pay: <strong style="font-size: 20px; letter-spacing: 2px;">{{ voucher_code }}</strong><br>{{ voucher_percent }}% off, valid until {{ voucher_expires }}.</p>
{% endif %}
<p>See you soon!</p>
"#;

#[tokio::test]
async fn unedited_builtin_wording_follows_the_default_and_edited_wording_stays() {
    for fresh in support::databases("wording").await {
        let db = &fresh.db;
        restaurants::create(db, "a", &restaurant_fixture(), RestaurantPatch::default()).await.unwrap();
        let a = Scope::new("a", "test", Vault::detached());
        assert_eq!(builtins::refresh_wording(db).await.unwrap(), 0, "{}: today's wording stays", fresh.name);
        let row =
            |c: Campaign| campaign::Entity::update_many().filter(campaign::Column::RestaurantId.eq("a")).filter(campaign::Column::Kind.eq(c.kind().stored));
        use sea_orm::sea_query::Expr;
        row(Campaign::Birthday).col_expr(campaign::Column::BodyHtml, Expr::value(BIRTHDAY_HTML_BEFORE)).exec(db).await.unwrap();
        row(Campaign::Birthday).col_expr(campaign::Column::Subject, Expr::value("Our own subject, {{ first_name }}")).exec(db).await.unwrap();
        row(Campaign::WinBack).col_expr(campaign::Column::BodyHtml, Expr::value("<p>Edited by the marketer</p>")).exec(db).await.unwrap();

        assert_eq!(builtins::refresh_wording(db).await.unwrap(), 1, "{}: the one row with a former default", fresh.name);
        let all = builtins::all(db, &a).await.unwrap();
        let birthday = &all[&Campaign::Birthday];
        assert_eq!(birthday.body_html, Campaign::Birthday.kind().wording.html, "{}: the former default became today's", fresh.name);
        assert_eq!(birthday.subject, "Our own subject, {{ first_name }}", "{}: an edited part stays", fresh.name);
        assert_eq!(all[&Campaign::WinBack].body_html, "<p>Edited by the marketer</p>", "{}: an edited row stays", fresh.name);
        assert_eq!(builtins::refresh_wording(db).await.unwrap(), 0, "{}: once", fresh.name);
        fresh.close().await;
    }
}
