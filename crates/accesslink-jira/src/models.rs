//! Jira's JSON objects, tolerant of missing fields; lists that define a page are required
//! (a `{}` or `null` where a page should be is a protocol error, never an empty page).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A user as issues and user APIs show one. Cloud identifies users by `accountId`; Data
/// Center by `name` (login) and `key`. The e-mail is absent when the user's privacy
/// settings hide it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Cloud account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `atlassian`, `app`, `customer` or `unknown` (Cloud).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// Data Center login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Data Center user key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// E-mail, when visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Whether the account is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl User {
    /// The id the APIs take: the account id on Cloud, the name on Data Center.
    pub fn id(&self) -> Option<&str> {
        self.account_id.as_deref().or(self.name.as_deref())
    }
}

/// A status category (`new`, `indeterminate`, `done`, `undefined`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatusCategory {
    /// The key.
    #[serde(default)]
    pub key: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A workflow status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Status {
    /// The id.
    #[serde(default)]
    pub id: Option<String>,
    /// The name (per workflow).
    #[serde(default)]
    pub name: Option<String>,
    /// The category.
    #[serde(default)]
    pub status_category: Option<StatusCategory>,
}

/// Something with a name (resolution, priority, issue type, project).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Named {
    /// The id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key (projects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The fields the connector reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IssueFields {
    /// Summary (title).
    #[serde(default)]
    pub summary: Option<String>,
    /// Description: ADF on v3, a string on v2.
    #[serde(default)]
    pub description: Option<Value>,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// Resolution (`null` while unresolved).
    #[serde(default)]
    pub resolution: Option<Named>,
    /// Labels.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// Reporter (the customer, on JSM requests).
    #[serde(default)]
    pub reporter: Option<User>,
    /// Assignee.
    #[serde(default)]
    pub assignee: Option<User>,
    /// Issue type.
    #[serde(default)]
    pub issuetype: Option<Named>,
    /// Project.
    #[serde(default)]
    pub project: Option<Named>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<Named>,
    /// Created, `2024-05-02T09:14:11.000+0000`.
    #[serde(default)]
    pub created: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated: Option<String>,
    /// Every other field asked for (custom fields).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Issue {
    /// Numeric id, as a string.
    pub id: String,
    /// Key (`ITSM-42`): the current one, also when the issue was read by an old key.
    pub key: String,
    /// The fields asked for.
    #[serde(default)]
    pub fields: IssueFields,
}

/// `POST /issue` → `{"id","key","self"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CreatedIssue {
    /// Id.
    pub id: String,
    /// Key.
    pub key: String,
}

/// A transition available from the issue's status.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Transition {
    /// The id (per workflow).
    pub id: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The status it leads to.
    #[serde(default)]
    pub to: Option<Status>,
    /// Fields on its screen (with `expand=transitions.fields`).
    #[serde(default)]
    pub fields: Option<Map<String, Value>>,
}

/// `GET /issue/{key}/transitions`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Transitions {
    /// The transitions.
    pub transitions: Vec<Transition>,
}

/// A page of Cloud `search/jql`: no total; the last page has no `nextPageToken`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TokenSearchPage {
    /// The issues.
    pub issues: Vec<Issue>,
    /// Token of the next page (absent on the last).
    #[serde(default)]
    pub next_page_token: Option<String>,
    /// Whether this is the last page.
    #[serde(default)]
    pub is_last: Option<bool>,
}

/// A page of Data Center `search`: offset paging with a total.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OffsetSearchPage {
    /// Offset of the first issue.
    pub start_at: u64,
    /// Page size the server used.
    #[serde(default)]
    pub max_results: Option<u64>,
    /// Issues matching.
    pub total: u64,
    /// The issues.
    pub issues: Vec<Issue>,
}

/// A JSM approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JsmApproval {
    /// The id.
    pub id: String,
    /// The name (`Manager approval`).
    #[serde(default)]
    pub name: Option<String>,
    /// `pending`, `approved` or `declined`.
    pub final_decision: String,
    /// The approvers and their decisions.
    #[serde(default)]
    pub approvers: Vec<Value>,
}

/// A JSM page (`start`, `limit`, `isLastPage`, `values`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JsmPage<T> {
    /// The rows.
    pub values: Vec<T>,
    /// Offset.
    #[serde(default)]
    pub start: Option<u64>,
    /// Whether this is the last page.
    pub is_last_page: bool,
}

/// `POST /rest/servicedeskapi/request` → the request (the fields the connector reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreatedRequest {
    /// The issue id.
    pub issue_id: String,
    /// The issue key.
    pub issue_key: String,
}

/// A group (`name`; `groupId` on Cloud).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Group {
    /// The name.
    pub name: String,
    /// The Cloud group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// A Jira PageBean (`group/bulk`, `group/member`): `values`, `startAt`, `isLast`, `total`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PageBean<T> {
    /// The rows.
    pub values: Vec<T>,
    /// Offset.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// Whether this is the last page.
    #[serde(default)]
    pub is_last: Option<bool>,
    /// The total, when sent.
    #[serde(default)]
    pub total: Option<u64>,
}

/// A comment as `GET /issue/{key}/comment` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IssueComment {
    /// The comment id (unique on the site).
    pub id: String,
    /// Who wrote it.
    #[serde(default)]
    pub author: Option<User>,
    /// The body: ADF on v3, a string on v2.
    #[serde(default)]
    pub body: Value,
    /// When it was written (`2024-05-02T09:14:11.000+0000`).
    #[serde(default)]
    pub created: Option<String>,
    /// Cloud JSM: whether customers see it (`false` = internal note).
    #[serde(default)]
    pub jsd_public: Option<bool>,
    /// Restricted to a role or group (`{"type":"role","value":"Developers"}`).
    #[serde(default)]
    pub visibility: Option<Value>,
    /// Entity properties, with `expand=properties` (`sd.public.comment`).
    #[serde(default)]
    pub properties: Option<Vec<Value>>,
}

/// `GET /issue/{key}/comment`: offset paging with a total.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CommentPage {
    /// Offset of the first comment.
    pub start_at: u64,
    /// Comments on the issue.
    pub total: u64,
    /// The comments.
    pub comments: Vec<IssueComment>,
}

/// A page of `createmeta/{project}/issuetypes[/{id}]`: the list is `issueTypes` or
/// `fields` on Cloud and `values` on Data Center (the key is not verified against every
/// version, so each is accepted); offset paging with a total.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateMetaPage {
    /// Issue types (Cloud).
    #[serde(default)]
    pub issue_types: Option<Vec<Value>>,
    /// Fields (Cloud).
    #[serde(default)]
    pub fields: Option<Vec<Value>>,
    /// Issue types or fields (Data Center).
    #[serde(default)]
    pub values: Option<Vec<Value>>,
    /// Offset.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// The total.
    #[serde(default)]
    pub total: Option<u64>,
}

impl CreateMetaPage {
    /// The rows, whichever key carries them; `None` when none does (a wrong-shaped page).
    pub fn rows(self) -> Option<Vec<Value>> {
        self.issue_types.or(self.fields).or(self.values)
    }
}
