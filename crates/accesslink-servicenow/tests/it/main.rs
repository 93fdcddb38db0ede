//! The ServiceNow connector against scripted wiremock answers shaped like the instance's
//! (`wire`, `auth`) and against the testkit's stateful ServiceNow mock.

mod auth;
mod scripted;
mod wire;
