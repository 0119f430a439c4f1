//! Customers: the profile type, lookups (spec endpoint 2), the filtered list (endpoint 3) and
//! create-or-update (endpoint 1).

pub mod parts;
pub mod projection;
pub mod types;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::ops::customers::cursor::Cursor;
use entity::ops::customers::{self as ops, CustomerInput as DomainInput, MarketingInput, PageAt, Patch};

use crate::auth::{STAFF, VIEWER};
use crate::error::{ApiError, IntoGql};
use crate::graphql::context::{app, scope};
use crate::graphql::scalars::Date;
use crate::graphql::types::{CustomerStatus, Seating, SpiceLevel, Tier, customer_id};
use types::{Customer, CustomerPage};

/// Filters of the customer list; all given ones must match.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Only this tier.
    pub tier: Option<Tier>,
    /// Only this status.
    pub status: Option<CustomerStatus>,
    /// Only members of this segment (by name).
    pub segment: Option<String>,
    /// Only members with this tag.
    pub tag: Option<String>,
    /// Case-insensitive fragment of the name, a whole email address, or the last four (or more)
    /// digits of the phone number (email and phone are sealed: they match exactly, never by fragment).
    pub search: Option<String>,
    /// Only members changed at or after this instant (profile, consent, points, visits, tier,
    /// status, erasure). To sync, sort `UPDATED` and follow `endCursor`.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only members the last `model-fit` run scored as less likely than this (0 to 1) to be
    /// still active.
    pub active_probability_below: Option<f64>,
    /// Only members the last `model-fit` run scored with a 12-month value above this (in the
    /// restaurant's currency).
    pub predicted_value_above: Option<f64>,
}

/// Order of the customer list.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(remote = "entity::ops::customers::CustomerSort")]
pub enum CustomerSort {
    /// Newest members first.
    #[default]
    Newest,
    /// By name, A to Z.
    Name,
    /// Most lifetime points first.
    LifetimePoints,
    /// Most recent visit first.
    LastVisit,
    /// Highest total spend first.
    TotalSpent,
    /// Least recently changed first, for syncing: a page ends where changes may still be
    /// committing (about 12 seconds ago on PostgreSQL, 27 on SQLite, or before the oldest open
    /// write), so following `endCursor` never misses nor repeats a change.
    Updated,
}

/// The one lookup among the arguments given.
fn lookup(
    id: Option<ID>,
    phone: Option<String>,
    email: Option<String>,
    referral_code: Option<String>,
    user_id: Option<String>,
    external_id: Option<String>,
) -> Result<ops::Lookup, ApiError> {
    let given = [id.is_some(), phone.is_some(), email.is_some(), referral_code.is_some(), user_id.is_some(), external_id.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::validation("id", "give exactly one of id, phone, email, referralCode, userId and externalId"));
    }
    Ok(match (id, phone, email, referral_code, user_id, external_id) {
        (Some(id), ..) => ops::Lookup::Id(customer_id(&id)?),
        (_, Some(phone), ..) => ops::Lookup::Phone(phone),
        (_, _, Some(email), ..) => ops::Lookup::Email(email),
        (_, _, _, Some(code), ..) => ops::Lookup::ReferralCode(code),
        (_, _, _, _, Some(user), _) => ops::Lookup::UserId(user),
        (.., Some(external)) => ops::Lookup::ExternalId(external),
        _ => unreachable!("exactly one was given"),
    })
}

/// Customer queries.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// One customer by `id`, `phone`, `email`, `referralCode`, `userId` or `externalId` (give
    /// exactly one);
    /// `NOT_FOUND` when there is none in your restaurant.
    #[graphql(guard = "VIEWER")]
    #[allow(clippy::too_many_arguments)] // one per GraphQL argument
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] id: Option<ID>,
        #[graphql(desc = "Phone number (any common format; matched as E.164).")] phone: Option<String>,
        #[graphql(desc = "Email address (case does not matter).")] email: Option<String>,
        #[graphql(desc = "The member's referral code.")] referral_code: Option<String>,
        #[graphql(desc = "Your app's user id for the member.")] user_id: Option<String>,
        #[graphql(desc = "The member's id in the system they were imported from.")] external_id: Option<String>,
    ) -> async_graphql::Result<Customer> {
        let what = lookup(id, phone, email, referral_code, user_id, external_id).gql()?;
        let label = what.to_string();
        let read = types::projection(ctx.look_ahead());
        let row = ops::find_on_pool(&app(ctx).db, scope(ctx), &app(ctx).policy, what, &read).await.gql()?;
        row.map(|row| Customer::projected(row, read)).ok_or_else(|| ApiError::not_found(label)).gql()
    }

    /// The member with this `phone`, `email`, `referralCode`, `userId` or `externalId` (give
    /// exactly one), or
    /// `null` when the person is not a member yet (the POS's "sign up?" path).
    #[graphql(guard = "VIEWER")]
    async fn find_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Phone number (any common format; matched as E.164).")] phone: Option<String>,
        #[graphql(desc = "Email address (case does not matter).")] email: Option<String>,
        #[graphql(desc = "The member's referral code.")] referral_code: Option<String>,
        #[graphql(desc = "Your app's user id for the member.")] user_id: Option<String>,
        #[graphql(desc = "The member's id in the system they were imported from.")] external_id: Option<String>,
    ) -> async_graphql::Result<Option<Customer>> {
        let what = lookup(None, phone, email, referral_code, user_id, external_id).gql()?;
        let read = types::projection(ctx.look_ahead());
        Ok(ops::find_on_pool(&app(ctx).db, scope(ctx), &app(ctx).policy, what, &read).await.gql()?.map(|row| Customer::projected(row, read)))
    }

    /// Customers matching `filter`, one page at a time (`limit` at most the configured
    /// maximum, 200 by default): by `page` number, or with `after` set to the previous page's
    /// `endCursor` (keyset pagination: as fast on the thousandth page as on the first).
    #[graphql(guard = "VIEWER")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which members: tier, status, segment, tag, or a name fragment, email or phone digits.")] filter: Option<CustomerFilter>,
        #[graphql(default, desc = "The order of the list.")] sort: CustomerSort,
        #[graphql(default = 1, desc = "Page number, from 1 (slower on deep pages than `after`).")] page: i64,
        #[graphql(default = 50, desc = "How many to return at most (the field's maximum applies).")] limit: i64,
        #[graphql(desc = "The `endCursor` of the previous page, for the next one.")] after: Option<String>,
    ) -> async_graphql::Result<CustomerPage> {
        let state = app(ctx);
        let (page, limit) = ops::check_page(&state.policy, page, limit).gql()?;
        let at = match after {
            None => PageAt::Number(page),
            Some(_) if page != 1 => return Err(ApiError::validation("after", "give either page or after, not both")).gql(),
            Some(text) => PageAt::After(Cursor::decode(&text, sort.into()).gql()?),
        };
        let f = filter.unwrap_or_default();
        let filter = ops::CustomerFilter {
            tier: f.tier.map(Into::into),
            status: f.status.map(Into::into),
            segment: f.segment,
            tag: f.tag,
            search: f.search,
            updated_since: f.updated_since,
            active_probability_below: f.active_probability_below,
            predicted_value_above: f.predicted_value_above,
        };
        let read = types::projection(ctx.look_ahead().field("items"));
        let page = ops::list_on_pool(&state.db, scope(ctx), &filter, sort.into(), at, limit, &read).await.gql()?;
        Ok(CustomerPage { page, read, filter, total: tokio::sync::OnceCell::new() })
    }
}

/// Dining preferences to set; omitted fields stay, `null` clears.
#[derive(InputObject, Default)]
pub struct PreferencesInput {
    /// Dietary needs (replaces the list; sealed; not shown to marketers).
    pub dietary_restrictions: Option<Vec<String>>,
    /// Allergies (replaces the list; sealed; not shown to marketers).
    pub allergies: Option<Vec<String>>,
    /// Preferred spice level; null removes it.
    pub spice_level: MaybeUndefined<SpiceLevel>,
    /// Preferred seating area; null removes it.
    pub preferred_seating: MaybeUndefined<Seating>,
}

/// Marketing consent to set; omitted flags stay (new customers start opted out).
#[derive(InputObject, Default)]
pub struct MarketingConsentInput {
    /// Agrees to marketing email.
    pub email_opt_in: Option<bool>,
    /// Agrees to marketing SMS.
    pub sms_opt_in: Option<bool>,
    /// Agrees to push notifications.
    pub push_notifications: Option<bool>,
    /// Wants special offers: win-back, at-risk and occasion emails, campaigns with an offer.
    pub special_offers: Option<bool>,
    /// Wants birthday offers.
    pub birthday_offers: Option<bool>,
    /// Wants anniversary offers.
    pub anniversary_offers: Option<bool>,
}

/// A customer profile to create or update, identified by phone number. Omitted fields stay as
/// they are; `null` clears an optional field.
#[derive(InputObject)]
pub struct CustomerInput {
    /// Any common format; stored in E.164. Numbers without `+country` are read in the
    /// configured region.
    pub phone: String,
    /// Required to create a customer.
    pub name: Option<String>,
    /// Email address; null removes it, leaving it out keeps it.
    pub email: MaybeUndefined<String>,
    /// Account id in the ordering platform, when linked.
    pub user_id: MaybeUndefined<String>,
    /// Date of birth; null removes it, leaving it out keeps it.
    pub date_of_birth: MaybeUndefined<Date>,
    /// Anniversary; null removes it, leaving it out keeps it.
    pub anniversary: MaybeUndefined<Date>,
    /// Dietary needs, allergies, spice level and seating (not for marketers).
    pub preferences: Option<PreferencesInput>,
    /// Consent to email, SMS, push and the kinds of offers.
    pub marketing: Option<MarketingConsentInput>,
    /// Replaces the customer's marketing segments.
    pub segments: Option<Vec<String>>,
    /// ACTIVE, INACTIVE or BLOCKED (DORMANT is set by the rules).
    pub status: Option<CustomerStatus>,
    /// Referral code of the member who referred this customer.
    pub referral_code: Option<String>,
}

fn patch<T, U: From<T>>(value: MaybeUndefined<T>) -> Patch<U> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v.into()),
    }
}

impl From<MarketingConsentInput> for MarketingInput {
    fn from(m: MarketingConsentInput) -> Self {
        MarketingInput {
            email_opt_in: m.email_opt_in,
            sms_opt_in: m.sms_opt_in,
            push_notifications: m.push_notifications,
            special_offers: m.special_offers,
            birthday_offers: m.birthday_offers,
            anniversary_offers: m.anniversary_offers,
        }
    }
}

impl From<CustomerInput> for DomainInput {
    fn from(input: CustomerInput) -> Self {
        let prefs = input.preferences.unwrap_or_default();
        let m = input.marketing.unwrap_or_default();
        DomainInput {
            phone: input.phone,
            name: input.name,
            email: patch(input.email),
            user_id: patch(input.user_id),
            date_of_birth: patch(input.date_of_birth),
            anniversary: patch(input.anniversary),
            dietary_restrictions: prefs.dietary_restrictions,
            allergies: prefs.allergies,
            spice_level: patch(prefs.spice_level),
            preferred_seating: patch(prefs.preferred_seating),
            marketing: m.into(),
            segments: input.segments,
            status: input.status.map(Into::into),
            referral_code: input.referral_code,
        }
    }
}

/// Result of a create-or-update.
#[derive(SimpleObject)]
pub struct UpsertCustomerPayload {
    /// Whether a new customer was created.
    pub created: bool,
    /// "Customer profile created" or "Customer profile updated".
    pub message: String,
    /// The member as saved.
    pub customer: Customer,
}

/// Result of a phone number change.
#[derive(SimpleObject)]
pub struct ChangePhonePayload {
    /// False when the member already had this number (nothing changed).
    pub changed: bool,
    /// The member with the new number.
    pub customer: Customer,
}

/// Customer mutations.
#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer, or updates the one with this phone number (spec endpoint 1).
    #[graphql(guard = "STAFF")]
    async fn upsert_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member to create or update, found by phone number.")] input: CustomerInput,
    ) -> async_graphql::Result<UpsertCustomerPayload> {
        let state = app(ctx);
        let out = ops::upsert(&state.db, scope(ctx), &state.policy, input.into()).await.gql()?;
        let message = if out.created { "Customer profile created" } else { "Customer profile updated" };
        Ok(UpsertCustomerPayload { created: out.created, message: message.into(), customer: Customer::from(out.customer) })
    }

    /// Gives a member a new phone number: looked up by it from now on, never by the old one
    /// (audited as `customer.phone_changed`). `CONFLICT` when another member has the number
    /// (`mergeCustomers` joins the two), `INVALID_STATE` for an erased member.
    #[graphql(guard = "STAFF")]
    async fn change_phone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's id.")] customer_id: ID,
        #[graphql(desc = "The new number, any common format (read in the configured region without `+country`).")] phone: String,
    ) -> async_graphql::Result<ChangePhonePayload> {
        let state = app(ctx);
        let id = crate::graphql::types::customer_id(&customer_id).gql()?;
        let out = ops::change_phone(&state.db, scope(ctx), &state.policy, id, &phone).await.gql()?;
        Ok(ChangePhonePayload { changed: out.changed, customer: Customer::from(out.customer) })
    }
}
