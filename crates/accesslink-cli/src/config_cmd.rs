//! `config check` and `config schema`.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::ConfigCommand;
use crate::output::{CliError, Out};
use crate::session;

pub(crate) fn run(cmd: ConfigCommand, global: &Path, out: Out) -> Result<ExitCode, CliError> {
    match cmd {
        ConfigCommand::Check { file } => check(file.as_deref().unwrap_or(global), out),
        ConfigCommand::Schema { target } => schema(target.as_deref(), out),
    }
}

/// Parses the file and builds every instance (which resolves its secrets and checks its
/// settings) without sending a request; lists the instances and where their secrets come
/// from, never the secrets.
fn check(path: &Path, out: Out) -> Result<ExitCode, CliError> {
    let config = session::load(path)?;
    let mut instances = Vec::new();
    for (name, instance) in &config.instances {
        accesslink::connect(instance).map_err(|e| CliError::lib(&e))?;
        // The serialised settings show secrets as references (`{env = …}`, `{file = …}`)
        // or `[REDACTED]`; walk them to say where each secret comes from.
        let settings = serde_json::to_value(instance).unwrap_or(Value::Null);
        let base_url = settings["base_url"]
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| accesslink::redact::url_shown(&u));
        let mut secrets = Vec::new();
        secret_sources(&settings, String::new(), &mut secrets);
        instances.push(json!({
            "instance": name,
            "target": instance.target(),
            "base_url": base_url,
            "secrets": secrets.iter().map(|(k, v)| json!({ "key": k, "source": v })).collect::<Vec<_>>(),
        }));
    }
    if out.json() {
        println!(
            "{}",
            json!({ "ok": true, "file": path.display().to_string(), "instances": instances })
        );
    } else {
        println!(
            "{}: ok, {} instance(s), every secret resolved",
            path.display(),
            instances.len()
        );
        for i in &instances {
            let secrets: Vec<String> = i["secrets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    format!(
                        "{} from {}",
                        s["key"].as_str().unwrap_or("?"),
                        s["source"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            println!(
                "  {} ({}) {}{}",
                i["instance"].as_str().unwrap_or("?"),
                i["target"].as_str().unwrap_or("?"),
                i["base_url"].as_str().unwrap_or(""),
                if secrets.is_empty() {
                    String::new()
                } else {
                    format!("\n      secrets: {}", secrets.join(", "))
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every secret in serialised settings, as (dotted key, where it comes from).
fn secret_sources(v: &Value, at: String, found: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(var)) = map.get("env") {
                    found.push((at, format!("environment variable {var}")));
                    return;
                }
                if let Some(Value::String(file)) = map.get("file") {
                    found.push((at, format!("file {file}")));
                    return;
                }
            }
            for (k, v) in map {
                let key = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                secret_sources(v, key, found);
            }
        }
        Value::String(s) if s == accesslink::redact::REDACTED => {
            found.push((at, "the file (inline)".into()))
        }
        _ => {}
    }
}

/// The JSON Schema of a whole file, or of one target's instance table.
fn schema(target: Option<&str>, out: Out) -> Result<ExitCode, CliError> {
    let wanted = match target {
        None => "accesslink.schema.json".to_owned(),
        Some(t) => format!("{}.schema.json", t.trim().to_ascii_lowercase()),
    };
    let schemas = accesslink::config_schemas();
    let Some((_, schema)) = schemas.iter().find(|(name, _)| *name == wanted) else {
        let known: Vec<&str> = schemas
            .iter()
            .filter_map(|(n, _)| n.strip_suffix(".schema.json"))
            .filter(|n| *n != "accesslink")
            .collect();
        return Err(CliError::usage(format!(
            "no target `{}` (targets: {})",
            target.unwrap_or_default(),
            known.join(", ")
        )));
    };
    let _ = out;
    let text = serde_json::to_string_pretty(schema).unwrap_or_default();
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
