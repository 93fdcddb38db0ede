//! Item routes: paging, add/update/delete answers, trash, rules and side effects.

use reqwest::Method;
use serde_json::json;

use super::{Api, basic};
use crate::glpi::{GlpiMock, Itemtype};

#[tokio::test]
async fn user_paging_is_exact_206_200_and_400() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    // Users 2..=6 on a fresh install.
    let first = api.get("/User?range=0-1").await;
    assert_eq!(
        (first.status, first.header("content-range")),
        (206, Some("0-1/5"))
    );
    assert_eq!(first.header("accept-range"), Some("User 1000"));
    let ids: Vec<i64> = first
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    let all = api.get("/User?range=0-66").await;
    assert_eq!(
        (all.status, all.header("content-range")),
        (200, Some("0-4/5"))
    );
    assert_eq!(all.body.as_array().unwrap().len(), 5);
    let at_end = api.get("/User?range=5-9").await;
    assert_eq!(
        (at_end.status, at_end.header("content-range")),
        (206, Some("5-4/5"))
    );
    assert_eq!(at_end.body, json!([]));
    let past = api.get("/User?range=6-9").await;
    assert_eq!(past.status, 400);
    let m = format!(
        "Provided range exceed total count of data: 5; view documentation in your browser at {}/#ERROR_RANGE_EXCEED_TOTAL",
        mock.base_url()
    );
    assert_eq!(past.body, json!(["ERROR_RANGE_EXCEED_TOTAL", m]));
    let bad = api.get("/User?range=1").await;
    assert_eq!((bad.status, bad.code()), (400, "ERROR"));

    // No range: `list_limit` (20 for glpi) rows, but the header says 0-20.
    for i in 0..20 {
        mock.create(Itemtype::User, &json!({"name": format!("paging{i}")}))
            .unwrap();
    }
    let default = api.get("/User").await;
    assert_eq!(default.body.as_array().unwrap().len(), 20);
    assert_eq!(
        (default.status, default.header("content-range")),
        (206, Some("0-20/25"))
    );
    // A second profile counts the user twice in the total (GLPI's LEFT JOIN).
    let second = api
        .post(
            "/Profile_User",
            json!({"input": {"users_id": 2, "profiles_id": 6, "entities_id": 0}}),
        )
        .await;
    assert_eq!(second.status, 201);
    let inflated = api.get("/User?range=0-999").await;
    assert_eq!(inflated.header("content-range"), Some("0-25/26"));
    assert_eq!(
        inflated.body.as_array().unwrap().len(),
        25,
        "rows stay distinct"
    );
    let empty = api.get("/Group_User?range=0-9").await;
    assert_eq!(
        (empty.status, empty.header("content-range"), &empty.body),
        (200, None, &json!([]))
    );
}

#[tokio::test]
async fn ticket_create_get_update_with_string_keys() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    let created = api.post("/Ticket", json!({"input": {"name": "t <b> & c [corr:c1]", "content": "x", "type": 1, "urgency": 4}})).await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.body,
        json!({"id": 1, "message": "Item successfully added: t &#60;b&#62; &#38; c [corr:c1] (1)"})
    );
    assert_eq!(
        created.header("location"),
        Some(format!("{}/Ticket/1", mock.base_url()).as_str())
    );
    let ticket = api.get("/Ticket/1").await.body;
    assert_eq!(
        (ticket["status"].as_i64(), ticket["priority"].as_i64()),
        (Some(1), Some(4))
    );
    assert_eq!(
        ticket["name"], "t &#60;b&#62; &#38; c [corr:c1]",
        "stored sanitized"
    );
    assert_eq!(
        ticket["links"][0],
        json!({"rel": "Entity", "href": format!("{}/Entity/0", mock.base_url())})
    );
    let raw = api
        .call(
            Method::GET,
            "/Ticket/1",
            None,
            &[("X-GLPI-Sanitized-Content", "false")],
        )
        .await;
    assert_eq!(raw.body["name"], "t <b> & c [corr:c1]");
    let expanded = api.get("/Ticket/1?expand_dropdowns=true").await.body;
    assert_eq!(
        (
            expanded["entities_id"].as_str(),
            expanded["users_id_recipient"].as_str()
        ),
        (Some("Root entity"), Some("glpi"))
    );
    assert_eq!(
        (
            expanded["requesttypes_id"].as_str(),
            expanded["itilcategories_id"].as_i64()
        ),
        (Some("Helpdesk"), Some(0))
    );

    let solved = api.put("/Ticket/1", json!({"input": {"status": 5}})).await;
    assert_eq!(
        (solved.status, &solved.body),
        (200, &json!([{"1": true, "message": ""}]))
    );
    let closed = api
        .call(
            Method::PATCH,
            "/Ticket",
            Some(&json!({"input": {"id": 1, "status": 6}})),
            &[],
        )
        .await;
    assert_eq!(closed.body, json!([{"1": true, "message": ""}]));
    let ticket = mock.ticket_json(1).unwrap();
    assert_eq!(ticket["status"], 6);
    assert!(ticket["solvedate"].is_string() && ticket["closedate"].is_string());
    assert!(mock.set_ticket_status(1, 2));
    assert!(
        mock.ticket_json(1).unwrap()["closedate"].is_null(),
        "reopening clears the dates"
    );

    let unknown = api
        .put("/Ticket/999999999", json!({"input": {"status": 2}}))
        .await;
    assert_eq!(
        (unknown.status, &unknown.body),
        (400, &json!(["ERROR_GLPI_UPDATE", null]))
    );
    let batch = api
        .put(
            "/Ticket",
            json!({"input": [{"id": 1, "urgency": 1}, {"id": 99}]}),
        )
        .await;
    assert_eq!(
        (batch.status, &batch.body),
        (
            207,
            &json!(["ERROR_GLPI_PARTIAL_UPDATE", [{"1": true, "message": ""}]])
        )
    );
    let no_input = api.put("/Ticket/1", json!({"status": 1})).await;
    assert_eq!((no_input.status, no_input.code()), (400, "ERROR_BAD_ARRAY"));
    let missing = api.get("/Ticket/42").await;
    assert_eq!(
        (missing.status, &missing.body),
        (404, &json!(["ERROR_ITEM_NOT_FOUND", "Item not found"]))
    );
    assert_eq!(mock.counter().count("PUT", "updateItems:Ticket"), 4);
}

#[tokio::test]
async fn trash_then_purge_with_string_keys() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    let input = json!({"input": {"name": "jdoe", "realname": "Doe", "firstname": "Jane", "password": "pw1", "password2": "pw1", "_useremails": ["jdoe@example.test"]}});
    let created = api.post("/User", input).await;
    assert_eq!(
        created.body,
        json!({"id": 7, "message": "Item successfully added: Doe Jane"})
    );
    let trashed = api.delete("/User/7").await;
    assert_eq!(
        (trashed.status, &trashed.body),
        (200, &json!([{"7": true, "message": ""}]))
    );
    assert_eq!(
        api.get("/User/7").await.body["is_deleted"],
        1,
        "still readable by id"
    );
    let listed = api.get("/User?range=0-99&only_id=1").await;
    assert!(
        !listed.body.as_array().unwrap().iter().any(|u| u["id"] == 7),
        "hidden from lists"
    );
    let trash = api.get("/User?is_deleted=1").await;
    assert_eq!(trash.body[0]["id"], 7);
    let login = api
        .call(
            Method::GET,
            "/initSession",
            None,
            &[("Authorization", &basic("jdoe", "pw1"))],
        )
        .await;
    assert_eq!(login.status, 401, "trashed users cannot log in");

    let purged = api.delete("/User/7?force_purge=true").await;
    assert_eq!(purged.body, json!([{"7": true, "message": ""}]));
    assert_eq!(api.get("/User/7").await.status, 404);
    assert!(
        mock.user_emails(7).is_empty() && mock.user_profiles(7).is_empty(),
        "cascades"
    );
    let again = api.delete("/User/7?force_purge=true").await;
    assert_eq!(
        (again.status, &again.body),
        (400, &json!(["ERROR_GLPI_DELETE", "Item not found"]))
    );

    let group = api.post("/Group", json!({"input": {"name": "g1"}})).await;
    assert_eq!(
        group.body,
        json!({"id": 1, "message": "Item successfully added: g1"})
    );
    let gone = api.delete("/Group/1").await;
    assert_eq!(gone.body, json!([{"1": true, "message": ""}]));
    assert_eq!(api.get("/Group/1").await.status, 404, "no trash for groups");
    let batch = api
        .call(
            Method::DELETE,
            "/Ticket",
            Some(&json!({"input": [{"id": 5}, {"id": 6}], "force_purge": true})),
            &[],
        )
        .await;
    let expected = json!(["ERROR_GLPI_DELETE", [{"5": false, "message": "Item not found"}, {"6": false, "message": "Item not found"}]]);
    assert_eq!((batch.status, &batch.body), (400, &expected));
}

#[tokio::test]
async fn duplicate_login_and_user_rules() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    let dup = api.post("/User", json!({"input": {"name": "GLPI"}})).await;
    assert_eq!(
        (dup.status, &dup.body),
        (
            400,
            &json!(["ERROR_GLPI_ADD", "Unable to add. The user already exists."])
        )
    );
    let invalid = api.post("/User", json!({"input": {"realname": "x"}})).await;
    assert_eq!(
        invalid.body[1],
        "The login is not valid. Unable to add the user."
    );
    let mismatch = api
        .post(
            "/User",
            json!({"input": {"name": "pw", "password": "a", "password2": "b"}}),
        )
        .await;
    assert_eq!(mismatch.body[1], "Error: the two passwords do not match");
    let bulk = api
        .post(
            "/User",
            json!({"input": [{"name": "bulk.one"}, {"name": "glpi"}]}),
        )
        .await;
    assert_eq!(bulk.status, 207);
    assert_eq!(
        bulk.body,
        json!(["ERROR_GLPI_PARTIAL_ADD", [
        {"id": 7, "message": "Item successfully added: bulk.one"},
        {"id": false, "message": "Unable to add. The user already exists."}]])
    );
    let ok = api
        .post(
            "/User",
            json!({"input": [{"name": "a.one"}, {"name": "a.two"}]}),
        )
        .await;
    let base = mock.base_url();
    assert_eq!(
        ok.header("link"),
        Some(format!("{base}/User/8,{base}/User/9").as_str())
    );
    // Self-Service on the Root entity, dynamic, from the default rule.
    let links = api.get("/User/7/Profile_User").await.body;
    assert_eq!(
        (
            links[0]["profiles_id"].as_i64(),
            links[0]["is_dynamic"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let rename = api.put("/User/7", json!({"input": {"name": "glpi"}})).await;
    assert_eq!(
        rename.body,
        json!([{"7": true, "message": "Unable to update login. A user already exists."}])
    );
    assert_eq!(
        mock.item_json(Itemtype::User, 7).unwrap()["name"],
        "bulk.one"
    );
}

#[tokio::test]
async fn followups_validations_and_memberships() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    let ticket = mock
        .create(Itemtype::Ticket, &json!({"name": "v"}))
        .unwrap();
    let fu = api.post("/ITILFollowup", json!({"input": {"itemtype": "Ticket", "items_id": ticket, "content": "<p>hi</p>", "is_private": 1}})).await;
    assert_eq!(fu.body, json!({"id": 1, "message": ""}));
    let orphan = api
        .post(
            &format!("/Ticket/{ticket}/ITILFollowup"),
            json!({"input": {"content": "x"}}),
        )
        .await;
    assert_eq!(
        orphan.body,
        json!([
            "ERROR_GLPI_ADD",
            "You don't have permission to perform this action."
        ])
    );
    let listed = api.get(&format!("/Ticket/{ticket}/ITILFollowup")).await;
    assert_eq!(
        (
            listed.header("content-range"),
            listed.body[0]["content"].as_str()
        ),
        (Some("0-0/1"), Some("&#60;p&#62;hi&#60;/p&#62;"))
    );
    assert_eq!(mock.followups(ticket).len(), 1);

    let v = api
        .post(
            "/TicketValidation",
            json!({"input": {"tickets_id": ticket, "users_id_validate": 4}}),
        )
        .await;
    assert_eq!(v.body["id"], 1);
    assert_eq!(
        mock.ticket_json(ticket).unwrap()["global_validation"],
        2,
        "waiting"
    );
    assert!(mock.set_validation(1, 4));
    assert_eq!(
        mock.ticket_json(ticket).unwrap()["global_validation"],
        4,
        "refused"
    );
    assert!(
        mock.validations(ticket)[0]["validation_date"].is_string(),
        "answered by the approver"
    );
    api.put("/TicketValidation/1", json!({"input": {"status": 3}}))
        .await;
    assert_eq!(
        mock.ticket_json(ticket).unwrap()["global_validation"],
        3,
        "accepted"
    );

    let group = mock
        .create(Itemtype::Group, &json!({"name": "admins"}))
        .unwrap();
    let member = api
        .post(
            "/Group_User",
            json!({"input": {"groups_id": group, "users_id": 5}}),
        )
        .await;
    assert_eq!(
        member.body,
        json!({"id": 1, "message": "Item successfully added: General - ID 1"})
    );
    let dup = api
        .post(
            "/Group_User",
            json!({"input": {"groups_id": group, "users_id": 5}}),
        )
        .await;
    assert_eq!(
        dup.body,
        json!(["ERROR_GLPI_ADD", "Duplicate entry '5-1' for key 'unicity'"])
    );
    assert_eq!(
        api.get("/User/5/Group_User").await.body[0]["groups_id"],
        group
    );
    assert_eq!(mock.group_members(group), [5]);
    assert!(mock.purge(Itemtype::Group, group));
    assert!(
        mock.user_groups(5).is_empty(),
        "purging a group purges its memberships"
    );
}

#[tokio::test]
async fn entities_created_after_login_are_out_of_reach() {
    let mock = GlpiMock::start().await;
    let before = Api::login(&mock).await;
    let created = before
        .post(
            "/Entity",
            json!({"input": {"name": "child", "entities_id": 0}}),
        )
        .await;
    assert_eq!(
        created.body,
        json!({"id": 1, "message": "Item successfully added: child"})
    );
    let hidden = before.get("/Entity/1").await;
    assert_eq!((hidden.status, hidden.code()), (403, "ERROR_RIGHT_MISSING"));
    let after = Api::login(&mock).await;
    let entity = after.get("/Entity/1").await.body;
    assert_eq!(
        (
            entity["completename"].as_str(),
            entity["ancestors_cache"].as_str()
        ),
        (Some("Root entity > child"), Some("[0]"))
    );
    assert_eq!(
        after.get("/Entity?range=0-9").await.header("content-range"),
        Some("0-1/2")
    );
}

#[tokio::test]
async fn group_trees_and_validation_rules() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    let parent = mock
        .create(Itemtype::Group, &json!({"name": "parent"}))
        .unwrap();
    let child = api
        .post(
            "/Group",
            json!({"input": {"name": "child", "groups_id": parent}}),
        )
        .await;
    let child = api.get(&format!("/Group/{}", child.body["id"])).await.body;
    assert_eq!(child["completename"], "parent > child");
    assert_eq!(
        (child["level"].as_i64(), child["ancestors_cache"].as_str()),
        (Some(2), Some("{\"1\":1}"))
    );
    let ticket = mock
        .create(Itemtype::Ticket, &json!({"name": "t"}))
        .unwrap();
    let no_approver = api
        .post(
            "/TicketValidation",
            json!({"input": {"tickets_id": ticket}}),
        )
        .await;
    assert_eq!(
        (no_approver.status, &no_approver.body),
        (400, &json!(["ERROR_GLPI_ADD", ""]))
    );
    let no_ticket = api
        .post(
            "/TicketValidation",
            json!({"input": {"tickets_id": 99, "users_id_validate": 4}}),
        )
        .await;
    assert_eq!(no_ticket.body, json!(["ERROR_GLPI_ADD", ""]));
    assert_eq!(
        mock.ticket_json(ticket).unwrap()["global_validation"],
        1,
        "none requested"
    );
}

#[tokio::test]
async fn search_text_filters_lists_and_breaks_on_unknown_fields() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    let found = api.get("/User?searchText[name]=^tech$").await;
    assert_eq!(
        (found.header("content-range"), &found.body[0]["id"]),
        (Some("0-0/1"), &json!(4))
    );
    let broken = api.get("/User?searchText[all]=glpi").await;
    assert_eq!(broken.status, 200);
    assert_eq!(
        (broken.header("content-type"), &broken.body),
        (Some("text/html; charset=UTF-8"), &json!(""))
    );
}
