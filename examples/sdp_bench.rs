//! Benchmark: import 10,000 ServiceDesk Plus requesters through the connector
//! (`paging::accounts` over `SdpConnector`, `list_info` pages of 100, the vendor's cap) and
//! through a plain reqwest loop sending the same `GET /api/v3/requesters?input_data=…`
//! pages, in the same run, rounds interleaved, medians reported. Then a batched status
//! poll of 1,000 requests: requests used by `get_tickets` against one GET per request.
//! Last, 100,000 requesters imported once by each side, each in its own child process
//! (this program run again with `--import-100k connector|plain`), so each side's peak
//! memory (`VmHWM`) is its own: the mock's 100,000 requesters are in both, and are
//! measured before the import starts.
//!
//! ```sh
//! cargo run --example sdp_bench          # on-premises mock, technician key
//! cargo run --release --example sdp_bench
//! ```

mod bench;

use std::time::Instant;

use accesslink::TicketingSystem;
use accesslink::paging::{Duplicates, PagingOptions, accounts};
use accesslink_sdp::SdpConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::sdp::SdpMock;
use futures::TryStreamExt;

use bench::{median, peak_memory_mib};

const PAGE: u32 = 100;
const ROUNDS: usize = 3;
const PEOPLE: usize = 10_000;

async fn connector(sdp: &SdpConnector) -> usize {
    let options = PagingOptions::new()
        .page_size(PAGE)
        .duplicates(Duplicates::Allow);
    let mut stream = accounts(sdp, options);
    let mut n = 0;
    while stream.try_next().await.expect("import").is_some() {
        n += 1;
    }
    n
}

async fn plain(mock: &SdpMock) -> usize {
    let http = reqwest::Client::new();
    let url = format!("{}/api/v3/requesters", mock.url());
    let (mut start, mut n) = (1u64, 0usize);
    loop {
        let input = format!(r#"{{"list_info":{{"row_count":{PAGE},"start_index":{start}}}}}"#);
        let page: serde_json::Value = http
            .get(&url)
            .header("authtoken", mock.key())
            .header("accept", "application/vnd.manageengine.sdp.v3+json")
            .query(&[("input_data", input)])
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("list json");
        let rows = page["requesters"].as_array().map_or(0, Vec::len);
        n += rows;
        if page["list_info"]["has_more_rows"] != true {
            break;
        }
        start += rows as u64;
    }
    n
}

/// One child run: 100,000 requesters imported once by `side`; prints
/// `<side> <rows> <seconds> <VmHWM before MiB> <VmHWM after MiB>`.
async fn import_100k(side: &str) {
    let mock = SdpMock::start_on_premises().await;
    mock.add_requesters(100_000);
    let sdp = on(&mock);
    let before = peak_memory_mib();
    let t = Instant::now();
    let n = match side {
        "connector" => connector(&sdp).await,
        _ => plain(&mock).await,
    };
    let secs = t.elapsed().as_secs_f64();
    println!("{side} {n} {secs:.3} {before:.1} {:.1}", peak_memory_mib());
}

fn on(mock: &SdpMock) -> SdpConnector {
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    SdpConnector::from_settings(serde_json::from_value(settings).expect("settings"))
        .expect("connector")
}

/// Runs the 100,000-requester import of `side` in a child process; its figures.
fn child(side: &str) -> (usize, f64, f64, f64) {
    let exe = std::env::current_exe().expect("this program");
    let out = std::process::Command::new(exe)
        .args(["--import-100k", side])
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "child {side} failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let f: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(f.len(), 5, "child {side} printed {text:?}");
    (
        f[1].parse().expect("rows"),
        f[2].parse().expect("seconds"),
        f[3].parse().expect("MiB"),
        f[4].parse().expect("MiB"),
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, side] = args.as_slice() {
        if flag == "--import-100k" {
            import_100k(side).await;
            return;
        }
    }
    let mock = SdpMock::start_on_premises().await;
    mock.add_requesters(PEOPLE);
    let sdp = on(&mock);
    let (mut tc, mut tp) = (Vec::new(), Vec::new());
    let mut counts = (0, 0);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        counts.0 = connector(&sdp).await;
        tc.push(t.elapsed());
        let t = Instant::now();
        counts.1 = plain(&mock).await;
        tp.push(t.elapsed());
    }
    assert_eq!(
        counts.0, counts.1,
        "both sides must import the same requesters"
    );
    let (c, p) = (median(tc), median(tp));
    let (rc, rp) = (
        counts.0 as f64 / c.as_secs_f64(),
        counts.1 as f64 / p.as_secs_f64(),
    );
    println!("server:              the in-process SDP on-premises mock ({PEOPLE} requesters)");
    println!("pages of:            {PAGE}, median of {ROUNDS} interleaved rounds");
    println!(
        "connector:           {:>7} requesters, {rc:>9.0}/s ({c:.2?})",
        counts.0
    );
    println!(
        "plain reqwest:       {:>7} requesters, {rp:>9.0}/s ({p:.2?})",
        counts.1
    );
    println!("connector / plain:   {:.2}", rc / rp);

    let numbers: Vec<String> = (0..1000)
        .map(|i| mock.add_request(&format!("poll {i}"), None))
        .collect();
    let refs: Vec<_> = numbers
        .iter()
        .map(|n| sdp.parse_ticket_ref(n).expect("a number"))
        .collect();
    let before = mock.request_count();
    let t = Instant::now();
    let got = sdp.get_tickets(&refs).await.expect("poll");
    let used = mock.request_count() - before;
    println!(
        "status poll:         {} requests in {used} HTTP requests (batch_size 100; one GET each: 1000) in {:.2?}",
        got.len(),
        t.elapsed()
    );
    println!("peak memory (VmHWM): {:.1} MiB", peak_memory_mib());

    let (cn, cs, cb, ca) = child("connector");
    let (pn, ps, pb, pa) = child("plain");
    assert_eq!(cn, 100_000, "the connector imports every requester");
    assert_eq!(pn, 100_000, "the plain loop reads every requester");
    println!("100,000 requesters, one run each in its own process:");
    println!(
        "  connector:         {cs:>6.2} s ({:>7.0}/s), VmHWM {cb:.1} MiB with the mock loaded, {ca:.1} MiB after (+{:.1})",
        cn as f64 / cs,
        ca - cb
    );
    println!(
        "  plain reqwest:     {ps:>6.2} s ({:>7.0}/s), VmHWM {pb:.1} MiB with the mock loaded, {pa:.1} MiB after (+{:.1})",
        pn as f64 / ps,
        pa - pb
    );
    println!("  connector / plain: {:.2} (throughput)", ps / cs);
}
