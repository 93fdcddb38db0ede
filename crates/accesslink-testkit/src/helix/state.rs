//! The mock's state and its answers.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::qual;

/// The forms the mock knows.
pub(crate) const HELP_DESK: &str = "HPD:Help Desk";
pub(crate) const INCIDENT_CREATE: &str = "HPD:IncidentInterface_Create";
pub(crate) const CHANGE_CREATE: &str = "CHG:ChangeInterface_Create";
pub(crate) const WORK_ORDER_CREATE: &str = "WOI:WorkOrderInterface_Create";
pub(crate) const WORK_LOG: &str = "HPD:WorkLog";
pub(crate) const CHANGE: &str = "CHG:Infrastructure Change";
pub(crate) const WORK_ORDER: &str = "WOI:WorkOrder";
pub(crate) const REQUEST: &str = "SRM:Request";
pub(crate) const PEOPLE: &str = "CTM:People";
pub(crate) const CHANGE_WORK_LOG: &str = "CHG:WorkLog";
pub(crate) const WORK_ORDER_WORK_INFO: &str = "WOI:WorkInfo";
pub(crate) const SUPPORT_GROUP: &str = "CTM:Support Group";
pub(crate) const ASSOCIATION: &str = "CTM:Support Group Association";
pub(crate) const USER: &str = "User";
pub(crate) const GROUP: &str = "Group";

/// When a simulated concurrent writer changes a user's `Group List`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interleave {
    /// Right after the next read of that user (between a client's read and its write).
    AfterRead,
    /// Right after the next write to that user (a writer's stale list landing on ours).
    AfterWrite,
}

/// One entry of a form.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Record {
    /// The entry id (15 digits).
    pub id: String,
    /// The field values by name.
    pub values: Map<String, Value>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) lifetime: Duration,
    /// token → expiry (seconds since the epoch).
    pub(crate) tokens: HashMap<String, u64>,
    pub(crate) logins: usize,
    pub(crate) logouts: usize,
    pub(crate) session_elsewhere: usize,
    pub(crate) forms: HashMap<String, Vec<Record>>,
    pub(crate) next_id: u64,
    pub(crate) ignore_filters: bool,
    /// Whether `>=` and `<` comparisons are ignored (partition bounds).
    pub(crate) ignore_ranges: bool,
    pub(crate) max_entries: Option<usize>,
    pub(crate) repeat_pages: bool,
    pub(crate) created_incidents: usize,
    /// Concurrent `Group List` writes to make: when, the login, the list they write.
    pub(crate) group_list_writes: Vec<(Interleave, String, String)>,
    /// A stopped clock (seconds since the epoch), else the real one.
    pub(crate) frozen: Option<u64>,
    /// The login the current request is made as (for `Submitter`).
    pub(crate) caller: Option<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An AR date-time: `2024-05-02T09:14:11.000+0000` (whole seconds: AR keeps no more).
pub(crate) fn ar_time(secs: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs);
    let iso = accesslink_core::time::format_rfc3339_millis(t);
    format!("{}+0000", iso.trim_end_matches('Z'))
}

/// Seconds since the epoch of an AR date-time (`…+0000`, `…Z`, `…+05:30`).
pub(crate) fn parse_ar_time(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.len() < 19 {
        return None;
    }
    let (head, rest) = s.split_at(19);
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "" | "Z" => 0,
        tz => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            let digits: String = tz[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    let t = accesslink_core::time::parse_local_datetime(&head.replacen('T', " ", 1), offset)?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

fn ar_error(status: u16, number: i64, text: &str, appended: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!([{
        "messageType": "ERROR",
        "messageNumber": number,
        "messageText": text,
        "messageAppendedText": appended,
    }]))
}

/// Percent-decodes a path segment.
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl State {
    pub(crate) fn new(username: String, password: String, lifetime: Duration) -> State {
        State {
            username,
            password,
            lifetime,
            tokens: HashMap::new(),
            logins: 0,
            logouts: 0,
            session_elsewhere: 0,
            forms: HashMap::new(),
            next_id: 1,
            ignore_filters: false,
            ignore_ranges: false,
            max_entries: None,
            repeat_pages: false,
            created_incidents: 0,
            group_list_writes: Vec::new(),
            frozen: None,
            caller: None,
        }
    }

    /// The server's clock, in seconds.
    pub(crate) fn clock(&self) -> u64 {
        self.frozen.unwrap_or_else(now)
    }

    /// Stamps `Last Modified Date` (and `Submit Date` on a new entry).
    pub(crate) fn stamp(&self, values: &mut Map<String, Value>, new: bool) {
        let at = json!(ar_time(self.clock()));
        if new && !values.contains_key("Submit Date") {
            values.insert("Submit Date".into(), at.clone());
        }
        values.insert("Last Modified Date".into(), at);
    }

    pub(crate) fn new_entry_id(&mut self) -> String {
        let id = format!("{:015}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Adds an entry to a form; its entry id.
    pub(crate) fn insert(&mut self, form: &str, values: Map<String, Value>) -> String {
        let id = self.new_entry_id();
        let mut values = values;
        values.insert("Request ID".into(), json!(id));
        self.stamp(&mut values, true);
        self.forms.entry(form.to_owned()).or_default().push(Record {
            id: id.clone(),
            values,
        });
        id
    }

    pub(crate) fn records(&self, form: &str) -> &[Record] {
        self.forms.get(form).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn find_mut(&mut self, form: &str, field: &str, value: &str) -> Option<&mut Record> {
        self.forms
            .get_mut(form)?
            .iter_mut()
            .find(|r| r.values.get(field).and_then(Value::as_str) == Some(value))
    }

    fn issue_token(&mut self) -> String {
        let exp = now() + self.lifetime.as_secs();
        let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!(
            "{}.{}.{:016x}",
            enc(json!({"alg": "HS256"})),
            enc(json!({"sub": self.username, "exp": exp, "jti": fastrand::u64(..)})),
            fastrand::u64(..)
        );
        self.tokens.insert(token.clone(), exp);
        token
    }

    fn token_of(&self, request: &Request) -> Option<String> {
        let h = request.headers.get("authorization")?.to_str().ok()?;
        let t = h.strip_prefix("AR-JWT ")?;
        let exp = self.tokens.get(t)?;
        (*exp > now()).then(|| t.to_owned())
    }

    pub(crate) fn answer(&mut self, base: &str, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let method = request.method.as_str().to_owned();
        if path == "/api/jwt/login" && method == "POST" {
            return self.login(request);
        }
        if path == "/api/jwt/logout" && method == "POST" {
            return match self.token_of(request) {
                Some(t) => {
                    self.tokens.remove(&t);
                    self.logouts += 1;
                    ResponseTemplate::new(204)
                }
                None => ar_error(401, 623, "Authentication failed", None),
            };
        }
        if self.token_of(request).is_none() {
            return ar_error(401, 623, "Authentication failed", None);
        }
        self.caller = Some(self.username.clone());
        if self.session_elsewhere > 0 {
            self.session_elsewhere -= 1;
            return ar_error(
                500,
                9093,
                "User is currently connected from another machine or incompatible session",
                Some(&self.username.clone()),
            );
        }
        let Some(rest) = path.strip_prefix("/api/arsys/v1/entry/") else {
            return ar_error(404, 9369, "Resource not found", Some(&path));
        };
        let mut parts = rest.splitn(2, '/');
        let form = decode(parts.next().unwrap_or(""));
        let id = parts.next().map(decode);
        match (method.as_str(), id) {
            ("GET", None) => self.list(base, &form, request),
            ("GET", Some(id)) => match self.records(&form).iter().find(|r| r.id == id) {
                Some(r) => {
                    ResponseTemplate::new(200).set_body_json(entry_json(base, &form, r, None))
                }
                None => ar_error(404, 302, "Entry does not exist in database", Some(&id)),
            },
            ("POST", None) => self.create(base, &form, request),
            ("PUT", Some(id)) => self.update(&form, &id, request),
            ("DELETE", Some(id)) => {
                let Some(records) = self.forms.get_mut(&form) else {
                    return ar_error(500, 303, "Form does not exist on server", Some(&form));
                };
                match records.iter().position(|r| r.id == id) {
                    Some(at) => {
                        records.remove(at);
                        ResponseTemplate::new(204)
                    }
                    None => ar_error(404, 302, "Entry does not exist in database", Some(&id)),
                }
            }
            _ => ar_error(405, 9372, "Method not allowed", None),
        }
    }

    fn login(&mut self, request: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let kind = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !kind.starts_with("application/x-www-form-urlencoded") {
            return ar_error(415, 9362, "Unsupported media type", Some(kind));
        }
        if form.get("username") != Some(&self.username)
            || form.get("password") != Some(&self.password)
        {
            return ar_error(
                401,
                623,
                "Authentication failed",
                form.get("username").map(String::as_str),
            );
        }
        self.logins += 1;
        let token = self.issue_token();
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/plain")
            .set_body_string(token)
    }

    fn list(&mut self, base: &str, form: &str, request: &Request) -> ResponseTemplate {
        let mut q = None;
        let mut fields: Option<Vec<String>> = None;
        let mut offset = 0usize;
        let mut limit = 2000usize;
        let mut sort: Vec<(String, bool)> = Vec::new();
        for (k, v) in request.url.query_pairs() {
            match k.as_ref() {
                "q" => q = Some(v.into_owned()),
                "fields" => {
                    let inner = v.strip_prefix("values(").and_then(|s| s.strip_suffix(')'));
                    match inner {
                        Some(i) => fields = Some(i.split(',').map(str::to_owned).collect()),
                        None => return ar_error(400, 8790, "Invalid fields parameter", Some(&v)),
                    }
                }
                "sort" => {
                    for part in v.split(',') {
                        let (field, dir) = match part.rsplit_once('.') {
                            Some((f, "asc")) => (f, true),
                            Some((f, "desc")) => (f, false),
                            _ => return ar_error(400, 8790, "Invalid sort", Some(part)),
                        };
                        sort.push((field.to_owned(), dir));
                    }
                }
                "offset" => match v.parse() {
                    Ok(n) => offset = n,
                    Err(_) => return ar_error(400, 8790, "Invalid offset", Some(&v)),
                },
                "limit" => match v.parse() {
                    Ok(n) if n > 0 => limit = n,
                    _ => return ar_error(400, 8790, "Invalid limit", Some(&v)),
                },
                _ => {}
            }
        }
        let expr = match q.as_deref().map(qual::parse) {
            None => None,
            Some(Ok(e)) => Some(e),
            Some(Err(why)) => {
                return ar_error(400, 1587, "Syntax error in qualification", Some(&why));
            }
        };
        let mut matching: Vec<&Record> = self
            .records(form)
            .iter()
            .filter(|r| {
                self.ignore_filters
                    || expr
                        .as_ref()
                        .is_none_or(|e| e.matches_with(&r.values, self.ignore_ranges))
            })
            .collect();
        if !sort.is_empty() {
            // Stable: equal keys keep entry id order, as the server's index does.
            matching.sort_by(|a, b| {
                for (field, asc) in &sort {
                    let key = |r: &Record| match r.values.get(field) {
                        Some(Value::String(s)) => qual::ordinal(s)
                            .map_or_else(|| (1, 0, s.clone()), |n| (1, n, String::new())),
                        Some(Value::Null) | None => (0, 0, String::new()),
                        Some(other) => (1, 0, other.to_string()),
                    };
                    let o = key(a).cmp(&key(b));
                    let o = if *asc { o } else { o.reverse() };
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let total = match self.max_entries {
            // The server's cap truncates silently: fewer rows and no next link.
            Some(cap) => matching.len().min(cap),
            None => matching.len(),
        };
        let offset = if self.repeat_pages { 0 } else { offset };
        let page: Vec<Value> = matching
            .iter()
            .take(total)
            .skip(offset)
            .take(limit)
            .map(|r| entry_json(base, form, r, fields.as_deref()))
            .collect();
        let self_link = format!(
            "{base}{}?{}",
            request.url.path(),
            request.url.query().unwrap_or("")
        );
        let mut links = json!({ "self": [{ "href": self_link }] });
        if offset + page.len() < total {
            let next = format!(
                "{base}/api/arsys/v1/entry/{}?offset={}&limit={limit}",
                encode(form),
                offset + page.len()
            );
            links["next"] = json!([{ "href": next }]);
        }
        if form == USER {
            let logins: Vec<String> = page
                .iter()
                .filter_map(|e| e["values"]["Login Name"].as_str().map(str::to_owned))
                .collect();
            for login in logins {
                self.concurrent_group_write(Interleave::AfterRead, &login);
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({ "entries": page, "_links": links }))
    }

    /// Makes the first queued concurrent write for (`when`, `login`), if any.
    fn concurrent_group_write(&mut self, when: Interleave, login: &str) {
        let Some(at) = self
            .group_list_writes
            .iter()
            .position(|(w, l, _)| *w == when && l == login)
        else {
            return;
        };
        let (_, _, list) = self.group_list_writes.remove(at);
        if let Some(r) = self.find_mut(USER, "Login Name", login) {
            r.values.insert("Group List".into(), json!(list));
        }
    }

    fn create(&mut self, base: &str, form: &str, request: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ar_error(400, 8793, "Invalid JSON", None);
        };
        let Some(values) = body.get("values").and_then(Value::as_object).cloned() else {
            return ar_error(400, 8793, "values is required", None);
        };
        let fields: Option<Vec<String>> = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "fields")
            .and_then(|(_, v)| {
                v.strip_prefix("values(")
                    .and_then(|s| s.strip_suffix(')'))
                    .map(|i| i.split(',').map(str::to_owned).collect())
            });
        let (target, record_values) = match form {
            INCIDENT_CREATE => match self.incident_from(&values) {
                Ok(v) => (HELP_DESK, v),
                Err(e) => return *e,
            },
            CHANGE_CREATE | WORK_ORDER_CREATE => match self.workflow_from(form, &values) {
                Ok(v) => (
                    if form == CHANGE_CREATE {
                        CHANGE
                    } else {
                        WORK_ORDER
                    },
                    v,
                ),
                Err(e) => return *e,
            },
            WORK_LOG => {
                let number = values
                    .get("Incident Number")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !self.records(HELP_DESK).iter().any(|r| {
                    r.values.get("Incident Number").and_then(Value::as_str) == Some(number)
                }) {
                    return ar_error(500, 1291035, "The incident does not exist", Some(number));
                }
                let mut values = values;
                let submitter = self.caller.clone().unwrap_or_default();
                values.entry("Submitter").or_insert(json!(submitter));
                let n = self.next_id;
                values.insert("Work Log ID".into(), json!(format!("WLG{n:012}")));
                (WORK_LOG, values)
            }
            CHANGE_WORK_LOG | WORK_ORDER_WORK_INFO => {
                let (parent, field) = if form == CHANGE_WORK_LOG {
                    (CHANGE, "Infrastructure Change ID")
                } else {
                    (WORK_ORDER, "Work Order ID")
                };
                let number = values.get(field).and_then(Value::as_str).unwrap_or("");
                let known = self
                    .records(parent)
                    .iter()
                    .any(|r| r.values.get(field).and_then(Value::as_str) == Some(number));
                if !known {
                    return ar_error(
                        500,
                        1291035,
                        "The parent ticket does not exist",
                        Some(number),
                    );
                }
                (form, values)
            }
            PEOPLE => {
                let login = values
                    .get("Remedy Login ID")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if login.is_empty() {
                    return ar_error(
                        500,
                        326,
                        "Required field cannot be blank",
                        Some("Remedy Login ID"),
                    );
                }
                let taken = self.records(PEOPLE).iter().any(|r| {
                    r.values.get("Remedy Login ID").and_then(Value::as_str) == Some(login)
                });
                if taken {
                    return ar_error(
                        500,
                        382,
                        "The value(s) for this entry violate a unique index that has been defined for this form",
                        Some("Remedy Login ID"),
                    );
                }
                let mut values = values;
                let n = self.next_id;
                values.insert("Person ID".into(), json!(format!("PPL{n:012}")));
                (PEOPLE, values)
            }
            ASSOCIATION => {
                let login = values
                    .get("Login ID")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let group = values
                    .get("Support Group ID")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let known_group = self.records(SUPPORT_GROUP).iter().any(|r| {
                    r.values.get("Support Group ID").and_then(Value::as_str) == Some(group.as_str())
                });
                if !known_group {
                    return ar_error(
                        500,
                        1291031,
                        "The support group does not exist",
                        Some(&group),
                    );
                }
                let dup = self.records(ASSOCIATION).iter().any(|r| {
                    r.values.get("Login ID").and_then(Value::as_str) == Some(login.as_str())
                        && r.values.get("Support Group ID").and_then(Value::as_str)
                            == Some(group.as_str())
                });
                if dup {
                    return ar_error(
                        500,
                        382,
                        "The value(s) for this entry violate a unique index that has been defined for this form",
                        None,
                    );
                }
                (ASSOCIATION, values)
            }
            other if self.forms.contains_key(other) => (other, values),
            other => return ar_error(500, 303, "Form does not exist on server", Some(other)),
        };
        let target = target.to_owned();
        let id = self.insert(&target, record_values);
        let record = self.records(&target).iter().find(|r| r.id == id).cloned();
        let location = format!("{base}/api/arsys/v1/entry/{}/{id}", encode(&target));
        let mut answer = ResponseTemplate::new(201).insert_header("location", location.as_str());
        if let (Some(fields), Some(r)) = (fields, record) {
            let mut out = Map::new();
            for f in fields {
                out.insert(f.clone(), r.values.get(&f).cloned().unwrap_or(Value::Null));
            }
            answer = answer.set_body_json(json!({ "values": out }));
        }
        answer
    }

    /// A change or work order from its interface form's values: `z1D_Action = CREATE`
    /// and a summary are required; the number is made here.
    fn workflow_from(
        &mut self,
        form: &str,
        v: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Box<ResponseTemplate>> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        if text("z1D_Action").as_deref() != Some("CREATE") {
            return Err(Box::new(ar_error(
                500,
                1291053,
                "z1D_Action must be CREATE",
                None,
            )));
        }
        let (title, id_field, status_field) = if form == CHANGE_CREATE {
            (
                "Description",
                "Infrastructure Change ID",
                "Change Request Status",
            )
        } else {
            ("Summary", "Work Order ID", "Status")
        };
        if text(title).is_none_or(|s| s.trim().is_empty()) {
            return Err(Box::new(ar_error(
                500,
                326,
                "Required field cannot be blank",
                Some(title),
            )));
        }
        let n = self.next_id;
        let number = if form == CHANGE_CREATE {
            format!("CRQ{n:012}")
        } else {
            format!("WO{n:013}")
        };
        let mut out: Map<String, Value> = v
            .iter()
            .filter(|(k, _)| !k.starts_with("z1D"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert(id_field.into(), json!(number));
        let initial = if form == CHANGE_CREATE {
            "Draft"
        } else {
            "Assigned"
        };
        if form == CHANGE_CREATE || !out.contains_key(status_field) {
            out.insert(status_field.into(), json!(initial));
        }
        if let Some(login) = text("Customer Login ID") {
            if let Some(p) = self.records(PEOPLE).iter().find(|p| {
                p.values.get("Remedy Login ID").and_then(Value::as_str) == Some(login.as_str())
            }) {
                for k in ["First Name", "Last Name", "Internet E-mail"] {
                    out.insert(k.into(), p.values.get(k).cloned().unwrap_or(Value::Null));
                }
            }
        }
        Ok(out)
    }

    fn incident_from(
        &mut self,
        v: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Box<ResponseTemplate>> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        if text("z1D_Action").as_deref() != Some("CREATE") {
            return Err(Box::new(ar_error(
                500,
                1291053,
                "z1D_Action must be CREATE",
                None,
            )));
        }
        for required in [
            "Description",
            "Impact",
            "Urgency",
            "Service_Type",
            "Reported Source",
            "Status",
        ] {
            if text(required).is_none_or(|s| s.is_empty()) {
                return Err(Box::new(ar_error(
                    500,
                    326,
                    "Required field cannot be blank",
                    Some(required),
                )));
            }
        }
        let login = text("Login_ID").unwrap_or_default();
        let person = self
            .records(PEOPLE)
            .iter()
            .find(|p| {
                p.values.get("Remedy Login ID").and_then(Value::as_str) == Some(login.as_str())
            })
            .cloned();
        let Some(person) = person else {
            return Err(Box::new(ar_error(
                500,
                1291053,
                "A valid customer is required",
                Some(&login),
            )));
        };
        self.created_incidents += 1;
        let number = format!("INC{:012}", self.created_incidents);
        let mut out = Map::new();
        out.insert("Incident Number".into(), json!(number));
        for (from, to) in [
            ("Description", "Description"),
            ("Detailed_Decription", "Detailed Decription"),
            ("Impact", "Impact"),
            ("Urgency", "Urgency"),
            ("Service_Type", "Service Type"),
            ("Reported Source", "Reported Source"),
            ("Status", "Status"),
        ] {
            out.insert(to.into(), v.get(from).cloned().unwrap_or(Value::Null));
        }
        for (k, val) in v {
            if !k.contains('_') && !out.contains_key(k) && k != "Login_ID" {
                out.insert(k.clone(), val.clone());
            }
        }
        let pv = |k: &str| person.values.get(k).cloned().unwrap_or(Value::Null);
        out.insert("Customer Login ID".into(), json!(login));
        out.insert("First Name".into(), pv("First Name"));
        out.insert("Last Name".into(), pv("Last Name"));
        out.insert("Internet E-mail".into(), pv("Internet E-mail"));
        Ok(out)
    }

    fn update(&mut self, form: &str, id: &str, request: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ar_error(400, 8793, "Invalid JSON", None);
        };
        let Some(values) = body.get("values").and_then(Value::as_object).cloned() else {
            return ar_error(400, 8793, "values is required", None);
        };
        let Some(record) = self
            .forms
            .get_mut(form)
            .and_then(|f| f.iter_mut().find(|r| r.id == id))
        else {
            return ar_error(404, 302, "Entry does not exist in database", Some(id));
        };
        if form == HELP_DESK {
            let status = values
                .get("Status")
                .or(record.values.get("Status"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if matches!(status, "Pending" | "Resolved") {
                let has = |k: &str| {
                    values
                        .get(k)
                        .or(record.values.get(k))
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                };
                if !has("Status_Reason") {
                    return ar_error(
                        500,
                        1291160,
                        "The Status Reason field is required for this status",
                        Some(status),
                    );
                }
                if status == "Resolved" && !has("Resolution") {
                    return ar_error(
                        500,
                        1291161,
                        "The Resolution field is required to resolve",
                        None,
                    );
                }
            }
        }
        let status_field = match form {
            CHANGE => Some("Change Request Status"),
            WORK_ORDER => Some("Status"),
            _ => None,
        };
        if let Some(sf) = status_field {
            let completing = values.get(sf).and_then(Value::as_str) == Some("Completed");
            let reason = values
                .get("Status Reason")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            if completing && !reason {
                return ar_error(
                    500,
                    1291162,
                    "The Status Reason field is required to complete",
                    Some(sf),
                );
            }
        }
        for (k, v) in values {
            record.values.insert(k, v);
        }
        let at = json!(ar_time(self.frozen.unwrap_or_else(now)));
        record.values.insert("Last Modified Date".into(), at);
        if form == USER {
            let login = record
                .values
                .get("Login Name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            self.concurrent_group_write(Interleave::AfterWrite, &login);
        }
        ResponseTemplate::new(204)
    }
}

pub(crate) fn entry_json(base: &str, form: &str, r: &Record, fields: Option<&[String]>) -> Value {
    let values: Map<String, Value> = match fields {
        Some(fs) => fs
            .iter()
            .map(|f| (f.clone(), r.values.get(f).cloned().unwrap_or(Value::Null)))
            .collect(),
        None => r.values.clone(),
    };
    json!({
        "values": values,
        "_links": { "self": [{ "href": format!("{base}/api/arsys/v1/entry/{}/{}", encode(form), r.id) }] }
    })
}
