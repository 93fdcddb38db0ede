//! Benchmark: one `Intake` poll over an OTRS desk with 10,000 open request tickets of
//! which 50 changed since the last poll — the requests the whole poll sends (listing,
//! comments read back, provisioning on GLPI, marker comments, closes) against a poll
//! that reads every open ticket, counted at the mocks' request logs. Also prints wall
//! time (in-process mocks; the request counts are the figures that carry over).
//!
//! ```sh
//! cargo run --release --example intake_feed_bench
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use accesslink::feed::tickets;
use accesslink::paging::PagingOptions;
use accesslink::{ChangeFeed, FeedCursor, TicketKind, TicketQuery, TicketState};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector, TicketDefaults};
use accesslink_testkit::glpi::{GlpiMock, Itemtype};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_workflow::intake::{
    FieldMap, FieldRule, Intake, IntakeConfig, IntakeStatus, SourceConfig,
};
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::json;

const OPEN: usize = 10_000;
const CHANGED: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let desk_mock = OtrsMock::start().await;
    let dir_mock = GlpiMock::start().await;
    let reports = dir_mock.create(Itemtype::Group, &json!({ "name": "crm-reports" }))?;
    let ids = desk_mock.seed_tickets(OPEN, "Access to reports for user");
    println!("OTRS mock: {OPEN} open request tickets seeded");

    let mut defaults = TicketDefaults::default();
    defaults.kinds = vec![(TicketKind::Request, "Unclassified".into())];
    let otrs = Arc::new(OtrsConnector::new(
        OtrsConfig::new(
            desk_mock.search_base_url().parse()?,
            desk_mock.agent_login(),
            SecretString::from(desk_mock.agent_password()),
        )
        .customer_user(desk_mock.customer_login())
        .correlation(Correlation::dynamic_field(desk_mock.correlation_field()))
        .defaults(defaults),
    )?);
    let glpi = Arc::new(GlpiConnector::new(
        GlpiClient::builder(dir_mock.base_url())
            .app_token(SecretString::from(dir_mock.app_token()))
            .user_token(SecretString::from(dir_mock.user_token()))
            .build()?,
        GlpiConfig::new().instance("crm").read_requester(false),
    ));
    // "Access to reports for user 17" → login "user17"-like digits, group crm-reports.
    let map = FieldMap::new(
        FieldRule::field("title").regex(r"for user (?P<value>\d+)$"),
        FieldRule::fixed("CRM"),
        FieldRule::fixed(reports.to_string()),
    )
    .entitlement_type(FieldRule::fixed("group"));
    let config = IntakeConfig::new(map).source("otrs", SourceConfig::new().scope("Raw"));
    let intake = Intake::builder(config)
        .desk("otrs", otrs.clone())
        .provisioner("CRM", glpi.clone())
        .build()?;

    // The intake has been running: its cursor stands after the backlog.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let since = SystemTime::now();
    intake.start_at("otrs", since)?;
    // 50 requesters add a follow-up.
    for id in ids.iter().step_by(OPEN / CHANGED).take(CHANGED) {
        desk_mock.customer_follow_up(*id, "Any news?");
    }

    // Finding what changed with the change feed (the listing part of the poll).
    let before = desk_mock.received().await.len();
    let mut probe = ChangeFeed::new(open_query()).resume(FeedCursor::starting_at(since));
    let changed = probe.poll(otrs.as_ref()).await?;
    let feed_listing = desk_mock.received().await.len() - before;

    // The whole intake poll.
    let desk_before = desk_mock.received().await.len();
    let dir_before = dir_mock.received().await.len();
    let started = Instant::now();
    let report = intake.poll_once().await;
    let took = started.elapsed();
    let desk_requests = desk_mock.received().await.len() - desk_before;
    let dir_requests = dir_mock.received().await.len() - dir_before;
    let provisioned = report
        .tickets()
        .filter(|t| t.status == IntakeStatus::Provisioned)
        .count();

    // Without a change feed: read every open ticket to find the changed ones.
    let before = desk_mock.received().await.len();
    let started = Instant::now();
    let query = open_query();
    let all: Vec<_> = tickets(otrs.as_ref(), &query, PagingOptions::new())
        .try_collect()
        .await?;
    let full_took = started.elapsed();
    let full = desk_mock.received().await.len() - before;

    println!("\n| {OPEN} open tickets, {CHANGED} changed | OTRS requests | GLPI requests | wall |");
    println!("|---|---|---|---|");
    println!(
        "| change feed: find what changed ({} tickets; the first request of the run is the session login) | {feed_listing} | 0 | |",
        changed.len()
    );
    println!(
        "| intake poll: find, read comments, provision, mark, close ({} handed out, {provisioned} provisioned) | {desk_requests} | {dir_requests} | {took:.2?} |",
        report.sources[0].changed
    );
    println!(
        "| no feed: read every open ticket ({} tickets) | {full} | 0 | {full_took:.2?} |",
        all.len()
    );
    println!(
        "| no feed: + read each open ticket's comments to find new ones and markers | {} (computed: {full} + {}) | 0 | |",
        full + all.len(),
        all.len()
    );
    println!(
        "\nfinding the {CHANGED} changed tickets: {feed_listing} requests with the feed vs {full} reading every open ticket ({:.0}x); the whole intake poll, processing included, is {} requests at the desk",
        full as f64 / feed_listing.max(1) as f64,
        desk_requests
    );
    Ok(())
}

fn open_query() -> TicketQuery {
    TicketQuery::new()
        .kind(TicketKind::Request)
        .states([
            TicketState::New,
            TicketState::InProgress,
            TicketState::OnHold,
            TicketState::Reopened,
        ])
        .scope("Raw")
}
