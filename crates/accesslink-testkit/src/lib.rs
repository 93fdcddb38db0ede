//! # accesslink-testkit
//!
//! Building blocks for stateful vendor mocks, fault injection, and the conformance
//! suite every accesslink connector runs.

pub mod conformance;
pub mod counter;
pub mod data;
pub mod fault;
pub mod glpi;
pub mod logs;
pub mod opsgenie;
pub mod opsramp;
pub mod otrs;
pub mod paged;
pub mod proxy;
pub mod server;
pub mod servicenow;
pub mod tokens;
