use chrono::{TimeZone, Utc};

use super::*;

fn row(fields: &[(&str, &str)]) -> RawRow {
    fields.iter().map(|(n, v)| (n.to_string(), Cell::Text(v.to_string()))).collect()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn check(fields: &[(&str, &str)]) -> Result<MemberRow, RowError> {
    check_member(&row(fields), country::Id::US, now())
}

const MINIMAL: [(&str, &str); 3] = [("externalId", "c-1"), ("phone", "(415) 555-0142"), ("name", " Ann  Lee ")];

#[test]
fn a_minimal_row_is_normalised_like_the_api() {
    let m = check(&MINIMAL).unwrap();
    assert_eq!((m.external_id.as_str(), m.phone.as_str(), m.name.as_str()), ("c-1", "+14155550142", "Ann Lee"));
    assert_eq!((m.points, m.lifetime_points, m.tier), (0, 0, Tier::Bronze));
    assert_eq!(m.consent, Consent::default(), "no consent unless the row gives it");
    assert!(m.email.is_none() && m.member_since.is_none() && m.allergies.is_empty());
}

#[test]
fn a_full_row_reads_every_field() {
    let mut fields = MINIMAL.to_vec();
    fields.extend([
        ("email", " Ann@Example.COM "),
        ("dateOfBirth", "1990-05-31"),
        ("anniversary", "2015-06-20"),
        ("memberSince", "2019-03-01"),
        ("points", "120"),
        ("lifetimePoints", "900"),
        ("tier", "Silver"),
        ("emailOptIn", "yes"),
        ("birthdayOffers", "TRUE"),
        ("smsOptIn", "0"),
        ("allergies", "nuts; shellfish"),
    ]);
    let m = check(&fields).unwrap();
    assert_eq!(m.email.as_deref(), Some("ann@example.com"));
    assert_eq!(m.date_of_birth, NaiveDate::from_ymd_opt(1990, 5, 31));
    assert_eq!(m.member_since, Some(Utc.with_ymd_and_hms(2019, 3, 1, 0, 0, 0).unwrap()));
    assert_eq!((m.points, m.lifetime_points, m.tier), (120, 900, Tier::Silver));
    assert!(m.consent.email_opt_in && m.consent.birthday_offers && !m.consent.sms_opt_in);
    assert_eq!(m.allergies, vec!["nuts".to_string(), "shellfish".to_string()]);
}

#[test]
fn the_tier_given_is_raised_to_what_the_lifetime_points_earn() {
    let mut fields = MINIMAL.to_vec();
    fields.extend([("lifetimePoints", "100000"), ("tier", "silver")]);
    assert_eq!(check(&fields).unwrap().tier, tier::tier_for(100_000));
    let mut fields = MINIMAL.to_vec();
    fields.push(("tier", "vip"));
    assert_eq!(check(&fields).unwrap().tier, Tier::Vip, "a higher tier given stays");
}

#[test]
fn each_refusal_names_its_field_and_shows_only_the_shape() {
    let cases: [(&[(&str, &str)], &str); 10] = [
        (&[("phone", "+14155550142"), ("name", "Ann")], "externalId"),
        (&[("externalId", "c"), ("phone", "555"), ("name", "Ann")], "phone"),
        (&[("externalId", "c"), ("phone", "+14155550142")], "name"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("email", "ann@")], "email"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("dateOfBirth", "31/05/1990")], "dateOfBirth"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("points", "-5")], "points"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("points", "50"), ("lifetimePoints", "10")], "lifetimePoints"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("tier", "diamond")], "tier"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("emailOptIn", "maybe")], "emailOptIn"),
        (&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("favouriteDish", "Ramen")], "favouriteDish"),
    ];
    for (fields, field) in cases {
        let e = check(fields).unwrap_err();
        assert_eq!(e.field, field, "{e:?}");
        assert!(!e.reason.is_empty());
    }
    let e = check(&[("externalId", "c"), ("phone", "+1 415 555 01"), ("name", "Ann")]).unwrap_err();
    assert_eq!(e.shape, "+9 999 999 99", "digits hidden, format kept");
    let e = check(&[("externalId", "c"), ("phone", "+14155550142"), ("name", "Ann"), ("email", "Ann.Lee@")]).unwrap_err();
    assert_eq!(e.shape, "Aaa.Aaa@");
}

#[test]
fn future_dates_are_refused() {
    let mut fields = MINIMAL.to_vec();
    fields.push(("memberSince", "2027-01-01"));
    assert_eq!(check(&fields).unwrap_err().field, "memberSince");
    let mut fields = MINIMAL.to_vec();
    fields.push(("dateOfBirth", "2030-01-01"));
    assert_eq!(check(&fields).unwrap_err().field, "dateOfBirth");
}

#[test]
fn lists_come_as_json_arrays_or_separated_text() {
    let mut raw = row(&MINIMAL);
    raw.push(("dietaryRestrictions".into(), Cell::List(vec!["vegan".into(), "halal".into()])));
    let m = check_member(&raw, country::Id::US, now()).unwrap();
    assert_eq!(m.dietary_restrictions, vec!["vegan".to_string(), "halal".to_string()]);
    let mut raw = row(&MINIMAL[..2]);
    raw.push(("name".into(), Cell::List(vec!["Ann".into()])));
    let e = check_member(&raw, country::Id::US, now()).unwrap_err();
    assert_eq!((e.field.as_str(), e.reason.as_str()), ("name", "must be a single value, not a list"));
}

#[test]
fn a_long_value_shows_its_length_not_its_end() {
    let long = "x".repeat(60);
    assert_eq!(shape(&long), format!("{}… (60 characters)", "a".repeat(40)));
}
