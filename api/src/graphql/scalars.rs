//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use entity::rules::money::parse_cents;

/// An exact amount of money in dollars with at most two decimals. Accepted as a number
/// (`45.99`) or a string (`"45.99"`); returned as a number. Stored as integer cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i64);

/// An exact amount of money in dollars with at most two decimals. Accepted as a number
/// (`45.99`) or a string (`"45.99"`); returned as a number.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(InputValueError::custom("must be a number like 45.99")),
        };
        parse_cents(&text).map(Money).map_err(|e| InputValueError::custom(format!("amount {e}")))
    }

    fn to_value(&self) -> Value {
        serde_json::Number::from_f64(self.0 as f64 / 100.0).map_or(Value::Null, Value::Number)
    }
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub chrono::NaiveDate);

/// A calendar date, `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("{s:?} is not a date like 2026-05-15"))),
            _ => Err(InputValueError::custom("must be a date like 2026-05-15")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<Date> for chrono::NaiveDate {
    fn from(d: Date) -> Self {
        d.0
    }
}
