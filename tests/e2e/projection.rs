//! Reads fetch only the columns the selection needs, and that never changes an answer: every
//! field of a customer, asked for alone in the list, in a lookup and through the nested
//! loaders (referrer, referrals), equals the same field of a full read; a selection mixing
//! fields, fragments and aliases is answered in full.

use serde_json::{Value, json};

use crate::{both, create_customer};

/// Every field of `Customer` with a selection of its sub-fields (nested lists of other types
/// are covered by their own tests; here their presence is what counts).
const FIELDS: &[&str] = &[
    "id",
    "userId",
    "phone",
    "email",
    "name",
    "dateOfBirth",
    "anniversary",
    "loyaltyTier",
    "loyaltyPoints { current lifetime redeemed toNextTier expiring { points on } }",
    "memberSince",
    "visitStats { totalVisits firstVisit lastVisit totalSpent averageOrderValue averageVisitsPerMonth }",
    "preferences { dietaryRestrictions allergies spiceLevel preferredSeating favoriteItems { items { itemId orderCount } } }",
    "marketing { emailOptIn smsOptIn pushNotifications specialOffers birthdayOffers anniversaryOffers }",
    "tags",
    "segments",
    "referral { referralCode referralsCount referralRewards referredBy { id name } referrals { items { id } } }",
    "specialOccasions { items { name } }",
    "feedback { averageRating totalReviews lastReviewDate }",
    "status",
    "erased",
    "reviews { items { rating } pageInfo { hasNextPage } }",
    "notes { items { note } }",
    "lastActivity",
    "pointsHistory(first: 3) { items { points kind } pageInfo { hasNextPage endCursor } }",
    "visits(first: 3) { items { amount } }",
    "vouchers { items { code } }",
    "redeemableRewards { name }",
    "createdAt",
    "updatedAt",
];

fn name_of(field: &str) -> &str {
    field.split([' ', '(']).next().unwrap()
}

both!(each_field_read_alone_equals_the_full_read, |app| async move {
    let ann = create_customer(&app, "+14155550701", "Ann Projection").await;
    let bob = create_customer(&app, "+14155550702", "Bob Referred").await;
    let code = crate::customer(&app, &ann).await["referral"]["referralCode"].as_str().unwrap().to_string();
    let input = json!({ "phone": "+14155550702", "email": "bob@example.com", "dateOfBirth": "1990-05-15", "anniversary": "2015-06-20", "userId": "u-bob",
        "preferences": { "dietaryRestrictions": ["vegan"], "allergies": ["peanuts"], "spiceLevel": "HOT", "preferredSeating": "BAR" },
        "marketing": { "emailOptIn": true, "specialOffers": true }, "referralCode": code });
    app.data("mutation($input: CustomerInput!) { upsertCustomer(input: $input) { created } }", json!({ "input": input })).await;
    app.data("mutation($id: ID!) { addNote(customerId: $id, note: \"Window seat\") { id } }", json!({ "id": bob })).await;
    app.data("mutation($id: ID!) { recordFeedback(customerId: $id, rating: 4) { replayed } }", json!({ "id": bob })).await;
    let all = FIELDS.join(" ");
    // A visit's payload reads the customer through the loader, with the selection's columns.
    let visited =
        app.data(&format!("mutation($id: ID!) {{ recordVisit(customerId: $id, orderAmount: 61.5) {{ customer {{ {all} }} }} }}"), json!({ "id": bob })).await;
    // The upsert's payload is the whole row written (no projection): the reference.
    let full =
        app.data(&format!("mutation {{ upsertCustomer(input: {{ phone: \"+14155550702\" }}) {{ customer {{ {all} }} }} }}"), json!({})).await["upsertCustomer"]
            ["customer"]
            .clone();
    let reference = app
        .data(
            &format!("query($id: ID!) {{ r: customers(filter: {{ search: \"Bob\" }}) {{ items {{ {all} }} }} c: customer(id: $id) {{ {all} }} }}"),
            json!({ "id": bob }),
        )
        .await;
    assert_eq!(reference["c"], full, "a read of every field equals the full row");
    let without_times = |v: &Value| {
        let mut v = v.clone();
        for moving in ["updatedAt", "lastActivity"] {
            v.as_object_mut().unwrap().remove(moving);
        }
        v
    };
    assert_eq!(without_times(&visited["recordVisit"]["customer"]), without_times(&full), "the payload's customer read through the loader");
    let ann_full = app.data(&format!("query($id: ID!) {{ customer(id: $id) {{ {all} }} }}"), json!({ "id": ann })).await["customer"].clone();
    let listed = reference["r"]["items"][0].clone();
    assert_eq!(listed, reference["c"], "the list and the lookup agree on every field");
    assert_eq!(listed["email"], "bob@example.com");
    assert_eq!(listed["preferences"]["allergies"], json!(["peanuts"]));
    assert_eq!(listed["referral"]["referredBy"]["name"], "Ann Projection");
    for field in FIELDS {
        let name = name_of(field);
        let alone = app.data(&format!("query($id: ID!) {{ r: customers(filter: {{ search: \"Bob\" }}) {{ items {{ {field} }} }} c: customer(id: $id) {{ {field} }} f: findCustomer(phone: \"+14155550702\") {{ {field} }} }}"), json!({ "id": bob })).await;
        for (which, got) in [("list", &alone["r"]["items"][0][name]), ("lookup", &alone["c"][name]), ("find", &alone["f"][name])] {
            assert_eq!(got, &listed[name], "{name} read alone in the {which}");
        }
        let nested = app
            .data(
                &format!("query($bob: ID!, $ann: ID!) {{ b: customer(id: $bob) {{ referral {{ referredBy {{ {field} }} }} }} a: customer(id: $ann) {{ referral {{ referrals {{ items {{ {field} }} }} }} }} }}"),
                json!({ "bob": bob, "ann": ann }),
            )
            .await;
        assert_eq!(nested["b"]["referral"]["referredBy"][name], ann_full[name], "{name} read alone through the referrer's loader");
        assert_eq!(nested["a"]["referral"]["referrals"]["items"][0][name], listed[name], "{name} read alone through the referrals' loader");
    }
    let mixed = app
        .data(
            "query($id: ID!) { customer(id: $id) { ...Contact who: name ... on Customer { loyaltyTier } } } fragment Contact on Customer { phone email }",
            json!({ "id": bob }),
        )
        .await;
    assert_eq!(mixed["customer"], json!({ "phone": "+14155550702", "email": "bob@example.com", "who": "Bob Referred", "loyaltyTier": "BRONZE" }));
    let sorted: Value = app.data("{ customers(sort: NAME, limit: 1) { items { loyaltyTier } endCursor } }", json!({})).await;
    let after = sorted["customers"]["endCursor"].as_str().unwrap().to_string();
    let next = app.data("query($a: String!) { customers(sort: NAME, limit: 1, after: $a) { items { name } } }", json!({ "a": after })).await;
    assert_eq!(next["customers"]["items"][0]["name"], "Bob Referred", "a cursor is built from its sort columns, read even when not selected");
});
