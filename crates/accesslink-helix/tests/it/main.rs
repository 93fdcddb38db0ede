//! The Helix connector against the testkit's stateful Helix mock: the shared conformance
//! suite, JWT login and logout, the requests on the wire, paging, bad input, faults and
//! secrets.

mod auth;
mod conformance;
mod faults;
mod groups;
mod input;
mod intake;
mod paging;
mod partition;
mod people;
mod secrets;
mod tickets;

use accesslink_helix::{HelixConnector, HelixSettings};
use accesslink_testkit::Mock;
use accesslink_testkit::helix::HelixMock;
use serde_json::{Value, json};

/// The mock's settings with `f` applied.
pub(crate) fn settings_with(mock: &HelixMock, f: impl FnOnce(&mut Value)) -> HelixSettings {
    let mut v = Mock::settings(mock);
    v.as_object_mut().unwrap().remove("target");
    v["http"] =
        json!({ "retry": { "max_attempts": 4, "initial_backoff": "2ms", "max_backoff": "20ms" } });
    f(&mut v);
    serde_json::from_value(v).unwrap()
}

/// A connector on the mock, built the one way: from settings.
pub(crate) fn on_mock(mock: &HelixMock) -> HelixConnector {
    HelixConnector::from_settings(settings_with(mock, |_| {})).unwrap()
}

/// The query parameter `name` of a received request.
pub(crate) fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
