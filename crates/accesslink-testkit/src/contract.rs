//! The contract harness: every request a connector sends and every answer its mock gives,
//! checked against JSON Schemas written from the vendor's own API description.
//!
//! Each schema file lists its operations under `x-operations`:
//!
//! | key | meaning |
//! |---|---|
//! | `method` | `GET`, `POST`, … |
//! | `path` | the path template as the spec writes it (`api/v2/users/{userId}`), matched segment by segment |
//! | `params` | optional: a schema per path parameter |
//! | `status` | optional: the success status the operation answers with |
//! | `query` | optional: pointer to the schema of the query (an object of strings) |
//! | `request` | optional: pointer to the schema of the JSON request body |
//! | `requestForm` | optional: pointer to the schema of a form-encoded request body |
//! | `response` | pointer to the schema of a 2xx answer |
//! | `error` | optional: pointer to the schema of any other answer (default `#/$defs/error`) |
//!
//! A test records the mock's exchanges ([`Exchange`]), drives the connector through its
//! operations, and then [`Contract::check`]s them: each exchange must match an operation
//! by method and path (the matching template with the most literal segments wins, so
//! `users/search` goes before `users/{userId}`), and its path parameters, query, body and
//! answer must validate. A 2xx answer is checked against the operation's response (and
//! its status, when the operation declares one or [`ContractOptions::default_status`] is
//! set), any other against its error shape. [`Contract::unseen`] names the operations no
//! exchange exercised.
//!
//! What differs between targets (the files, what their headers must name, which
//! operations may go without a body) is given in [`ContractOptions`].
//!
//! ```
//! use accesslink_testkit::contract::{Contract, ContractOptions, Exchange, SchemaFile};
//!
//! const FILES: [SchemaFile; 1] = [SchemaFile::new(
//!     "users",
//!     r#"{"$comment": "users.yaml at abc123", "x-operations": []}"#,
//! )];
//!
//! let contract = Contract::load(
//!     &FILES,
//!     ContractOptions::new()
//!         .header_contains(["abc123", ".yaml"])
//!         .default_status(200),
//! );
//! # let exchanges: Vec<Exchange> = Vec::new();
//! let (seen, problems) = contract.check(&exchanges);
//! assert!(problems.is_empty(), "{problems:#?}");
//! assert!(contract.unseen(&seen).is_empty());
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

pub use crate::exchange::Exchange;

/// One schema file: a name for messages and its JSON text (usually `include_str!`).
#[derive(Debug, Clone, Copy)]
pub struct SchemaFile {
    name: &'static str,
    text: &'static str,
}

impl SchemaFile {
    /// A schema file named `name` (for messages) with JSON text `text`.
    pub const fn new(name: &'static str, text: &'static str) -> Self {
        Self { name, text }
    }

    /// The name given for messages.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Decides whether an operation may be sent without a body although it declares one.
type BodyOptional = Box<dyn Fn(&Operation) -> bool + Send + Sync>;

/// What differs between targets: how the files' headers are checked, the success status
/// of operations that declare none, and which operations may go without a body.
pub struct ContractOptions {
    header: Vec<String>,
    default_status: Option<u16>,
    body_optional: Option<BodyOptional>,
    default_error: String,
}

impl ContractOptions {
    /// No header check, no status check unless an operation declares one, every declared
    /// body required, errors against `#/$defs/error`.
    pub fn new() -> Self {
        Self {
            header: Vec::new(),
            default_status: None,
            body_optional: None,
            default_error: "#/$defs/error".to_owned(),
        }
    }

    /// Each file's `$comment` must contain every one of `parts` (the spec file and
    /// commit it was written from); loading panics otherwise.
    pub fn header_contains<I, S>(mut self, parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.header = parts.into_iter().map(Into::into).collect();
        self
    }

    /// The success status of operations that declare no `status`. Without it only the
    /// operations that declare one have their status checked.
    pub fn default_status(mut self, status: u16) -> Self {
        self.default_status = Some(status);
        self
    }

    /// Operations for which `allow` is true may be sent with an empty body although they
    /// declare a JSON `request` (a vendor quirk, such as an action that takes none).
    pub fn body_optional(
        mut self,
        allow: impl Fn(&Operation) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.body_optional = Some(Box::new(allow));
        self
    }

    /// The error pointer of operations that declare no `error` (default `#/$defs/error`).
    pub fn default_error(mut self, pointer: impl Into<String>) -> Self {
        self.default_error = pointer.into();
        self
    }
}

impl Default for ContractOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ContractOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContractOptions")
            .field("header", &self.header)
            .field("default_status", &self.default_status)
            .field("body_optional", &self.body_optional.is_some())
            .field("default_error", &self.default_error)
            .finish()
    }
}

/// One operation of a schema file.
#[derive(Debug)]
pub struct Operation {
    file: usize,
    method: String,
    /// The path template, split on `/`.
    template: Vec<String>,
    params: Map<String, Value>,
    status: Option<u16>,
    query: Option<String>,
    request: Option<String>,
    request_form: Option<String>,
    response: String,
    error: String,
}

impl Operation {
    /// `METHOD path/template`, as [`Contract::check`] reports it seen.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template.join("/"))
    }

    /// The HTTP method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path template as the spec writes it.
    pub fn path(&self) -> String {
        self.template.join("/")
    }

    /// Whether the template has a path parameter `name` (`{name}`), whether or not
    /// `params` gives it a schema.
    pub fn has_param(&self, name: &str) -> bool {
        self.template
            .iter()
            .any(|t| t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) == Some(name))
    }

    /// The schemas of the path parameters, by name.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }

    /// The index of the operation's file in the list given to [`Contract::load`].
    pub fn file(&self) -> usize {
        self.file
    }

    /// The path parameters when `path` fits the template.
    fn matches(&self, method: &str, path: &[&str]) -> Option<Vec<(String, String)>> {
        if method != self.method || path.len() != self.template.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, p) in self.template.iter().zip(path) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) => params.push((name.to_owned(), (*p).to_owned())),
                None if t == p => {}
                None => return None,
            }
        }
        Some(params)
    }

    fn literals(&self) -> usize {
        self.template.iter().filter(|t| !t.starts_with('{')).count()
    }
}

/// The schema files with compiled validators, cached by (file, pointer).
pub struct Contract {
    names: Vec<&'static str>,
    docs: Vec<Value>,
    ops: Vec<Operation>,
    options: ContractOptions,
    cache: Mutex<HashMap<(usize, String), Arc<Validator>>>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("files", &self.names)
            .field("operations", &self.ops.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Contract {
    /// Parses `files` and their `x-operations`, checks each header, and compiles every
    /// pointer once so a typo fails here rather than validating nothing.
    ///
    /// # Panics
    ///
    /// On a file that is not JSON, a header without the required parts, an operation
    /// without `method`, `path` or `response`, or a pointer that does not resolve to a
    /// schema. This is test code: a broken contract is a failed test.
    pub fn load(files: &[SchemaFile], options: ContractOptions) -> Contract {
        let mut names = Vec::new();
        let mut docs = Vec::new();
        let mut ops = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let name = file.name;
            let doc: Value =
                serde_json::from_str(file.text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let comment = doc["$comment"].as_str().unwrap_or("");
            assert!(
                options
                    .header
                    .iter()
                    .all(|part| comment.contains(part.as_str())),
                "{name}: the header must name the spec file and commit"
            );
            let ptr = |v: &Value| v.as_str().map(str::to_owned);
            for op in doc["x-operations"].as_array().expect("x-operations") {
                ops.push(Operation {
                    file: i,
                    method: op["method"].as_str().expect("method").to_owned(),
                    template: op["path"]
                        .as_str()
                        .expect("path")
                        .split('/')
                        .map(str::to_owned)
                        .collect(),
                    params: op["params"].as_object().cloned().unwrap_or_default(),
                    status: op["status"]
                        .as_u64()
                        .map(|s| u16::try_from(s).expect("status"))
                        .or(options.default_status),
                    query: ptr(&op["query"]),
                    request: ptr(&op["request"]),
                    request_form: ptr(&op["requestForm"]),
                    response: ptr(&op["response"]).expect("response"),
                    error: ptr(&op["error"]).unwrap_or_else(|| options.default_error.clone()),
                });
            }
            names.push(name);
            docs.push(doc);
        }
        let contract = Contract {
            names,
            docs,
            ops,
            options,
            cache: Mutex::new(HashMap::new()),
        };
        // Every pointer must resolve: a typo would otherwise validate nothing.
        for op in &contract.ops {
            for p in [&op.query, &op.request, &op.request_form]
                .into_iter()
                .flatten()
                .chain([&op.response, &op.error])
            {
                contract.validator(op.file, p);
            }
        }
        contract
    }

    /// Every operation of every file, in file order.
    pub fn operations(&self) -> &[Operation] {
        &self.ops
    }

    /// The names of the operations not in `seen` (as [`Contract::check`] returns it).
    pub fn unseen(&self, seen: &BTreeSet<String>) -> Vec<String> {
        self.ops
            .iter()
            .map(Operation::name)
            .filter(|n| !seen.contains(n))
            .collect()
    }

    /// A validator for `pointer` (`#/$defs/x`) inside file `file`: the whole file with a
    /// root `$ref`, so the definitions' own `$ref`s resolve. Formats are asserted.
    fn validator(&self, file: usize, pointer: &str) -> Arc<Validator> {
        let key = (file, pointer.to_owned());
        if let Some(v) = self.cache.lock().unwrap().get(&key) {
            return v.clone();
        }
        let name = self.names[file];
        let mut root = self.docs[file].clone();
        let target = root
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{name}: no {pointer}"));
        assert!(target.is_object(), "{pointer} is not a schema");
        root["$ref"] = json!(pointer);
        let v = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{name} {pointer}: {e}"));
        let v = Arc::new(v);
        self.cache.lock().unwrap().insert(key, v.clone());
        v
    }

    /// The problems of `instance` against `pointer` (`#/$defs/x`) in file `file` (its
    /// index in the list given to [`Contract::load`]), one line each; empty when it
    /// validates.
    ///
    /// # Panics
    ///
    /// When `pointer` does not resolve to a schema in that file.
    pub fn problems(&self, file: usize, pointer: &str, instance: &Value) -> Vec<String> {
        self.validator(file, pointer)
            .iter_errors(instance)
            .map(|e| format!("{pointer} at '{}': {e}", e.instance_path()))
            .collect()
    }

    /// The operation a request is for, with its path parameters: the matching template
    /// with the most literal segments (`users/search` before `users/{userId}`).
    pub fn operation(
        &self,
        method: &str,
        path: &str,
    ) -> Option<(&Operation, Vec<(String, String)>)> {
        let parts: Vec<&str> = path.split('/').collect();
        self.ops
            .iter()
            .filter_map(|op| op.matches(method, &parts).map(|p| (op, p)))
            .max_by_key(|(op, _)| op.literals())
    }

    /// Checks every exchange; returns the names of the operations seen and the problems
    /// found, one line each, prefixed with the exchange's method and path.
    pub fn check(&self, exchanges: &[Exchange]) -> (BTreeSet<String>, Vec<String>) {
        let mut seen = BTreeSet::new();
        let mut problems = Vec::new();
        for x in exchanges {
            let at = format!("{} {}", x.method, x.path);
            let Some((op, params)) = self.operation(&x.method, &x.path) else {
                problems.push(format!("{at}: no operation in the contract"));
                continue;
            };
            seen.insert(op.name());
            let mut found = Vec::new();
            for (name, value) in &params {
                if let Some(schema) = op.params.get(name) {
                    if !jsonschema::is_valid(schema, &json!(value)) {
                        found.push(format!("path parameter {name}={value:?} against {schema}"));
                    }
                }
            }
            let query: Vec<(String, String)> = x
                .query
                .as_deref()
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default();
            match &op.query {
                Some(p) => {
                    let mut obj = Map::new();
                    for (k, v) in &query {
                        if obj.insert(k.clone(), json!(v)).is_some() {
                            found.push(format!("query parameter {k} sent twice"));
                        }
                    }
                    found.extend(self.problems(op.file, p, &Value::Object(obj)));
                }
                None if !query.is_empty() => {
                    found.push(format!("query {query:?} on an operation that takes none"));
                }
                None => {}
            }
            if let Some(p) = &op.request_form {
                let form: Map<String, Value> = url::form_urlencoded::parse(&x.request_body)
                    .into_owned()
                    .map(|(k, v)| (k, json!(v)))
                    .collect();
                found.extend(self.problems(op.file, p, &Value::Object(form)));
            } else if let Some(p) = &op.request {
                match x.request_json() {
                    Some(body) => found.extend(self.problems(op.file, p, &body)),
                    None if x.request_body.is_empty() => {
                        let optional = self.options.body_optional.as_ref();
                        if !optional.is_some_and(|allow| allow(op)) {
                            found.push("no request body".into());
                        }
                    }
                    None => found.push("the request body is not JSON".into()),
                }
            } else if !x.request_body.is_empty() {
                found.push("a body on an operation that takes none".into());
            }
            match (x.status, &x.response_body) {
                (Some(s), Some(body)) if (200..300).contains(&s) => {
                    found.extend(self.problems(op.file, &op.response, body));
                    if let Some(status) = op.status.filter(|&status| status != s) {
                        found.push(format!("answered {s}, the spec says {status}"));
                    }
                }
                (Some(_), Some(body)) => found.extend(self.problems(op.file, &op.error, body)),
                (Some(s), None) => found.push(format!("answer {s} without a JSON body")),
                (None, _) => {} // a queued fault answered; nothing of the mock's to check
            }
            problems.extend(found.into_iter().map(|f| format!("{at}: {f}")));
        }
        (seen, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r##"{
        "$comment": "users.yaml at abc123",
        "$defs": {
            "error": {"type": "object", "required": ["message"]},
            "user": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "list": {"type": "object", "required": ["data"]},
            "query": {"type": "object", "properties": {"limit": {"type": "string", "pattern": "^[0-9]+$"}},
                      "additionalProperties": false},
            "create": {"type": "object", "required": ["name"]}
        },
        "x-operations": [
            {"method": "GET", "path": "/v2/users", "query": "#/$defs/query", "response": "#/$defs/list"},
            {"method": "GET", "path": "/v2/users/{id}", "params": {"id": {"pattern": "^u-"}},
             "response": "#/$defs/user"},
            {"method": "GET", "path": "/v2/users/search", "response": "#/$defs/list"},
            {"method": "POST", "path": "/v2/users", "status": 201, "request": "#/$defs/create",
             "response": "#/$defs/user"},
            {"method": "POST", "path": "/v2/users/{id}/{action}", "params": {"action": {}},
             "request": "#/$defs/create", "response": "#/$defs/user"}
        ]
    }"##;

    const FILES: [SchemaFile; 1] = [SchemaFile::new("users", FILE)];

    fn x(
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &str,
        status: u16,
        answer: Value,
    ) -> Exchange {
        Exchange {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            request_body: body.as_bytes().to_vec(),
            status: Some(status),
            response_body: Some(answer),
        }
    }

    #[test]
    fn the_most_literal_template_wins() {
        let c = Contract::load(&FILES, ContractOptions::new());
        let (op, params) = c.operation("GET", "/v2/users/search").unwrap();
        assert_eq!(op.path(), "/v2/users/search");
        assert!(params.is_empty());
        let (op, params) = c.operation("GET", "/v2/users/u-1").unwrap();
        assert_eq!(op.name(), "GET /v2/users/{id}");
        assert_eq!(params, [("id".to_owned(), "u-1".to_owned())]);
        assert!(c.operation("DELETE", "/v2/users/u-1").is_none());
    }

    #[test]
    fn check_flags_each_kind_of_problem_and_lists_what_went_unseen() {
        let c = Contract::load(&FILES, ContractOptions::new().header_contains(["abc123"]));
        let ok = [
            x(
                "GET",
                "/v2/users",
                Some("limit=5"),
                "",
                200,
                json!({"data": []}),
            ),
            x("GET", "/v2/users/u-1", None, "", 200, json!({"id": "u-1"})),
            x(
                "GET",
                "/v2/users/u-nobody",
                None,
                "",
                404,
                json!({"message": "no"}),
            ),
        ];
        let (seen, problems) = c.check(&ok);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            c.unseen(&seen),
            [
                "GET /v2/users/search",
                "POST /v2/users",
                "POST /v2/users/{id}/{action}"
            ]
        );
        let bad = [
            x(
                "GET",
                "/v2/users",
                Some("limit=x&limit=1"),
                "",
                200,
                json!({"data": []}),
            ),
            x("GET", "/v2/users/u-1", None, "", 200, json!({"id": 1})),
            x("GET", "/v2/teams", None, "", 200, json!({})),
            x(
                "POST",
                "/v2/users",
                None,
                r#"{"name": "a"}"#,
                200,
                json!({"id": "u-2"}),
            ),
            x("POST", "/v2/users", None, "", 201, json!({"id": "u-2"})),
            x("POST", "/v2/users", None, "{", 404, json!({})),
            x(
                "GET",
                "/v2/users/search",
                None,
                "{}",
                200,
                json!({"data": []}),
            ),
        ];
        let (_, problems) = c.check(&bad);
        let expected = [
            "query parameter limit sent twice",
            "no operation in the contract",
            "answered 200, the spec says 201",
            "no request body",
            "the request body is not JSON",
            "a body on an operation that takes none",
        ];
        for e in expected {
            assert!(problems.iter().any(|p| p.contains(e)), "{e}: {problems:#?}");
        }
        assert!(
            problems.iter().any(|p| p.contains("#/$defs/user at '/id'")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("#/$defs/error")),
            "{problems:#?}"
        );
        let (_, p) = c.check(&[x(
            "GET",
            "/v2/users/x-1",
            None,
            "",
            200,
            json!({"id": "x-1"}),
        )]);
        assert!(
            p.len() == 1 && p[0].contains("path parameter id=\"x-1\""),
            "{p:?}"
        );
    }

    #[test]
    fn options_decide_status_and_bodyless_operations() {
        let action = x(
            "POST",
            "/v2/users/u-1/activate",
            None,
            "",
            200,
            json!({"id": "u-1"}),
        );
        let created = x("GET", "/v2/users/u-1", None, "", 201, json!({"id": "u-1"}));
        let strict = Contract::load(&FILES, ContractOptions::new().default_status(200));
        let (_, p) = strict.check(&[action.clone(), created.clone()]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].ends_with("no request body") && p[1].contains("answered 201"),
            "{p:?}"
        );
        let lenient = Contract::load(
            &FILES,
            ContractOptions::new()
                .body_optional(|op| op.method() == "POST" && op.params().contains_key("action")),
        );
        assert_eq!(lenient.check(&[action, created]).1, Vec::<String>::new());
    }

    #[test]
    #[should_panic(expected = "the header must name the spec file and commit")]
    fn a_header_without_the_commit_is_refused() {
        Contract::load(&FILES, ContractOptions::new().header_contains(["def456"]));
    }

    #[test]
    #[should_panic(expected = "no #/$defs/missing")]
    fn a_pointer_that_resolves_to_nothing_is_refused_on_load() {
        let text = r##"{"x-operations": [{"method": "GET", "path": "/a", "response": "#/$defs/missing"}]}"##;
        Contract::load(&[SchemaFile::new("broken", text)], ContractOptions::new());
    }
}
