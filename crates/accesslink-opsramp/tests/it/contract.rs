//! The contract: every request the connector sends and every answer the mock gives,
//! checked against JSON Schemas written from OpsRamp's OpenAPI files
//! (`tests/contract/*.json`, each with a `$comment` naming its source file and commit).
//!
//! Each schema file lists its operations under `x-operations` (method, path template
//! as the spec writes it, optional path-parameter schemas, and pointers to the query,
//! request and response schemas). A test records the mock's exchanges, drives the
//! connector through its operations, and then checks each exchange: it must match an
//! operation by method and path, and its query, body and answer must validate. A 2xx
//! answer is checked against the operation's response, any other against its error
//! shape. Every operation the connector uses must have been seen.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use accesslink_core::{
    AccountChange, AccountSpec, Comment, CorrelationId, CreateOutcome, EntitlementType, ErrorKind,
    GrantOutcome, NewTicket, PageRequest, Provisioner, Resolution, RevokeOutcome, TicketKind,
    TicketingSystem,
};
use accesslink_opsramp::api::SearchParams;
use accesslink_opsramp::models::NamedBody;
use accesslink_opsramp::requests::{GroupBody, RoleUpdate, RoleUser};
use accesslink_opsramp::{OpsRampConnector, TokenPath};
use accesslink_testkit::fault::{Fault, FaultMatcher};
use accesslink_testkit::opsramp::{Exchange, OpsRampMock};
use jsonschema::Validator;
use serde_json::{Map, Value, json};

use crate::{client, connector, mock, on};

/// The schema files, by name.
const FILES: [(&str, &str); 3] = [
    ("auth", include_str!("../contract/auth.json")),
    (
        "tenancy-access-controls",
        include_str!("../contract/tenancy-access-controls.json"),
    ),
    ("tickets", include_str!("../contract/tickets.json")),
];

/// One operation of a schema file.
#[derive(Debug)]
struct Operation {
    file: usize,
    method: String,
    /// The path template, split on `/`.
    template: Vec<String>,
    params: Map<String, Value>,
    query: Option<String>,
    request: Option<String>,
    request_form: Option<String>,
    response: String,
    error: String,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.template.join("/"))
    }

    /// The path parameters when `path` fits the template.
    fn matches(&self, method: &str, path: &[&str]) -> Option<Vec<(String, String)>> {
        if method != self.method || path.len() != self.template.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, p) in self.template.iter().zip(path) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) => params.push((name.to_owned(), (*p).to_owned())),
                None if t == p => {}
                None => return None,
            }
        }
        Some(params)
    }

    fn literals(&self) -> usize {
        self.template.iter().filter(|t| !t.starts_with('{')).count()
    }
}

/// The schema files with compiled validators, cached by (file, pointer).
struct Contract {
    docs: Vec<Value>,
    ops: Vec<Operation>,
    cache: Mutex<HashMap<(usize, String), std::sync::Arc<Validator>>>,
}

impl Contract {
    fn load() -> Contract {
        let mut docs = Vec::new();
        let mut ops = Vec::new();
        for (i, (name, text)) in FILES.iter().enumerate() {
            let doc: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let comment = doc["$comment"].as_str().unwrap_or("");
            assert!(
                comment.contains("8f65538") && comment.contains(".yaml"),
                "{name}: the header must name the spec file and commit"
            );
            let ptr = |v: &Value| v.as_str().map(str::to_owned);
            for op in doc["x-operations"].as_array().expect("x-operations") {
                ops.push(Operation {
                    file: i,
                    method: op["method"].as_str().expect("method").to_owned(),
                    template: op["path"]
                        .as_str()
                        .expect("path")
                        .split('/')
                        .map(str::to_owned)
                        .collect(),
                    params: op["params"].as_object().cloned().unwrap_or_default(),
                    query: ptr(&op["query"]),
                    request: ptr(&op["request"]),
                    request_form: ptr(&op["requestForm"]),
                    response: ptr(&op["response"]).expect("response"),
                    error: ptr(&op["error"]).unwrap_or_else(|| "#/$defs/error".to_owned()),
                });
            }
            docs.push(doc);
        }
        let contract = Contract {
            docs,
            ops,
            cache: Mutex::new(HashMap::new()),
        };
        // Every pointer must resolve: a typo would otherwise validate nothing.
        for op in &contract.ops {
            for p in [&op.query, &op.request, &op.request_form]
                .into_iter()
                .flatten()
                .chain([&op.response, &op.error])
            {
                contract.validator(op.file, p);
            }
        }
        contract
    }

    /// A validator for `pointer` (`#/$defs/x`) inside file `file`: the whole file with a
    /// root `$ref`, so the definitions' own `$ref`s resolve. Formats are asserted.
    fn validator(&self, file: usize, pointer: &str) -> std::sync::Arc<Validator> {
        let key = (file, pointer.to_owned());
        if let Some(v) = self.cache.lock().unwrap().get(&key) {
            return v.clone();
        }
        let mut root = self.docs[file].clone();
        let target = root
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{}: no {pointer}", FILES[file].0));
        assert!(target.is_object(), "{pointer} is not a schema");
        root["$ref"] = json!(pointer);
        let v = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{} {pointer}: {e}", FILES[file].0));
        let v = std::sync::Arc::new(v);
        self.cache.lock().unwrap().insert(key, v.clone());
        v
    }

    /// The problems of `instance` against `pointer`, one line each.
    fn problems(&self, file: usize, pointer: &str, instance: &Value) -> Vec<String> {
        self.validator(file, pointer)
            .iter_errors(instance)
            .map(|e| format!("{pointer} at '{}': {e}", e.instance_path()))
            .collect()
    }

    /// The operation a request is for: the matching template with the most literal
    /// segments (`users/search` before `users/{userId}`).
    fn operation(&self, method: &str, path: &str) -> Option<(&Operation, Vec<(String, String)>)> {
        let parts: Vec<&str> = path.split('/').collect();
        self.ops
            .iter()
            .filter_map(|op| op.matches(method, &parts).map(|p| (op, p)))
            .max_by_key(|(op, _)| op.literals())
    }

    /// Checks every exchange; returns the operations seen and the problems found.
    fn check(&self, exchanges: &[Exchange]) -> (BTreeSet<String>, Vec<String>) {
        let mut seen = BTreeSet::new();
        let mut problems = Vec::new();
        for x in exchanges {
            let at = format!("{} {}", x.method, x.path);
            let Some((op, params)) = self.operation(&x.method, &x.path) else {
                problems.push(format!("{at}: no operation in the contract"));
                continue;
            };
            seen.insert(op.name());
            let mut found = Vec::new();
            for (name, value) in &params {
                if let Some(schema) = op.params.get(name) {
                    if !jsonschema::is_valid(schema, &json!(value)) {
                        found.push(format!("path parameter {name}={value:?} against {schema}"));
                    }
                }
            }
            let query: Vec<(String, String)> = x
                .query
                .as_deref()
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default();
            match &op.query {
                Some(p) => {
                    let mut obj = Map::new();
                    for (k, v) in &query {
                        if obj.insert(k.clone(), json!(v)).is_some() {
                            found.push(format!("query parameter {k} sent twice"));
                        }
                    }
                    found.extend(self.problems(op.file, p, &Value::Object(obj)));
                }
                None if !query.is_empty() => {
                    found.push(format!("query {query:?} on an operation that takes none"));
                }
                None => {}
            }
            if let Some(p) = &op.request_form {
                let form: Map<String, Value> = url::form_urlencoded::parse(&x.request_body)
                    .into_owned()
                    .map(|(k, v)| (k, json!(v)))
                    .collect();
                found.extend(self.problems(op.file, p, &Value::Object(form)));
            } else if let Some(p) = &op.request {
                match x.request_json() {
                    Some(body) => found.extend(self.problems(op.file, p, &body)),
                    None if x.request_body.is_empty() && op.method == "POST" => {
                        // Only the user actions may go without a body (ACTIVATE).
                        if !op.params.contains_key("action") {
                            found.push("no request body".into());
                        }
                    }
                    None => found.push("the request body is not JSON".into()),
                }
            } else if !x.request_body.is_empty() {
                found.push("a body on an operation that takes none".into());
            }
            match (x.status, &x.response_body) {
                (Some(s), Some(body)) if (200..300).contains(&s) => {
                    found.extend(self.problems(op.file, &op.response, body));
                }
                (Some(_), Some(body)) => found.extend(self.problems(op.file, &op.error, body)),
                (Some(s), None) => found.push(format!("answer {s} without a JSON body")),
                (None, _) => {} // a queued fault answered; nothing of the mock's to check
            }
            problems.extend(found.into_iter().map(|f| format!("{at}: {f}")));
        }
        (seen, problems)
    }
}

/// Drives the provisioning side through every operation it has.
async fn provision(opsramp: &OpsRampConnector, mock: &OpsRampMock) {
    let role = EntitlementType::role();
    let group = EntitlementType::group();
    // Imports: accounts, both entitlement types and their grants, all pages.
    for page_size in [2, 100] {
        let mut page = PageRequest::first().size(page_size);
        loop {
            let p = opsramp.list_accounts(page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(page_size),
                None => break,
            }
        }
    }
    for ty in [&role, &group] {
        opsramp
            .list_entitlements(ty, PageRequest::first())
            .await
            .unwrap();
        let mut page = PageRequest::first().size(3);
        loop {
            let p = opsramp.list_grants(ty, page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(3),
                None => break,
            }
        }
    }
    // A login with `+` cannot go into a queryString filter: it is looked up in
    // users/minimal.
    let plus = AccountSpec::new("contract+plus")
        .name("Contract", "Plus")
        .email("contract.plus@example.com");
    let made = opsramp.create_account(&plus).await.unwrap();
    assert!(matches!(made, CreateOutcome::Created(_)), "{made:?}");
    // Lifecycle of one new account.
    let spec = AccountSpec::new("contract.user")
        .name("Contract", "User")
        .email("contract.user@example.com")
        .attribute("country", "Turkey")
        .attribute("timeZone", json!({"code": "EST"}));
    let a = opsramp.create_account(&spec).await.unwrap().into_account();
    assert!(opsramp.get_account(&a.id).await.unwrap().is_some());
    opsramp
        .update_account(&a.id, &AccountChange::new().email("c.user@example.com"))
        .await
        .unwrap();
    opsramp.set_enabled(&a.id, false).await.unwrap();
    opsramp.set_enabled(&a.id, true).await.unwrap();
    let role_id = mock.role_id("Network Admin").unwrap();
    let group_id = mock.group_id("Ops").unwrap();
    for e in [
        OpsRampConnector::role_entitlement(&role_id),
        OpsRampConnector::group_entitlement(&group_id),
    ] {
        let granted = opsramp.grant(&a.id, &e).await.unwrap();
        assert_eq!(granted, GrantOutcome::Granted);
        let revoked = opsramp.revoke(&a.id, &e).await.unwrap();
        assert_eq!(revoked, RevokeOutcome::Revoked);
    }
    // Role and group writes, through the typed handles (the seed's raw-JSON writes).
    let c = opsramp.client();
    let made = c
        .roles()
        .create(&NamedBody::named("Contract Role"))
        .await
        .unwrap();
    let update = RoleUpdate::of(made.unique_id.clone())
        .all_clients(true)
        .user(RoleUser::new(a.id.as_str()).login_name("contract.user"));
    c.roles()
        .update_with(&made.unique_id, &update)
        .await
        .unwrap();
    let group = GroupBody::named("Contract Group")
        .email("contract.group@example.com")
        .role(made.unique_id.clone());
    let g = c.user_groups().create_group(&group).await.unwrap();
    let rename = GroupBody::named("Contract Group 2").description("renamed");
    c.user_groups()
        .update_group(&g.unique_id, &rename)
        .await
        .unwrap();
    c.user_groups()
        .add_members(&g.unique_id, &[a.id.as_str()])
        .await
        .unwrap();
    let members = c
        .user_groups()
        .members_page(&g.unique_id, &SearchParams::page(1, 10))
        .await
        .unwrap();
    assert_eq!(members.results.len(), 1);
    c.user_groups().delete(&g.unique_id).await.unwrap();
    c.roles().delete(&made.unique_id).await.unwrap();
    opsramp.delete_account(&a.id).await.unwrap();
}

/// Drives the ticketing side: create, get, comment, close, on both ticket types.
async fn tickets(opsramp: &OpsRampConnector, mock: &OpsRampMock) {
    for kind in [TicketKind::Incident, TicketKind::Request] {
        let new = NewTicket::new(
            kind.clone(),
            "Grant Network Admin to jdoe",
            "Requested by bob.",
            CorrelationId::new(format!("REQ-CONTRACT-{kind:?}")),
        )
        .priority("Low");
        let t = opsramp.create_ticket(&new).await.unwrap();
        assert!(opsramp.get_ticket(&t.reference).await.unwrap().is_some());
        // The typed update (POST …/{id}), as a workflow moving the ticket on would.
        let id = t.reference.id().map(str::to_owned).unwrap();
        let handle = match kind {
            TicketKind::Incident => opsramp.client().incidents(),
            _ => opsramp.client().service_requests(),
        };
        let open = handle
            .update(&id, &json!({"status": "Open"}))
            .await
            .unwrap();
        assert_eq!(open.status, "Open");
        // A comment whose first answer is lost: the connector looks its key up in
        // `responses/search` before sending it again.
        mock.faults().push_for(
            FaultMatcher::route("POST", "/responses"),
            Fault::Status {
                status: 502,
                body: None,
            },
            1,
        );
        opsramp
            .add_comment(&t.reference, &Comment::public("working on it"))
            .await
            .unwrap();
        opsramp
            .add_comment(&t.reference, &Comment::internal("granted"))
            .await
            .unwrap();
        opsramp
            .close_ticket(&t.reference, &Resolution::done("granted"))
            .await
            .unwrap();
        // Creating again finds the ticket by its correlation id instead.
        opsramp.create_ticket(&new).await.unwrap();
    }
}

#[tokio::test]
async fn requests_and_answers_keep_to_the_contract() {
    let contract = Contract::load();
    let mock = mock(7).await;
    mock.record_exchanges();
    let opsramp = connector(&mock);
    provision(&opsramp, &mock).await;
    tickets(&opsramp, &mock).await;
    // The other token path, which OpsRamp's own clients use.
    let tenancy = on(client(&mock)
        .token_path(TokenPath::Tenancy)
        .build()
        .unwrap());
    tenancy.list_accounts(PageRequest::first()).await.unwrap();

    let exchanges = mock.exchanges();
    let (seen, problems) = contract.check(&exchanges);
    assert!(
        problems.is_empty(),
        "{} of {} exchanges break the contract:\n{}",
        problems.len(),
        exchanges.len(),
        problems.join("\n")
    );
    let unseen: Vec<String> = contract
        .ops
        .iter()
        .map(Operation::name)
        .filter(|n| !seen.contains(n))
        .collect();
    assert!(unseen.is_empty(), "operations never exercised: {unseen:#?}");
}

#[tokio::test]
async fn a_bogus_account_type_is_refused_as_opsramp_refuses_and_flagged_on_the_way_out() {
    let contract = Contract::load();
    let mock = mock(0).await;
    mock.record_exchanges();
    let opsramp = connector(&mock);
    let bad = AccountSpec::new("contract.bad")
        .name("Contract", "Bad")
        .email("contract.bad@example.com")
        .attribute("userAccountType", "BOGUS");
    let e = opsramp.create_account(&bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(mock.user_count(), 0);
    let exchanges = mock.exchanges();
    let create = exchanges
        .iter()
        .find(|x| x.method == "POST" && x.path.ends_with("/users"))
        .expect("the create was sent");
    // The mock answers in OpsRamp's generic error shape, which the contract accepts...
    assert_eq!(create.status, Some(400));
    let body = create.response_body.as_ref().unwrap();
    assert_eq!(body["code"], "0400", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("userAccountType")
    );
    // ...and the contract flags the request itself: the connector passes attributes
    // through, the spec's enum is what catches the value.
    let (_, problems) = contract.check(&exchanges);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("/userAccountType"), "{problems:?}");
}

#[tokio::test]
async fn the_mock_answers_with_the_documented_role_and_group_shapes() {
    let mock = mock(3).await;
    let user = mock.user("USR0000000001").unwrap();
    // `{"id": <integer>, "name"}` as in the spec's user examples, not `{uniqueId, name}`.
    let r = &user["roles"][0];
    assert!(r["id"].is_u64(), "{r}");
    assert!(r.get("uniqueId").is_none(), "{r}");
    let contract = Contract::load();
    let tac = 1;
    assert_eq!(
        contract.problems(tac, "#/$defs/userOut", &user),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn role_grants_printed_as_id_and_name_map_to_the_roles_unique_ids() {
    // Users print roles as `{"id": <integer>, "name"}`; roles/search lists `uniqueId`s
    // only. The connector maps the references by name, once per listing.
    let mock = mock(6).await;
    let opsramp = connector(&mock);
    let page = opsramp
        .list_grants(&EntitlementType::role(), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 6, "{:?}", page.items);
    for g in &page.items {
        assert!(g.entitlement.id.as_str().starts_with("ROLE-"), "{g:?}");
        let held = mock.user_roles(g.account.as_str());
        assert_eq!(held, [g.entitlement.id.as_str().to_owned()], "{g:?}");
    }
    assert_eq!(mock.counter().count("GET", "roles/search"), 1);
}

#[test]
fn the_validator_rejects_the_old_mock_defects() {
    let contract = Contract::load();
    let tac = 1;
    let group =
        json!({"uniqueId": "USRGRP-1", "name": "Ops", "createdTime": "2024-01-15T09:30:00+0000"});
    assert!(
        contract
            .problems(tac, "#/$defs/userGroup", &group)
            .is_empty()
    );
    // An empty string is no email: the old mock sent "email": "" for groups without one.
    let mut empty = group.clone();
    empty["email"] = json!("");
    let p = contract.problems(tac, "#/$defs/userGroup", &empty);
    assert!(p.iter().any(|p| p.contains("/email")), "{p:?}");
    // Role references on users were {uniqueId, name}.
    let user = json!({"id": "USR0000000001", "loginName": "a",
                      "roles": [{"uniqueId": "ROLE-1", "name": "Client User"}]});
    let p = contract.problems(tac, "#/$defs/userOut", &user);
    assert!(p.iter().any(|p| p.contains("/roles/0")), "{p:?}");
    // A user echoing a value outside the enum, as the old mock stored and returned it.
    let user = json!({"id": "USR0000000001", "loginName": "a", "userAccountType": "BOGUS"});
    assert!(!contract.problems(tac, "#/$defs/userOut", &user).is_empty());
    // RFC 3339 offsets with a colon are not what OpsRamp writes; "" is.
    let t = contract.problems(tac, "#/$defs/time", &json!("2024-01-15T09:30:00+00:00"));
    assert!(!t.is_empty());
    assert!(
        contract
            .problems(tac, "#/$defs/time", &json!(""))
            .is_empty()
    );
    // And a request the spec does not describe is caught on the way out.
    let body = json!({"loginName": "a", "firstName": "A", "lastName": "B",
                      "email": "a@b.c", "password\t": "Abcdef1!"});
    assert!(
        !contract
            .problems(tac, "#/$defs/userCreate", &body)
            .is_empty()
    );
}
