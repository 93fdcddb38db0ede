//! Differential checking: the same scripted requests against the mock and a real GLPI,
//! compared by status, JSON value-type skeleton and header shape.
//!
//! ```no_run
//! use accesslink_testkit::glpi::GlpiMock;
//! use accesslink_testkit::glpi::diff::{Target, compare, run, standard_script};
//!
//! # async fn demo() {
//! let mock = GlpiMock::start().await;
//! let script = standard_script("run1");
//! let ours = run(&Target::of_mock(&mock), &script).await.unwrap();
//! let real = Target::from_env().expect("GLPI_BASE_URL and friends");
//! let theirs = run(&real, &script).await.unwrap();
//! assert!(compare(&ours, &theirs).is_empty());
//! # }
//! ```
//!
//! The client is a minimal HTTP/1.1 one over a TCP socket (`http://` only, one request per
//! connection), so the helper needs no HTTP dependency.
//!
//! # DIFFERENCES
//!
//! Deliberate differences between the mock and GLPI 10.0.11, none visible in
//! [`standard_script`]'s skeletons:
//! - JSON object keys come out sorted (serde_json without `preserve_order`); GLPI prints
//!   columns in table order and `links` in column order. Values and types are the same.
//! - Rights are not modelled: every session acts as Super-Admin, whatever its profile
//!   (a `post-only` session can list users). Entity scoping is modelled for Ticket,
//!   Change, Group and Entity only.
//! - `GET /Profile/:id` prints the 17 profile columns, not the ~94 rights GLPI adds.
//! - Only the modelled itemtypes exist: `/Computer`, `/Problem`, `/getMultipleItems`,
//!   `/getGlpiConfig`, `/lostPassword`, massive actions, uploads and `uid_cols`/
//!   `giveItems`/`rawdata` in searches are `ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM` or
//!   ignored. Itemtype names are case-sensitive (on the real server `/ticket` is refused
//!   while `/user` happens to work).
//! - Search options are a subset (see `listSearchOptions`); unknown ids are `Bad field ID`.
//!   Ticket requester/technician/category/location columns are always `null` (actors,
//!   categories and locations are not modelled).
//! - `getFullSession` and `getActiveProfile` return a subset of GLPI's keys.
//! - GLPI accepts any status number on a ticket (even 9); so does the mock. Validation
//!   refusals without a comment are accepted, as on the real server over the API.
//! - Dates are UTC wall-clock; the real server uses its PHP time zone (UTC here too).
//! - HTTP 207 carries wiremock's reason phrase (`Multi-Status`), PHP's built-in server
//!   says `Unknown Status Code`; `Cache-Control`/`Expires`/`Pragma` are not sent.
//! - Input keys starting with `_` are ignored except `_useremails`, `_default_email`,
//!   `_profiles_id`, `_entities_id` and `_is_recursive` on `User`: ticket actors
//!   (`_users_id_requester`, `_groups_id_assign`, …), `_add`/`_update` flags and uploads
//!   do nothing. `users_id_recipient` is always the session's user.
//! - Generated users have no password (see [`super::GlpiMock::set_password`]). A search
//!   walks every id: cheap for `ID contains >N` and `^login$` lookups (generated rows are
//!   not built), O(n) rows built for other criteria on generated users.
//! - Validation answers set `validation_date` only when the session's user is the
//!   approver (observed: `glpi` answering for `tech` leaves it `null`).
//!
//! `shared/glpi/REST.md` shows `"password":null,"api_token":null` in `GET /User/:id`; the
//! real server omits both keys, and so does the mock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::GlpiMock;

mod script;

pub use self::script::standard_script;

/// A server to run a script against.
#[derive(Clone)]
pub struct Target {
    /// `…/apirest.php`.
    pub base_url: String,
    /// The API client's App-Token.
    pub app_token: String,
    /// `glpi`'s API token.
    pub user_token: String,
    /// `glpi`.
    pub login: String,
    /// `glpi`'s password.
    pub password: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("base_url", &self.base_url)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// The mock's settings.
    pub fn of_mock(mock: &GlpiMock) -> Target {
        Target {
            base_url: mock.base_url(),
            app_token: mock.app_token(),
            user_token: mock.user_token(),
            login: mock.login().into(),
            password: mock.password().into(),
        }
    }

    /// `GLPI_BASE_URL`, `GLPI_APP_TOKEN`, `GLPI_USER_TOKEN`, `GLPI_LOGIN`, `GLPI_PASSWORD`
    /// from the environment (as `shared/glpi/start.sh` prints them), if all are set.
    pub fn from_env() -> Option<Target> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Some(Target {
            base_url: var("GLPI_BASE_URL")?,
            app_token: var("GLPI_APP_TOKEN")?,
            user_token: var("GLPI_USER_TOKEN")?,
            login: var("GLPI_LOGIN")?,
            password: var("GLPI_PASSWORD")?,
        })
    }
}

/// One scripted request. `{name}` placeholders in the path, headers and body are replaced
/// by the target's values (`{app}`, `{user_token}`, `{basic}`) and values saved by earlier
/// steps.
#[derive(Debug, Clone)]
pub struct Step {
    /// A label for reports.
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Path and query under the base URL, e.g. `/Ticket/{ticket}`.
    pub path: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Raw body (`Content-Type: application/json` is sent with it).
    pub body: Option<String>,
    /// Saves the strings or numbers at these JSON pointers of the answer under names.
    pub save: Vec<(String, String)>,
    /// Whether all-digit object keys are ids (update/delete results, `withindexes`) and
    /// compared as `<id>`.
    pub id_keys: bool,
}

impl Step {
    /// A request with the App-Token and the saved `{session}`.
    pub fn new(name: &str, method: &str, path: &str) -> Step {
        Step {
            name: name.into(),
            method: method.into(),
            path: path.into(),
            headers: vec![
                ("App-Token".into(), "{app}".into()),
                ("Session-Token".into(), "{session}".into()),
            ],
            body: None,
            save: Vec::new(),
            id_keys: false,
        }
    }

    /// Replaces the headers.
    pub fn headers(mut self, headers: &[(&str, &str)]) -> Step {
        self.headers = headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Step {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A JSON body.
    pub fn json(mut self, body: &Value) -> Step {
        self.body = Some(body.to_string());
        self
    }

    /// A raw body.
    pub fn raw(mut self, body: &str) -> Step {
        self.body = Some(body.into());
        self
    }

    /// Saves the value at `pointer` (e.g. `/id`) as `{name}`.
    pub fn save(mut self, name: &str, pointer: &str) -> Step {
        self.save.push((name.into(), pointer.into()));
        self
    }

    /// Compares all-digit keys as ids.
    pub fn id_keys(mut self) -> Step {
        self.id_keys = true;
        self
    }
}

/// What one step got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The step's name.
    pub step: String,
    /// HTTP status.
    pub status: u16,
    /// The body's value-type skeleton ([`skeleton`]); `"<non-json>"` when it is not JSON.
    pub skeleton: Value,
    /// Shapes of the headers a client reads (`content-range`, `accept-range`, `location`,
    /// `link`), digits as `N`, the base URL as `BASE`.
    pub headers: BTreeMap<String, String>,
}

/// Why a script could not run.
#[derive(Debug)]
pub struct DiffError(String);

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DiffError {}

/// The value-type skeleton of a JSON document: scalars become `"null"`, `"bool"`, `"int"`,
/// `"float"`, `"string"`; objects keep their keys (all-digit keys become `<id>` when
/// `id_keys`); arrays list their distinct element skeletons; an error array
/// `["ERROR_…", m]` keeps its code. ([`run`] also keeps the text of a string error
/// message, with the base URL as `BASE` and numbers as `N`.)
pub fn skeleton(value: &Value, id_keys: bool) -> Value {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(n) if n.is_f64() => "float".into(),
        Value::Number(_) => "int".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => {
            if let [Value::String(code), message] = items.as_slice() {
                if code.starts_with("ERROR") {
                    return json!([code, skeleton(message, id_keys)]);
                }
            }
            let mut distinct: Vec<Value> = Vec::new();
            for item in items {
                let s = skeleton(item, id_keys);
                if !distinct.contains(&s) {
                    distinct.push(s);
                }
            }
            Value::Array(distinct)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let digits = !k.is_empty() && k.chars().all(|c| c.is_ascii_digit());
                let key = if id_keys && digits {
                    "<id>".to_owned()
                } else {
                    k.clone()
                };
                out.insert(key, skeleton(v, id_keys));
            }
            Value::Object(out)
        }
    }
}

/// Runs `script` in order against `target`.
pub async fn run(target: &Target, script: &[Step]) -> Result<Vec<Observation>, DiffError> {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("app".into(), target.app_token.clone());
    vars.insert("user_token".into(), target.user_token.clone());
    let basic = STANDARD.encode(format!("{}:{}", target.login, target.password));
    vars.insert("basic".into(), basic);
    let mut out = Vec::new();
    for step in script {
        let fill = |s: &str| fill(s, &vars);
        let url = format!("{}{}", target.base_url, fill(&step.path));
        let headers: Vec<(String, String)> = step
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), fill(v)))
            .collect();
        let body = step.body.as_deref().map(fill);
        let reply = send(&step.method, &url, &headers, body.as_deref()).await?;
        let parsed = serde_json::from_slice::<Value>(&reply.body).ok();
        for (name, pointer) in &step.save {
            let found = parsed.as_ref().and_then(|doc| doc.pointer(pointer));
            if let Some(v) = found.and_then(super::php::scalar) {
                vars.insert(name.clone(), v);
            }
        }
        let shape = |v: &str| {
            let v = v.replace(&target.base_url, "BASE");
            let digits = v.chars().map(|c| if c.is_ascii_digit() { 'N' } else { c });
            squash_digits(&digits.collect::<String>())
        };
        let mut skeleton = parsed
            .as_ref()
            .map_or_else(|| "<non-json>".into(), |v| skeleton(v, step.id_keys));
        // Error messages are compared as text (base URL and numbers aside).
        if let (Some(Value::Array(doc)), Value::Array(sk)) = (&parsed, &mut skeleton) {
            if let ([Value::String(code), Value::String(message)], true) =
                (doc.as_slice(), sk.len() == 2)
            {
                if code.starts_with("ERROR") {
                    sk[1] = format!("text: {}", shape(message)).into();
                }
            }
        }
        let headers = reply
            .headers
            .iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "content-range" | "accept-range" | "location" | "link"
                )
            })
            .map(|(k, v)| (k.clone(), shape(v)))
            .collect();
        out.push(Observation {
            step: step.name.clone(),
            status: reply.status,
            skeleton,
            headers,
        });
    }
    Ok(out)
}

fn fill(template: &str, vars: &HashMap<String, String>) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Every difference between two runs of the same script, one line each (empty when they
/// agree). `N` runs of digits in header shapes are compared as one `N`, since totals and
/// ids differ between servers.
pub fn compare(ours: &[Observation], theirs: &[Observation]) -> Vec<String> {
    let mut out = Vec::new();
    for (a, b) in ours.iter().zip(theirs) {
        if a.status != b.status {
            out.push(format!("{}: status {} vs {}", a.step, a.status, b.status));
        }
        if a.skeleton != b.skeleton {
            out.push(format!("{}: body {} vs {}", a.step, a.skeleton, b.skeleton));
        }
        let squash = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.iter()
                .map(|(k, v)| (k.clone(), squash_digits(v)))
                .collect()
        };
        let (ha, hb) = (squash(&a.headers), squash(&b.headers));
        let keys: BTreeSet<&String> = ha.keys().chain(hb.keys()).collect();
        for k in keys {
            if ha.get(k) != hb.get(k) {
                out.push(format!(
                    "{}: header {k} {:?} vs {:?}",
                    a.step,
                    ha.get(k),
                    hb.get(k)
                ));
            }
        }
    }
    if ours.len() != theirs.len() {
        out.push(format!("{} steps vs {}", ours.len(), theirs.len()));
    }
    out
}

fn squash_digits(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c != 'N' || !out.ends_with('N') {
            out.push(c);
        }
    }
    out
}

/// A raw answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Result<Reply, DiffError> {
    let err = |m: String| DiffError(m);
    let parsed = url::Url::parse(url).map_err(|e| err(format!("{url}: {e}")))?;
    if parsed.scheme() != "http" {
        return Err(err(format!("{url}: only http:// is supported")));
    }
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut target = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        target.push('?');
        target.push_str(q);
    }
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| err(format!("{url}: {e}")))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|e| err(e.to_string()))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| err(format!("{url}: no HTTP head")))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&data[..eol]);
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
    out
}
