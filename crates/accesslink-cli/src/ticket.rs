//! `ticket get|create|comment|close|list|comments|schema|validate`.

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use accesslink::feed::{ChangeFeed, FeedCursor, TicketQuery};
use accesslink::workflow::{AccessAttempt, GatePolicies, Principal, Reason, TicketGate};
use accesslink::{
    Comment, CorrelationId, NewTicket, ObjectSchema, Resolution, Ticket, TicketKind, TicketRef,
    TicketState, TicketingSystem, Visibility,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

use crate::cli::TicketCommand;
use crate::output::{CliError, Out};
use crate::session;

pub(crate) async fn run(cmd: TicketCommand, config: &Path, out: Out) -> Result<ExitCode, CliError> {
    match cmd {
        TicketCommand::Get { instance, id } => {
            let tickets = session::ticketing(&session::connect(config, &instance)?)?;
            let r = parse_ref(tickets.as_ref(), &id)?;
            let ticket = tickets.get_ticket(&r).await?.ok_or_else(|| {
                CliError::failed("not_found", format!("no ticket {id} in `{instance}`"))
            })?;
            print_ticket(&ticket, out);
        }
        TicketCommand::Create {
            instance,
            title,
            description,
            kind,
            correlation,
            priority,
        } => {
            let conn = session::connect(config, &instance)?;
            let tickets = session::ticketing(&conn)?;
            let kind = match kind {
                Some(k) => parse_kind(&k),
                None => conn.info().ticket_kinds.first().cloned().ok_or_else(|| {
                    CliError::usage(format!("`{instance}` names no ticket kind; pass --kind"))
                })?,
            };
            let correlation = correlation.unwrap_or_else(|| {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                format!("accesslink-cli-{nanos}")
            });
            let mut new = NewTicket::new(kind, title, description, CorrelationId::new(correlation));
            if let Some(p) = priority {
                new = new.priority(p);
            }
            let ticket = tickets.create_ticket(&new).await?;
            print_ticket(&ticket, out);
        }
        TicketCommand::Comment {
            instance,
            id,
            text,
            internal,
        } => {
            let tickets = session::ticketing(&session::connect(config, &instance)?)?;
            let r = parse_ref(tickets.as_ref(), &id)?;
            let comment = if internal {
                Comment::internal(text)
            } else {
                Comment::public(text)
            };
            tickets.add_comment(&r, &comment).await?;
            out.emit(
                format!("commented on {r}"),
                &json!({ "ok": true, "ticket": r, "internal": internal }),
            );
        }
        TicketCommand::Close {
            instance,
            id,
            notes,
            failed,
            code,
        } => {
            let tickets = session::ticketing(&session::connect(config, &instance)?)?;
            let r = parse_ref(tickets.as_ref(), &id)?;
            let mut how = if failed {
                Resolution::failed(notes)
            } else {
                Resolution::done(notes)
            };
            if let Some(c) = code {
                how = how.code(c);
            }
            let ticket = tickets.close_ticket(&r, &how).await?;
            print_ticket(&ticket, out);
        }
        TicketCommand::List {
            instance,
            kinds,
            states,
            scope,
            since,
            cursor,
            limit,
        } => {
            let mut query = TicketQuery::new();
            for k in &kinds {
                query = query.kind(parse_kind(k));
            }
            for st in &states {
                let state: TicketState = serde_json::from_value(Value::String(st.trim().into()))
                    .map_err(|_| CliError::usage(format!("--state {st:?} is not a state")))?;
                query = query.states([state]);
            }
            if let Some(s) = scope {
                query = query.scope(s);
            }
            if let Some(raw) = since {
                let at = humantime::parse_rfc3339_weak(raw.trim())
                    .map_err(|e| CliError::usage(format!("--since {raw:?}: {e}")))?;
                query = query.updated_since(at);
            }
            let tickets = session::ticketing(&session::connect(config, &instance)?)?;
            let listed = match &cursor {
                Some(file) => poll_feed(tickets.as_ref(), query, file).await?,
                None => {
                    let stream = accesslink::feed::tickets(
                        tickets.as_ref(),
                        &query,
                        accesslink::paging::PagingOptions::new(),
                    );
                    let stream = stream.take(limit.unwrap_or(usize::MAX));
                    stream.try_collect().await?
                }
            };
            print_list(&listed, out);
        }
        TicketCommand::Comments { instance, id } => {
            let tickets = session::ticketing(&session::connect(config, &instance)?)?;
            let r = parse_ref(tickets.as_ref(), &id)?;
            let comments = tickets.list_comments(&r).await?;
            let mut text = String::new();
            for c in &comments {
                let who = c.author.as_ref().map_or_else(|| "?".into(), person);
                let when = c
                    .created
                    .map(accesslink::time::format_rfc3339_millis)
                    .unwrap_or_default();
                let vis = match c.visibility {
                    Visibility::Internal => "internal",
                    _ => "public",
                };
                text.push_str(&format!("#{} {when} {who} ({vis})\n  {}\n", c.id, c.body));
            }
            if comments.is_empty() {
                text.push_str("no comments");
            }
            let value = serde_json::to_value(&comments).unwrap_or(Value::Null);
            out.emit(text.trim_end(), &value);
        }
        TicketCommand::Schema { instance, kind } => {
            let conn = session::connect(config, &instance)?;
            let tickets = session::ticketing(&conn)?;
            let kind = match kind {
                Some(k) => parse_kind(&k),
                None => conn.info().ticket_kinds.first().cloned().ok_or_else(|| {
                    CliError::usage(format!("`{instance}` names no ticket kind; pass --kind"))
                })?,
            };
            let schema = tickets.ticket_schema(&kind).await?;
            print_schema(&schema, out);
        }
        TicketCommand::Validate {
            instance,
            id,
            policy,
            principal,
            group,
            operation,
            resource,
            break_glass,
        } => {
            let attempt = Attempt {
                principal,
                group,
                operation,
                resource,
                break_glass,
            };
            return validate(config, &instance, &id, &policy, attempt, out)
                .await
                .map_err(|mut e| {
                    // The gate's contract: anything but allow or deny is exit code 2.
                    e.code = 2;
                    e
                });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One change-feed poll from the cursor in `file` (a fresh feed when there is no file);
/// the file is replaced, atomically, with the new cursor.
async fn poll_feed(
    tickets: &dyn TicketingSystem,
    query: TicketQuery,
    file: &Path,
) -> Result<Vec<Ticket>, CliError> {
    let mut feed = ChangeFeed::new(query);
    match std::fs::read_to_string(file) {
        Ok(token) => feed = feed.resume(FeedCursor::from_token(token.trim())?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CliError::usage(format!("{}: {e}", file.display()))),
    }
    let changed = feed.poll(tickets).await?;
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, feed.cursor().to_token())
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| CliError::failed("io", format!("{}: {e}", file.display())))?;
    Ok(changed)
}

fn print_list(tickets: &[Ticket], out: Out) {
    let mut text = String::new();
    for t in tickets {
        let updated = t
            .updated
            .map(accesslink::time::format_rfc3339_millis)
            .unwrap_or_default();
        text.push_str(&format!(
            "{}  {} ({})  {updated}  {}\n",
            t.reference, t.status.state, t.status.raw, t.title
        ));
    }
    if tickets.is_empty() {
        text.push_str("no tickets");
    }
    let value = serde_json::to_value(tickets).unwrap_or(Value::Null);
    out.emit(text.trim_end(), &value);
}

/// Prints a schema: one field per line for people, the schema as JSON.
pub(crate) fn print_schema(schema: &ObjectSchema, out: Out) {
    let mut text = format!("{}\n", schema.object);
    for f in &schema.fields {
        let ty = serde_json::to_value(&f.field_type)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut flags = Vec::new();
        if f.required {
            flags.push("required");
        }
        if f.read_only {
            flags.push("read-only");
        }
        if f.multi_valued {
            flags.push("multi");
        }
        text.push_str(&format!("  {} ({ty})", f.name));
        if let Some(l) = &f.label {
            text.push_str(&format!(" \"{l}\""));
        }
        if !flags.is_empty() {
            text.push_str(&format!(" [{}]", flags.join(", ")));
        }
        if !f.allowed.is_empty() {
            let values: Vec<&str> = f.allowed.iter().map(|a| a.value.as_str()).collect();
            text.push_str(&format!(": {}", values.join(" | ")));
        }
        text.push('\n');
    }
    let value = serde_json::to_value(schema).unwrap_or(Value::Null);
    out.emit(text.trim_end(), &value);
}

/// The access attempt's options.
struct Attempt {
    principal: Option<String>,
    group: Option<String>,
    operation: String,
    resource: String,
    break_glass: Option<String>,
}

/// The ticket gate's verdict: exit 0 allow, 1 deny, 2 when it could not decide (the
/// ticketing system could not be asked, or bad input).
async fn validate(
    config: &Path,
    instance: &str,
    id: &str,
    policy: &Path,
    attempt: Attempt,
    out: Out,
) -> Result<ExitCode, CliError> {
    let Attempt {
        principal,
        group,
        operation,
        resource,
        break_glass,
    } = attempt;
    let text = std::fs::read_to_string(policy)
        .map_err(|e| CliError::usage(format!("{}: {e}", policy.display())))?;
    let policies: GatePolicies = toml::from_str(&text)
        .map_err(|e| CliError::usage(format!("{}: {}", policy.display(), e.message().trim())))?;
    let tickets = session::ticketing(&session::connect(config, instance)?)?;
    let principal = principal
        .or_else(|| std::env::var("USER").ok())
        .ok_or_else(|| CliError::usage("no --principal and no $USER"))?;
    let mut attempt = AccessAttempt::new(Principal::new(principal), operation, resource).ticket(id);
    if let Some(g) = group {
        attempt = attempt.group(g);
    }
    if let Some(reason) = break_glass {
        attempt = attempt.break_glass(reason);
    }
    let gate = TicketGate::new(tickets, policies);
    let verdict = gate.check(&attempt).await;
    let undecided = !verdict.allow
        && verdict.reasons.iter().any(|r| {
            matches!(
                r,
                Reason::ItsmUnavailable { .. } | Reason::GateDeadline { .. }
            )
        });
    let decision = if verdict.allow {
        "allow"
    } else if undecided {
        "error"
    } else {
        "deny"
    };
    let reasons: Vec<Value> = verdict
        .reasons
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({ "code": r.code() }));
            if let Value::Object(map) = &mut v {
                map.insert("message".into(), r.to_string().into());
            }
            v
        })
        .collect();
    let ticket = verdict.ticket.as_ref().map(|t| t.reference.to_string());
    let mut text = format!(
        "{} (policy {}{})",
        decision.to_ascii_uppercase(),
        verdict.policy,
        ticket
            .as_deref()
            .map(|t| format!(", ticket {t}"))
            .unwrap_or_default()
    );
    for r in &verdict.reasons {
        text.push_str(&format!("\n  {}: {r}", r.code()));
    }
    out.emit(
        text,
        &json!({
            "decision": decision,
            "allow": verdict.allow,
            "policy": verdict.policy,
            "ticket": ticket,
            "reasons": reasons,
        }),
    );
    Ok(ExitCode::from(match decision {
        "allow" => 0,
        "deny" => 1,
        _ => 2,
    }))
}

/// The target's own parsing of a ticket id, refusing bad input before any request.
fn parse_ref(tickets: &dyn TicketingSystem, raw: &str) -> Result<TicketRef, CliError> {
    tickets.parse_ticket_ref(raw).map_err(|e| {
        let mut err = CliError::lib(&e);
        err.code = 2;
        err
    })
}

/// A ticket kind by its snake_case name; any other name is the target's own kind.
fn parse_kind(raw: &str) -> TicketKind {
    let name = raw.trim().to_ascii_lowercase();
    serde_json::from_value(Value::String(name.clone())).unwrap_or(TicketKind::Other(name))
}

fn print_ticket(t: &Ticket, out: Out) {
    let value = serde_json::to_value(t).unwrap_or(Value::Null);
    let mut text = format!("{}  {}\n", t.reference, t.title);
    text.push_str(&format!(
        "  kind: {}\n  state: {} ({})\n",
        t.kind, t.status.state, t.status.raw
    ));
    if let Some(id) = t.reference.id() {
        text.push_str(&format!("  id: {id}\n"));
    }
    if let Some(p) = &t.requester {
        text.push_str(&format!("  requester: {}\n", person(p)));
    }
    if let Some(p) = &t.assignee {
        text.push_str(&format!("  assignee: {}\n", person(p)));
    }
    if let Some(a) = &t.approval {
        text.push_str(&format!("  approval: {}\n", a.raw));
    }
    if let Some(c) = &t.correlation_id {
        text.push_str(&format!("  correlation: {}\n", c.as_str()));
    }
    if let Some(u) = &t.web_url {
        text.push_str(&format!("  url: {u}\n"));
    }
    out.emit(text.trim_end(), &value);
}

fn person(p: &accesslink::Person) -> String {
    let v = serde_json::to_value(p).unwrap_or(Value::Null);
    ["login", "name", "email", "id"]
        .iter()
        .find_map(|k| v[k].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
