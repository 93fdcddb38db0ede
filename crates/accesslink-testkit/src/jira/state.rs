//! The mock's data: issues with workflows, comments and approvals; users and groups;
//! OAuth tokens.

use std::collections::HashMap;

use serde_json::{Value, json};

/// Cloud or Data Center behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Jira Cloud: REST v3 with ADF, `search/jql`, account ids, `group/bulk`.
    Cloud,
    /// Jira Data Center: REST v2 with strings, `search` with totals, user names.
    DataCenter,
}

/// How the mock authenticates requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// HTTP Basic (Cloud: e-mail + API token; Data Center: user + password).
    Basic,
    /// Bearer personal access token (Data Center).
    Bearer,
    /// OAuth 2.0 3LO through `/ex/jira/{cloudid}` with rotating refresh tokens (Cloud).
    OAuth,
}

/// A status of a workflow.
#[derive(Debug, Clone)]
pub(crate) struct StatusDef {
    pub id: &'static str,
    pub name: &'static str,
    pub category: &'static str,
}

/// A transition of a workflow: available from every status but its target.
#[derive(Debug, Clone)]
pub(crate) struct TransitionDef {
    pub id: &'static str,
    pub name: &'static str,
    pub to: &'static str,
    /// Whether the transition screen has the resolution field.
    pub resolution: bool,
}

/// A workflow: statuses (the first is the initial one) and transitions. Ids differ per
/// workflow, as on real sites.
#[derive(Debug, Clone)]
pub(crate) struct Workflow {
    pub statuses: Vec<StatusDef>,
    pub transitions: Vec<TransitionDef>,
}

pub(crate) fn software_workflow() -> Workflow {
    Workflow {
        statuses: vec![
            StatusDef {
                id: "10000",
                name: "To Do",
                category: "new",
            },
            StatusDef {
                id: "3",
                name: "In Progress",
                category: "indeterminate",
            },
            StatusDef {
                id: "10001",
                name: "Done",
                category: "done",
            },
            // No transition leads here; agents (the backend's `set_ticket_state`) park
            // issues in it, so "on hold" is a status of its own.
            StatusDef {
                id: "10006",
                name: "On hold",
                category: "indeterminate",
            },
        ],
        transitions: vec![
            TransitionDef {
                id: "11",
                name: "Start work",
                to: "3",
                resolution: false,
            },
            TransitionDef {
                id: "31",
                name: "Done",
                to: "10001",
                resolution: true,
            },
            TransitionDef {
                id: "41",
                name: "Won't do",
                to: "10001",
                resolution: true,
            },
        ],
    }
}

pub(crate) fn change_workflow() -> Workflow {
    Workflow {
        statuses: vec![
            StatusDef {
                id: "10010",
                name: "Waiting for approval",
                category: "new",
            },
            StatusDef {
                id: "10011",
                name: "Implementing",
                category: "indeterminate",
            },
            StatusDef {
                id: "10012",
                name: "Completed",
                category: "done",
            },
            StatusDef {
                id: "10013",
                name: "Declined",
                category: "done",
            },
            StatusDef {
                id: "10014",
                name: "On hold",
                category: "indeterminate",
            },
        ],
        transitions: vec![
            TransitionDef {
                id: "711",
                name: "Implement",
                to: "10011",
                resolution: false,
            },
            TransitionDef {
                id: "761",
                name: "Complete",
                to: "10012",
                resolution: true,
            },
            TransitionDef {
                id: "771",
                name: "Decline",
                to: "10013",
                resolution: false,
            },
        ],
    }
}

/// A comment as stored: its body as sent (ADF or string) and whether it is internal.
#[derive(Debug, Clone)]
pub(crate) struct StoredComment {
    /// The comment id (`10000`, `10001`…, unique on the site).
    pub id: u64,
    pub body: Value,
    pub internal: bool,
    /// The author's user index; `None` is the API user (the connector).
    pub author: Option<usize>,
    pub created_ms: u64,
}

/// A JSM approval.
#[derive(Debug, Clone)]
pub(crate) struct StoredApproval {
    pub id: String,
    pub name: String,
    pub decision: String,
}

/// An issue.
#[derive(Debug, Clone)]
pub(crate) struct IssueRow {
    pub id: u64,
    pub key: String,
    pub previous_keys: Vec<String>,
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    pub description: Value,
    pub labels: Vec<String>,
    pub status: String,
    pub resolution: Option<String>,
    pub reporter: Option<usize>,
    pub created_ms: u64,
    /// Stamped by every write (the server's clock, or the frozen time).
    pub updated_ms: u64,
    pub comments: Vec<StoredComment>,
    /// `Some` for JSM requests.
    pub approvals: Option<Vec<StoredApproval>>,
    pub extra: serde_json::Map<String, Value>,
}

/// A user.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub account_id: String,
    pub name: String,
    pub account_type: String,
    pub display_name: String,
    pub email: Option<String>,
    pub email_hidden: bool,
    pub active: bool,
}

/// A group.
#[derive(Debug, Clone)]
pub(crate) struct GroupRow {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// Everything the mock holds.
#[derive(Debug)]
pub(crate) struct State {
    /// JQL searches ignore their query (`TicketBackend::ignore_search_filters`).
    pub unfiltered: bool,
    pub mode: Mode,
    pub auth: AuthMode,
    pub site_url: String,
    pub cloud_id: String,
    pub user: String,
    pub secret: String,
    pub issues: Vec<IssueRow>,
    pub projects: Vec<(String, usize)>,
    pub service_desks: Vec<(String, String)>,
    pub request_types: Vec<(String, String, String)>,
    pub next_issue: u64,
    pub users: Vec<Option<UserRow>>,
    pub groups: Vec<GroupRow>,
    pub search_tokens: HashMap<String, (String, usize)>,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub used_refresh_tokens: Vec<String>,
    pub access_tokens: Vec<String>,
    pub codes: Vec<(String, String)>,
    pub rotations: usize,
    pub throttle_every: Option<usize>,
    pub served: usize,
    pub clock_ms: u64,
    /// `TicketBackend::freeze_clock`: every write stamps this time.
    pub frozen_ms: Option<u64>,
    pub next_comment: u64,
}

pub(crate) fn token(prefix: &str) -> String {
    format!(
        "{prefix}-{:016x}{:08x}",
        fastrand::u64(..),
        fastrand::u32(..)
    )
}

impl State {
    pub(crate) fn new(mode: Mode, auth: AuthMode) -> State {
        let mut s = State {
            unfiltered: false,
            mode,
            auth,
            site_url: String::new(),
            cloud_id: "1324a887-45db-1bf4-1e99-ef0ff456d421".into(),
            user: match mode {
                Mode::Cloud => "iam-bot@acme.example".into(),
                Mode::DataCenter => "iam-bot".into(),
            },
            secret: token("jira-secret"),
            issues: Vec::new(),
            projects: vec![("ITSM".into(), 0), ("SD".into(), 0)],
            service_desks: vec![("10".into(), "SD".into())],
            request_types: vec![
                ("25".into(), "Change".into(), "10".into()),
                ("26".into(), "Service Request".into(), "10".into()),
            ],
            next_issue: 10000,
            users: Vec::new(),
            groups: Vec::new(),
            search_tokens: HashMap::new(),
            client_id: "accesslink-mock-app".into(),
            client_secret: token("oauth-secret"),
            refresh_token: token("rt"),
            used_refresh_tokens: Vec::new(),
            access_tokens: Vec::new(),
            codes: Vec::new(),
            rotations: 0,
            throttle_every: None,
            served: 0,
            clock_ms: 1_714_640_000_000,
            frozen_ms: None,
            next_comment: 10_000,
        };
        s.add_user("Jane Doe", Some("jane.doe@example.com"), "atlassian", false);
        s.add_user("Automation for Jira", None, "app", false);
        s.add_user(
            "Private Person",
            Some("private@example.com"),
            "atlassian",
            true,
        );
        s.add_user(
            "Carl Customer",
            Some("carl@customer.example"),
            "customer",
            false,
        );
        s
    }

    pub(crate) fn add_user(
        &mut self,
        display: &str,
        email: Option<&str>,
        ty: &str,
        hidden: bool,
    ) -> String {
        let n = self.users.len();
        let account_id = format!("5b10ac8d82e05b22cc7d{n:04x}");
        let name = email
            .and_then(|e| e.split('@').next())
            .map_or_else(|| format!("user{n}"), str::to_owned);
        self.users.push(Some(UserRow {
            account_id: account_id.clone(),
            name: name.clone(),
            account_type: ty.into(),
            display_name: display.into(),
            email: email.map(str::to_owned),
            email_hidden: hidden,
            active: true,
        }));
        match self.mode {
            Mode::Cloud => account_id,
            Mode::DataCenter => name,
        }
    }

    /// The index of a user by account id (Cloud) or name (Data Center).
    pub(crate) fn user_index(&self, id: &str) -> Option<usize> {
        self.users.iter().position(|u| {
            u.as_ref().is_some_and(|u| match self.mode {
                Mode::Cloud => u.account_id == id,
                Mode::DataCenter => u.name.eq_ignore_ascii_case(id),
            })
        })
    }

    pub(crate) fn user_id(&self, u: &UserRow) -> String {
        match self.mode {
            Mode::Cloud => u.account_id.clone(),
            Mode::DataCenter => u.name.clone(),
        }
    }

    pub(crate) fn user_json(&self, u: &UserRow) -> Value {
        let mut v = match self.mode {
            Mode::Cloud => json!({
                "accountId": u.account_id,
                "accountType": u.account_type,
                "displayName": u.display_name,
                "active": u.active,
                "timeZone": "Europe/Berlin",
            }),
            Mode::DataCenter => json!({
                "name": u.name,
                "key": format!("JIRAUSER{}", u.account_id.len() * 1000 + u.name.len()),
                "displayName": u.display_name,
                "active": u.active,
                "timeZone": "Europe/Berlin",
            }),
        };
        if let (Some(e), false) = (&u.email, u.email_hidden) {
            v["emailAddress"] = json!(e);
        }
        v
    }

    pub(crate) fn workflow_of(&self, issue_type: &str) -> Workflow {
        if issue_type.eq_ignore_ascii_case("change") {
            change_workflow()
        } else {
            software_workflow()
        }
    }

    pub(crate) fn issue_index(&self, id_or_key: &str) -> Option<usize> {
        self.issues.iter().position(|i| {
            i.id.to_string() == id_or_key
                || i.key.eq_ignore_ascii_case(id_or_key)
                || i.previous_keys
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(id_or_key))
        })
    }

    pub(crate) fn new_issue(&mut self, project: &str, issue_type: &str) -> usize {
        let p = self
            .projects
            .iter_mut()
            .find(|(k, _)| k == project)
            .expect("project checked by the caller");
        p.1 += 1;
        let key = format!("{project}-{}", p.1);
        self.next_issue += 1;
        let now = self.tick();
        let status = self.workflow_of(issue_type).statuses[0].id.to_owned();
        self.issues.push(IssueRow {
            id: self.next_issue,
            key,
            previous_keys: Vec::new(),
            project: project.into(),
            issue_type: issue_type.into(),
            summary: String::new(),
            description: Value::Null,
            labels: Vec::new(),
            status,
            resolution: None,
            reporter: None,
            created_ms: now,
            updated_ms: now,
            comments: Vec::new(),
            approvals: None,
            extra: serde_json::Map::new(),
        });
        self.issues.len() - 1
    }

    /// The server's time for a write: the frozen time, or the clock moved on a second.
    pub(crate) fn tick(&mut self) -> u64 {
        if let Some(at) = self.frozen_ms {
            return at;
        }
        self.clock_ms += 1000;
        self.clock_ms
    }

    /// Stamps issue `i`'s update time.
    pub(crate) fn touch(&mut self, i: usize) {
        let now = self.tick();
        self.issues[i].updated_ms = now;
    }

    /// Adds a comment to issue `i` and stamps its update time; returns the comment id.
    pub(crate) fn push_comment(
        &mut self,
        i: usize,
        body: Value,
        internal: bool,
        author: Option<usize>,
    ) -> u64 {
        let now = self.tick();
        self.next_comment += 1;
        let id = self.next_comment;
        let issue = &mut self.issues[i];
        issue.updated_ms = now;
        issue.comments.push(StoredComment {
            id,
            body,
            internal,
            author,
            created_ms: now,
        });
        id
    }

    /// The API user as Jira shows it in a comment's `author`.
    pub(crate) fn api_user_json(&self) -> Value {
        match self.mode {
            Mode::Cloud => {
                json!({"accountId": "5b10ac8d82e05b22cc7dffff", "accountType": "atlassian", "displayName": "IAM Bot", "active": true})
            }
            Mode::DataCenter => {
                json!({"name": self.user, "key": "JIRAUSER10000", "displayName": "IAM Bot", "active": true})
            }
        }
    }

    /// A comment as `GET …/issue/{key}/comment` shows it: Cloud JSM issues carry
    /// `jsdPublic`; `properties` (with `sd.public.comment`) only with `expand=properties`.
    pub(crate) fn comment_json(
        &self,
        issue: &IssueRow,
        c: &StoredComment,
        properties: bool,
    ) -> Value {
        let author = c
            .author
            .and_then(|u| self.users.get(u)?.as_ref())
            .map_or_else(|| self.api_user_json(), |u| self.user_json(u));
        let mut v = json!({
            "self": format!("{}/rest/api/{}/issue/{}/comment/{}", self.site_url, self.version(), issue.id, c.id),
            "id": c.id.to_string(),
            "author": author,
            "updateAuthor": author,
            "body": c.body,
            "created": Self::jira_time(c.created_ms),
            "updated": Self::jira_time(c.created_ms),
        });
        let jsm = issue.approvals.is_some();
        if jsm && self.mode == Mode::Cloud {
            v["jsdPublic"] = json!(!c.internal);
        }
        if properties {
            v["properties"] = if jsm || c.internal {
                json!([{"key": "sd.public.comment", "value": {"internal": c.internal}}])
            } else {
                json!([])
            };
        }
        v
    }

    pub(crate) fn status_def(&self, issue: &IssueRow) -> StatusDef {
        let wf = self.workflow_of(&issue.issue_type);
        wf.statuses
            .iter()
            .find(|s| s.id == issue.status)
            .cloned()
            .unwrap_or_else(|| wf.statuses[0].clone())
    }

    pub(crate) fn status_json(&self, s: &StatusDef) -> Value {
        let (cid, cname) = match s.category {
            "new" => (2, "To Do"),
            "indeterminate" => (4, "In Progress"),
            "done" => (3, "Done"),
            _ => (1, "No Category"),
        };
        json!({
            "self": format!("{}/rest/api/{}/status/{}", self.site_url, self.version(), s.id),
            "id": s.id,
            "name": s.name,
            "statusCategory": {"id": cid, "key": s.category, "name": cname, "colorName": "blue-gray"},
        })
    }

    pub(crate) fn version(&self) -> u8 {
        match self.mode {
            Mode::Cloud => 3,
            Mode::DataCenter => 2,
        }
    }

    /// `2024-05-02T09:14:11.000+0000`.
    pub(crate) fn jira_time(ms: u64) -> String {
        let secs = ms / 1000;
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let rfc = accesslink_core::time::format_rfc3339_millis(t);
        rfc.trim_end_matches('Z').to_owned() + "+0000"
    }

    pub(crate) fn issue_json(&self, i: &IssueRow) -> Value {
        let status = self.status_def(i);
        let mut fields = json!({
            "summary": i.summary,
            "description": i.description,
            "status": self.status_json(&status),
            "resolution": i.resolution.as_ref().map(|r| json!({"id": "10000", "name": r})),
            "labels": i.labels,
            "issuetype": {"id": "1", "name": i.issue_type},
            "project": {"id": "1", "key": i.project, "name": i.project},
            "priority": {"id": "3", "name": "Medium"},
            "assignee": null,
            "reporter": i.reporter.and_then(|r| self.users.get(r)?.as_ref()).map(|u| self.user_json(u)),
            "created": Self::jira_time(i.created_ms),
            "updated": Self::jira_time(i.updated_ms),
        });
        for (k, v) in &i.extra {
            fields[k] = v.clone();
        }
        json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": i.id.to_string(),
            "self": format!("{}/rest/api/{}/issue/{}", self.site_url, self.version(), i.id),
            "key": i.key,
            "fields": fields,
        })
    }
}
