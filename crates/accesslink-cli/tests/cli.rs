//! The real `accesslink` binary against `accesslink mock serve` running in another
//! process: every command, both output formats, exit codes, one-line errors, no secret in
//! any output, `--resume` after a kill, and `--dry-run` sending nothing.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_accesslink");

/// Auth keys that are not secrets; every other string under `auth` moves to the
/// environment, so tests can look for the values in every output.
const NOT_SECRET: &[&str] = &[
    "method",
    "user",
    "login",
    "username",
    "client_id",
    "email",
    "auth_string",
];

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "accesslink-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `accesslink mock serve …` in a child process, with the configuration it printed
/// written beside it (secrets as `{ env = … }` references).
struct Served {
    child: Option<Child>,
    printed: Value,
    config: PathBuf,
    env: Vec<(String, String)>,
    _dir: Scratch,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .args(["mock", "serve", "--output", "json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let printed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let mut doc: toml::Table =
            toml::from_str(printed["config_toml"].as_str().unwrap()).unwrap();
        assert_eq!(
            doc["instances"].as_table().unwrap().len(),
            printed["mocks"].as_array().unwrap().len(),
            "one instance per mock: {line}"
        );
        let mut env = Vec::new();
        for (name, instance) in doc["instances"].as_table_mut().unwrap() {
            let Some(auth) = instance.get_mut("auth").and_then(|a| a.as_table_mut()) else {
                continue;
            };
            for (key, value) in auth.iter_mut() {
                if NOT_SECRET.contains(&key.as_str()) || !value.is_str() {
                    continue;
                }
                let var = format!("ACCESSLINK_TEST_{name}_{key}")
                    .to_uppercase()
                    .replace('-', "_");
                env.push((var.clone(), value.as_str().unwrap().to_owned()));
                let mut reference = toml::Table::new();
                reference.insert("env".into(), toml::Value::String(var));
                *value = toml::Value::Table(reference);
            }
        }
        let dir = Scratch::new();
        let config = dir.path("accesslink.toml");
        std::fs::write(&config, toml::to_string(&doc).unwrap()).unwrap();
        Served {
            child: Some(child),
            printed,
            config,
            env,
            _dir: dir,
        }
    }

    /// Runs the binary with this configuration and the secrets in the environment, and
    /// checks that no secret appears in what it printed.
    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let run = Run::of(out);
        for (var, secret) in &self.env {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "{args:?} printed the secret in {var}:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// Sends SIGTERM and returns what the server printed on stderr (its request counts).
    fn stop(mut self) -> String {
        let child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "mock serve exit: {:?}", out.status);
        String::from_utf8(out.stderr).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What one run of the binary printed, and its exit code.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: not one JSON document: {self:?}"))
    }

    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }
}

fn plain(args: &[&str]) -> Run {
    Run::of(Command::new(BIN).args(args).output().unwrap())
}

/// The number of requests the stopped mock of `target` says it served, and how many
/// were not GET.
fn served(stderr: &str, target: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("{target}: ")))
        .unwrap_or_else(|| panic!("no count for {target} in {stderr}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn config_check_resolves_secrets_without_printing_them_and_a_bad_file_is_one_line() {
    let mock = Served::start(&["servicenow"]);
    let config = mock.config.to_str().unwrap();
    let text = mock.run(&["config", "check", config]).ok();
    assert!(
        text.stdout.contains("servicenow-mock (servicenow)"),
        "{text:?}"
    );
    assert!(
        text.stdout
            .contains("environment variable ACCESSLINK_TEST_SERVICENOW_MOCK_PASSWORD")
    );
    let json = mock
        .run(&["config", "check", config, "--output", "json"])
        .ok()
        .json();
    assert_eq!(json["instances"][0]["instance"], "servicenow-mock");
    assert_eq!(json["instances"][0]["secrets"][0]["key"], "auth.password");

    // The variable unset: refused before any request, naming the variable, one line.
    let unset = plain(&["config", "check", config]);
    assert_eq!(unset.code, 2, "{unset:?}");
    assert_eq!(unset.stderr.trim().lines().count(), 1, "{unset:?}");
    assert!(
        unset
            .stderr
            .contains("ACCESSLINK_TEST_SERVICENOW_MOCK_PASSWORD"),
        "{unset:?}"
    );
    assert_eq!(
        served(&mock.stop(), "servicenow").0,
        0,
        "config check sent a request"
    );

    let dir = Scratch::new();
    let bad = dir.path("bad.toml");
    std::fs::write(
        &bad,
        "[instances.x]\ntarget = \"servicenow\"\nbase_url = \"https://x.example\"\npasword = \"canary-pw-5521\"\n",
    )
    .unwrap();
    for args in [
        vec!["config", "check", bad.to_str().unwrap()],
        vec!["--config", bad.to_str().unwrap(), "test-connection"],
    ] {
        let run = plain(&args);
        assert_eq!(run.code, 2, "{run:?}");
        let lines: Vec<&str> = run.stderr.trim().lines().collect();
        assert_eq!(lines.len(), 1, "{run:?}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains("pasword"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("canary-pw-5521") && run.stdout.is_empty());
    }
    let json = plain(&["config", "check", bad.to_str().unwrap(), "--output", "json"]);
    assert_eq!(json.code, 2);
    assert_eq!(json.json()["error"]["kind"], "config");

    let schema = plain(&["config", "schema", "servicenow"]).ok().json();
    assert_eq!(schema["properties"]["target"]["const"], "servicenow");
    assert_eq!(plain(&["config", "schema", "remedy"]).code, 2);
}

#[test]
fn test_connection_reaches_every_target_and_fails_for_an_unreachable_one() {
    let mock = Served::start(&["--all"]);
    let all = mock
        .run(&["test-connection", "--output", "json", "-vvv"])
        .ok()
        .json();
    let results = all["results"].as_array().unwrap();
    let targets: BTreeSet<&str> = results
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    let listed = plain(&["mock", "list", "--output", "json"]).ok().json();
    let expected: BTreeSet<&str> = listed["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(targets, expected);
    for t in [
        "otrs",
        "glpi",
        "servicenow",
        "opsramp",
        "opsgenie",
        "topdesk",
        "jira",
        "salesforce",
        "helix",
        "sdp",
    ] {
        assert!(expected.contains(t), "`mock list` has no {t}: {listed}");
    }
    for r in results {
        assert_eq!(r["ok"], true, "{r}");
        assert!(!r["capabilities"].as_array().unwrap().is_empty(), "{r}");
    }
    let text = mock.run(&["test-connection", "servicenow-mock"]).ok();
    assert!(
        text.stdout
            .starts_with("ok      servicenow-mock (servicenow)"),
        "{text:?}"
    );
    let stderr = mock.stop();
    for t in &expected {
        assert!(served(&stderr, t).0 > 0, "{t} was never asked: {stderr}");
    }

    // The servers are gone: every instance fails, exit code 1.
    let mock_gone = Served::start(&["opsgenie"]);
    let dir = Scratch::new();
    let config = dir.path("gone.toml");
    std::fs::copy(&mock_gone.config, &config).unwrap();
    let env = mock_gone.env.clone();
    drop(mock_gone);
    let run = Run::of(
        Command::new(BIN)
            .args([
                "--config",
                config.to_str().unwrap(),
                "test-connection",
                "--output",
                "json",
            ])
            .envs(env)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["results"][0]["ok"], false);
}

#[test]
fn tickets_and_the_gate_with_its_exit_codes() {
    let mock = Served::start(&["servicenow"]);
    let created = mock
        .run(&[
            "ticket",
            "create",
            "servicenow-mock",
            "--title",
            "Patch db-prod-01",
            "--kind",
            "change",
            "--correlation",
            "CHG-CLI-1",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let number = created["reference"]["number"].as_str().unwrap().to_owned();
    assert_eq!(created["title"], "Patch db-prod-01");
    let again = mock
        .run(&[
            "ticket",
            "create",
            "servicenow-mock",
            "--title",
            "Patch db-prod-01",
            "--kind",
            "change",
            "--correlation",
            "CHG-CLI-1",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        again["reference"]["number"],
        number.as_str(),
        "create is idempotent"
    );

    let get = mock
        .run(&["ticket", "get", "servicenow-mock", &number])
        .ok();
    assert!(
        get.stdout
            .starts_with(&format!("{number}  Patch db-prod-01")),
        "{get:?}"
    );
    mock.run(&[
        "ticket",
        "comment",
        "servicenow-mock",
        &number,
        "Window starts.",
    ])
    .ok();
    let missing = mock.run(&["ticket", "get", "servicenow-mock", "CHG9999999"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    let injected = mock.run(&["ticket", "get", "servicenow-mock", "1 OR 1=1"]);
    assert_eq!(injected.code, 2, "{injected:?}");

    let dir = Scratch::new();
    let policy = dir.path("policy.toml");
    std::fs::write(&policy, "[default]\nallowed_kinds = [\"change\"]\n").unwrap();
    let policy = policy.to_str().unwrap();
    let validate = |id: &str, extra: &[&str]| {
        let mut args = vec![
            "ticket",
            "validate",
            "servicenow-mock",
            id,
            "--policy",
            policy,
            "--principal",
            "alice",
        ];
        args.extend_from_slice(extra);
        mock.run(&args)
    };
    let allow = validate(&number, &["--output", "json"]);
    assert_eq!(allow.code, 0, "{allow:?}");
    assert_eq!(allow.json()["reasons"][0]["code"], "ticket_valid");
    let forged = validate("1 OR 1=1", &[]);
    assert_eq!(forged.code, 1, "{forged:?}");
    assert!(forged.stdout.starts_with("DENY") && forged.stdout.contains("malformed_id"));

    let closed = mock
        .run(&[
            "ticket",
            "close",
            "servicenow-mock",
            &number,
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(closed["status"]["state"], "closed");
    let after = validate(&number, &["--output", "json"]);
    assert_eq!(after.code, 1, "{after:?}");
    assert_eq!(after.json()["reasons"][0]["code"], "state_not_allowed");
    let glass = dir.path("glass.toml");
    std::fs::write(
        &glass,
        "[default]\nallowed_kinds = [\"change\"]\n[default.break_glass]\nenabled = true\nprincipals = [\"alice\"]\nscope = \"any_denial\"\n",
    )
    .unwrap();
    let broken = mock.run(&[
        "ticket",
        "validate",
        "servicenow-mock",
        &number,
        "--policy",
        glass.to_str().unwrap(),
        "--principal",
        "alice",
        "--break-glass",
        "P1: the CRM database is down",
        "--output",
        "json",
    ]);
    assert_eq!(broken.code, 0, "{broken:?}");
    let codes: Vec<Value> = broken.json()["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].clone())
        .collect();
    assert!(codes.contains(&Value::from("break_glass")), "{codes:?}");

    std::fs::write(
        dir.path("bad-policy.toml"),
        "[default]\nallowed_kindz = []\n",
    )
    .unwrap();
    let bad = mock.run(&[
        "ticket",
        "validate",
        "servicenow-mock",
        &number,
        "--policy",
        dir.path("bad-policy.toml").to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert_eq!(bad.stderr.trim().lines().count(), 1, "{bad:?}");

    // The ticketing system cannot be asked: neither allow nor deny.
    let config = dir.path("gone.toml");
    std::fs::copy(&mock.config, &config).unwrap();
    let env = mock.env.clone();
    let stderr = mock.stop();
    let (requests, writes) = served(&stderr, "servicenow");
    assert!(
        requests > 0 && writes >= 3,
        "create, comment, close: {stderr}"
    );
    let unreachable = Run::of(
        Command::new(BIN)
            .args([
                "--config",
                config.to_str().unwrap(),
                "ticket",
                "validate",
                "servicenow-mock",
            ])
            .args([&number, "--policy", policy, "--principal", "alice"])
            .envs(env)
            .output()
            .unwrap(),
    );
    assert_eq!(unreachable.code, 2, "{unreachable:?}");
}

/// The ids in an import file of any format.
fn ids(path: &Path, format: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    match format {
        "jsonl" => text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect(),
        "json" => serde_json::from_str::<Vec<Value>>(&text)
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect(),
        _ => {
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let at = header.iter().position(|h| *h == "id").unwrap();
            // The id column comes before the quoted attribute bag.
            lines
                .map(|l| l.split(',').nth(at).unwrap().to_owned())
                .collect()
        }
    }
}

#[test]
fn imports_in_every_format_with_the_completeness_guard() {
    let mock = Served::start(&["servicenow", "--users", "250"]);
    let dir = Scratch::new();
    for format in ["jsonl", "csv", "json"] {
        let out = dir.path(&format!("accounts.{format}"));
        let summary = mock
            .run(&[
                "import",
                "accounts",
                "servicenow-mock",
                "--format",
                format,
                "--page-size",
                "40",
                "--out",
                out.to_str().unwrap(),
                "--output",
                "json",
            ])
            .ok()
            .json();
        let got = ids(&out, format);
        let unique: BTreeSet<&String> = got.iter().collect();
        assert_eq!((got.len(), unique.len()), (250, 250), "{format}");
        assert_eq!(summary["rows"], 250);
        assert!(summary["pages"].as_u64().unwrap() >= 7, "{summary}");
        let checkpoint = dir.path(&format!("accounts.{format}.checkpoint"));
        assert!(
            !checkpoint.exists(),
            "the checkpoint outlived a complete import"
        );
    }
    let out = dir.path("guard.jsonl");
    let out = out.to_str().unwrap();
    let short = mock.run(&[
        "import",
        "accounts",
        "servicenow-mock",
        "--out",
        out,
        "--min-rows",
        "1000",
    ]);
    assert_eq!(short.code, 1, "{short:?}");
    assert!(
        short.stderr.contains("incomplete") && short.stderr.contains("1000"),
        "{short:?}"
    );
    let dropped = mock.run(&[
        "import",
        "accounts",
        "servicenow-mock",
        "--out",
        out,
        "--previous-count",
        "300",
        "--max-drop",
        "10",
    ]);
    assert_eq!(
        dropped.code, 1,
        "250 is more than 10% below 300: {dropped:?}"
    );
    let text = mock
        .run(&[
            "import",
            "accounts",
            "servicenow-mock",
            "--out",
            out,
            "--previous-count",
            "270",
            "--max-drop",
            "10",
        ])
        .ok();
    assert!(text.stdout.starts_with("imported 250 accounts"), "{text:?}");
    let grants = dir.path("grants.csv");
    mock.run(&[
        "import",
        "grants",
        "servicenow-mock",
        "--format",
        "csv",
        "--out",
        grants.to_str().unwrap(),
    ])
    .ok();
}

#[test]
fn resume_after_a_kill_loses_and_repeats_no_row() {
    let mock = Served::start(&["servicenow", "--users", "5000"]);
    let dir = Scratch::new();
    // The same set as a run that was never interrupted.
    let clean = dir.path("clean.jsonl");
    mock.run(&[
        "import",
        "accounts",
        "servicenow-mock",
        "--out",
        clean.to_str().unwrap(),
    ])
    .ok();
    let expected: BTreeSet<String> = ids(&clean, "jsonl").into_iter().collect();
    assert_eq!(expected.len(), 5000);

    for format in ["jsonl", "json"] {
        let out = dir.path(&format!("accounts.{format}"));
        let checkpoint = dir.path(&format!("accounts.{format}.checkpoint"));
        let out_arg = out.to_str().unwrap();
        let args = [
            "import",
            "accounts",
            "servicenow-mock",
            "--page-size",
            "20",
            "--format",
            format,
            "--out",
            out_arg,
        ];
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&mock.config)
            .args(args)
            .envs(mock.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let saved_rows = || {
            std::fs::read(&checkpoint)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|c| c["rows"].as_u64())
                .unwrap_or(0)
        };
        while saved_rows() < 300 {
            assert!(started.elapsed() < Duration::from_secs(60), "no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            checkpoint.exists(),
            "{format}: the import finished before the kill"
        );
        let before = saved_rows();
        assert!((300..5000).contains(&before), "{format}: {before}");
        // A kill can also land mid-row, after the last checkpoint: a torn row the
        // resume must cut off.
        let mut file = std::fs::OpenOptions::new().append(true).open(&out).unwrap();
        std::io::Write::write_all(&mut file, b",\n{\"id\":\"torn-row").unwrap();
        drop(file);

        let resumed = mock
            .run(&[&args[..], &["--resume", "--output", "json"]].concat())
            .ok()
            .json();
        assert_eq!(resumed["resumed_after"], before, "{format}: {resumed}");
        assert_eq!(resumed["rows"], 5000, "{format}: {resumed}");
        let got = ids(&out, format);
        assert_eq!(got.len(), 5000, "{format}: rows repeated or lost");
        assert_eq!(
            got.into_iter().collect::<BTreeSet<_>>(),
            expected,
            "{format}"
        );
        assert!(!checkpoint.exists(), "{format}");
    }
}

#[test]
fn provisioning_and_a_dry_run_that_sends_nothing() {
    let mock = Served::start(&["servicenow", "--users", "3"]);
    // The dry run goes through the connector's own code: its look-ups are real, and the
    // first write is printed as the connector would have sent it, not sent.
    let dry = mock
        .run(&[
            "provision",
            "create",
            "servicenow-mock",
            "zoe",
            "--email",
            "zoe@example.test",
            "--attr",
            "user_password=canary-attr-881",
            "--dry-run",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(dry["operation"], "create_account");
    assert_eq!(dry["arguments"]["spec"]["login"], "zoe");
    let would = &dry["would_send"];
    assert!(
        would["request"]
            .as_str()
            .unwrap()
            .ends_with("POST /api/now/table/sys_user"),
        "{dry}"
    );
    assert!(
        would["body"]
            .as_str()
            .unwrap()
            .contains("\"user_name\":\"zoe\""),
        "{dry}"
    );
    assert!(!dry.to_string().contains("canary-attr-881"), "{dry}");
    // An existing account, read for real.
    let dir = Scratch::new();
    let out = dir.path("accounts.jsonl");
    mock.run(&[
        "import",
        "accounts",
        "servicenow-mock",
        "--format",
        "jsonl",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let id = ids(&out, "jsonl").remove(0);
    for (args, write) in [
        (
            vec![
                "provision",
                "--dry-run",
                "update",
                "servicenow-mock",
                &id,
                "--email",
                "new@example.test",
            ],
            "PATCH /api/now/table/sys_user/",
        ),
        (
            vec!["provision", "--dry-run", "delete", "servicenow-mock", &id],
            "DELETE /api/now/table/sys_user/",
        ),
        (
            vec!["provision", "--dry-run", "disable", "servicenow-mock", &id],
            "PATCH /api/now/table/sys_user/",
        ),
    ] {
        let run = mock.run(&args).ok();
        assert!(run.stdout.contains("not sent"), "{run:?}");
        assert!(run.stdout.contains(write), "{write}: {run:?}");
    }
    // A role that does not exist is found out by the real look-up, before any write
    // (the mock serves no roles).
    let missing = mock.run(&[
        "provision",
        "--dry-run",
        "grant",
        "servicenow-mock",
        &id,
        "role",
        "ffffffffffffffffffffffffffffffff",
    ]);
    assert_ne!(missing.code, 0, "{missing:?}");
    let config = mock.config.clone();
    let env = mock.env.clone();
    let (requests, writes) = served(&mock.stop(), "servicenow");
    assert!(requests > 0, "the dry runs read for real");
    assert_eq!(writes, 0, "a dry run sent a write");
    drop((config, env));

    let mock = Served::start(&["servicenow"]);
    let created = mock
        .run(&[
            "provision",
            "create",
            "servicenow-mock",
            "zoe",
            "--email",
            "zoe@example.test",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(created["outcome"], "created");
    let id = created["account"]["id"].as_str().unwrap().to_owned();
    let again = mock
        .run(&[
            "provision",
            "create",
            "servicenow-mock",
            "zoe",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(again["outcome"], "already_exists");
    assert_eq!(again["account"]["id"], id.as_str());
    let disabled = mock
        .run(&["provision", "disable", "servicenow-mock", &id])
        .ok();
    assert!(disabled.stdout.contains("disabled"), "{disabled:?}");
    mock.run(&[
        "provision",
        "update",
        "servicenow-mock",
        &id,
        "--email",
        "zoe.new@example.test",
    ])
    .ok();
    // What the server now holds, read back through an import.
    let dir = Scratch::new();
    let out = dir.path("after.jsonl");
    mock.run(&[
        "import",
        "accounts",
        "servicenow-mock",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let text = std::fs::read_to_string(&out).unwrap();
    let zoe: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|a| a["id"] == id.as_str())
        .expect("zoe was imported");
    assert_eq!(zoe["email"], "zoe.new@example.test");
    assert_eq!(zoe["enabled"], false);
    mock.run(&["provision", "enable", "servicenow-mock", &id])
        .ok();
    mock.run(&["provision", "delete", "servicenow-mock", &id])
        .ok();
    let bad = mock.run(&["provision", "delete", "servicenow-mock", "../../sys_user"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    let (_, writes) = served(&mock.stop(), "servicenow");
    assert!(
        writes >= 5,
        "create, disable, update, enable, delete: {writes}"
    );
}

#[test]
fn mock_serve_seeds_tickets_and_injects_faults() {
    // A port that was free a moment ago; the mock is reached through it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mock = Served::start(&[
        "servicenow",
        "--tickets",
        "2",
        "--faults",
        "html",
        "--port",
        &port,
    ]);
    assert_eq!(
        mock.printed["mocks"][0]["url"],
        format!("http://127.0.0.1:{port}").as_str()
    );
    let seeded = mock.printed["mocks"][0]["tickets"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(seeded.len(), 2, "{}", mock.printed);
    let first = seeded[0].as_str().unwrap();
    // The login page answers the first request only.
    let faulted = mock.run(&["test-connection"]);
    assert_eq!(faulted.code, 1, "{faulted:?}");
    assert!(faulted.stdout.contains("HTML"), "{faulted:?}");
    mock.run(&["test-connection"]).ok();
    let ticket = mock
        .run(&[
            "ticket",
            "get",
            "servicenow-mock",
            first,
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(ticket["title"], "Seeded ticket 1");
    let (requests, _) = served(&mock.stop(), "servicenow");
    assert!(
        requests >= 3,
        "the commands went through port {port}: {requests}"
    );
    let bad = plain(&["mock", "serve", "servicenow", "--faults", "teapot"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn completions_help_and_usage_errors() {
    let bash = plain(&["completions", "bash"]).ok();
    assert!(bash.stdout.contains("_accesslink") && bash.stdout.contains("test-connection"));
    let help = plain(&["--help"]).ok();
    assert!(help.stdout.contains("Examples:") && help.stdout.contains("mock serve"));
    let unknown = plain(&["mock", "serve", "remedy"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(
        unknown.stderr.contains("servicenow"),
        "names the known targets: {unknown:?}"
    );
    let no_config = plain(&[
        "--config",
        "/nonexistent/accesslink.toml",
        "test-connection",
    ]);
    assert_eq!(no_config.code, 2);
    assert_eq!(no_config.stderr.trim().lines().count(), 1, "{no_config:?}");
}

#[test]
fn ticket_listing_with_a_cursor_comments_schemas_and_passwords() {
    let mock = Served::start(&["servicenow"]);
    let dir = Scratch::new();
    let cursor = dir.path("feed.json");
    let cursor_arg = cursor.to_str().unwrap();
    let created = mock
        .run(&[
            "ticket",
            "create",
            "servicenow-mock",
            "--title",
            "Grant CRM to alice",
            "--kind",
            "incident",
            "--correlation",
            "REQ-CLI-FEED",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let number = created["reference"]["number"].as_str().unwrap().to_owned();

    // The first poll lists it; the file is written; the next poll lists nothing new.
    let list = |args: &[&str]| {
        let mut all = vec!["ticket", "list", "servicenow-mock", "--kind", "incident"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--output", "json"]);
        mock.run(&all).ok().json()
    };
    let first = list(&["--cursor", cursor_arg]);
    let numbers = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["reference"]["number"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(numbers(&first).contains(&number), "{first}");
    let token = std::fs::read_to_string(&cursor).unwrap();
    assert!(token.contains("watermark_ms"), "{token}");
    let second = list(&["--cursor", cursor_arg]);
    assert!(!numbers(&second).contains(&number), "{second}");
    // Without a cursor, --since in the future lists nothing; a bad state is a usage error.
    assert!(numbers(&list(&["--since", "2999-01-01T00:00:00Z"])).is_empty());
    let bad = mock.run(&["ticket", "list", "servicenow-mock", "--state", "sideways"]);
    assert_eq!(bad.code, 2, "{bad:?}");

    // Comments read back with their visibility.
    mock.run(&[
        "ticket",
        "comment",
        "servicenow-mock",
        &number,
        "Access granted.",
    ])
    .ok();
    mock.run(&[
        "ticket",
        "comment",
        "servicenow-mock",
        &number,
        "Checked by IAM.",
        "--internal",
    ])
    .ok();
    let comments = mock
        .run(&[
            "ticket",
            "comments",
            "servicenow-mock",
            &number,
            "--output",
            "json",
        ])
        .ok()
        .json();
    let seen: Vec<(String, String)> = comments
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["body"].as_str().unwrap().to_owned(),
                c["visibility"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        seen.contains(&("Access granted.".into(), "public".into())),
        "{comments}"
    );
    assert!(
        seen.contains(&("Checked by IAM.".into(), "internal".into())),
        "{comments}"
    );

    // Schemas name the fields a field map uses.
    let schema = mock
        .run(&[
            "ticket",
            "schema",
            "servicenow-mock",
            "--kind",
            "incident",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let fields: Vec<&str> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(fields.contains(&"short_description"), "{schema}");
    let schema = mock
        .run(&["provision", "schema", "servicenow-mock", "--output", "json"])
        .ok()
        .json();
    assert!(
        schema["fields"].to_string().contains("user_name"),
        "{schema}"
    );

    // A password comes from the environment and is printed nowhere, dry run or not.
    let account = mock
        .run(&[
            "provision",
            "create",
            "servicenow-mock",
            "carol.cli",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let id = account["account"]["id"].as_str().unwrap().to_owned();
    let password = "Cli-Pw-canary-7f3a";
    for dry in [true, false] {
        let mut args = vec!["provision", "set-password", "servicenow-mock", &id];
        args.extend_from_slice(&[
            "--password-env",
            "ACCESSLINK_TEST_NEW_PW",
            "--output",
            "json",
        ]);
        if dry {
            args.push("--dry-run");
        }
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&mock.config)
            .args(&args)
            .envs(mock.env.iter().map(|(k, v)| (k, v)))
            .env("ACCESSLINK_TEST_NEW_PW", password)
            .output()
            .unwrap();
        let run = Run::of(out);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            !run.stdout.contains(password) && !run.stderr.contains(password),
            "{run:?}"
        );
    }
    let missing = mock.run(&[
        "provision",
        "set-password",
        "servicenow-mock",
        &id,
        "--password-env",
        "ACCESSLINK_TEST_UNSET_PW",
    ]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("ACCESSLINK_TEST_UNSET_PW"),
        "{missing:?}"
    );
}
