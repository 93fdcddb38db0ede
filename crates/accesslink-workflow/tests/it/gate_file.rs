//! Gate policies from TOML or JSON: parsed, checked at load and against the
//! connectors, with a JSON Schema.

use std::sync::Arc;

use accesslink_core::{TicketKind, TicketState, TicketingSystem};
use accesslink_workflow::audit::MemorySink;
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, GateConfig, GateConfigError, Principal, SuperAdmins,
};

use crate::double::{FakeItsm, ticket};

const TOML: &str = r#"
order = ["glpi", "otrs"]
deadline_secs = 5

[cache]
ttl_secs = 20

[desks.servicenow]
target = "snow"
claims = [{ prefixes = ["INC"], charset = "digits", min_len = 7, max_len = 7 }]

[desks.servicenow.policies.default]
allowed_kinds = ["change", "incident"]
approval = { kinds = ["change"] }

[desks.servicenow.policies.groups.Prod]
allowed_kinds = ["change"]
approval = "always"

[desks.servicenow.policies.user_groups.dba]
no_ticket_operations = ["retrieve_password"]

[desks.servicenow.policies.super_admins]
exempt = false

[desks.glpi.policies.default]
allowed_states = ["new", "in_progress"]

[desks.otrs]
"#;

fn parse_err(text: &str) -> (String, String) {
    match GateConfig::from_toml_str(text) {
        Err(GateConfigError::Parse { path, message }) => (path, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn invalid(r: Result<impl std::fmt::Debug, GateConfigError>) -> String {
    match r {
        Err(GateConfigError::Invalid(m)) => m,
        other => panic!("expected an invalid configuration, got {other:?}"),
    }
}

#[test]
fn a_full_file_loads_with_its_values() {
    let c = GateConfig::from_toml_str(TOML).unwrap();
    assert_eq!(c.order, ["glpi", "otrs"]);
    assert_eq!(c.deadline_secs, Some(5));
    let snow = &c.desks["servicenow"];
    assert_eq!(snow.target.as_deref(), Some("snow"));
    assert_eq!(snow.claims[0].prefixes, ["INC"]);
    let p = &snow.policies;
    assert_eq!(
        p.default.allowed_kinds,
        [TicketKind::Change, TicketKind::Incident]
    );
    assert_eq!(
        p.default.approval,
        ApprovalRule::Kinds(vec![TicketKind::Change])
    );
    assert_eq!(
        p.groups["prod"].approval,
        ApprovalRule::Always,
        "names normalised"
    );
    assert_eq!(
        p.user_groups["dba"].no_ticket_operations,
        ["retrieve_password"]
    );
    assert!(!p.super_admins.exempt);
    assert_eq!(
        p.super_admins.roles,
        [SuperAdmins::DEFAULT_ROLE],
        "default kept"
    );
    let glpi = &c.desks["glpi"].policies;
    assert_eq!(
        glpi.default.allowed_states,
        [TicketState::New, TicketState::InProgress]
    );
    assert!(
        c.desks["otrs"].policies.super_admins.exempt,
        "exempt by default"
    );
}

#[test]
fn json_loads_the_same_as_toml() {
    let toml = GateConfig::from_toml_str(TOML).unwrap();
    let as_json = serde_json::to_string(&toml).unwrap();
    assert_eq!(GateConfig::from_json_str(&as_json).unwrap(), toml);
}

#[test]
fn typos_in_names_are_refused_with_their_path() {
    let with = |from: &str, to: &str| TOML.replacen(from, to, 1);
    let (path, msg) = parse_err(&with(
        r#"["new", "in_progress"]"#,
        r#"["new", "in_progres"]"#,
    ));
    assert_eq!(path, "desks.glpi.policies.default.allowed_states[1]");
    assert!(msg.contains("unknown variant `in_progres`"), "{msg}");

    let (path, msg) = parse_err(&with(
        r#"["change", "incident"]"#,
        r#"["chnage", "incident"]"#,
    ));
    assert_eq!(path, "desks.servicenow.policies.default.allowed_kinds[0]");
    assert!(msg.contains("chnage"), "{msg}");

    let (path, msg) = parse_err(&with(r#"approval = "always""#, r#"approval = "sometimes""#));
    assert_eq!(path, "desks.servicenow.policies.groups.Prod.approval");
    assert!(msg.contains("sometimes"), "{msg}");

    let (path, msg) = parse_err(&with("deadline_secs", "dedline_secs"));
    assert_eq!(path, "dedline_secs");
    assert!(msg.contains("unknown field"), "{msg}");

    let (path, _) = parse_err(&with("exempt = false", "exempt = \"no\""));
    assert_eq!(path, "desks.servicenow.policies.super_admins.exempt");

    let (path, msg) = parse_err("desks = [");
    assert_eq!(path, "(document)");
    assert!(!msg.is_empty());
}

#[test]
fn structural_mistakes_are_refused_at_load() {
    assert!(
        invalid(GateConfig::from_toml_str(
            &TOML.replace(r#"["glpi", "otrs"]"#, r#"["glpi", "jira"]"#)
        ))
        .contains("\"jira\"")
    );
    assert!(
        invalid(GateConfig::from_toml_str(
            &TOML.replace(r#"["glpi", "otrs"]"#, r#"["glpi", "glpi"]"#)
        ))
        .contains("twice")
    );
    assert!(invalid(GateConfig::from_toml_str("order = []\n[desks]\n")).contains("no desk"));
    assert!(
        invalid(GateConfig::from_toml_str(
            &TOML.replace("ttl_secs = 20", "ttl_secs = 0")
        ))
        .contains("ttl_secs")
    );
    assert!(
        invalid(GateConfig::from_toml_str(
            &TOML.replace("min_len = 7", "min_len = 8")
        ))
        .contains("lengths")
    );
    let (_, msg) = parse_err(&TOML.replace(
        "[desks.servicenow.policies.groups.Prod]",
        "[desks.servicenow.policies.groups.\" \"]",
    ));
    assert!(msg.contains("blank"), "{msg}");
}

fn systems() -> Vec<(String, Arc<dyn TicketingSystem>)> {
    let snow = FakeItsm::named(
        "snow",
        Some("INC"),
        [TicketKind::Incident, TicketKind::Change],
    );
    snow.insert(ticket(
        "INC0000001",
        TicketKind::Incident,
        TicketState::New,
        "1",
    ));
    let glpi = FakeItsm::named("glpi", None, [TicketKind::Incident, TicketKind::Change]);
    let otrs = FakeItsm::named("otrs", None, [TicketKind::Incident]);
    otrs.insert(ticket(
        "2026000001",
        TicketKind::Incident,
        TicketState::New,
        "new",
    ));
    vec![
        ("servicenow".into(), snow as Arc<dyn TicketingSystem>),
        ("glpi".into(), glpi),
        ("otrs".into(), otrs),
    ]
}

#[tokio::test]
async fn the_file_builds_a_multi_desk_gate_checked_against_the_connectors() {
    let c = GateConfig::from_toml_str(TOML).unwrap();
    let gate = c.build(systems(), Arc::new(MemorySink::new())).unwrap();
    assert_eq!(gate.desks().len(), 3);
    let a = AccessAttempt::new(Principal::new("jdoe"), "connect", "db-1");
    let v = gate.check(&a.clone().ticket("INC0000001")).await;
    assert!(v.allow, "{:?}", v.reasons);
    let v = gate.check(&a.clone().ticket("2026000001")).await;
    assert_eq!(v.policy, "glpi/default", "the order puts GLPI first");
    assert_eq!(v.codes(), ["ticket_not_found"]);
    assert_eq!(
        gate.desks()[0].gate().deadline(),
        std::time::Duration::from_secs(5)
    );
    assert!(gate.desks()[0].gate().cache().is_some());
}

#[test]
fn kinds_and_targets_the_connector_cannot_say_are_refused_at_build() {
    let c = GateConfig::from_toml_str(&TOML.replace(
        "[desks.otrs]",
        "[desks.otrs.policies.default]\nallowed_kinds = [\"change\"]",
    ))
    .unwrap();
    let m = invalid(c.build(systems(), Arc::new(MemorySink::new())));
    assert!(
        m.contains("\"otrs\"") && m.contains("Change") && m.contains("incident"),
        "{m}"
    );

    let c =
        GateConfig::from_toml_str(&TOML.replace("target = \"snow\"", "target = \"jira\"")).unwrap();
    assert!(invalid(c.build(systems(), Arc::new(MemorySink::new()))).contains("jira"));

    let c = GateConfig::from_toml_str(TOML).unwrap();
    let mut two = systems();
    two.pop();
    assert!(invalid(c.build(two, Arc::new(MemorySink::new()))).contains("otrs"));
}

#[test]
fn the_schema_describes_the_file() {
    let schema = GateConfig::json_schema();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], serde_json::json!(["desks"]));
    assert_eq!(schema["additionalProperties"], false);
    let text = schema.to_string();
    for name in [
        "user_groups",
        "super_admins",
        "deny_unknown_groups",
        "no_ticket_operations",
        "change_task",
        "in_progress",
        "claims",
        "ttl_secs",
    ] {
        assert!(
            text.contains(&format!("\"{name}\"")),
            "{name} missing from the schema"
        );
    }
}

#[test]
fn a_file_on_disk_loads_by_extension() {
    let dir = std::env::temp_dir().join(format!("gate-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("gate.toml");
    std::fs::write(&toml, TOML).unwrap();
    let json = dir.join("gate.json");
    let parsed = GateConfig::load(&toml).unwrap();
    std::fs::write(&json, serde_json::to_string(&parsed).unwrap()).unwrap();
    assert_eq!(GateConfig::load(&json).unwrap(), parsed);
    assert!(matches!(
        GateConfig::load(dir.join("missing.toml")),
        Err(GateConfigError::Read { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The policy file of `examples/gate_multi.rs`.
const EXAMPLE: &str = include_str!("../../../../examples/gate_multi.toml");

fn as_json(toml_text: &str) -> serde_json::Value {
    let v: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_value(v).unwrap()
}

#[test]
fn the_example_file_loads_and_fits_the_schema() {
    let c = GateConfig::from_toml_str(EXAMPLE).unwrap();
    assert_eq!(
        c.desks.keys().collect::<Vec<_>>(),
        ["glpi", "jira", "otrs", "servicenow"]
    );
    assert!(c.order.is_empty(), "the example shows an ambiguous id");
    let schema = GateConfig::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&as_json(EXAMPLE)));
    assert!(validator.is_valid(&as_json(TOML)));
    // What the loader refuses, the schema refuses too.
    for (from, to) in [
        (r#"["new", "in_progress"]"#, r#"["new", "in_progres"]"#),
        (r#"["change", "incident"]"#, r#"["chnage", "incident"]"#),
        (r#"approval = "always""#, r#"approval = "sometimes""#),
        ("deadline_secs", "dedline_secs"),
        ("exempt = false", "exempt = \"no\""),
    ] {
        let bad = TOML.replacen(from, to, 1);
        assert!(GateConfig::from_toml_str(&bad).is_err(), "{to}");
        assert!(
            !validator.is_valid(&as_json(&bad)),
            "the schema accepts {to}"
        );
    }
}

#[test]
fn the_published_schema_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config/gate.schema.json");
    let want = serde_json::to_string_pretty(&GateConfig::json_schema()).unwrap() + "\n";
    if std::env::var_os("ACCESSLINK_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).ok().as_deref(),
        Some(want.as_str()),
        "docs/config/gate.schema.json is stale; run ACCESSLINK_BLESS=1 cargo test -p accesslink-workflow --test it gate_file"
    );
}
