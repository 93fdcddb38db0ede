//! Request and response bodies of the GenericTicketConnector operations.
//!
//! Responses are tolerant: Znuny sends ids as numbers or strings depending on the
//! operation (see `shared/znuny/REST.md`, quirk 4), unset values as `""` or `null`,
//! and no-hit searches as `{}`.

use accesslink_core::de;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /Session` body.
#[derive(Debug, Serialize)]
pub(crate) struct SessionCreate<'a> {
    #[serde(rename = "UserLogin")]
    pub user_login: &'a str,
    #[serde(rename = "Password")]
    pub password: &'a str,
}

/// `POST /Session` answer.
#[derive(Debug, Deserialize)]
pub(crate) struct SessionCreated {
    #[serde(rename = "SessionID", default, deserialize_with = "de::opt_string")]
    pub session_id: Option<String>,
}

/// The `Ticket` object of a TicketCreate or TicketUpdate.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TicketFields {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Queue name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// State name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Priority name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Type name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Customer user login (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_user: Option<String>,
    /// Other native fields (Service, SLA, Owner, Responsible, CustomerID, PendingTime…).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An article (the first one on create, a comment or close note on update).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewArticle {
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// `text/plain; charset=utf8`.
    pub content_type: String,
    /// 1 for visible to the customer, 0 for an internal note.
    pub is_visible_for_customer: u8,
    /// `Internal` (no e-mail is sent).
    pub communication_channel: String,
}

impl NewArticle {
    /// A plain-text article, not sent by e-mail.
    pub fn plain(subject: impl Into<String>, body: impl Into<String>, visible: bool) -> Self {
        NewArticle {
            subject: subject.into(),
            body: body.into(),
            content_type: "text/plain; charset=utf8".into(),
            is_visible_for_customer: u8::from(visible),
            communication_channel: "Internal".into(),
        }
    }
}

/// A dynamic field value to set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicFieldValue {
    /// The field name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Its value (`null` when unset).
    #[serde(rename = "Value", default)]
    pub value: Value,
}

/// `POST /Ticket` body (the session is added by the auth provider).
#[derive(Debug, Clone, Serialize)]
pub struct TicketCreate {
    /// Ticket fields.
    #[serde(rename = "Ticket")]
    pub ticket: TicketFields,
    /// The first article.
    #[serde(rename = "Article")]
    pub article: NewArticle,
    /// Dynamic fields.
    #[serde(rename = "DynamicField", skip_serializing_if = "Vec::is_empty")]
    pub dynamic_fields: Vec<DynamicFieldValue>,
}

/// `PATCH /Ticket/:TicketID` body.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketUpdate {
    /// Fields to change.
    #[serde(rename = "Ticket", skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketFields>,
    /// An article to add.
    #[serde(rename = "Article", skip_serializing_if = "Option::is_none")]
    pub article: Option<NewArticle>,
    /// Dynamic fields to set.
    #[serde(rename = "DynamicField", skip_serializing_if = "Vec::is_empty")]
    pub dynamic_fields: Vec<DynamicFieldValue>,
}

/// What TicketCreate and TicketUpdate answer.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct TicketWritten {
    /// The internal id.
    #[serde(rename = "TicketID", deserialize_with = "de::u64")]
    pub ticket_id: u64,
    /// The human number.
    #[serde(rename = "TicketNumber", default, deserialize_with = "de::string")]
    pub ticket_number: String,
    /// The article created, if any.
    #[serde(rename = "ArticleID", default, deserialize_with = "de::opt_u64")]
    pub article_id: Option<u64>,
}

/// What TicketSearch answers: ids, or `{}` for none.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SearchResult {
    #[serde(rename = "TicketID", default, deserialize_with = "de::u64_list")]
    pub ticket_ids: Vec<u64>,
}

/// What TicketGet answers: always an array.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TicketGetResult {
    #[serde(rename = "Ticket", default)]
    pub tickets: Vec<OtrsTicket>,
}

/// A ticket as TicketGet returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct OtrsTicket {
    /// Internal id.
    #[serde(rename = "TicketID", deserialize_with = "de::u64")]
    pub ticket_id: u64,
    /// Human number.
    #[serde(deserialize_with = "de::string")]
    pub ticket_number: String,
    /// Title.
    #[serde(default, deserialize_with = "de::string")]
    pub title: String,
    /// State name.
    #[serde(default, deserialize_with = "de::string")]
    pub state: String,
    /// State type (`new`, `open`, `closed`, `pending reminder`, `pending auto`,
    /// `removed`, `merged`): what the normalised state is derived from.
    #[serde(default, deserialize_with = "de::string")]
    pub state_type: String,
    /// Queue name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub queue: Option<String>,
    /// Priority name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub priority: Option<String>,
    /// Type name.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub r#type: Option<String>,
    /// Customer user login.
    #[serde(
        rename = "CustomerUserID",
        default,
        deserialize_with = "de::opt_string"
    )]
    pub customer_user_id: Option<String>,
    /// Owner login.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub owner: Option<String>,
    /// Created, server-local `YYYY-MM-DD HH:MM:SS`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub created: Option<String>,
    /// Last changed, server-local.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub changed: Option<String>,
    /// Dynamic fields (only with `DynamicFields=1`).
    #[serde(default)]
    pub dynamic_field: Vec<DynamicFieldValue>,
    /// Articles (only with `AllArticles=1`).
    #[serde(default)]
    pub article: Vec<OtrsArticle>,
    /// Every other field, kept as the server sent it.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl OtrsTicket {
    /// The value of a dynamic field, as text, when set.
    pub fn dynamic_field(&self, name: &str) -> Option<String> {
        self.dynamic_field
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| match &f.value {
                Value::Null => None,
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(s.clone()),
                Value::Array(items) => items.first().map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                other => Some(other.to_string()),
            })
    }
}

/// An article as TicketGet returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct OtrsArticle {
    /// Article id.
    #[serde(rename = "ArticleID", deserialize_with = "de::u64")]
    pub article_id: u64,
    /// Subject.
    #[serde(default, deserialize_with = "de::string")]
    pub subject: String,
    /// Body.
    #[serde(default, deserialize_with = "de::string")]
    pub body: String,
    /// 1 when visible to the customer.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub is_visible_for_customer: Option<u64>,
    /// The sender as OTRS prints it: `"Full Name" <address>` for customers and
    /// e-mail, the agent's full name for notes written by an agent.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub from: Option<String>,
    /// The UserID of the agent who wrote it.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub create_by: Option<u64>,
    /// Created, server-local.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub create_time: Option<String>,
}

/// The `{"Error":{…}}` body OTRS answers with HTTP 200.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(rename = "Error")]
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "ErrorCode", default, deserialize_with = "de::opt_string")]
    pub code: Option<String>,
    #[serde(rename = "ErrorMessage", default, deserialize_with = "de::opt_string")]
    pub message: Option<String>,
}

/// The `{"faultcode","faultstring"}` body of an HTTP 500 from an operation.
#[derive(Debug, Deserialize)]
pub(crate) struct FaultBody {
    #[serde(default, deserialize_with = "de::opt_string")]
    pub faultcode: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    pub faultstring: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_get_with_mixed_types_as_the_real_server_sends() {
        // Trimmed from shared/znuny/REST.md.
        let body = r#"{"Ticket":[{"Age":1,"ArchiveFlag":"n","Article":[{"ArticleID":2,"ArticleNumber":1,"Body":"Body with umlauts: äöü €","IsVisibleForCustomer":1,"SenderTypeID":"1","Subject":"Hello","TicketID":2,"CreateTime":"2026-11-23 00:15:42"}],
            "Changed":"2026-11-23 00:15:42","Created":"2026-11-23 00:15:42","CustomerID":"ACME","CustomerUserID":"apicustomer",
            "DynamicField":[{"Name":"ProcessManagementActivityID","Value":null},{"Name":"AccessRequestID","Value":"REQ-42"}],
            "Owner":"apiagent","OwnerID":2,"Priority":"3 normal","PriorityID":3,"Queue":"Raw","QueueID":2,"SLAID":"","ServiceID":"",
            "State":"new","StateID":1,"StateType":"new","TicketID":2,"TicketNumber":"2026112310000011","Title":"verify-1","Type":"Unclassified","TypeID":1}]}"#;
        let r: TicketGetResult = serde_json::from_str(body).unwrap();
        let t = &r.tickets[0];
        assert_eq!(t.ticket_id, 2);
        assert_eq!(t.ticket_number, "2026112310000011");
        assert_eq!(t.state_type, "new");
        assert_eq!(
            t.dynamic_field("AccessRequestID").as_deref(),
            Some("REQ-42")
        );
        assert_eq!(t.dynamic_field("ProcessManagementActivityID"), None);
        assert_eq!(t.article[0].body, "Body with umlauts: äöü €");
        assert_eq!(t.other["SLAID"], "");
    }

    #[test]
    fn writes_and_searches() {
        let w: TicketWritten = serde_json::from_str(
            r#"{"ArticleID":2,"TicketID":"2","TicketNumber":"2026112310000011"}"#,
        )
        .unwrap();
        assert_eq!((w.ticket_id, w.article_id), (2, Some(2)));
        let w: TicketWritten =
            serde_json::from_str(r#"{"TicketID":"2","TicketNumber":"x"}"#).unwrap();
        assert_eq!(w.article_id, None);
        let s: SearchResult = serde_json::from_str(r#"{"TicketID":["4","3"]}"#).unwrap();
        assert_eq!(s.ticket_ids, vec![4, 3]);
        let s: SearchResult = serde_json::from_str("{}").unwrap();
        assert!(s.ticket_ids.is_empty());
    }

    #[test]
    fn create_body_shape() {
        let body = TicketCreate {
            ticket: TicketFields {
                title: Some("t".into()),
                queue: Some("Raw".into()),
                customer_user: Some("apicustomer".into()),
                ..TicketFields::default()
            },
            article: NewArticle::plain("s", "b", true),
            dynamic_fields: vec![DynamicFieldValue {
                name: "AccessRequestID".into(),
                value: "REQ-1".into(),
            }],
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["Ticket"]["Title"], "t");
        assert_eq!(v["Ticket"]["CustomerUser"], "apicustomer");
        assert!(v["Ticket"].get("State").is_none());
        assert_eq!(v["Article"]["ContentType"], "text/plain; charset=utf8");
        assert_eq!(v["Article"]["IsVisibleForCustomer"], 1);
        assert_eq!(v["DynamicField"][0]["Name"], "AccessRequestID");
    }
}
