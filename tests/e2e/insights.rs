//! Spec endpoints 7 and 8: statistics against hand-computed figures, and upcoming occasions
//! across the year's turn and 29 February.

use chrono::{Datelike, Duration, Utc};
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::{add_points, both, create_customer, on_both};

both!(series_buckets_are_local_days_of_the_restaurant, |app| async move {
    app.data("mutation { updateRestaurant(input: { timezone: \"Pacific/Auckland\" }) { id } }", json!({})).await;
    let a = create_customer(&app, "+14155550101", "Ann").await;
    for _ in 0..3 {
        app.data(VISIT, json!({ "id": a, "a": 10 })).await;
    }
    // 23:30 on 1 March and 00:30 on 2 March in Auckland (NZDT, UTC+13) are both 1 March in UTC;
    // 2 March 23:59 local is 10:59 UTC on 2 March.
    let instants = ["2026-03-01T10:30:00Z", "2026-03-01T11:30:00Z", "2026-03-02T10:59:00Z"];
    let db = app.db().await;
    let ids: Vec<i64> = {
        use sea_orm::{ConnectionTrait, Statement};
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT id FROM visits ORDER BY id")).await.unwrap();
        rows.iter().map(|r| r.try_get::<i64>("", "id").unwrap()).collect()
    };
    db.close().await.ok();
    for (id, at) in ids.iter().zip(instants) {
        let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc);
        app.sql(&format!("UPDATE visits SET visited_at = {} WHERE id = {id}", app.instant_sql(at))).await;
    }
    let q = "{ loyaltyStats { insights(from: \"2026-03-01\", to: \"2026-03-02\") { visits series { period visits } } } }";
    let s = app.data(q, json!({})).await;
    assert_eq!(
        s["loyaltyStats"]["insights"],
        json!({ "visits": 3, "series": [{ "period": "2026-03-01", "visits": 1 }, { "period": "2026-03-02", "visits": 2 }] }),
        "days start at Auckland's midnight"
    );
});

const VISIT: &str = "mutation($id: ID!, $a: Money!) { recordVisit(customerId: $id, orderAmount: $a) { visitId } }";

both!(stats_match_hand_computed_figures, |app| async move {
    let a = create_customer(&app, "+14155550101", "Ann").await;
    let b = create_customer(&app, "+14155550102", "Bob").await;
    create_customer(&app, "+14155550103", "Cat").await;
    let d = create_customer(&app, "+14155550104", "Dan").await;
    add_points(&app, &a, 2_500).await;
    add_points(&app, &b, 500).await;
    add_points(&app, &d, 12_000).await;
    app.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 2000) { currentPoints } }", json!({ "id": d })).await;
    app.data(VISIT, json!({ "id": a, "a": 100 })).await;
    app.data(VISIT, json!({ "id": a, "a": 50 })).await;
    app.data(VISIT, json!({ "id": b, "a": "30.00" })).await;
    app.data("mutation { upsertCustomer(input: { phone: \"+14155550103\", status: BLOCKED }) { created } }", json!({})).await;
    app.sql(&format!("UPDATE customers SET first_visit_at = {} WHERE id = {b}", app.days_ago_sql(40))).await;

    let today = Utc::now().date_naive();
    let q = "query($from: Date!, $to: Date!) { loyaltyStats {
        tierDistribution { tier count avgLifetimePoints totalSpent }
        statusDistribution { status count }
        byPoints: topCustomers(limit: 3) { name }
        bySpend: topCustomers(by: TOTAL_SPENT, limit: 3) { name }
        summary { totalCustomers totalPointsIssued totalPointsRedeemed totalRevenue totalVisits avgOrderValue customerLifetimeValue }
        daily: insights(from: $from, to: $to) { visits revenue avgOrderValue newCustomers returningCustomers series { period visits revenue customers } }
        monthly: insights(from: $from, to: $to, interval: MONTH) { series { period visits } } } }";
    let s = app.data(q, json!({ "from": (today - Duration::days(1)).to_string(), "to": today.to_string() })).await["loyaltyStats"].clone();
    assert_eq!(
        s["tierDistribution"],
        json!([
            { "tier": "BRONZE", "count": 2, "avgLifetimePoints": 250.0, "totalSpent": 30.0 },
            { "tier": "GOLD", "count": 1, "avgLifetimePoints": 2500.0, "totalSpent": 150.0 },
            { "tier": "VIP", "count": 1, "avgLifetimePoints": 12000.0, "totalSpent": 0.0 }
        ])
    );
    let mut statuses = s["statusDistribution"].as_array().unwrap().clone();
    statuses.sort_by_key(|v| v["status"].as_str().unwrap().to_string());
    assert_eq!(statuses, vec![json!({ "status": "ACTIVE", "count": 3 }), json!({ "status": "BLOCKED", "count": 1 })]);
    assert_eq!(s["byPoints"], json!([{ "name": "Dan" }, { "name": "Ann" }, { "name": "Bob" }]));
    assert_eq!(s["bySpend"], json!([{ "name": "Ann" }, { "name": "Bob" }, { "name": "Cat" }]));
    assert_eq!(
        s["summary"],
        json!({ "totalCustomers": 4, "totalPointsIssued": 15000, "totalPointsRedeemed": 2000, "totalRevenue": 180.0,
                "totalVisits": 3, "avgOrderValue": 60.0, "customerLifetimeValue": 45.0 })
    );
    let daily = &s["daily"];
    assert_eq!((daily["visits"].as_i64(), daily["revenue"].as_f64(), daily["avgOrderValue"].as_f64()), (Some(3), Some(180.0), Some(60.0)));
    assert_eq!((daily["newCustomers"].as_i64(), daily["returningCustomers"].as_i64()), (Some(1), Some(1)));
    assert_eq!(daily["series"], json!([{ "period": today.to_string(), "visits": 3, "revenue": 180.0, "customers": 2 }]));
    let first_of_month = today.with_day(1).unwrap().to_string();
    assert_eq!(s["monthly"]["series"], json!([{ "period": first_of_month, "visits": 3 }]));

    let (code, _, _) = app.error("{ loyaltyStats { insights(from: \"2026-02-01\", to: \"2026-01-01\") { visits } } }", json!({})).await;
    assert_eq!(code, "VALIDATION");
    let (code, _, _) = app.error("{ loyaltyStats { topCustomers(limit: 0) { name } } }", json!({})).await;
    assert_eq!(code, "VALIDATION");
});

const UPCOMING: &str = "query($from: Date, $days: Int!) { upcomingOccasions(from: $from, days: $days) {
    type name date daysUntil years recurring customer { name } } }";

both!(upcoming_occasions_cross_the_year_and_leap_days, |app| async move {
    let set = "mutation($phone: String!, $name: String!, $dob: Date, $ann: Date) { upsertCustomer(input: { phone: $phone, name: $name, dateOfBirth: $dob, anniversary: $ann }) { customer { id } } }";
    let id = |v: serde_json::Value| v["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    let eve = id(app.data(set, json!({ "phone": "+14155550101", "name": "Eve", "dob": "1990-12-31" })).await);
    id(app.data(set, json!({ "phone": "+14155550102", "name": "Jan", "dob": "1985-01-03", "ann": "2010-01-07" })).await);
    id(app.data(set, json!({ "phone": "+14155550103", "name": "Leap", "dob": "2000-02-29" })).await);
    id(app.data(set, json!({ "phone": "+14155550104", "name": "Later", "dob": "1999-01-08" })).await);
    app.data(
        "mutation($id: ID!) { a: addSpecialOccasion(customerId: $id, name: \"First visit\", date: \"2020-01-01\") { id } b: addSpecialOccasion(customerId: $id, name: \"Wine dinner\", date: \"2027-01-05\", recurring: false) { id } }",
        json!({ "id": eve }),
    )
    .await;

    let turn = app.data(UPCOMING, json!({ "from": "2026-12-31", "days": 8 })).await["upcomingOccasions"].clone();
    assert_eq!(
        turn,
        json!([
            { "type": "BIRTHDAY", "name": "Birthday", "date": "2026-12-31", "daysUntil": 0, "years": 36, "recurring": true, "customer": { "name": "Eve" } },
            { "type": "CUSTOM", "name": "First visit", "date": "2027-01-01", "daysUntil": 1, "years": 7, "recurring": true, "customer": { "name": "Eve" } },
            { "type": "BIRTHDAY", "name": "Birthday", "date": "2027-01-03", "daysUntil": 3, "years": 42, "recurring": true, "customer": { "name": "Jan" } },
            { "type": "CUSTOM", "name": "Wine dinner", "date": "2027-01-05", "daysUntil": 5, "years": null, "recurring": false, "customer": { "name": "Eve" } },
            { "type": "ANNIVERSARY", "name": "Anniversary", "date": "2027-01-07", "daysUntil": 7, "years": 17, "recurring": true, "customer": { "name": "Jan" } }
        ])
    );
    // Without `years`, personal values are opened only for the customer fields that show them.
    let shown = app.data("{ upcomingOccasions(from: \"2026-12-31\", days: 8, limit: 1) { date customer { phone dateOfBirth loyaltyTier } } }", json!({})).await
        ["upcomingOccasions"]
        .clone();
    assert_eq!(shown, json!([{ "date": "2026-12-31", "customer": { "phone": "+14155550101", "dateOfBirth": "1990-12-31", "loyaltyTier": "BRONZE" } }]));
    let first_two =
        app.data("{ upcomingOccasions(from: \"2026-12-31\", days: 8, limit: 3) { name date customer { name } } }", json!({})).await["upcomingOccasions"]
            .clone();
    assert_eq!(
        first_two,
        json!([
            { "name": "Birthday", "date": "2026-12-31", "customer": { "name": "Eve" } },
            { "name": "First visit", "date": "2027-01-01", "customer": { "name": "Eve" } },
            { "name": "Birthday", "date": "2027-01-03", "customer": { "name": "Jan" } }
        ]),
        "the first `limit` by date"
    );
    let (code, _, err) = app.error("{ upcomingOccasions(limit: 0) { name } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("limit")));
    let non_leap = app.data(UPCOMING, json!({ "from": "2027-02-27", "days": 3 })).await["upcomingOccasions"].clone();
    assert_eq!(non_leap.as_array().unwrap().len(), 1);
    assert_eq!((non_leap[0]["date"].as_str(), non_leap[0]["years"].as_i64()), (Some("2027-02-28"), Some(27)), "29 Feb on the 28th");
    let leap = app.data(UPCOMING, json!({ "from": "2028-02-27", "days": 3 })).await["upcomingOccasions"].clone();
    assert_eq!(leap.as_array().unwrap().len(), 1);
    assert_eq!(leap[0]["date"], "2028-02-29", "on the day in leap years");
    let once = app.data(UPCOMING, json!({ "from": "2028-01-04", "days": 3 })).await["upcomingOccasions"].clone();
    assert!(once.as_array().unwrap().iter().all(|o| o["name"] != "Wine dinner"), "one-off occasions do not come back");

    let today = Utc::now().date_naive();
    let dob = format!("1990-{:02}-{:02}", today.month(), today.day().min(28));
    let ann = create_customer(&app, "+14155550105", "Today").await;
    app.data("mutation($id: ID!, $d: Date) { setCustomerDates(customerId: $id, dateOfBirth: $d) { dateOfBirth } }", json!({ "id": ann, "d": dob })).await;
    let default_window = app.data("{ upcomingOccasions { customer { name } daysUntil } }", json!({})).await;
    if today.day() <= 28 {
        assert!(default_window["upcomingOccasions"].as_array().unwrap().contains(&json!({ "customer": { "name": "Today" }, "daysUntil": 0 })));
    }
    let cleared = app.data("mutation($id: ID!) { setCustomerDates(customerId: $id, dateOfBirth: null) { dateOfBirth } }", json!({ "id": ann })).await;
    assert_eq!(cleared["setCustomerDates"]["dateOfBirth"], json!(null));

    for days in [0, 367] {
        let (code, _, err) = app.error(UPCOMING, json!({ "days": days })).await;
        assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("days")));
    }
});

both!(special_occasions_can_be_changed_and_removed, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let added = app
        .data(
            "mutation($id: ID!) { addSpecialOccasion(customerId: $id, name: \" Graduation \", date: \"2020-06-01\") { id name date recurring } }",
            json!({ "id": id }),
        )
        .await["addSpecialOccasion"]
        .clone();
    assert_eq!((added["name"].as_str(), added["recurring"].as_bool()), (Some("Graduation"), Some(true)));
    let occ = added["id"].as_str().unwrap();
    let changed = app
        .data("mutation($o: ID!) { updateSpecialOccasion(id: $o, date: \"2020-06-02\", recurring: false) { name date recurring } }", json!({ "o": occ }))
        .await;
    assert_eq!(changed["updateSpecialOccasion"], json!({ "name": "Graduation", "date": "2020-06-02", "recurring": false }));
    let listed = app.data("query($id: ID!) { customer(id: $id) { specialOccasions { items { name date } } } }", json!({ "id": id })).await;
    assert_eq!(listed["customer"]["specialOccasions"]["items"], json!([{ "name": "Graduation", "date": "2020-06-02" }]));
    let removed =
        app.data("mutation($o: ID!) { removeSpecialOccasion(id: $o) { removedId customer { specialOccasions { items { id } } } } }", json!({ "o": occ })).await;
    assert_eq!(removed["removeSpecialOccasion"]["removedId"], json!(occ));
    assert_eq!(removed["removeSpecialOccasion"]["customer"]["specialOccasions"]["items"], json!([]));
    let (code, _, _) = app.error("mutation($o: ID!) { removeSpecialOccasion(id: $o) { removedId } }", json!({ "o": occ })).await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _, _) =
        app.error("mutation($id: ID!) { addSpecialOccasion(customerId: $id, name: \"  \", date: \"2020-01-01\") { id } }", json!({ "id": id })).await;
    assert_eq!(code, "VALIDATION");
    let (code, _, _) = app.error("mutation { addSpecialOccasion(customerId: \"999\", name: \"x\", date: \"2020-01-01\") { id } }", json!({})).await;
    assert_eq!(code, "NOT_FOUND");
});

async fn programme_figures_are_reused_for_the_configured_seconds(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("LOYALTY_STATS_CACHE_SECS", "600")]).await;
    let q = "{ loyaltyStats { summary { totalCustomers } tierDistribution { tier count } statusDistribution { status count } } }";
    create_customer(&app, "+14155550301", "Ann Lee").await;
    let first = app.data(q, json!({})).await;
    assert_eq!(first["loyaltyStats"]["summary"]["totalCustomers"], 1);
    create_customer(&app, "+14155550302", "Bob Stone").await;
    assert_eq!(app.data(q, json!({})).await, first, "the figures are reused within LOYALTY_STATS_CACHE_SECS");
    let other = app.create_key("elsewhere", "viewer").await;
    let (_, theirs) = app.gql_as(Some(&other), q, json!({})).await;
    assert_eq!(theirs["data"]["loyaltyStats"]["summary"]["totalCustomers"], 0, "cached per restaurant, never shared");
}

on_both!(programme_figures_are_reused_for_the_configured_seconds);
