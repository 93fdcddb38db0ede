//! The mock over HTTP, checked against the exchanges recorded in `shared/znuny/REST.md`.

use std::time::Duration;

use accesslink_core::{CorrelationId, TicketRef, TicketState, Visibility};
use reqwest::Method;
use serde_json::{Value, json};

use super::OtrsMock;
use crate::conformance::TicketBackend;

/// One answer: status, `Content-Type`, `Connection`, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    connection: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn error_code(&self) -> String {
        self.json()["Error"]["ErrorCode"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

async fn call(method: Method, url: &str, body: Option<&str>) -> Answer {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        let value = response.headers().get(name);
        value.map_or("", |v| v.to_str().unwrap()).to_owned()
    };
    Answer {
        status: response.status().as_u16(),
        content_type: header("content-type"),
        connection: header("connection"),
        body: response.text().await.unwrap(),
    }
}

async fn get(url: &str) -> Answer {
    call(Method::GET, url, None).await
}

async fn send(method: Method, url: &str, body: &Value) -> Answer {
    call(method, url, Some(&body.to_string())).await
}

async fn login(mock: &OtrsMock) -> String {
    let body = json!({"UserLogin": mock.agent_login(), "Password": mock.agent_password()});
    let answer = send(Method::POST, &format!("{}/Session", mock.base_url()), &body).await;
    answer.json()["SessionID"].as_str().unwrap().to_owned()
}

/// Creates a ticket for `customer` as the agent; returns TicketCreate's answer.
async fn create(
    mock: &OtrsMock,
    sid: &str,
    title: &str,
    customer: &str,
    field: Option<&str>,
) -> Value {
    let mut body = json!({
        "SessionID": sid,
        "Ticket": {"Title": title, "Queue": "Raw", "State": "new", "Priority": "3 normal",
                   "CustomerUser": customer},
        "Article": {"Subject": "Hello", "Body": "Body with umlauts: äöü €",
                    "ContentType": "text/plain; charset=utf8"},
    });
    if let Some(value) = field {
        body["DynamicField"] = json!([{"Name": "AccessRequestID", "Value": value}]);
    }
    let answer = send(Method::POST, &format!("{}/Ticket", mock.base_url()), &body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

#[tokio::test]
async fn session_create_good_and_bad() {
    let mock = OtrsMock::start().await;
    let url = format!("{}/Session", mock.base_url());
    let good = json!({"UserLogin": "apiagent", "Password": "ApiAgent-Pw1"});
    let answer = send(Method::POST, &url, &good).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/json; charset=UTF-8");
    assert_eq!(answer.connection, "close");
    let sid = answer.json()["SessionID"].as_str().unwrap().to_owned();
    assert!(
        sid.len() == 32 && sid.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{sid}"
    );

    let bad = json!({"UserLogin": "apiagent", "Password": "wrong"});
    let answer = send(Method::POST, &url, &bad).await;
    assert_eq!(answer.status, 200);
    let expected = json!({"Error": {"ErrorCode": "SessionCreate.AuthFail",
                                    "ErrorMessage": "SessionCreate: Authorization failing!"}});
    assert_eq!(answer.json(), expected);

    let session = get(&format!("{}/Session/{sid}", mock.base_url()))
        .await
        .json();
    let data = session["SessionData"].as_array().unwrap();
    assert!(
        data.contains(&json!({"Key": "UserID", "Value": "2"})),
        "{session}"
    );
    assert!(
        data.contains(&json!({"Key": "UserTitle", "Value": null})),
        "{session}"
    );
    let invalid = get(&format!("{}/Session/bogus", mock.base_url())).await;
    assert_eq!(invalid.error_code(), "SessionGet.SessionInvalid");

    let alias = send(
        Method::POST,
        &format!("{}/Session", mock.alias_base_url()),
        &bad,
    )
    .await;
    assert_eq!(
        alias.error_code(),
        "SessionCreate.AuthFail",
        "the /otrs/ alias is served"
    );

    // The second web service keeps connections alive.
    let answer = send(
        Method::POST,
        &format!("{}/Session", mock.search_base_url()),
        &good,
    )
    .await;
    assert_eq!(
        (answer.status, answer.connection.as_str()),
        (200, "Keep-Alive")
    );
    assert_eq!(
        (mock.session_creates(), mock.count("SessionCreate")),
        (2, 4)
    );
}

#[tokio::test]
async fn get_reads_the_session_from_the_query_and_never_from_the_body() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    let url = format!("{}/Ticket/1", mock.base_url());
    let with_body = call(
        Method::GET,
        &url,
        Some(&json!({"SessionID": sid}).to_string()),
    )
    .await;
    let expected = json!({"Error": {"ErrorCode": "TicketGet.AuthFail",
                                    "ErrorMessage": "TicketGet: Authorization failing!"}});
    assert_eq!(with_body.json(), expected);

    let ok = get(&format!("{url}?SessionID={sid}")).await.json();
    assert_eq!(ok["Ticket"][0]["Title"], "Znuny says hi!");
    // A PATCH takes it from the query as well as from its body.
    let patch = send(
        Method::PATCH,
        &format!("{url}?SessionID={sid}"),
        &json!({"Ticket": {"Title": "renamed"}}),
    )
    .await;
    assert_eq!(
        patch.json(),
        json!({"TicketID": "1", "TicketNumber": "2021012710123456"})
    );
    // Inline credentials work without a session.
    let inline = get(&format!("{url}?UserLogin=apiagent&Password=ApiAgent-Pw1"))
        .await
        .json();
    assert_eq!(inline["Ticket"][0]["Title"], "renamed");
    assert_eq!(mock.session_creates(), 1);
}

#[tokio::test]
async fn sessions_die_after_delete_all_and_after_the_idle_time() {
    let mock = OtrsMock::builder()
        .session_idle_timeout(Duration::from_millis(400))
        .start()
        .await;
    let base = mock.base_url();
    let sid = login(&mock).await;
    assert!(
        get(&format!("{base}/Ticket/1?SessionID={sid}"))
            .await
            .json()["Ticket"]
            .is_array()
    );
    mock.expire_sessions();
    let answer = get(&format!("{base}/Ticket/1?SessionID={sid}")).await;
    assert_eq!(answer.error_code(), "TicketGet.AuthFail");
    let answer = get(&format!("{base}/Ticket?SessionID={sid}&Title=x")).await;
    assert_eq!(
        answer.json()["Error"]["ErrorMessage"],
        "TicketSearch: Authorization failing!"
    );
    let patch = json!({"SessionID": sid, "Ticket": {"State": "open"}});
    let answer = send(Method::PATCH, &format!("{base}/Ticket/1"), &patch).await;
    let expected = json!({"Error": {"ErrorCode": "TicketUpdate.AuthFail",
                                    "ErrorMessage": "TicketUpdate: User could not be authenticated!"}});
    assert_eq!(answer.json(), expected);

    // Using a session does not keep it alive: it dies the idle time after login.
    let sid = login(&mock).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _ = get(&format!("{base}/Ticket/1?SessionID={sid}")).await;
    }
    let answer = get(&format!("{base}/Ticket/1?SessionID={sid}")).await;
    assert_eq!(answer.error_code(), "TicketGet.AuthFail");
}

#[tokio::test]
async fn create_get_and_search_mix_numbers_and_strings() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    let created = create(&mock, &sid, "verify-1", "apicustomer", Some("REQ-42^x")).await;
    assert_eq!(created["TicketID"], json!("2"));
    assert_eq!(created["ArticleID"], json!(2));
    let number = created["TicketNumber"].as_str().unwrap();
    assert!(
        number.len() == 16 && number[8..15] == *"1000001",
        "{number}"
    );
    assert_eq!(created.as_object().unwrap().len(), 3);

    let url = format!(
        "{}/Ticket/2?SessionID={sid}&AllArticles=1&DynamicFields=1",
        mock.base_url()
    );
    let ticket = get(&url).await.json()["Ticket"][0].clone();
    assert_eq!(ticket["TicketID"], json!(2));
    assert_eq!(ticket["TicketNumber"], json!(number));
    assert_eq!(
        (&ticket["StateType"], &ticket["StateID"]),
        (&json!("new"), &json!(1))
    );
    assert_eq!(
        (&ticket["Queue"], &ticket["QueueID"]),
        (&json!("Raw"), &json!(2))
    );
    assert_eq!(
        (&ticket["CustomerID"], &ticket["Owner"]),
        (&json!("ACME"), &json!("apiagent"))
    );
    assert_eq!(
        (&ticket["SLAID"], &ticket["ServiceID"]),
        (&json!(""), &json!(""))
    );
    let fields = ticket["DynamicField"].as_array().unwrap();
    assert_eq!(
        fields[0],
        json!({"Name": "AccessRequestID", "Value": "REQ-42^x"})
    );
    assert!(fields.contains(&json!({"Name": "TicketCalendarStartTime", "Value": null})));
    let article = &ticket["Article"][0];
    assert_eq!(
        (&article["ArticleID"], &article["SenderTypeID"]),
        (&json!(2), &json!("1"))
    );
    assert_eq!(article["IsVisibleForCustomer"], json!(1));
    assert_eq!(article["Body"], "Body with umlauts: äöü €");
    assert_eq!(
        article["From"],
        "\"API Customer\" <apicustomer@example.com>"
    );

    let plain = get(&format!("{}/Ticket/2?SessionID={sid}", mock.base_url()))
        .await
        .json();
    let plain = plain["Ticket"][0].as_object().unwrap().clone();
    assert!(!plain.contains_key("Article") && !plain.contains_key("DynamicField"));

    let history = get(&format!(
        "{}/TicketHistory/2?SessionID={sid}",
        mock.base_url()
    ))
    .await;
    let first = &history.json()["TicketHistory"][0]["History"][0];
    assert_eq!(
        (&first["HistoryType"], &first["TicketID"]),
        (&json!("NewTicket"), &json!("2"))
    );
    assert_eq!(
        first["Name"],
        json!(format!("%%{number}%%Raw%%3 normal%%new%%2"))
    );

    let search = get(&format!(
        "{}/Ticket?SessionID={sid}&Title=verify-1",
        mock.base_url()
    ))
    .await;
    assert_eq!(search.json(), json!({"TicketID": ["2"]}));
    assert_eq!(mock.ticket_count(), 2);
    assert_eq!(
        mock.tickets_with_field("AccessRequestID", "REQ-42^x"),
        vec![2]
    );
}

#[tokio::test]
async fn unknown_ids_are_access_denied_even_inside_a_list() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    create(&mock, &sid, "second", "apicustomer", None).await;
    let base = mock.base_url();
    let expected = json!({"Error": {"ErrorCode": "TicketGet.AccessDenied",
                                    "ErrorMessage": "TicketGet: User does not have access to the ticket!"}});
    for path in [
        "Ticket/999999999",
        "Ticket/abc",
        "Ticket/1,999",
        "TicketList?TicketID=1&TicketID=9",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let answer = get(&format!("{base}/{path}{sep}SessionID={sid}")).await;
        assert_eq!(
            (answer.status, answer.json()),
            (200, expected.clone()),
            "{path}"
        );
    }
    for path in [
        "Ticket/2,1",
        "TicketList?TicketID=2,1",
        "TicketList?TicketID=2&TicketID=1",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let answer = get(&format!("{base}/{path}{sep}SessionID={sid}"))
            .await
            .json();
        let ids: Vec<&Value> = answer["Ticket"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["TicketID"])
            .collect();
        assert_eq!(ids, [&json!(2), &json!(1)], "{path}");
    }
    let patch = send(
        Method::PATCH,
        &format!("{base}/Ticket/77"),
        &json!({"SessionID": sid}),
    )
    .await;
    assert_eq!(patch.error_code(), "TicketUpdate.AccessDenied");
}

#[tokio::test]
async fn searches_without_hits_answer_an_empty_object() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    let base = format!("{}/Ticket?SessionID={sid}", mock.base_url());
    for query in [
        "Title=no-such-title",
        "StateType=Open",
        "SortBy=Nonsense",
        "Queues=NoSuchQueue",
    ] {
        let answer = get(&format!("{base}&{query}")).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "{}"),
            "{query}"
        );
    }
    for query in [
        "StateType=new",
        "States=new&States=open",
        "Title=Znuny*",
        "TicketNumber=2021012710123456",
    ] {
        assert_eq!(
            get(&format!("{base}&{query}")).await.json(),
            json!({"TicketID": ["1"]}),
            "{query}"
        );
    }
}

#[tokio::test]
async fn dynamic_field_conditions_filter_only_in_a_json_body() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    create(&mock, &sid, "one", "apicustomer", Some("REQ-1")).await;
    create(&mock, &sid, "two", "apicustomer", Some("REQ-2")).await;
    let url = format!(
        "{}/Ticket?SessionID={sid}&DynamicField_AccessRequestID=REQ-1",
        mock.base_url()
    );
    assert_eq!(get(&url).await.json(), json!({"TicketID": ["3", "2", "1"]}));

    let search = format!("{}/TicketSearch", mock.search_base_url());
    let body = json!({"SessionID": sid, "DynamicField_AccessRequestID": {"Equals": "REQ-1"}});
    assert_eq!(
        send(Method::POST, &search, &body).await.json(),
        json!({"TicketID": ["2"]})
    );
    let body = json!({"SessionID": sid, "DynamicField_AccessRequestID": {"Equals": "nomatch"}});
    assert_eq!(send(Method::POST, &search, &body).await.body, "{}");
    let body =
        json!({"SessionID": sid, "DynamicField": {"Name": "AccessRequestID", "Like": "REQ-*"}});
    assert_eq!(
        send(Method::POST, &search, &body).await.json(),
        json!({"TicketID": ["3", "2"]})
    );
    assert_eq!(mock.count("TicketSearchPost"), 3);

    // The standard service has no POST /TicketSearch.
    let answer = send(
        Method::POST,
        &format!("{}/TicketSearch", mock.base_url()),
        &body,
    )
    .await;
    assert_eq!(
        (answer.status, answer.content_type.as_str()),
        (500, "text/plain; charset=UTF-8")
    );
}

#[tokio::test]
async fn pending_states_need_a_pending_time() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    let url = format!("{}/Ticket/1", mock.base_url());
    let body = json!({"SessionID": sid, "Ticket": {"State": "pending reminder", "Title": "kept"}});
    let expected = json!({"Error": {"ErrorCode": "TicketUpdate.MissingParameter",
        "ErrorMessage": "Can't set a ticket on a pending state without pendig time!"}});
    assert_eq!(send(Method::PATCH, &url, &body).await.json(), expected);
    let ticket = mock.ticket_json(1).unwrap();
    assert_eq!(
        (&ticket["State"], &ticket["Title"]),
        (&json!("new"), &json!("kept"))
    );

    let body = json!({"SessionID": sid, "Ticket": {"State": "no such state"}});
    let answer = send(Method::PATCH, &url, &body).await.json();
    assert_eq!(
        answer["Error"]["ErrorMessage"],
        "TicketUpdate: Ticket->StateID or Ticket->State parameter is invalid!"
    );

    let body = json!({"SessionID": sid, "Ticket": {"State": "pending reminder", "PendingTime": {"Diff": 60}}});
    assert_eq!(send(Method::PATCH, &url, &body).await.status, 200);
    let ticket = mock.ticket_json(1).unwrap();
    assert_eq!(ticket["StateType"], "pending reminder");
    let until = ticket["UntilTime"].as_i64().unwrap();
    assert!((3590..=3600).contains(&until), "{until}");
}

#[tokio::test]
async fn transport_errors_are_plain_text_500s() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    let base = mock.base_url();
    let answer = call(
        Method::DELETE,
        &format!("{base}/Ticket/1?SessionID={sid}"),
        None,
    )
    .await;
    assert_eq!(
        (answer.status, answer.content_type.as_str()),
        (500, "text/plain; charset=UTF-8")
    );
    assert_eq!(
        answer.body,
        "HTTP::REST Error while determine Operation for request URI '/Ticket/1'."
    );
    let answer = get(&format!("{base}/NoSuchRoute?SessionID={sid}")).await;
    assert_eq!(
        answer.body,
        "HTTP::REST Error while determine Operation for request URI '/NoSuchRoute'."
    );
    let answer = call(Method::POST, &format!("{base}/Ticket"), Some("{not json")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (500, "Error while decoding request content.")
    );
    let unknown = get(&format!("{}/Ticket/1", mock.webservice_url("NoSuchWS"))).await;
    assert_eq!((unknown.status, unknown.body.as_str()), (500, ""));
    assert_eq!(
        (
            mock.count(super::UNKNOWN_ROUTE),
            mock.count(super::UNKNOWN_WEBSERVICE)
        ),
        (2, 1)
    );

    let proxied = OtrsMock::builder().with_proxy(true).start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let dropped = client
        .get(format!("{}/Ticket/1", proxied.webservice_url("NoSuchWS")))
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection must close without an answer"
    );
}

#[tokio::test]
async fn customers_see_only_their_own_tickets_and_public_articles() {
    let mock = OtrsMock::builder()
        .customer_user("other", "Other-Pw1", "OTHERCO")
        .start()
        .await;
    let sid = login(&mock).await;
    create(&mock, &sid, "mine", "apicustomer", None).await;
    create(&mock, &sid, "theirs", "other", None).await;
    let note = json!({"SessionID": sid, "Article": {"Subject": "note", "Body": "internal",
        "ContentType": "text/plain; charset=utf8", "IsVisibleForCustomer": 0}});
    let answer = send(
        Method::PATCH,
        &format!("{}/Ticket/2", mock.base_url()),
        &note,
    )
    .await
    .json();
    assert_eq!(answer["ArticleID"], json!(4));

    let login = json!({"CustomerUserLogin": "apicustomer", "Password": "ApiCustomer-Pw1"});
    let customer = send(
        Method::POST,
        &format!("{}/Session", mock.base_url()),
        &login,
    )
    .await
    .json();
    let csid = customer["SessionID"].as_str().unwrap();
    let base = mock.base_url();
    assert_eq!(
        get(&format!("{base}/Ticket?SessionID={csid}")).await.json(),
        json!({"TicketID": ["2"]})
    );
    assert_eq!(
        get(&format!("{base}/Ticket?SessionID={sid}")).await.json(),
        json!({"TicketID": ["3", "2", "1"]})
    );
    let denied = get(&format!("{base}/Ticket/3?SessionID={csid}")).await;
    assert_eq!(denied.error_code(), "TicketGet.AccessDenied");
    let own = get(&format!("{base}/Ticket/2?SessionID={csid}&AllArticles=1"))
        .await
        .json();
    assert_eq!(own["Ticket"][0]["Article"].as_array().unwrap().len(), 1);
    assert_eq!(mock.articles(2).len(), 2);
    let history = get(&format!("{base}/TicketHistory/2?SessionID={csid}"))
        .await
        .json();
    assert_eq!(
        history["Error"]["ErrorMessage"],
        "TicketHistoryGet: User needs to an Agent!"
    );
}

#[tokio::test]
async fn create_validates_in_the_order_of_the_perl_code() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    let url = format!("{}/Ticket", mock.base_url());
    let ticket = json!({"Title": "t", "Queue": "Raw", "State": "new", "Priority": "3 normal", "CustomerUser": "apicustomer"});
    let article = json!({"Subject": "s", "Body": "b", "ContentType": "text/plain; charset=utf8"});
    let cases = [
        (
            json!({"Ticket": ticket}),
            "TicketCreate: UserLogin, CustomerUserLogin or SessionID is required!",
        ),
        (
            json!({"SessionID": sid, "Ticket": ticket}),
            "TicketCreate: Article parameter is missing or not valid!",
        ),
        (
            json!({"SessionID": sid, "Article": article}),
            "TicketCreate: Ticket parameter is missing or not valid!",
        ),
        (
            json!({"SessionID": sid, "Article": article, "Ticket": {"Title": "t", "CustomerUser": "apicustomer", "Queue": "NoSuchQueue"}}),
            "TicketCreate: Ticket->QueueID or Ticket->Queue parameter is invalid!",
        ),
        (
            json!({"SessionID": sid, "Article": article, "Ticket": {"Title": "t", "Queue": "Raw"}}),
            "TicketCreate: Ticket->CustomerUser parameter is missing!",
        ),
        (
            json!({"SessionID": sid, "Article": {"Subject": "s", "Body": "b"}, "Ticket": ticket}),
            "TicketCreate: Article->ContentType or Ticket->MimeType and Article->Charset parameters are required!",
        ),
        (
            json!({"SessionID": sid, "Article": article, "Ticket": ticket, "DynamicField": {"Name": "Nope", "Value": "x"}}),
            "TicketCreate: DynamicField->Name parameter is invalid!",
        ),
    ];
    for (body, message) in cases {
        let answer = send(Method::POST, &url, &body).await;
        assert_eq!(
            (
                answer.status,
                answer.json()["Error"]["ErrorMessage"].clone()
            ),
            (200, json!(message))
        );
    }
    assert_eq!(
        mock.ticket_count(),
        1,
        "no failed create may leave a ticket behind"
    );
}

#[tokio::test]
async fn faults_come_first_and_every_request_is_counted() {
    let mock = OtrsMock::start().await;
    mock.faults().fail_next(1, 503);
    let url = format!("{}/Session", mock.base_url());
    let good = json!({"UserLogin": "apiagent", "Password": "ApiAgent-Pw1"});
    assert_eq!(send(Method::POST, &url, &good).await.status, 503);
    assert_eq!(
        mock.session_creates(),
        0,
        "a faulted request must not reach the logic"
    );
    assert_eq!(send(Method::POST, &url, &good).await.status, 200);
    assert_eq!(
        (
            mock.count("SessionCreate"),
            mock.counter().count("POST", "SessionCreate")
        ),
        (2, 2)
    );
    assert_eq!(mock.requests_seen(), 2);
}

#[tokio::test]
async fn backend_drives_states_and_reads_comments_and_correlation() {
    let mock = OtrsMock::start().await;
    let sid = login(&mock).await;
    create(&mock, &sid, "by field", "apicustomer", Some("REQ-7")).await;
    create(&mock, &sid, "Access [corr:REQ-7]", "apicustomer", None).await;
    let id = CorrelationId::new("REQ-7");
    assert_eq!(mock.count_with_correlation(&id).await.unwrap(), 2);

    let r = TicketRef::by_id("2");
    mock.set_ticket_state(&r, TicketState::Resolved)
        .await
        .unwrap();
    assert_eq!(mock.ticket_json(2).unwrap()["State"], "closed successful");
    mock.set_ticket_state(&r, TicketState::OnHold)
        .await
        .unwrap();
    let ticket = mock.ticket_json(2).unwrap();
    assert!(ticket["State"] == "pending reminder" && ticket["UntilTime"].as_i64() > Some(0));
    mock.set_ticket_state(&r, TicketState::Cancelled)
        .await
        .unwrap();
    assert_eq!(mock.ticket_json(2).unwrap()["StateType"], "removed");
    assert!(
        mock.set_ticket_state(&TicketRef::by_id("99"), TicketState::Closed)
            .await
            .is_err()
    );

    let public = json!({"SessionID": sid, "Article": {"Subject": "c", "Body": "visible",
        "ContentType": "text/plain; charset=utf8"}});
    send(
        Method::PATCH,
        &format!("{}/Ticket/2", mock.base_url()),
        &public,
    )
    .await;
    let comments = mock.comments(&r).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (comments[0].body.as_str(), comments[0].visibility),
        ("visible", Visibility::Public)
    );
}
