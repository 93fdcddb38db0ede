//! The standard differential script: the exchanges of `shared/glpi/REST.md`, plus the
//! error and paging edges the mock models. It creates a ticket, a user and a group named
//! after the run id and purges them at the end, so it can run against a shared server.

use serde_json::json;

use super::Step;

/// The script, for run id `run` (make it unique per run on a shared server).
pub fn standard_script(run: &str) -> Vec<Step> {
    let mut s = sessions();
    s.extend(tickets(run));
    s.extend(changes(run));
    s.extend(accounts(run));
    s.extend(paging());
    s.extend(cleanup());
    s.extend(errors());
    s
}

fn sessions() -> Vec<Step> {
    let no_app = Step::new("initSession without App-Token", "GET", "/initSession")
        .headers(&[("Authorization", "user_token {user_token}")]);
    let wrong_app =
        Step::new("initSession with a wrong App-Token", "GET", "/initSession").headers(&[
            ("App-Token", "wrong"),
            ("Authorization", "user_token {user_token}"),
        ]);
    let bad_token = Step::new("initSession with a wrong user_token", "GET", "/initSession")
        .headers(&[("App-Token", "{app}"), ("Authorization", "user_token nope")]);
    let bad_basic =
        Step::new("initSession with a wrong password", "GET", "/initSession").headers(&[
            ("App-Token", "{app}"),
            ("Authorization", "Basic Z2xwaTp3cm9uZw=="),
        ]);
    let no_params = Step::new("initSession without credentials", "GET", "/initSession")
        .headers(&[("App-Token", "{app}")]);
    let basic = Step::new("initSession with Basic", "GET", "/initSession")
        .headers(&[("App-Token", "{app}"), ("Authorization", "Basic {basic}")])
        .save("basic_session", "/session_token");
    let kill = Step::new("killSession", "GET", "/killSession")
        .headers(&[("App-Token", "{app}"), ("Session-Token", "{basic_session}")]);
    let killed = Step::new(
        "getFullSession with a killed session",
        "GET",
        "/getFullSession",
    )
    .headers(&[("App-Token", "{app}"), ("Session-Token", "{basic_session}")]);
    let login = Step::new("initSession with user_token", "GET", "/initSession")
        .headers(&[
            ("App-Token", "{app}"),
            ("Authorization", "user_token {user_token}"),
        ])
        .save("session", "/session_token");
    let no_session = Step::new("GET /Ticket without Session-Token", "GET", "/Ticket")
        .headers(&[("App-Token", "{app}")]);
    let bad_session = Step::new("GET /Ticket with an unknown session", "GET", "/Ticket")
        .headers(&[("App-Token", "{app}"), ("Session-Token", "notasession")]);
    let app_after_login = Step::new("GET /Ticket with a wrong App-Token", "GET", "/Ticket")
        .headers(&[("App-Token", "wrong"), ("Session-Token", "{session}")]);
    vec![
        no_app,
        wrong_app,
        bad_token,
        bad_basic,
        no_params,
        basic,
        kill,
        killed,
        login,
        no_session,
        bad_session,
        app_after_login,
        Step::new("getMyProfiles", "GET", "/getMyProfiles"),
        Step::new("getMyEntities", "GET", "/getMyEntities"),
    ]
}

fn tickets(run: &str) -> Vec<Step> {
    let corr = format!("[corr:{run}]");
    let search = |name: &str, value: &str| {
        let path = format!(
            "/search/Ticket?criteria%5B0%5D%5Bfield%5D=1&criteria%5B0%5D%5Bsearchtype%5D=contains\
             &criteria%5B0%5D%5Bvalue%5D={}&forcedisplay%5B0%5D=2&forcedisplay%5B1%5D=12\
             &forcedisplay%5B2%5D=52",
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
        );
        Step::new(name, "GET", &path)
    };
    vec![
        Step::new("POST /Ticket", "POST", "/Ticket")
            .json(&json!({"input": {"name": format!("diff {run} {corr}"),
                                    "content": "a <b> & c", "type": 2, "urgency": 4}}))
            .save("ticket", "/id"),
        Step::new("POST /Ticket with a list", "POST", "/Ticket")
            .json(&json!({"input": [{"name": format!("diff {run} bulk one")},
                                    {"content": format!("diff {run} bulk two")}]}))
            .save("bulk1", "/0/id")
            .save("bulk2", "/1/id"),
        Step::new("GET /Ticket/:id", "GET", "/Ticket/{ticket}"),
        Step::new(
            "GET /Ticket/:id expanded",
            "GET",
            "/Ticket/{ticket}?expand_dropdowns=true",
        ),
        Step::new("GET /Ticket/:id unsanitized", "GET", "/Ticket/{ticket}")
            .header("X-GLPI-Sanitized-Content", "false"),
        Step::new("POST /ITILFollowup", "POST", "/ITILFollowup").json(
            &json!({"input": {"itemtype": "Ticket", "items_id": "{ticket}",
                                    "content": "follow-up", "is_private": 1}}),
        ),
        Step::new(
            "POST /Ticket/:id/ITILFollowup without parent",
            "POST",
            "/Ticket/{ticket}/ITILFollowup",
        )
        .json(&json!({"input": {"content": "no parent in input"}})),
        Step::new(
            "GET /Ticket/:id/ITILFollowup",
            "GET",
            "/Ticket/{ticket}/ITILFollowup",
        ),
        Step::new("POST /TicketValidation", "POST", "/TicketValidation")
            .json(
                &json!({"input": {"tickets_id": "{ticket}", "users_id_validate": 4,
                                    "comment_submission": "please"}}),
            )
            .save("validation", "/id"),
        Step::new(
            "POST /TicketValidation without approver",
            "POST",
            "/TicketValidation",
        )
        .json(&json!({"input": {"tickets_id": "{ticket}"}})),
        Step::new(
            "GET /Ticket/:id/TicketValidation",
            "GET",
            "/Ticket/{ticket}/TicketValidation",
        ),
        Step::new(
            "PUT /TicketValidation/:id",
            "PUT",
            "/TicketValidation/{validation}",
        )
        .json(&json!({"input": {"status": 3}}))
        .id_keys(),
        Step::new("PUT /Ticket/:id", "PUT", "/Ticket/{ticket}")
            .json(&json!({"input": {"status": 5}}))
            .id_keys(),
        Step::new("PATCH /Ticket with id in input", "PATCH", "/Ticket")
            .json(&json!({"input": {"id": "{ticket}", "status": 6}}))
            .id_keys(),
        Step::new("PUT /Ticket batch, one unknown", "PUT", "/Ticket")
            .json(&json!({"input": [{"id": "{ticket}", "status": 6}, {"id": 999_999_999}]}))
            .id_keys(),
        Step::new("PUT /Ticket without id", "PUT", "/Ticket")
            .json(&json!({"input": {"status": 1}})),
        search("search Ticket by title", &corr),
        search("search Ticket without match", &format!("nothing-{run}")),
        Step::new(
            "search Ticket withindexes",
            "GET",
            "/search/Ticket?withindexes=1&forcedisplay%5B0%5D=2&range=0-0\
             &criteria%5B0%5D%5Bfield%5D=2&criteria%5B0%5D%5Bsearchtype%5D=equals\
             &criteria%5B0%5D%5Bvalue%5D={ticket}",
        )
        .id_keys(),
        Step::new(
            "search Ticket by status, first of several",
            "GET",
            &format!(
                "/search/Ticket?range=0-0&criteria%5B0%5D%5Bfield%5D=12&criteria%5B0%5D%5Bsearchtype%5D=equals\
             &criteria%5B0%5D%5Bvalue%5D=all&criteria%5B1%5D%5Blink%5D=AND\
             &criteria%5B1%5D%5Bfield%5D=1&criteria%5B1%5D%5Bsearchtype%5D=contains\
             &criteria%5B1%5D%5Bvalue%5D={}&forcedisplay%5B0%5D=2",
                url::form_urlencoded::byte_serialize(run.as_bytes()).collect::<String>()
            ),
        ),
        Step::new("PUT unknown Ticket", "PUT", "/Ticket/999999999")
            .json(&json!({"input": {"status": 2}})),
    ]
}

fn changes(run: &str) -> Vec<Step> {
    vec![
        Step::new("POST /Change", "POST", "/Change")
            .json(&json!({"input": {"name": format!("diff change {run}"), "content": "c"}}))
            .save("change", "/id"),
        Step::new("POST /ChangeValidation", "POST", "/ChangeValidation")
            .json(&json!({"input": {"changes_id": "{change}", "users_id_validate": 4}}))
            .save("change_validation", "/id"),
        Step::new(
            "PUT /ChangeValidation/:id refused",
            "PUT",
            "/ChangeValidation/{change_validation}",
        )
        .json(&json!({"input": {"status": 4}}))
        .id_keys(),
        Step::new("GET /Change/:id", "GET", "/Change/{change}"),
        Step::new(
            "GET /Change/:id/ChangeValidation",
            "GET",
            "/Change/{change}/ChangeValidation",
        ),
        Step::new(
            "DELETE /Change/:id purge",
            "DELETE",
            "/Change/{change}?force_purge=1",
        )
        .id_keys(),
        Step::new(
            "GET purged ChangeValidation",
            "GET",
            "/ChangeValidation/{change_validation}",
        ),
    ]
}

fn accounts(run: &str) -> Vec<Step> {
    let login = format!("user.{run}");
    let user = json!({"input": {"name": login, "realname": "Doe", "firstname": "Jane",
        "password": "S3cret-pw!", "password2": "S3cret-pw!",
        "_useremails": [format!("{login}@example.test")], "is_active": 1}});
    let user_search = format!(
        "/search/User?criteria%5B0%5D%5Bfield%5D=1&criteria%5B0%5D%5Bsearchtype%5D=contains\
         &criteria%5B0%5D%5Bvalue%5D=%5E{login}%24&forcedisplay%5B0%5D=2&forcedisplay%5B1%5D=5\
         &forcedisplay%5B2%5D=13&forcedisplay%5B3%5D=20&forcedisplay%5B4%5D=80&forcedisplay%5B5%5D=8"
    );
    vec![
        Step::new("POST /User", "POST", "/User").json(&user).save("user", "/id"),
        Step::new("POST /User duplicate", "POST", "/User")
            .json(&json!({"input": {"name": login.to_uppercase()}})),
        Step::new("POST /User invalid login", "POST", "/User").json(&json!({"input": {"realname": "x"}})),
        Step::new("GET /User/:id", "GET", "/User/{user}"),
        Step::new("GET /User/:id/UserEmail", "GET", "/User/{user}/UserEmail"),
        Step::new("GET /User/:id without links", "GET", "/User/{user}?get_hateoas=false"),
        Step::new("GET /User?searchText", "GET", &format!("/User?searchText%5Bname%5D=%5E{login}%24")),
        Step::new("POST /UserEmail", "POST", "/UserEmail")
            .json(&json!({"input": {"users_id": "{user}", "email": format!("second.{login}@example.test")}})),
        Step::new("search User default columns", "GET", &format!(
            "/search/User?criteria%5B0%5D%5Bfield%5D=5&criteria%5B0%5D%5Bsearchtype%5D=contains\
             &criteria%5B0%5D%5Bvalue%5D={login}")),
        Step::new("GET /User/:id/Profile_User", "GET", "/User/{user}/Profile_User"),
        Step::new("POST /Group", "POST", "/Group")
            .json(&json!({"input": {"name": format!("group.{run}"), "is_recursive": 1}}))
            .save("group", "/id"),
        Step::new("GET /Group/:id", "GET", "/Group/{group}"),
        Step::new("POST /Group child", "POST", "/Group")
            .json(&json!({"input": {"name": format!("child.{run}"), "groups_id": "{group}"}}))
            .save("group_child", "/id"),
        Step::new("GET /Group/:id child", "GET", "/Group/{group_child}"),
        Step::new("POST /Group_User", "POST", "/Group_User")
            .json(&json!({"input": {"groups_id": "{group}", "users_id": "{user}"}})),
        Step::new("POST /Group_User duplicate", "POST", "/Group_User")
            .json(&json!({"input": {"groups_id": "{group}", "users_id": "{user}"}})),
        Step::new("POST /Group_User unknown user", "POST", "/Group_User")
            .json(&json!({"input": {"groups_id": "{group}", "users_id": 999_999_999}})),
        Step::new("GET /User/:id/Group_User", "GET", "/User/{user}/Group_User"),
        Step::new("GET /Group/:id/Group_User", "GET", "/Group/{group}/Group_User"),
        Step::new("search User by login", "GET", &user_search),
        Step::new("search Profile", "GET",
            "/search/Profile?criteria%5B0%5D%5Bfield%5D=1&criteria%5B0%5D%5Bsearchtype%5D=contains\
             &criteria%5B0%5D%5Bvalue%5D=%5ETechnician%24&forcedisplay%5B0%5D=2"),
        Step::new("POST /Profile_User", "POST", "/Profile_User")
            .json(&json!({"input": {"users_id": "{user}", "profiles_id": 6, "entities_id": 0,
                                    "is_recursive": 1}})),
        Step::new("PUT /User/:id disable", "PUT", "/User/{user}")
            .json(&json!({"input": {"is_active": 0}}))
            .id_keys(),
        Step::new("PUT /User/:id rename to glpi", "PUT", "/User/{user}")
            .json(&json!({"input": {"name": "glpi"}}))
            .id_keys(),
        Step::new("GET /Entity/0", "GET", "/Entity/0"),
        Step::new("GET /Profile?range=0-1", "GET", "/Profile?range=0-1"),
    ]
}

fn paging() -> Vec<Step> {
    vec![
        Step::new("GET /User?range=0-1", "GET", "/User?range=0-1"),
        Step::new(
            "GET /User?range=0-999999",
            "GET",
            "/User?range=0-999999&only_id=1",
        ),
        Step::new(
            "GET /User?range past the end",
            "GET",
            "/User?range=999990-999999",
        ),
        Step::new("GET /User?range=abc", "GET", "/User?range=abc"),
        Step::new("GET /User?order=UP", "GET", "/User?order=UP"),
        Step::new("GET /User?sort=nope", "GET", "/User?sort=nope"),
        Step::new(
            "GET /User?searchText[all]",
            "GET",
            "/User?searchText%5Ball%5D=glpi",
        ),
        Step::new("GET /Entity", "GET", "/Entity?range=0-0"),
        Step::new(
            "GET sub-items past the end",
            "GET",
            "/Ticket/{ticket}/TicketValidation?range=5-9",
        ),
        Step::new(
            "GET sub-items at the end",
            "GET",
            "/Ticket/{ticket}/TicketValidation?range=1-9",
        ),
    ]
}

fn cleanup() -> Vec<Step> {
    vec![
        Step::new("DELETE /User/:id to the trash", "DELETE", "/User/{user}").id_keys(),
        Step::new("GET trashed User", "GET", "/User/{user}"),
        Step::new(
            "DELETE /User/:id purge",
            "DELETE",
            "/User/{user}?force_purge=true",
        )
        .id_keys(),
        Step::new("GET purged User", "GET", "/User/{user}"),
        Step::new(
            "DELETE purged User again",
            "DELETE",
            "/User/{user}?force_purge=true",
        ),
        Step::new("DELETE /Group/:id child", "DELETE", "/Group/{group_child}").id_keys(),
        Step::new("DELETE /Group/:id", "DELETE", "/Group/{group}").id_keys(),
        Step::new("DELETE /Ticket batch, one unknown", "DELETE", "/Ticket")
            .json(
                &json!({"input": [{"id": "{ticket}"}, {"id": "{bulk1}"}, {"id": "{bulk2}"},
                                    {"id": 999_999_999}], "force_purge": true}),
            )
            .id_keys(),
    ]
}

fn errors() -> Vec<Step> {
    vec![
        Step::new("GET /Ticket/999999999", "GET", "/Ticket/999999999"),
        Step::new("GET /NoSuchItemtype/1", "GET", "/NoSuchItemtype/1"),
        Step::new(
            "GET /Ticket/1/NoSuchItemtype",
            "GET",
            "/Ticket/1/NoSuchItemtype",
        ),
        Step::new(
            "GET /Ticket/999999999/ITILFollowup",
            "GET",
            "/Ticket/999999999/ITILFollowup",
        ),
        Step::new("POST /Ticket invalid JSON", "POST", "/Ticket").raw("{\"input\":"),
        Step::new("POST /Ticket without input", "POST", "/Ticket").json(&json!({"name": "x"})),
        Step::new("POST /Ticket empty list", "POST", "/Ticket").json(&json!({"input": []})),
        Step::new("PUT /Ticket without input", "PUT", "/Ticket/1").json(&json!({"status": 1})),
        Step::new("DELETE /Ticket without input", "DELETE", "/Ticket"),
        Step::new(
            "search bad field",
            "GET",
            "/search/Ticket?criteria%5B0%5D%5Bfield%5D=99999&criteria%5B0%5D%5Bsearchtype%5D=contains&criteria%5B0%5D%5Bvalue%5D=x",
        ),
        Step::new(
            "search malformed",
            "GET",
            "/search/Ticket?criteria%5B0%5D%5Bfield%5D=1&criteria%5B0%5D%5Bvalue%5D=x",
        ),
        Step::new(
            "search range past the end",
            "GET",
            "/search/Ticket?range=999990-999999",
        ),
        Step::new("GET with a body", "GET", "/getMyEntities").raw("{\"x\":1}"),
        Step::new("killSession", "GET", "/killSession"),
        Step::new("after killSession", "GET", "/getMyProfiles"),
    ]
}
