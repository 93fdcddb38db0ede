//! Parameter checks of TicketCreate and TicketUpdate (`_CheckTicket`, `_CheckArticle`,
//! `_CheckDynamicField`, `_CheckAttachment` and the `Validate*` helpers of
//! `Operation/Ticket/Common.pm`), in the order the Perl code runs them, with its messages.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::model::{
    Attachment, FIELDS, FieldKind, LOCKS, PRIORITIES, Principal, QUEUES, SENDER_TYPES, STATES,
    TYPES, Table, epoch_of, id_of, now_epoch,
};
use super::perl::{given, hash_with_data, scalar, string_with_data, trimmed, truthy};
use super::state::{State, creatable_channel};

/// The result of an operation: a 200 JSON document (data or `{"Error":…}`), or an internal
/// failure, which the provider answers with HTTP 500 `{"faultcode":"Server",…}`.
#[derive(Debug)]
pub(super) enum Outcome {
    Data(Value),
    Fault(String),
}

/// One step of an operation; `Err` is the answer.
pub(super) type Step<T> = Result<T, Outcome>;

/// `ReturnError`: HTTP 200 with `{"Error":{"ErrorCode","ErrorMessage"}}`.
pub(super) fn error(code: &str, message: impl Into<String>) -> Outcome {
    let message = message.into();
    Outcome::Data(json!({"Error": {"ErrorCode": code, "ErrorMessage": message}}))
}

/// Which operation is checking; the messages and required fields differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Create,
    Update,
}

impl Op {
    pub(super) fn name(self) -> &'static str {
        match self {
            Op::Create => "TicketCreate",
            Op::Update => "TicketUpdate",
        }
    }

    fn missing(self, message: &str) -> Outcome {
        error(
            &format!("{}.MissingParameter", self.name()),
            format!("{}: {message}", self.name()),
        )
    }

    fn invalid(self, message: &str) -> Outcome {
        error(
            &format!("{}.InvalidParameter", self.name()),
            format!("{}: {message}", self.name()),
        )
    }
}

/// The Ticket hash, resolved to ids. Absent values are `None`.
#[derive(Debug, Default)]
pub(super) struct TicketSpec {
    pub(super) title: Option<String>,
    /// `(CustomerUserID, CustomerID of that user)`.
    pub(super) customer: Option<(String, String)>,
    pub(super) customer_id: Option<String>,
    pub(super) queue: Option<u64>,
    pub(super) lock: Option<u64>,
    pub(super) type_id: Option<u64>,
    pub(super) state: Option<u64>,
    pub(super) priority: Option<u64>,
    pub(super) owner: Option<u64>,
    pub(super) responsible: Option<u64>,
    /// Epoch of a valid `PendingTime`.
    pub(super) pending: Option<i64>,
    /// `PendingTime` was sent at all (`defined`), usable or not.
    pub(super) pending_sent: bool,
}

/// `Validate<Thing>`: by name when only the name is sent, by id otherwise; `None` if invalid.
fn lookup(
    t: &Map<String, Value>,
    name_key: &str,
    by_name: impl Fn(&str) -> Option<u64>,
    valid_id: impl Fn(u64) -> bool,
) -> Option<u64> {
    let id_key = format!("{name_key}ID");
    match (given(t.get(name_key)), given(t.get(&id_key))) {
        (_, Some(id)) => id.parse().ok().filter(|i| valid_id(*i)),
        (Some(name), None) => by_name(&name),
        (None, None) => None,
    }
}

fn sent(t: &Map<String, Value>, key: &str) -> bool {
    truthy(t.get(key)) || truthy(t.get(&format!("{key}ID")))
}

/// `_CheckTicket`. With setup.sh's `CheckEmailAddresses = 0` any CustomerUser that is not a
/// known login passes `ValidateFrom`; `strict_email` models a server that checks addresses.
pub(super) fn check_ticket(
    state: &State,
    t: &Map<String, Value>,
    op: Op,
    strict_email: bool,
) -> Step<TicketSpec> {
    let t = trimmed(t);
    let mut spec = TicketSpec::default();
    if op == Op::Create {
        for needed in ["Title", "CustomerUser"] {
            if !truthy(t.get(needed)) {
                return Err(op.missing(&format!("Ticket->{needed} parameter is missing!")));
            }
        }
    }
    spec.title = scalar(t.get("Title")).filter(|s| !s.is_empty());
    if let Some(raw) = given(t.get("CustomerUser")) {
        let customer = resolve_customer(state, &raw, strict_email);
        spec.customer =
            Some(customer.ok_or_else(|| op.invalid("Ticket->CustomerUser parameter is invalid!"))?);
    }
    spec.customer_id = scalar(t.get("CustomerID")).filter(|s| !s.is_empty());
    if op == Op::Create && !sent(&t, "Queue") {
        return Err(op.missing("Ticket->QueueID or Ticket->Queue parameter is required!"));
    }
    let named = |key: &str, table: &'static Table, message: &str| -> Step<Option<u64>> {
        if !sent(&t, key) {
            return Ok(None);
        }
        let found = lookup(
            &t,
            key,
            |n| id_of(table, n),
            |i| table.iter().any(|(x, _)| *x == i),
        );
        found.map(Some).ok_or_else(|| op.invalid(message))
    };
    spec.queue = named(
        "Queue",
        QUEUES,
        "Ticket->QueueID or Ticket->Queue parameter is invalid!",
    )?;
    spec.lock = named(
        "Lock",
        LOCKS,
        "Ticket->LockID or Ticket->Lock parameter is invalid!",
    )?;
    spec.type_id = named(
        "Type",
        TYPES,
        "Ticket->TypeID or Ticket->Type parameter is invalid!",
    )?;
    // A fresh install has no services or SLAs (and `Ticket::Service` is off).
    named(
        "Service",
        &[],
        "Ticket->ServiceID or Ticket->Service parameter is invalid!",
    )?;
    named(
        "SLA",
        &[],
        "Ticket->SLAID or Ticket->SLA parameter is invalid!",
    )?;
    if op == Op::Create && !sent(&t, "State") {
        return Err(op.missing("Ticket->StateID or Ticket->State parameter is required!"));
    }
    spec.state = named(
        "State",
        STATES,
        "Ticket->StateID or Ticket->State parameter is invalid!",
    )?;
    if op == Op::Create && !sent(&t, "Priority") {
        return Err(op.missing("Ticket->PriorityID or Ticket->Priority parameter is required!"));
    }
    let message = "Ticket->PriorityID or Ticket->Priority parameter is invalid!";
    spec.priority = named("Priority", PRIORITIES, message)?;
    let agents: &'static Table = &[(1, "root@localhost"), (2, "apiagent")];
    let message = "Ticket->OwnerID or Ticket->Owner parameter is invalid!";
    spec.owner = named("Owner", agents, message)?;
    let message = "Ticket->ResponsibleID or Ticket->Responsible parameter is invalid!";
    spec.responsible = named("Responsible", agents, message)?;
    spec.pending_sent = t.get("PendingTime").is_some_and(|v| !v.is_null());
    if truthy(t.get("PendingTime")) {
        let pending = pending_time(t.get("PendingTime"));
        let message = "Ticket->PendingTime parameter is invalid!";
        spec.pending = Some(pending.ok_or_else(|| op.invalid(message))?);
    }
    Ok(spec)
}

/// `ValidatePendingTime` + `TicketPendingTimeSet`: `{"Diff": minutes}` alone, or
/// `Year`/`Month`/`Day` with optional `Hour`/`Minute` (the mock reads them as UTC).
fn pending_time(value: Option<&Value>) -> Option<i64> {
    let t = hash_with_data(value)?;
    if let Some(diff) = t.get("Diff") {
        let diff = scalar(Some(diff))?.trim().to_owned();
        let valid = t.len() == 1 && !diff.is_empty() && diff.bytes().all(|b| b.is_ascii_digit());
        let minutes = diff.parse::<i64>().ok().filter(|_| valid)?;
        return Some(now_epoch() + minutes * 60);
    }
    let part = |key: &str, default: Option<i64>| match t.get(key) {
        None => default,
        Some(v) => scalar(Some(v))?
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0),
    };
    epoch_of(
        part("Year", None)?,
        part("Month", None)?,
        part("Day", None)?,
        part("Hour", Some(0))?,
        part("Minute", Some(0))?,
        0,
    )
}

/// `ValidateCustomer` then the lookup of `_TicketCreate`: a login, the e-mail address of a
/// known customer user, or (unless `strict_email`) any other non-empty string.
pub(super) fn resolve_customer(state: &State, raw: &str, strict: bool) -> Option<(String, String)> {
    if let Some(c) = state.customer(raw).or_else(|| state.customer_by_email(raw)) {
        return Some((c.login.clone(), c.customer_id.clone()));
    }
    (!strict || looks_like_email(raw)).then(|| (raw.to_owned(), String::new()))
}

/// A rough `Email::Valid` for `CheckEmailAddresses = 1`: `local@domain.tld`.
fn looks_like_email(raw: &str) -> bool {
    let address = raw
        .rsplit_once('<')
        .map_or(raw, |(_, rest)| rest.trim_end_matches('>'))
        .trim();
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let tld = domain.rsplit_once('.').map_or("", |(_, tld)| tld);
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && !address.contains("..")
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A new article, checked and with the operation's defaults filled in.
#[derive(Debug)]
pub(super) struct ArticleSpec {
    pub(super) channel_id: u64,
    pub(super) sender_type_id: u64,
    pub(super) visible: bool,
    pub(super) from: Option<String>,
    pub(super) subject: String,
    pub(super) body: String,
    pub(super) content_type: String,
    pub(super) mime_type: String,
    pub(super) charset: String,
}

/// Defaults (`Internal`, agent/customer by login type, `IsVisibleForCustomer` 1) and
/// `_CheckArticle`. Every value is trimmed first, the body included.
pub(super) fn check_article(a: &Value, op: Op, who: &Principal, strict: bool) -> Step<ArticleSpec> {
    let Some(a) = a.as_object() else {
        return Err(match op {
            Op::Create => op.missing("Article parameter is missing or not valid!"),
            Op::Update => op.invalid("Article parameter is not valid!"),
        });
    };
    let a = trimmed(a);
    for needed in ["Subject", "Body"] {
        if !truthy(a.get(needed)) {
            return Err(op.missing(&format!("Article->{needed} parameter is missing!")));
        }
    }
    let channel = match (
        given(a.get("CommunicationChannel")),
        given(a.get("CommunicationChannelID")),
    ) {
        (None, None) => Some(3),
        (name, id) => creatable_channel(name.as_deref(), id.as_deref()),
    };
    let channel_id = channel.ok_or_else(|| {
        op.invalid(
            "Article->CommunicationChannel or Article->CommunicationChannelID parameter is \
             invalid or not supported!",
        )
    })?;
    let default_sender = match who {
        Principal::Agent(_) => 1,
        Principal::Customer(_) => 3,
    };
    let sender_type_id = if sent(&a, "SenderType") {
        let valid = |i: u64| SENDER_TYPES.iter().any(|(x, _)| *x == i);
        lookup(&a, "SenderType", |n| id_of(SENDER_TYPES, n), valid)
    } else {
        Some(default_sender)
    };
    let sender_type_id = sender_type_id.ok_or_else(|| {
        op.invalid("Article->SenderTypeID or Ticket->SenderType parameter is invalid!")
    })?;
    let from = given(a.get("From"));
    if strict && from.as_deref().is_some_and(|f| !looks_like_email(f)) {
        return Err(op.invalid("Article->From parameter is invalid!"));
    }
    let (content_type, mime_type, charset) = content_type(&a, op)?;
    Ok(ArticleSpec {
        channel_id,
        sender_type_id,
        visible: a
            .get("IsVisibleForCustomer")
            .is_none_or(|v| v.is_null() || truthy(Some(v))),
        from,
        subject: scalar(a.get("Subject")).unwrap_or_default(),
        body: scalar(a.get("Body")).unwrap_or_default(),
        content_type,
        mime_type,
        charset,
    })
}

/// `ContentType` (lower-cased, charset and MIME type validated) or `MimeType` + `Charset`.
fn content_type(a: &Map<String, Value>, op: Op) -> Step<(String, String, String)> {
    let (ct, mime, cs) = (
        given(a.get("ContentType")),
        given(a.get("MimeType")),
        given(a.get("Charset")),
    );
    match (&ct, &mime, &cs) {
        (None, None, None) => {
            return Err(op.missing(
                "Article->ContentType or Ticket->MimeType and Article->Charset parameters are \
                 required!",
            ));
        }
        (_, Some(_), None) => return Err(op.missing("Article->Charset is required!")),
        (_, None, Some(_)) => return Err(op.missing("Article->MimeType is required!")),
        _ => {}
    }
    if let (Some(m), Some(c)) = (&mime, &cs) {
        if !valid_mime(&m.to_lowercase()) {
            return Err(op.invalid("Article->MimeType is invalid!"));
        }
        if !valid_charset(&c.to_lowercase()) {
            return Err(op.invalid("Article->Charset is invalid!"));
        }
    }
    let Some(ct) = ct else {
        let (m, c) = (
            mime.unwrap_or_default().to_lowercase(),
            cs.unwrap_or_default().to_lowercase(),
        );
        return Ok((format!("{m}; charset={c}"), m, c));
    };
    let ct = ct.replace(['\r', '\n'], " ").to_lowercase();
    let (charset, mime) = split_content_type(&ct);
    if !valid_charset(&charset) || !valid_mime(&mime) {
        return Err(op.invalid("Article->ContentType is invalid!"));
    }
    Ok((ct, mime, charset))
}

/// `(charset, MIME type)` of a lower-cased content type, as `_CheckArticle` cuts them out.
fn split_content_type(ct: &str) -> (String, String) {
    let charset = ct
        .find("charset")
        .filter(|i| *i > 0)
        .map_or_else(String::new, |i| {
            let rest = ct[i + "charset".len()..].trim_start();
            let rest = rest.strip_prefix('=').unwrap_or("").trim_start();
            let rest = rest.replace(['"', '\''], "");
            rest.split(';').next().unwrap_or("").to_owned()
        });
    let mime: String = ct
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '/'))
        .next()
        .unwrap_or("")
        .to_owned();
    (charset, mime)
}

/// `ValidateMimeType`: `\A\w+/\w+\z`.
fn valid_mime(mime: &str) -> bool {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    mime.split_once('/')
        .is_some_and(|(a, b)| word(a) && word(b))
}

/// `Encode::resolve_alias` for the usual charset names.
fn valid_charset(charset: &str) -> bool {
    let c = charset.replace('_', "-");
    let numbered = |prefix: &str, range: std::ops::RangeInclusive<u32>| {
        c.strip_prefix(prefix)
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| range.contains(&n))
    };
    matches!(
        c.as_str(),
        "utf8"
            | "utf-8"
            | "utf-8-strict"
            | "utf-16"
            | "utf-16le"
            | "utf-16be"
            | "ascii"
            | "us-ascii"
            | "latin1"
            | "koi8-r"
            | "shift-jis"
            | "euc-jp"
            | "gb2312"
            | "big5"
    ) || numbered("iso-8859-", 1..=16)
        || numbered("iso8859-", 1..=16)
        || numbered("cp", 1250..=1258)
        || numbered("windows-", 1250..=1258)
}

/// `_CheckDynamicField` for every entry: `(name, value)` pairs to set.
pub(super) fn check_fields(items: &[Value], op: Op) -> Step<Vec<(String, String)>> {
    let gap = if op == Op::Create { "  " } else { " " };
    let mut out = Vec::new();
    for item in items {
        let Some(item) = hash_with_data(Some(item)) else {
            return Err(Outcome::Fault(format!(
                "{}: Ticket->DynamicField parameter is invalid!",
                op.name()
            )));
        };
        let item = trimmed(item);
        for needed in ["Name", "Value"] {
            let ok = item
                .get(needed)
                .is_some_and(|v| scalar(Some(v)).is_some() || v.is_array());
            if !ok {
                return Err(
                    op.missing(&format!("DynamicField->{needed}{gap}parameter is missing!"))
                );
            }
        }
        let name = scalar(item.get("Name")).unwrap_or_default();
        let Some((_, kind)) = FIELDS.iter().find(|(n, _)| *n == name) else {
            return Err(op.invalid("DynamicField->Name parameter is invalid!"));
        };
        let value = scalar(item.get("Value"));
        let valid = match (&value, kind) {
            (None, _) => false,
            (Some(_), FieldKind::Text) => true,
            (Some(v), FieldKind::DateTime) => v.is_empty() || is_datetime(v),
        };
        if !valid {
            return Err(op.invalid("DynamicField->Value parameter is invalid!"));
        }
        out.push((name, value.unwrap_or_default()));
    }
    Ok(out)
}

fn is_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// `_CheckAttachment` for every entry.
pub(super) fn check_attachments(items: &[Value], op: Op) -> Step<Vec<Attachment>> {
    let mut out = Vec::new();
    for item in items {
        let Some(item) = hash_with_data(Some(item)) else {
            return Err(Outcome::Fault(format!(
                "{}: Ticket->Attachment parameter is invalid!",
                op.name()
            )));
        };
        let item = trimmed(item);
        for needed in ["Content", "ContentType", "Filename"] {
            if string_with_data(item.get(needed)).is_none() {
                return Err(op.missing(&format!("Attachment->{needed}  parameter is missing!")));
            }
        }
        let content_type = scalar(item.get("ContentType"))
            .unwrap_or_default()
            .to_lowercase();
        let (charset, mime) = split_content_type(&content_type);
        if (!charset.is_empty() && !valid_charset(&charset)) || !valid_mime(&mime) {
            return Err(op.invalid("Attachment->ContentType is invalid!"));
        }
        let content = scalar(item.get("Content")).unwrap_or_default();
        let clean: String = content
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/'))
            .collect();
        let size = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(clean)
            .map_or(0, |b| b.len());
        out.push(Attachment {
            content,
            content_type,
            filename: scalar(item.get("Filename")).unwrap_or_default(),
            size,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_cut_like_perl() {
        assert_eq!(
            split_content_type("text/plain; charset=utf8"),
            ("utf8".to_owned(), "text/plain".to_owned())
        );
        assert_eq!(
            split_content_type("text/html; charset=\"utf-8\"; format=flowed"),
            ("utf-8".to_owned(), "text/html".to_owned())
        );
        assert!(!valid_charset(""));
        assert!(valid_charset("iso-8859-15") && valid_charset("utf-8"));
        assert!(valid_mime("text/plain") && !valid_mime("text"));
    }

    #[test]
    fn pending_times() {
        let at = json!({"Year": 2030, "Month": 1, "Day": 2, "Hour": 3, "Minute": 4});
        assert_eq!(pending_time(Some(&at)), epoch_of(2030, 1, 2, 3, 4, 0));
        let diff = pending_time(Some(&json!({"Diff": 60}))).unwrap();
        assert!((diff - now_epoch() - 3600).abs() <= 1);
        assert_eq!(pending_time(Some(&json!({"Diff": 60, "Year": 2030}))), None);
        assert_eq!(
            pending_time(Some(&json!({"Year": 2030, "Month": 2, "Day": 30}))),
            None
        );
    }
}
