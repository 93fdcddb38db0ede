//! Import OpsRamp users, roles, user groups and grants as JSON lines, with a summary.
//!
//! ```sh
//! cargo run --example opsramp_import                       # in-process mock, 2,500 users, stdout
//! cargo run --example opsramp_import -- out.jsonl          # the same, to a file
//! OPSRAMP_BASE_URL=https://api.opsramp.com OPSRAMP_TENANT=client_7 \
//! OPSRAMP_KEY=… OPSRAMP_SECRET=… OPSRAMP_TOKEN_PATH=tenancy \
//!   cargo run --example opsramp_import -- out.jsonl        # a real tenant
//! ```
//!
//! Each line is one record: `{"type":"account",…}`, `{"type":"entitlement",…}` or
//! `{"type":"grant",…}`. The summary goes to stderr. With a real tenant the client keeps
//! the documented client-scope rate limit (50 search pages a minute), so pages of 500
//! are used.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use accesslink::SecretSource;
use accesslink::paging::{PagingOptions, accounts, entitlements, grants};
use accesslink::{EntitlementType, Provisioner};
use accesslink_opsramp::{OpsRampConnector, OpsRampSettings, TokenPath};
use accesslink_testkit::opsramp::{OpsRampMock, RateLimits};
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::json;

const PAGE: u32 = 500;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_path = std::env::args().nth(1);
    let mut out: Box<dyn Write> = match &out_path {
        Some(p) => Box::new(BufWriter::new(File::create(p)?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };

    // A real tenant when OPSRAMP_BASE_URL is set, the in-process mock otherwise.
    // Both go through `from_settings`, as a settings file would; the client keeps the
    // documented client-scope limit (`tenant_limits = "client"`, the default).
    let mut mock = None;
    let mut settings = match env("OPSRAMP_BASE_URL") {
        Some(base) => {
            let mut s = OpsRampSettings::new(
                base.parse()?,
                env("OPSRAMP_TENANT").ok_or("OPSRAMP_TENANT is not set")?,
                env("OPSRAMP_KEY").ok_or("OPSRAMP_KEY is not set")?,
                // Read (and checked) by from_settings, never printed.
                SecretSource::env("OPSRAMP_SECRET"),
            );
            s.token_path = match env("OPSRAMP_TOKEN_PATH").as_deref() {
                Some("tenancy") => TokenPath::Tenancy,
                Some("auth") | None => TokenPath::Auth,
                Some(other) => TokenPath::Custom(other.to_owned()),
            };
            s
        }
        None => {
            // The mock enforces the documented limits too; 5 pages of 500 fit in a
            // minute, so the client-side limiter never makes this example wait long.
            let m = OpsRampMock::builder()
                .generated_users(2_500)
                .rate_limits(RateLimits::client())
                .start()
                .await;
            let s = OpsRampSettings::new(
                m.url().parse()?,
                m.tenant(),
                m.client_id(),
                SecretString::from(m.client_secret()),
            );
            mock = Some(m);
            s
        }
    };
    settings.name = "opsramp-import".into();
    settings.page_size = PAGE;
    let opsramp = OpsRampConnector::from_settings(settings)?;
    let started = Instant::now();

    let mut stream = accounts(&opsramp, PagingOptions::new().page_size(PAGE));
    let (mut active, mut inactive) = (0u64, 0u64);
    while let Some(a) = stream.try_next().await? {
        match a.enabled {
            Some(true) => active += 1,
            Some(false) => inactive += 1,
            None => {}
        }
        let line = json!({
            "type": "account", "id": a.id, "login": a.login, "name": a.display_name,
            "email": a.email, "enabled": a.enabled,
            "organization": a.attributes.get("organizationName"),
        });
        writeln!(out, "{line}")?;
    }
    let account_report = stream.report();

    let mut summary = Vec::new();
    for ty in opsramp.entitlement_types() {
        let list: Vec<_> = entitlements(&opsramp, ty, PagingOptions::new().page_size(PAGE))
            .try_collect()
            .await?;
        for e in &list {
            let line = json!({
                "type": "entitlement", "kind": ty, "id": e.reference.id,
                "name": e.name, "description": e.description,
            });
            writeln!(out, "{line}")?;
        }
        let held: Vec<_> = grants(&opsramp, ty, PagingOptions::new().page_size(PAGE))
            .try_collect()
            .await?;
        for g in &held {
            let line = json!({
                "type": "grant", "kind": ty, "account": g.account, "entitlement": g.entitlement.id,
            });
            writeln!(out, "{line}")?;
        }
        summary.push((ty.clone(), list.len(), held.len()));
    }
    out.flush()?;

    let elapsed = started.elapsed();
    eprintln!("OpsRamp import of tenant {}", opsramp.client().tenant());
    eprintln!(
        "  accounts: {} ({active} active, {inactive} inactive) in {} pages; reported total {:?}",
        account_report.items, account_report.pages, account_report.reported_total
    );
    for (ty, n, g) in &summary {
        let ty: &EntitlementType = ty;
        eprintln!("  {ty}s: {n} entitlements, {g} grants");
    }
    eprintln!("  elapsed: {:.2} s", elapsed.as_secs_f64());
    if let Some(m) = &mock {
        eprintln!(
            "  mock: {} token request(s), {} request(s) in all, {} throttled",
            m.token_requests(),
            m.counter().total(),
            m.throttled()
        );
    }
    if let Some(p) = out_path {
        eprintln!("  written to {p}");
    }
    Ok(())
}
