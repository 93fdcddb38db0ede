//! Measures one poll cycle over N open tickets: HTTP requests and time, batched
//! (`get_tickets`, 50 ids per TicketGet) against one GET per ticket (`get_ticket`), in
//! the same run. Requests are counted by a pass-through loopback proxy in front of the
//! server.
//!
//! ```sh
//! cargo run --release --example otrs_poll_bench            # the in-process mock, 10,000 tickets
//! eval "$(bash ../shared/znuny/start.sh | sed 's/^/export /')"
//! cargo run --release --example otrs_poll_bench -- 1000    # a real Znuny, 1,000 tickets
//! ```
//!
//! On a real server the tickets are created once (titled `poll-bench …`) and found
//! again on later runs.

use std::time::Instant;

use accesslink::{TicketRef, TicketingSystem};
use accesslink_otrs::api::SearchParams;
use accesslink_otrs::models::{NewArticle, TicketCreate, TicketFields};
use accesslink_otrs::{OtrsConfig, OtrsConnector};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_testkit::proxy::FaultProxy;
use secrecy::SecretString;

const TITLE: &str = "poll-bench open ticket";

fn env(k: &str, default: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = std::env::var("ZNUNY_BASE_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let default_n = if real.is_some() { 1000 } else { 10_000 };
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default_n);
    let mock;
    let (base, agent, password, customer, target) = match real {
        Some(base) => (
            base,
            env("ZNUNY_AGENT_LOGIN", "apiagent"),
            env("ZNUNY_AGENT_PASSWORD", "ApiAgent-Pw1"),
            env("ZNUNY_CUSTOMER_LOGIN", "apicustomer"),
            "a real OTRS/Znuny",
        ),
        None => {
            mock = OtrsMock::start().await;
            (
                mock.base_url(),
                mock.agent_login().to_owned(),
                mock.agent_password().to_owned(),
                mock.customer_login().to_owned(),
                "the in-process OTRS mock",
            )
        }
    };
    let url = url::Url::parse(&base)?;
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port_or_known_default().unwrap_or(80)
    )
    .parse()?;
    let proxy = FaultProxy::start(upstream).await?;
    let config = OtrsConfig::new(
        format!("{}{}", proxy.url(), url.path()).parse()?,
        agent,
        SecretString::from(password),
    )
    .customer_user(customer.clone())
    .batch_size(50);
    let otrs = OtrsConnector::new(config)?;
    let tickets = otrs.client().tickets();

    // Find the open bench tickets of earlier runs; create what is missing.
    let search = SearchParams {
        title: Some(TITLE.to_owned()),
        state_types: vec!["new".into()],
        limit: Some(u32::try_from(n)?),
        ..SearchParams::default()
    };
    let mut ids = tickets.search(&search).await?;
    if ids.len() < n {
        eprintln!("creating {} tickets…", n - ids.len());
        for _ in ids.len()..n {
            let body = TicketCreate {
                ticket: TicketFields {
                    title: Some(TITLE.into()),
                    queue: Some("Raw".into()),
                    state: Some("new".into()),
                    priority: Some("3 normal".into()),
                    customer_user: Some(customer.clone()),
                    ..TicketFields::default()
                },
                article: NewArticle::plain("bench", "a ticket to poll", false),
                dynamic_fields: Vec::new(),
            };
            ids.push(tickets.create(&body).await?.ticket_id);
        }
    }
    ids.truncate(n);
    let refs: Vec<TicketRef> = ids
        .iter()
        .map(|id| TicketRef::by_id(id.to_string()))
        .collect();
    // Log in before measuring.
    otrs.get_ticket(&refs[0]).await?;

    let before = proxy.requests();
    let t = Instant::now();
    let batched = otrs.get_tickets(&refs).await?;
    let batched_time = t.elapsed();
    let batched_requests = proxy.requests() - before;
    assert_eq!(batched.len(), n);

    let before = proxy.requests();
    let t = Instant::now();
    let mut single = 0;
    for r in &refs {
        if otrs.get_ticket(r).await?.is_some() {
            single += 1;
        }
    }
    let single_time = t.elapsed();
    let single_requests = proxy.requests() - before;
    assert_eq!(single, n);

    println!("server:                {target}");
    println!("open tickets polled:   {n}");
    println!("batched (get_tickets): {batched_requests:>5} HTTP requests, {batched_time:>10.2?}");
    println!("one GET per ticket:    {single_requests:>5} HTTP requests, {single_time:>10.2?}");
    println!(
        "speed-up:              {:.1}x time, {:.1}x requests",
        single_time.as_secs_f64() / batched_time.as_secs_f64(),
        single_requests as f64 / batched_requests.max(1) as f64
    );
    Ok(())
}
