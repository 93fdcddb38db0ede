//! Field mapping: templates, native fields, configuration-time errors.

use accesslink_core::{CorrelationId, EntitlementRef, EntitlementType, Person, TicketKind};
use accesslink_workflow::fulfil::{AccessRequest, Operation, TemplateError, TicketTemplate};
use serde_json::json;

fn request() -> AccessRequest {
    AccessRequest::new(
        "REQ-9",
        Operation::Grant,
        "CRM",
        Person {
            login: Some("jdoe".into()),
            email: Some("jdoe@example.com".into()),
            name: Some("Jane Doe".into()),
            id: None,
        },
    )
    .requester(Person::login("boss"))
    .account("u-123")
    .entitlement(EntitlementRef::new(EntitlementType::role(), "sales-admin"))
    .justification("quarter close")
    .attribute("cost_center", 4711)
    .attribute("department", "Sales")
}

#[test]
fn every_placeholder_renders() {
    let t = TicketTemplate::builder(TicketKind::RequestItem)
        .title("{operation} {entitlement.id} on {target} for {beneficiary.name}")
        .description(
            "{request_id}|{requester}|{beneficiary}|{beneficiary.email}|{account}|{entitlement}|{entitlement.type}|{justification}|{attr.department}|{attr.cost_center}|{attr.none|-}",
        )
        .priority("{attr.priority|3}")
        .build()
        .unwrap();
    let new = t.render(&request());
    assert_eq!(new.kind, TicketKind::RequestItem);
    assert_eq!(new.title, "grant sales-admin on CRM for Jane Doe");
    assert_eq!(
        new.description,
        "REQ-9|boss|jdoe|jdoe@example.com|u-123|role sales-admin|role|quarter close|Sales|4711|-"
    );
    assert_eq!(new.priority.as_deref(), Some("3"));
    assert_eq!(new.correlation_id, CorrelationId::new("REQ-9"));
    assert_eq!(new.requester, Some(Person::login("boss")));
}

#[test]
fn default_template_mentions_the_request() {
    let new = TicketTemplate::builder(TicketKind::Request)
        .build()
        .unwrap()
        .render(&request());
    assert_eq!(
        new.title,
        "Access request REQ-9: grant role sales-admin on CRM for jdoe"
    );
    assert!(
        new.description.contains("Justification: quarter close\n"),
        "{}",
        new.description
    );
}

#[test]
fn native_fields_come_from_attributes_templates_and_constants() {
    let t = TicketTemplate::builder(TicketKind::Request)
        .extra_from_attribute("u_cost_center", "cost_center")
        .extra_from_attribute("u_missing", "nope")
        .extra_template("DynamicField_App", "{target}/{operation}")
        .extra_value("u_source", json!({ "system": "iam" }))
        .set_requester(false)
        .build()
        .unwrap();
    let new = t.render(&request());
    assert_eq!(new.extra["u_cost_center"], json!(4711), "JSON type kept");
    assert!(!new.extra.contains_key("u_missing"));
    assert_eq!(new.extra["DynamicField_App"], "CRM/grant");
    assert_eq!(new.extra["u_source"], json!({ "system": "iam" }));
    assert_eq!(new.requester, None);
}

#[test]
fn unknown_placeholders_fail_at_configuration_time() {
    let err = TicketTemplate::builder(TicketKind::Request)
        .title("{operaton}")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        TemplateError::UnknownPlaceholder {
            field: "title".into(),
            name: "operaton".into()
        }
    );
    assert_eq!(err.to_string(), "title: unknown placeholder `{operaton}`");
    let err = TicketTemplate::builder(TicketKind::Request)
        .extra_template("u_x", "{attr.a} {benefactor}")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, TemplateError::UnknownPlaceholder { ref field, .. } if field == "extra.u_x")
    );
    assert_eq!(
        TicketTemplate::builder(TicketKind::Request)
            .title("  ")
            .build()
            .unwrap_err(),
        TemplateError::BlankTitle
    );
}

#[test]
fn templates_load_from_configuration_and_round_trip() {
    let config = json!({
        "kind": "change",
        "title": "{operation} on {target}",
        "priority": "{attr.priority|4}",
        "extra": {
            "u_cost_center": { "attribute": "cost_center" },
            "u_app": { "template": "{target}" },
            "u_source": { "value": "accesslink" }
        }
    });
    let t: TicketTemplate = serde_json::from_value(config).unwrap();
    assert_eq!(t.kind(), &TicketKind::Change);
    let new = t.render(&request());
    assert_eq!(new.title, "grant on CRM");
    assert_eq!(new.extra["u_app"], "CRM");
    let back: TicketTemplate = serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
    assert_eq!(back, t);

    let bad =
        serde_json::from_value::<TicketTemplate>(json!({ "kind": "request", "title": "{nope}" }));
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("unknown placeholder `{nope}`")
    );
    let typo = serde_json::from_value::<TicketTemplate>(json!({ "kind": "request", "titel": "x" }));
    assert!(
        typo.unwrap_err()
            .to_string()
            .contains("unknown field `titel`")
    );
}
