//! The ServiceNow connector against scripted wiremock answers shaped like the instance's
//! (`wire`, `auth`) and against the testkit's stateful ServiceNow mock (the rest).

mod auth;
mod conformance;
mod injection;
mod mock;
mod routing;
mod scripted;
mod wire;
