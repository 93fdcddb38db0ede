//! What fields a target's tickets and accounts have, so an administrator can build a
//! field map without reading the vendor's documentation.
//!
//! [`TicketingSystem::ticket_schema`](crate::TicketingSystem::ticket_schema) and
//! [`Provisioner::account_schema`](crate::Provisioner::account_schema) answer an
//! [`ObjectSchema`]: each field's API name, label, type, whether it is required or read
//! only, and its allowed values where the API lists them (ServiceNow choices, OTRS
//! queues and states, GLPI categories…). Connectors read it from the target where the
//! API describes itself and declare it where the vendor's schema is fixed.

use serde::{Deserialize, Serialize};

/// The fields of one kind of object (a ticket kind, or accounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectSchema {
    /// The target's name for the object (`incident`, `Ticket`, `sys_user`, `User`).
    pub object: String,
    /// Its fields, in the order the target lists them.
    pub fields: Vec<FieldSchema>,
}

impl ObjectSchema {
    /// A schema with no fields yet.
    pub fn new(object: impl Into<String>) -> Self {
        ObjectSchema {
            object: object.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, field: FieldSchema) -> Self {
        self.fields.push(field);
        self
    }

    /// The field with this API name, if the object has it.
    pub fn get(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A field's value type, as far as a mapping needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "of")]
#[non_exhaustive]
pub enum FieldType {
    /// Short text.
    String,
    /// Long text.
    Text,
    /// A whole number.
    Integer,
    /// A decimal number.
    Number,
    /// True or false.
    Boolean,
    /// A date.
    Date,
    /// A date and time.
    DateTime,
    /// One of [`FieldSchema::allowed`].
    Choice,
    /// A reference to another object (`sys_user`, `User`, a group…).
    Reference(String),
    /// Something else; the target's own type name.
    Other(String),
}

/// One value a choice field allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AllowedValue {
    /// The value as sent to the API.
    pub value: String,
    /// The label people see, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl AllowedValue {
    /// A value with an optional label.
    pub fn new(value: impl Into<String>, label: Option<String>) -> Self {
        AllowedValue {
            value: value.into(),
            label,
        }
    }
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldSchema {
    /// The API name (`short_description`, `Title`, `DynamicField_AccessRequestID`).
    pub name: String,
    /// The label people see, if the target has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The value type.
    pub field_type: FieldType,
    /// Whether a create must set it.
    #[serde(default)]
    pub required: bool,
    /// Whether the API refuses to write it.
    #[serde(default)]
    pub read_only: bool,
    /// Whether it holds a list.
    #[serde(default)]
    pub multi_valued: bool,
    /// The values it allows, where the API lists them; empty when any value goes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<AllowedValue>,
}

impl FieldSchema {
    /// An optional, writable, single-valued field.
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Self {
        FieldSchema {
            name: name.into(),
            label: None,
            field_type,
            required: false,
            read_only: false,
            multi_valued: false,
            allowed: Vec::new(),
        }
    }

    /// Sets the label.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Marks it required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks it read only.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Marks it multi-valued.
    #[must_use]
    pub fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Sets the allowed values (and makes a `String` field a `Choice`).
    #[must_use]
    pub fn allowed(mut self, values: impl IntoIterator<Item = AllowedValue>) -> Self {
        self.allowed = values.into_iter().collect();
        if self.field_type == FieldType::String && !self.allowed.is_empty() {
            self.field_type = FieldType::Choice;
        }
        self
    }
}
