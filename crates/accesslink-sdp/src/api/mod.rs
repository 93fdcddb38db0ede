//! Typed handles over the v3 API: [`Tickets`] for requests and changes, [`Requesters`].

mod people;
mod tickets;

pub use people::Requesters;
pub use tickets::{ListPage, Tickets};
