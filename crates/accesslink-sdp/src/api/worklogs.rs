//! Notes and worklogs of a request or change: `GET /{entity}/{id}/notes`,
//! `GET`/`POST /{entity}/{id}/worklogs`.

use accesslink_core::{Error, Result, de};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::SdpClient;
use crate::input::{self, Criteria};
use crate::models::{ListInfo, Time, User};
use crate::refs::{Entity, is_number};

/// Pages of notes or worklogs read at most for one ticket.
const MAX_PAGES: usize = 50;

/// A note (`request_note` / `note`) as listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Note {
    /// The note's id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// The text (HTML allowed).
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// Whether the requester sees it (public).
    #[serde(default)]
    pub show_to_requester: Option<bool>,
    /// Who wrote it.
    #[serde(default)]
    pub created_by: Option<User>,
    /// When.
    #[serde(default)]
    pub created_time: Option<Time>,
}

/// A worklog as listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Worklog {
    /// The worklog's id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// The text.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// The technician the work is logged for.
    #[serde(default)]
    pub owner: Option<User>,
    /// Who logged it.
    #[serde(default)]
    pub created_by: Option<User>,
    /// When it was logged.
    #[serde(default)]
    pub created_time: Option<Time>,
    /// When the work started.
    #[serde(default)]
    pub start_time: Option<Time>,
}

/// Notes and worklogs of one entity; see [`SdpClient::worklogs`].
#[derive(Debug, Clone, Copy)]
pub struct Worklogs<'c> {
    client: &'c SdpClient,
    entity: Entity,
}

impl<'c> Worklogs<'c> {
    pub(crate) fn new(client: &'c SdpClient, entity: Entity) -> Self {
        Worklogs { client, entity }
    }

    fn check(id: &str) -> Result<()> {
        if is_number(id) {
            Ok(())
        } else {
            Err(Error::invalid_input("an SDP id is digits"))
        }
    }

    /// Every row of `GET /{entity}/{id}/{what}` (`notes`, `worklogs`), page by page
    /// (`list_info`; an answer without `list_info` is one page). A body without the
    /// array is a protocol error.
    async fn all(&self, id: &str, what: &str) -> Result<Vec<Value>> {
        Self::check(id)?;
        let http = self.client.http();
        let path = format!("{}/{id}/{what}", self.entity.path());
        let label = format!("sdp {} {what}", self.entity.key());
        let mut out = Vec::new();
        let mut start = 1u64;
        for _ in 0..MAX_PAGES {
            let req = input::query(
                http.get(&path)?,
                &input::list_info(&Criteria::new(), start, 100),
            );
            let mut body: Map<String, Value> = http.send_json(req).await?;
            let Some(Value::Array(rows)) = body.remove(what) else {
                return Err(Error::protocol(
                    label,
                    format!("the answer has no {what:?} array"),
                ));
            };
            let info: ListInfo = match body.remove("list_info") {
                None | Some(Value::Null) => ListInfo::default(),
                Some(v) => serde_json::from_value(v)
                    .map_err(|e| Error::protocol(label.clone(), format!("list_info: {e}")))?,
            };
            super::check_page(&label, start, &info, rows.len())?;
            let n = rows.len() as u64;
            out.extend(rows);
            if info.has_more_rows != Some(true) {
                return Ok(out);
            }
            start += n;
        }
        Err(Error::protocol(
            label,
            format!("more than {MAX_PAGES} pages"),
        ))
    }

    /// The ticket's notes, as the server orders them.
    pub async fn notes(&self, id: &str) -> Result<Vec<Note>> {
        let rows = self.all(id, "notes").await?;
        rows.into_iter()
            .map(serde_json::from_value)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::protocol(format!("sdp {} notes", self.entity.key()), e.to_string()))
    }

    /// The ticket's worklogs, as the server orders them.
    pub async fn list(&self, id: &str) -> Result<Vec<Worklog>> {
        let rows = self.all(id, "worklogs").await?;
        rows.into_iter()
            .map(serde_json::from_value)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| {
                Error::protocol(format!("sdp {} worklogs", self.entity.key()), e.to_string())
            })
    }

    /// `POST /{entity}/{id}/worklogs` with `input_data={"worklog":{"description":…}}`
    /// (plus `extra` fields: `owner`, `time_spent`, `start_time`… where an instance
    /// makes them mandatory). Sent once.
    pub async fn add(&self, id: &str, text: &str, extra: &Map<String, Value>) -> Result<Worklog> {
        Self::check(id)?;
        let mut f = extra.clone();
        f.insert("description".into(), json!(text));
        let http = self.client.http();
        let req = input::form(
            http.post(&format!("{}/{id}/worklogs", self.entity.path()))?,
            &json!({ "worklog": f }),
        );
        let mut body: Map<String, Value> = http.send_json(req).await?;
        let v = body.remove("worklog").ok_or_else(|| {
            Error::protocol(
                format!("sdp {} worklog", self.entity.key()),
                "the answer has no worklog object",
            )
        })?;
        serde_json::from_value(v).map_err(|e| {
            Error::protocol(format!("sdp {} worklog", self.entity.key()), e.to_string())
        })
    }
}
