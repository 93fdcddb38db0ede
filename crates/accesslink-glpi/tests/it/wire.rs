//! The wire protocol against scripted wiremock answers shaped like the real server's
//! (`shared/glpi/REST.md`): headers on every call, one re-login, `killSession`, per-item
//! write results.

use accesslink_core::{ErrorKind, TicketRef, TicketingSystem};
use accesslink_glpi::{GlpiClient, GlpiConfig, GlpiConnector};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::scripted::{
    APP, USER, connector, fallback, glpi_error, header, plain, requests_to, server,
};

async fn mount_ticket(server: &MockServer) {
    // Ids and numbers as strings, as `expand_dropdowns` and some endpoints send them.
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "5", "name": "Grant X [corr:REQ-1]", "status": "2", "type": "2",
            "global_validation": 3, "is_deleted": 0, "content": "a &#60; b", "date": "2026-11-23 22:19:24"
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5/TicketValidation"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "id": 1, "status": 3, "users_id_validate": 7, "comment_validation": "ok" }
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5/Ticket_User"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "id": "1", "users_id": "7", "type": "1", "alternative_email": "" },
            { "id": "2", "users_id": 8, "type": 2 }
        ])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/User/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 7, "name": "alice", "firstname": "Alice", "realname": "Doe", "is_active": 1
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn app_token_on_every_call_and_the_session_after_login() {
    let server = server().await;
    mount_ticket(&server).await;
    fallback(&server).await;
    let glpi = connector(&server, GlpiConfig::new());
    let t = glpi
        .get_ticket(&TicketRef::by_id("5"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.kind, accesslink_core::TicketKind::Request);
    assert_eq!(t.status.state, accesslink_core::TicketState::InProgress);
    assert_eq!(t.approval_state(), accesslink_core::ApprovalState::Approved);
    assert_eq!(t.description.as_deref(), Some("a < b"));
    assert_eq!(t.correlation_id.as_ref().map(|c| c.as_str()), Some("REQ-1"));
    let requester = t.requester.unwrap();
    assert_eq!(
        (requester.login.as_deref(), requester.name.as_deref()),
        (Some("alice"), Some("Alice Doe"))
    );
    assert_eq!(t.assignee.unwrap().id.as_deref(), Some("8"));
    assert_eq!(t.extra["validations"][0]["approval"], "approved");

    let all = server.received_requests().await.unwrap();
    assert_eq!(
        all.len(),
        5,
        "login, ticket, validations, actors, requester"
    );
    for r in &all {
        assert_eq!(header(r, "app-token"), Some(APP), "{} {}", r.method, r.url);
    }
    let login = &all[0];
    assert_eq!(login.url.path(), "/apirest.php/initSession");
    assert_eq!(
        header(login, "authorization"),
        Some(format!("user_token {USER}").as_str())
    );
    assert_eq!(header(login, "session-token"), None);
    for r in &all[1..] {
        assert_eq!(header(r, "session-token"), Some("tok1"), "{}", r.url);
        assert_eq!(header(r, "authorization"), None);
    }
}

#[tokio::test]
async fn password_login_uses_basic_auth() {
    let server = server().await;
    mount_ticket(&server).await;
    let client = GlpiClient::builder(format!("{}/apirest.php/", server.uri()))
        .app_token(SecretString::from(APP))
        .login("svc-iam", SecretString::from("pa:ss word"))
        .build()
        .unwrap();
    let glpi = GlpiConnector::new(
        client,
        GlpiConfig::new()
            .read_validations(false)
            .read_requester(false),
    );
    glpi.get_ticket(&TicketRef::by_id("5"))
        .await
        .unwrap()
        .unwrap();
    let login = &requests_to(&server, "/apirest.php/initSession").await[0];
    // base64("svc-iam:pa:ss word")
    assert_eq!(
        header(login, "authorization"),
        Some("Basic c3ZjLWlhbTpwYTpzcyB3b3Jk")
    );
    let shown = format!("{glpi:?}");
    assert!(
        !shown.contains("pa:ss word") && !shown.contains(APP),
        "{shown}"
    );
}

/// `401 ERROR_SESSION_TOKEN_INVALID` for every session in `dead`.
struct RejectSessions {
    dead: Vec<&'static str>,
    ok: Value,
}

impl Respond for RejectSessions {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        match header(r, "session-token") {
            Some(t) if self.dead.contains(&t) => glpi_error(
                401,
                "ERROR_SESSION_TOKEN_INVALID",
                "session_token seems invalid",
            ),
            _ => ResponseTemplate::new(200).set_body_json(self.ok.clone()),
        }
    }
}

#[tokio::test]
async fn a_killed_session_is_renewed_exactly_once() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5"))
        .respond_with(RejectSessions {
            dead: vec!["tok1"],
            ok: json!({ "id": 5, "name": "x", "status": 1, "type": 1 }),
        })
        .mount(&server)
        .await;
    let glpi = plain(&server);
    assert!(
        glpi.get_ticket(&TicketRef::by_id("5"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        requests_to(&server, "/apirest.php/initSession").await.len(),
        2
    );
    let tickets = requests_to(&server, "/apirest.php/Ticket/5").await;
    let sessions: Vec<_> = tickets
        .iter()
        .map(|r| header(r, "session-token").unwrap())
        .collect();
    assert_eq!(sessions, ["tok1", "tok2"]);
    // Later calls use the new session without logging in again.
    glpi.get_ticket(&TicketRef::by_id("5")).await.unwrap();
    assert_eq!(
        requests_to(&server, "/apirest.php/initSession").await.len(),
        2
    );
}

#[tokio::test]
async fn a_session_refused_twice_is_an_error_not_a_loop() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5"))
        .respond_with(glpi_error(
            401,
            "ERROR_SESSION_TOKEN_INVALID",
            "session_token seems invalid",
        ))
        .mount(&server)
        .await;
    let err = plain(&server)
        .get_ticket(&TicketRef::by_id("5"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(
        requests_to(&server, "/apirest.php/initSession").await.len(),
        2
    );
    assert_eq!(requests_to(&server, "/apirest.php/Ticket/5").await.len(), 2);
}

#[tokio::test]
async fn a_missing_right_is_not_a_session_problem() {
    let server = server().await;
    // GLPI 9.x sends ERROR_RIGHT_MISSING with 401: a new session would not help.
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5"))
        .respond_with(glpi_error(
            401,
            "ERROR_RIGHT_MISSING",
            "You don't have permission",
        ))
        .mount(&server)
        .await;
    let err = plain(&server)
        .get_ticket(&TicketRef::by_id("5"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert_eq!(err.vendor_code(), Some("ERROR_RIGHT_MISSING"));
    assert_eq!(
        requests_to(&server, "/apirest.php/initSession").await.len(),
        1
    );
}

#[tokio::test]
async fn close_kills_the_session_and_the_next_call_logs_in_again() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/killSession"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(true)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/5"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "id": 5, "name": "x", "status": 1 })),
        )
        .mount(&server)
        .await;
    let glpi = plain(&server);
    glpi.close().await.unwrap();
    assert!(
        requests_to(&server, "/apirest.php/killSession")
            .await
            .is_empty(),
        "no session, nothing to kill"
    );
    glpi.get_ticket(&TicketRef::by_id("5")).await.unwrap();
    glpi.close().await.unwrap();
    let kills = requests_to(&server, "/apirest.php/killSession").await;
    assert_eq!(kills.len(), 1);
    assert_eq!(header(&kills[0], "session-token"), Some("tok1"));
    assert_eq!(header(&kills[0], "app-token"), Some(APP));
    glpi.get_ticket(&TicketRef::by_id("5")).await.unwrap();
    let last = requests_to(&server, "/apirest.php/Ticket/5").await;
    assert_eq!(header(last.last().unwrap(), "session-token"), Some("tok2"));
}

#[tokio::test]
async fn per_item_write_results_are_checked() {
    let server = server().await;
    let put = |body: Value, status: u16| {
        Mock::given(method("PUT"))
            .and(path("/apirest.php/User/5"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .up_to_n_times(1)
    };
    put(
        json!([{ "5": false, "message": "You don't have permission to perform this action." }]),
        200,
    )
    .mount(&server)
    .await;
    let glpi = plain(&server);
    let users = glpi.client().users();
    let err = users
        .update(5, &json!({ "is_active": 0 }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert_eq!(err.vendor_code(), Some("ERROR_GLPI_PARTIAL_UPDATE"));
    assert!(
        err.to_string().contains("You don't have permission"),
        "{err}"
    );

    put(json!([{ "6": true, "message": "" }]), 200)
        .mount(&server)
        .await;
    let err = users
        .update(5, &json!({ "is_active": 0 }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string().contains("missing from GLPI's answer"),
        "{err}"
    );

    put(
        json!(["ERROR_GLPI_PARTIAL_UPDATE", [{ "5": false, "message": "x" }]]),
        207,
    )
    .mount(&server)
    .await;
    let err = users
        .update(5, &json!({ "is_active": 0 }))
        .await
        .unwrap_err();
    assert_eq!(
        err.vendor_code(),
        Some("ERROR_GLPI_PARTIAL_UPDATE"),
        "{err}"
    );

    put(json!([{ "5": true, "message": "" }]), 200)
        .mount(&server)
        .await;
    users.update(5, &json!({ "is_active": 0 })).await.unwrap();
    let bodies: Vec<Value> = requests_to(&server, "/apirest.php/User/5")
        .await
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert!(
        bodies
            .iter()
            .all(|b| b == &json!({ "input": { "is_active": 0 } })),
        "{bodies:?}"
    );

    Mock::given(method("DELETE"))
        .and(path("/apirest.php/User/9"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{ "9": true, "message": "" }])),
        )
        .mount(&server)
        .await;
    users.delete(9, true).await.unwrap();
    let del = &requests_to(&server, "/apirest.php/User/9").await[0];
    assert_eq!(del.url.query(), Some("force_purge=true"));
}

/// `getMultipleItems` over tickets 5 and 6; any other id fails the whole call with 404,
/// as GLPI does.
struct Multiple;

impl Respond for Multiple {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let pairs: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        let mut out = Vec::new();
        for i in 0.. {
            let get = |k: &str| {
                pairs
                    .iter()
                    .find(|(a, _)| a == &format!("items[{i}][{k}]"))
                    .map(|(_, v)| v.clone())
            };
            let (Some(itemtype), Some(id)) = (get("itemtype"), get("items_id")) else {
                break;
            };
            if itemtype != "Ticket" || !["5", "6"].contains(&id.as_str()) {
                return glpi_error(404, "ERROR_ITEM_NOT_FOUND", "Item not found");
            }
            out.push(json!({ "id": id.parse::<u64>().unwrap(), "name": format!("t{id}"), "status": 2, "type": 1 }));
        }
        ResponseTemplate::new(200).set_body_json(out)
    }
}

#[tokio::test]
async fn batched_reads_use_get_multiple_items_and_fall_back_one_by_one() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apirest.php/getMultipleItems"))
        .respond_with(Multiple)
        .mount(&server)
        .await;
    for id in [5, 6] {
        Mock::given(method("GET"))
            .and(path(format!("/apirest.php/Ticket/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "id": id, "name": "x", "status": 1 })),
            )
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/apirest.php/Ticket/99"))
        .respond_with(glpi_error(404, "ERROR_ITEM_NOT_FOUND", "Item not found"))
        .mount(&server)
        .await;
    fallback(&server).await;
    let glpi = plain(&server);
    let refs = [
        TicketRef::by_id("6"),
        TicketRef::by_number("#5"),
        TicketRef::by_id("5"),
    ];
    let got = glpi.get_tickets(&refs).await.unwrap();
    let mut ids: Vec<_> = got
        .iter()
        .map(|t| t.reference.id().map(str::to_owned).unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["5", "6"], "asked twice, read once");
    let batch = &requests_to(&server, "/apirest.php/getMultipleItems").await[0];
    let q: Vec<(String, String)> = batch.url.query_pairs().into_owned().collect();
    assert_eq!(
        q,
        [
            ("items[0][itemtype]".to_owned(), "Ticket".to_owned()),
            ("items[0][items_id]".to_owned(), "5".to_owned()),
            ("items[1][itemtype]".to_owned(), "Ticket".to_owned()),
            ("items[1][items_id]".to_owned(), "6".to_owned()),
        ]
    );
    assert!(
        requests_to(&server, "/apirest.php/Ticket/5")
            .await
            .is_empty()
    );

    let with_missing = [
        TicketRef::by_id("5"),
        TicketRef::by_id("99"),
        TicketRef::by_id("6"),
    ];
    let got = glpi.get_tickets(&with_missing).await.unwrap();
    assert_eq!(got.len(), 2, "the missing one is left out");
    assert_eq!(
        requests_to(&server, "/apirest.php/getMultipleItems")
            .await
            .len(),
        2
    );
    assert_eq!(
        requests_to(&server, "/apirest.php/Ticket/99").await.len(),
        1
    );
}

/// A ticket or change whose status follows the writes: a solution sets 5, a `PUT` sets
/// what it says.
#[derive(Clone)]
struct Item {
    status: std::sync::Arc<std::sync::atomic::AtomicU64>,
    id: u64,
}

impl Respond for Item {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        use std::sync::atomic::Ordering::SeqCst;
        match r.method.as_str() {
            "PUT" => {
                let body: Value = r.body_json().unwrap();
                self.status.store(body["input"]["status"].as_u64().unwrap(), SeqCst);
                ResponseTemplate::new(200).set_body_json(json!([{ self.id.to_string(): true, "message": "" }]))
            }
            "POST" => {
                self.status.store(5, SeqCst);
                ResponseTemplate::new(201).set_body_json(json!({ "id": 1, "message": "" }))
            }
            _ => ResponseTemplate::new(200).set_body_json(json!({
                "id": self.id, "name": "x", "type": 2, "status": self.status.load(SeqCst), "global_validation": 1
            })),
        }
    }
}

#[tokio::test]
async fn close_solves_then_closes_once_and_cancels_a_failed_change() {
    use accesslink_core::{Resolution, TicketState};
    let server = server().await;
    let ticket = Item {
        status: Default::default(),
        id: 5,
    };
    ticket.status.store(2, std::sync::atomic::Ordering::SeqCst);
    let change = Item {
        status: Default::default(),
        id: 7,
    };
    change.status.store(1, std::sync::atomic::Ordering::SeqCst);
    Mock::given(path("/apirest.php/Ticket/5"))
        .respond_with(ticket.clone())
        .mount(&server)
        .await;
    Mock::given(path("/apirest.php/ITILSolution"))
        .respond_with(ticket)
        .mount(&server)
        .await;
    Mock::given(path("/apirest.php/Change/7"))
        .respond_with(change.clone())
        .mount(&server)
        .await;
    Mock::given(path("/apirest.php/ITILFollowup"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "id": 3, "message": "" })))
        .mount(&server)
        .await;
    fallback(&server).await;
    let glpi = plain(&server);

    let closed = glpi
        .close_ticket(
            &TicketRef::by_id("5"),
            &Resolution::done("access granted").code("2"),
        )
        .await
        .unwrap();
    assert_eq!(
        (closed.status.state, closed.status.raw.as_str()),
        (TicketState::Closed, "6")
    );
    let solution: Value = requests_to(&server, "/apirest.php/ITILSolution").await[0]
        .body_json()
        .unwrap();
    assert_eq!(
        solution,
        json!({ "input": { "itemtype": "Ticket", "items_id": 5, "content": "access granted", "solutiontypes_id": 2 } })
    );
    let puts: Vec<Value> = requests_to(&server, "/apirest.php/Ticket/5")
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(puts, [json!({ "input": { "status": 6 } })]);
    // Closing a closed ticket writes nothing.
    glpi.close_ticket(&TicketRef::by_id("5"), &Resolution::done("again"))
        .await
        .unwrap();
    assert_eq!(
        requests_to(&server, "/apirest.php/ITILSolution")
            .await
            .len(),
        1
    );
    let writes = requests_to(&server, "/apirest.php/Ticket/5").await;
    assert_eq!(
        writes.iter().filter(|r| r.method.as_str() == "PUT").count(),
        1
    );

    let cancelled = glpi
        .close_ticket(
            &TicketRef::by_number("CHG-7"),
            &Resolution::failed("not needed"),
        )
        .await
        .unwrap();
    assert_eq!(
        (cancelled.status.state, cancelled.status.raw.as_str()),
        (TicketState::Cancelled, "14")
    );
    let note: Value = requests_to(&server, "/apirest.php/ITILFollowup").await[0]
        .body_json()
        .unwrap();
    assert_eq!(
        note,
        json!({ "input": { "itemtype": "Change", "items_id": 7, "content": "not needed", "is_private": 0 } })
    );
    assert_eq!(
        requests_to(&server, "/apirest.php/ITILSolution")
            .await
            .len(),
        1,
        "no solution for a failed change"
    );
    let err = glpi
        .close_ticket(&TicketRef::by_id("5"), &Resolution::done("x").code("fixed"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "a solution type is an id"
    );
}
