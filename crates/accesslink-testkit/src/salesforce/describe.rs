//! `GET …/sobjects/{Object}/describe` for the objects the mock keeps: the field list
//! with `name`, `label`, `type`, `nillable`, `createable`, `updateable`,
//! `defaultedOnCreate`, `referenceTo` and `picklistValues` (`{value, label, active}`),
//! as Salesforce's describe answers it (a subset of its keys).

use serde_json::{Value, json};

use super::{CHANGE, INCIDENT, STATUS, TASK};

/// (name, type, flags, reference or picklist values). Flags: `r` required (not
/// nillable, createable, not defaulted), `o` read only (not createable or updateable),
/// `d` defaulted on create.
type Field = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const CASE: &[Field] = &[
    ("Id", "id", "o", &[]),
    ("CaseNumber", "string", "o", &[]),
    ("Subject", "string", "", &[]),
    ("Description", "textarea", "", &[]),
    (
        "Status",
        "picklist",
        "d",
        &[
            "New",
            "Working",
            "Escalated",
            "On Hold",
            "Closed",
            "Cancelled",
        ],
    ),
    ("IsClosed", "boolean", "o", &[]),
    ("Priority", "picklist", "d", &["High", "Medium", "Low"]),
    (
        "Type",
        "picklist",
        "",
        &["Problem", "Feature Request", "Question", "Access Request"],
    ),
    ("Origin", "picklist", "", &["Phone", "Email", "Web"]),
    ("ContactId", "reference", "", &["Contact"]),
    ("CreatedById", "reference", "o", &["User"]),
    ("OwnerId", "reference", "d", &["User", "Group"]),
    ("CreatedDate", "datetime", "o", &[]),
    ("LastModifiedDate", "datetime", "o", &[]),
    ("ClosedDate", "datetime", "o", &[]),
    ("External_Ref__c", "string", "", &[]),
];

const REMEDYFORCE: &[Field] = &[
    ("Id", "id", "o", &[]),
    ("Name", "string", "o", &[]),
    (
        "BMCServiceDesk__incidentDescription__c",
        "textarea",
        "",
        &[],
    ),
    ("BMCServiceDesk__FKStatus__c", "reference", "d", &[STATUS]),
    ("BMCServiceDesk__Status_ID__c", "string", "o", &[]),
    ("BMCServiceDesk__state__c", "boolean", "o", &[]),
    ("External_Ref__c", "string", "", &[]),
    ("CreatedById", "reference", "o", &["User"]),
    ("CreatedDate", "datetime", "o", &[]),
    ("LastModifiedDate", "datetime", "o", &[]),
];

const REMEDYFORCE_TASK: &[Field] = &[
    ("Id", "id", "o", &[]),
    ("Name", "string", "o", &[]),
    ("BMCServiceDesk__taskDescription__c", "textarea", "", &[]),
    ("BMCServiceDesk__FKStatus__c", "reference", "d", &[STATUS]),
    ("BMCServiceDesk__Status_ID__c", "string", "o", &[]),
    ("BMCServiceDesk__state__c", "boolean", "o", &[]),
    ("External_Ref__c", "string", "", &[]),
    ("CreatedById", "reference", "o", &["User"]),
    ("CreatedDate", "datetime", "o", &[]),
    ("LastModifiedDate", "datetime", "o", &[]),
];

const USER: &[Field] = &[
    ("Id", "id", "o", &[]),
    ("Username", "string", "r", &[]),
    ("Email", "email", "r", &[]),
    ("FirstName", "string", "", &[]),
    ("LastName", "string", "r", &[]),
    ("Name", "string", "o", &[]),
    ("Alias", "string", "r", &[]),
    ("IsActive", "boolean", "d", &[]),
    ("ProfileId", "reference", "r", &["Profile"]),
    (
        "UserType",
        "picklist",
        "o",
        &["Standard", "PowerPartner", "CsnOnly", "Guest"],
    ),
    (
        "TimeZoneSidKey",
        "picklist",
        "r",
        &["Europe/London", "Europe/Berlin", "America/New_York", "GMT"],
    ),
    (
        "LocaleSidKey",
        "picklist",
        "r",
        &["en_US", "en_GB", "de_DE"],
    ),
    (
        "EmailEncodingKey",
        "picklist",
        "r",
        &["UTF-8", "ISO-8859-1"],
    ),
    ("LanguageLocaleKey", "picklist", "r", &["en_US", "de", "fr"]),
    ("LastModifiedDate", "datetime", "o", &[]),
];

fn fields_of(object: &str) -> Option<&'static [Field]> {
    Some(match object {
        "Case" => CASE,
        "User" => USER,
        o if o == INCIDENT || o == CHANGE => REMEDYFORCE,
        o if o == TASK => REMEDYFORCE_TASK,
        _ => return None,
    })
}

/// The API names of an object's fields, in describe order.
pub(crate) fn field_names(object: &str) -> Option<Vec<String>> {
    fields_of(object).map(|f| f.iter().map(|(n, ..)| (*n).to_owned()).collect())
}

fn label_of(name: &str) -> String {
    let base = name
        .trim_start_matches("BMCServiceDesk__")
        .trim_end_matches("__c");
    base.replace('_', " ")
}

/// The describe answer, or `None` for an object the mock does not keep.
pub(crate) fn describe(object: &str) -> Option<Value> {
    let fields: Vec<Value> = fields_of(object)?
        .iter()
        .map(|(name, ty, flags, extra)| {
            let read_only = flags.contains('o');
            let required = flags.contains('r');
            let picklist: Vec<Value> = if *ty == "picklist" {
                extra
                    .iter()
                    .map(|v| json!({"value": v, "label": v, "active": true, "defaultValue": false}))
                    .collect()
            } else {
                Vec::new()
            };
            let reference: &[&str] = if *ty == "reference" { extra } else { &[] };
            json!({
                "name": name,
                "label": label_of(name),
                "type": ty,
                "nillable": !required && *ty != "boolean" && !read_only,
                "createable": !read_only,
                "updateable": !read_only && *name != "Username",
                "defaultedOnCreate": flags.contains('d') || *ty == "boolean",
                "custom": name.ends_with("__c"),
                "referenceTo": reference,
                "picklistValues": picklist,
                "length": if matches!(*ty, "string" | "email") { 255 } else { 0 },
            })
        })
        .collect();
    Some(json!({
        "name": object,
        "label": label_of(object),
        "custom": object.ends_with("__c"),
        "fields": fields,
    }))
}
