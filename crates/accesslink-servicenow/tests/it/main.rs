//! The ServiceNow connector against scripted wiremock answers shaped like the instance's
//! (`wire`, `auth`) and against the testkit's stateful ServiceNow mock (the rest).

mod auth;
mod closing;
mod conformance;
mod faults;
mod gate;
mod injection;
mod intake;
mod mock;
mod paging;
mod partition;
mod provisioning;
mod routing;
mod rules;
mod scripted;
mod settings;
mod wire;
