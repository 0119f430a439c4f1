//! The spec's order integration and staff notes (endpoint 9).

use serde_json::json;

use crate::{assert_ledger_matches, both, create_customer, customer};

const ORDER: &str = "mutation($input: OrderInput!) { recordOrder(input: $input) {
    orderId pointsEarned currentPoints lifetimePoints tier replayed
    customer { visitStats { totalVisits totalSpent } preferences { favoriteItems { items { itemId name orderCount } } } } } }";

both!(orders_earn_points_visits_and_favourites_once, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let input = json!({ "phone": "415-555-0101", "orderId": "12345", "amount": 45.99,
        "items": [{ "itemId": "pizza", "name": "Margherita", "quantity": 2 }, { "itemId": "soda" }] });
    let out = app.data(ORDER, json!({ "input": input })).await["recordOrder"].clone();
    assert_eq!(out["pointsEarned"], 45, "1 point per whole dollar");
    assert_eq!(out["currentPoints"], 45);
    assert_eq!(out["replayed"], false);
    assert_eq!(out["customer"]["visitStats"], json!({ "totalVisits": 1, "totalSpent": 45.99 }));

    let retry = app.data(ORDER, json!({ "input": input })).await["recordOrder"].clone();
    assert_eq!(retry["replayed"], true);
    assert_eq!(retry["currentPoints"], 45);
    assert_eq!(retry["customer"]["visitStats"]["totalVisits"], 1, "the same order counts once");

    let second = json!({ "phone": "+14155550101", "orderId": "12346", "amount": "960.00", "items": [{ "itemId": "pizza", "name": "Margherita" }] });
    let out = app.data(ORDER, json!({ "input": second })).await["recordOrder"].clone();
    assert_eq!(out["lifetimePoints"], 1_005);
    assert_eq!(out["tier"], "SILVER");
    assert_eq!(
        out["customer"]["preferences"]["favoriteItems"]["items"],
        json!([{ "itemId": "pizza", "name": "Margherita", "orderCount": 3 }, { "itemId": "soda", "name": null, "orderCount": 1 }])
    );
    let c = customer(&app, &id).await;
    assert_eq!(c["visitStats"]["totalVisits"], 2);
    assert_ledger_matches(&app).await;
});

both!(bad_orders_are_refused_and_change_nothing, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let (code, _, _) = app.error(ORDER, json!({ "input": { "phone": "+14155550199", "orderId": "1", "amount": 5 } })).await;
    assert_eq!(code, "NOT_FOUND", "no member with that phone");
    for (input, field) in [
        (json!({ "phone": "+14155550101", "orderId": " ", "amount": 5 }), "orderId"),
        (json!({ "phone": "+14155550101", "orderId": "2", "amount": 5, "items": [{ "itemId": "x", "quantity": 0 }] }), "items.quantity"),
        (json!({ "phone": "bad", "orderId": "3", "amount": 5 }), "phone"),
    ] {
        let (code, _, err) = app.error(ORDER, json!({ "input": input })).await;
        assert_eq!(code, "VALIDATION");
        assert_eq!(err["extensions"]["field"], field);
    }
    let c = customer(&app, &id).await;
    assert_eq!(c["visitStats"]["totalVisits"], 0);
    assert_eq!(c["loyaltyPoints"]["current"], 0);
});

both!(notes_are_kept_newest_first, |app| async move {
    let id = create_customer(&app, "+14155550101", "Ann").await;
    let add = "mutation($id: ID!, $note: String!) { addNote(customerId: $id, note: $note) { id note addedBy addedAt } }";
    let first = app.data(add, json!({ "id": id, "note": "Prefers window seating. Allergic to peanuts." })).await;
    assert_eq!(first["addNote"]["addedBy"], "key:1:first admin key", "signed by the calling key");
    app.data(add, json!({ "id": id, "note": "  Birthday in May  " })).await;
    let notes = app.data("query($id: ID!) { customer(id: $id) { notes { items { note } } } }", json!({ "id": id })).await;
    assert_eq!(notes["customer"]["notes"]["items"], json!([{ "note": "Birthday in May" }, { "note": "Prefers window seating. Allergic to peanuts." }]));
    let (code, _, _) = app.error(add, json!({ "id": id, "note": "   " })).await;
    assert_eq!(code, "VALIDATION");
    let (code, _, _) = app.error(add, json!({ "id": id, "note": "x".repeat(2_001) })).await;
    assert_eq!(code, "VALIDATION");
    let (code, _, _) = app.error(add, json!({ "id": "999", "note": "hi" })).await;
    assert_eq!(code, "NOT_FOUND");
});
