//! Typed handles over the v3 API: [`Tickets`] for requests and changes.

mod tickets;

pub use tickets::{ListPage, Tickets};
