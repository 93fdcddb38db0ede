//! Issues: read, create, label, comment, transition, search.

use accesslink_core::{Error, Result};
use serde_json::{Map, Value, json};

use super::optional;
use crate::adf::RichText;
use crate::client::JiraClient;
use crate::jql::Jql;
use crate::models::{
    CommentPage, CreateMetaPage, CreatedIssue, Issue, OffsetSearchPage, TokenSearchPage,
    Transition, Transitions,
};
use crate::refs::IssueRef;
use crate::settings::Deployment;

/// The fields the connector reads with every issue (and the client's extra fields).
pub const FIELDS: &[&str] = &[
    "summary",
    "description",
    "status",
    "resolution",
    "labels",
    "reporter",
    "assignee",
    "issuetype",
    "project",
    "priority",
    "created",
    "updated",
];

/// The fields of a new issue.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IssueFieldsRequest {
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Description, as plain text (sent as ADF on Cloud).
    pub description: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Other fields, as Jira takes them (`customfield_10050`, `priority`).
    pub extra: Map<String, Value>,
}

impl IssueFieldsRequest {
    /// A new issue of `issue_type` in `project`.
    pub fn new(
        project: impl Into<String>,
        issue_type: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        IssueFieldsRequest {
            project: project.into(),
            issue_type: issue_type.into(),
            summary: summary.into(),
            description: String::new(),
            labels: Vec::new(),
            extra: Map::new(),
        }
    }

    /// The `fields` object for `deployment`.
    pub fn to_json(&self, deployment: Deployment) -> Value {
        let mut fields = self.extra.clone();
        fields.insert("project".into(), json!({ "key": self.project }));
        fields.insert("issuetype".into(), json!({ "name": self.issue_type }));
        fields.insert("summary".into(), json!(self.summary));
        if !self.description.is_empty() {
            fields.insert(
                "description".into(),
                RichText(&self.description).body(deployment),
            );
        }
        fields.insert("labels".into(), json!(self.labels));
        Value::Object(fields)
    }
}

/// One page of a search.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SearchPage {
    /// The issues.
    pub issues: Vec<Issue>,
    /// Where the next page starts (a Cloud token, a Data Center offset), `None` at the end.
    pub next: Option<String>,
    /// The total (Data Center only).
    pub total: Option<u64>,
}

/// `client.issues()`.
#[derive(Debug, Clone, Copy)]
pub struct Issues<'a> {
    client: &'a JiraClient,
}

impl<'a> Issues<'a> {
    pub(crate) fn new(client: &'a JiraClient) -> Self {
        Issues { client }
    }

    fn path(&self, rest: &str) -> String {
        self.client.api_path(rest)
    }

    /// `GET /issue/{key or id}?fields=…`; `None` on 404 (missing or hidden). An old key
    /// of a moved issue answers with the issue under its new key.
    pub async fn get_opt(&self, r: &IssueRef) -> Result<Option<Issue>> {
        let http = self.client.http().await?;
        let req = http
            .get(&self.path(&format!("issue/{}", r.as_str())))?
            .query_pair("fields", &self.client.fields().join(","));
        optional(http.send_json(req).await)
    }

    /// `POST /issue`. Not retried by the client: see the connector's create.
    pub async fn create(&self, fields: &IssueFieldsRequest) -> Result<CreatedIssue> {
        let http = self.client.http().await?;
        let body = json!({ "fields": fields.to_json(self.client.deployment()) });
        let req = http.post(&self.path("issue"))?.json(&body)?;
        http.send_json(req).await
    }

    /// `PUT /issue/{key}` `{"update":{"labels":[{"add":…}]}}`.
    pub async fn add_label(&self, r: &IssueRef, label: &str) -> Result<()> {
        let http = self.client.http().await?;
        let body = json!({ "update": { "labels": [{ "add": label }] } });
        let req = http
            .put(&self.path(&format!("issue/{}", r.as_str())))?
            .json(&body)?;
        http.send(req).await.map(drop)
    }

    /// `POST /issue/{key}/comment`: ADF on Cloud, a string on Data Center; `internal`
    /// adds the JSM property `sd.public.comment = {"internal": true}`.
    pub async fn comment(&self, r: &IssueRef, text: &str, internal: bool) -> Result<()> {
        let http = self.client.http().await?;
        let mut body = json!({ "body": RichText(text).body(self.client.deployment()) });
        if internal {
            body["properties"] =
                json!([{ "key": "sd.public.comment", "value": { "internal": true } }]);
        }
        let req = http
            .post(&self.path(&format!("issue/{}/comment", r.as_str())))?
            .json(&body)?;
        http.send(req).await.map(drop)
    }

    /// `GET /issue/{key}/comment?startAt&maxResults&orderBy=created&expand=properties`:
    /// one page of comments, oldest first, with the JSM `sd.public.comment` property.
    /// A 404 is the issue's (missing or hidden).
    pub async fn comments_page(&self, r: &IssueRef, start: u64, size: u32) -> Result<CommentPage> {
        let http = self.client.http().await?;
        let req = http
            .get(&self.path(&format!("issue/{}/comment", r.as_str())))?
            .query_pair("startAt", &start.to_string())
            .query_pair("maxResults", &size.to_string())
            .query_pair("orderBy", "created")
            .query_pair("expand", "properties");
        let page: CommentPage = http.send_json(req).await?;
        if page.start_at != start {
            return Err(Error::protocol(
                "jira comments",
                format!("asked for startAt {start}, got a page at {}", page.start_at),
            ));
        }
        Ok(page)
    }

    /// `GET /issue/createmeta/{project}/issuetypes[/{issue type id}]?startAt&maxResults`:
    /// one page of a project's creatable issue types, or of one type's create fields.
    pub async fn createmeta_page(
        &self,
        project: &str,
        issue_type_id: Option<&str>,
        start: u64,
    ) -> Result<CreateMetaPage> {
        let ok = |v: &str| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !ok(project) || !issue_type_id.is_none_or(ok) {
            return Err(Error::invalid_input(format!(
                "{project:?} / {issue_type_id:?} is not a project key and issue type id"
            )));
        }
        let http = self.client.http().await?;
        let rest = match issue_type_id {
            None => format!("issue/createmeta/{project}/issuetypes"),
            Some(t) => format!("issue/createmeta/{project}/issuetypes/{t}"),
        };
        let req = http
            .get(&self.path(&rest))?
            .query_pair("startAt", &start.to_string())
            .query_pair("maxResults", "50");
        http.send_json(req).await
    }

    /// `GET /issue/{key}/transitions?expand=transitions.fields`: the transitions
    /// available now, with the fields on their screens.
    pub async fn transitions(&self, r: &IssueRef) -> Result<Vec<Transition>> {
        let http = self.client.http().await?;
        let req = http
            .get(&self.path(&format!("issue/{}/transitions", r.as_str())))?
            .query_pair("expand", "transitions.fields");
        let t: Transitions = http.send_json(req).await?;
        Ok(t.transitions)
    }

    /// `POST /issue/{key}/transitions` with a resolution (when given) and a comment (when
    /// not empty) → 204. Not repeated by the client: a repeat after it landed would be
    /// refused (the transition is no longer available); the connector reads back instead.
    pub async fn transition(
        &self,
        r: &IssueRef,
        transition_id: &str,
        resolution: Option<&str>,
        comment: &str,
    ) -> Result<()> {
        let http = self.client.http().await?;
        let mut body = json!({ "transition": { "id": transition_id } });
        if let Some(name) = resolution {
            body["fields"] = json!({ "resolution": { "name": name } });
        }
        if !comment.is_empty() {
            body["update"] = json!({ "comment": [{ "add": { "body": RichText(comment).body(self.client.deployment()) } }] });
        }
        let req = http
            .post(&self.path(&format!("issue/{}/transitions", r.as_str())))?
            .json(&body)?;
        http.send(req).await.map(drop)
    }

    /// One page of issues matching `jql`: `POST /rest/api/3/search/jql` on Cloud (token
    /// paging, no total), `POST /rest/api/2/search` on Data Center (offset and total).
    /// `at` is what [`SearchPage::next`] returned, `None` for the first page.
    pub async fn search_page(&self, jql: &Jql, at: Option<&str>, size: u32) -> Result<SearchPage> {
        let http = self.client.http().await?;
        match self.client.deployment() {
            Deployment::Cloud => {
                let mut body = json!({ "jql": jql.to_string(), "fields": self.client.fields(), "maxResults": size });
                if let Some(token) = at {
                    body["nextPageToken"] = json!(token);
                }
                // A search is a read: repeating it is harmless.
                let req = http
                    .post("rest/api/3/search/jql")?
                    .json(&body)?
                    .retry_safe(true)
                    .read_only();
                let page: TokenSearchPage = http.send_json(req).await?;
                let next = page.next_page_token.filter(|t| !t.is_empty());
                // The two end markers must agree: a page that says it is not the last but
                // gives no token would end an import short without a word.
                if next.is_some() == (page.is_last == Some(true)) && page.is_last.is_some() {
                    return Err(Error::protocol(
                        "jira search/jql",
                        "isLast and nextPageToken disagree about whether this is the last page",
                    ));
                }
                Ok(SearchPage {
                    issues: page.issues,
                    next,
                    total: None,
                })
            }
            Deployment::DataCenter => {
                let start: u64 = match at {
                    None => 0,
                    Some(s) => s.parse().map_err(|_| {
                        Error::invalid_input(format!("{s:?} is not a search page token"))
                    })?,
                };
                let body = json!({ "jql": jql.to_string(), "fields": self.client.fields(), "startAt": start, "maxResults": size });
                let req = http
                    .post("rest/api/2/search")?
                    .json(&body)?
                    .retry_safe(true)
                    .read_only();
                let page: OffsetSearchPage = http.send_json(req).await?;
                if page.start_at != start {
                    return Err(Error::protocol(
                        "jira search",
                        format!("asked for startAt {start}, got a page at {}", page.start_at),
                    ));
                }
                let end = start + page.issues.len() as u64;
                let next = if end >= page.total {
                    None
                } else if page.issues.is_empty() {
                    return Err(Error::protocol(
                        "jira search",
                        format!("an empty page at {start} of a total of {}", page.total),
                    ));
                } else {
                    Some(end.to_string())
                };
                Ok(SearchPage {
                    issues: page.issues,
                    next,
                    total: Some(page.total),
                })
            }
        }
    }
}
