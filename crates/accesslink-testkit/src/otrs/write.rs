//! Writing tickets: what `_TicketCreate` and `_TicketUpdate` do once the checks passed.

use super::checks::{ArticleSpec, Outcome, Step, TicketSpec, error};
use super::model::{
    Article, Attachment, LOCKS, PRIORITIES, Principal, QUEUES, TYPES, Ticket, format_time, name_of,
    now_epoch, state as state_of,
};
use super::state::{State, log};

/// `_TicketCreate`.
pub(super) fn create(
    state: &mut State,
    who: &Principal,
    spec: TicketSpec,
    articles: Vec<ArticleSpec>,
    fields: Vec<(String, String)>,
    files: Vec<Attachment>,
) -> (u64, String, Vec<u64>) {
    let now = now_epoch();
    // Customers create as CustomerPanelUserID (1).
    let by = match who {
        Principal::Agent(id) => *id,
        Principal::Customer(_) => 1,
    };
    let (customer_user, user_company) = spec.customer.unwrap_or_default();
    let customer = state.customer(&customer_user).cloned();
    let mut lock_id = spec
        .lock
        .unwrap_or(if spec.owner.is_some() { 2 } else { 1 });
    let state_id = spec.state.unwrap_or(1);
    let (state_name, state_type) = state_of(state_id);
    if state_type == "closed" {
        lock_id = 1;
    }
    let id = state.next_ticket_id();
    let mut t = Ticket {
        id,
        number: state.next_ticket_number(now),
        title: spec.title.unwrap_or_default(),
        state_id,
        queue_id: spec.queue.unwrap_or(2),
        priority_id: spec.priority.unwrap_or(3),
        type_id: spec.type_id.unwrap_or(1),
        lock_id,
        owner_id: spec.owner.unwrap_or(by),
        responsible_id: spec.responsible.unwrap_or(1),
        customer_id: Some(spec.customer_id.unwrap_or(user_company)),
        customer_user: Some(customer_user.clone()),
        created: now,
        changed: now,
        create_by: by,
        change_by: by,
        pending_until: if state_type.starts_with("pending") {
            spec.pending.unwrap_or(0)
        } else {
            0
        },
        fields: fields.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        articles: Vec::new(),
        history: Vec::new(),
    };
    let queue = name_of(QUEUES, t.queue_id);
    let name = format!(
        "%%{}%%{queue}%%{}%%{state_name}%%{id}",
        t.number,
        name_of(PRIORITIES, t.priority_id)
    );
    log(&mut t, "NewTicket", name, 0, by);
    let customer_from = customer.map_or(customer_user, |c| {
        format!("\"{}\" <{}>", c.full_name(), c.email)
    });
    let mut article_ids = Vec::new();
    let mut files = Some(files);
    for spec in articles {
        let from = spec.from.clone().unwrap_or_else(|| customer_from.clone());
        let article_id = state.next_article_id();
        let attachments = files.take().unwrap_or_default();
        t.articles
            .push(article(article_id, spec, from, queue, now, by, attachments));
        log(
            &mut t,
            "NewTicket",
            "%%GenericInterface Create".into(),
            article_id,
            by,
        );
        article_ids.push(article_id);
    }
    let number = t.number.clone();
    state.tickets.insert(id, t);
    (id, number, article_ids)
}

pub(super) fn article(
    id: u64,
    spec: ArticleSpec,
    from: String,
    to: &str,
    now: i64,
    by: u64,
    attachments: Vec<Attachment>,
) -> Article {
    Article {
        id,
        channel_id: spec.channel_id,
        sender_type_id: spec.sender_type_id,
        visible: spec.visible,
        from,
        to: to.to_owned(),
        subject: spec.subject,
        body: spec.body,
        content_type: spec.content_type,
        mime_type: spec.mime_type,
        charset: spec.charset,
        created: now,
        create_by: by,
        attachments,
    }
}

pub(super) fn touch(t: &mut Ticket, by: u64) {
    t.changed = now_epoch();
    t.change_by = by;
}

/// `_TicketUpdate` for the Ticket hash, in its order. The pending-state check comes after
/// the title, queue, lock and type were already written, so a refused update can still
/// have changed those, as on the real server.
pub(super) fn update_ticket(state: &mut State, id: u64, spec: TicketSpec, by: u64) -> Step<()> {
    let Some(t) = state.tickets.get_mut(&id) else {
        return Ok(());
    };
    if let Some(title) = spec.title.filter(|title| *title != t.title) {
        let name = format!("%%{}%%{title}", t.title);
        t.title = title;
        log(t, "TitleUpdate", name, 0, by);
        touch(t, by);
    }
    if let Some(queue) = spec.queue.filter(|q| *q != t.queue_id) {
        let (old, new) = (name_of(QUEUES, t.queue_id), name_of(QUEUES, queue));
        let name = format!("%%{new}%%{queue}%%{old}%%{}", t.queue_id);
        t.queue_id = queue;
        log(t, "Move", name, 0, by);
        touch(t, by);
    }
    if let Some(lock) = spec.lock.filter(|l| *l != t.lock_id) {
        set_lock(t, lock, by);
    }
    if let Some(type_id) = spec.type_id.filter(|ty| *ty != t.type_id) {
        let name = format!(
            "%%{}%%{type_id}%%{}%%{}",
            name_of(TYPES, type_id),
            name_of(TYPES, t.type_id),
            t.type_id
        );
        t.type_id = type_id;
        log(t, "TypeUpdate", name, 0, by);
        touch(t, by);
    }
    if let Some(state_id) = spec.state {
        let (new, kind) = state_of(state_id);
        if kind == "closed" {
            set_lock(t, 1, by);
        } else if kind.starts_with("pending") {
            match spec.pending {
                Some(until) => {
                    t.pending_until = until;
                    log(
                        t,
                        "SetPendingTime",
                        format!("%%{}", &format_time(until)[..16]),
                        0,
                        by,
                    );
                }
                // A PendingTime that is sent but unusable makes TicketPendingTimeSet fail,
                // and the operation returns without an error message.
                None if spec.pending_sent => {
                    let message = "OperationObject returned an error, cancelling Request";
                    return Err(Outcome::Fault(message.into()));
                }
                None => {
                    let message = "Can't set a ticket on a pending state without pendig time!";
                    return Err(error("TicketUpdate.MissingParameter", message));
                }
            }
        }
        if state_id != t.state_id {
            let name = format!("%%{}%%{new}%%", state_of(t.state_id).0);
            t.state_id = state_id;
            log(t, "StateUpdate", name, 0, by);
            touch(t, by);
        }
    }
    // Either value replaces both: a CustomerID alone blanks the customer user.
    if spec.customer.is_some() || spec.customer_id.is_some() {
        let sent_id = spec.customer_id.unwrap_or_default();
        let (user, company) = spec.customer.unwrap_or_default();
        let old_user = t.customer_user.as_deref().unwrap_or("");
        if user != old_user || sent_id != t.customer_id.as_deref().unwrap_or("") {
            let id = if sent_id.is_empty() { company } else { sent_id };
            let name = format!("%%CustomerID={id};CustomerUser={user};");
            t.customer_id = Some(id);
            t.customer_user = Some(user);
            log(t, "CustomerUpdate", name, 0, by);
            touch(t, by);
        }
    }
    if let Some(priority) = spec.priority.filter(|p| *p != t.priority_id) {
        let (old, new) = (
            name_of(PRIORITIES, t.priority_id),
            name_of(PRIORITIES, priority),
        );
        let name = format!("%%{old}%%{}%%{new}%%{priority}", t.priority_id);
        t.priority_id = priority;
        log(t, "PriorityUpdate", name, 0, by);
        touch(t, by);
    }
    for (kind, value) in [
        ("OwnerUpdate", spec.owner),
        ("ResponsibleUpdate", spec.responsible),
    ] {
        let Some(user) = value else { continue };
        let login = State::agent(user).map_or("", |a| a.login);
        if kind == "OwnerUpdate" {
            t.owner_id = user;
        } else {
            t.responsible_id = user;
        }
        log(t, kind, format!("%%{login}%%{user}"), 0, by);
        touch(t, by);
    }
    Ok(())
}

fn set_lock(t: &mut Ticket, lock: u64, by: u64) {
    if lock == t.lock_id {
        return;
    }
    t.lock_id = lock;
    let kind = if lock == 1 { "Unlock" } else { "Lock" };
    log(t, kind, format!("%%{}", name_of(LOCKS, lock)), 0, by);
    touch(t, by);
}

/// Sets ticket dynamic fields; an empty value clears the field.
pub(super) fn set_fields(t: &mut Ticket, fields: Vec<(String, String)>, by: u64) {
    for (name, value) in fields {
        let old = t.fields.get(&name).cloned().unwrap_or_default();
        let line = format!("%%FieldName%%{name}%%Value%%{value}%%OldValue%%{old}");
        if value.is_empty() {
            t.fields.remove(&name);
        } else {
            t.fields.insert(name, value);
        }
        log(t, "TicketDynamicFieldUpdate", line, 0, by);
        touch(t, by);
    }
}

/// What an agent does in the UI: move the ticket to a state (pending states get a pending
/// time a day ahead). `false` when the ticket or state does not exist.
pub(super) fn set_state(state: &mut State, id: u64, name: &str) -> bool {
    let Some(state_id) = super::model::state_id(name) else {
        return false;
    };
    let pending = state_of(state_id)
        .1
        .starts_with("pending")
        .then(|| now_epoch() + 86_400);
    let spec = TicketSpec {
        state: Some(state_id),
        pending,
        ..TicketSpec::default()
    };
    state.tickets.contains_key(&id) && update_ticket(state, id, spec, 1).is_ok()
}

/// A follow-up by the customer `apicustomer` (TicketUpdate with the customer's login:
/// channel Internal, sender type customer, visible, empty `From`). `false` when the ticket does not exist.
pub(super) fn customer_follow_up(state: &mut State, id: u64, body: &str) -> bool {
    if !state.tickets.contains_key(&id) {
        return false;
    }
    // Observed on Znuny 7.0.19: a TicketUpdate article by a customer login has an
    // empty `From`.
    let from = String::new();
    let article_id = state.next_article_id();
    let now = now_epoch();
    let Some(t) = state.tickets.get_mut(&id) else {
        return false;
    };
    let spec = ArticleSpec {
        channel_id: 3,
        sender_type_id: 3,
        visible: true,
        from: None,
        subject: "Follow-up".into(),
        body: body.to_owned(),
        content_type: "text/plain; charset=utf8".into(),
        mime_type: "text/plain".into(),
        charset: "utf8".into(),
    };
    let to = name_of(QUEUES, t.queue_id);
    t.articles
        .push(article(article_id, spec, from, to, now, 1, Vec::new()));
    log(t, "FollowUp", "%%".into(), article_id, 1);
    touch(t, 1);
    true
}

/// A ticket as `apiagent`'s TicketCreate makes it (queue Raw, state new, customer
/// `apicustomer`, one article); returns its id.
pub(super) fn seed(state: &mut State, title: &str) -> u64 {
    let who = Principal::Agent(2);
    let customer = state.config.customers[0].clone();
    let spec = TicketSpec {
        title: Some(title.to_owned()),
        customer: Some((customer.login.clone(), customer.customer_id.clone())),
        ..TicketSpec::default()
    };
    let article = ArticleSpec {
        channel_id: 3,
        sender_type_id: 1,
        visible: true,
        from: None,
        subject: title.to_owned(),
        body: title.to_owned(),
        content_type: "text/plain; charset=utf8".into(),
        mime_type: "text/plain".into(),
        charset: "utf8".into(),
    };
    create(state, &who, spec, vec![article], Vec::new(), Vec::new()).0
}
