//! Schema-only mirrors of core types that do not derive `JsonSchema`.

use schemars::JsonSchema;

/// A ticket kind as configuration names it (`accesslink_core::TicketKind`):
/// one of the snake_case names, or `{ other = "<target's own name>" }`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // Never built: it only describes TicketKind's serde form.
pub(crate) enum KindName {
    Incident,
    Change,
    ChangeTask,
    Request,
    RequestItem,
    Problem,
    Project,
    ProjectTask,
    Task,
    Case,
    Other(String),
}
