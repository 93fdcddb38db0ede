//! The contract: every request the connector sends and every answer the mock gives,
//! checked against JSON Schemas written from OpsGenie's Swagger file
//! (`tests/contract/opsgenie-v2.json`, whose `$comment` names the file and commit).
//!
//! The schema file lists its operations under `x-operations` (method, path template as
//! the spec writes it, the success status, and pointers to the query, request and
//! response schemas). A test records the mock's exchanges, drives the connector through
//! its operations, and then checks each exchange: it must match an operation by method
//! and path, and its query, body and answer must validate; a 2xx answer against the
//! operation's response (and status), any other against the error shape. Every
//! operation must have been seen.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use accesslink_core::{
    AccountChange, AccountId, AccountSpec, Connector, EntitlementType, GrantOutcome, PageRequest,
    Provisioner, RevokeOutcome,
};
use accesslink_opsgenie::models::{CustomRole, NewTeam, NewUser};
use accesslink_opsgenie::{Identifier, OpsGenieConnector};
use accesslink_testkit::opsgenie::{Exchange, OpsGenieMock};
use jsonschema::Validator;
use serde_json::{Map, Value, json};

use crate::on_mock;

/// The schema files, by name.
const FILES: [(&str, &str); 1] = [("opsgenie-v2", include_str!("../contract/opsgenie-v2.json"))];

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
    /// The success status the operation answers with (201 for creates).
    status: u16,
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
                comment.contains("71c5534") && comment.contains("swagger.json"),
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
                    status: op["status"].as_u64().map_or(200, |s| s as u16),
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
                    None if x.request_body.is_empty() => found.push("no request body".into()),
                    None => found.push("the request body is not JSON".into()),
                }
            } else if !x.request_body.is_empty() {
                found.push("a body on an operation that takes none".into());
            }
            match (x.status, &x.response_body) {
                (Some(s), Some(body)) if (200..300).contains(&s) => {
                    if s != op.status {
                        found.push(format!("answered {s}, the spec says {}", op.status));
                    }
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

/// Drives the connector through every operation it has, then the typed handles
/// through the team and custom-role writes it does not use itself.
async fn drive(og: &OpsGenieConnector, mock: &OpsGenieMock) {
    let team = EntitlementType::team();
    let role = EntitlementType::role();
    og.test_connection().await.unwrap();
    for page_size in [3, 100] {
        let mut page = PageRequest::first().size(page_size);
        loop {
            let p = og.list_accounts(page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(page_size),
                None => break,
            }
        }
    }
    for ty in [&team, &role] {
        og.list_entitlements(ty, PageRequest::first())
            .await
            .unwrap();
        let mut page = PageRequest::first().size(3);
        loop {
            let p = og.list_grants(ty, page).await.unwrap();
            match p.next {
                Some(t) => page = PageRequest::at(Some(t)).size(3),
                None => break,
            }
        }
    }
    let spec = AccountSpec::new("contract.user@example.com").display_name("Contract User");
    let a = og.create_account(&spec).await.unwrap().into_account();
    assert!(og.get_account(&a.id).await.unwrap().is_some());
    og.update_account(&a.id, &AccountChange::new().display_name("Contract U. Ser"))
        .await
        .unwrap();
    let ops = mock.add_team("ops", "Operations");
    mock.add_role("Responder", "user");
    for e in [
        OpsGenieConnector::team_entitlement(ops.clone()),
        OpsGenieConnector::role_entitlement("admin"),
        OpsGenieConnector::role_entitlement("responder"),
    ] {
        assert_eq!(og.grant(&a.id, &e).await.unwrap(), GrantOutcome::Granted);
        assert_eq!(og.revoke(&a.id, &e).await.unwrap(), RevokeOutcome::Revoked);
    }
    // By username: the member endpoints take either.
    let by_name = AccountId::new("contract.user@example.com");
    let e = OpsGenieConnector::team_entitlement(ops);
    assert_eq!(og.grant(&by_name, &e).await.unwrap(), GrantOutcome::Granted);
    assert_eq!(
        og.revoke(&by_name, &e).await.unwrap(),
        RevokeOutcome::Revoked
    );
    let c = og.client();
    c.users().teams(a.id.as_str()).await.unwrap();
    let made = c
        .teams()
        .create(&NewTeam::new("contract", "made here"))
        .await
        .unwrap();
    c.teams().delete(&Identifier::id(made.id)).await.unwrap();
    let r = c
        .roles()
        .create(&CustomRole::new("Auditor", "observer"))
        .await
        .unwrap();
    assert!(
        c.roles()
            .get_opt(&Identifier::id(r.id.clone()))
            .await
            .unwrap()
            .is_some()
    );
    c.roles()
        .delete(&Identifier::name("Auditor"))
        .await
        .unwrap();
    og.delete_account(&a.id).await.unwrap();
}

#[tokio::test]
async fn requests_and_answers_keep_to_the_contract() {
    let contract = Contract::load();
    let mock = OpsGenieMock::builder().generated_users(7).start().await;
    mock.record_exchanges();
    let og = on_mock(&mock);
    drive(&og, &mock).await;

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
async fn errors_keep_to_the_error_shape_and_bad_requests_are_flagged() {
    let contract = Contract::load();
    let mock = OpsGenieMock::start().await;
    mock.add_user("taken@example.com", "Taken", "user").unwrap();
    mock.record_exchanges();
    let og = on_mock(&mock);
    // 404 on a read.
    let nobody = AccountId::new("nobody@example.com");
    assert!(og.get_account(&nobody).await.unwrap().is_none());
    // The typed handle sends what it is given and the server (here the mock) judges:
    // 409 for a taken username, 422 for a role that does not exist.
    let users = og.client().users();
    let taken = NewUser::new("taken@example.com", "Taken Again", "user");
    assert!(users.create(&taken).await.is_err());
    let bad = NewUser::new("fresh@example.com", "Fresh", "No Such Role");
    assert!(users.create(&bad).await.is_err());
    let exchanges = mock.exchanges();
    let statuses: Vec<Option<u16>> = exchanges.iter().map(|x| x.status).collect();
    assert_eq!(statuses, [Some(404), Some(409), Some(422)]);
    assert!(exchanges[2].response_body.as_ref().unwrap()["errors"].is_object());
    // The requests keep to the spec, and every error answer to the error shape.
    let (_, problems) = contract.check(&exchanges);
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn the_validator_rejects_what_the_spec_forbids() {
    let contract = Contract::load();
    let base = json!({"took": 0.01, "requestId": "r-1"});
    let user =
        json!({"id": "u-1", "username": "a@example.com", "role": {"id": "User", "name": "User"}});
    let mut get = base.clone();
    get["data"] = user.clone();
    // A get-user answer without `expandable` breaks the spec; the team list may lack it.
    let p = contract.problems(0, "#/$defs/getUserResponse", &get);
    assert!(p.iter().any(|p| p.contains("expandable")), "{p:?}");
    get["expandable"] = json!(["contact"]);
    assert!(
        contract
            .problems(0, "#/$defs/getUserResponse", &get)
            .is_empty()
    );
    let mut teams = base.clone();
    teams["data"] = json!([{"id": "t-1", "name": "ops", "description": ""}]);
    assert!(
        contract
            .problems(0, "#/$defs/listTeamsResponse", &teams)
            .is_empty()
    );
    teams["data"][0]["id"] = json!(7);
    assert!(
        !contract
            .problems(0, "#/$defs/listTeamsResponse", &teams)
            .is_empty()
    );
    // No requestId, or a non-RFC 3339 createdAt, or a role without a name.
    let p = contract.problems(
        0,
        "#/$defs/successResponse",
        &json!({"result": "Created", "took": 0.1}),
    );
    assert!(p.iter().any(|p| p.contains("requestId")), "{p:?}");
    let mut odd = user.clone();
    odd["createdAt"] = json!("2017-05-12 08:34:26");
    odd["role"] = json!({"id": "x"});
    let mut list = base.clone();
    list["data"] = json!([odd]);
    assert_eq!(
        contract
            .problems(0, "#/$defs/listUsersResponse", &list)
            .len(),
        2
    );
    // Requests: a username that is no email, an undeclared field, a bad sort.
    let body =
        json!({"username": "jdoe", "fullName": "J", "role": {"name": "user"}, "password": "x"});
    assert_eq!(
        contract
            .problems(0, "#/$defs/createUserPayload", &body)
            .len(),
        2
    );
    let q = json!({"sort": "email"});
    assert!(
        !contract
            .problems(0, "#/$defs/listUsersQuery", &q)
            .is_empty()
    );
}
