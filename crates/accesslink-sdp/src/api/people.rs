//! `/requesters`: list with `list_info`, get, create, update.

use accesslink_core::{Error, ErrorKind, Result};
use serde_json::{Map, Value, json};

use crate::client::SdpClient;
use crate::input::{self, Criteria};
use crate::models::{ListInfo, User};
use crate::refs::is_number;

/// Requesters of one instance; see [`SdpClient::requesters`].
#[derive(Debug, Clone, Copy)]
pub struct Requesters<'c> {
    client: &'c SdpClient,
}

impl<'c> Requesters<'c> {
    pub(crate) fn new(client: &'c SdpClient) -> Self {
        Requesters { client }
    }

    fn entity(body: &mut Map<String, Value>) -> Result<User> {
        let v = body.remove("requester").ok_or_else(|| {
            Error::protocol("sdp requester", "the answer has no requester object")
        })?;
        serde_json::from_value(v)
            .map_err(|e| Error::protocol("sdp requester", format!("requester: {e}")))
    }

    /// One page: `(rows, list_info, raw rows)`. A body without `requesters` or
    /// `list_info` is a protocol error.
    pub async fn list_page(
        &self,
        criteria: &Criteria,
        start_index: u64,
        row_count: u32,
    ) -> Result<(Vec<(User, Value)>, ListInfo)> {
        let http = self.client.http();
        let req = input::query(
            http.get("requesters")?,
            &input::list_info(criteria, start_index, row_count),
        );
        let mut body: Map<String, Value> = http.send_json(req).await?;
        let Some(Value::Array(rows)) = body.remove("requesters") else {
            return Err(Error::protocol(
                "sdp requesters",
                "the list answer has no requesters array",
            ));
        };
        let Some(info @ Value::Object(_)) = body.remove("list_info") else {
            return Err(Error::protocol(
                "sdp requesters",
                "the list answer has no list_info",
            ));
        };
        let info: ListInfo = serde_json::from_value(info)
            .map_err(|e| Error::protocol("sdp requesters", format!("list_info: {e}")))?;
        let rows = rows
            .into_iter()
            .map(|v| serde_json::from_value::<User>(v.clone()).map(|u| (u, v)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::protocol("sdp requesters", format!("requesters[]: {e}")))?;
        Ok((rows, info))
    }

    /// `GET /requesters/{id}`; `None` when it does not exist.
    pub async fn get_opt(&self, id: &str) -> Result<Option<(User, Value)>> {
        if !is_number(id) {
            return Err(Error::invalid_input("an SDP requester id is digits"));
        }
        let http = self.client.http();
        match http
            .send_json::<Map<String, Value>>(http.get(&format!("requesters/{id}"))?)
            .await
        {
            Ok(mut body) => {
                let raw = body.get("requester").cloned().unwrap_or(Value::Null);
                Ok(Some((Self::entity(&mut body)?, raw)))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /requesters` with `input_data={"requester":{…}}`.
    pub async fn create(&self, fields: Map<String, Value>) -> Result<User> {
        let http = self.client.http();
        let req = input::form(http.post("requesters")?, &json!({ "requester": fields }));
        Self::entity(&mut http.send_json(req).await?)
    }

    /// `PUT /requesters/{id}` with `input_data={"requester":{…}}`.
    pub async fn update(&self, id: &str, fields: Map<String, Value>) -> Result<User> {
        if !is_number(id) {
            return Err(Error::invalid_input("an SDP requester id is digits"));
        }
        let http = self.client.http();
        let req = input::form(
            http.put(&format!("requesters/{id}"))?,
            &json!({ "requester": fields }),
        );
        Self::entity(&mut http.send_json(req).await?)
    }
}
