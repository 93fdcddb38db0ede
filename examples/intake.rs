//! Intake end to end against the in-process mocks: request tickets raised on OTRS
//! become GLPI group memberships, with a segregation-of-duties rule, comments synced
//! both ways, and each step printed.
//!
//! ```sh
//! cargo run --example intake
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use accesslink::paging::{PagingOptions, entitlements};
use accesslink::{
    CorrelationId, EntitlementType, NewTicket, TicketKind, TicketingSystem, Visibility,
};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use accesslink_otrs::{Correlation, OtrsConfig, OtrsConnector, TicketDefaults};
use accesslink_testkit::glpi::{GlpiMock, Itemtype};
use accesslink_testkit::otrs::OtrsMock;
use accesslink_workflow::MemorySink;
use accesslink_workflow::intake::{InboundComment, Intake, IntakeConfig, MemoryCursorStore};
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The service desk (OTRS) and the application's directory (GLPI), in process.
    let desk_mock = OtrsMock::start().await;
    let dir_mock = GlpiMock::start().await;
    for name in ["crm-reports", "crm-payments-create", "crm-payments-approve"] {
        dir_mock.create(Itemtype::Group, &json!({ "name": name, "is_recursive": 1 }))?;
    }
    let carol = dir_mock.create(Itemtype::User, &json!({ "name": "carol" }))?;
    println!("GLPI: groups crm-reports, crm-payments-create, crm-payments-approve; carol exists");

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

    // The administrator's configuration; the field map's lookup and the SoD rule name
    // GLPI groups, which the provisioner knows by id: resolve them once.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/intake.toml");
    let mut config = IntakeConfig::load(path)?;
    let group = EntitlementType::group();
    let ids: HashMap<String, String> = entitlements(glpi.as_ref(), &group, PagingOptions::new())
        .map_ok(|e| (e.name, e.reference.id.as_str().to_owned()))
        .try_collect()
        .await?;
    let id_of = |name: &String| ids.get(name).cloned().unwrap_or_else(|| name.clone());
    for value in config.field_map.entitlement.lookup.values_mut() {
        *value = id_of(value);
    }
    for rule in &mut config.sod {
        rule.entitlements = rule.entitlements.iter().map(id_of).collect();
    }
    println!("config: {path} loaded; GLPI group ids {ids:?}");
    let carol_holds = id_of(&"crm-payments-create".to_owned());
    dir_mock.create(
        Itemtype::GroupUser,
        &json!({ "users_id": carol, "groups_id": carol_holds.parse::<i64>()? }),
    )?;
    println!("GLPI: carol is in crm-payments-create");

    let audit = Arc::new(MemorySink::new());
    let (tx, mut inbound) = tokio::sync::mpsc::unbounded_channel::<InboundComment>();
    let intake = Intake::builder(config)
        .desk("otrs", otrs.clone())
        .provisioner("CRM", glpi.clone())
        .store(Arc::new(MemoryCursorStore::new()))
        .audit(audit.clone())
        .comments(Arc::new(tx))
        .build()?;

    // People raise requests in the service desk.
    let mut raised = Vec::new();
    for (i, title) in [
        "Access to reports for alice",
        "Access to payments approve for carol",
        "Access to payrol for dave",
    ]
    .into_iter()
    .enumerate()
    {
        let new = NewTicket::new(
            TicketKind::Request,
            title,
            "Needed for the quarter close.",
            CorrelationId::new(format!("portal-{i}")),
        );
        let t = otrs.create_ticket(&new).await?;
        println!("OTRS: ticket {} raised: {title:?}", t.reference);
        raised.push(t);
    }

    println!("\n-- poll 1");
    let report = intake.poll_once().await;
    for t in report.tickets() {
        println!("{} ({}): {}", t.ticket, t.request_id, t.status);
    }
    for t in &raised {
        let now = otrs.get_ticket(&t.reference).await?.ok_or("ticket gone")?;
        println!("OTRS: ticket {} is {:?}", t.reference, now.status.raw);
        for c in otrs.list_comments(&t.reference).await? {
            println!(
                "   comment {} ({:?}): {}",
                c.id,
                c.visibility,
                c.body.replace('\n', " | ")
            );
        }
    }
    println!(
        "GLPI: {} account(s) created, {} membership(s) added",
        dir_mock.count("createItems:User"),
        dir_mock.count("createItems:Group_User")
    );

    // carol answers in the customer interface; the identity product answers back.
    let carol_ticket = &raised[1].reference;
    desk_mock.customer_follow_up(
        carol_ticket.id().ok_or("id")?.parse()?,
        "I will hand pay-create back.",
    );
    intake
        .post_comment(
            "otrs",
            carol_ticket,
            "Your manager was asked to review.",
            Visibility::Public,
        )
        .await?;

    println!("\n-- poll 2");
    let report = intake.poll_once().await;
    println!(
        "{} changed ticket(s), {} comment(s) delivered",
        report.sources[0].changed, report.sources[0].comments_delivered
    );
    while let Ok(c) = inbound.try_recv() {
        println!(
            "delivered to the identity product: {} on {}: {:?}",
            c.comment.id,
            c.ticket,
            c.comment.body.trim()
        );
    }

    println!("\n-- poll 3 (nothing changed)");
    let report = intake.poll_once().await;
    println!("{} ticket(s) processed", report.tickets().count());

    println!("\naudit trail:");
    for e in audit.events() {
        println!(
            "  {} {} {} {}",
            e.action.as_str(),
            e.outcome.as_str(),
            e.ticket
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            serde_json::Value::Object(e.detail.clone())
        );
    }
    Ok(())
}
