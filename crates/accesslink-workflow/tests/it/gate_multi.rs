//! Several service desks behind one gate: routing by each connector's parser and
//! configured patterns, an order for ambiguous ids, each desk with its own policy.

use std::sync::Arc;

use accesslink_core::{ApprovalState, TicketKind, TicketState};
use accesslink_workflow::audit::{AuditAction, AuditOutcome, MemorySink};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Charset, Desk, GatePolicies, IdPattern, MultiDeskGate, Principal,
    Reason, SuperAdmins, TicketGate, TicketPolicy,
};

use crate::double::{FakeItsm, set_approval, ticket};

struct Desks {
    snow: Arc<FakeItsm>,
    glpi: Arc<FakeItsm>,
    otrs: Arc<FakeItsm>,
    sink: Arc<MemorySink>,
}

impl Desks {
    fn new() -> Self {
        let snow = FakeItsm::named(
            "snow",
            Some("INC"),
            [TicketKind::Incident, TicketKind::Change],
        );
        let glpi = FakeItsm::named("glpi", None, [TicketKind::Incident]);
        let otrs = FakeItsm::named("otrs", None, [TicketKind::Incident]);
        let mut inc = ticket(
            "INC0000001",
            TicketKind::Incident,
            TicketState::InProgress,
            "2",
        );
        set_approval(&mut inc, ApprovalState::Requested, "requested");
        snow.insert(inc);
        glpi.insert(ticket("123", TicketKind::Incident, TicketState::New, "1"));
        glpi.insert(ticket(
            "2026000001",
            TicketKind::Incident,
            TicketState::Closed,
            "6",
        ));
        otrs.insert(ticket(
            "2026000001",
            TicketKind::Incident,
            TicketState::New,
            "new",
        ));
        Desks {
            snow,
            glpi,
            otrs,
            sink: Arc::new(MemorySink::new()),
        }
    }

    fn gate(&self, itsm: &Arc<FakeItsm>, policy: TicketPolicy) -> TicketGate {
        TicketGate::new(itsm.clone(), GatePolicies::new(policy)).with_audit(self.sink.clone())
    }

    /// ServiceNow requires approval; GLPI and OTRS do not.
    fn multi(&self) -> MultiDeskGate {
        MultiDeskGate::new([
            Desk::new(
                "servicenow",
                self.gate(
                    &self.snow,
                    TicketPolicy::new().approval(ApprovalRule::Always),
                ),
            ),
            Desk::new("glpi", self.gate(&self.glpi, TicketPolicy::new())),
            Desk::new("otrs", self.gate(&self.otrs, TicketPolicy::new())),
        ])
        .unwrap()
        .with_audit(self.sink.clone())
    }

    fn gets(&self) -> [usize; 3] {
        [
            self.snow.calls().get,
            self.glpi.calls().get,
            self.otrs.calls().get,
        ]
    }
}

fn attempt(id: &str) -> AccessAttempt {
    AccessAttempt::new(Principal::new("jdoe"), "connect", "db-1").ticket(id)
}

#[tokio::test]
async fn an_id_one_desk_claims_goes_to_that_desk_and_its_policy() {
    let d = Desks::new();
    let gate = d.multi();
    let v = gate.check(&attempt("inc0000001")).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["not_approved"], "ServiceNow's own policy");
    assert_eq!(v.policy, "servicenow/default");
    assert_eq!(v.denied_by, ["servicenow/default"]);
    assert_eq!(d.gets(), [1, 0, 0]);
    assert_eq!(gate.route("INC0000001").unwrap().name(), "servicenow");
}

#[tokio::test]
async fn an_id_two_desks_claim_is_denied_without_an_order() {
    let d = Desks::new();
    let gate = d.multi();
    let v = gate.check(&attempt("2026000001")).await;
    assert!(!v.allow);
    assert_eq!(
        v.reasons,
        [Reason::AmbiguousTicketId {
            desks: vec!["glpi".into(), "otrs".into()]
        }]
    );
    assert_eq!(v.denied_by, ["router"]);
    assert_eq!(d.gets(), [0, 0, 0], "no desk was asked");
    let e = d.sink.events().pop().unwrap();
    assert_eq!(
        (e.action, e.outcome),
        (AuditAction::GateChecked, AuditOutcome::Denied)
    );
    assert_eq!(e.connector.target, "multi-desk");
    assert_eq!(
        e.detail["codes"],
        serde_json::json!(["ambiguous_ticket_id"])
    );
}

#[tokio::test]
async fn the_order_settles_ambiguous_ids() {
    let d = Desks::new();
    let gate = d.multi().with_order(["otrs", "glpi"]).unwrap();
    let v = gate.check(&attempt("2026000001")).await;
    assert!(v.allow, "OTRS's ticket is new: {:?}", v.reasons);
    assert_eq!(v.policy, "otrs/default");
    assert_eq!(d.gets(), [0, 0, 1]);

    let gate = d.multi().with_order(["glpi"]).unwrap();
    let v = gate.check(&attempt("2026000001")).await;
    assert!(!v.allow, "GLPI's ticket is closed");
    assert_eq!(v.policy, "glpi/default");
    assert_eq!(d.gets(), [0, 1, 1]);

    // An order that ranks none of the claimants leaves the id ambiguous.
    let gate = d.multi().with_order(["servicenow"]).unwrap();
    assert_eq!(
        gate.check(&attempt("2026000001")).await.codes(),
        ["ambiguous_ticket_id"]
    );
}

#[tokio::test]
async fn claim_patterns_narrow_what_a_desk_claims() {
    let d = Desks::new();
    let gate = MultiDeskGate::new([
        Desk::new("glpi", d.gate(&d.glpi, TicketPolicy::new())).claims([
            IdPattern::new(Charset::Digits, 1, 6).prefixes(["#"]),
            IdPattern::new(Charset::Digits, 1, 6),
        ]),
        Desk::new("otrs", d.gate(&d.otrs, TicketPolicy::new())).claims([IdPattern::new(
            Charset::Digits,
            10,
            20,
        )]),
    ])
    .unwrap();
    assert_eq!(gate.route("123").unwrap().name(), "glpi");
    assert_eq!(gate.route("2026000001").unwrap().name(), "otrs");
    let v = gate.check(&attempt("2026000001")).await;
    assert!(v.allow);
    assert_eq!(d.gets(), [0, 0, 1]);
}

#[tokio::test]
async fn an_id_no_desk_claims_is_denied_before_any_request() {
    let d = Desks::new();
    let gate = d.multi();
    for id in ["OPS-123", "1 OR 1=1", "CHG0000001"] {
        let v = gate
            .check(&attempt(id).break_glass("P1 outage bridge 4711"))
            .await;
        assert!(!v.allow, "{id}");
        assert_eq!(
            v.codes(),
            ["unclaimed_ticket_id", "break_glass_refused"],
            "{id}"
        );
        let Reason::UnclaimedTicketId { detail } = &v.reasons[0] else {
            unreachable!()
        };
        assert!(
            detail.contains("servicenow:") && detail.contains("otrs:"),
            "{detail}"
        );
    }
    assert_eq!(d.gets(), [0, 0, 0]);
}

#[tokio::test]
async fn attempts_without_a_ticket_need_every_desk_to_allow() {
    let d = Desks::new();
    let gate = MultiDeskGate::new([
        Desk::new(
            "servicenow",
            d.gate(
                &d.snow,
                TicketPolicy::new().no_ticket_operations(["retrieve_password"]),
            ),
        ),
        Desk::new("glpi", d.gate(&d.glpi, TicketPolicy::new())),
    ])
    .unwrap();
    let a = AccessAttempt::new(Principal::new("jdoe"), "retrieve_password", "db-1");
    let v = gate.check(&a).await;
    assert!(!v.allow);
    assert_eq!(v.codes(), ["ticket_missing"]);
    assert_eq!(v.denied_by, ["glpi/default"]);

    let root = AccessAttempt::new(
        Principal::new("root").roles([SuperAdmins::DEFAULT_ROLE]),
        "connect",
        "db-1",
    );
    let v = gate.check(&root).await;
    assert!(v.allow);
    assert_eq!(v.policy, "servicenow/super_admins + glpi/super_admins");
}

#[tokio::test]
async fn desk_names_and_orders_are_checked() {
    let d = Desks::new();
    let one = |name: &str| Desk::new(name, d.gate(&d.glpi, TicketPolicy::new()));
    assert!(MultiDeskGate::new(Vec::<Desk>::new()).is_err());
    assert!(MultiDeskGate::new([one("glpi"), one("GLPI")]).is_err());
    assert!(MultiDeskGate::new([one(" ")]).is_err());
    let g = MultiDeskGate::new([one("a"), one("b")]).unwrap();
    assert!(g.clone().with_order(["c"]).is_err());
    assert!(g.clone().with_order(["a", "a"]).is_err());
    assert!(g.with_order(["b", "a"]).is_ok());
}

#[tokio::test]
async fn auto_approval_through_the_multi_desk_gate() {
    let d = Desks::new();
    let gate = d.multi().with_order(["otrs"]).unwrap();
    assert!(gate.decide(&attempt("2026000001")).await.is_auto());
    assert!(!gate.decide(&attempt("INC0000001")).await.is_auto());
    let decided: Vec<_> = d
        .sink
        .events()
        .into_iter()
        .filter(|e| e.action == AuditAction::ApprovalDecided)
        .map(|e| (e.connector.target, e.detail["decision"].clone()))
        .collect();
    assert_eq!(
        decided,
        [
            ("otrs".to_owned(), serde_json::json!("auto_approve")),
            ("snow".to_owned(), serde_json::json!("manual_approval"))
        ]
    );
}

#[tokio::test]
async fn the_session_link_goes_to_the_desk_the_id_routes_to() {
    use accesslink_workflow::gate::SessionLink;
    let d = Desks::new();
    let gate = d.multi().with_order(["otrs"]).unwrap();
    let a = attempt("2026000001");
    let v = gate.check(&a).await;
    assert!(v.allow);
    let link = SessionLink::new("ssh-1", "https://pam.example.com/r/ssh-1");
    assert!(gate.link_session(&a, &v, &link).await.unwrap());
    assert!(!gate.link_session(&a, &v, &link).await.unwrap());
    assert_eq!(d.otrs.comments_on("2026000001").len(), 1);
    assert!(d.glpi.comments_on("2026000001").is_empty());
    let err = gate
        .link_session(&attempt("OPS-1"), &v, &link)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), accesslink_core::ErrorKind::InvalidInput);
}
