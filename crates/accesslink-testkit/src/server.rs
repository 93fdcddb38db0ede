//! Starting a stateful mock: one wiremock server with a single catch-all responder,
//! optionally behind a [`FaultProxy`].

use wiremock::{Mock, MockServer, Respond};

use crate::proxy::FaultProxy;

/// Starts a wiremock server whose every request goes to `responder` (a stateful
/// mock routes by path itself), and a [`FaultProxy`] in front of it when `proxy` is
/// true.
///
/// # Panics
///
/// When no loopback port can be bound, like [`MockServer::start`].
pub async fn start_mock<R>(
    responder: R,
    name: &str,
    proxy: bool,
) -> (MockServer, Option<FaultProxy>)
where
    R: Respond + 'static,
{
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(responder)
        .named(name)
        .mount(&server)
        .await;
    let proxy = if proxy {
        let proxy = FaultProxy::start(*server.address()).await;
        Some(proxy.expect("bind the fault proxy on loopback"))
    } else {
        None
    };
    (server, proxy)
}
