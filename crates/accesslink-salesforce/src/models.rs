//! Typed Salesforce records, tolerant of what an org adds (unknown fields kept in
//! `other`, every field optional) but strict about the envelope: a query page without
//! `records`, `done` or `totalSize` is a protocol error, never an empty page.

use accesslink_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One page of `GET query`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QueryPage<T> {
    /// Rows the whole query matches.
    pub total_size: u64,
    /// No more pages.
    pub done: bool,
    /// The next page's path, when not `done`.
    #[serde(default)]
    pub next_records_url: Option<String>,
    /// The rows.
    pub records: Vec<T>,
}

/// An sObject create/upsert answer: `{"id","success","errors"}`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SaveResult {
    /// The record id.
    #[serde(default)]
    pub id: Option<String>,
    /// Whether it was saved.
    pub success: bool,
    /// The item errors.
    #[serde(default)]
    pub errors: Vec<Value>,
}

impl SaveResult {
    /// The id, or an error carrying the item's first error.
    pub fn into_id(self, object: &str) -> Result<String> {
        match (self.success, self.id) {
            (true, Some(id)) => {
                crate::ids::SfId::parse(&id).map_err(|_| {
                    Error::protocol(
                        format!("salesforce create {object}"),
                        "the new id is not an id",
                    )
                })?;
                Ok(id)
            }
            _ => Err(Error::protocol(
                format!("salesforce create {object}"),
                format!(
                    "not saved: {}",
                    accesslink_core::redact::truncate(&Value::Array(self.errors).to_string(), 300)
                ),
            )),
        }
    }
}

/// A related record's name and e-mail (`CreatedBy`, `Contact`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Related {
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// User name (users).
    #[serde(default)]
    pub username: Option<String>,
}

/// A ticket record: a `Case`, or a Remedyforce incident / change request (whose
/// profile-specific fields stay in `other`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Record {
    /// The 18-character id.
    pub id: String,
    /// `CaseNumber`.
    #[serde(default)]
    pub case_number: Option<String>,
    /// `Name` (Remedyforce's ticket number).
    #[serde(default)]
    pub name: Option<String>,
    /// `Subject`.
    #[serde(default)]
    pub subject: Option<String>,
    /// `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `Status` (picklist label).
    #[serde(default)]
    pub status: Option<String>,
    /// `IsClosed`, derived by Salesforce from the status's "Is Closed" flag.
    #[serde(default)]
    pub is_closed: Option<bool>,
    /// `Priority`.
    #[serde(default)]
    pub priority: Option<String>,
    /// `Type`.
    #[serde(default, rename = "Type")]
    pub kind: Option<String>,
    /// `CreatedDate`.
    #[serde(default)]
    pub created_date: Option<String>,
    /// `LastModifiedDate`.
    #[serde(default)]
    pub last_modified_date: Option<String>,
    /// `Contact` (name, e-mail).
    #[serde(default)]
    pub contact: Option<Related>,
    /// `CreatedBy` (name, e-mail, user name).
    #[serde(default)]
    pub created_by: Option<Related>,
    /// `Owner`.
    #[serde(default)]
    pub owner: Option<Related>,
    /// Everything else (the correlation field, Remedyforce fields, `attributes`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A `ProcessInstance` (an approval process run).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ProcessInstance {
    /// Id.
    pub id: String,
    /// `Pending`, `Approved`, `Rejected`, `Removed`, `Started`, `Held`, `Fault`, or a
    /// value not seen yet.
    #[serde(default)]
    pub status: Option<String>,
    /// The approved record.
    #[serde(default)]
    pub target_object_id: Option<String>,
    /// When it started.
    #[serde(default)]
    pub created_date: Option<String>,
}
