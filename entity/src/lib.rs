//! The loyalty program's data: SeaORM entities ([`entities`]), the pure rules that belong to
//! the data ([`rules`]: tiers, tags, referral codes, money, contact details) and the operations
//! that change it transactionally ([`ops`]: customers, the points ledger, visits, orders, notes).
//!
//! Everything here is free of GraphQL and HTTP: the API, the jobs and the tests call the same
//! functions with any `ConnectionTrait`.

// Amounts in cents are written dollars_cents (`45_99`, `1_000_000_00`), on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

pub mod entities;
pub mod error;
pub mod marketing;
pub mod ops;
pub mod rules;
/// Fixtures for the workspace's unit tests (the jobs crate's too).
#[doc(hidden)]
pub mod testing;
pub mod tx;
pub mod vault;

pub use error::{DomainError, DomainResult};
pub use ops::{Policy, Scope};
