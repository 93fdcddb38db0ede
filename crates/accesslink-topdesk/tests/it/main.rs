//! The TOPdesk connector against the testkit's stateful TOPdesk mock: the shared
//! conformance suites, the requests on the wire, paging, bad input, faults and secrets.

mod accounts;
mod bad_input;
mod changes;
mod conformance;
mod contract;
mod faults;
mod intake;
mod paging;
mod passwords;
mod permission_groups;
mod secrets;
mod tickets;

use accesslink_testkit::Mock;
use accesslink_testkit::topdesk::TopdeskMock;
use accesslink_topdesk::{TopdeskConnector, TopdeskSettings};
use serde_json::{Value, json};

/// The mock's settings with `f` applied.
pub(crate) fn settings_with(mock: &TopdeskMock, f: impl FnOnce(&mut Value)) -> TopdeskSettings {
    let mut v = Mock::settings(mock);
    v.as_object_mut().unwrap().remove("target");
    v["http"] =
        json!({ "retry": { "max_attempts": 5, "initial_backoff": "2ms", "max_backoff": "20ms" } });
    f(&mut v);
    serde_json::from_value(v).unwrap()
}

/// A connector on the mock, built the one way: from settings.
pub(crate) fn on_mock(mock: &TopdeskMock) -> TopdeskConnector {
    TopdeskConnector::from_settings(settings_with(mock, |_| {})).unwrap()
}

/// The query parameter `name` of a received request.
pub(crate) fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
