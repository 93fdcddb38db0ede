//! Groups and memberships: Cloud by `groupId`, Data Center by group name.

use accesslink_core::{Error, Result};
use serde::Deserialize;
use serde_json::json;

use crate::client::JiraClient;
use crate::models::{Group, PageBean, User};
use crate::settings::Deployment;

/// The most groups asked of the Data Center group picker.
const PICKER_MAX: u32 = 1000;

/// `client.groups()`.
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    client: &'a JiraClient,
}

fn group_param(d: Deployment) -> &'static str {
    match d {
        Deployment::Cloud => "groupId",
        Deployment::DataCenter => "groupname",
    }
}

impl<'a> Groups<'a> {
    pub(crate) fn new(client: &'a JiraClient) -> Self {
        Groups { client }
    }

    /// One page of groups: Cloud `GET /rest/api/3/group/bulk` (PageBean); Data Center
    /// `GET /rest/api/2/groups/picker?query=&maxResults=1000` (no paging there: the whole
    /// answer, paged here; a `total` above what it sent is a protocol error, never a short
    /// list).
    pub async fn list_page(&self, start: u64, size: u32) -> Result<PageBean<Group>> {
        let http = self.client.http().await?;
        match self.client.deployment() {
            Deployment::Cloud => {
                let req = http
                    .get("rest/api/3/group/bulk")?
                    .query(&[("startAt", start), ("maxResults", u64::from(size))])?;
                http.send_json(req).await
            }
            Deployment::DataCenter => {
                #[derive(Deserialize)]
                struct Picker {
                    groups: Vec<Group>,
                    #[serde(default)]
                    total: Option<u64>,
                }
                // The picker has no paging: ask for as many as it gives, page here, and
                // refuse to import short when it says there are more than it sent.
                let req = http
                    .get("rest/api/2/groups/picker")?
                    .query_pair("query", "")
                    .query(&[("maxResults", PICKER_MAX)])?;
                let p: Picker = http.send_json(req).await?;
                let sent = p.groups.len() as u64;
                if p.total.is_some_and(|t| t > sent) {
                    return Err(Error::protocol(
                        "jira groups/picker",
                        format!(
                            "{} groups match but the picker sent {sent}; Data Center has no paged group list",
                            p.total.unwrap_or_default()
                        ),
                    ));
                }
                let values: Vec<Group> = p
                    .groups
                    .into_iter()
                    .skip(usize::try_from(start).unwrap_or(usize::MAX))
                    .take(size as usize)
                    .collect();
                let is_last = start + values.len() as u64 >= sent;
                Ok(PageBean {
                    values,
                    start_at: Some(start),
                    is_last: Some(is_last),
                    total: Some(sent),
                })
            }
        }
    }

    /// One page of a group's members (inactive included).
    pub async fn members_page(&self, group: &str, start: u64, size: u32) -> Result<PageBean<User>> {
        let http = self.client.http().await?;
        let d = self.client.deployment();
        let req = http
            .get(&self.client.api_path("group/member"))?
            .query_pair(group_param(d), group)
            .query(&[("startAt", start), ("maxResults", u64::from(size))])?
            .query_pair("includeInactiveUsers", "true");
        http.send_json(req).await
    }

    /// Adds a user to a group (`POST …/group/user?groupId=`); "already a member" is a
    /// `Conflict` error.
    pub async fn add_member(&self, group: &str, user: &str) -> Result<()> {
        let http = self.client.http().await?;
        let d = self.client.deployment();
        let body = match d {
            Deployment::Cloud => json!({ "accountId": user }),
            Deployment::DataCenter => json!({ "name": user }),
        };
        let req = http
            .post(&self.client.api_path("group/user"))?
            .query_pair(group_param(d), group)
            .json(&body)?;
        http.send(req).await.map(drop)
    }

    /// Removes a user from a group (`DELETE …/group/user?groupId=&accountId=`).
    pub async fn remove_member(&self, group: &str, user: &str) -> Result<()> {
        let http = self.client.http().await?;
        let d = self.client.deployment();
        let who = match d {
            Deployment::Cloud => "accountId",
            Deployment::DataCenter => "username",
        };
        let req = http
            .delete(&self.client.api_path("group/user"))?
            .query_pair(group_param(d), group)
            .query_pair(who, user)
            // Removing twice leaves the same state: safe to repeat.
            .retry_safe(true);
        http.send(req).await.map(drop)
    }
}
