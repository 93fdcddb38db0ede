//! Access requests fulfilled through ServiceDesk Plus requests: each access request opens
//! an SDP request (once, however often it is run: the correlation tag in the subject finds
//! it again), a technician works it, and the workflow follows it to an outcome.
//!
//! It starts the SDP mock in-process (Cloud, Zoho OAuth):
//!
//! ```sh
//! cargo run --example sdp_fulfil
//! ```

mod fulfil;

use std::sync::Arc;

use accesslink::TicketKind;
use accesslink_sdp::SdpConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::sdp::SdpMock;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = Arc::new(SdpMock::start_cloud().await);
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let sdp = Arc::new(SdpConnector::from_settings(serde_json::from_value(
        settings,
    )?)?);
    println!(
        "access requests through ServiceDesk Plus requests on the in-process SDP Cloud mock\n"
    );

    fulfil::run(
        mock.clone(),
        sdp,
        fulfil::Desk {
            name: "SDP",
            ticket: "request",
            kind: TicketKind::Request,
        },
        |m| m.ticket_count(),
    )
    .await
}
