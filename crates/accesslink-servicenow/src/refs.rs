//! Ticket numbers and `sys_id`s → tables.
//!
//! A number is a prefix and digits (`INC0010001`; seed 004 lists the formats a
//! privileged-access product accepts). Prefixes are matched longest first, so
//! `PRJTASK…` goes to `pm_project_task` before `PRJ` is tried and `CTASK…`/`SCTASK…`
//! never reach `TASK`. The digits are not length-checked: Number Maintenance can change
//! their count per table (fact sheet §1 "Tickets"). A 32-hex `sys_id` is looked up on
//! `task`, whose `sys_class_name` names the real table. Anything else is `InvalidInput`
//! before any request.

use accesslink_core::{Error, Result, TicketKind, TicketRef};

use crate::models::is_sys_id;

/// The built-in prefixes and their tables.
pub const BUILTIN_PREFIXES: &[(&str, &str)] = &[
    ("INC", "incident"),
    ("CHG", "change_request"),
    ("CTASK", "change_task"),
    ("REQ", "sc_request"),
    ("RITM", "sc_req_item"),
    ("SCTASK", "sc_task"),
    ("PRB", "problem"),
    ("PRJ", "pm_project"),
    ("PRJTASK", "pm_project_task"),
    ("TASK", "task"),
];

/// Longest input looked at: numbers and sys_ids are far shorter.
const MAX_INPUT: usize = 64;
/// Most digits a number may have.
const MAX_DIGITS: usize = 20;

/// Where a reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Locator {
    SysId(String),
    Number(String),
}

/// A checked reference: the table and how to find the row in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) table: String,
    pub(crate) locator: Locator,
}

/// The prefix table, longest prefix first.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    prefixes: Vec<(String, String)>,
}

impl Routes {
    /// The built-in prefixes plus `custom`, each checked.
    pub(crate) fn new(custom: &[(String, String)]) -> Result<Self> {
        let mut prefixes: Vec<(String, String)> = BUILTIN_PREFIXES
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        for (p, t) in custom {
            let ok = !p.is_empty() && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_uppercase());
            if !ok {
                return Err(Error::config(format!(
                    "ticket prefix {p:?} must be 1-12 letters A-Z"
                )));
            }
            crate::api::check_table(t).map_err(|e| Error::config(e.to_string()))?;
            prefixes.retain(|(q, _)| q != p);
            prefixes.push((p.clone(), t.clone()));
        }
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(Routes { prefixes })
    }

    /// The table of a number, by longest matching prefix.
    fn table_of_number(&self, number: &str) -> Option<&str> {
        self.prefixes.iter().find_map(|(p, t)| {
            let digits = number.strip_prefix(p.as_str())?;
            let ok = !digits.is_empty()
                && digits.len() <= MAX_DIGITS
                && digits.bytes().all(|b| b.is_ascii_digit());
            ok.then_some(t.as_str())
        })
    }

    /// Whether `table` is one the routes know (or `task`).
    pub(crate) fn knows_table(&self, table: &str) -> bool {
        table == "task" || self.prefixes.iter().any(|(_, t)| t == table)
    }

    /// Parses user input: a number with a known prefix or a `sys_id`.
    pub(crate) fn parse(&self, raw: &str) -> Result<TicketRef> {
        let bad = || {
            Error::invalid_input(format!(
                "{:?} is not a ServiceNow ticket number (a known prefix such as INC, CHG, RITM followed by digits) or sys_id",
                accesslink_core::redact::truncate(raw, 40)
            ))
        };
        if raw.len() > MAX_INPUT {
            return Err(bad());
        }
        let s = raw.trim();
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(TicketRef::by_id(s.to_ascii_lowercase()).with_scope("task"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        let number = s.to_ascii_uppercase();
        let table = self.table_of_number(&number).ok_or_else(bad)?.to_owned();
        Ok(TicketRef::by_number(number).with_scope(table))
    }

    /// Checks a reference again (its fields are public, so it may never have been
    /// parsed) and says where it points.
    pub(crate) fn resolve(&self, r: &TicketRef) -> Result<Target> {
        let scope = match r.scope() {
            None => None,
            Some(t) if self.knows_table(t) => Some(t),
            Some(t) => {
                return Err(Error::invalid_input(format!(
                    "ticket reference scope {:?} is not a table this connector routes to",
                    accesslink_core::redact::truncate(t, 40)
                )));
            }
        };
        if let Some(id) = r.id() {
            if !is_sys_id(id) {
                return Err(Error::invalid_input(format!(
                    "ticket id {:?} is not a sys_id (32 lowercase hex characters)",
                    accesslink_core::redact::truncate(id, 40)
                )));
            }
            let by_number = match r.number() {
                Some(n) => Some(self.number_table(n)?),
                None => None,
            };
            let table = scope.or(by_number.as_deref()).unwrap_or("task").to_owned();
            return Ok(Target {
                table,
                locator: Locator::SysId(id.to_owned()),
            });
        }
        let Some(number) = r.number() else {
            return Err(Error::invalid_input(
                "an empty ticket reference (neither sys_id nor number)",
            ));
        };
        let table = self.number_table(number)?;
        if let Some(s) = scope {
            if s != table && s != "task" {
                return Err(Error::invalid_input(format!(
                    "ticket number {number} belongs to {table}, not to {s}"
                )));
            }
        }
        Ok(Target {
            table,
            locator: Locator::Number(number.to_owned()),
        })
    }

    fn number_table(&self, number: &str) -> Result<String> {
        let parsed = self.parse(number)?;
        match (parsed.number(), parsed.scope()) {
            // Only the canonical spelling: `resolve` never trims or upper-cases.
            (Some(n), Some(t)) if n == number => Ok(t.to_owned()),
            _ => Err(Error::invalid_input(format!(
                "{:?} is not a ServiceNow ticket number",
                accesslink_core::redact::truncate(number, 40)
            ))),
        }
    }
}

/// The ticket kind of a table.
pub fn kind_of_table(table: &str) -> TicketKind {
    match table {
        "incident" => TicketKind::Incident,
        "change_request" => TicketKind::Change,
        "change_task" => TicketKind::ChangeTask,
        "sc_request" => TicketKind::Request,
        "sc_req_item" => TicketKind::RequestItem,
        "problem" => TicketKind::Problem,
        "pm_project" => TicketKind::Project,
        "pm_project_task" => TicketKind::ProjectTask,
        "task" | "sc_task" => TicketKind::Task,
        other => TicketKind::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes::new(&[("UACC".into(), "u_access_request".into())]).unwrap()
    }

    #[test]
    fn every_prefix_routes_to_its_table() {
        let r = routes();
        let rows = [
            ("INC0010001", "incident"),
            ("CHG0030001", "change_request"),
            ("CTASK0010001", "change_task"),
            ("REQ0010001", "sc_request"),
            ("RITM0010001", "sc_req_item"),
            ("SCTASK0010001", "sc_task"),
            ("PRB0040001", "problem"),
            ("PRJ0001001", "pm_project"),
            ("PRJTASK0001001", "pm_project_task"),
            ("TASK0010001", "task"),
            ("UACC0000001", "u_access_request"),
            ("inc0010001", "incident"),
            (" INC0010001 ", "incident"),
            ("INC1", "incident"),
        ];
        for (raw, table) in rows {
            let t = r.parse(raw).unwrap();
            assert_eq!(t.scope(), Some(table), "{raw}");
            assert_eq!(t.number(), Some(raw.trim().to_ascii_uppercase().as_str()));
            let target = r.resolve(&t).unwrap();
            assert_eq!(target.table, table);
        }
    }

    #[test]
    fn sys_ids_go_to_task() {
        let r = routes();
        let t = r.parse("9D385017C611228701D22104CC95C371").unwrap();
        assert_eq!(t.id(), Some("9d385017c611228701d22104cc95c371"));
        assert_eq!(r.resolve(&t).unwrap().table, "task");
        let t = TicketRef::by_id("9d385017c611228701d22104cc95c371").with_scope("incident");
        assert_eq!(r.resolve(&t).unwrap().table, "incident");
    }

    #[test]
    fn anything_else_is_refused() {
        let r = routes();
        for bad in [
            "",
            "INC",
            "XYZ0010001",
            "INC-0010001",
            "INC0010001^ORactive=true",
            "INC001 OR 1=1",
            "INC\u{661}\u{662}",
            "INC123456789012345678901",
            "9d385017c611228701d22104cc95c37",
            "TASKINC001",
            "PRJTASK",
            &"9".repeat(10_000),
        ] {
            assert!(r.parse(bad).is_err(), "{bad:?}");
        }
        // Unparsed references are checked again.
        for t in [
            TicketRef::by_number("INC1^ORactive=true"),
            TicketRef::by_number("inc0010001"),
            TicketRef::by_id("../../x"),
            TicketRef::by_number("INC0010001").with_scope("sys_user"),
            TicketRef::by_number("INC0010001").with_scope("change_request"),
            TicketRef::by_number(""),
        ] {
            assert!(r.resolve(&t).is_err(), "{t:?}");
        }
    }

    #[test]
    fn custom_prefixes_are_checked() {
        assert!(Routes::new(&[("u1".into(), "x".into())]).is_err());
        assert!(Routes::new(&[("UX".into(), "Bad Table".into())]).is_err());
        // A custom prefix may take over a built-in one.
        let r = Routes::new(&[("REQ".into(), "sc_req_item".into())]).unwrap();
        assert_eq!(r.parse("REQ1").unwrap().scope(), Some("sc_req_item"));
    }
}
