//! `mock serve`: the testkit's mock servers standalone.
//!
//! [`MOCKS`] is the one table of targets: a new target's mock is one row. Everything else
//! goes through the testkit's `Mock` trait (URL, settings JSON, request log).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;

use accesslink::testkit::Mock;
use accesslink::testkit::glpi::GlpiMock;
use accesslink::testkit::helix::HelixMock;
use accesslink::testkit::jira::JiraMock;
use accesslink::testkit::opsgenie::OpsGenieMock;
use accesslink::testkit::opsramp::OpsRampMock;
use accesslink::testkit::otrs::OtrsMock;
use accesslink::testkit::salesforce::SalesforceMock;
use accesslink::testkit::sdp::SdpMock;
use accesslink::testkit::servicenow::ServiceNowMock;
use accesslink::testkit::topdesk::TopdeskMock;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::cli::{MockCommand, MockServeArgs};
use crate::output::{CliError, Out};

/// What `mock serve` may ask of a mock at start.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MockOptions {
    /// Generated users, for mocks that generate them.
    pub(crate) users: Option<usize>,
}

type Started = Pin<Box<dyn Future<Output = Box<dyn Mock>> + Send>>;

/// One row per target: its name, whether it generates users, and how to start it.
struct MockRow {
    target: &'static str,
    generates_users: bool,
    start: fn(MockOptions) -> Started,
}

/// Every mock `mock serve` can start. A new target is one row here.
const MOCKS: &[MockRow] = &[
    MockRow {
        target: "otrs",
        generates_users: false,
        start: |_| Box::pin(async { Box::new(OtrsMock::start().await) as Box<dyn Mock> }),
    },
    MockRow {
        target: "glpi",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = GlpiMock::builder();
                if let Some(n) = o.users {
                    b = b.generated_users(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "servicenow",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = ServiceNowMock::builder();
                if let Some(n) = o.users {
                    b = b.synthetic_users(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "opsramp",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = OpsRampMock::builder();
                if let Some(n) = o.users {
                    b = b.generated_users(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "opsgenie",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = OpsGenieMock::builder();
                if let Some(n) = o.users {
                    b = b.generated_users(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "topdesk",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = TopdeskMock::builder();
                if let Some(n) = o.users {
                    b = b.generated_persons(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "jira",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = JiraMock::builder();
                if let Some(n) = o.users {
                    b = b.users(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "salesforce",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = SalesforceMock::builder();
                if let Some(n) = o.users {
                    b = b.users(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "helix",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mut b = HelixMock::builder();
                if let Some(n) = o.users {
                    b = b.generated_people(n);
                }
                Box::new(b.start().await) as Box<dyn Mock>
            })
        },
    },
    MockRow {
        target: "sdp",
        generates_users: true,
        start: |o| {
            Box::pin(async move {
                let mock = SdpMock::start_on_premises().await;
                if let Some(n) = o.users {
                    mock.add_requesters(n);
                }
                Box::new(mock) as Box<dyn Mock>
            })
        },
    },
];

pub(crate) async fn run(cmd: MockCommand, out: Out) -> Result<ExitCode, CliError> {
    match cmd {
        MockCommand::List => {
            let names: Vec<&str> = MOCKS.iter().map(|m| m.target).collect();
            out.emit(names.join("\n"), &json!({ "targets": names }));
            Ok(ExitCode::SUCCESS)
        }
        MockCommand::Serve(args) => serve(args, out).await,
    }
}

/// A started mock and the URL clients use (the forwarded port when `--port` was given).
struct Serving {
    mock: Box<dyn Mock>,
    settings: Value,
    /// Requests sent while seeding, left out of the count printed at the end.
    seeded: usize,
    /// The tickets opened by `--tickets`.
    tickets: Vec<String>,
}

async fn serve(args: MockServeArgs, out: Out) -> Result<ExitCode, CliError> {
    let rows: Vec<&MockRow> = if args.all {
        MOCKS.iter().collect()
    } else {
        let wanted = args
            .target
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let row = MOCKS.iter().find(|m| m.target == wanted).ok_or_else(|| {
            let names: Vec<&str> = MOCKS.iter().map(|m| m.target).collect();
            CliError::usage(format!(
                "no mock for target `{wanted}` (targets: {})",
                names.join(", ")
            ))
        })?;
        vec![row]
    };
    let options = MockOptions { users: args.users };
    let mut serving = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if args.users.is_some() && !row.generates_users {
            tracing::warn!(target: "accesslink", "the {} mock does not generate users; --users ignored", row.target);
        }
        let mock = (row.start)(options).await;
        let tickets = match args.tickets {
            Some(n) => seed_tickets(mock.as_ref(), n).await?,
            None => Vec::new(),
        };
        if let Some(spec) = &args.faults {
            apply_faults(mock.as_ref(), spec)?;
        }
        let mut settings = mock.settings();
        if let Some(base) = args.port {
            let port = base
                .checked_add(i as u16)
                .ok_or_else(|| CliError::usage(format!("port {base} + {i} is out of range")))?;
            let upstream = origin(&mock.url())?;
            forward(port, upstream.1).await?;
            // Every URL in the settings (base URL, token URL) moves to the chosen port.
            let from = format!("http://{}", upstream.0);
            let to = format!("http://127.0.0.1:{port}");
            replace_strings(&mut settings, &from, &to);
        }
        let seeded = mock.request_count();
        serving.push(Serving {
            mock,
            settings,
            seeded,
            tickets,
        });
    }

    let snippet = config_snippet(&serving);
    if let Some(path) = &args.write_config {
        std::fs::write(path, &snippet)
            .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    }
    if out.json() {
        let mocks: Vec<Value> = serving
            .iter()
            .map(|s| {
                json!({
                    "target": s.mock.target(),
                    "url": s.settings["base_url"],
                    "settings": s.settings,
                    "tickets": s.tickets,
                })
            })
            .collect();
        println!("{}", json!({ "mocks": mocks, "config_toml": snippet }));
    } else {
        for s in &serving {
            println!(
                "{} mock at {}",
                s.mock.target(),
                s.settings["base_url"].as_str().unwrap_or("?")
            );
            println!("  credentials: {}", s.settings["auth"]);
            if !s.tickets.is_empty() {
                println!("  tickets: {}", s.tickets.join(", "));
            }
        }
        println!("\n# accesslink.toml (test credentials of the mock, not secrets)\n{snippet}");
        eprintln!("serving; Ctrl-C or SIGTERM stops");
    }

    wait_for_stop().await;
    for s in &serving {
        let log = s.mock.request_log();
        let log = log.get(s.seeded..).unwrap_or_default();
        let writes = log.iter().filter(|r| r.method != "GET").count();
        eprintln!(
            "{}: {} request(s) served, {} not GET",
            s.mock.target(),
            log.len(),
            writes
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens `n` tickets through the target's connector, built from the mock's own settings.
async fn seed_tickets(mock: &dyn Mock, n: usize) -> Result<Vec<String>, CliError> {
    use accesslink::{ConnectorConfig, CorrelationId, NewTicket, TicketKind};
    let config = ConnectorConfig::from_json(mock.settings())?;
    let conn = accesslink::connect(&config)?;
    let tickets = conn.ticketing().ok_or_else(|| {
        CliError::usage(format!(
            "the {} mock has no tickets; --tickets needs one that does",
            mock.target()
        ))
    })?;
    let kind = conn
        .info()
        .ticket_kinds
        .first()
        .cloned()
        .unwrap_or(TicketKind::Incident);
    let mut opened = Vec::with_capacity(n);
    for i in 1..=n {
        let new = NewTicket::new(
            kind.clone(),
            format!("Seeded ticket {i}"),
            "Opened by accesslink mock serve --tickets.",
            CorrelationId::new(format!("MOCK-SEED-{i}")),
        );
        let ticket = tickets.create_ticket(&new).await?;
        opened.push(
            ticket
                .reference
                .number()
                .or(ticket.reference.id())
                .unwrap_or_default()
                .to_owned(),
        );
    }
    Ok(opened)
}

/// Queues the faults of a `--faults` spec on the mock's fault plan.
fn apply_faults(mock: &dyn Mock, spec: &str) -> Result<(), CliError> {
    let plan = mock.faults();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (what, times) = match part.rsplit_once('x') {
            Some((w, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (w, n.parse().unwrap_or(1))
            }
            _ => (part, 1),
        };
        let bad = || {
            CliError::usage(format!(
                "--faults: `{part}` is not one of 503, 429, html, malformed, truncated, empty, delay=2s (each optionally xN)"
            ))
        };
        match what {
            "html" => plan.html_next(times),
            "malformed" => plan.malformed_next(times),
            "truncated" => plan.truncated_next(times),
            "empty" => plan.empty_next(times),
            "429" => plan.throttle_next(times, None),
            other => {
                if let Some(d) = other.strip_prefix("delay=") {
                    let secs: f64 = d.trim_end_matches('s').parse().map_err(|_| bad())?;
                    if !(0.0..=600.0).contains(&secs) {
                        return Err(bad());
                    }
                    plan.delay_next(times, std::time::Duration::from_secs_f64(secs))
                } else {
                    let status: u16 = other.parse().map_err(|_| bad())?;
                    if !(400..=599).contains(&status) {
                        return Err(bad());
                    }
                    plan.fail_next(times, status)
                }
            }
        };
    }
    Ok(())
}

/// Waits for Ctrl-C or, on Unix, SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A TOML file with one `[instances.<target>-mock]` table per mock.
fn config_snippet(serving: &[Serving]) -> String {
    let mut instances = toml::Table::new();
    for s in serving {
        let mut settings = s.settings.clone();
        let name = settings["name"]
            .as_str()
            .map_or_else(|| format!("{}-mock", s.mock.target()), str::to_owned);
        if let Value::Object(map) = &mut settings {
            map.remove("name");
            map.insert("target".into(), Value::String(s.mock.target().into()));
        }
        match serde_json::from_value::<toml::Table>(settings) {
            Ok(table) => {
                instances.insert(name, toml::Value::Table(table));
            }
            Err(e) => tracing::warn!("{}: settings not expressible in TOML: {e}", s.mock.target()),
        }
    }
    let mut root = toml::Table::new();
    root.insert("instances".into(), toml::Value::Table(instances));
    toml::to_string(&root).unwrap_or_default()
}

/// The `host:port` of a URL and its socket address.
fn origin(url: &str) -> Result<(String, SocketAddr), CliError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| CliError::failed("mock", format!("mock URL {url}: {e}")))?;
    let addrs = parsed
        .socket_addrs(|| None)
        .map_err(|e| CliError::failed("mock", format!("mock URL {url}: {e}")))?;
    let addr = addrs
        .first()
        .copied()
        .ok_or_else(|| CliError::failed("mock", format!("mock URL {url} has no address")))?;
    let host = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port_or_known_default().unwrap_or(80)
    );
    Ok((host, addr))
}

/// Listens on the loopback `port` and forwards every connection to `upstream`: the
/// testkit mocks bind a free port of their own, and this gives them the one asked for.
async fn forward(port: u16, upstream: SocketAddr) -> Result<(), CliError> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| CliError::usage(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            };
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                    // Without these, Nagle and delayed ACKs add ~40 ms to every exchange.
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok(())
}

/// Replaces `from` by `to` at the start of every string in `v`.
fn replace_strings(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix(from) {
                *s = format!("{to}{rest}");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| replace_strings(i, from, to)),
        Value::Object(map) => map.values_mut().for_each(|i| replace_strings(i, from, to)),
        _ => {}
    }
}
