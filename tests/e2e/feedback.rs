//! Customer feedback: reviews and the rating summary that follows them.

use serde_json::json;

use crate::{both, create_customer};

const RECORD: &str = "mutation($id: ID!, $r: Int!, $c: String, $v: ID, $k: String) {
    recordFeedback(customerId: $id, rating: $r, comment: $c, visitId: $v, idempotencyKey: $k) {
        replayed review { rating comment visitId recordedBy }
        customer { feedback { averageRating totalReviews lastReviewDate } } } }";

both!(reviews_update_the_summary_once_and_bad_ones_change_nothing, |app| async move {
    let ann = create_customer(&app, "+14155550401", "Ann Lee").await;
    let bob = create_customer(&app, "+14155550402", "Bob Stone").await;
    let visit =
        app.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 40) { visitId } }", json!({ "id": ann })).await["recordVisit"]["visitId"]
            .clone();

    let first = app.data(RECORD, json!({ "id": ann, "r": 5, "c": "  Lovely risotto ", "v": visit })).await["recordFeedback"].clone();
    assert_eq!(first["review"]["rating"], 5);
    assert_eq!(first["review"]["comment"], "Lovely risotto");
    assert_eq!(first["review"]["visitId"], visit);
    assert_eq!(first["customer"]["feedback"]["averageRating"], 5.0);
    assert_eq!(first["customer"]["feedback"]["totalReviews"], 1);
    assert!(first["customer"]["feedback"]["lastReviewDate"].is_string());

    let vars = json!({ "id": ann, "r": 2, "c": "Slow service", "k": "app-review-77" });
    let second = app.data(RECORD, vars.clone()).await["recordFeedback"].clone();
    let retry = app.data(RECORD, vars).await["recordFeedback"].clone();
    assert_eq!((second["replayed"].as_bool(), retry["replayed"].as_bool()), (Some(false), Some(true)));
    assert_eq!(retry["customer"]["feedback"]["totalReviews"], 2, "a retried submission counts once");
    assert_eq!(retry["customer"]["feedback"]["averageRating"], 3.5);

    let long = "x".repeat(2_001);
    for (vars, code, field) in [
        (json!({ "id": ann, "r": 0 }), "VALIDATION", Some("rating")),
        (json!({ "id": ann, "r": 6 }), "VALIDATION", Some("rating")),
        (json!({ "id": ann, "r": 4, "c": long }), "VALIDATION", Some("comment")),
        (json!({ "id": ann, "r": 4, "v": "not-a-number" }), "VALIDATION", Some("visitId")),
        (json!({ "id": bob, "r": 4, "v": visit }), "NOT_FOUND", None),
        (json!({ "id": "999999", "r": 4 }), "NOT_FOUND", None),
    ] {
        let (got, message, err) = app.error(RECORD, vars).await;
        assert_eq!(got, code, "{message}");
        if let Some(field) = field {
            assert_eq!(err["extensions"]["field"], field);
        }
    }
    let after = app
        .data("query($id: ID!) { customer(id: $id) { feedback { totalReviews averageRating } reviews { items { rating comment } } } }", json!({ "id": ann }))
        .await;
    assert_eq!(after["customer"]["feedback"], json!({ "totalReviews": 2, "averageRating": 3.5 }), "refused reviews changed nothing");
    assert_eq!(after["customer"]["reviews"]["items"], json!([{ "rating": 2, "comment": "Slow service" }, { "rating": 5, "comment": "Lovely risotto" }]));
    let bob_now = app.data("query($id: ID!) { customer(id: $id) { feedback { totalReviews } reviews { items { rating } } } }", json!({ "id": bob })).await;
    assert_eq!(bob_now["customer"], json!({ "feedback": { "totalReviews": 0 }, "reviews": { "items": [] } }));

    app.data("mutation($id: ID!) { eraseCustomer(id: $id) { id } }", json!({ "id": ann })).await;
    let erased =
        app.data("query($id: ID!) { customer(id: $id) { feedback { totalReviews } reviews { items { rating comment } } } }", json!({ "id": ann })).await;
    assert_eq!(
        erased["customer"],
        json!({ "feedback": { "totalReviews": 2 }, "reviews": { "items": [{ "rating": 2, "comment": null }, { "rating": 5, "comment": null }] } }),
        "erasure removes what the customer wrote; the ratings stay in the figures"
    );
});
