//! Members' personal values in the messages of endpoints allowed them: events store ids only,
//! and a message to such an endpoint gets `data.member` (name, phone, email) as the member is
//! when it is sent, opened with the member's key. An erased member's messages carry
//! `"member": null`: nothing of them is left to send.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::entities::{customer, webhook_endpoint};
use crate::ops::customers::personal;
use crate::{DomainResult, Scope};

/// The body of a message to `endpoint` for the stored event `payload`: the payload itself, or
/// for an endpoint allowed personal values and an event about a member, with `data.member`.
pub async fn body(db: &impl ConnectionTrait, scope: &Scope, endpoint: &webhook_endpoint::Model, payload: &str) -> DomainResult<String> {
    if !endpoint.include_personal {
        return Ok(payload.to_string());
    }
    let Ok(mut event) = serde_json::from_str::<Value>(payload) else { return Ok(payload.to_string()) };
    let Some(id) = event["data"]["customerId"].as_str().and_then(|id| id.parse::<i64>().ok()) else { return Ok(payload.to_string()) };
    let row = customer::Entity::find_by_id(id).filter(customer::Column::RestaurantId.eq(&scope.restaurant_id)).one(db).await?;
    let member = match row.filter(|c| !crate::rules::erasure::is_erased(c)) {
        Some(c) => {
            let opened = personal::open_many(db, scope, std::slice::from_ref(&c)).await?.pop();
            opened.map_or(Value::Null, |p| json!({ "name": c.name, "phone": p.phone, "email": p.email }))
        }
        None => Value::Null,
    };
    event["data"]["member"] = member;
    Ok(event.to_string())
}
