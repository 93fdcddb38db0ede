//! Helpers: an authenticated client and request shortcuts.

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;

use crate::servicenow::ServiceNowMock;

/// A client without proxies.
pub(crate) fn client() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

/// A request with the default Basic credentials.
pub(crate) fn call(mock: &ServiceNowMock, method: Method, path: &str) -> RequestBuilder {
    client()
        .request(method, format!("{}{path}", mock.url()))
        .basic_auth(mock.user(), Some(mock.password()))
}

/// `GET path` with query pairs; status, headers and JSON body.
pub(crate) async fn get(
    mock: &ServiceNowMock,
    path: &str,
    query: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = call(mock, Method::GET, path)
        .query(query)
        .send()
        .await
        .expect("send");
    split(resp).await
}

/// Status, headers and JSON body (`Value::Null` when empty or not JSON).
pub(crate) async fn split(resp: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `method path` with a JSON body; status and JSON body.
pub(crate) async fn send_json(
    mock: &ServiceNowMock,
    method: Method,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let resp = call(mock, method, path)
        .json(body)
        .send()
        .await
        .expect("send");
    let (status, _, body) = split(resp).await;
    (status, body)
}

/// The `result` list's values of one field.
pub(crate) fn column(body: &Value, field: &str) -> Vec<String> {
    body["result"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r[field].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}
