//! Access requests fulfilled through Jira issues: each request opens an issue (once, however
//! often it is run: the correlation label finds it again), an agent works it through the
//! workflow, and the workflow follows the issue to an outcome.
//!
//! It starts the Jira mock in-process (Cloud, Basic auth):
//!
//! ```sh
//! cargo run --example jira_fulfil
//! ```

mod fulfil;

use std::sync::Arc;

use accesslink::TicketKind;
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::jira::JiraMock;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = Arc::new(JiraMock::start_cloud().await);
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let jira = Arc::new(JiraConnector::from_settings(serde_json::from_value(
        settings,
    )?)?);
    println!("access requests through Jira issues on the in-process Jira mock\n");

    fulfil::run(
        mock.clone(),
        jira,
        fulfil::Desk {
            name: "Jira",
            ticket: "issue",
            kind: TicketKind::Task,
        },
        |m| m.issue_count(),
    )
    .await
}
