//! `provision create|update|enable|disable|set-password|delete|grant|revoke|schema`, with
//! `--dry-run`.
//!
//! `--dry-run` runs the operation through the same connector code with core's dry run
//! on (`http.dry_run`): reads and sign-ins are sent (the connector looks the account up,
//! checks whether the grant is already there…), and the first request that would change
//! the target is not sent but printed — method, path and body, secrets masked. When the
//! operation needs no write ("already granted"), that is what is printed.

use std::path::Path;
use std::process::ExitCode;

use accesslink::{
    AccountChange, AccountId, AccountSpec, CreateOutcome, EntitlementRef, EntitlementType,
    GrantOutcome, Password, RevokeOutcome,
};
use serde_json::{Value, json};

use crate::cli::{ProvisionArgs, ProvisionOp};
use crate::output::{CliError, Out};
use crate::session;

/// One planned operation: the instance, the trait method and its arguments.
struct Plan {
    instance: String,
    operation: &'static str,
    args: Value,
}

pub(crate) async fn run(
    args: ProvisionArgs,
    config: &Path,
    out: Out,
) -> Result<ExitCode, CliError> {
    if let ProvisionOp::Schema { instance } = &args.op {
        let conn = session::connect(config, instance)?;
        let schema = session::provisioner(&conn)?.account_schema().await?;
        crate::ticket::print_schema(&schema, out);
        return Ok(ExitCode::SUCCESS);
    }
    let (plan, action) = plan(args.op)?;
    let conn = if args.dry_run {
        session::connect_dry_run(config, &plan.instance)?
    } else {
        session::connect(config, &plan.instance)?
    };
    let p = session::provisioner(&conn)?;
    let mut shown = plan.args.clone();
    accesslink::redact::redact_json(&mut shown);
    let outcome = perform(p.as_ref(), action).await;
    if args.dry_run {
        let dry = json!({
            "dry_run": true,
            "instance": plan.instance,
            "target": conn.info().target,
            "operation": plan.operation,
            "arguments": shown,
        });
        return match outcome {
            Err(accesslink::Error::DryRun(planned)) => {
                let mut value = dry;
                value["would_send"] = json!({
                    "request": planned.request,
                    "url": planned.url,
                    "body": planned.body,
                });
                out.emit(format!("{planned}"), &value);
                Ok(ExitCode::SUCCESS)
            }
            Ok((text, result)) => {
                let mut value = dry;
                value["would_send"] = Value::Null;
                value["outcome"] = result.get("outcome").cloned().unwrap_or(Value::Null);
                out.emit(
                    format!(
                        "dry run: {} needs no write ({text}); nothing sent",
                        plan.operation
                    ),
                    &value,
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(e.into()),
        };
    }
    let (text, result) = outcome?;
    let account = result
        .get("account")
        .map(|a| {
            format!(
                ": {} ({})",
                a["login"].as_str().unwrap_or("?"),
                a["id"].as_str().unwrap_or("?")
            )
        })
        .unwrap_or_default();
    let mut value = result;
    if let Value::Object(map) = &mut value {
        map.insert("instance".into(), plan.instance.clone().into());
        map.insert("operation".into(), plan.operation.into());
    }
    out.emit(format!("{}: {text}{account}", plan.operation), &value);
    Ok(ExitCode::SUCCESS)
}

/// Calls the provisioner: the outcome's words and its JSON.
async fn perform(
    p: &dyn accesslink::Provisioner,
    action: Action,
) -> Result<(String, Value), accesslink::Error> {
    Ok(match action {
        Action::Create(spec) => match p.create_account(&spec).await? {
            CreateOutcome::Created(a) => (
                "created".to_owned(),
                json!({ "outcome": "created", "account": a }),
            ),
            CreateOutcome::AlreadyExists(a) => (
                "already exists".to_owned(),
                json!({ "outcome": "already_exists", "account": a }),
            ),
        },
        Action::Update(id, change) => {
            let a = p.update_account(&id, &change).await?;
            (
                "updated".to_owned(),
                json!({ "outcome": "updated", "account": a }),
            )
        }
        Action::Enabled(id, on) => {
            p.set_enabled(&id, on).await?;
            let word = if on { "enabled" } else { "disabled" };
            (word.to_owned(), json!({ "outcome": word }))
        }
        Action::Delete(id) => {
            p.delete_account(&id).await?;
            ("deleted".to_owned(), json!({ "outcome": "deleted" }))
        }
        Action::SetPassword(id, password) => {
            p.set_password(&id, &password).await?;
            (
                "password set".to_owned(),
                json!({ "outcome": "password_set" }),
            )
        }
        Action::Grant(id, e) => match p.grant(&id, &e).await? {
            GrantOutcome::Granted => ("granted".to_owned(), json!({ "outcome": "granted" })),
            GrantOutcome::AlreadyGranted => (
                "already granted".to_owned(),
                json!({ "outcome": "already_granted" }),
            ),
        },
        Action::Revoke(id, e) => match p.revoke(&id, &e).await? {
            RevokeOutcome::Revoked => ("revoked".to_owned(), json!({ "outcome": "revoked" })),
            RevokeOutcome::AlreadyAbsent => (
                "already absent".to_owned(),
                json!({ "outcome": "already_absent" }),
            ),
        },
    })
}

/// What to call, built from the arguments alone.
enum Action {
    Create(AccountSpec),
    Update(AccountId, AccountChange),
    Enabled(AccountId, bool),
    Delete(AccountId),
    SetPassword(AccountId, Password),
    Grant(AccountId, EntitlementRef),
    Revoke(AccountId, EntitlementRef),
}

fn plan(op: ProvisionOp) -> Result<(Plan, Action), CliError> {
    let id = |raw: &str| -> Result<AccountId, CliError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(CliError::usage("an account id is empty"));
        }
        Ok(AccountId::new(raw))
    };
    let entitlement = |ty: &str, e: &str| -> Result<EntitlementRef, CliError> {
        if ty.trim().is_empty() || e.trim().is_empty() {
            return Err(CliError::usage("an entitlement type or id is empty"));
        }
        Ok(EntitlementRef::new(
            EntitlementType::new(ty.trim()),
            e.trim(),
        ))
    };
    let (instance, operation, action) = match op {
        ProvisionOp::Create {
            instance,
            login,
            email,
            first,
            last,
            display_name,
            disabled,
            password_env,
            attrs,
        } => {
            if login.trim().is_empty() {
                return Err(CliError::usage("the login is empty"));
            }
            let mut spec = AccountSpec::new(login.trim());
            if let Some(var) = password_env {
                spec = spec.password(password_from_env(&var)?);
            }
            if let Some(e) = email {
                spec = spec.email(e);
            }
            if let (Some(f), Some(l)) = (first, last) {
                spec = spec.name(f, l);
            }
            if let Some(d) = display_name {
                spec = spec.display_name(d);
            }
            spec.enabled = !disabled;
            for (k, v) in parse_attrs(&attrs)? {
                spec = spec.attribute(k, v);
            }
            (instance, "create_account", Action::Create(spec))
        }
        ProvisionOp::Update {
            instance,
            id: raw,
            email,
            display_name,
            attrs,
        } => {
            let mut change = AccountChange::new();
            if let Some(e) = email {
                change = change.email(e);
            }
            if let Some(d) = display_name {
                change = change.display_name(d);
            }
            for (k, v) in parse_attrs(&attrs)? {
                change = change.attribute(k, v);
            }
            if change.is_empty() {
                return Err(CliError::usage(
                    "nothing to change: pass --email, --display-name or --attr",
                ));
            }
            (
                instance,
                "update_account",
                Action::Update(id(&raw)?, change),
            )
        }
        ProvisionOp::Enable { instance, id: raw } => {
            (instance, "set_enabled", Action::Enabled(id(&raw)?, true))
        }
        ProvisionOp::Disable { instance, id: raw } => {
            (instance, "set_enabled", Action::Enabled(id(&raw)?, false))
        }
        ProvisionOp::Delete { instance, id: raw } => {
            (instance, "delete_account", Action::Delete(id(&raw)?))
        }
        ProvisionOp::SetPassword {
            instance,
            id: raw,
            password_env,
        } => {
            let password = password_from_env(&password_env)?;
            (
                instance,
                "set_password",
                Action::SetPassword(id(&raw)?, password),
            )
        }
        ProvisionOp::Schema { .. } => unreachable!("answered before planning"),
        ProvisionOp::Grant {
            instance,
            id: raw,
            ty,
            entitlement: e,
        } => (
            instance,
            "grant",
            Action::Grant(id(&raw)?, entitlement(&ty, &e)?),
        ),
        ProvisionOp::Revoke {
            instance,
            id: raw,
            ty,
            entitlement: e,
        } => (
            instance,
            "revoke",
            Action::Revoke(id(&raw)?, entitlement(&ty, &e)?),
        ),
    };
    let args = match &action {
        Action::Create(spec) => json!({ "spec": spec }),
        Action::Update(id, change) => json!({ "account": id, "change": change }),
        Action::Enabled(id, on) => json!({ "account": id, "enabled": on }),
        Action::Delete(id) | Action::SetPassword(id, _) => json!({ "account": id }),
        Action::Grant(id, e) | Action::Revoke(id, e) => json!({ "account": id, "entitlement": e }),
    };
    Ok((
        Plan {
            instance,
            operation,
            args,
        },
        action,
    ))
}

/// A password from an environment variable; a missing or empty one is a usage error that
/// names the variable, never a value.
fn password_from_env(var: &str) -> Result<Password, CliError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Password::from(v)),
        _ => Err(CliError::usage(format!(
            "--password-env {var}: the variable is not set or empty"
        ))),
    }
}

/// `key=value` pairs; a value that parses as JSON is taken as JSON, else as a string.
fn parse_attrs(raw: &[String]) -> Result<Vec<(String, Value)>, CliError> {
    raw.iter()
        .map(|a| {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| CliError::usage(format!("--attr {a:?} is not key=value")))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(CliError::usage(format!("--attr {a:?} has an empty key")));
            }
            let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
            Ok((k.to_owned(), v))
        })
        .collect()
}
