//! User-group and resource-group policies together: precedence, the super
//! administrators' exemption, operations without a ticket per group.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accesslink_core::{ApprovalState, Person, Ticket, TicketKind, TicketState};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, BreakGlassRule, BreakGlassScope, GatePolicies, Principal, Reason,
    SuperAdmins, TicketGate, TicketPolicy,
};

use crate::double::{FakeItsm, set_approval, ticket};

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// An open incident (not approved) requested by jdoe.
fn incident() -> Ticket {
    let mut t = ticket(
        "2026000001",
        TicketKind::Incident,
        TicketState::InProgress,
        "in progress",
    );
    t.requester = Some(Person::login("jdoe"));
    t.created = Some(now() - Duration::from_secs(60));
    t
}

/// An approved change requested by jdoe.
fn change() -> Ticket {
    let mut t = ticket(
        "2026000002",
        TicketKind::Change,
        TicketState::InProgress,
        "implement",
    );
    set_approval(&mut t, ApprovalState::Approved, "approved");
    t.requester = Some(Person::login("jdoe"));
    t.created = Some(now() - Duration::from_secs(60));
    t
}

fn setup(policies: GatePolicies) -> (Arc<FakeItsm>, TicketGate, Arc<MemorySink>) {
    let itsm = FakeItsm::new();
    itsm.insert(incident());
    itsm.insert(change());
    let sink = Arc::new(MemorySink::new());
    let gate = TicketGate::new(itsm.clone(), policies).with_audit(sink.clone());
    (itsm, gate, sink)
}

fn who(login: &str, groups: &[&str]) -> Principal {
    Principal::new(login).groups(groups.iter().copied())
}

fn attempt(p: Principal, group: &str, ticket: &str) -> AccessAttempt {
    AccessAttempt::new(p, "connect", "db-1")
        .group(group)
        .ticket(ticket)
        .at(now())
}

/// Production requires an approved change.
fn prod() -> TicketPolicy {
    TicketPolicy::new()
        .allowed_kinds([TicketKind::Change])
        .approval(ApprovalRule::Always)
}

#[tokio::test]
async fn a_stricter_user_group_policy_denies_where_the_resource_group_allows() {
    // Resource group "web" accepts any open ticket; contractors must be the requester.
    let policies = GatePolicies::new(TicketPolicy::new())
        .group("web", TicketPolicy::new())
        .user_group(
            "contractors",
            TicketPolicy::new().requester_must_match(true),
        );
    let (itsm, gate, sink) = setup(policies);

    let v = gate
        .check(&attempt(who("eve", &["Contractors"]), "web", "2026000001"))
        .await;
    assert!(!v.allow);
    assert_eq!(
        v.reasons,
        [Reason::RequesterMismatch {
            requester: Some("jdoe".into())
        }]
    );
    assert_eq!(v.denied_by, ["user_group:contractors"]);
    assert_eq!(v.policy, "web + user_group:contractors");
    assert_eq!(itsm.calls().get, 1, "one read for both policies");
    let e = sink.events().pop().unwrap();
    assert_eq!(
        e.detail["denied_by"],
        serde_json::json!(["user_group:contractors"])
    );

    // The same ticket for someone outside the group: only "web" applies.
    let v = gate
        .check(&attempt(who("eve", &["sales"]), "web", "2026000001"))
        .await;
    assert!(v.allow);
    assert_eq!(v.policy, "web");
}

#[tokio::test]
async fn a_looser_user_group_policy_never_overrides_a_resource_group_deny() {
    // DBAs need no ticket by their group's policy, but production still wants an
    // approved change.
    let policies = GatePolicies::new(TicketPolicy::new())
        .group("prod", prod())
        .user_group("dba", TicketPolicy::new().enforce(false));
    let (_, gate, _) = setup(policies);

    let v = gate
        .check(&attempt(who("jdoe", &["dba"]), "prod", "2026000001"))
        .await;
    assert!(!v.allow);
    assert_eq!(v.denied_by, ["prod"]);
    assert_eq!(
        v.codes(),
        ["wrong_kind", "not_approved"],
        "only the denying policy's reasons"
    );

    let v = gate
        .check(&attempt(who("jdoe", &["dba"]), "prod", "2026000002"))
        .await;
    assert!(v.allow, "{:?}", v.reasons);
    assert_eq!(
        v.reasons,
        [
            Reason::TicketValid,
            Reason::NotEnforced {
                policy: "user_group:dba".into()
            }
        ]
    );
}

#[tokio::test]
async fn group_policies_replace_the_default_policy() {
    // The default wants changes; the ops group's policy accepts incidents, and
    // applies (instead of the default) in resource groups without a policy.
    let policies = GatePolicies::new(prod()).user_group(
        "ops",
        TicketPolicy::new().allowed_kinds([TicketKind::Incident]),
    );
    let (_, gate, _) = setup(policies);
    let v = gate
        .check(&attempt(who("jdoe", &["ops"]), "lab", "2026000001"))
        .await;
    assert!(v.allow, "{:?}", v.reasons);
    assert_eq!(v.policy, "user_group:ops");
    let v = gate
        .check(&attempt(who("jdoe", &[]), "lab", "2026000001"))
        .await;
    assert!(!v.allow);
    assert_eq!(v.denied_by, ["default"]);
}

#[tokio::test]
async fn two_user_groups_disagreeing_deny() {
    let policies = GatePolicies::new(TicketPolicy::new())
        .user_group(
            "ops",
            TicketPolicy::new().allowed_kinds([TicketKind::Incident]),
        )
        .user_group(
            "auditors",
            TicketPolicy::new().allowed_kinds([TicketKind::Change]),
        );
    let (_, gate, _) = setup(policies);
    let v = gate
        .check(&attempt(
            who("jdoe", &["ops", "auditors"]),
            "",
            "2026000001",
        ))
        .await;
    assert!(!v.allow);
    assert_eq!(v.denied_by, ["user_group:auditors"]);
    assert_eq!(
        v.reasons,
        [Reason::WrongKind {
            kind: TicketKind::Incident
        }]
    );
}

#[tokio::test]
async fn unknown_resource_groups_stay_denied_whatever_the_user_groups() {
    let policies = GatePolicies::new(TicketPolicy::new())
        .user_group("dba", TicketPolicy::new().enforce(false))
        .deny_unknown_groups(true);
    let (itsm, gate, _) = setup(policies);
    let v = gate
        .check(&attempt(who("jdoe", &["dba"]), "nowhere", "2026000001"))
        .await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["unknown_resource_group"]);
    assert_eq!(itsm.calls().get, 0);
}

#[tokio::test]
async fn operations_without_a_ticket_per_resource_group_and_per_user_group() {
    let policies = GatePolicies::new(TicketPolicy::new())
        .group(
            "vault",
            TicketPolicy::new().no_ticket_operations(["retrieve_password"]),
        )
        .group("prod", prod())
        .user_group(
            "helpdesk",
            TicketPolicy::new().no_ticket_operations(["reset_password"]),
        );
    let (itsm, gate, _) = setup(policies);
    let op = |p: Principal, group: &str, op: &str| {
        AccessAttempt::new(p, op, "db-1").group(group).at(now())
    };

    // Per resource group: retrieving in "vault" needs no ticket; elsewhere it does.
    let v = gate
        .check(&op(who("jdoe", &[]), "vault", "retrieve_password"))
        .await;
    assert_eq!((v.allow, v.codes()), (true, vec!["no_ticket_needed"]));
    let v = gate
        .check(&op(who("jdoe", &[]), "prod", "retrieve_password"))
        .await;
    assert_eq!((v.allow, v.codes()), (false, vec!["ticket_missing"]));
    let v = gate
        .check(&op(who("jdoe", &[]), "vault", "reset_password"))
        .await;
    assert_eq!((v.allow, v.codes()), (false, vec!["ticket_missing"]));

    // Per user group: helpdesk resets without a ticket where no resource group's
    // policy asks for one…
    let v = gate
        .check(&op(who("ann", &["helpdesk"]), "lab", "reset_password"))
        .await;
    assert_eq!((v.allow, v.codes()), (true, vec!["no_ticket_needed"]));
    // …but not in production, whose policy requires a ticket (the deny stands).
    let v = gate
        .check(&op(who("ann", &["helpdesk"]), "prod", "reset_password"))
        .await;
    assert_eq!(
        (v.allow, v.denied_by.clone()),
        (false, vec!["prod".to_owned()])
    );
    let v = gate
        .check(&op(who("bob", &[]), "lab", "reset_password"))
        .await;
    assert!(!v.allow);
    assert_eq!(itsm.calls().get, 0, "no ticket was ever read");
}

#[tokio::test]
async fn super_administrators_are_exempt_by_default_and_each_use_is_audited() {
    let (itsm, gate, sink) = setup(GatePolicies::new(TicketPolicy::new()).group("prod", prod()));
    let root = Principal::new("root").roles([SuperAdmins::DEFAULT_ROLE]);
    let a = AccessAttempt::new(root.clone(), "connect", "db-1")
        .group("prod")
        .at(now());
    for _ in 0..2 {
        let v = gate.check(&a).await;
        assert!(v.allow);
        assert_eq!(
            v.reasons,
            [Reason::SuperAdmin {
                via: "role:super_administrator".into()
            }]
        );
        assert_eq!(v.policy, "super_admins");
    }
    assert_eq!(itsm.calls().get, 0);
    let events = sink.events();
    let actions: Vec<AuditAction> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::ExemptionUsed,
            AuditAction::GateChecked,
            AuditAction::ExemptionUsed,
            AuditAction::GateChecked
        ]
    );
    assert_eq!(events[0].outcome, AuditOutcome::Allowed);
    assert_eq!(events[0].detail["principal"], "root");
    assert_eq!(events[0].detail["via"], "role:super_administrator");

    // A role that is not the configured one exempts nobody.
    let admin = AccessAttempt::new(
        Principal::new("x").roles(["administrator"]),
        "connect",
        "db-1",
    )
    .at(now());
    assert_eq!(gate.check(&admin).await.codes(), ["ticket_missing"]);
}

#[tokio::test]
async fn the_super_administrator_exemption_can_be_configured_or_switched_off() {
    let by_group = GatePolicies::new(TicketPolicy::new()).super_admins(
        SuperAdmins::default()
            .roles(Vec::<String>::new())
            .groups(["PAM Admins"]),
    );
    let (_, gate, _) = setup(by_group);
    let member = AccessAttempt::new(who("ann", &["pam admins"]), "connect", "db-1").at(now());
    let v = gate.check(&member).await;
    assert_eq!(
        v.reasons,
        [Reason::SuperAdmin {
            via: "group:pam admins".into()
        }]
    );
    let role_only = AccessAttempt::new(
        Principal::new("root").roles([SuperAdmins::DEFAULT_ROLE]),
        "connect",
        "db-1",
    )
    .at(now());
    assert_eq!(gate.check(&role_only).await.codes(), ["ticket_missing"]);

    let off = GatePolicies::new(TicketPolicy::new()).super_admins(SuperAdmins::none());
    let (_, gate, sink) = setup(off);
    let v = gate.check(&role_only).await;
    assert_eq!((v.allow, v.codes()), (false, vec!["ticket_missing"]));
    assert!(
        sink.events()
            .iter()
            .all(|e| e.action != AuditAction::ExemptionUsed)
    );
}

#[tokio::test]
async fn break_glass_needs_every_denying_policy_to_permit_it() {
    let anyone = BreakGlassRule::allow(Vec::<String>::new()).scope(BreakGlassScope::AnyDenial);
    let policies = GatePolicies::new(TicketPolicy::new())
        .group("prod", prod().break_glass(anyone.clone()))
        .user_group("contractors", prod());
    let (_, gate, _) = setup(policies);
    let a = attempt(who("jdoe", &["contractors"]), "prod", "2026000001")
        .break_glass("P1 outage, bridge call 4711");
    let v = gate.check(&a).await;
    assert!(!v.allow);
    assert_eq!(v.codes().last(), Some(&"break_glass_refused"));

    let a =
        attempt(who("jdoe", &[]), "prod", "2026000001").break_glass("P1 outage, bridge call 4711");
    let v = gate.check(&a).await;
    assert!(v.allow);
    assert_eq!(v.codes().last(), Some(&"break_glass"));
    assert_eq!(v.denied_by, ["prod"], "the overridden denial is named");
}

#[tokio::test]
async fn fail_open_in_one_policy_does_not_open_a_policy_that_fails_closed() {
    let policies = GatePolicies::new(TicketPolicy::new())
        .group("lab", TicketPolicy::new().fail_open(true))
        .user_group("contractors", TicketPolicy::new());
    let (itsm, gate, _) = setup(policies);
    itsm.fail_next(crate::double::Op::Get, 2, crate::double::timeout);
    let v = gate
        .check(&attempt(who("eve", &["contractors"]), "lab", "2026000001"))
        .await;
    assert!(!v.allow);
    assert_eq!(v.denied_by, ["user_group:contractors"]);
    assert_eq!(v.codes(), ["itsm_unavailable"]);
    let v = gate
        .check(&attempt(who("eve", &[]), "lab", "2026000001"))
        .await;
    assert_eq!((v.allow, v.codes()), (true, vec!["failed_open"]));
}

#[tokio::test]
async fn an_id_pattern_in_any_applicable_policy_is_checked_before_any_request() {
    use accesslink_workflow::gate::{Charset, IdPattern};
    let anyone = BreakGlassRule::allow(Vec::<String>::new()).scope(BreakGlassScope::AnyDenial);
    let policies = GatePolicies::new(TicketPolicy::new())
        .group("prod", TicketPolicy::new())
        .user_group(
            "contractors",
            TicketPolicy::new()
                .id_pattern(IdPattern::new(Charset::Digits, 12, 12))
                .break_glass(anyone),
        );
    let (itsm, gate, _) = setup(policies);
    let a = attempt(who("eve", &["contractors"]), "prod", "2026000001");
    let v = gate.check(&a).await;
    assert!(!v.allow);
    assert_eq!(
        v.reasons,
        [
            Reason::MalformedId {
                detail: "refused by the id pattern of user_group:contractors".into()
            },
            Reason::MalformedId {
                detail: "10 characters after the prefix; 12..=12 expected".into()
            },
        ]
    );
    assert_eq!(v.denied_by, ["prod", "user_group:contractors"]);
    assert_eq!((itsm.calls().parse, itsm.calls().get), (0, 0));
    // The contractors' policy permits break-glass, production's does not: the
    // production policy, which never saw a ticket, is not bypassed.
    let v = gate.check(&a.break_glass("P1 outage, bridge 4711")).await;
    assert!(!v.allow);
    assert_eq!(v.codes().last(), Some(&"break_glass_refused"));
}
