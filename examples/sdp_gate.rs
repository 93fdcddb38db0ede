//! Gate privileged access on ServiceDesk Plus changes ("Use ChangeID for validation"): the
//! change number a user types must name an open change that is **approved**; requests and
//! unapproved changes are denied, with reasons. Runs on each deployment kind against the
//! in-process SDP mock: on-premises (technician key), Cloud (Zoho OAuth, portal `itdesk`)
//! and MSP (account `Acme`).
//!
//! ```sh
//! cargo run --example sdp_gate
//! ```
//!
//! Against a real instance, use the same policy with `SdpConnector::from_settings` (see
//! `docs/connectors/sdp.md`).

use std::sync::Arc;

use accesslink::{TicketKind, TicketingSystem};
use accesslink_sdp::SdpConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::sdp::{Deployment, SdpMock};
use accesslink_workflow::gate::{
    AccessAttempt, ApprovalRule, Principal, SessionLink, TicketGate, TicketPolicy, open_states,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    for deployment in [Deployment::OnPremises, Deployment::Cloud, Deployment::Msp] {
        let mock = SdpMock::builder().deployment(deployment).start().await;
        let approved =
            mock.add_change("Patch db-prod-01", "Approval", "Approved", Some("Approved"));
        let pending = mock.add_change(
            "Patch db-prod-01",
            "Approval",
            "Requested",
            Some("Pending Approval"),
        );
        let denied = mock.add_change("Patch db-prod-01", "Approval", "Rejected", Some("Denied"));
        let implementing =
            mock.add_change("Patch db-prod-01", "Implementation", "In Progress", None);
        let account = (deployment == Deployment::Msp).then_some("Acme");
        let request = mock.add_request("VPN access", account);

        let mut settings = mock.settings();
        settings
            .as_object_mut()
            .expect("an object")
            .remove("target");
        let sdp = SdpConnector::from_settings(serde_json::from_value(settings)?)?;
        let policy = TicketPolicy::new()
            .allowed_kinds([TicketKind::Change])
            .states_for(TicketKind::Change, open_states())
            .approval(ApprovalRule::Kinds(vec![TicketKind::Change]))
            .exempt(["break-glass-admin"]);
        let sdp = Arc::new(sdp);
        let gate = TicketGate::new(sdp.clone() as Arc<dyn TicketingSystem>, policy);
        println!("\n{deployment:?}: the change must be approved");
        let typed = [
            format!("CH-{approved}"),
            format!("change:{pending}"),
            format!("CH-{denied}"),
            format!("CH-{implementing}"),
            request.clone(),
            "CH-99999".to_owned(),
            "CH-1 OR 1=1".to_owned(),
        ];
        let alice = Principal::new("alice");
        for raw in &typed {
            let attempt =
                AccessAttempt::new(alice.clone(), "connect", "db-prod-01").ticket(raw.as_str());
            let verdict = gate.check(&attempt).await;
            let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
            println!(
                "  {:<14} {:<5} {}",
                raw,
                if verdict.allow { "ALLOW" } else { "DENY" },
                reasons.join("; ")
            );
        }
        // The seed's RDP-session-link option: the session's link as a private note on the
        // approved change the user typed.
        let attempt = AccessAttempt::new(alice.clone(), "connect", "db-prod-01")
            .ticket(format!("CH-{approved}").as_str());
        let verdict = gate.check(&attempt).await;
        let link = SessionLink::new("rdp-4711", "https://pam.acme.example/sessions/rdp-4711");
        gate.link_session(&attempt, &verdict, &link).await?;
        for (note, public) in mock.notes(true, &approved) {
            println!("  note on CH-{approved} (shown to requester: {public}): {note}");
        }
        println!("  {} requests to ServiceDesk Plus", mock.request_count());
    }
    Ok(())
}
