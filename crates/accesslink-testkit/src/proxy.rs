//! A loopback TCP proxy for faults wiremock cannot produce.
//!
//! wiremock always answers with a complete, well-formed response, so dropped connections,
//! responses cut off mid-body and connection resets need something that owns the socket.
//! [`FaultProxy`] sits in front of a mock server and speaks just enough HTTP/1.1 for that:
//! one request per client connection (it answers with `Connection: close`), bodies framed by
//! `Content-Length` only (chunked requests get a `501`), a fresh upstream connection per
//! request. Faults are queued on the proxy ([`FaultProxy::drop_next`],
//! [`FaultProxy::truncate_next`], [`FaultProxy::reset_next`]) or requested by the mock with
//! the [`FAULT_HEADER`] response header (see [`crate::fault::Fault::DropConnection`]).
//!
//! Every faulted request is still forwarded, so the upstream sees it: that is the case worth
//! testing ("the server did the work, the client never heard back").

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::fault::{FAULT_DROP, FAULT_HEADER};

/// Largest request or response head the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;

/// Hop-by-hop headers the proxy replaces with its own `Connection: close`.
const HOP_BY_HOP: [&str; 3] = ["connection", "keep-alive", "proxy-connection"];

/// A socket-level fault queued on a [`FaultProxy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFault {
    /// Close the client connection without sending anything.
    Drop,
    /// Send only the first this-many bytes of the response (head included), then close.
    Truncate(usize),
    /// Close with `SO_LINGER` 0, so the client sees a connection reset.
    Reset,
}

/// Which requests a queued fault applies to: a method and a path fragment, or any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Target {
    method: Option<String>,
    path: Option<String>,
}

impl Target {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| path.ends_with(p))
    }
}

#[derive(Debug, Default)]
struct Shared {
    faults: Mutex<VecDeque<(Target, ProxyFault)>>,
    log: Mutex<Vec<(String, String)>>,
    requests: AtomicUsize,
    applied: AtomicUsize,
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, VecDeque<(Target, ProxyFault)>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn log(&self) -> MutexGuard<'_, Vec<(String, String)>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_fault(&self, method: &str, path: &str) -> Option<ProxyFault> {
        let mut faults = self.faults();
        let at = faults.iter().position(|(t, _)| t.matches(method, path))?;
        let fault = faults.remove(at).map(|(_, f)| f);
        if fault.is_some() {
            self.applied.fetch_add(1, Ordering::SeqCst);
        }
        fault
    }
}

/// A fault-injecting HTTP/1.1 proxy on `127.0.0.1`, in front of one upstream server.
///
/// Dropping it stops accepting connections and aborts connections in flight.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Binds a loopback port and starts proxying to `upstream`. Needs a Tokio runtime.
    pub async fn start(upstream: SocketAddr) -> io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn(accept_loop(listener, upstream, Arc::clone(&shared)));
        Ok(FaultProxy {
            addr,
            upstream,
            shared,
            accept,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server requests are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// How many complete requests clients have sent through the proxy.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// How many queued faults have fired (the mock's drop marker is not counted).
    pub fn applied(&self) -> usize {
        self.shared.applied.load(Ordering::SeqCst)
    }

    /// How many queued faults are still waiting for a request.
    pub fn pending(&self) -> usize {
        self.shared.faults().len()
    }

    /// Queues `fault` for the next `n` requests.
    pub fn push(&self, fault: ProxyFault, n: usize) -> &Self {
        self.shared
            .faults()
            .extend(std::iter::repeat_n((Target::default(), fault), n));
        self
    }

    /// Queues `fault` for the next `n` requests with this method whose path (query
    /// excluded) ends with `path_suffix`; other requests pass untouched.
    pub fn push_for(&self, method: &str, path_suffix: &str, fault: ProxyFault, n: usize) -> &Self {
        let target = Target {
            method: Some(method.to_owned()),
            path: Some(path_suffix.to_owned()),
        };
        self.shared
            .faults()
            .extend(std::iter::repeat_n((target, fault), n));
        self
    }

    /// How many requests with this method had a path (query excluded) ending with
    /// `path_suffix`.
    pub fn requests_to(&self, method: &str, path_suffix: &str) -> usize {
        self.shared
            .log()
            .iter()
            .filter(|(m, p)| m.eq_ignore_ascii_case(method) && p.ends_with(path_suffix))
            .count()
    }

    /// The next `n` requests lose their connection without any response.
    pub fn drop_next(&self, n: usize) -> &Self {
        self.push(ProxyFault::Drop, n)
    }

    /// The next `n` responses are cut after `bytes` bytes (head included).
    pub fn truncate_next(&self, n: usize, bytes: usize) -> &Self {
        self.push(ProxyFault::Truncate(bytes), n)
    }

    /// The next `n` requests end in a connection reset.
    pub fn reset_next(&self, n: usize) -> &Self {
        self.push(ProxyFault::Reset, n)
    }

    /// Forgets every queued fault.
    pub fn clear(&self) {
        self.shared.faults().clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet, which aborts open connections too.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    if let Err(error) = serve_connection(stream, upstream, &shared).await {
                        tracing::debug!(%error, "fault proxy connection failed");
                    }
                });
            }
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "fault proxy accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// A client request, already rewritten for the upstream.
struct Forward {
    head: Vec<u8>,
    body: Vec<u8>,
}

enum Incoming {
    Request(Forward),
    Reject(u16, &'static str),
    Closed,
}

async fn serve_connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    shared: &Shared,
) -> io::Result<()> {
    let request = match read_request(&mut client).await? {
        Incoming::Request(request) => request,
        Incoming::Reject(status, reason) => {
            client.write_all(&simple_response(status, reason)).await?;
            return client.shutdown().await;
        }
        Incoming::Closed => return Ok(()),
    };
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let (method, path) = request_target(&request.head);
    shared.log().push((method.clone(), path.clone()));

    let response = match exchange(upstream, &request).await {
        Ok(raw) => raw,
        Err(error) => {
            tracing::debug!(%error, %upstream, "fault proxy upstream failed");
            simple_response(502, "upstream unreachable")
        }
    };
    let Some(response) = rewrite_response(&response) else {
        // The mock asked for a dropped connection: close without answering.
        return Ok(());
    };

    match shared.next_fault(&method, &path) {
        None => {
            client.write_all(&response).await?;
            client.shutdown().await
        }
        Some(ProxyFault::Drop) => Ok(()),
        Some(ProxyFault::Truncate(bytes)) => {
            client
                .write_all(&response[..bytes.min(response.len())])
                .await?;
            client.shutdown().await
        }
        Some(ProxyFault::Reset) => client.set_zero_linger(),
    }
}

/// Method and path (without query) of a forwarded request head.
fn request_target(head: &[u8]) -> (String, String) {
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    (method, path)
}

/// Reads one request head and its `Content-Length` body.
async fn read_request(client: &mut TcpStream) -> io::Result<Incoming> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(end) = find_head_end(&buf) {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return Ok(Incoming::Reject(431, "request head too large"));
        }
        if client.read_buf(&mut buf).await? == 0 {
            return if buf.is_empty() {
                Ok(Incoming::Closed)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Ok(Incoming::Reject(400, "request head is not UTF-8"));
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut forwarded = format!("{request_line}\r\n");
    let mut content_length = 0usize;
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Ok(Incoming::Reject(400, "malformed header line"));
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Ok(Incoming::Reject(501, "chunked requests are not supported"));
        }
        if name.eq_ignore_ascii_case("content-length") {
            match value.trim().parse() {
                Ok(n) => content_length = n,
                Err(_) => return Ok(Incoming::Reject(400, "bad content-length")),
            }
        }
        if !is_hop_by_hop(name) {
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("connection: close\r\n\r\n");

    let mut body = buf.split_off(head_end + 4);
    if body.len() < content_length {
        let already = body.len();
        body.resize(content_length, 0);
        client.read_exact(&mut body[already..]).await?;
    }
    // Bytes past the body would be a pipelined request; we answer one request per connection.
    body.truncate(content_length);
    Ok(Incoming::Request(Forward {
        head: forwarded.into_bytes(),
        body,
    }))
}

/// Sends the request on a fresh connection and reads the response to EOF.
async fn exchange(upstream: SocketAddr, request: &Forward) -> io::Result<Vec<u8>> {
    let mut conn = TcpStream::connect(upstream).await?;
    conn.write_all(&request.head).await?;
    conn.write_all(&request.body).await?;
    let mut response = Vec::new();
    conn.read_to_end(&mut response).await?;
    Ok(response)
}

/// Forces `Connection: close` on the response; `None` when it carries the drop marker.
/// A response whose head cannot be parsed is passed on unchanged.
fn rewrite_response(raw: &[u8]) -> Option<Vec<u8>> {
    let Some(end) = find_head_end(raw) else {
        return Some(raw.to_vec());
    };
    let Ok(head) = std::str::from_utf8(&raw[..end]) else {
        return Some(raw.to_vec());
    };
    let mut lines = head.split("\r\n");
    let mut out = format!("{}\r\n", lines.next().unwrap_or_default());
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if name.trim().eq_ignore_ascii_case(FAULT_HEADER)
            && value.trim().eq_ignore_ascii_case(FAULT_DROP)
        {
            return None;
        }
        if !is_hop_by_hop(name.trim()) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&raw[end + 4..]);
    Some(bytes)
}

fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// Index of the `\r\n\r\n` ending the head.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn simple_response(status: u16, reason: &str) -> Vec<u8> {
    let phrase = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{reason}",
        reason.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use wiremock::matchers::{body_string, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    /// A server with `GET /hello` (2000 bytes) behind a proxy, and a client.
    async fn setup() -> (MockServer, FaultProxy, reqwest::Client) {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/hello"))
            .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2000)))
            .mount(&server)
            .await;
        let proxy = FaultProxy::start(*server.address()).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        (server, proxy, client)
    }

    async fn get(client: &reqwest::Client, url: String) -> reqwest::Result<reqwest::Response> {
        client.get(url).send().await
    }

    fn is_reset(error: &reqwest::Error) -> bool {
        let mut source = error.source();
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<io::Error>() {
                return io.kind() == io::ErrorKind::ConnectionReset;
            }
            source = err.source();
        }
        false
    }

    #[tokio::test]
    async fn passes_get_and_post_with_body_through() {
        let (server, proxy, client) = setup().await;
        Mock::given(method("POST"))
            .and(path("/echo"))
            .and(body_string(r#"{"name":"ada"}"#))
            .respond_with(ResponseTemplate::new(201).set_body_string("created"))
            .mount(&server)
            .await;

        let resp = get(&client, format!("{}/hello", proxy.url()))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["connection"], "close");
        assert_eq!(resp.text().await.unwrap(), "x".repeat(2000));

        let resp = client
            .post(format!("{}/echo", proxy.url()))
            .header("content-type", "application/json")
            .body(r#"{"name":"ada"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.text().await.unwrap(), "created");

        assert_eq!(proxy.requests(), 2);
        let received = server.received_requests().await.unwrap();
        assert_eq!(received.len(), 2);
        assert_eq!(received[1].body, br#"{"name":"ada"}"#);
        assert_eq!(received[1].headers["connection"], "close");
        assert_eq!(proxy.upstream(), *server.address());
    }

    #[tokio::test]
    async fn drop_closes_without_answer_once() {
        let (server, proxy, client) = setup().await;
        proxy.drop_next(1);
        let url = format!("{}/hello", proxy.url());

        let err = get(&client, url.clone()).await.unwrap_err();
        assert!(err.is_request(), "expected a transport error, got {err:?}");
        assert_eq!(get(&client, url).await.unwrap().status(), 200);

        assert_eq!(proxy.applied(), 1);
        assert_eq!(proxy.pending(), 0);
        // The dropped request still reached the server.
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn targeted_fault_waits_for_its_route_and_requests_are_logged() {
        let (server, proxy, client) = setup().await;
        proxy.push_for("POST", "/echo", ProxyFault::Drop, 1);
        let hello = format!("{}/hello?SessionID=x", proxy.url());
        assert_eq!(get(&client, hello.clone()).await.unwrap().status(), 200);
        assert_eq!(
            proxy.pending(),
            1,
            "a GET to /hello does not take the POST fault"
        );
        let err = client
            .post(format!("{}/echo", proxy.url()))
            .body("{}")
            .send()
            .await
            .unwrap_err();
        assert!(err.is_request(), "{err:?}");
        assert_eq!(proxy.pending(), 0);
        assert_eq!(proxy.requests_to("GET", "/hello"), 1);
        assert_eq!(proxy.requests_to("POST", "/echo"), 1);
        assert_eq!(
            proxy.requests_to("GET", "SessionID"),
            0,
            "queries are not logged"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn truncate_breaks_the_body_after_the_head() {
        let (_server, proxy, client) = setup().await;
        proxy.truncate_next(1, 400);

        let resp = get(&client, format!("{}/hello", proxy.url()))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.content_length(), Some(2000));
        let err = resp.bytes().await.unwrap_err();
        assert!(
            err.is_body() || err.is_decode(),
            "unexpected error kind: {err:?}"
        );
    }

    #[tokio::test]
    async fn reset_gives_a_connection_reset() {
        let (_server, proxy, client) = setup().await;
        proxy.reset_next(1);

        let err = get(&client, format!("{}/hello", proxy.url()))
            .await
            .unwrap_err();
        assert!(
            is_reset(&err),
            "expected ECONNRESET in the chain, got {err:?}"
        );
        assert_eq!(proxy.applied(), 1);
    }

    #[tokio::test]
    async fn the_mock_drop_marker_drops_the_connection() {
        let (server, proxy, client) = setup().await;
        Mock::given(path("/marked"))
            .respond_with(ResponseTemplate::new(502).insert_header(FAULT_HEADER, FAULT_DROP))
            .mount(&server)
            .await;

        let err = get(&client, format!("{}/marked", proxy.url()))
            .await
            .unwrap_err();
        assert!(err.is_request(), "expected a transport error, got {err:?}");
        assert_eq!(proxy.applied(), 0, "the marker is not a queued fault");
    }

    #[tokio::test]
    async fn chunked_requests_are_rejected_with_501() {
        let (server, proxy, _client) = setup().await;
        let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
        conn.write_all(
            b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 501 "), "got {response:?}");
        assert_eq!(proxy.requests(), 0);
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unreachable_upstream_is_a_502() {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = closed.local_addr().unwrap();
        drop(closed);
        let proxy = FaultProxy::start(upstream).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = get(&client, proxy.url()).await.unwrap();
        assert_eq!(resp.status(), 502);
        assert_eq!(resp.text().await.unwrap(), "upstream unreachable");
    }

    #[test]
    fn rewrite_forces_close_and_detects_the_marker() {
        let raw = b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\ncontent-length: 2\r\n\r\nok";
        let out = String::from_utf8(rewrite_response(raw).unwrap()).unwrap();
        assert_eq!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
        );
        let marked = b"HTTP/1.1 502 Bad Gateway\r\nX-Testkit-Fault: drop\r\n\r\n";
        assert_eq!(rewrite_response(marked), None);
    }
}
