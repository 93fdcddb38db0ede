//! The mock's data: users, sessions and tickets, and how TicketGet and SessionGet print them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::model::{
    AGENTS, Agent, Article, CHANNELS, Customer, FIELDS, HISTORY_TYPES, History, LOCKS, PRIORITIES,
    Principal, QUEUES, SENDER_TYPES, TYPES, Ticket, format_time, id_of, name_of, now_epoch, state,
    ticket_number,
};
use super::perl::{Data, scalar, truthy};

/// Length of a session id (`FMZNMfF6ghSiJRpSL4R1rBjldJT10xVN` in REST.md).
const SESSION_ID_LEN: usize = 32;

/// Settings fixed when the mock starts.
#[derive(Debug, Clone)]
pub(super) struct Config {
    /// `SessionMaxIdleTime` (default 7200 s).
    pub(super) idle: Duration,
    /// `SessionMaxTime` (default 57600 s).
    pub(super) max: Duration,
    /// Customer users; `apicustomer` first.
    pub(super) customers: Vec<Customer>,
}

#[derive(Debug)]
struct Session {
    principal: Principal,
    created: Instant,
    start_epoch: i64,
}

/// Everything the mock knows; one lock guards it all.
#[derive(Debug)]
pub(super) struct State {
    pub(super) config: Config,
    sessions: HashMap<String, Session>,
    pub(super) session_creates: usize,
    pub(super) tickets: BTreeMap<u64, Ticket>,
    next_article_id: u64,
    /// TicketSearch ignores its filters and answers every visible ticket
    /// (`TicketBackend::ignore_search_filters`).
    pub(super) unfiltered: bool,
    /// The stopped clock (`TicketBackend::freeze_clock`), epoch seconds.
    pub(super) frozen: Option<i64>,
    tn_counter: u64,
}

/// What TicketGet prints besides the ticket itself.
#[derive(Debug, Clone, Default)]
pub(super) struct GetOptions {
    pub(super) dynamic_fields: bool,
    pub(super) all_articles: bool,
    pub(super) attachments: bool,
    pub(super) attachment_contents: bool,
    pub(super) newest_first: bool,
    pub(super) limit: usize,
    pub(super) sender_types: Option<Vec<String>>,
    /// Customers see only articles visible for customers.
    pub(super) customer_view: bool,
}

impl State {
    /// A fresh install: ticket 1 "Znuny says hi!" with its welcome article.
    pub(super) fn new(config: Config) -> Self {
        let now = now_epoch();
        let welcome = Article {
            id: 1,
            channel_id: 1,
            sender_type_id: 3,
            visible: true,
            from: "Znuny <hello@znuny.org>".into(),
            to: "Your Znuny service desk <znuny@localhost>".into(),
            subject: "Znuny says hi!".into(),
            body: "We welcome you to Znuny, our ticketing solution based on the well-known \
                   OTRS ((Community Edition)) which we forked to make things different."
                .into(),
            content_type: "text/plain; charset=utf-8".into(),
            mime_type: "text/plain".into(),
            charset: "utf-8".into(),
            created: now,
            create_by: 1,
            attachments: Vec::new(),
        };
        let mut ticket = Ticket {
            id: 1,
            number: "2021012710123456".into(),
            title: "Znuny says hi!".into(),
            state_id: 1,
            queue_id: 2,
            priority_id: 3,
            type_id: 1,
            lock_id: 1,
            owner_id: 1,
            responsible_id: 1,
            customer_user: None,
            customer_id: None,
            created: now,
            changed: now,
            create_by: 1,
            change_by: 1,
            pending_until: 0,
            fields: BTreeMap::new(),
            articles: vec![welcome],
            history: Vec::new(),
        };
        let name = format!("%%{}%%Raw%%3 normal%%new%%1", ticket.number);
        log(&mut ticket, "NewTicket", name, 0, 1);
        Self {
            config,
            sessions: HashMap::new(),
            session_creates: 0,
            tickets: BTreeMap::from([(1, ticket)]),
            next_article_id: 2,
            unfiltered: false,
            frozen: None,
            tn_counter: 0,
        }
    }

    pub(super) fn agent(id: u64) -> Option<&'static Agent> {
        AGENTS.iter().find(|a| a.id == id)
    }

    /// Logins are compared case-insensitively (the DB auth backend lower-cases both sides).
    pub(super) fn agent_by_login(login: &str) -> Option<&'static Agent> {
        AGENTS.iter().find(|a| a.login.eq_ignore_ascii_case(login))
    }

    pub(super) fn customer(&self, login: &str) -> Option<&Customer> {
        let customers = &self.config.customers;
        customers
            .iter()
            .find(|c| c.login.eq_ignore_ascii_case(login))
    }

    /// The customer user an e-mail address belongs to (`CustomerSearch(PostMasterSearch)`).
    pub(super) fn customer_by_email(&self, address: &str) -> Option<&Customer> {
        let bare = address
            .rsplit_once('<')
            .map_or(address, |(_, rest)| rest.trim_end_matches('>'));
        let customers = &self.config.customers;
        customers
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(bare.trim()))
    }

    /// `SessionCreate`: checks the credentials and stores a new session.
    pub(super) fn create_session(&mut self, data: &Data) -> Option<String> {
        let principal = self.check_password(data)?;
        let id: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(SESSION_ID_LEN)
            .collect();
        let session = Session {
            principal,
            created: Instant::now(),
            start_epoch: now_epoch(),
        };
        self.sessions.insert(id.clone(), session);
        self.session_creates += 1;
        Some(id)
    }

    /// `UserLogin` wins over `CustomerUserLogin`; a wrong agent password does not fall back.
    fn check_password(&self, data: &Data) -> Option<Principal> {
        let password = scalar(data.get("Password")).unwrap_or_default();
        if truthy(data.get("UserLogin")) {
            let agent = Self::agent_by_login(&scalar(data.get("UserLogin"))?)?;
            return (agent.password == password).then_some(Principal::Agent(agent.id));
        }
        if truthy(data.get("CustomerUserLogin")) {
            let customer = self.customer(&scalar(data.get("CustomerUserLogin"))?)?;
            let ok = customer.password == password;
            return ok.then(|| Principal::Customer(customer.login.clone()));
        }
        None
    }

    /// `Operation/Common.pm` `Auth`: a `SessionID` is checked alone (an invalid one does not
    /// fall back to the inline credentials); otherwise `UserLogin`/`CustomerUserLogin` with
    /// `Password`.
    pub(super) fn auth(&mut self, data: &Data) -> Option<Principal> {
        if truthy(data.get("SessionID")) {
            let id = data.get("SessionID")?.as_str()?.to_owned();
            return self.session(&id);
        }
        self.check_password(data)
    }

    /// The principal of a valid session. Expired sessions are deleted
    /// (`SessionDeleteIfTimeToOld`). The idle clock starts at login and is never reset:
    /// the GenericInterface does not update `UserLastRequest`, so an API session dies
    /// `SessionMaxIdleTime` after it was created however busy it is.
    fn session(&mut self, id: &str) -> Option<Principal> {
        let session = self.sessions.get(id)?;
        let age = session.created.elapsed();
        if age >= self.config.idle || age >= self.config.max {
            self.sessions.remove(id);
            return None;
        }
        Some(session.principal.clone())
    }

    /// SessionGet's `SessionData`: every value a string or null, sorted by key.
    pub(super) fn session_data(&mut self, id: &str) -> Option<Value> {
        let principal = self.session(id)?;
        let start = self.sessions.get(id)?.start_epoch.to_string();
        let mut data: BTreeMap<&str, Value> = BTreeMap::from([
            ("SessionSource", json!("GenericInterface")),
            ("UserLastRequest", json!(start)),
            ("UserRemoteAddr", json!("127.0.0.1")),
            ("UserRemoteUserAgent", json!("")),
            ("UserSessionStart", json!(start)),
            ("UserTitle", Value::Null),
        ]);
        match principal {
            Principal::Agent(uid) => {
                let agent = Self::agent(uid)?;
                data.extend([
                    ("UserEmail", json!(agent.email)),
                    ("UserFirstname", json!(agent.first)),
                    (
                        "UserFullname",
                        json!(format!("{} {}", agent.first, agent.last)),
                    ),
                    ("UserID", json!(agent.id.to_string())),
                    ("UserLastname", json!(agent.last)),
                    ("UserLogin", json!(agent.login)),
                    ("UserType", json!("User")),
                    ("ValidID", json!("1")),
                ]);
            }
            Principal::Customer(login) => {
                let c = self.customer(&login)?;
                data.extend([
                    ("UserCustomerID", json!(c.customer_id)),
                    ("UserEmail", json!(c.email)),
                    ("UserFirstname", json!(c.first)),
                    ("UserFullname", json!(c.full_name())),
                    ("UserID", json!(c.login)),
                    ("UserLastname", json!(c.last)),
                    ("UserLogin", json!(c.login)),
                    ("UserType", json!("Customer")),
                    ("ValidID", json!("1")),
                ]);
            }
        }
        let pairs = data.into_iter().map(|(k, v)| json!({"Key": k, "Value": v}));
        Some(Value::Array(pairs.collect()))
    }

    /// `Maint::Session::DeleteAll`.
    pub(super) fn expire_sessions(&mut self) {
        self.sessions.clear();
    }

    /// `TicketPermission` (`ro`): agents see every queue (apiagent is rw in `users`, the
    /// group of all four default queues); customers see tickets whose CustomerUserID is
    /// theirs or whose CustomerID is their company (CustomerUserIDCheck/CustomerIDCheck).
    pub(super) fn can_see(&self, who: &Principal, ticket: &Ticket) -> bool {
        match who {
            Principal::Agent(_) => true,
            Principal::Customer(login) => {
                let own = ticket.customer_user.as_deref() == Some(login.as_str());
                let company = self.customer(login).map(|c| c.customer_id.as_str());
                own || (company.is_some() && ticket.customer_id.as_deref() == company)
            }
        }
    }

    /// The ticket a path or body id names; only plain decimal ids exist.
    pub(super) fn visible_ticket(&self, who: &Principal, raw: &str) -> Option<u64> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let ticket = self.tickets.get(&raw.parse().ok()?)?;
        self.can_see(who, ticket).then_some(ticket.id)
    }

    pub(super) fn next_ticket_id(&self) -> u64 {
        self.tickets.keys().next_back().map_or(1, |id| id + 1)
    }

    pub(super) fn next_ticket_number(&mut self, now: i64) -> String {
        self.tn_counter += 1;
        ticket_number(now, self.tn_counter)
    }

    pub(super) fn next_article_id(&mut self) -> u64 {
        let id = self.next_article_id;
        self.next_article_id += 1;
        id
    }

    /// TicketGet's hash for one ticket.
    pub(super) fn ticket_json(&self, t: &Ticket, opts: &GetOptions) -> Value {
        let now = now_epoch();
        let (state_name, state_type) = state(t.state_id);
        let pending = state_type.starts_with("pending");
        let mut v = json!({
            "Age": now - t.created, "ArchiveFlag": "n",
            "ChangeBy": t.change_by, "Changed": format_time(t.changed),
            "CreateBy": t.create_by, "Created": format_time(t.created),
            "CustomerID": t.customer_id, "CustomerUserID": t.customer_user,
            "EscalationResponseTime": 0, "EscalationSolutionTime": 0,
            "EscalationTime": 0, "EscalationUpdateTime": 0, "GroupID": 1,
            "Lock": name_of(LOCKS, t.lock_id), "LockID": t.lock_id,
            "Owner": Self::agent(t.owner_id).map_or("", |a| a.login), "OwnerID": t.owner_id,
            "Priority": name_of(PRIORITIES, t.priority_id), "PriorityID": t.priority_id,
            "Queue": name_of(QUEUES, t.queue_id), "QueueID": t.queue_id,
            "RealTillTimeNotUsed": t.pending_until,
            "Responsible": Self::agent(t.responsible_id).map_or("", |a| a.login),
            "ResponsibleID": t.responsible_id, "SLAID": "", "ServiceID": "",
            "State": state_name, "StateID": t.state_id, "StateType": state_type,
            "TicketID": t.id, "TicketNumber": t.number, "TimeUnit": 0, "Title": t.title,
            "Type": name_of(TYPES, t.type_id), "TypeID": t.type_id,
            "UnlockTimeout": t.created,
            "UntilTime": if pending && t.pending_until > 0 { t.pending_until - now } else { 0 },
        });
        if opts.dynamic_fields {
            let fields = FIELDS
                .iter()
                .map(|(name, _)| json!({"Name": name, "Value": t.fields.get(*name)}));
            v["DynamicField"] = Value::Array(fields.collect());
        }
        if opts.all_articles {
            let articles = self.visible_articles(t, opts);
            if !articles.is_empty() {
                v["Article"] = Value::Array(articles);
            }
        }
        v
    }

    fn visible_articles(&self, t: &Ticket, opts: &GetOptions) -> Vec<Value> {
        let wanted = |a: &Article| {
            let sender = name_of(SENDER_TYPES, a.sender_type_id);
            (!opts.customer_view || a.visible)
                && opts
                    .sender_types
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|x| x == sender))
        };
        let mut list: Vec<(usize, &Article)> = t
            .articles
            .iter()
            .enumerate()
            .filter(|(_, a)| wanted(a))
            .collect();
        if opts.limit > 0 {
            if opts.newest_first {
                list.reverse();
            }
            list.truncate(opts.limit);
        }
        list.into_iter()
            .map(|(i, a)| self.article_json(t, i + 1, a, opts))
            .collect()
    }

    /// An article as TicketGet prints it: `ArticleID` a number, `SenderTypeID` a string.
    fn article_json(&self, t: &Ticket, number: usize, a: &Article, opts: &GetOptions) -> Value {
        let mut v = json!({
            "ArticleID": a.id, "ArticleNumber": number, "Bcc": "", "Body": a.body, "Cc": "",
            "ChangeBy": a.create_by, "ChangeTime": format_time(a.created),
            "Charset": a.charset, "CommunicationChannelID": a.channel_id,
            "ContentCharset": a.charset, "ContentType": a.content_type,
            "CreateBy": a.create_by, "CreateTime": format_time(a.created), "From": a.from,
            "InReplyTo": "", "IncomingTime": a.created,
            "IsVisibleForCustomer": u8::from(a.visible), "MessageID": "",
            "MimeType": a.mime_type, "References": "", "ReplyTo": "",
            "SenderType": name_of(SENDER_TYPES, a.sender_type_id),
            "SenderTypeID": a.sender_type_id.to_string(), "Subject": a.subject,
            "TicketID": t.id, "TimeUnit": 0, "To": a.to,
        });
        if opts.attachments {
            let files = a.attachments.iter().enumerate().map(|(i, f)| {
                let content = if opts.attachment_contents {
                    f.content.as_str()
                } else {
                    ""
                };
                json!({
                    "Content": content, "ContentAlternative": "", "ContentID": "",
                    "ContentType": f.content_type, "Disposition": "attachment",
                    "FileID": (i + 1).to_string(), "Filename": f.filename,
                    "FilesizeRaw": f.size.to_string(),
                })
            });
            v["Attachment"] = Value::Array(files.collect());
        }
        v
    }

    /// TicketHistoryGet's `History` list; `TicketID` is a string there.
    pub(super) fn history_json(t: &Ticket) -> Value {
        let lines = t.history.iter().map(|h| {
            json!({
                "ArticleID": h.article_id, "CreateBy": h.create_by,
                "CreateTime": format_time(h.created),
                "HistoryType": name_of(HISTORY_TYPES, h.type_id), "HistoryTypeID": h.type_id,
                "Name": h.name, "OwnerID": h.owner_id, "PriorityID": h.priority_id,
                "QueueID": h.queue_id, "StateID": h.state_id,
                "TicketID": t.id.to_string(), "TypeID": h.type_id_ticket,
            })
        });
        Value::Array(lines.collect())
    }

    /// Tickets whose dynamic field `name` equals `value` exactly.
    pub(super) fn tickets_with_field(&self, name: &str, value: &str) -> Vec<u64> {
        let tickets = self.tickets.values();
        let matching = tickets.filter(|t| t.fields.get(name).is_some_and(|v| v == value));
        matching.map(|t| t.id).collect()
    }

    /// `From` of an article an agent or customer writes.
    pub(super) fn sender_address(&self, who: &Principal) -> String {
        match who {
            Principal::Agent(id) => Self::agent(*id).map_or_else(String::new, |a| {
                format!("\"{} {}\" <{}>", a.first, a.last, a.email)
            }),
            Principal::Customer(login) => self.customer(login).map_or_else(
                || login.clone(),
                |c| format!("\"{}\" <{}>", c.full_name(), c.email),
            ),
        }
    }
}

/// Adds a history line carrying the ticket's current queue, state and so on.
pub(super) fn log(t: &mut Ticket, kind: &str, name: String, article_id: u64, by: u64) {
    t.history.push(History {
        type_id: id_of(HISTORY_TYPES, kind).unwrap_or(25),
        name,
        article_id,
        created: now_epoch(),
        create_by: by,
        owner_id: t.owner_id,
        priority_id: t.priority_id,
        queue_id: t.queue_id,
        state_id: t.state_id,
        type_id_ticket: t.type_id,
    });
}

/// CommunicationChannelID of a channel a new article may use (Email, Phone, Internal).
pub(super) fn creatable_channel(name: Option<&str>, id: Option<&str>) -> Option<u64> {
    let found = match (id, name) {
        (Some(id), _) => id
            .parse()
            .ok()
            .filter(|i| CHANNELS.iter().any(|(c, _)| c == i)),
        (None, Some(name)) => id_of(CHANNELS, name),
        (None, None) => None,
    }?;
    (found != 4).then_some(found)
}
