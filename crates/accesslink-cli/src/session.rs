//! Loading the configuration, connecting instances, and `test-connection`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use accesslink::{Config, Connection, Provisioner, TicketingSystem};
use serde_json::{Value, json};

use crate::output::{CliError, Out, kind_name};

/// Loads the configuration file; a missing or bad file is one line, exit code 2.
pub(crate) fn load(path: &Path) -> Result<Config, CliError> {
    Config::from_toml_file(path).map_err(|e| CliError::lib(&e))
}

/// Connects the instance `name` of the file (secrets resolved; no request yet).
pub(crate) fn connect(path: &Path, name: &str) -> Result<Connection, CliError> {
    let config = load(path)?;
    if config.get(name).is_none() {
        let known: Vec<&str> = config.instances.keys().map(String::as_str).collect();
        return Err(CliError::usage(format!(
            "no instance named `{name}` in {} (instances: {})",
            path.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    config.connect(name).map_err(|e| CliError::lib(&e))
}

/// Connects the instance `name` with core's dry run on: reads go out, the first write
/// does not (it comes back as `Error::DryRun`).
pub(crate) fn connect_dry_run(path: &Path, name: &str) -> Result<Connection, CliError> {
    let config = load(path)?;
    let Some(instance) = config.get(name) else {
        // The same message as a normal connect.
        return connect(path, name);
    };
    let mut instance = instance.clone();
    instance.http_mut().dry_run = true;
    accesslink::connect(&instance).map_err(|e| CliError::lib(&e))
}

/// The ticketing side of an instance, or an error naming what the target lacks.
pub(crate) fn ticketing(conn: &Connection) -> Result<Arc<dyn TicketingSystem>, CliError> {
    conn.ticketing().ok_or_else(|| {
        CliError::usage(format!(
            "instance `{}` ({}) has no tickets",
            conn.info().instance,
            conn.info().target
        ))
    })
}

/// The provisioning side of an instance, or an error naming what the target lacks.
pub(crate) fn provisioner(conn: &Connection) -> Result<Arc<dyn Provisioner>, CliError> {
    conn.provisioner().ok_or_else(|| {
        CliError::usage(format!(
            "instance `{}` ({}) has no accounts to provision or import",
            conn.info().instance,
            conn.info().target
        ))
    })
}

/// The capabilities of a connection, as their serialised names.
pub(crate) fn capabilities(conn: &Connection) -> Vec<String> {
    conn.info()
        .capabilities
        .iter()
        .map(|c| match serde_json::to_value(c) {
            Ok(Value::String(s)) => s,
            _ => format!("{c:?}"),
        })
        .collect()
}

/// `test-connection`: each named instance (every one when none is named), concurrently.
pub(crate) async fn test_connection(
    path: &Path,
    names: &[String],
    out: Out,
) -> Result<ExitCode, CliError> {
    let config = load(path)?;
    let names: Vec<String> = if names.is_empty() {
        config.instances.keys().cloned().collect()
    } else {
        names.to_vec()
    };
    if names.is_empty() {
        return Err(CliError::usage(format!(
            "{} has no instances",
            path.display()
        )));
    }
    let checks = names.iter().map(|name| {
        let config = &config;
        async move {
            let Some(instance) = config.get(name) else {
                return json!({ "instance": name, "ok": false, "error": {
                    "kind": "config", "message": format!("no instance named `{name}`") } });
            };
            let target = instance.target();
            let conn = match accesslink::connect(instance) {
                Ok(conn) => conn,
                Err(e) => {
                    return json!({ "instance": name, "target": target, "ok": false,
                        "error": { "kind": kind_name(e.kind()), "message": e.to_string() } });
                }
            };
            let caps = capabilities(&conn);
            match conn.connector().test_connection().await {
                Ok(report) => json!({
                    "instance": name,
                    "target": target,
                    "ok": true,
                    "principal": report.principal,
                    "server_version": report.server_version,
                    "latency_ms": report.latency.as_millis() as u64,
                    "capabilities": caps,
                }),
                Err(e) => json!({ "instance": name, "target": target, "ok": false,
                    "capabilities": caps,
                    "error": { "kind": kind_name(e.kind()), "message": e.to_string() } }),
            }
        }
    });
    let results = futures::future::join_all(checks).await;
    let failed = results.iter().filter(|r| r["ok"] != true).count();
    if out.json() {
        println!(
            "{}",
            json!({ "results": results, "ok": failed == 0, "failed": failed })
        );
    } else {
        for r in &results {
            println!("{}", connection_line(r));
        }
        println!(
            "{} of {} instance(s) ok",
            results.len() - failed,
            results.len()
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One instance's result for people.
fn connection_line(r: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    let head = format!("{} ({})", s(&r["instance"]), s(&r["target"]));
    if r["ok"] == true {
        let who = r["principal"].as_str().unwrap_or("(not reported)");
        let version = r["server_version"]
            .as_str()
            .map(|v| format!(", server {v}"))
            .unwrap_or_default();
        let caps: Vec<&str> = r["capabilities"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        format!(
            "ok      {head}: as {who}{version}, {} ms\n        capabilities: {}",
            r["latency_ms"],
            caps.join(", ")
        )
    } else {
        format!("FAILED  {head}: {}", s(&r["error"]["message"]))
    }
}
