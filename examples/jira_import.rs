//! Import Jira users, groups and memberships as JSON lines, with a summary.
//!
//! ```sh
//! cargo run --example jira_import                 # in-process Cloud mock, stdout
//! cargo run --example jira_import -- dc out.jsonl # the Data Center mock, to a file
//! ```
//!
//! Each line is one record: `{"type":"account",…}`, `{"type":"entitlement",…}` or
//! `{"type":"grant",…}`. On Cloud only `atlassian` accounts are imported (the default
//! `account_types`); app and customer accounts are counted as skipped, and accounts whose
//! e-mail is hidden are kept without one. The summary goes to stderr.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use accesslink::EntitlementType;
use accesslink::paging::{PagingOptions, accounts, entitlements, grants};
use accesslink_jira::JiraConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::jira::{JiraMock, Mode};
use futures::TryStreamExt;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dc = args.first().is_some_and(|a| a == "dc");
    let out_path = args.iter().find(|a| *a != "dc");
    let mut out: Box<dyn Write> = match out_path {
        Some(p) => Box::new(BufWriter::new(File::create(p)?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mode = if dc { Mode::DataCenter } else { Mode::Cloud };
    let mock = JiraMock::builder().mode(mode).users(2_000).start().await;
    // Groups with members, as a site has them.
    let ids = mock.user_ids();
    for (g, name) in ["jira-software-users", "jira-admins", "payroll"]
        .iter()
        .enumerate()
    {
        let group = mock.add_group(name);
        for id in ids.iter().skip(g).step_by(3 + g * 40) {
            mock.add_member(&group, id);
        }
    }
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let jira = JiraConnector::from_settings(serde_json::from_value(settings)?)?;
    let started = Instant::now();

    let options = PagingOptions::new().page_size(500);
    let mut stream = accounts(&jira, options.clone());
    let (mut n_accounts, mut hidden) = (0u64, 0u64);
    while let Some(a) = stream.try_next().await? {
        n_accounts += 1;
        hidden += u64::from(a.email.is_none());
        let line = json!({"type": "account", "id": a.id, "login": a.login, "name": a.display_name,
            "email": a.email, "enabled": a.enabled});
        writeln!(out, "{line}")?;
    }
    let account_pages = stream.report().pages;
    let group = EntitlementType::group();
    let ents: Vec<_> = entitlements(&jira, &group, PagingOptions::new())
        .try_collect()
        .await?;
    for e in &ents {
        writeln!(
            out,
            "{}",
            json!({"type": "entitlement", "id": e.reference.id, "name": e.name})
        )?;
    }
    let gs: Vec<_> = grants(&jira, &group, PagingOptions::new())
        .try_collect()
        .await?;
    for g in &gs {
        writeln!(
            out,
            "{}",
            json!({"type": "grant", "account": g.account, "group": g.entitlement.id})
        )?;
    }
    out.flush()?;
    eprintln!(
        "{} accounts ({hidden} without a visible e-mail) in {account_pages} pages, {} groups, {} memberships; \
         {} of {} users on the site are other account types; {} requests in {:.0} ms ({})",
        n_accounts,
        ents.len(),
        gs.len(),
        mock.user_count() as u64 - n_accounts,
        mock.user_count(),
        mock.request_count(),
        started.elapsed().as_secs_f64() * 1000.0,
        if dc { "Data Center" } else { "Cloud" },
    );
    Ok(())
}
