//! The intake over test doubles: mapping, SoD, provisioning exactly once across
//! crashes and restarts, comment sync both ways, cursors, the run loop.

use std::sync::Arc;
use std::time::Duration;

use accesslink_core::{TicketState, TicketingSystem, Visibility};
use accesslink_workflow::MemorySink;
use accesslink_workflow::audit::{AuditAction, AuditOutcome};
use accesslink_workflow::intake::{
    CursorStore, FieldMap, FieldRule, FileCursorStore, InboundComment, Intake, IntakeConfig,
    IntakeConfigError, IntakeStatus, MemoryCursorStore, OnConflict, SodRule, SourceConfig,
};
use serde_json::json;

use crate::double::timeout;
use crate::intake_double::{DeskOp, FeedDesk, GrantDirectory, at};

fn field_map() -> FieldMap {
    FieldMap::new(
        FieldRule::field("requester.login"),
        FieldRule::field("extra.Application").default_value("CRM"),
        FieldRule::field("title")
            .regex(r"(?i)access to (?P<value>[\w -]+)")
            .lookup([
                ("payments create", "pay-create"),
                ("payments approve", "pay-approve"),
                ("reports", "reports"),
            ]),
    )
    .justification(FieldRule::field("description"))
}

fn config() -> IntakeConfig {
    IntakeConfig::new(field_map())
        .source("desk", SourceConfig::new())
        .sod(SodRule::new("CRM", ["pay-create", "pay-approve"]).name("payments"))
}

struct Rig {
    desk: Arc<FeedDesk>,
    dir: Arc<GrantDirectory>,
    store: Arc<MemoryCursorStore>,
    audit: Arc<MemorySink>,
}

impl Rig {
    fn new() -> Self {
        Rig {
            desk: FeedDesk::new(),
            dir: GrantDirectory::new("crm-dir"),
            store: Arc::new(MemoryCursorStore::new()),
            audit: Arc::new(MemorySink::new()),
        }
    }

    fn intake(&self, config: IntakeConfig) -> Intake {
        Intake::builder(config)
            .desk("desk", self.desk.clone())
            .provisioner("crm", self.dir.clone())
            .store(self.store.clone())
            .audit(self.audit.clone())
            .build()
            .unwrap()
    }
}

fn status_of(report: &accesslink_workflow::intake::PollReport, id: &str) -> IntakeStatus {
    report
        .tickets()
        .find(|t| t.ticket.id() == Some(id))
        .unwrap_or_else(|| panic!("ticket {id} not in the report: {report:?}"))
        .status
        .clone()
}

#[tokio::test]
async fn allowed_requests_are_provisioned_and_closed_the_conflicting_one_left_open() {
    let rig = Rig::new();
    rig.dir.add("carol", &["pay-create"]);
    let ok = rig.desk.raise("Access to reports", "alice", &[]);
    let clash = rig.desk.raise("Access to payments approve", "carol", &[]);
    let bad = rig.desk.raise("Access to payroll", "dave", &[]);
    let intake = rig.intake(config());

    let report = intake.poll_once().await;
    assert!(!report.has_errors(), "{report:?}");
    assert_eq!(status_of(&report, &ok), IntakeStatus::Provisioned);
    assert!(
        matches!(status_of(&report, &clash), IntakeStatus::Conflict(c) if c.held == ["pay-create"])
    );
    let IntakeStatus::MappingFailed(e) = status_of(&report, &bad) else {
        panic!("{report:?}")
    };
    assert_eq!(e.field, "entitlement");

    // What the directory and the desk hold now.
    assert!(rig.dir.holds("alice", "reports"));
    assert!(!rig.dir.holds("carol", "pay-approve"));
    assert_eq!(
        rig.dir.calls().grant,
        1,
        "only the allowed request was granted"
    );
    assert_eq!(rig.dir.calls().create, 1);
    assert_eq!(rig.desk.ticket(&ok).status.raw, "closed successful");
    assert_eq!(
        rig.desk.ticket(&clash).status.state,
        TicketState::New,
        "left open"
    );
    assert_eq!(rig.desk.ticket(&bad).status.state, TicketState::New);

    let ok_notes = rig.desk.own_comments(&ok);
    assert_eq!(ok_notes.len(), 1, "{ok_notes:?}");
    assert!(ok_notes[0].starts_with(&format!(
        "accesslink-intake: provisioned intake:desk:{ok}\n"
    )));
    assert!(
        ok_notes[0].contains("grant role reports to account u-alice"),
        "{ok_notes:?}"
    );
    let clash_notes = rig.desk.own_comments(&clash);
    assert_eq!(clash_notes.len(), 1);
    assert!(clash_notes[0].contains("rule payments"), "{clash_notes:?}");
    assert!(clash_notes[0].contains("pay-approve on CRM conflicts with pay-create"));
    let bad_notes = rig.desk.own_comments(&bad);
    assert_eq!(bad_notes.len(), 1);
    assert!(
        bad_notes[0].contains("entitlement (from title): \"payroll\" is not in the lookup table"),
        "{bad_notes:?}"
    );
    // Markers are internal comments.
    assert!(
        rig.desk
            .comments(&ok)
            .iter()
            .any(|c| c.visibility == Visibility::Internal
                && c.body.starts_with("accesslink-intake: provisioned"))
    );

    // Audit: the policy decisions, one provisioning call per create and grant, one
    // finished event per ticket.
    let events = rig.audit.events();
    let count = |a: AuditAction, o: AuditOutcome| {
        events
            .iter()
            .filter(|e| e.action == a && e.outcome == o)
            .count()
    };
    assert_eq!(count(AuditAction::ApprovalDecided, AuditOutcome::Denied), 1);
    assert_eq!(count(AuditAction::Provisioned, AuditOutcome::Success), 2);
    assert_eq!(count(AuditAction::TicketClosed, AuditOutcome::Success), 1);
    assert_eq!(count(AuditAction::TaskFinished, AuditOutcome::Success), 1);
    assert_eq!(count(AuditAction::TaskFinished, AuditOutcome::Denied), 1);
    assert_eq!(count(AuditAction::TaskFinished, AuditOutcome::Failure), 1);
    assert_eq!(count(AuditAction::TicketsPolled, AuditOutcome::Success), 1);
    let denied = events
        .iter()
        .find(|e| e.action == AuditAction::ApprovalDecided)
        .unwrap();
    assert_eq!(denied.detail["rule"], "payments");
    assert_eq!(
        denied.request_id.as_ref().unwrap().as_str(),
        format!("intake:desk:{clash}")
    );

    // The next poll: the comments the intake wrote changed the open tickets, so they
    // are listed again — and decided again without a second comment or grant.
    let report = intake.poll_once().await;
    assert_eq!(report.sources[0].changed, 2, "{report:?}");
    assert_eq!(rig.desk.own_comments(&clash).len(), 1, "commented once");
    assert_eq!(rig.desk.own_comments(&bad).len(), 1, "commented once");
    assert_eq!(rig.dir.calls().grant, 1);
    // And nothing changed: nothing listed, nothing read.
    let before = rig.desk.calls().list_comments;
    let report = intake.poll_once().await;
    assert_eq!(report.tickets().count(), 0);
    assert_eq!(rig.desk.calls().list_comments, before);
}

#[tokio::test]
async fn a_fixed_ticket_is_provisioned_and_a_new_error_commented_again() {
    let rig = Rig::new();
    let id = rig.desk.raise("Access to payroll", "dave", &[]);
    let intake = rig.intake(config());
    intake.poll_once().await;
    rig.desk
        .edit(&id, |t| t.title = "Access to nothing-known".into());
    intake.poll_once().await;
    assert_eq!(rig.desk.own_comments(&id).len(), 2, "a different error");
    rig.desk.edit(&id, |t| t.title = "Access to Reports".into());
    let report = intake.poll_once().await;
    assert_eq!(status_of(&report, &id), IntakeStatus::Provisioned);
    assert!(rig.dir.holds("dave", "reports"));
}

#[tokio::test]
async fn a_close_that_fails_is_finished_later_without_a_second_provisioning_call() {
    let rig = Rig::new();
    let id = rig.desk.raise("Access to reports", "alice", &[]);
    rig.desk.fail_next(DeskOp::Close, 1, crate::double::auth);
    let intake = rig.intake(config());
    let report = intake.poll_once().await;
    assert!(
        matches!(status_of(&report, &id), IntakeStatus::Retrying(_)),
        "{report:?}"
    );
    assert_eq!(rig.desk.ticket(&id).status.state, TicketState::New);
    assert_eq!(rig.dir.calls().grant, 1);
    drop(intake);

    // A new intake over the same store: the ticket is read again and closed from its
    // marker, the provisioner not called.
    let again = rig.intake(config());
    let report = again.poll_once().await;
    assert_eq!(status_of(&report, &id), IntakeStatus::ClosedFromMarker);
    assert_eq!(rig.desk.ticket(&id).status.raw, "closed successful");
    assert_eq!(rig.dir.calls().grant, 1);
    assert_eq!(rig.dir.calls().create, 1);
    assert_eq!(rig.desk.own_comments(&id).len(), 1, "one marker");
}

#[tokio::test]
async fn a_crash_before_the_cursor_was_saved_repeats_the_listing_not_the_provisioning() {
    let rig = Rig::new();
    let id = rig.desk.raise("Access to reports", "alice", &[]);
    rig.desk.fail_next(DeskOp::Close, 1, crate::double::auth);
    rig.intake(config()).poll_once().await;
    assert_eq!(rig.dir.calls().grant, 1);

    // The store is lost (a crash before it was written, or a new machine): the new
    // intake lists every open ticket and decides each from its comments.
    let fresh = Rig {
        desk: rig.desk.clone(),
        dir: rig.dir.clone(),
        store: Arc::new(MemoryCursorStore::new()),
        audit: Arc::new(MemorySink::new()),
    };
    let report = fresh.intake(config()).poll_once().await;
    assert_eq!(status_of(&report, &id), IntakeStatus::ClosedFromMarker);
    assert_eq!(rig.dir.calls().grant, 1);
    assert_eq!(rig.desk.calls().since[1], None, "listed from the start");
}

#[tokio::test]
async fn provisioning_errors_retry_when_retryable_and_comment_once_when_final() {
    let rig = Rig::new();
    let id = rig.desk.raise("Access to reports", "alice", &[]);
    rig.dir.fail_grant(1, timeout);
    let intake = rig.intake(config());
    let report = intake.poll_once().await;
    assert!(matches!(status_of(&report, &id), IntakeStatus::Retrying(_)));
    assert!(
        rig.desk.own_comments(&id).is_empty(),
        "nothing commented for a retry"
    );
    // Unchanged, but read again: the retry list, one batched read.
    let report = intake.poll_once().await;
    assert_eq!(report.sources[0].retried, 1);
    assert_eq!(status_of(&report, &id), IntakeStatus::Provisioned);
    assert_eq!(rig.desk.calls().get_many, 1);

    let id2 = rig.desk.raise("Access to reports", "bob", &[]);
    rig.dir.fail_grant(1, crate::double::conflict);
    let report = intake.poll_once().await;
    assert!(matches!(status_of(&report, &id2), IntakeStatus::Failed(_)));
    let notes = rig.desk.own_comments(&id2);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].contains("Provisioning failed: conflict"),
        "{notes:?}"
    );
    assert_eq!(
        rig.desk.ticket(&id2).status.state,
        TicketState::New,
        "left to people"
    );
    // Listed again because of the comment; the failure is not commented twice, and
    // the grant is tried again (people may have fixed the cause).
    rig.dir.fail_grant(1, crate::double::conflict);
    intake.poll_once().await;
    assert_eq!(rig.desk.own_comments(&id2).len(), 1);
}

#[tokio::test]
async fn two_requests_of_one_poll_that_conflict_are_not_both_granted() {
    let rig = Rig::new();
    rig.dir.add("erin", &[]);
    let first = rig.desk.raise("Access to payments create", "erin", &[]);
    let second = rig.desk.raise("Access to payments approve", "erin", &[]);
    let config = config().on_conflict(OnConflict::Reject);
    let report = rig.intake(config).poll_once().await;
    assert_eq!(status_of(&report, &first), IntakeStatus::Provisioned);
    assert!(matches!(
        status_of(&report, &second),
        IntakeStatus::Conflict(_)
    ));
    assert!(!rig.dir.holds("erin", "pay-approve"));
    assert_eq!(rig.desk.ticket(&second).status.raw, "closed unsuccessful");
    assert_eq!(rig.dir.calls().list_grants, 1, "grants read once per poll");
    assert_eq!(rig.dir.calls().list_accounts, 1);
}

#[tokio::test]
async fn an_application_without_a_provisioner_is_a_mapping_error() {
    let rig = Rig::new();
    let id = rig.desk.raise(
        "Access to reports",
        "alice",
        &[("Application", json!(["ERP"]))],
    );
    let report = rig.intake(config()).poll_once().await;
    let IntakeStatus::MappingFailed(e) = status_of(&report, &id) else {
        panic!("{report:?}")
    };
    assert_eq!(e.field, "application");
    assert!(e.message.contains("\"ERP\""), "{e}");
    assert_eq!(rig.dir.calls().create, 0);
}

#[tokio::test]
async fn people_comments_are_delivered_once_and_the_intake_own_never() {
    let rig = Rig::new();
    rig.dir.add("carol", &["pay-create"]);
    let id = rig.desk.raise("Access to payments approve", "carol", &[]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<InboundComment>();
    let intake = Intake::builder(config().sync_comments(true))
        .desk("desk", rig.desk.clone())
        .provisioner("CRM", rig.dir.clone())
        .store(rig.store.clone())
        .comments(Arc::new(tx))
        .build()
        .unwrap();
    intake.poll_once().await;
    assert!(
        rx.try_recv().is_err(),
        "the opening text and the conflict note are not comments"
    );

    rig.desk.person_comment(
        &id,
        "carol",
        Visibility::Public,
        "I no longer need pay-create",
    );
    let r = accesslink_core::TicketRef::by_id(id.as_str());
    intake
        .post_comment("desk", &r, "Your manager was asked.", Visibility::Public)
        .await
        .unwrap();
    let report = intake.poll_once().await;
    assert_eq!(report.sources[0].comments_delivered, 1);
    let got = rx.try_recv().unwrap();
    assert_eq!(got.comment.body, "I no longer need pay-create");
    assert_eq!(got.request_id.as_str(), format!("intake:desk:{id}"));
    assert!(
        rx.try_recv().is_err(),
        "the identity product's own comment is not echoed"
    );
    let posted = rig.desk.comments(&id);
    assert!(posted.iter().any(|c| {
        c.body
            .starts_with("Your manager was asked.\n\naccesslink-intake: from-iam")
            && c.visibility == Visibility::Public
    }));

    // Another change to the ticket: the comment is not delivered again.
    rig.desk.edit(&id, |t| t.priority = Some("high".into()));
    intake.poll_once().await;
    assert!(rx.try_recv().is_err());
    // A new intake over the same store does not deliver it again either.
    let (tx2, mut rx2) = tokio::sync::mpsc::unbounded_channel::<InboundComment>();
    let again = Intake::builder(config().sync_comments(true))
        .desk("desk", rig.desk.clone())
        .provisioner("CRM", rig.dir.clone())
        .store(rig.store.clone())
        .comments(Arc::new(tx2))
        .build()
        .unwrap();
    rig.desk.edit(&id, |t| t.priority = Some("low".into()));
    again.poll_once().await;
    assert!(rx2.try_recv().is_err());
}

#[tokio::test]
async fn a_person_comment_in_the_same_second_as_the_intake_note_is_not_missed() {
    let rig = Rig::new();
    rig.desk.freeze(true);
    rig.dir.add("carol", &["pay-create"]);
    let id = rig.desk.raise("Access to payments approve", "carol", &[]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<InboundComment>();
    let intake = Intake::builder(config().sync_comments(true))
        .desk("desk", rig.desk.clone())
        .provisioner("CRM", rig.dir.clone())
        .comments(Arc::new(tx))
        .build()
        .unwrap();
    intake.poll_once().await;
    // The conflict note and carol's answer share the ticket's update time and status:
    // to the change feed the ticket has not changed since it was handed out.
    rig.desk.person_comment(
        &id,
        "carol",
        Visibility::Public,
        "pay-create is no longer mine",
    );
    let report = intake.poll_once().await;
    assert_eq!(report.sources[0].changed, 0, "{report:?}");
    assert_eq!(
        report.sources[0].retried, 1,
        "read again after the intake wrote"
    );
    assert_eq!(
        rx.try_recv().unwrap().comment.body,
        "pay-create is no longer mine"
    );
    // Read once more only: nothing was written this time.
    let report = intake.poll_once().await;
    assert_eq!(report.tickets().count(), 0, "{report:?}");
}

#[tokio::test]
async fn a_forged_public_marker_does_not_skip_provisioning() {
    let rig = Rig::new();
    let id = rig.desk.raise("Access to reports", "mallory", &[]);
    let line = format!("accesslink-intake: provisioned intake:desk:{id}");
    rig.desk
        .person_comment(&id, "mallory", Visibility::Public, &line);
    let report = rig.intake(config()).poll_once().await;
    assert_eq!(status_of(&report, &id), IntakeStatus::Provisioned);
    assert_eq!(rig.dir.calls().grant, 1);
}

#[tokio::test]
async fn each_poll_asks_from_the_watermark_less_the_overlap_and_misses_nothing_in_that_second() {
    let rig = Rig::new();
    rig.desk.freeze(true);
    let a = rig.desk.raise("Access to reports", "alice", &[]);
    let intake =
        rig.intake(config().on_mapping_error(accesslink_workflow::intake::OnMappingError::Ignore));
    intake.poll_once().await;
    // Written in the same second as the watermark, after the poll.
    let b = rig.desk.raise("Access to reports", "bob", &[]);
    let report = intake.poll_once().await;
    assert_eq!(
        report
            .tickets()
            .map(|t| t.ticket.id().unwrap().to_owned())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&b)
    );
    assert!(rig.dir.holds("bob", "reports"));
    let since = rig.desk.calls().since;
    assert_eq!(since[0], None);
    assert_eq!(since[1], Some(at(99)), "watermark 100 less one second");
    assert_ne!(a, b);
    let stored = rig.store.get("desk").unwrap();
    assert!(stored.contains("watermark_ms"), "{stored}");
}

#[tokio::test]
async fn start_at_skips_the_backlog() {
    let rig = Rig::new();
    rig.desk.raise("Access to reports", "alice", &[]);
    let intake = rig.intake(config());
    intake.start_at("desk", at(150)).unwrap();
    assert!(intake.start_at("nope", at(150)).is_err());
    let report = intake.poll_once().await;
    assert_eq!(report.tickets().count(), 0, "{report:?}");
    assert_eq!(rig.desk.calls().since, [Some(at(149))]);
    assert_eq!(rig.dir.calls().grant, 0);
}

#[tokio::test]
async fn a_file_store_carries_the_cursor_to_a_new_process() {
    let dir = std::env::temp_dir().join(format!("intake-it-{}", std::process::id()));
    let rig = Rig::new();
    rig.desk.raise("Access to reports", "alice", &[]);
    let build = |store: Arc<dyn CursorStore>| {
        Intake::builder(config())
            .desk("desk", rig.desk.clone())
            .provisioner("CRM", rig.dir.clone())
            .store(store)
            .build()
            .unwrap()
    };
    build(Arc::new(FileCursorStore::new(&dir).unwrap()))
        .poll_once()
        .await;
    build(Arc::new(FileCursorStore::new(&dir).unwrap()))
        .poll_once()
        .await;
    let since = rig.desk.calls().since;
    assert!(
        since[1].is_some(),
        "the second process resumed from the stored watermark"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_listing_error_keeps_the_cursor_and_is_reported() {
    let rig = Rig::new();
    rig.desk.raise("Access to reports", "alice", &[]);
    rig.desk.fail_next(DeskOp::List, 1, timeout);
    let intake = rig.intake(config());
    let report = intake.poll_once().await;
    assert!(report.has_errors());
    assert!(rig.store.get("desk").is_none(), "nothing saved");
    let report = intake.poll_once().await;
    assert_eq!(report.tickets().count(), 1);
    assert!(
        rig.audit
            .events()
            .iter()
            .any(|e| e.action == AuditAction::TicketsPolled && e.outcome == AuditOutcome::Failure)
    );
}

#[tokio::test(start_paused = true)]
async fn run_polls_on_the_interval_until_shutdown() {
    let rig = Rig::new();
    let intake = rig.intake(config().interval(Duration::from_secs(60)));
    let polls = intake
        .run(tokio::time::sleep(Duration::from_secs(150)))
        .await;
    assert_eq!(polls, 3, "at 0 s, 60 s and 120 s");
    assert_eq!(rig.desk.calls().since.len(), 3);
}

#[test]
fn building_checks_the_connectors_against_the_configuration() {
    let err = |b: accesslink_workflow::intake::IntakeBuilder| match b.build() {
        Err(IntakeConfigError::Invalid(m)) => m,
        other => panic!("{other:?}"),
    };
    let dir = GrantDirectory::new("crm-dir");
    let m = err(Intake::builder(config())
        .desk("desk", FeedDesk::without_comments())
        .provisioner("CRM", dir.clone()));
    assert!(m.contains("does not declare ListComments"), "{m}");
    let m = err(Intake::builder(config()).provisioner("CRM", dir.clone()));
    assert!(m.contains("source \"desk\" has no ticketing system"), "{m}");
    let m = err(Intake::builder(config()).desk("desk", FeedDesk::new()));
    assert!(
        m.contains("SoD rule payments: application \"CRM\" has no provisioner"),
        "{m}"
    );
    let m = err(Intake::builder(config().sync_comments(true))
        .desk("desk", FeedDesk::new())
        .provisioner("CRM", dir.clone()));
    assert!(m.contains("no comment handler"), "{m}");
    let m = err(Intake::builder(config())
        .desk("desk", FeedDesk::new())
        .desk("other", FeedDesk::new())
        .provisioner("CRM", dir));
    assert!(m.contains("\"other\" has no source"), "{m}");
    let desk: Arc<dyn TicketingSystem> = FeedDesk::new();
    assert!(
        desk.info()
            .supports(&accesslink_core::Capability::ListTickets)
    );
}

const EXAMPLE: &str = include_str!("../../../../examples/intake.toml");

fn as_json(toml_text: &str) -> serde_json::Value {
    serde_json::to_value(toml::from_str::<toml::Value>(toml_text).unwrap()).unwrap()
}

#[test]
fn the_example_configuration_loads_and_the_schema_agrees_with_the_loader() {
    let c = IntakeConfig::from_toml_str(EXAMPLE).unwrap();
    assert_eq!(c.sources["otrs"].scope.as_deref(), Some("Raw"));
    assert_eq!(c.sod[0].label(), "payments");
    assert_eq!(c.field_map.entitlement.lookup.len(), 3);
    let schema = IntakeConfig::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&as_json(EXAMPLE)));
    for (from, to) in [
        ("on_conflict = \"leave_open\"", "on_conflict = \"close\""),
        ("entitlement_type = { fixed", "entitlement_type = { fxed"),
        ("overlap_secs = 1", "overlap_sec = 1"),
        ("kinds = [\"request\"]", "kinds = [\"reqest\"]"),
    ] {
        let bad = EXAMPLE.replacen(from, to, 1);
        assert_ne!(bad, EXAMPLE, "{from}");
        assert!(IntakeConfig::from_toml_str(&bad).is_err(), "{to}");
        assert!(
            !validator.is_valid(&as_json(&bad)),
            "the schema accepts {to}"
        );
    }
}

#[test]
fn the_published_schema_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/config/intake.schema.json");
    let want = serde_json::to_string_pretty(&IntakeConfig::json_schema()).unwrap() + "\n";
    if std::env::var_os("ACCESSLINK_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).ok().as_deref(),
        Some(want.as_str()),
        "docs/config/intake.schema.json is stale; run ACCESSLINK_BLESS=1 cargo test -p accesslink-workflow --test it intake"
    );
}
