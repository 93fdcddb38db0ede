//! Id-ordered paging against scripted listings whose rows are purged and added while
//! the connector pages through them.

use std::sync::{Arc, Mutex};

use accesslink_core::paging::{self, PagingOptions};
use accesslink_core::{EntitlementType, PageRequest, Provisioner};
use futures::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::scripted::{glpi_error, plain, requests_to, server};

/// A GLPI listing over a shared, mutable table of ids, sorted by id, answering `range`
/// as the real server does (206 / 200 / `ERROR_RANGE_EXCEED_TOTAL`).
#[derive(Clone)]
struct Listing {
    rows: Arc<Mutex<Vec<u64>>>,
    row: fn(u64) -> Value,
}

impl Respond for Listing {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let rows = self.rows.lock().unwrap().clone();
        let range = r
            .url
            .query_pairs()
            .find(|(k, _)| k == "range")
            .map(|(_, v)| v.into_owned());
        let (a, b) = range
            .as_deref()
            .and_then(|s| s.split_once('-'))
            .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
            .unwrap_or((0, 49));
        let total = rows.len();
        if a > total {
            return glpi_error(
                400,
                "ERROR_RANGE_EXCEED_TOTAL",
                &format!("Provided range exceed total count of data: {total}"),
            );
        }
        let page: Vec<Value> = rows
            .iter()
            .skip(a)
            .take(b + 1 - a)
            .map(|id| (self.row)(*id))
            .collect();
        let end = a + page.len();
        let status = if end < total || a > 0 { 206 } else { 200 };
        ResponseTemplate::new(status)
            .insert_header(
                "Content-Range",
                format!("{a}-{}/{total}", end as i64 - 1).as_str(),
            )
            .insert_header("Accept-Range", "Group_User 1000")
            .set_body_json(page)
    }
}

fn membership(id: u64) -> Value {
    json!({ "id": id, "users_id": id * 10, "groups_id": "3", "is_dynamic": 0 })
}

#[tokio::test]
async fn seek_paging_survives_rows_purged_before_the_cursor_and_added_after() {
    let server = server().await;
    let rows = Arc::new(Mutex::new((1..=12).collect::<Vec<u64>>()));
    Mock::given(method("GET"))
        .and(path("/apirest.php/Group_User"))
        .respond_with(Listing {
            rows: rows.clone(),
            row: membership,
        })
        .mount(&server)
        .await;
    let glpi = plain(&server);
    let ty = EntitlementType::group();
    let mut stream = paging::grants(&glpi, &ty, PagingOptions::new().page_size(4));
    let mut seen = Vec::new();
    while let Some(g) = stream.try_next().await.unwrap() {
        seen.push(g.account.as_str().parse::<u64>().unwrap() / 10);
        if seen.len() == 4 {
            // Purge three rows already read (offsets shift by three) and add two.
            rows.lock().unwrap().retain(|id| ![1, 2, 3].contains(id));
            rows.lock().unwrap().extend([13, 14]);
        }
        if seen.len() == 9 {
            // Purge five more, including the cursor's own row.
            rows.lock().unwrap().retain(|id| !(4..=9).contains(id));
        }
    }
    assert_eq!(
        seen,
        (1..=14).collect::<Vec<_>>(),
        "nothing skipped, nothing repeated"
    );
    assert_eq!(stream.report().duplicates, 0);
    let ranges: Vec<String> = requests_to(&server, "/apirest.php/Group_User")
        .await
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "range")
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert!(ranges.len() >= 5, "{ranges:?}");
    for r in requests_to(&server, "/apirest.php/Group_User").await {
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert!(
            q.contains(&("sort".into(), "id".into()))
                && q.contains(&("order".into(), "ASC".into())),
            "{q:?}"
        );
    }
}

#[tokio::test]
async fn a_range_past_the_end_is_the_end() {
    let server = server().await;
    let rows = Arc::new(Mutex::new((1..=4).collect::<Vec<u64>>()));
    Mock::given(method("GET"))
        .and(path("/apirest.php/Group_User"))
        .respond_with(Listing {
            rows: rows.clone(),
            row: membership,
        })
        .mount(&server)
        .await;
    let glpi = plain(&server);
    let first = glpi
        .list_grants(&EntitlementType::group(), PageRequest::first().size(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.total, Some(4));
    // Everything after the cursor is purged, and more: the range now starts past the end.
    rows.lock().unwrap().clear();
    let next = glpi
        .list_grants(&EntitlementType::group(), PageRequest::at(first.next))
        .await
        .unwrap();
    assert!(next.items.is_empty() && next.next.is_none());
}

/// `/search/User` over a shared table of ids, honouring `ID contains >N` and `range`.
struct UserSearch(Arc<Mutex<Vec<u64>>>);

impl Respond for UserSearch {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        assert_eq!(get("criteria[0][field]").as_deref(), Some("2"));
        assert_eq!(get("criteria[0][searchtype]").as_deref(), Some("contains"));
        assert_eq!(
            (get("sort").as_deref(), get("order").as_deref()),
            (Some("2"), Some("ASC"))
        );
        let after: u64 = get("criteria[0][value]")
            .unwrap()
            .strip_prefix('>')
            .unwrap()
            .parse()
            .unwrap();
        let (a, b) = get("range")
            .unwrap()
            .split_once('-')
            .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
            .unwrap();
        let matching: Vec<u64> = self
            .0
            .lock()
            .unwrap()
            .iter()
            .copied()
            .filter(|id| *id > after)
            .collect();
        let data: Vec<Value> = matching
            .iter()
            .skip(a)
            .take(b + 1 - a)
            .map(|id| {
                let emails = if id % 5 == 0 { json!([format!("u{id}@a.test"), format!("u{id}@b.test")]) } else { json!(format!("u{id}@a.test")) };
                json!({ "2": id, "1": format!("user{id}"), "34": "Doe", "9": null, "5": emails, "8": u8::from(id % 2 == 1) })
            })
            .collect();
        if matching.is_empty() {
            return ResponseTemplate::new(200)
                .set_body_json(json!({ "totalcount": 0, "count": 0, "content-range": "0--1/0" }));
        }
        ResponseTemplate::new(if data.len() < matching.len() {
            206
        } else {
            200
        })
        .set_body_json(json!({ "totalcount": matching.len(), "count": data.len(), "data": data }))
    }
}

#[tokio::test]
async fn accounts_page_on_the_id_keyset_with_default_emails() {
    let server = server().await;
    let ids = Arc::new(Mutex::new((1..=11).collect::<Vec<u64>>()));
    Mock::given(method("GET"))
        .and(path("/apirest.php/search/User"))
        .respond_with(UserSearch(ids.clone()))
        .mount(&server)
        .await;
    for id in [5u64, 10] {
        Mock::given(method("GET"))
            .and(path(format!("/apirest.php/User/{id}/UserEmail")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                { "id": 1, "email": format!("u{id}@a.test"), "is_default": 0 },
                { "id": 2, "email": format!("u{id}@b.test"), "is_default": 1 }
            ])))
            .mount(&server)
            .await;
    }
    let glpi = plain(&server);
    let mut stream = paging::accounts(&glpi, PagingOptions::new().page_size(4));
    let mut seen = Vec::new();
    while let Some(a) = stream.try_next().await.unwrap() {
        seen.push((
            a.id.as_str().parse::<u64>().unwrap(),
            a.email.clone().unwrap(),
            a.enabled,
        ));
        if seen.len() == 4 {
            ids.lock().unwrap().retain(|id| *id > 2);
        }
    }
    let got: Vec<u64> = seen.iter().map(|s| s.0).collect();
    assert_eq!(got, (1..=11).collect::<Vec<_>>());
    assert_eq!(seen[4].1, "u5@b.test", "the default of two addresses");
    assert_eq!(seen[0].1, "u1@a.test");
    // One address needs no second look; two do.
    assert!(
        requests_to(&server, "/apirest.php/User/1/UserEmail")
            .await
            .is_empty()
    );
    assert_eq!(
        requests_to(&server, "/apirest.php/User/5/UserEmail")
            .await
            .len(),
        1
    );
    assert_eq!((seen[0].2, seen[1].2), (Some(true), Some(false)));
    let after: Vec<String> = requests_to(&server, "/apirest.php/search/User")
        .await
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "criteria[0][value]")
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert_eq!(after, [">0", ">4", ">8"]);
    let first = glpi
        .list_accounts(PageRequest::first().size(4))
        .await
        .unwrap();
    assert_eq!(first.total, Some(9), "the total on a first page");
    let later = glpi
        .list_accounts(PageRequest::at(first.next).size(4))
        .await
        .unwrap();
    assert_eq!(
        later.total, None,
        "after the cursor GLPI counts only what is left"
    );
}
