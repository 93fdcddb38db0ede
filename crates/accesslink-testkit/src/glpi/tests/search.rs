//! `GET /search/:itemtype`.

use serde_json::json;

use super::Api;
use crate::glpi::GlpiMock;

#[tokio::test]
async fn search_result_shape() {
    let mock = GlpiMock::start().await;
    let api = Api::login(&mock).await;
    for name in ["alpha [corr:a1]", "beta [corr:b2]"] {
        api.post("/Ticket", json!({"input": {"name": name, "content": "c"}}))
            .await;
    }
    let q = "/search/Ticket?criteria[0][field]=1&criteria[0][searchtype]=contains&criteria[0][value]=[corr:b2]&forcedisplay[0]=2&forcedisplay[1]=12";
    let found = api.get(q).await;
    assert_eq!(
        (found.status, found.header("content-range")),
        (200, Some("0-0/1"))
    );
    assert_eq!(
        found.body,
        json!({"totalcount": 1, "count": 1, "sort": ["1"], "order": ["ASC"],
        "data": [{"2": 2, "1": "beta [corr:b2]", "12": 1}], "content-range": "0-0/1"})
    );
    let none = api.get("/search/Ticket?criteria[0][field]=1&criteria[0][searchtype]=contains&criteria[0][value]=zzz").await;
    assert_eq!((none.status, none.header("content-range")), (200, None));
    assert_eq!(
        none.body,
        json!({"totalcount": 0, "count": 0, "sort": ["1"], "order": ["ASC"], "content-range": "0--1/0"})
    );
    let partial = api
        .get("/search/Ticket?range=0-0&forcedisplay[0]=2&sort=2&order=DESC")
        .await;
    assert_eq!(
        (partial.status, partial.header("content-range")),
        (206, Some("0-0/2"))
    );
    assert_eq!(
        (&partial.body["sort"], &partial.body["data"][0]["2"]),
        (&json!([2]), &json!(2))
    );
    let defaults = api.get("/search/Ticket?range=0-0").await.body;
    let mut keys: Vec<&String> = defaults["data"][0].as_object().unwrap().keys().collect();
    keys.sort_by_key(|k| k.parse::<u32>().unwrap());
    assert_eq!(
        keys,
        ["1", "2", "3", "4", "5", "7", "12", "15", "18", "19"],
        "display preferences"
    );
    let bad = api.get("/search/Ticket?criteria[0][field]=9999&criteria[0][searchtype]=contains&criteria[0][value]=x").await;
    assert_eq!((bad.status, bad.code()), (400, "ERROR"));
    let notold = api.get("/search/Ticket?criteria[0][field]=12&criteria[0][searchtype]=equals&criteria[0][value]=notold&forcedisplay[0]=2").await;
    assert_eq!(notold.body["totalcount"], 2);
    let by_id = api.get("/search/Ticket?criteria[0][field]=1&criteria[0][searchtype]=equals&criteria[0][value]=1").await;
    assert_eq!(
        by_id.body["data"][0]["1"], "alpha [corr:a1]",
        "equals on field 1 compares ids"
    );
    let or = api.get("/search/Ticket?criteria[0][field]=2&criteria[0][searchtype]=equals&criteria[0][value]=1&criteria[1][link]=OR&criteria[1][field]=1&criteria[1][searchtype]=contains&criteria[1][value]=^beta&withindexes=1&forcedisplay[0]=2").await;
    assert_eq!(
        or.body["data"],
        json!({"1": {"1": "alpha [corr:a1]", "2": 1}, "2": {"1": "beta [corr:b2]", "2": 2}})
    );

    let users = api.get("/search/User?criteria[0][field]=1&criteria[0][searchtype]=contains&criteria[0][value]=^tech$&forcedisplay[0]=2&forcedisplay[1]=20&forcedisplay[2]=80").await;
    assert_eq!(
        users.body["data"],
        json!([{"1": "tech", "2": 4, "20": "Technician", "80": "Root entity"}])
    );
    let profiles = api.get("/search/Profile?criteria[0][field]=1&criteria[0][searchtype]=contains&criteria[0][value]=^Technician$&forcedisplay[0]=2").await;
    assert_eq!(profiles.body["data"], json!([{"1": "Technician", "2": 6}]));
    assert_eq!(mock.count("searchItems:Ticket"), 8);
}
