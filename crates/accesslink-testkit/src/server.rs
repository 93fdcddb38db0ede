//! Starting a stateful mock: one wiremock server with a single catch-all responder that
//! logs every request, optionally behind a [`FaultProxy`].

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::mock::RequestLog;
use crate::proxy::FaultProxy;

/// A started mock server: the wiremock server, the proxy in front of it (if asked for) and
/// the log of every request it received.
pub(crate) struct Started {
    pub(crate) server: MockServer,
    pub(crate) proxy: Option<FaultProxy>,
    pub(crate) log: RequestLog,
}

/// Records each request in the log, then lets the mock's own responder answer.
struct Logged<R> {
    log: RequestLog,
    inner: R,
}

impl<R: Respond> Respond for Logged<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.log.record(request);
        self.inner.respond(request)
    }
}

/// Starts a wiremock server whose every request goes to `responder` (a stateful mock
/// routes by path itself), and a [`FaultProxy`] in front of it when `proxy` is true.
///
/// # Panics
///
/// When no loopback port can be bound, like [`MockServer::start`].
pub(crate) async fn start_mock<R>(responder: R, name: &str, proxy: bool) -> Started
where
    R: Respond + 'static,
{
    let log = RequestLog::new();
    let server = MockServer::start().await;
    let logged = Logged {
        log: log.clone(),
        inner: responder,
    };
    Mock::given(wiremock::matchers::any())
        .respond_with(logged)
        .named(name)
        .mount(&server)
        .await;
    let proxy = if proxy {
        let proxy = FaultProxy::start(*server.address()).await;
        Some(proxy.expect("bind the fault proxy on loopback"))
    } else {
        None
    };
    Started { server, proxy, log }
}
