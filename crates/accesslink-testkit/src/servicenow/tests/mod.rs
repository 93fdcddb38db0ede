//! Tests of the ServiceNow mock, plain reqwest against it.

mod support;

mod auth;
mod backend;
mod basics;
mod listing;
mod query;
mod render;
mod rules;
mod synthetic;
mod writes;
