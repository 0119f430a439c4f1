//! The loyalty service: GraphQL over the `entity` operations, served by axum, configured by
//! one [`config::Config`], run by the `loyalty` command (`src/main.rs`).

pub mod auth;
pub mod bounds;
pub mod cache;
pub mod cli;
pub mod config;
pub mod cors;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod documents;
pub mod drain;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod keystore;
pub mod metrics;
pub mod pages;
pub mod records;
pub mod startup;
pub mod telemetry;

pub use startup::serve;
