//! The search options the mock knows (`listSearchOptions`), and the default display
//! preferences of a fresh install.

use serde_json::{Map, Value, json};

use super::super::items::Itemtype;

/// How a search option finds its value in a row.
#[derive(Debug, Clone, Copy)]
pub(super) enum Col {
    /// A column of the row itself.
    Own(&'static str),
    /// The item link (name): displays the column, `equals` compares the row id.
    Link(&'static str),
    /// Completename of the entity in this column.
    EntityOf(&'static str),
    /// Login of the user in this column.
    UserOf(&'static str),
    /// A user's e-mail addresses.
    Emails,
    /// A user's groups (completenames).
    Groups,
    /// A user's profiles (names).
    Profiles,
    /// The entities of a user's profiles (completenames).
    ProfileEntities,
    /// A relation the mock does not model (actors, categories, locations): always NULL.
    Null,
}

/// One search option: id, label, datatype, source.
pub(super) type Opt = (u32, &'static str, &'static str, Col);

const ITIL: &[Opt] = &[
    (1, "Title", "itemlink", Col::Link("name")),
    (2, "ID", "number", Col::Own("id")),
    (3, "Priority", "specific", Col::Own("priority")),
    (4, "Requester", "dropdown", Col::Null),
    (5, "Technician", "dropdown", Col::Null),
    (7, "Category", "dropdown", Col::Own("itilcategories_id")),
    (8, "Technician group", "dropdown", Col::Null),
    (10, "Urgency", "specific", Col::Own("urgency")),
    (11, "Impact", "specific", Col::Own("impact")),
    (12, "Status", "specific", Col::Own("status")),
    (15, "Opening date", "datetime", Col::Own("date")),
    (16, "Closing date", "datetime", Col::Own("closedate")),
    (17, "Resolution date", "datetime", Col::Own("solvedate")),
    (
        18,
        "Time to resolve",
        "datetime",
        Col::Own("time_to_resolve"),
    ),
    (19, "Last update", "datetime", Col::Own("date_mod")),
    (21, "Description", "text", Col::Own("content")),
    (22, "Writer", "dropdown", Col::UserOf("users_id_recipient")),
    (
        51,
        "Minimum validation required",
        "number",
        Col::Own("validation_percent"),
    ),
    (52, "Approval", "specific", Col::Own("global_validation")),
    (
        64,
        "Last edit by",
        "dropdown",
        Col::UserOf("users_id_lastupdater"),
    ),
    (71, "Requester group", "dropdown", Col::Null),
    (80, "Entity", "dropdown", Col::EntityOf("entities_id")),
    (83, "Location", "dropdown", Col::Null),
];
const TICKET_ONLY: &[Opt] = &[
    (9, "Request source", "dropdown", Col::Null),
    (14, "Type", "specific", Col::Own("type")),
];
const USER: &[Opt] = &[
    (1, "Login", "itemlink", Col::Link("name")),
    (2, "ID", "number", Col::Own("id")),
    (3, "Location", "dropdown", Col::Null),
    (5, "Emails", "email", Col::Emails),
    (6, "Phone", "string", Col::Own("phone")),
    (8, "Active", "bool", Col::Own("is_active")),
    (9, "First name", "string", Col::Own("firstname")),
    (10, "Phone 2", "string", Col::Own("phone2")),
    (11, "Mobile phone", "string", Col::Own("mobile")),
    (13, "Groups", "itemlink", Col::Groups),
    (14, "Last login", "datetime", Col::Own("last_login")),
    (15, "Authentication", "specific", Col::Own("authtype")),
    (16, "Comments", "text", Col::Own("comment")),
    (17, "Language", "language", Col::Own("language")),
    (19, "Last update", "datetime", Col::Own("date_mod")),
    (20, "Profiles (Entity)", "dropdown", Col::Profiles),
    (21, "User DN", "text", Col::Own("user_dn")),
    (
        22,
        "Administrative number",
        "string",
        Col::Own("registration_number"),
    ),
    (34, "Last name", "string", Col::Own("realname")),
    (62, "Begin date", "datetime", Col::Own("begin_date")),
    (63, "End date", "datetime", Col::Own("end_date")),
    (
        77,
        "Default entity",
        "dropdown",
        Col::EntityOf("entities_id"),
    ),
    (80, "Entities (Profile)", "dropdown", Col::ProfileEntities),
    (121, "Creation date", "datetime", Col::Own("date_creation")),
];
const GROUP: &[Opt] = &[
    (1, "Complete name", "itemlink", Col::Link("completename")),
    (2, "ID", "number", Col::Own("id")),
    (14, "Name", "itemlink", Col::Link("name")),
    (16, "Comments", "text", Col::Own("comment")),
    (19, "Last update", "datetime", Col::Own("date_mod")),
    (80, "Entity", "dropdown", Col::EntityOf("entities_id")),
    (86, "Child entities", "bool", Col::Own("is_recursive")),
    (121, "Creation date", "datetime", Col::Own("date_creation")),
];
const PROFILE: &[Opt] = &[
    (1, "Name", "itemlink", Col::Link("name")),
    (2, "ID", "number", Col::Own("id")),
    (3, "Default profile", "bool", Col::Own("is_default")),
    (5, "Profile's interface", "specific", Col::Own("interface")),
    (16, "Comments", "text", Col::Own("comment")),
    (19, "Last update", "datetime", Col::Own("date_mod")),
    (121, "Creation date", "datetime", Col::Own("date_creation")),
];
const ENTITY: &[Opt] = &[
    (1, "Complete name", "itemlink", Col::Link("completename")),
    (2, "ID", "number", Col::Own("id")),
    (14, "Name", "itemlink", Col::Link("name")),
    (16, "Comments", "text", Col::Own("comment")),
];
const ID_ONLY: &[Opt] = &[(2, "ID", "number", Col::Own("id"))];

/// The columns of `it` its search options show, each once, in option order: what
/// `listSearchOptions` describes (a column of the item itself by name; the mock's
/// dropdowns are columns of the item too).
pub(in super::super) fn option_columns(it: Itemtype) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, _, _, col) in options(it) {
        if let Col::Own(f) | Col::Link(f) = col
            && !out.iter().any(|o| o == f)
        {
            out.push(f.to_owned());
        }
    }
    out
}

pub(super) fn options(it: Itemtype) -> Vec<Opt> {
    match it {
        Itemtype::Ticket => [ITIL, TICKET_ONLY].concat(),
        Itemtype::Change => ITIL.to_vec(),
        Itemtype::User => USER.to_vec(),
        Itemtype::Group => GROUP.to_vec(),
        Itemtype::Profile => PROFILE.to_vec(),
        Itemtype::Entity => ENTITY.to_vec(),
        _ => ID_ONLY.to_vec(),
    }
}

/// Default display preferences of a fresh install (`glpi_displaypreferences`, user 0).
pub(super) fn display_preferences(it: Itemtype) -> &'static [u32] {
    match it {
        Itemtype::Ticket => &[12, 19, 15, 3, 4, 5, 7, 18],
        Itemtype::Change => &[12, 19, 15, 7, 18],
        Itemtype::User => &[34, 5, 6, 3, 8],
        Itemtype::Group => &[16],
        Itemtype::Profile => &[2, 3, 19],
        _ => &[2],
    }
}

/// `GET /listSearchOptions/:itemtype`.
pub(in super::super) fn list_options(it: Itemtype) -> Value {
    let mut out = Map::new();
    out.insert("common".into(), json!({"name": "Characteristics"}));
    for (id, name, datatype, col) in options(it) {
        let (table, field) = match col {
            Col::Own(f) | Col::Link(f) => (it.table(), f),
            Col::EntityOf(_) | Col::ProfileEntities => ("glpi_entities", "completename"),
            Col::UserOf(_) => ("glpi_users", "name"),
            Col::Emails => ("glpi_useremails", "email"),
            Col::Groups => ("glpi_groups", "completename"),
            Col::Profiles => ("glpi_profiles", "name"),
            Col::Null => ("", "name"),
        };
        let searchtypes: &[&str] = match datatype {
            "specific" | "bool" => &["equals"],
            "datetime" => &[
                "equals",
                "notequals",
                "lessthan",
                "morethan",
                "contains",
                "notcontains",
            ],
            "dropdown" => &["contains", "notcontains", "equals", "notequals"],
            _ => &["contains", "notcontains"],
        };
        out.insert(
            id.to_string(),
            json!({
                "name": name, "table": table, "field": field, "datatype": datatype,
                "nosearch": false, "nodisplay": false, "available_searchtypes": searchtypes,
                "uid": format!("{}.{field}", it.name()),
            }),
        );
    }
    Value::Object(out)
}
