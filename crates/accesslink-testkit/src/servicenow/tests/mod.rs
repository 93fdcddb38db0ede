//! Tests of the ServiceNow mock, plain reqwest against it.

mod support;

mod auth;
mod basics;
mod listing;
mod query;
mod render;
mod writes;
