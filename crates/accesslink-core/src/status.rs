//! [`StatusMap`]: a connector's native ticket states and approval values mapped to
//! [`TicketState`] and [`ApprovalState`], as data that settings can extend.
//!
//! Each connector declares its default table; an embedder whose instance has custom
//! states (a ServiceNow `u_awaiting_vendor`, an OTRS `closed by IAM`) adds or overrides
//! entries in the connector's settings instead of getting `Unknown`, which the
//! fail-closed gate would deny:
//!
//! ```toml
//! [instances.prod-it.status_map]
//! states = { "awaiting vendor" = "on_hold", "8" = "cancelled" }
//! approvals = { "u_ok" = "approved" }
//! ```
//!
//! Keys are matched without regard to ASCII case and surrounding spaces. The table a
//! connector page documents is [`StatusMap::markdown_table`] of its default map, and a
//! test per connector checks the page against it with [`StatusMap::check_documented`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ticket::{ApprovalState, TicketState, TicketStatus};

/// Entries that settings add to, or change in, a connector's [`StatusMap`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StatusOverrides {
    /// Native state → normalised state.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub states: BTreeMap<String, TicketState>,
    /// Native approval value → normalised approval.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub approvals: BTreeMap<String, ApprovalState>,
}

impl StatusOverrides {
    /// No overrides.
    pub fn new() -> Self {
        StatusOverrides::default()
    }

    /// Maps a native state.
    #[must_use]
    pub fn state(mut self, native: impl Into<String>, state: TicketState) -> Self {
        self.states.insert(native.into(), state);
        self
    }

    /// Maps a native approval value.
    #[must_use]
    pub fn approval(mut self, native: impl Into<String>, approval: ApprovalState) -> Self {
        self.approvals.insert(native.into(), approval);
        self
    }

    /// True when there is nothing to override.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty() && self.approvals.is_empty()
    }
}

/// Native state → [`TicketState`] and native approval → [`ApprovalState`] tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusMap {
    states: Vec<(String, TicketState)>,
    approvals: Vec<(String, ApprovalState)>,
}

fn norm(key: &str) -> String {
    key.trim().to_ascii_lowercase()
}

impl StatusMap {
    /// An empty map: every value is `Unknown`.
    pub fn new() -> Self {
        StatusMap::default()
    }

    /// A map of states from a table.
    pub fn from_states(rows: &[(&str, TicketState)]) -> Self {
        rows.iter()
            .fold(StatusMap::new(), |m, (k, v)| m.state(*k, *v))
    }

    /// Maps a native state (replacing an entry with the same key).
    #[must_use]
    pub fn state(mut self, native: impl Into<String>, state: TicketState) -> Self {
        let native = native.into();
        let key = norm(&native);
        match self.states.iter_mut().find(|(k, _)| norm(k) == key) {
            Some(row) => row.1 = state,
            None => self.states.push((native, state)),
        }
        self
    }

    /// Maps a native approval value (replacing an entry with the same key).
    #[must_use]
    pub fn approval(mut self, native: impl Into<String>, approval: ApprovalState) -> Self {
        let native = native.into();
        let key = norm(&native);
        match self.approvals.iter_mut().find(|(k, _)| norm(k) == key) {
            Some(row) => row.1 = approval,
            None => self.approvals.push((native, approval)),
        }
        self
    }

    /// Applies settings' overrides on top of this map.
    #[must_use]
    pub fn with_overrides(self, o: &StatusOverrides) -> Self {
        let m = o
            .states
            .iter()
            .fold(self, |m, (k, v)| m.state(k.clone(), *v));
        o.approvals
            .iter()
            .fold(m, |m, (k, v)| m.approval(k.clone(), *v))
    }

    /// The state a native value maps to, if the map has it.
    pub fn get_state(&self, native: &str) -> Option<TicketState> {
        let key = norm(native);
        self.states
            .iter()
            .find(|(k, _)| norm(k) == key)
            .map(|(_, v)| *v)
    }

    /// The first of several keys that the map has, most specific first (an OTRS state
    /// name before its state type).
    pub fn first_state<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Option<TicketState> {
        keys.into_iter().find_map(|k| self.get_state(k))
    }

    /// The state of a native value; `Unknown` when the map does not have it.
    pub fn ticket_state(&self, native: &str) -> TicketState {
        self.get_state(native).unwrap_or(TicketState::Unknown)
    }

    /// The status (state and raw value) of a native value.
    pub fn ticket_status(&self, native: &str) -> TicketStatus {
        TicketStatus::new(self.ticket_state(native), native)
    }

    /// The approval a native value maps to, if the map has it.
    pub fn get_approval(&self, native: &str) -> Option<ApprovalState> {
        let key = norm(native);
        self.approvals
            .iter()
            .find(|(k, _)| norm(k) == key)
            .map(|(_, v)| *v)
    }

    /// The approval of a native value; `Unknown` when the map does not have it.
    pub fn approval_state(&self, native: &str) -> ApprovalState {
        self.get_approval(native).unwrap_or(ApprovalState::Unknown)
    }

    /// The state rows, in declaration order.
    pub fn states(&self) -> impl Iterator<Item = (&str, TicketState)> {
        self.states.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The approval rows, in declaration order.
    pub fn approvals(&self) -> impl Iterator<Item = (&str, ApprovalState)> {
        self.approvals.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The map as Markdown tables (states, then approvals if any), as connector pages
    /// show it: `| native | state |` rows with the native value in backticks.
    pub fn markdown_table(&self) -> String {
        let mut out = String::from("| native state | `TicketState` |\n|---|---|\n");
        for (k, v) in self.states() {
            let _ = writeln!(out, "| `{k}` | {v} |");
        }
        if !self.approvals.is_empty() {
            out.push_str("\n| native approval | `ApprovalState` |\n|---|---|\n");
            for (k, v) in self.approvals() {
                let _ = writeln!(out, "| `{k}` | {v} |");
            }
        }
        out
    }

    /// Checks that a documentation page shows every row of this map (as
    /// [`markdown_table`](Self::markdown_table) writes it) and no mapping row the map
    /// does not have; the error lists the differences.
    pub fn check_documented(&self, page: &str) -> Result<(), String> {
        let mut problems = Vec::new();
        let want: Vec<String> = self
            .states()
            .map(|(k, v)| format!("| `{k}` | {v} |"))
            .chain(self.approvals().map(|(k, v)| format!("| `{k}` | {v} |")))
            .collect();
        let lines: Vec<&str> = page.lines().map(str::trim).collect();
        for row in &want {
            if !lines.contains(&row.as_str()) {
                problems.push(format!("missing row: {row}"));
            }
        }
        let header_at = lines.iter().position(|l| l.starts_with("| native state |"));
        match header_at {
            None => problems.push("no `| native state | ... |` table".into()),
            Some(at) => {
                // Rows of the page's mapping tables that the map does not have.
                let mut in_table = false;
                for l in &lines[at..] {
                    if l.starts_with("| native") {
                        in_table = true;
                        continue;
                    }
                    if !l.starts_with('|') {
                        if in_table && l.is_empty() {
                            in_table = false;
                            continue;
                        }
                        if !in_table && !l.is_empty() {
                            break;
                        }
                        continue;
                    }
                    if in_table && !l.starts_with("|---") && !want.iter().any(|w| w == l) {
                        problems.push(format!("row not in the map: {l}"));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> StatusMap {
        StatusMap::from_states(&[
            ("New", TicketState::New),
            ("In Progress", TicketState::InProgress),
            ("Closed", TicketState::Closed),
        ])
        .approval("approved", ApprovalState::Approved)
    }

    #[test]
    fn lookups_ignore_case_and_spaces() {
        let m = map();
        assert_eq!(m.ticket_state("new"), TicketState::New);
        assert_eq!(m.ticket_state("  IN PROGRESS "), TicketState::InProgress);
        assert_eq!(m.ticket_state("awaiting vendor"), TicketState::Unknown);
        assert_eq!(m.ticket_status("Closed").raw, "Closed");
        assert_eq!(m.approval_state("APPROVED"), ApprovalState::Approved);
        assert_eq!(m.approval_state("maybe"), ApprovalState::Unknown);
        assert_eq!(
            m.first_state(["closed successful", "closed"]),
            Some(TicketState::Closed)
        );
    }

    #[test]
    fn overrides_add_and_replace() {
        let o: StatusOverrides = serde_json::from_value(serde_json::json!({
            "states": { "awaiting vendor": "on_hold", "CLOSED": "cancelled" },
            "approvals": { "u_ok": "approved" }
        }))
        .unwrap();
        let m = map().with_overrides(&o);
        assert_eq!(m.ticket_state("Awaiting Vendor"), TicketState::OnHold);
        assert_eq!(m.ticket_state("closed"), TicketState::Cancelled);
        assert_eq!(m.states().count(), 4, "replaced, not duplicated");
        assert_eq!(m.approval_state("u_ok"), ApprovalState::Approved);
        assert!(
            serde_json::from_value::<StatusOverrides>(
                serde_json::json!({ "states": { "x": "done" } })
            )
            .is_err()
        );
        assert!(
            serde_json::from_value::<StatusOverrides>(serde_json::json!({ "state": {} })).is_err()
        );
    }

    #[test]
    fn docs_check_finds_missing_and_extra_rows() {
        let m = map();
        let page = format!(
            "# X\n\n## Status mapping\n\n{}\nMore text.\n",
            m.markdown_table()
        );
        m.check_documented(&page).unwrap();
        let stale = page.replace("| `Closed` | closed |", "| `Closed` | resolved |");
        let e = m.check_documented(&stale).unwrap_err();
        assert!(e.contains("missing row: | `Closed` | closed |"), "{e}");
        assert!(
            e.contains("row not in the map: | `Closed` | resolved |"),
            "{e}"
        );
        assert!(m.check_documented("no table").is_err());
    }
}
