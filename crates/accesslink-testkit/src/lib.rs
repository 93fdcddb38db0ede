//! # accesslink-testkit
//!
//! Building blocks for stateful vendor mocks, fault injection, and the conformance
//! suite every accesslink connector runs.
//!
//! Each vendor mock is a cargo feature, so a connector's tests build only the mock they
//! use; the building blocks and the conformance suite are always there. (The module
//! names are plain text here because each exists only with its feature.)
//!
//! | feature | module | mock |
//! |---|---|---|
//! | `otrs` | `otrs` | `OtrsMock`, Znuny 7 GenericInterface REST |
//! | `glpi` | `glpi` | `GlpiMock`, GLPI 10 REST API |
//! | `servicenow` | `servicenow` | `ServiceNowMock`, Table API |
//! | `opsramp` | `opsramp` | `OpsRampMock` |
//! | `opsgenie` | `opsgenie` | `OpsGenieMock` |
//! | `topdesk` | `topdesk` | `TopdeskMock`, TOPdesk REST API (`/tas/api`) |
//! | `jira` | `jira` | `JiraMock`, Jira Cloud / Data Center / Service Management |
//! | `salesforce` | `salesforce` | `SalesforceMock`, OAuth, SOQL subset, sObjects (Service Cloud, Remedyforce) |
//! | `helix` | `helix` | `HelixMock`, BMC Helix ITSM over the AR System REST API |
//! | `sdp` | `sdp` | `SdpMock`, ServiceDesk Plus v3 (on-premises, Cloud, MSP) |
//! | `full` | all of the above | |
//! | `contract` | `contract` | none: the JSON-Schema contract harness over recorded exchanges |
//!
//! Every mock implements [`Mock`], so a test (or a tool) can start any of them and drive
//! it the same way: its URL, the connector settings that work against it, its fault plan,
//! the requests it received.

pub mod conformance;
#[cfg(feature = "contract")]
pub mod contract;
pub mod counter;
pub mod data;
#[cfg(any(
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira",
    feature = "contract"
))]
pub mod exchange;
pub mod fault;
#[cfg(feature = "glpi")]
pub mod glpi;
#[cfg(feature = "helix")]
pub mod helix;
#[cfg(feature = "jira")]
pub mod jira;
pub mod logs;
mod mock;
#[cfg(feature = "opsgenie")]
pub mod opsgenie;
#[cfg(feature = "opsramp")]
pub mod opsramp;
#[cfg(feature = "otrs")]
pub mod otrs;
pub mod paged;
pub mod proxy;
#[cfg(feature = "salesforce")]
pub mod salesforce;
#[cfg(feature = "sdp")]
pub mod sdp;
mod server;
#[cfg(feature = "servicenow")]
pub mod servicenow;
pub mod tokens;
#[cfg(feature = "topdesk")]
pub mod topdesk;

pub use mock::{Mock, ReceivedRequest, RecordedRequest, RequestLog};
