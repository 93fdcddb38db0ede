//! The ticket gate: every rule allowing and denying, with the exact reasons.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accesslink_core::{ApprovalState, Person, TicketKind, TicketState};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, BreakGlassRule, BreakGlassScope, Charset, GatePolicies, IdPattern,
    Principal, Reason, RequesterMatch, TicketGate, TicketPolicy,
};
use serde_json::json;

use crate::double::{FakeItsm, Op, auth, set_approval, ticket, timeout};

const HOUR: Duration = Duration::from_secs(3600);

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// An approved change in progress, requested by jdoe an hour ago, for db-prod-1.
fn good_change() -> accesslink_core::Ticket {
    let mut t = ticket(
        "2026000001",
        TicketKind::Change,
        TicketState::InProgress,
        "implement",
    );
    set_approval(&mut t, ApprovalState::Approved, "approved");
    t.requester = Some(Person {
        login: Some("jdoe".into()),
        email: Some("jdoe@example.com".into()),
        ..Person::default()
    });
    t.created = Some(now() - HOUR);
    t.extra.insert("asset".into(), json!("db-prod-1"));
    t
}

fn attempt() -> AccessAttempt {
    AccessAttempt::new(
        Principal::new("jdoe").email("jdoe@example.com"),
        "connect",
        "db-prod-1",
    )
    .ticket("2026000001")
    .at(now())
}

fn strict() -> TicketPolicy {
    TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .approval(ApprovalRule::Always)
        .requester_must_match(true)
        .resource_field("asset")
        .max_age(Duration::from_secs(86_400))
}

fn gate_with(
    t: Option<accesslink_core::Ticket>,
    policies: impl Into<GatePolicies>,
) -> (Arc<FakeItsm>, TicketGate, Arc<MemorySink>) {
    let itsm = FakeItsm::new();
    if let Some(t) = t {
        itsm.insert(t);
    }
    let sink = Arc::new(MemorySink::new());
    let gate = TicketGate::new(itsm.clone(), policies).with_audit(sink.clone());
    (itsm, gate, sink)
}

async fn reasons_for(
    t: accesslink_core::Ticket,
    policy: TicketPolicy,
    a: &AccessAttempt,
) -> (bool, Vec<Reason>) {
    let (_, gate, _) = gate_with(Some(t), policy);
    let v = gate.check(a).await;
    (v.allow, v.reasons)
}

#[tokio::test]
async fn valid_ticket_is_allowed_and_audited() {
    let (itsm, gate, sink) = gate_with(Some(good_change()), strict());
    let v = gate.check(&attempt()).await;
    assert!(v.allow);
    assert_eq!(v.reasons, [Reason::TicketValid]);
    assert_eq!(v.policy, "default");
    assert_eq!(v.ticket.unwrap().reference.number(), Some("2026000001"));
    assert_eq!(itsm.calls().get, 1);
    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].action, events[0].outcome),
        (AuditAction::GateChecked, AuditOutcome::Allowed)
    );
    assert_eq!(events[0].detail["codes"], json!(["ticket_valid"]));
    assert_eq!(events[0].detail["principal"], "jdoe");
}

#[tokio::test]
async fn every_failing_rule_is_reported() {
    let mut t = good_change();
    t.kind = TicketKind::Incident;
    t.status = accesslink_core::TicketStatus::new(TicketState::Closed, "closed successful");
    set_approval(&mut t, ApprovalState::Requested, "requested");
    t.requester = Some(Person::login("eve"));
    t.extra.insert("asset".into(), json!("web-1"));
    t.created = Some(now() - Duration::from_secs(10 * 86_400));
    let (allow, reasons) = reasons_for(t, strict(), &attempt()).await;
    assert!(!allow);
    assert_eq!(
        reasons,
        [
            Reason::WrongKind {
                kind: TicketKind::Incident
            },
            Reason::StateNotAllowed {
                state: TicketState::Closed,
                raw: "closed successful".into()
            },
            Reason::NotApproved {
                approval: ApprovalState::Requested,
                raw: Some("requested".into())
            },
            Reason::RequesterMismatch {
                requester: Some("eve".into())
            },
            Reason::ResourceMismatch {
                field: "asset".into(),
                found: Some("web-1".into())
            },
            Reason::TooOld {
                age_secs: 864_000,
                max_secs: 86_400
            },
        ]
    );
}

#[tokio::test]
async fn states_are_checked_per_kind() {
    let policy = TicketPolicy::new().states_for(TicketKind::Change, [TicketState::InProgress]);
    let mut on_hold = good_change();
    on_hold.status = accesslink_core::TicketStatus::new(TicketState::OnHold, "pending");
    assert_eq!(
        reasons_for(on_hold.clone(), policy.clone(), &attempt()).await,
        (
            false,
            vec![Reason::StateNotAllowed {
                state: TicketState::OnHold,
                raw: "pending".into()
            }]
        )
    );
    // Incidents keep the default open states, OnHold included.
    on_hold.kind = TicketKind::Incident;
    assert_eq!(
        reasons_for(on_hold, policy, &attempt()).await,
        (true, vec![Reason::TicketValid])
    );
}

#[tokio::test]
async fn approval_is_required_per_kind() {
    let policy = TicketPolicy::new().approval(ApprovalRule::Kinds(vec![TicketKind::Change]));
    let mut t = good_change();
    t.approval = None;
    assert_eq!(
        reasons_for(t.clone(), policy.clone(), &attempt()).await,
        (
            false,
            vec![Reason::NotApproved {
                approval: ApprovalState::NotRequested,
                raw: None
            }]
        )
    );
    t.kind = TicketKind::Incident;
    assert_eq!(
        reasons_for(t, policy, &attempt()).await,
        (true, vec![Reason::TicketValid])
    );
}

#[tokio::test]
async fn requester_matches_by_login_or_email() {
    let policy = TicketPolicy::new()
        .requester_must_match(true)
        .requester_match([RequesterMatch::Login, RequesterMatch::Email]);
    let mut t = good_change();
    t.requester = Some(Person {
        email: Some("JDoe@Example.com".into()),
        ..Person::default()
    });
    assert!(reasons_for(t.clone(), policy.clone(), &attempt()).await.0);
    t.requester = None;
    assert_eq!(
        reasons_for(t, policy, &attempt()).await,
        (false, vec![Reason::RequesterMismatch { requester: None }])
    );
}

#[tokio::test]
async fn resource_field_accepts_reference_objects_and_lists() {
    let policy = TicketPolicy::new().resource_field("cmdb_ci");
    let mut t = good_change();
    t.extra.insert(
        "cmdb_ci".into(),
        json!({ "display_value": "DB-PROD-1", "value": "a1b2" }),
    );
    assert!(reasons_for(t.clone(), policy.clone(), &attempt()).await.0);
    t.extra
        .insert("cmdb_ci".into(), json!(["web-1", "db-prod-1"]));
    assert!(reasons_for(t.clone(), policy.clone(), &attempt()).await.0);
    t.extra.remove("cmdb_ci");
    assert_eq!(
        reasons_for(t, policy, &attempt()).await,
        (
            false,
            vec![Reason::ResourceMismatch {
                field: "cmdb_ci".into(),
                found: None
            }]
        )
    );
}

#[tokio::test]
async fn age_limits() {
    let policy = TicketPolicy::new().max_age(2 * HOUR);
    assert!(
        reasons_for(good_change(), policy.clone(), &attempt())
            .await
            .0
    );
    let mut t = good_change();
    t.created = None;
    assert_eq!(
        reasons_for(t, policy, &attempt()).await,
        (false, vec![Reason::AgeUnknown])
    );
}

#[tokio::test]
async fn malformed_id_is_denied_before_any_request() {
    let (itsm, gate, _) = gate_with(Some(good_change()), TicketPolicy::new());
    let v = gate.check(&attempt().ticket("2026'; DROP TABLE")).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["malformed_id"]);
    assert_eq!(itsm.calls().parse, 1);
    assert_eq!(itsm.calls().get, 0, "no request for a malformed id");
}

#[tokio::test]
async fn id_pattern_is_checked_before_the_connector() {
    let policy =
        TicketPolicy::new().id_pattern(IdPattern::new(Charset::Digits, 10, 10).prefixes(["CHG"]));
    let (itsm, gate, _) = gate_with(Some(good_change()), policy);
    let v = gate.check(&attempt()).await;
    assert_eq!(
        v.reasons,
        [Reason::MalformedId {
            detail: "it must start with one of [\"CHG\"]".into()
        }]
    );
    assert_eq!((itsm.calls().parse, itsm.calls().get), (0, 0));
}

#[tokio::test]
async fn missing_and_unknown_tickets_are_denied() {
    let (itsm, gate, _) = gate_with(None, TicketPolicy::new());
    let no_id = AccessAttempt::new(Principal::new("jdoe"), "connect", "db-prod-1");
    assert_eq!(gate.check(&no_id).await.reasons, [Reason::TicketMissing]);
    assert_eq!(
        gate.check(&attempt().ticket("   ")).await.reasons,
        [Reason::TicketMissing]
    );
    assert_eq!(itsm.calls().get, 0);
    assert_eq!(
        gate.check(&attempt()).await.reasons,
        [Reason::TicketNotFound]
    );
    assert_eq!(itsm.calls().get, 1);
}

#[tokio::test]
async fn itsm_errors_fail_closed() {
    let (itsm, gate, sink) = gate_with(Some(good_change()), TicketPolicy::new());
    itsm.fail_next(Op::Get, 1, timeout);
    let v = gate.check(&attempt()).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["itsm_unavailable"]);
    let Reason::ItsmUnavailable { kind, .. } = &v.reasons[0] else {
        unreachable!()
    };
    assert_eq!(kind, "timeout");
    assert_eq!(sink.events()[0].outcome, AuditOutcome::Denied);
    // An authentication failure is just as much "cannot ask".
    itsm.fail_next(Op::Get, 1, auth);
    assert_eq!(gate.check(&attempt()).await.codes(), ["itsm_unavailable"]);
}

#[tokio::test]
async fn break_glass_allows_only_when_permitted_and_is_recorded() {
    let rule = BreakGlassRule::allow(["oncall"]);
    let policy = TicketPolicy::new().break_glass(rule);
    let (itsm, gate, sink) = gate_with(Some(good_change()), policy);
    let oncall = || {
        AccessAttempt::new(Principal::new("oncall"), "connect", "db-prod-1")
            .ticket("2026000001")
            .break_glass("ITSM down, P1 outage INC-42")
    };

    itsm.fail_next(Op::Get, 1, timeout);
    let v = gate.check(&oncall()).await;
    assert!(v.allow);
    assert_eq!(v.codes(), ["itsm_unavailable", "break_glass"]);
    assert_eq!(
        v.reasons[1],
        Reason::BreakGlass {
            reason: "ITSM down, P1 outage INC-42".into()
        }
    );
    let event = sink.take().pop().unwrap();
    assert_eq!(event.outcome, AuditOutcome::Allowed);
    assert_eq!(
        event.detail["reasons"][1]["reason"],
        "ITSM down, P1 outage INC-42"
    );

    itsm.fail_next(Op::Get, 1, timeout);
    let other = attempt().break_glass("ITSM down, P1 outage INC-42");
    let v = gate.check(&other).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["itsm_unavailable", "break_glass_refused"]);

    itsm.fail_next(Op::Get, 1, timeout);
    let v = gate.check(&oncall().break_glass("because")).await;
    assert_eq!(
        v.codes(),
        ["itsm_unavailable", "break_glass_refused"],
        "reason too short"
    );

    // The ITSM answered: the ticket's own failures are not overridden in the default scope.
    let v = gate.check(&oncall().ticket("2026000999")).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["ticket_not_found", "break_glass_refused"]);
}

#[tokio::test]
async fn break_glass_is_off_by_default_and_scope_can_widen() {
    let (itsm, gate, _) = gate_with(None, TicketPolicy::new());
    itsm.fail_next(Op::Get, 1, timeout);
    let v = gate
        .check(&attempt().break_glass("ITSM down, P1 outage"))
        .await;
    assert!(!v.allow);
    assert_eq!(
        v.reasons[1],
        Reason::BreakGlassRefused {
            why: "break-glass is not enabled by the policy".into()
        }
    );

    let rule = BreakGlassRule::allow(Vec::<String>::new()).scope(BreakGlassScope::AnyDenial);
    let (_, gate, _) = gate_with(None, TicketPolicy::new().break_glass(rule));
    let v = gate
        .check(&attempt().break_glass("vendor emergency call"))
        .await;
    assert!(v.allow);
    assert_eq!(v.codes(), ["ticket_not_found", "break_glass"]);
}

#[tokio::test]
async fn fail_open_allows_and_says_so() {
    let (itsm, gate, _) = gate_with(None, TicketPolicy::new().fail_open(true));
    itsm.fail_next(Op::Get, 1, timeout);
    let v = gate.check(&attempt()).await;
    assert!(v.allow);
    assert_eq!(v.reasons, [Reason::FailedOpen]);
}

#[tokio::test]
async fn exempt_principals_need_no_ticket() {
    let policy = TicketPolicy::new().exempt(["root-admin", "ciso@example.com"]);
    let (itsm, gate, _) = gate_with(None, policy);
    let admin = AccessAttempt::new(Principal::new("ROOT-ADMIN"), "connect", "db-prod-1");
    assert_eq!(gate.check(&admin).await.reasons, [Reason::Exempt]);
    let ciso = AccessAttempt::new(
        Principal::new("ciso").email("ciso@example.com"),
        "connect",
        "x",
    );
    assert!(gate.check(&ciso).await.allow);
    assert!(!gate.check(&attempt()).await.allow);
    assert_eq!(
        itsm.calls().parse,
        1,
        "only the non-exempt attempt was parsed"
    );
}

#[tokio::test]
async fn some_operations_need_no_ticket() {
    let policy = TicketPolicy::new().no_ticket_operations(["retrieve_password"]);
    let (itsm, gate, _) = gate_with(None, policy);
    let a = AccessAttempt::new(Principal::new("jdoe"), "retrieve_password", "db-prod-1");
    let v = gate.check(&a).await;
    assert!(v.allow);
    assert_eq!(
        v.reasons,
        [Reason::NoTicketNeeded {
            operation: "retrieve_password".into()
        }]
    );
    assert_eq!(itsm.calls().get, 0);
    let reset = AccessAttempt::new(Principal::new("jdoe"), "reset_password", "db-prod-1");
    assert_eq!(gate.check(&reset).await.reasons, [Reason::TicketMissing]);
}

#[tokio::test]
async fn policy_is_chosen_by_resource_group() {
    let policies = GatePolicies::new(TicketPolicy::new())
        .group(
            "databases",
            TicketPolicy::new().allowed_kinds([TicketKind::Incident]),
        )
        .group("lab", TicketPolicy::new().enforce(false));
    let (_, gate, _) = gate_with(Some(good_change()), policies);
    let v = gate.check(&attempt()).await;
    assert_eq!((v.allow, v.policy.as_str()), (true, "default"));
    let v = gate.check(&attempt().group("databases")).await;
    assert_eq!(v.policy, "databases");
    assert_eq!(
        v.reasons,
        [Reason::WrongKind {
            kind: TicketKind::Change
        }]
    );
    let v = gate.check(&attempt().group("lab").ticket("")).await;
    assert_eq!(
        v.reasons,
        [Reason::NotEnforced {
            policy: "lab".into()
        }]
    );
    assert!(v.allow);
}

#[test]
fn reasons_are_machine_readable_and_human_readable() {
    let r = Reason::StateNotAllowed {
        state: TicketState::Closed,
        raw: "closed successful".into(),
    };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({ "code": "state_not_allowed", "state": "closed", "raw": "closed successful" })
    );
    assert_eq!(r.code(), "state_not_allowed");
    assert_eq!(
        r.to_string(),
        "the ticket is closed (\"closed successful\"), which is not an allowed state"
    );
    let r = Reason::TooOld {
        age_secs: 90,
        max_secs: 60,
    };
    assert_eq!(
        r.to_string(),
        "the ticket is 90 s old; the policy allows at most 60 s"
    );
    assert!(r.denies());
    assert!(!Reason::Exempt.denies());
}

#[test]
fn policies_load_from_configuration() {
    let p: GatePolicies = serde_json::from_value(json!({
        "default": { "allowed_kinds": ["change"], "max_age_secs": 3600,
                     "approval": { "kinds": ["change"] },
                     "break_glass": { "enabled": true, "principals": ["oncall"] } },
        "groups": { "lab": { "enforce": false } }
    }))
    .unwrap();
    assert_eq!(p.default.allowed_kinds, [TicketKind::Change]);
    assert_eq!(p.default.max_age, Some(HOUR));
    assert_eq!(
        p.default.approval,
        ApprovalRule::Kinds(vec![TicketKind::Change])
    );
    assert!(p.default.break_glass.enabled);
    assert_eq!(p.default.break_glass.min_reason_len, 10);
    assert_eq!(
        p.default.allowed_states,
        accesslink_workflow::gate::open_states()
    );
    assert!(!p.groups["lab"].enforce);
    let typo = serde_json::from_value::<GatePolicies>(json!({ "default": { "alowed_kinds": [] } }));
    assert!(
        typo.unwrap_err()
            .to_string()
            .contains("unknown field `alowed_kinds`")
    );
}

/// Issue 15 item 7: invisible characters do not make up a break-glass reason.
#[tokio::test]
async fn break_glass_reason_counts_only_visible_characters() {
    let rule = BreakGlassRule::allow(["oncall"]);
    let (itsm, gate, sink) = gate_with(Some(good_change()), TicketPolicy::new().break_glass(rule));
    let oncall = |why: &str| {
        AccessAttempt::new(Principal::new("oncall"), "connect", "db-prod-1")
            .ticket("2026000001")
            .break_glass(why)
    };
    let refused = Reason::BreakGlassRefused {
        why: "a reason of at least 10 visible characters is required".into(),
    };
    for why in [
        "\u{200B}".repeat(12),
        "\u{200C}\u{200D}\u{2060}\u{FEFF}".repeat(3),
        "\u{3164}\u{2800}\u{00AD}\u{202E}\u{3000}\t\n".repeat(2),
        "  P1\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}\u{200B}  ".into(),
        "e\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}".into(),
    ] {
        itsm.fail_next(Op::Get, 1, timeout);
        let v = gate.check(&oncall(&why)).await;
        assert!(!v.allow, "{why:?} must not pass as a reason");
        assert_eq!(v.reasons[1], refused, "{why:?}");
        assert_eq!(sink.take().pop().unwrap().outcome, AuditOutcome::Denied);
    }
    // Ten visible characters pass, whatever invisible padding surrounds them.
    itsm.fail_next(Op::Get, 1, timeout);
    let v = gate.check(&oncall("\u{200B}ITSM-down!\u{200B}")).await;
    assert!(v.allow);
    assert_eq!(v.codes(), ["itsm_unavailable", "break_glass"]);
}

/// Issue 15 item 2: a numeric login never matches the requester's internal id, and
/// only the fields the policy names are compared (login only by default).
#[tokio::test]
async fn requester_matches_only_on_the_fields_the_policy_names() {
    let mut t = good_change();
    t.requester = Some(Person {
        id: Some("42".into()),
        login: Some("bob".into()),
        email: Some("bob@example.com".into()),
        ..Person::default()
    });
    let bob = Some("bob".to_owned());
    let as_principal = |p: Principal| {
        AccessAttempt::new(p, "connect", "db-prod-1")
            .ticket("2026000001")
            .at(now())
    };
    let default = TicketPolicy::new().requester_must_match(true);
    assert_eq!(default.requester_match, [RequesterMatch::Login]);

    // Principal `42` is not bob, whose internal id is 42.
    let v = reasons_for(
        t.clone(),
        default.clone(),
        &as_principal(Principal::new("42")),
    )
    .await;
    assert_eq!(
        v,
        (
            false,
            vec![Reason::RequesterMismatch {
                requester: bob.clone()
            }]
        )
    );
    // Nor is a principal whose login is bob's email, or who only shares bob's email,
    // under the default (login only).
    for p in [
        Principal::new("bob@example.com"),
        Principal::new("robert").email("bob@example.com"),
    ] {
        assert!(
            !reasons_for(t.clone(), default.clone(), &as_principal(p))
                .await
                .0
        );
    }
    assert!(
        reasons_for(
            t.clone(),
            default.clone(),
            &as_principal(Principal::new(" BOB "))
        )
        .await
        .0
    );

    // Email only: the email must match, the login is not enough.
    let by_email = default.clone().requester_match([RequesterMatch::Email]);
    assert!(
        !reasons_for(
            t.clone(),
            by_email.clone(),
            &as_principal(Principal::new("bob"))
        )
        .await
        .0
    );
    let robert = Principal::new("robert").email("BOB@example.com");
    assert!(
        reasons_for(t.clone(), by_email.clone(), &as_principal(robert))
            .await
            .0
    );

    // Id only: the principal's own ticketing-system id, never its login.
    let by_id = default.clone().requester_match([RequesterMatch::Id]);
    assert!(
        !reasons_for(
            t.clone(),
            by_id.clone(),
            &as_principal(Principal::new("42"))
        )
        .await
        .0
    );
    assert!(
        !reasons_for(
            t.clone(),
            by_id.clone(),
            &as_principal(Principal::new("bob"))
        )
        .await
        .0
    );
    assert!(
        reasons_for(
            t.clone(),
            by_id,
            &as_principal(Principal::new("x").id("42"))
        )
        .await
        .0
    );

    // An empty list matches nobody.
    let nobody = default.requester_match([]);
    assert!(
        !reasons_for(t, nobody, &as_principal(Principal::new("bob")))
            .await
            .0
    );
}

#[test]
fn requester_match_loads_from_configuration() {
    let p: TicketPolicy = serde_json::from_value(json!({
        "requester_must_match": true, "requester_match": ["login", "email"]
    }))
    .unwrap();
    assert_eq!(
        p.requester_match,
        [RequesterMatch::Login, RequesterMatch::Email]
    );
    let p: TicketPolicy = serde_json::from_value(json!({ "requester_must_match": true })).unwrap();
    assert_eq!(p.requester_match, [RequesterMatch::Login]);
}

/// Issue 15 item 4: a group name selects its policy however it is spelt, and an
/// unknown group can be denied instead of falling through to the default.
#[tokio::test]
async fn group_names_are_normalised_and_unknown_groups_can_fail_closed() {
    let strict_prod = TicketPolicy::new().allowed_kinds([TicketKind::Incident]);
    let permissive = TicketPolicy::new().enforce(false);
    let policies = GatePolicies::new(permissive.clone()).group("prod", strict_prod.clone());
    let (_, gate, _) = gate_with(Some(good_change()), policies);
    for spelling in [
        "prod",
        "PROD",
        " prod",
        "prod ",
        "\tProd\n",
        "pro\u{200B}d",
        "\u{FEFF}prod",
    ] {
        let v = gate.check(&attempt().group(spelling)).await;
        assert_eq!(v.policy, "prod", "{spelling:?}");
        assert!(!v.allow, "{spelling:?} must get prod's policy");
        assert_eq!(v.codes(), ["wrong_kind"], "{spelling:?}");
    }
    // Registered with an untidy name, matched by a tidy one.
    let policies = GatePolicies::new(permissive.clone()).group(" PROD ", strict_prod.clone());
    assert_eq!(policies.groups.keys().collect::<Vec<_>>(), ["prod"]);
    let (_, gate, _) = gate_with(Some(good_change()), policies);
    assert_eq!(gate.check(&attempt().group("prod")).await.policy, "prod");

    // By default an unknown group gets the default policy; with the option it is denied.
    let policies = GatePolicies::new(permissive).group("prod", strict_prod);
    let (itsm, gate, _) = gate_with(Some(good_change()), policies.clone());
    let v = gate.check(&attempt().group("staging")).await;
    assert_eq!((v.allow, v.policy.as_str()), (true, "default"));
    let (_, gate, sink) = gate_with(Some(good_change()), policies.deny_unknown_groups(true));
    let v = gate.check(&attempt().group(" Staging ")).await;
    assert!(!v.allow);
    assert_eq!(v.policy, "none");
    assert_eq!(
        v.reasons,
        [Reason::UnknownResourceGroup {
            group: "Staging".into()
        }]
    );
    let event = sink.take().pop().unwrap();
    assert_eq!(event.outcome, AuditOutcome::Denied);
    assert_eq!(event.detail["codes"], json!(["unknown_resource_group"]));
    let v = gate
        .check(
            &attempt()
                .group("staging")
                .break_glass("ITSM down, P1 outage"),
        )
        .await;
    assert_eq!(v.codes(), ["unknown_resource_group", "break_glass_refused"]);
    // A known group, or none at all, is unaffected.
    assert_eq!(
        gate.check(&attempt().group("PROD")).await.codes(),
        ["wrong_kind"]
    );
    assert_eq!(gate.check(&attempt()).await.codes(), ["not_enforced"]);
    assert_eq!(
        gate.check(&attempt().group("  ")).await.codes(),
        ["not_enforced"]
    );
    assert_eq!(itsm.calls().get, 0);
}

#[test]
fn group_names_are_normalised_when_loaded() {
    let p: GatePolicies = serde_json::from_value(json!({
        "groups": { " PROD ": { "enforce": true } }, "deny_unknown_groups": true
    }))
    .unwrap();
    assert_eq!(p.groups.keys().collect::<Vec<_>>(), ["prod"]);
    assert!(p.deny_unknown_groups);
    let twice = serde_json::from_value::<GatePolicies>(json!({
        "groups": { "prod": {}, "Prod": { "enforce": false } }
    }));
    assert!(twice.unwrap_err().to_string().contains("listed twice"));
    let blank = serde_json::from_value::<GatePolicies>(json!({ "groups": { " ": {} } }));
    assert!(blank.unwrap_err().to_string().contains("blank"));
}

/// Issue 15 item 5: a ticket read that never returns is cut off by the gate's own
/// deadline and denied, audited, without the test waiting (paused time).
#[tokio::test(start_paused = true)]
async fn a_ticketing_system_that_never_answers_is_denied_at_the_deadline() {
    let (itsm, gate, sink) = gate_with(Some(good_change()), TicketPolicy::new().fail_open(true));
    itsm.hang_get();
    assert_eq!(gate.deadline(), Duration::from_secs(30));
    let started = tokio::time::Instant::now();
    // Without a gate deadline the check would pend for ever: bound the wait here so
    // that a missing deadline fails the test instead of hanging it.
    let v = tokio::time::timeout(HOUR, gate.check(&attempt()))
        .await
        .expect("the gate answered before an hour passed");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert!(!v.allow, "a deadline denies, even under fail_open");
    assert_eq!(
        v.reasons,
        [Reason::GateDeadline {
            deadline_ms: 30_000
        }]
    );
    assert_eq!(v.codes(), ["gate_deadline"]);
    assert_eq!(itsm.calls().get, 1);
    let event = sink.take().pop().unwrap();
    assert_eq!(
        (event.action, event.outcome),
        (AuditAction::GateChecked, AuditOutcome::Denied)
    );
    assert_eq!(event.detail["codes"], json!(["gate_deadline"]));
    assert_eq!(
        event.detail["reasons"],
        json!([{ "code": "gate_deadline", "deadline_ms": 30_000 }])
    );

    // The deadline is configurable, and break-glass treats it as "cannot be asked".
    let rule = BreakGlassRule::allow(["oncall"]);
    let (itsm, gate, _) = gate_with(Some(good_change()), TicketPolicy::new().break_glass(rule));
    let gate = gate.with_deadline(Duration::from_millis(2_500));
    itsm.hang_get();
    let started = tokio::time::Instant::now();
    let oncall = AccessAttempt::new(Principal::new("oncall"), "connect", "db-prod-1")
        .ticket("2026000001")
        .break_glass("ITSM hangs, P1 outage");
    let v = tokio::time::timeout(HOUR, gate.check(&oncall))
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(2_500));
    assert!(v.allow);
    assert_eq!(v.codes(), ["gate_deadline", "break_glass"]);
    assert_eq!(
        Reason::GateDeadline { deadline_ms: 2_500 }.to_string(),
        "the ticketing system did not answer within the gate's deadline of 2500 ms"
    );
}
