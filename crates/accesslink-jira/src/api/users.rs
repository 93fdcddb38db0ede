//! Users: Cloud by `accountId`, Data Center by `name`.

use accesslink_core::{Error, Result};
use serde::Deserialize;
use serde_json::{Value, json};

use super::optional;
use crate::client::JiraClient;
use crate::models::{Group, User};
use crate::settings::Deployment;

/// `client.users()`.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a JiraClient,
}

/// The query parameter naming a user: `accountId` on Cloud, `username` on Data Center.
fn who(d: Deployment) -> &'static str {
    match d {
        Deployment::Cloud => "accountId",
        Deployment::DataCenter => "username",
    }
}

impl<'a> Users<'a> {
    pub(crate) fn new(client: &'a JiraClient) -> Self {
        Users { client }
    }

    /// One page of users at offset `start`: Cloud `GET /rest/api/3/users/search` (every
    /// account type, active and not), Data Center `GET /rest/api/2/user/search?username=.`
    /// (`includeInactive=true`). Both answer a bare array; the end is an empty one.
    pub async fn list_page(&self, start: u64, size: u32) -> Result<Vec<User>> {
        let http = self.client.http().await?;
        let req = match self.client.deployment() {
            Deployment::Cloud => http
                .get("rest/api/3/users/search")?
                .query(&[("startAt", start), ("maxResults", u64::from(size))])?,
            Deployment::DataCenter => http
                .get("rest/api/2/user/search")?
                .query(&[("startAt", start), ("maxResults", u64::from(size))])?
                .query_pair("username", ".")
                .query_pair("includeInactive", "true"),
        };
        http.send_json(req).await
    }

    /// One user; `None` when unknown.
    pub async fn get_opt(&self, id: &str) -> Result<Option<User>> {
        let http = self.client.http().await?;
        let d = self.client.deployment();
        let req = http
            .get(&self.client.api_path("user"))?
            .query_pair(who(d), id);
        optional(http.send_json(req).await)
    }

    /// Creates a user: Cloud `{"emailAddress","products"}` (the account id comes back),
    /// Data Center `{"name","emailAddress","displayName"}`.
    pub async fn create(&self, body: &Value) -> Result<User> {
        let http = self.client.http().await?;
        let req = http.post(&self.client.api_path("user"))?.json(body)?;
        http.send_json(req).await
    }

    /// Data Center: `PUT /rest/api/2/user?username=` with the changed fields
    /// (`displayName`, `emailAddress`, `active`). Cloud has no such call.
    pub async fn update(&self, id: &str, body: &Value) -> Result<User> {
        if self.client.deployment() == Deployment::Cloud {
            // Jira Cloud's REST API cannot change a user's profile or active flag: that is
            // the Atlassian organization admin API or SCIM.
            return Err(Error::Unsupported {
                operation: "updating a Jira Cloud user (use the Atlassian organization admin API or SCIM)",
                target: "jira",
            });
        }
        let http = self.client.http().await?;
        let req = http
            .put("rest/api/2/user")?
            .query_pair("username", id)
            .json(body)?;
        http.send_json(req).await
    }

    /// Deletes a user (site admin on Cloud).
    pub async fn delete(&self, id: &str) -> Result<()> {
        let http = self.client.http().await?;
        let d = self.client.deployment();
        let req = http
            .delete(&self.client.api_path("user"))?
            .query_pair(who(d), id);
        http.send(req).await.map(drop)
    }

    /// The groups a user is in: Cloud `GET /rest/api/3/user/groups?accountId=`, Data
    /// Center `GET /rest/api/2/user?username=&expand=groups`.
    pub async fn groups(&self, id: &str) -> Result<Vec<Group>> {
        let http = self.client.http().await?;
        match self.client.deployment() {
            Deployment::Cloud => {
                let req = http
                    .get("rest/api/3/user/groups")?
                    .query_pair("accountId", id);
                http.send_json(req).await
            }
            Deployment::DataCenter => {
                #[derive(Deserialize)]
                struct Items {
                    items: Vec<Group>,
                }
                #[derive(Deserialize)]
                struct WithGroups {
                    groups: Items,
                }
                let req = http
                    .get("rest/api/2/user")?
                    .query_pair("username", id)
                    .query_pair("expand", "groups");
                let u: WithGroups = http.send_json(req).await?;
                Ok(u.groups.items)
            }
        }
    }

    /// The body of a create for this deployment.
    pub fn create_body(
        &self,
        login: &str,
        email: Option<&str>,
        display_name: Option<&str>,
        products: &[String],
    ) -> Value {
        match self.client.deployment() {
            Deployment::Cloud => {
                json!({ "emailAddress": email.unwrap_or(login), "products": products })
            }
            Deployment::DataCenter => {
                let mut b = json!({ "name": login });
                if let Some(e) = email {
                    b["emailAddress"] = json!(e);
                }
                b["displayName"] = json!(display_name.unwrap_or(login));
                b
            }
        }
    }
}
