//! Benchmark for issue 23 on the in-process OTRS mock: 10,000 open tickets of which 50
//! changed since the watermark. Counts the HTTP requests (and time) of one `ChangeFeed`
//! poll against a poll of every open ticket (a TicketSearch for the open ones, then
//! `get_tickets` over all of them, 50 per TicketGet).
//!
//! ```sh
//! cargo run --release --example otrs_feed_bench            # 10,000 tickets, 50 changed
//! cargo run --release --example otrs_feed_bench -- 20000 100
//! ```

use std::time::{Duration, Instant, UNIX_EPOCH};

use accesslink::feed::{ChangeFeed, TicketQuery};
use accesslink::{TicketRef, TicketingSystem};
use accesslink_otrs::api::SearchParams;
use accesslink_otrs::{OtrsConfig, OtrsConnector};
use accesslink_testkit::otrs::OtrsMock;
use secrecy::SecretString;

/// 2030-03-17 17:46:40 UTC: when the open tickets were written.
const SEEDED: i64 = 1_900_000_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let open: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let changed: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);

    let mock = OtrsMock::start().await;
    // Every open ticket written at SEEDED; the changed ones a minute later.
    mock.set_clock(Some(SEEDED));
    let ids = mock.seed_tickets(open, "feed-bench open ticket");
    mock.set_clock(Some(SEEDED + 60));
    let step = (open / changed.max(1)).max(1);
    for id in ids.iter().step_by(step).take(changed) {
        assert!(mock.set_state(*id, "open"));
    }
    mock.set_clock(None);

    let otrs = OtrsConnector::new(
        OtrsConfig::new(
            mock.base_url().parse()?,
            mock.agent_login(),
            SecretString::from(mock.agent_password()),
        )
        .customer_user(mock.customer_login())
        .batch_size(50),
    )?;
    // Log in before measuring.
    otrs.get_ticket(&TicketRef::by_id("1")).await?;

    // The change feed, resumed from a watermark between the two writes (as a stored
    // cursor would be after the previous poll).
    let watermark = UNIX_EPOCH + Duration::from_secs(u64::try_from(SEEDED + 30)?);
    let mut feed = ChangeFeed::new(TicketQuery::new().updated_since(watermark));
    let before = mock.counter().total();
    let t = Instant::now();
    let polled = feed.poll(&otrs).await?;
    let feed_time = t.elapsed();
    let feed_requests = mock.counter().total() - before;
    assert_eq!(polled.len(), changed);

    // Every open ticket: one search for the ids, then batched reads of all of them.
    let before = mock.counter().total();
    let t = Instant::now();
    let search = SearchParams {
        state_types: vec!["new".into(), "open".into()],
        limit: Some(u32::try_from(open + 10)?),
        ..SearchParams::default()
    };
    let all_ids = otrs.client().tickets().search(&search).await?;
    let refs: Vec<TicketRef> = all_ids
        .iter()
        .map(|id| TicketRef::by_id(id.to_string()))
        .collect();
    let all = otrs.get_tickets(&refs).await?;
    let full_time = t.elapsed();
    let full_requests = mock.counter().total() - before;
    // The mock's ticket 1 ("Znuny says hi!") is open too.
    assert!(all.len() >= open);

    println!("server:                       the in-process OTRS mock");
    println!("open tickets:                 {}", all.len());
    println!("changed since the watermark:  {changed}");
    println!(
        "change-feed poll:             {feed_requests:>5} HTTP requests, {feed_time:>10.2?}, {} tickets",
        polled.len()
    );
    println!(
        "poll of every open ticket:    {full_requests:>5} HTTP requests, {full_time:>10.2?}, {} tickets",
        all.len()
    );
    println!(
        "ratio:                        {:.0}x fewer requests",
        full_requests as f64 / feed_requests.max(1) as f64
    );
    Ok(())
}
