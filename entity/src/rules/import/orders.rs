//! What one row of an order import (`loyalty import orders`) may say: the order id, the member
//! (by `externalId` or `phone`), when it happened, its amount, place, channel and lines; checked
//! as `recordOrder` checks an order, each error naming the field.

use chrono::{DateTime, Utc};
use phonenumber::country;

use super::{Cell, RawRow, RowError};
use crate::rules::contact;
use crate::rules::money::parse_cents;

/// The fields an order row may have, as named in a CSV header or a JSON object.
pub const ORDER_FIELDS: [&str; 8] = ["orderId", "externalId", "phone", "occurredAt", "amount", "location", "channel", "items"];

/// Whose order it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Member {
    /// The member's id in the system the orders come from (as imported with the members).
    External(String),
    /// E.164.
    Phone(String),
}

/// An order's line as a row gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub item_id: String,
    pub name: Option<String>,
    pub quantity: i64,
    pub price_cents: Option<i64>,
}

/// An order row, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub order_id: String,
    pub member: Member,
    pub occurred_at: DateTime<Utc>,
    pub amount_cents: i64,
    pub location: Option<String>,
    pub channel: Option<String>,
    pub lines: Vec<LineRow>,
}

/// Checks `raw` (phone numbers without `+country` read in `region`; times not after `now`).
pub fn check_order(raw: &RawRow, region: country::Id, now: DateTime<Utc>) -> Result<OrderRow, RowError> {
    let row = super::Fields::new(raw, &ORDER_FIELDS, "an order")?;
    let member = match (row.text("externalId")?, row.text("phone")?) {
        (Some(id), None) => Member::External(id.to_string()),
        (None, Some(phone)) => Member::Phone(contact::normalize_phone(phone, region).map_err(|e| row.error("phone", e))?),
        _ => return Err(RowError::new("externalId", "give exactly one of externalId and phone", None)),
    };
    let occurred = row.required("occurredAt")?;
    let occurred_at = DateTime::parse_from_rfc3339(occurred)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| row.error("occurredAt", "must be a time like 2024-03-01T18:30:00Z"))?;
    if occurred_at > now + crate::rules::orders::CLOCK_SKEW {
        return Err(row.error("occurredAt", "must not be in the future"));
    }
    let amount_cents = parse_cents(row.required("amount")?).map_err(|e| row.error("amount", e))?;
    let name = |field: &'static str| crate::rules::orders::name(field, row.text(field)?).map_err(|e| row.error(field, reason(&e)));
    Ok(OrderRow {
        order_id: crate::rules::orders::check_order_id(row.required("orderId")?).map_err(|e| row.error("orderId", reason(&e)))?,
        member,
        occurred_at,
        amount_cents,
        location: name("location")?,
        channel: name("channel")?,
        lines: lines(&row)?,
    })
}

/// A domain error's reason without its field.
fn reason(e: &crate::DomainError) -> String {
    match e {
        crate::DomainError::Validation { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The row's lines: a list (JSON array, or a CSV cell split on `;`) of `ITEM:QUANTITY[:PRICE]`
/// or, in JSON, objects `{"itemId", "name", "quantity", "price"}`.
fn lines(row: &super::Fields<'_>) -> Result<Vec<LineRow>, RowError> {
    let items: Vec<String> = match row.get("items") {
        None => return Ok(Vec::new()),
        Some(Cell::List(items)) => items.clone(),
        Some(Cell::Text(t)) => t.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
    };
    if items.len() > crate::rules::orders::MAX_ITEMS {
        return Err(row.error("items", format!("at most {} lines per order", crate::rules::orders::MAX_ITEMS)));
    }
    items.iter().map(|item| line(item).map_err(|why| row.error("items", why))).collect()
}

fn line(item: &str) -> Result<LineRow, String> {
    let bad = || "each line must be ITEM:QUANTITY[:PRICE] or an object with itemId, quantity, name and price".to_string();
    let (item_id, name, quantity, price) = if item.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(item).map_err(|_| bad())?;
        let text = |k: &str| v.get(k).map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string));
        (text("itemId").ok_or_else(bad)?, text("name"), text("quantity"), text("price"))
    } else {
        let mut parts = item.split(':').map(str::trim);
        let id = parts.next().filter(|p| !p.is_empty()).ok_or_else(bad)?.to_string();
        (id, None, parts.next().map(str::to_string), parts.next().map(str::to_string))
    };
    let quantity = match quantity {
        None => 1,
        Some(q) => q
            .parse::<i64>()
            .ok()
            .filter(|q| (1..=crate::rules::orders::MAX_QUANTITY).contains(q))
            .ok_or_else(|| format!("a line's quantity must be a whole number from 1 to {}", crate::rules::orders::MAX_QUANTITY))?,
    };
    let price_cents = price.map(|p| parse_cents(&p).map_err(|e| format!("a line's price {e}"))).transpose()?;
    if item_id.trim().is_empty() || item_id.len() > 100 {
        return Err("a line's itemId must be 1 to 100 characters".into());
    }
    Ok(LineRow { item_id: item_id.trim().to_string(), name: name.filter(|n| !n.trim().is_empty()), quantity, price_cents })
}

/// A line as an import reads it back from a CSV cell: `ITEM:QUANTITY[:PRICE]`, or the line's
/// JSON object where the item id holds `:` or `;` or starts with `{`.
pub fn line_text(line: &serde_json::Value) -> String {
    let id = line["itemId"].as_str().unwrap_or_default();
    if id.contains([':', ';']) || id.starts_with('{') {
        return line.to_string();
    }
    let quantity = line["quantity"].as_i64().unwrap_or(1);
    match line["price"].as_str() {
        Some(price) => format!("{id}:{quantity}:{price}"),
        None => format!("{id}:{quantity}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_line_written_for_a_csv_cell_reads_back() {
        for (v, text) in [
            (serde_json::json!({ "itemId": "soup", "quantity": 2, "price": "12.50" }), "soup:2:12.50"),
            (serde_json::json!({ "itemId": "bread", "quantity": 1 }), "bread:1"),
        ] {
            assert_eq!(line_text(&v), text);
            let back = line(text).unwrap();
            assert_eq!((back.item_id.as_str(), back.quantity), (v["itemId"].as_str().unwrap(), v["quantity"].as_i64().unwrap()));
        }
        let odd = serde_json::json!({ "itemId": "menu:a", "quantity": 3 });
        assert_eq!(line(&line_text(&odd)).unwrap().item_id, "menu:a", "an id with a colon goes as its object");
    }

    fn raw(fields: &[(&str, &str)]) -> RawRow {
        fields.iter().map(|(k, v)| (k.to_string(), Cell::Text(v.to_string()))).collect()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn an_order_row_reads_its_member_time_amount_and_lines() {
        let row = raw(&[
            ("orderId", "A-1"),
            ("externalId", "pos-7"),
            ("occurredAt", "2019-03-01T18:30:00Z"),
            ("amount", "30.50"),
            ("channel", "dine-in"),
            ("items", "soup:2:12.50; bread"),
        ]);
        let o = check_order(&row, country::Id::US, now()).unwrap();
        assert_eq!((o.order_id.as_str(), &o.member, o.amount_cents), ("A-1", &Member::External("pos-7".into()), 3050));
        assert_eq!(o.occurred_at, Utc.with_ymd_and_hms(2019, 3, 1, 18, 30, 0).unwrap());
        assert_eq!(o.channel.as_deref(), Some("dine-in"));
        assert_eq!(
            o.lines,
            [
                LineRow { item_id: "soup".into(), name: None, quantity: 2, price_cents: Some(1250) },
                LineRow { item_id: "bread".into(), name: None, quantity: 1, price_cents: None }
            ]
        );
        let json = vec![
            ("orderId".to_string(), Cell::Text("A-2".into())),
            ("phone".to_string(), Cell::Text("(415) 555-0101".into())),
            ("occurredAt".to_string(), Cell::Text("2019-03-01T18:30:00+01:00".into())),
            ("amount".to_string(), Cell::Text("5".into())),
            ("items".to_string(), Cell::List(vec![r#"{"itemId":"tea","name":"Green tea","quantity":2,"price":5}"#.into()])),
        ];
        let o = check_order(&json, country::Id::US, now()).unwrap();
        assert_eq!(o.member, Member::Phone("+14155550101".into()));
        assert_eq!(o.lines, [LineRow { item_id: "tea".into(), name: Some("Green tea".into()), quantity: 2, price_cents: Some(500) }]);
    }

    #[test]
    fn bad_rows_name_their_field() {
        let base = [("orderId", "A-1"), ("externalId", "pos-7"), ("occurredAt", "2019-03-01T18:30:00Z"), ("amount", "3")];
        let refused = |change: (&str, &str)| {
            let mut fields: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != change.0).collect();
            fields.push(change);
            check_order(&raw(&fields), country::Id::US, now()).unwrap_err()
        };
        assert_eq!(refused(("occurredAt", "yesterday")).field, "occurredAt");
        assert_eq!(refused(("occurredAt", "2027-01-01T00:00:00Z")).reason, "must not be in the future");
        assert_eq!(refused(("amount", "-3")).field, "amount");
        assert_eq!(refused(("items", "soup:0")).field, "items");
        assert_eq!(refused(("orderId", " ")).field, "orderId");
        assert_eq!(refused(("phone", "+14155550101")).reason, "give exactly one of externalId and phone");
        assert_eq!(
            refused(("tip", "3")).reason,
            "is not a field of an order (fields: orderId, externalId, phone, occurredAt, amount, location, channel, items)"
        );
    }
}
