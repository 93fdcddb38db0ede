//! The operations (`Kernel/GenericInterface/Operation/{Session,Ticket}/*.pm`).

use serde_json::{Value, json};

use super::checks::{
    Op, Outcome, Step, check_article, check_attachments, check_fields, check_ticket, error,
};
use super::model::{Principal, QUEUES, name_of, now_epoch};
use super::perl::{
    Data, array_with_data, given, hash_with_data, one_or_many, scalar, string_with_data, truthy,
};
use super::search::search;
use super::state::{GetOptions, State, log};
use super::write::{article, create, set_fields, touch, update_ticket};

/// Runs the operation a route maps to.
pub(super) fn run(state: &mut State, operation: &str, data: &Data, strict_email: bool) -> Outcome {
    let result = match operation {
        "SessionCreate" => session_create(state, data),
        "SessionGet" => session_get(state, data),
        "TicketCreate" => ticket_create(state, data, strict_email),
        "TicketGet" | "TicketGetList" => ticket_get(state, data),
        "TicketHistoryGet" => history_get(state, data),
        "TicketSearch" | "TicketSearchPost" => ticket_search(state, data),
        "TicketUpdate" => ticket_update(state, data, strict_email),
        other => Err(Outcome::Fault(format!(
            "Operation {other} is not implemented"
        ))),
    };
    result.unwrap_or_else(|outcome| outcome)
}

fn session_create(state: &mut State, data: &Data) -> Step<Outcome> {
    if data.is_empty() {
        return Err(error(
            "SessionCreate.MissingParameter",
            "SessionCreate: The request is empty!",
        ));
    }
    if !truthy(data.get("Password")) {
        let message = "SessionCreate: Password parameter is missing!";
        return Err(error("SessionCreate.MissingParameter", message));
    }
    match state.create_session(data) {
        Some(id) => Ok(Outcome::Data(json!({"SessionID": id}))),
        None => Err(error(
            "SessionCreate.AuthFail",
            "SessionCreate: Authorization failing!",
        )),
    }
}

fn session_get(state: &mut State, data: &Data) -> Step<Outcome> {
    let Some(id) = given(data.get("SessionID")) else {
        return Err(error(
            "SessionGet.MissingParameter",
            "SessionGet: SessionID is missing!",
        ));
    };
    match state.session_data(&id) {
        Some(session) => Ok(Outcome::Data(json!({"SessionData": session}))),
        None => Err(error(
            "SessionGet.SessionInvalid",
            "SessionGet: SessionID is Invalid!",
        )),
    }
}

/// TicketGet and TicketHistoryGet take `"2,3"` (Perl `split /,/`, trailing empties
/// dropped) or a list from repeated query keys.
fn ticket_ids(data: &Data) -> Option<Vec<String>> {
    if let Some(text) = string_with_data(data.get("TicketID")) {
        let mut ids: Vec<String> = text.split(',').map(str::to_owned).collect();
        while ids.last().is_some_and(String::is_empty) {
            ids.pop();
        }
        return Some(ids);
    }
    let items = array_with_data(data.get("TicketID"))?;
    Some(
        items
            .iter()
            .map(|v| scalar(Some(v)).unwrap_or_default())
            .collect(),
    )
}

/// Every id must be visible or the whole call is refused: TicketGet.pm checks each id
/// before reading any.
fn ticket_get(state: &mut State, data: &Data) -> Step<Outcome> {
    let who = state
        .auth(data)
        .ok_or_else(|| error("TicketGet.AuthFail", "TicketGet: Authorization failing!"))?;
    if !truthy(data.get("TicketID")) {
        let message = "TicketGet: TicketID parameter is missing!";
        return Err(error("TicketGet.MissingParameter", message));
    }
    let ids = ticket_ids(data).ok_or_else(|| {
        error(
            "TicketGet.WrongStructure",
            "TicketGet: Structure for TicketID is not correct!",
        )
    })?;
    let mut found = Vec::new();
    for id in &ids {
        let message = "TicketGet: User does not have access to the ticket!";
        found.push(
            state
                .visible_ticket(&who, id)
                .ok_or_else(|| error("TicketGet.AccessDenied", message))?,
        );
    }
    let sender_types = array_with_data(data.get("ArticleSenderType"))
        .map(|l| l.iter().filter_map(|v| scalar(Some(v))).collect())
        .or_else(|| string_with_data(data.get("ArticleSenderType")).map(|s| vec![s]));
    let opts = GetOptions {
        dynamic_fields: truthy(data.get("DynamicFields")),
        all_articles: truthy(data.get("AllArticles")),
        attachments: truthy(data.get("Attachments")),
        attachment_contents: data
            .get("GetAttachmentContents")
            .is_none_or(|v| v.is_null() || truthy(Some(v))),
        newest_first: given(data.get("ArticleOrder")).as_deref() == Some("DESC"),
        limit: given(data.get("ArticleLimit"))
            .and_then(|l| l.parse().ok())
            .unwrap_or(0),
        sender_types,
        customer_view: matches!(who, Principal::Customer(_)),
    };
    let tickets: Vec<Value> = found
        .iter()
        .filter_map(|id| state.tickets.get(id))
        .map(|t| state.ticket_json(t, &opts))
        .collect();
    Ok(Outcome::Data(json!({"Ticket": tickets})))
}

fn history_get(state: &mut State, data: &Data) -> Step<Outcome> {
    let code = |kind: &str| format!("TicketHistoryGet.{kind}");
    let who = state.auth(data).ok_or_else(|| {
        error(
            &code("AuthFail"),
            "TicketHistoryGet: Authorization failing!",
        )
    })?;
    if matches!(who, Principal::Customer(_)) {
        return Err(error(
            &code("AuthFail"),
            "TicketHistoryGet: User needs to an Agent!",
        ));
    }
    if !truthy(data.get("TicketID")) {
        let message = "TicketHistoryGet: TicketID parameter is missing!";
        return Err(error(&code("MissingParameter"), message));
    }
    let ids = ticket_ids(data).ok_or_else(|| {
        let message = "TicketHistoryGet: Structure for TicketID is not correct!";
        error(&code("WrongStructure"), message)
    })?;
    let mut histories = Vec::new();
    for id in &ids {
        let Some(found) = state.visible_ticket(&who, id) else {
            let message =
                format!("TicketHistoryGet: User does not have access to the ticket {id}!");
            return Err(error(&code("AccessDenied"), message));
        };
        let ticket = state.tickets.get(&found).map(State::history_json);
        histories.push(json!({"TicketID": id, "History": ticket}));
    }
    Ok(Outcome::Data(json!({"TicketHistory": histories})))
}

fn ticket_search(state: &mut State, data: &Data) -> Step<Outcome> {
    let who = state.auth(data).ok_or_else(|| {
        error(
            "TicketSearch.AuthFail",
            "TicketSearch: Authorization failing!",
        )
    })?;
    let ids = search(state, &who, data).unwrap_or_default();
    if ids.is_empty() {
        return Ok(Outcome::Data(json!({})));
    }
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    Ok(Outcome::Data(json!({"TicketID": ids})))
}

/// TicketCreate/TicketUpdate ask for credentials before checking them.
fn authenticate(state: &mut State, data: &Data, op: Op) -> Step<Principal> {
    let name = op.name();
    let missing = format!("{name}.MissingParameter");
    let login = truthy(data.get("UserLogin")) || truthy(data.get("CustomerUserLogin"));
    if !login && !truthy(data.get("SessionID")) {
        let message = format!("{name}: UserLogin, CustomerUserLogin or SessionID is required!");
        return Err(error(&missing, message));
    }
    if login && !truthy(data.get("Password")) {
        return Err(error(
            &missing,
            format!("{name}: Password or SessionID is required!"),
        ));
    }
    let message = format!("{name}: User could not be authenticated!");
    state
        .auth(data)
        .ok_or_else(|| error(&format!("{name}.AuthFail"), message))
}

/// `DynamicField` and `Attachment` must be a non-empty object or list when sent.
fn optional_lists(data: &Data, op: Op) -> Step<()> {
    for key in ["DynamicField", "Attachment"] {
        let value = data.get(key);
        let ok = value.is_none_or(Value::is_null)
            || hash_with_data(value).is_some()
            || array_with_data(value).is_some();
        if !ok {
            let name = op.name();
            let message = format!("{name}: {key} parameter is missing or not valid!");
            return Err(error(&format!("{name}.MissingParameter"), message));
        }
    }
    Ok(())
}

fn ticket_create(state: &mut State, data: &Data, strict: bool) -> Step<Outcome> {
    let op = Op::Create;
    let who = authenticate(state, data, op)?;
    let articles: Vec<Value> = match data.get("Article") {
        Some(Value::Array(items)) if !items.is_empty() => items.clone(),
        Some(v @ Value::Object(o)) if !o.is_empty() => vec![v.clone()],
        _ => {
            let message = "TicketCreate: Article parameter is missing or not valid!";
            return Err(error("TicketCreate.MissingParameter", message));
        }
    };
    let Some(ticket) = hash_with_data(data.get("Ticket")) else {
        let message = "TicketCreate: Ticket parameter is missing or not valid!";
        return Err(error("TicketCreate.MissingParameter", message));
    };
    optional_lists(data, op)?;
    let spec = check_ticket(state, ticket, op, strict)?;
    let articles = articles
        .iter()
        .map(|a| check_article(a, op, &who, strict))
        .collect::<Step<Vec<_>>>()?;
    let fields = data
        .get("DynamicField")
        .map(one_or_many)
        .unwrap_or_default();
    let fields = check_fields(&fields, op)?;
    let files = data.get("Attachment").map(one_or_many).unwrap_or_default();
    let files = check_attachments(&files, op)?;
    let (id, number, article_ids) = create(state, &who, spec, articles, fields, files);
    // Types as REST.md shows them: TicketID a string, ArticleID a number (a list of
    // numbers when several articles were sent).
    let article_id = match article_ids.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    let body = json!({"ArticleID": article_id, "TicketID": id.to_string(), "TicketNumber": number});
    Ok(Outcome::Data(body))
}

fn ticket_update(state: &mut State, data: &Data, strict: bool) -> Step<Outcome> {
    let op = Op::Update;
    let denied = || {
        let message = "TicketUpdate: User does not have access to the ticket!";
        error("TicketUpdate.AccessDenied", message)
    };
    if !truthy(data.get("TicketID")) && !truthy(data.get("TicketNumber")) {
        let message = "TicketUpdate: TicketID or TicketNumber is required!";
        return Err(error("TicketUpdate.MissingParameter", message));
    }
    let who = authenticate(state, data, op)?;
    // A TicketNumber in the body wins over the id in the path.
    let raw_id = match given(data.get("TicketNumber")) {
        Some(number) => {
            let found = state.tickets.values().find(|t| t.number == number);
            found.map(|t| t.id.to_string()).ok_or_else(denied)?
        }
        None => scalar(data.get("TicketID")).unwrap_or_default(),
    };
    let id = state.visible_ticket(&who, &raw_id).ok_or_else(denied)?;
    let ticket = data.get("Ticket").filter(|v| !v.is_null());
    if ticket.is_some() && hash_with_data(ticket).is_none() {
        let message = "TicketUpdate: Ticket parameter is not valid!";
        return Err(error("TicketUpdate.InvalidParameter", message));
    }
    optional_lists(data, op)?;
    let spec = match hash_with_data(ticket) {
        Some(t) => Some(check_ticket(state, t, op, strict)?),
        None => None,
    };
    let articles: Vec<Value> = match data.get("Article") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if !items.is_empty() => items.clone(),
        Some(v @ Value::Object(o)) if !o.is_empty() => vec![v.clone()],
        Some(_) => {
            let message = "TicketUpdate: Article parameter is not valid!";
            return Err(error("TicketUpdate.InvalidParameter", message));
        }
    };
    let articles = articles
        .iter()
        .map(|a| check_article(a, op, &who, strict))
        .collect::<Step<Vec<_>>>()?;
    let fields = match data.get("DynamicField") {
        Some(v) if truthy(Some(v)) => check_fields(&one_or_many(v), op)?,
        _ => Vec::new(),
    };
    let files = data.get("Attachment").map(one_or_many).unwrap_or_default();
    let files = check_attachments(&files, op)?;
    let by = match &who {
        Principal::Agent(id) => *id,
        Principal::Customer(_) => 1,
    };
    if let Some(spec) = spec {
        update_ticket(state, id, spec, by)?;
    }
    let from = state.sender_address(&who);
    let now = now_epoch();
    let mut article_ids = Vec::new();
    let mut files = Some(files);
    for spec in articles {
        let article_id = state.next_article_id();
        let Some(t) = state.tickets.get_mut(&id) else {
            break;
        };
        let to = name_of(QUEUES, t.queue_id);
        let from = spec.from.clone().unwrap_or_else(|| from.clone());
        let attachments = files.take().unwrap_or_default();
        t.articles
            .push(article(article_id, spec, from, to, now, by, attachments));
        log(
            t,
            "AddNote",
            "%%GenericInterface Note".into(),
            article_id,
            by,
        );
        touch(t, by);
        article_ids.push(article_id);
    }
    if let Some(t) = state.tickets.get_mut(&id) {
        set_fields(t, fields, by);
    }
    let number = state
        .tickets
        .get(&id)
        .map(|t| t.number.clone())
        .unwrap_or_default();
    let mut body = json!({"TicketID": raw_id, "TicketNumber": number});
    match article_ids.as_slice() {
        [] => {}
        [one] => body["ArticleID"] = json!(one),
        many => body["ArticleIDs"] = json!(many),
    }
    Ok(Outcome::Data(body))
}
