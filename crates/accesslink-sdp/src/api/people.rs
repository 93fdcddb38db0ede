//! People: requesters and technicians (`/requesters`, `/technicians`, or the paths set in
//! [`SdpPaths`](crate::SdpPaths)): list with `list_info`, get, create, update.

use accesslink_core::{Error, ErrorKind, Result};
use serde_json::{Map, Value, json};

use crate::client::SdpClient;
use crate::input::{self, Criteria};
use crate::models::{ListInfo, User};
use crate::refs::is_number;

use super::list_rows;

/// Requesters, the handle's former name.
pub type Requesters<'c> = People<'c>;

/// One collection of people; see [`SdpClient::requesters`] and [`SdpClient::people`].
#[derive(Debug, Clone)]
pub struct People<'c> {
    client: &'c SdpClient,
    /// The collection path and list key (`technicians`).
    path: String,
    /// The entity key (`technician`).
    key: String,
}

impl<'c> People<'c> {
    /// People under `path`; the entity key is `path` without its final `s`.
    pub(crate) fn new(client: &'c SdpClient, path: &str) -> Self {
        People {
            client,
            path: path.to_owned(),
            key: path.strip_suffix('s').unwrap_or(path).to_owned(),
        }
    }

    fn what(&self) -> String {
        format!("sdp {}", self.key)
    }

    fn entity(&self, body: &mut Map<String, Value>) -> Result<(User, Value)> {
        let v = body.remove(&self.key).ok_or_else(|| {
            Error::protocol(
                self.what(),
                format!("the answer has no {:?} object", self.key),
            )
        })?;
        let u = serde_json::from_value(v.clone())
            .map_err(|e| Error::protocol(self.what(), format!("{}: {e}", self.key)))?;
        Ok((u, v))
    }

    fn check_id(&self, id: &str) -> Result<()> {
        if is_number(id) {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "an SDP {} id is digits",
                self.key
            )))
        }
    }

    /// One page: the rows (typed and raw) and `list_info`. A body without the list or
    /// without `list_info` is a protocol error.
    pub async fn list_page(
        &self,
        criteria: &Criteria,
        start_index: u64,
        row_count: u32,
    ) -> Result<(Vec<(User, Value)>, ListInfo)> {
        let info = input::list_info(criteria, start_index, row_count);
        let (rows, info) = list_rows(self.client, &self.path, &self.path, &info).await?;
        let rows = rows
            .into_iter()
            .map(|v| serde_json::from_value::<User>(v.clone()).map(|u| (u, v)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::protocol(self.what(), format!("{}[]: {e}", self.path)))?;
        Ok((rows, info))
    }

    /// `GET /{path}/{id}`; `None` when it does not exist.
    pub async fn get_opt(&self, id: &str) -> Result<Option<(User, Value)>> {
        self.check_id(id)?;
        let http = self.client.http();
        match http
            .send_json::<Map<String, Value>>(http.get(&format!("{}/{id}", self.path))?)
            .await
        {
            Ok(mut body) => Ok(Some(self.entity(&mut body)?)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /{path}` with `input_data={"<key>":{…}}`.
    pub async fn create(&self, fields: Map<String, Value>) -> Result<User> {
        let http = self.client.http();
        let req = input::form(http.post(&self.path)?, &json!({ &self.key: fields }));
        Ok(self.entity(&mut http.send_json(req).await?)?.0)
    }

    /// `PUT /{path}/{id}` with `input_data={"<key>":{…}}`.
    pub async fn update(&self, id: &str, fields: Map<String, Value>) -> Result<User> {
        self.check_id(id)?;
        let http = self.client.http();
        let req = input::form(
            http.put(&format!("{}/{id}", self.path))?,
            &json!({ &self.key: fields }),
        );
        Ok(self.entity(&mut http.send_json(req).await?)?.0)
    }
}
