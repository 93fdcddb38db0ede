//! Tickets raised on the OTRS mock flow through the intake with an SoD rule: the
//! allowed requests are provisioned on the GLPI mock and closed, the conflicting one is
//! commented and left open, and a crash between provisioning and closing is finished
//! by a new intake without a second provisioning call (read at the GLPI mock's
//! request log). The same with ServiceNow request items of a catalogue item, and on the
//! real Znuny when `ZNUNY_BASE_URL` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accesslink::http::{HttpSettings, RetryConfig};
use accesslink::paging::{Page, PageRequest};
use accesslink::{
    Comment, ConnectionReport, Connector, ConnectorInfo, CorrelationId, Error, NewTicket,
    Resolution, Result, Ticket, TicketComment, TicketKind, TicketQuery, TicketRef, TicketState,
    TicketingSystem, Visibility, async_trait,
};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector, TicketDefaults};
use accesslink_servicenow::{ServiceNowClient, ServiceNowConfig, ServiceNowConnector};
use accesslink_testkit::glpi::{GlpiMock, Itemtype};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_testkit::servicenow::ServiceNowMock;
use accesslink_workflow::MemorySink;
use accesslink_workflow::audit::{AuditAction, AuditOutcome};
use accesslink_workflow::intake::{
    FieldMap, FieldRule, InboundComment, Intake, IntakeConfig, IntakeStatus, MemoryCursorStore,
    PollReport, SodRule, SourceConfig,
};
use secrecy::SecretString;
use serde_json::json;

fn otrs(mock: &OtrsMock) -> Arc<OtrsConnector> {
    let mut defaults = TicketDefaults::default();
    defaults.kinds = vec![(TicketKind::Request, "Unclassified".into())];
    let config = OtrsConfig::new(
        mock.search_base_url().parse().unwrap(),
        mock.agent_login(),
        SecretString::from(mock.agent_password()),
    )
    .customer_user(mock.customer_login())
    .correlation(Correlation::dynamic_field(mock.correlation_field()))
    .defaults(defaults)
    .http(
        HttpSettings::new().retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
    );
    Arc::new(OtrsConnector::new(config).unwrap())
}

fn glpi(mock: &GlpiMock) -> Arc<GlpiConnector> {
    let client = GlpiClient::builder(mock.base_url())
        .app_token(SecretString::from(mock.app_token()))
        .user_token(SecretString::from(mock.user_token()))
        .http(
            HttpSettings::new()
                .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
        )
        .build()
        .unwrap();
    Arc::new(GlpiConnector::new(
        client,
        GlpiConfig::new().instance("mock").read_requester(false),
    ))
}

/// The GLPI groups the requests name, by the names people type.
struct Groups {
    reports: i64,
    pay_create: i64,
    pay_approve: i64,
}

async fn glpi_with_groups() -> (GlpiMock, Groups) {
    let mock = GlpiMock::start().await;
    let group = |name: &str| {
        mock.create(Itemtype::Group, &json!({ "name": name, "is_recursive": 1 }))
            .unwrap()
    };
    let groups = Groups {
        reports: group("crm-reports"),
        pay_create: group("crm-payments-create"),
        pay_approve: group("crm-payments-approve"),
    };
    // carol already creates payments.
    let carol = mock
        .create(Itemtype::User, &json!({ "name": "carol" }))
        .unwrap();
    mock.create(
        Itemtype::GroupUser,
        &json!({ "users_id": carol, "groups_id": groups.pay_create }),
    )
    .unwrap();
    (mock, groups)
}

fn config(g: &Groups) -> IntakeConfig {
    let entitlement = FieldRule::field("title")
        .regex(r"(?i)^access to (?P<value>[\w ]+?) for \w+$")
        .lookup([
            ("reports", g.reports.to_string()),
            ("payments create", g.pay_create.to_string()),
            ("payments approve", g.pay_approve.to_string()),
        ]);
    let map = FieldMap::new(
        FieldRule::field("title").regex(r"(?i) for (?P<value>\w+)$"),
        FieldRule::field("extra.DynamicField_Application").default_value("CRM"),
        entitlement,
    )
    .entitlement_type(FieldRule::fixed("group"))
    .justification(FieldRule::field("description").default_value(""));
    IntakeConfig::new(map)
        .source("otrs", SourceConfig::new().scope("Raw"))
        .sod(
            SodRule::new("CRM", [g.pay_create.to_string(), g.pay_approve.to_string()])
                .name("payments"),
        )
        .sync_comments(true)
}

/// Raises a request ticket; the correlation id must be unique on the server.
async fn raise(otrs: &OtrsConnector, correlation: &str, title: &str) -> Ticket {
    let new = NewTicket::new(
        TicketKind::Request,
        title,
        "Raised in the service desk.",
        CorrelationId::new(correlation),
    );
    otrs.create_ticket(&new).await.unwrap()
}

fn status(report: &PollReport, t: &Ticket) -> IntakeStatus {
    report
        .tickets()
        .find(|o| o.ticket.id() == t.reference.id())
        .unwrap_or_else(|| panic!("{} not in {report:?}", t.reference))
        .status
        .clone()
}

async fn state_of(otrs: &OtrsConnector, t: &Ticket) -> (TicketState, String) {
    let t = otrs.get_ticket(&t.reference).await.unwrap().unwrap();
    (t.status.state, t.status.raw)
}

/// The intake's own comments on a ticket, as the OTRS connector reads them back.
async fn intake_notes(otrs: &OtrsConnector, t: &Ticket) -> Vec<TicketComment> {
    otrs.list_comments(&t.reference)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.body.contains("accesslink-intake:"))
        .collect()
}

#[tokio::test]
async fn otrs_requests_are_provisioned_on_glpi_and_the_conflicting_one_left_open() {
    let desk_mock = OtrsMock::start().await;
    let (dir_mock, groups) = glpi_with_groups().await;
    let desk = otrs(&desk_mock);
    let dir = glpi(&dir_mock);
    let audit = Arc::new(MemorySink::new());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<InboundComment>();
    let intake = Intake::builder(config(&groups))
        .desk("otrs", desk.clone())
        .provisioner("CRM", dir.clone())
        .audit(audit.clone())
        .comments(Arc::new(tx))
        .build()
        .unwrap();

    let alice = raise(&desk, "desk-1", "Access to reports for alice").await;
    let bob = raise(&desk, "desk-2", "Access to payments create for bob").await;
    let carol = raise(&desk, "desk-3", "Access to payments approve for carol").await;
    let typo = raise(&desk, "desk-4", "Access to payrol for dave").await;

    let report = intake.poll_once().await;
    assert!(!report.has_errors(), "{report:?}");
    assert_eq!(status(&report, &alice), IntakeStatus::Provisioned);
    assert_eq!(status(&report, &bob), IntakeStatus::Provisioned);
    assert!(matches!(status(&report, &carol), IntakeStatus::Conflict(c) if c.rule == "payments"));
    assert!(
        matches!(status(&report, &typo), IntakeStatus::MappingFailed(e) if e.field == "entitlement")
    );

    // What the GLPI mock holds and received.
    let member = |login: &str, group: i64| {
        dir_mock
            .user_by_login(login)
            .and_then(|u| u["id"].as_i64())
            .is_some_and(|id| dir_mock.group_members(group).contains(&id))
    };
    assert!(member("alice", groups.reports));
    assert!(member("bob", groups.pay_create));
    assert!(!member("carol", groups.pay_approve), "the SoD rule held");
    assert_eq!(
        dir_mock.count("createItems:User"),
        2,
        "alice and bob created"
    );
    assert_eq!(
        dir_mock.count("createItems:Group_User"),
        2,
        "two grants, none for carol"
    );

    // What the OTRS mock holds.
    assert_eq!(
        state_of(&desk, &alice).await,
        (TicketState::Closed, "closed successful".into())
    );
    assert_eq!(state_of(&desk, &bob).await.0, TicketState::Closed);
    assert!(
        state_of(&desk, &carol).await.0.is_open(),
        "left open for people"
    );
    assert!(state_of(&desk, &typo).await.0.is_open());
    let notes = intake_notes(&desk, &carol).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].body.contains("rule payments"), "{notes:?}");
    assert_eq!(notes[0].visibility, Visibility::Internal);
    let notes = intake_notes(&desk, &typo).await;
    assert!(
        notes[0]
            .body
            .contains("entitlement (from title): \"payrol\" is not in the lookup table"),
        "{notes:?}"
    );
    let provisioned = format!(
        "accesslink-intake: provisioned intake:otrs:{}",
        alice.reference.id().unwrap()
    );
    assert!(
        intake_notes(&desk, &alice)
            .await
            .iter()
            .any(|c| c.body.lines().any(|l| l == provisioned))
    );

    // carol answers in the customer interface: delivered once; the intake's own notes never.
    let carol_id: u64 = carol.reference.id().unwrap().parse().unwrap();
    assert!(desk_mock.customer_follow_up(carol_id, "I can hand pay-create back."));
    let report = intake.poll_once().await;
    assert_eq!(report.sources[0].comments_delivered, 1, "{report:?}");
    let got = rx.try_recv().unwrap();
    assert_eq!(got.comment.body.trim(), "I can hand pay-create back.");
    assert!(rx.try_recv().is_err());
    assert_eq!(
        intake_notes(&desk, &carol).await.len(),
        1,
        "the conflict is not commented twice"
    );
    assert_eq!(dir_mock.count("createItems:Group_User"), 2);

    let events = audit.events();
    assert!(
        events
            .iter()
            .any(|e| e.action == AuditAction::ApprovalDecided && e.outcome == AuditOutcome::Denied)
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == AuditAction::TicketClosed && e.outcome == AuditOutcome::Success)
            .count(),
        2
    );
}

/// The OTRS connector, whose next close fails once, as if the process died after
/// provisioning (and commenting) but before the close.
#[derive(Debug)]
struct CloseFailsOnce {
    inner: Arc<OtrsConnector>,
    armed: AtomicBool,
}

#[async_trait]
impl Connector for CloseFailsOnce {
    fn info(&self) -> &ConnectorInfo {
        self.inner.info()
    }
    async fn test_connection(&self) -> Result<ConnectionReport> {
        self.inner.test_connection().await
    }
    fn as_ticketing(&self) -> Option<&dyn TicketingSystem> {
        Some(self)
    }
}

#[async_trait]
impl TicketingSystem for CloseFailsOnce {
    fn parse_ticket_ref(&self, raw: &str) -> Result<TicketRef> {
        self.inner.parse_ticket_ref(raw)
    }
    async fn create_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        self.inner.create_ticket(new).await
    }
    async fn find_by_correlation(&self, id: &CorrelationId) -> Result<Option<Ticket>> {
        self.inner.find_by_correlation(id).await
    }
    async fn get_ticket(&self, r: &TicketRef) -> Result<Option<Ticket>> {
        self.inner.get_ticket(r).await
    }
    async fn get_tickets(&self, refs: &[TicketRef]) -> Result<Vec<Ticket>> {
        self.inner.get_tickets(refs).await
    }
    async fn add_comment(&self, r: &TicketRef, c: &Comment) -> Result<()> {
        self.inner.add_comment(r, c).await
    }
    async fn close_ticket(&self, r: &TicketRef, how: &Resolution) -> Result<Ticket> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(Error::auth("the process stopped before the close"));
        }
        self.inner.close_ticket(r, how).await
    }
    async fn list_tickets(&self, q: &TicketQuery, page: PageRequest) -> Result<Page<Ticket>> {
        self.inner.list_tickets(q, page).await
    }
    async fn list_comments(&self, r: &TicketRef) -> Result<Vec<TicketComment>> {
        self.inner.list_comments(r).await
    }
}

#[tokio::test]
async fn a_crash_between_provisioning_and_closing_is_finished_without_a_second_grant() {
    let desk_mock = OtrsMock::start().await;
    let (dir_mock, groups) = glpi_with_groups().await;
    let desk = otrs(&desk_mock);
    let dir = glpi(&dir_mock);
    let store = Arc::new(MemoryCursorStore::new());
    let ticket = raise(&desk, "desk-1", "Access to reports for alice").await;

    let failing = Arc::new(CloseFailsOnce {
        inner: desk.clone(),
        armed: AtomicBool::new(true),
    });
    let mut config = config(&groups);
    config.sync_comments = false;
    let first = Intake::builder(config.clone())
        .desk("otrs", failing)
        .provisioner("CRM", dir.clone())
        .store(store.clone())
        .build()
        .unwrap();
    let report = first.poll_once().await;
    assert!(
        matches!(status(&report, &ticket), IntakeStatus::Retrying(_)),
        "{report:?}"
    );
    assert!(state_of(&desk, &ticket).await.0.is_open());
    assert_eq!(dir_mock.count("createItems:Group_User"), 1);
    drop(first);

    // A new intake (a restarted process) over the same store.
    let second = Intake::builder(config.clone())
        .desk("otrs", desk.clone())
        .provisioner("CRM", dir.clone())
        .store(store.clone())
        .build()
        .unwrap();
    let report = second.poll_once().await;
    assert_eq!(
        status(&report, &ticket),
        IntakeStatus::ClosedFromMarker,
        "{report:?}"
    );
    assert_eq!(state_of(&desk, &ticket).await.1, "closed successful");
    assert_eq!(
        dir_mock.count("createItems:Group_User"),
        1,
        "no second grant"
    );
    assert_eq!(dir_mock.count("createItems:User"), 1, "no second create");

    // And a third with its store lost lists the open tickets from the start: the
    // closed one is not among them (the mock's welcome ticket is, and cannot be
    // mapped), nothing is provisioned.
    let third = Intake::builder(config)
        .desk("otrs", desk.clone())
        .provisioner("CRM", dir.clone())
        .store(Arc::new(MemoryCursorStore::new()))
        .build()
        .unwrap();
    let report = third.poll_once().await;
    assert!(
        report
            .tickets()
            .all(|o| o.ticket.id() != ticket.reference.id()
                && matches!(o.status, IntakeStatus::MappingFailed(_))),
        "{report:?}"
    );
    assert_eq!(dir_mock.count("createItems:Group_User"), 1);
}

/// The OTRS connector of the real Znuny from `ZNUNY_*` (see the README, "Testing against
/// a real OTRS/Znuny"); `None`, with a one-line reason, when it is not configured.
fn live_znuny() -> Option<Arc<OtrsConnector>> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let Some(base) = var("ZNUNY_SEARCH_BASE_URL").or_else(|| var("ZNUNY_BASE_URL")) else {
        if var("ACCESSLINK_REQUIRE_LIVE").as_deref() == Some("1") {
            panic!("ACCESSLINK_REQUIRE_LIVE=1 but ZNUNY_BASE_URL is not set");
        }
        eprintln!("skipped: ZNUNY_BASE_URL is not set (see the README)");
        return None;
    };
    let config = OtrsConfig::new(
        base.parse().expect("ZNUNY base URL"),
        var("ZNUNY_AGENT_LOGIN").unwrap_or_else(|| "apiagent".into()),
        SecretString::from(var("ZNUNY_AGENT_PASSWORD").unwrap_or_else(|| "ApiAgent-Pw1".into())),
    )
    .customer_user(var("ZNUNY_CUSTOMER_LOGIN").unwrap_or_else(|| "apicustomer".into()))
    .correlation(Correlation::dynamic_field(
        var("ZNUNY_CORRELATION_FIELD").unwrap_or_else(|| "AccessRequestID".into()),
    ));
    Some(Arc::new(OtrsConnector::new(config).expect("connector")))
}

/// On the real Znuny: requests raised in queue Raw flow through the intake to the GLPI
/// mock; the conflicting one is commented and left open; a second intake with its store
/// lost provisions nothing again. Other tests' tickets share the queue, so only titles
/// with this run's tag map, and mapping errors are not commented (`ignore`).
#[tokio::test]
async fn real_znuny_requests_flow_through_the_intake() {
    let Some(desk) = live_znuny() else { return };
    let (dir_mock, groups) = glpi_with_groups().await;
    let dir = glpi(&dir_mock);
    let run = format!(
        "r{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 1_000_000_000
    );
    let mut config = config(&groups);
    config.sync_comments = false;
    config.on_mapping_error = accesslink_workflow::intake::OnMappingError::Ignore;
    // Any ticket type: the server's types are its own.
    config.sources.insert(
        "otrs".into(),
        SourceConfig::new().scope("Raw").kinds(Vec::new()),
    );
    config.field_map.beneficiary =
        FieldRule::field("title").regex(format!(r"(?i) for (?P<value>\w+) \[{run}\]$"));
    config.field_map.entitlement = FieldRule::field("title")
        .regex(format!(
            r"(?i)^access to (?P<value>[\w ]+?) for \w+ \[{run}\]$"
        ))
        .lookup([
            ("reports", groups.reports.to_string()),
            ("payments approve", groups.pay_approve.to_string()),
        ]);

    let alice = raise(
        &desk,
        &format!("desk-{run}-1"),
        &format!("Access to reports for alice [{run}]"),
    )
    .await;
    let carol = raise(
        &desk,
        &format!("desk-{run}-2"),
        &format!("Access to payments approve for carol [{run}]"),
    )
    .await;
    let build = || {
        Intake::builder(config.clone())
            .desk("otrs", desk.clone())
            .provisioner("CRM", dir.clone())
            .build()
            .unwrap()
    };
    // Start where this run's tickets start, by the server's clock.
    let since = alice.updated.or(alice.created).expect("the server's times");
    let intake = build();
    intake.start_at("otrs", since).unwrap();
    let report = intake.poll_once().await;
    assert!(!report.has_errors(), "{report:?}");
    assert_eq!(
        status(&report, &alice),
        IntakeStatus::Provisioned,
        "{report:?}"
    );
    assert!(
        matches!(status(&report, &carol), IntakeStatus::Conflict(_)),
        "{report:?}"
    );
    assert_eq!(state_of(&desk, &alice).await.1, "closed successful");
    assert!(state_of(&desk, &carol).await.0.is_open());
    let notes = intake_notes(&desk, &carol).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].visibility, Visibility::Internal);
    assert!(notes[0].body.contains("rule payments"), "{notes:?}");
    assert_eq!(dir_mock.count("createItems:Group_User"), 1);

    // A restarted intake whose store was lost starts again from the same point: alice's
    // ticket is closed and not listed; carol's is decided again, without a second note.
    let again = build();
    again.start_at("otrs", since).unwrap();
    let report = again.poll_once().await;
    assert!(
        report
            .tickets()
            .all(|o| o.ticket.id() != alice.reference.id()),
        "{report:?}"
    );
    assert!(
        matches!(status(&report, &carol), IntakeStatus::Conflict(_)),
        "{report:?}"
    );
    assert_eq!(intake_notes(&desk, &carol).await.len(), 1);
    assert_eq!(
        dir_mock.count("createItems:Group_User"),
        1,
        "no second grant"
    );

    // Leave the server tidy.
    desk.close_ticket(&carol.reference, &Resolution::failed("test over"))
        .await
        .unwrap();
}

/// ServiceNow request items of one catalogue item (the source's scope) flow through the
/// same intake: the allowed one is provisioned on GLPI and closed, the conflicting one
/// gets a work note and stays open, another catalogue item's request is not touched.
#[tokio::test]
async fn servicenow_request_items_of_a_catalogue_item_flow_through_the_intake() {
    let sn_mock = ServiceNowMock::start().await;
    let (dir_mock, groups) = glpi_with_groups().await;
    let item = "0123456789abcdef0123456789abcdef";
    let row = |title: &str, cat_item: &str| {
        sn_mock.insert(
            "sc_req_item",
            json!({ "short_description": title, "cat_item": cat_item }),
        )
    };
    let alice = row("Access to reports for alice", item);
    let carol = row("Access to payments approve for carol", item);
    let other = row(
        "Access to reports for zed",
        "fedcba9876543210fedcba9876543210",
    );
    let client = ServiceNowClient::builder(sn_mock.url())
        .basic(sn_mock.user(), SecretString::from(sn_mock.password()))
        .http(
            HttpSettings::new()
                .retry(RetryConfig::default().initial_backoff(Duration::from_millis(5))),
        )
        .build()
        .unwrap();
    let desk = Arc::new(
        ServiceNowConnector::new(client, ServiceNowConfig::new().instance("mock")).unwrap(),
    );
    let mut config = config(&groups);
    config.sync_comments = false;
    config.sources.clear();
    config.sources.insert(
        "servicenow".into(),
        SourceConfig::new()
            .kinds([TicketKind::RequestItem])
            .scope(item),
    );
    let intake = Intake::builder(config)
        .desk("servicenow", desk.clone())
        .provisioner("CRM", glpi(&dir_mock))
        .build()
        .unwrap();

    let report = intake.poll_once().await;
    assert!(!report.has_errors(), "{report:?}");
    let of = |id: &str| {
        report
            .tickets()
            .find(|o| o.ticket.id() == Some(id))
            .map(|o| o.status.clone())
    };
    assert_eq!(of(&alice), Some(IntakeStatus::Provisioned), "{report:?}");
    assert!(
        matches!(of(&carol), Some(IntakeStatus::Conflict(_))),
        "{report:?}"
    );
    assert_eq!(of(&other), None, "another catalogue item");
    assert_eq!(dir_mock.count("createItems:Group_User"), 1);

    let read = |id: &str| TicketRef::by_id(id);
    let alice_now = desk.get_ticket(&read(&alice)).await.unwrap().unwrap();
    assert_eq!(
        alice_now.status.state,
        TicketState::Closed,
        "{:?}",
        alice_now.status
    );
    let carol_now = desk.get_ticket(&read(&carol)).await.unwrap().unwrap();
    assert!(carol_now.status.state.is_open(), "{:?}", carol_now.status);
    let notes: Vec<_> = desk
        .list_comments(&read(&carol))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.body.contains("accesslink-intake:"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].visibility, Visibility::Internal, "a work note");
    assert!(notes[0].body.contains("rule payments"), "{notes:?}");
    let untouched = desk.get_ticket(&read(&other)).await.unwrap().unwrap();
    assert!(untouched.status.state.is_open());
}
