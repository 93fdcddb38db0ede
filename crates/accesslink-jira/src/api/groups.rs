//! Groups and memberships: Cloud by `groupId`, Data Center by group name.

use accesslink_core::Result;
use serde::Deserialize;
use serde_json::json;

use crate::client::JiraClient;
use crate::models::{Group, PageBean, User};
use crate::settings::Deployment;

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
    /// `GET /rest/api/2/groups/picker?query=&maxResults=` (no paging there: one page of
    /// up to `size`, marked last).
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
                }
                let req = http
                    .get("rest/api/2/groups/picker")?
                    .query_pair("query", "")
                    .query(&[("maxResults", size)])?;
                let p: Picker = http.send_json(req).await?;
                Ok(PageBean {
                    values: p.groups,
                    start_at: Some(0),
                    is_last: Some(true),
                    total: None,
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
