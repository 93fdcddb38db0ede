//! The modelled itemtypes and what GLPI derives from a row: its `links` (HATEOAS), the
//! foreign keys `expand_dropdowns` names, and how input values are stored.

use serde_json::{Map, Value};

use super::php;

/// A stored row: column name → value, without the `links` GLPI adds when printing.
pub(super) type Record = Map<String, Value>;

/// The GLPI itemtypes the mock serves (`/apirest.php/<name>`).
///
/// Names are case-sensitive, as they are for most classes on the real server
/// (`/ticket/2` is `ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM` there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Itemtype {
    /// `Ticket` (`glpi_tickets`), with a trash bin.
    Ticket,
    /// `Change` (`glpi_changes`), with a trash bin.
    Change,
    /// `ITILFollowup`: a comment on a Ticket or Change (`itemtype` + `items_id`).
    ITILFollowup,
    /// `TicketValidation`: an approval request on a ticket (`tickets_id`).
    TicketValidation,
    /// `ChangeValidation`: an approval request on a change (`changes_id`).
    ChangeValidation,
    /// `User`, with a trash bin.
    User,
    /// `UserEmail`: one address of a user (`users_id`, `is_default`).
    UserEmail,
    /// `Group`.
    Group,
    /// `Group_User`: a membership (`users_id`, `groups_id`).
    GroupUser,
    /// `Profile`.
    Profile,
    /// `Profile_User`: a profile held in an entity (`users_id`, `profiles_id`, `entities_id`).
    ProfileUser,
    /// `Entity` (the Root entity has id 0).
    Entity,
}

impl Itemtype {
    /// Every modelled itemtype, in declaration order.
    pub const ALL: [Itemtype; 12] = [
        Itemtype::Ticket,
        Itemtype::Change,
        Itemtype::ITILFollowup,
        Itemtype::TicketValidation,
        Itemtype::ChangeValidation,
        Itemtype::User,
        Itemtype::UserEmail,
        Itemtype::Group,
        Itemtype::GroupUser,
        Itemtype::Profile,
        Itemtype::ProfileUser,
        Itemtype::Entity,
    ];

    /// The class name used in URLs and `itemtype` fields.
    pub fn name(self) -> &'static str {
        match self {
            Itemtype::Ticket => "Ticket",
            Itemtype::Change => "Change",
            Itemtype::ITILFollowup => "ITILFollowup",
            Itemtype::TicketValidation => "TicketValidation",
            Itemtype::ChangeValidation => "ChangeValidation",
            Itemtype::User => "User",
            Itemtype::UserEmail => "UserEmail",
            Itemtype::Group => "Group",
            Itemtype::GroupUser => "Group_User",
            Itemtype::Profile => "Profile",
            Itemtype::ProfileUser => "Profile_User",
            Itemtype::Entity => "Entity",
        }
    }

    /// The itemtype with this exact class name.
    pub fn from_name(name: &str) -> Option<Itemtype> {
        Self::ALL.into_iter().find(|it| it.name() == name)
    }

    /// The database table, as error messages name it.
    pub(super) fn table(self) -> &'static str {
        match self {
            Itemtype::Ticket => "glpi_tickets",
            Itemtype::Change => "glpi_changes",
            Itemtype::ITILFollowup => "glpi_itilfollowups",
            Itemtype::TicketValidation => "glpi_ticketvalidations",
            Itemtype::ChangeValidation => "glpi_changevalidations",
            Itemtype::User => "glpi_users",
            Itemtype::UserEmail => "glpi_useremails",
            Itemtype::Group => "glpi_groups",
            Itemtype::GroupUser => "glpi_groups_users",
            Itemtype::Profile => "glpi_profiles",
            Itemtype::ProfileUser => "glpi_profiles_users",
            Itemtype::Entity => "glpi_entities",
        }
    }

    /// The foreign key other tables use for this itemtype (`getForeignKeyFieldForItemType`).
    pub(super) fn foreign_key(self) -> &'static str {
        match self {
            Itemtype::Ticket => "tickets_id",
            Itemtype::Change => "changes_id",
            Itemtype::ITILFollowup => "itilfollowups_id",
            Itemtype::TicketValidation => "ticketvalidations_id",
            Itemtype::ChangeValidation => "changevalidations_id",
            Itemtype::User => "users_id",
            Itemtype::UserEmail => "useremails_id",
            Itemtype::Group => "groups_id",
            Itemtype::GroupUser => "groups_users_id",
            Itemtype::Profile => "profiles_id",
            Itemtype::ProfileUser => "profiles_users_id",
            Itemtype::Entity => "entities_id",
        }
    }

    /// Whether `DELETE` without `force_purge` moves rows to the trash (`is_deleted = 1`);
    /// for the others GLPI forces the purge.
    pub(super) fn has_trash(self) -> bool {
        matches!(self, Itemtype::Ticket | Itemtype::Change | Itemtype::User)
    }

    /// Whether rows are only visible in the session's active entities.
    pub(super) fn entity_scoped(self) -> bool {
        matches!(
            self,
            Itemtype::Ticket | Itemtype::Change | Itemtype::Group | Itemtype::Entity
        )
    }

    /// Child classes GLPI links from every row (`getHatoasClasses`), in its order.
    pub(super) fn hateoas(self) -> &'static [&'static str] {
        match self {
            Itemtype::Ticket => &[
                "Document_Item",
                "TicketTask",
                "TicketValidation",
                "TicketCost",
                "Problem_Ticket",
                "Change_Ticket",
                "Item_Ticket",
                "ITILSolution",
                "ITILFollowup",
                "Ticket_User",
                "Group_Ticket",
                "Supplier_Ticket",
            ],
            Itemtype::Change => &[
                "Document_Item",
                "ChangeTask",
                "ChangeCost",
                "Itil_Project",
                "Change_Problem",
                "Change_Ticket",
                "Change_Item",
                "ITILSolution",
                "ITILFollowup",
                "Change_User",
                "Group_Change",
                "Supplier_Change",
            ],
            Itemtype::User | Itemtype::ITILFollowup | Itemtype::Entity => &["Document_Item"],
            _ => &[],
        }
    }

    /// The ITIL object a validation row belongs to, and the key naming it.
    pub(super) fn validation_parent(self) -> Option<(Itemtype, &'static str)> {
        match self {
            Itemtype::TicketValidation => Some((Itemtype::Ticket, "tickets_id")),
            Itemtype::ChangeValidation => Some((Itemtype::Change, "changes_id")),
            _ => None,
        }
    }
}

/// The itemtype a foreign-key column points to, as `getItemTypeForTable` names it; `None`
/// for columns that are not foreign keys or point at tables the mock does not name.
pub(super) fn fk_target(key: &str) -> Option<&'static str> {
    if key == "default_requesttypes_id" {
        return Some("RequestType");
    }
    // `isForeignKeyField`: `<table>_id` or `<table>_id_<suffix>`.
    let prefix = match key.find("_id_") {
        Some(at) => &key[..at],
        None => key.strip_suffix("_id")?,
    };
    Some(match prefix {
        "entities" => "Entity",
        "users" => "User",
        "groups" => "Group",
        "profiles" => "Profile",
        "tickets" => "Ticket",
        "changes" => "Change",
        "requesttypes" => "RequestType",
        "itilcategories" => "ITILCategory",
        "locations" => "Location",
        "tickettemplates" => "TicketTemplate",
        "changetemplates" => "ChangeTemplate",
        "problemtemplates" => "ProblemTemplate",
        "slas" => "SLA",
        "olas" => "OLA",
        "slalevels" => "SlaLevel",
        "olalevels" => "OlaLevel",
        "usertitles" => "UserTitle",
        "usercategories" => "UserCategory",
        "authldaps" => "AuthLDAP",
        "calendars" => "Calendar",
        "contracts" => "Contract",
        "transfers" => "Transfer",
        _ => return None,
    })
}

/// The `links` array GLPI prints for a row of `itemtype` (`parseDropdowns` then the
/// HATEOAS children), against the API base URL `api`.
pub(super) fn links(itemtype: Itemtype, id: i64, fields: &Record, api: &str) -> Vec<Value> {
    let mut links = Vec::new();
    for (key, value) in fields {
        let Some(n) = value.as_i64() else { continue };
        // `!empty($value) || ($key == 'entities_id' && $value >= 0)`
        if n == 0 && key != "entities_id" {
            continue;
        }
        let rel = if key == "items_id" {
            fields
                .get("itemtype")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        } else {
            fk_target(key)
        };
        if let Some(rel) = rel {
            links.push(link(rel, format!("{api}/{rel}/{n}")));
        }
    }
    for class in itemtype.hateoas() {
        let href = format!("{api}/{}/{id}/{class}/", itemtype.name());
        links.push(link(class, href));
    }
    links
}

fn link(rel: &str, href: String) -> Value {
    let mut map = Map::new();
    map.insert("rel".into(), Value::String(rel.into()));
    map.insert("href".into(), Value::String(href));
    Value::Object(map)
}

/// An input value as the database stores it, given the column's default (its type):
/// integer columns take numbers, numeric strings and booleans; text columns take
/// sanitized strings (`&`, `<`, `>` become `&#38;`, `&#60;`, `&#62;`). Arrays and objects
/// are not column values: `None`, and GLPI ignores them.
pub(super) fn coerce(column_default: &Value, input: &Value) -> Option<Value> {
    let int = |v: &Value| -> Option<Value> {
        match v {
            Value::Number(n) if n.is_i64() => Some(v.clone()),
            Value::Number(n) => Some(Value::from(n.as_f64().unwrap_or(0.0) as i64)),
            Value::Bool(b) => Some(Value::from(i64::from(*b))),
            Value::String(s) => Some(Value::from(php::intval(s))),
            _ => None,
        }
    };
    match (column_default, input) {
        (_, Value::Array(_) | Value::Object(_)) => None,
        (_, Value::Null) => Some(Value::Null),
        (Value::Number(_), v) => int(v),
        (Value::String(_), Value::Number(n)) => Some(Value::String(n.to_string())),
        (_, Value::Bool(b)) => Some(Value::from(i64::from(*b))),
        (_, Value::String(s)) => Some(Value::String(php::sanitize(s))),
        (_, v) => Some(v.clone()),
    }
}

/// Whether GLPI's PHP `empty()` holds for a column value.
pub(super) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() || s == "0",
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// A column value as an integer id (`intval`), for keys such as `users_id`.
pub(super) fn as_id(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => php::intval(s),
        Some(Value::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}
