//! The HTTP surface: GraphiQL, health, and GraphQL-level errors.

use serde_json::json;

use crate::both;

both!(serves_graphiql_health_and_coded_errors, |app| async move {
    for path in ["/", "/graphql"] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.to_lowercase().contains("graphiql"), "{path} serves GraphiQL");
    }
    assert_eq!(app.get("/healthz").await, (200, "ok".to_string()));
    for bad in ["{ customers { nope } }", "{ customers(", "mutation { addPoints(customerId: 1) { currentPoints } }"] {
        let (code, message, err) = app.error(bad, json!({})).await;
        assert_eq!(code, "VALIDATION", "{bad}: {message}");
        assert!(err["extensions"]["requestId"].is_string());
    }
    let tiers = app.data("{ loyaltyTiers { tier minLifetimePoints discountPercent } pointsPerRedeemedDollar }", json!({})).await;
    assert_eq!(tiers["loyaltyTiers"][1], json!({ "tier": "SILVER", "minLifetimePoints": 1000, "discountPercent": 5 }));
    assert_eq!(tiers["pointsPerRedeemedDollar"], 100);
});
