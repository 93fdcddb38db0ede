//! Joiner, mover, leaver on Salesforce: a user created with the org's required defaults
//! (profile, locale, time zone, a derived alias), permission sets and a public group
//! granted (granting twice is `AlreadyGranted`), a move to another permission set, and
//! deactivation when they leave (Salesforce users cannot be deleted).
//!
//! It starts the Salesforce mock in-process (client credentials):
//!
//! ```sh
//! cargo run --example salesforce_provision
//! ```

use accesslink::{AccountSpec, EntitlementRef, EntitlementType, Provisioner};
use accesslink_salesforce::SalesforceConnector;
use accesslink_testkit::Mock;
use accesslink_testkit::salesforce::SalesforceMock;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = SalesforceMock::builder().users(5).start().await;
    let mut settings = mock.settings();
    settings
        .as_object_mut()
        .expect("an object")
        .remove("target");
    let sf = SalesforceConnector::from_settings(serde_json::from_value(settings)?)?;
    let ps = |name: &str| {
        EntitlementRef::new(
            EntitlementType::new("permission_set"),
            mock.id_by_name("PermissionSet", name).expect("seeded"),
        )
    };
    let payroll = ps("Payroll_Admin");
    let reports = ps("Reports_Viewer");
    let team = EntitlementRef::new(
        EntitlementType::group(),
        mock.id_by_name("Group", "Payroll Team").expect("seeded"),
    );

    // Joiner.
    let spec = AccountSpec::new("jane.doe@acme.example").name("Jane", "Doe");
    let created = sf.create_account(&spec).await?;
    let id = created.account().id.clone();
    println!("joiner: {} ({id})", created.account().login);
    for e in [&payroll, &team] {
        println!("  grant {} {}: {:?}", e.ty, e.id, sf.grant(&id, e).await?);
    }
    println!("  grant again: {:?}", sf.grant(&id, &payroll).await?);
    println!(
        "  create again: {}",
        if matches!(
            sf.create_account(&spec).await?,
            accesslink::CreateOutcome::AlreadyExists(_)
        ) {
            "already exists"
        } else {
            "created twice!"
        }
    );

    // Mover: payroll → reports.
    println!("mover:");
    println!("  revoke payroll: {:?}", sf.revoke(&id, &payroll).await?);
    println!("  grant reports: {:?}", sf.grant(&id, &reports).await?);

    // Leaver: memberships removed, the user deactivated (delete is unsupported).
    println!("leaver:");
    for e in [&reports, &team] {
        println!("  revoke {}: {:?}", e.id, sf.revoke(&id, e).await?);
    }
    sf.set_enabled(&id, false).await?;
    let after = sf.get_account(&id).await?.expect("still there");
    println!("  enabled: {:?}", after.enabled);
    match sf.delete_account(&id).await {
        Err(e) => println!("  delete: {e}"),
        Ok(()) => println!("  delete: unexpectedly succeeded"),
    }
    println!("\n{} requests to Salesforce", mock.request_count());
    Ok(())
}
