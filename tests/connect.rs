//! `accesslink::connect` and `Config` from the facade alone: every target from one
//! TOML file, owned handles into the workflow, and configuration errors that say where.

#![cfg(all(
    feature = "otrs",
    feature = "glpi",
    feature = "servicenow",
    feature = "opsramp",
    feature = "opsgenie",
    feature = "topdesk",
    feature = "jira",
    feature = "salesforce",
    feature = "helix",
    feature = "sdp",
    feature = "workflow",
    feature = "testkit"
))]

use accesslink::testkit::Mock;
use accesslink::testkit::glpi::GlpiMock;
use accesslink::testkit::helix::HelixMock;
use accesslink::testkit::jira::JiraMock;
use accesslink::testkit::opsgenie::OpsGenieMock;
use accesslink::testkit::opsramp::OpsRampMock;
use accesslink::testkit::otrs::OtrsMock;
use accesslink::testkit::salesforce::SalesforceMock;
use accesslink::testkit::sdp::SdpMock;
use accesslink::testkit::servicenow::ServiceNowMock;
use accesslink::testkit::topdesk::TopdeskMock;
use accesslink::workflow::{AccessAttempt, Principal, TicketGate, TicketPolicy};
use accesslink::{Config, ConnectorConfig, CorrelationId, ErrorKind, NewTicket, TicketKind};

async fn mocks() -> Vec<Box<dyn Mock>> {
    vec![
        Box::new(OtrsMock::start().await),
        Box::new(GlpiMock::start().await),
        Box::new(ServiceNowMock::builder().synthetic_users(30).start().await),
        Box::new(OpsRampMock::start().await),
        Box::new(OpsGenieMock::start().await),
        Box::new(TopdeskMock::start().await),
        Box::new(JiraMock::start_cloud().await),
        Box::new(SalesforceMock::start().await),
        Box::new(HelixMock::start().await),
        Box::new(SdpMock::start_on_premises().await),
    ]
}

/// A TOML file with one instance per mock, secrets inline.
fn toml_for(mocks: &[Box<dyn Mock>]) -> String {
    let mut instances = toml::Table::new();
    for m in mocks {
        let mut s = m.settings();
        let obj = s.as_object_mut().unwrap();
        obj.remove("name");
        obj.insert("target".into(), m.target().into());
        let table: toml::Table = serde_json::from_value(s).unwrap();
        instances.insert(format!("{}-one", m.target()), toml::Value::Table(table));
    }
    let mut root = toml::Table::new();
    root.insert("instances".into(), toml::Value::Table(instances));
    toml::to_string(&root).unwrap()
}

#[tokio::test]
async fn one_file_connects_every_target_and_the_gate_takes_the_handle() {
    let mocks = mocks().await;
    let config = Config::from_toml_str(&toml_for(&mocks)).unwrap();
    assert_eq!(config.instances.len(), 10);
    for m in &mocks {
        assert_eq!(
            m.request_count(),
            0,
            "{}: loading sent a request",
            m.target()
        );
    }
    let connections = config.connect_all().unwrap();
    assert_eq!(connections.len(), 10);
    for (name, conn) in connections {
        let m = mocks
            .iter()
            .find(|m| m.target() == conn.info().target)
            .unwrap_or_else(|| panic!("{name}: no mock for {}", conn.info().target));
        assert_eq!(name, format!("{}-one", m.target()));
        assert_eq!(
            conn.info().instance,
            name,
            "the table key names the instance"
        );
        conn.connector()
            .test_connection()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            m.request_count() > 0,
            "{name}: test_connection reached the server"
        );
        let ticketing = conn.ticketing();
        let provisioner = conn.provisioner();
        assert_eq!(
            ticketing.is_some(),
            conn.connector().as_ticketing().is_some(),
            "{name}"
        );
        assert_eq!(
            provisioner.is_some(),
            conn.connector().as_provisioner().is_some(),
            "{name}"
        );
        assert!(
            ticketing.is_some() || provisioner.is_some(),
            "{name} does nothing"
        );
    }
}

#[tokio::test]
async fn the_gate_runs_on_a_handle_from_connect() {
    let mock = ServiceNowMock::start().await;
    let mut json = mock.settings();
    json["target"] = "servicenow".into();
    let config = ConnectorConfig::from_json(json).unwrap();

    let conn = accesslink::connect(&config).unwrap();
    let tickets = conn.ticketing().unwrap();
    let ticket = tickets
        .create_ticket(&NewTicket::new(
            TicketKind::Change,
            "Patch db-prod-01",
            "Window tonight.",
            CorrelationId::new("CHG-CONNECT-1"),
        ))
        .await
        .unwrap();
    let gate = TicketGate::new(conn.ticketing().unwrap(), TicketPolicy::new());
    let seen = mock.request_count();
    let deny = gate
        .check(&AccessAttempt::new(Principal::new("alice"), "connect", "db").ticket("CHG9999999"))
        .await;
    assert!(!deny.allow, "{deny:?}");
    assert!(mock.request_count() > seen, "the gate asked the server");
    let number = ticket.reference.number().unwrap().to_owned();
    let verdict = gate
        .check(&AccessAttempt::new(Principal::new("alice"), "connect", "db").ticket(number.clone()))
        .await;
    assert_eq!(
        verdict.ticket.as_ref().and_then(|t| t.reference.number()),
        Some(number.as_str())
    );
}

#[test]
fn an_unknown_key_names_the_instance_the_key_and_the_line() {
    let text = r#"
[instances.ok]
target = "opsgenie"
base_url = "https://api.opsgenie.com"
auth = { method = "api_key", key = "k" }

[instances.broken]
target = "servicenow"
base_url = "https://acme.service-now.com"
pasword = "x"
auth = { method = "basic", user = "u", password = "p" }
"#;
    let e = Config::from_toml_str(text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let msg = e.to_string();
    assert!(msg.contains("instance `broken`"), "{msg}");
    assert!(msg.contains("pasword"), "{msg}");
    // The key's own line, not the table header's (line 7).
    assert!(msg.contains("line 10:"), "{msg}");
}

#[test]
fn an_unknown_target_is_refused() {
    let e = Config::from_toml_str("[instances.x]\ntarget = \"remedy\"\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("remedy"), "{e}");
}

#[tokio::test]
async fn a_missing_secret_fails_before_any_request_and_names_the_variable() {
    let mock = OpsGenieMock::start().await;
    let text = format!(
        "[instances.pager]\ntarget = \"opsgenie\"\nbase_url = \"{}\"\nauth = {{ method = \"api_key\", key = {{ env = \"ACCESSLINK_TEST_UNSET_KEY_42\" }} }}\n",
        mock.url()
    );
    let config = Config::from_toml_str(&text).unwrap();
    let e = config.connect("pager").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let msg = e.to_string();
    assert!(
        msg.contains("ACCESSLINK_TEST_UNSET_KEY_42") && msg.contains("pager"),
        "{msg}"
    );
    assert_eq!(msg.matches("invalid configuration").count(), 1, "{msg}");
    assert_eq!(mock.request_count(), 0);
    assert!(config.connect("nope").is_err());
}

#[test]
fn inline_secrets_never_print() {
    let text = r#"
[instances.sn]
target = "servicenow"
base_url = "https://acme.service-now.com"
auth = { method = "basic", user = "svc", password = "canary-inline-pw-7731" }
"#;
    let config = Config::from_toml_str(text).unwrap();
    assert!(!format!("{config:?}").contains("canary-inline-pw-7731"));
    assert!(
        !serde_json::to_string(&config)
            .unwrap()
            .contains("canary-inline-pw-7731")
    );
    let conn = config.connect("sn").unwrap();
    assert!(!format!("{conn:?}").contains("canary-inline-pw-7731"));
}

#[test]
fn the_published_schemas_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config");
    let bless = std::env::var_os("ACCESSLINK_BLESS").is_some();
    let mut stale = Vec::new();
    for (file, schema) in accesslink::config_schemas() {
        let path = dir.join(file);
        let want = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/config is stale for {stale:?}; run ACCESSLINK_BLESS=1 cargo test --all-features --test connect"
    );
}

#[tokio::test]
async fn a_handle_from_connect_runs_partitioned_imports_or_falls_back_to_one() {
    use accesslink::paging::PagingOptions;
    use accesslink::partition::{Listing, Partitions, accounts_partitioned, plan};
    use futures::TryStreamExt;

    // ServiceNow splits its users by sys_id: through the handle, as through the connector.
    let mock = ServiceNowMock::builder().synthetic_users(500).start().await;
    let mut json = mock.settings();
    json["target"] = "servicenow".into();
    let conn = accesslink::connect(&ConnectorConfig::from_json(json).unwrap()).unwrap();
    let p = conn.partitioner().expect("a provisioning side");
    let planned = plan(p.as_ref(), &Listing::Accounts, 4).await.unwrap();
    assert_eq!(planned.partitions.len(), 4);
    let ids: Vec<String> =
        accounts_partitioned(p.as_ref(), Partitions::new(4), PagingOptions::new())
            .map_ok(|a| a.id.to_string())
            .try_collect()
            .await
            .unwrap();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len(), "no user twice");
    assert!(ids.len() >= 500, "{} users", ids.len());

    // OpsGenie does not split: one partition, the whole listing.
    let og = OpsGenieMock::start().await;
    let mut json = og.settings();
    json["target"] = "opsgenie".into();
    let conn = accesslink::connect(&ConnectorConfig::from_json(json).unwrap()).unwrap();
    let p = conn.partitioner().expect("a provisioning side");
    let planned = plan(p.as_ref(), &Listing::Accounts, 4).await.unwrap();
    assert_eq!(planned.partitions.len(), 1);
}
