//! tickets.
